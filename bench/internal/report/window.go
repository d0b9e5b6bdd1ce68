package report

// WindowSize is how many sequence numbers below the highest one seen a
// [Window] still remembers. At 448 a Window fills one 64-byte cache line:
// a receiver keeps one per sender, and with thousands of receivers larger
// windows made each check a cache miss.
const WindowSize = 448

// Seen classifies one observed sequence number.
type Seen int

// Results of [Window.Observe].
const (
	// SeenNew is the first sighting of the sequence number.
	SeenNew Seen = iota
	// SeenDuplicate is a repeat of a sequence number inside the window.
	SeenDuplicate
	// SeenTooOld is a sequence number more than WindowSize below the highest
	// one seen, which the window can no longer check. Callers count it as
	// delivered and report it, because it may hide a duplicate.
	SeenTooOld
)

// Window detects repeated sequence numbers from one sender in bounded
// memory: a bitmap of the last WindowSize numbers below the highest seen.
// Not safe for concurrent use; one receiver goroutine owns each Window.
type Window struct {
	highest int64 // -1 until the first Observe
	bits    [WindowSize / 64]uint64
}

// NewWindow returns a Window that has seen nothing.
func NewWindow() *Window { return &Window{highest: -1} }

// Observe records seq and reports whether it is new, a duplicate or too
// old to check.
func (w *Window) Observe(seq int64) Seen {
	switch {
	case seq > w.highest:
		w.advance(seq)
		w.set(seq)
		return SeenNew
	case seq <= w.highest-WindowSize:
		return SeenTooOld
	case w.isSet(seq):
		return SeenDuplicate
	default:
		w.set(seq)
		return SeenNew
	}
}

// advance moves the window so seq is its highest number, clearing the bits
// of numbers that enter the window unseen.
func (w *Window) advance(seq int64) {
	if w.highest < 0 || seq-w.highest >= WindowSize {
		w.bits = [WindowSize / 64]uint64{}
	} else {
		for n := w.highest + 1; n < seq; n++ {
			w.clear(n)
		}
	}
	w.highest = seq
}

func (w *Window) set(seq int64)        { w.bits[slot(seq)] |= bit(seq) }
func (w *Window) clear(seq int64)      { w.bits[slot(seq)] &^= bit(seq) }
func (w *Window) isSet(seq int64) bool { return w.bits[slot(seq)]&bit(seq) != 0 }

func slot(seq int64) int   { return int(uint64(seq) % WindowSize / 64) }
func bit(seq int64) uint64 { return 1 << (uint64(seq) % 64) }
