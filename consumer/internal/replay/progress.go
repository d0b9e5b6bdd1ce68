package replay

import (
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// NewProgress returns a progress bar on out when out is a terminal, and
// otherwise a Progress that logs every interval.
func NewProgress(out *os.File, logger *slog.Logger, interval time.Duration) Progress {
	if term.IsTerminal(int(out.Fd())) {
		return &barProgress{out: out}
	}
	return &logProgress{logger: logger.With("component", "replay"), interval: interval}
}

// barProgress draws a progress bar.
type barProgress struct {
	out *os.File
	bar *progressbar.ProgressBar
}

func (p *barProgress) Start(total uint64) {
	p.bar = progressbar.NewOptions64(int64(total),
		progressbar.OptionSetWriter(p.out),
		progressbar.OptionSetDescription("replaying events"),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("events"),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
}

func (p *barProgress) Advance(read uint64) {
	if p.bar != nil {
		_ = p.bar.Set64(int64(read))
	}
}

func (p *barProgress) Finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}

// logProgress logs the progress at most once per interval.
type logProgress struct {
	logger   *slog.Logger
	interval time.Duration

	mu      sync.Mutex
	total   uint64
	started time.Time
	logged  time.Time
}

func (p *logProgress) Start(total uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total = total
	p.started = time.Now()
	p.logged = p.started
	p.logger.Info("replay started", "events", total)
}

func (p *logProgress) Advance(read uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if now.Sub(p.logged) < p.interval {
		return
	}
	p.logged = now
	rate := float64(read) / now.Sub(p.started).Seconds()
	p.logger.Info("replay progress", "read", read, "total", p.total,
		"events_per_second", int(rate))
}

func (p *logProgress) Finish() {}
