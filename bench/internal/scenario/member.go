package scenario

import (
	"sync/atomic"
	"time"

	"github.com/peroxo/peroxo/bench/internal/client"
	"github.com/peroxo/peroxo/bench/internal/payload"
	"github.com/peroxo/peroxo/bench/internal/report"
)

// member is one open connection and what its read loop has counted. The
// counters are atomics because the drain check reads them while the read
// loop writes them. windows, ackWindows and probeFrom belong to the read
// loop goroutine alone.
type member struct {
	index  int
	tenant int // index into run.tenants
	userID string
	token  string
	conn   *client.Conn
	// sender is the member's index among the run's senders, or -1 for a
	// member that only receives.
	sender int
	// counts is false for connections whose deliveries are outside the
	// expected count, such as publishers and churn connections.
	counts bool

	delivered     atomic.Int64
	inWindow      atomic.Int64
	duplicates    atomic.Int64
	uncheckedLate atomic.Int64
	lastDelivery  atomic.Int64 // Unix ns of the latest new delivery
	acksPersisted atomic.Int64
	acksFailed    atomic.Int64
	probes        atomic.Int64 // distinct senders whose probe arrived
	joined        atomic.Bool
	ended         atomic.Pointer[string] // close status the gateway sent, if it closed the connection
	firstProbe    chan struct{}          // closed when the first probe arrives

	windows    map[int]*report.Window
	ackWindows map[int]*report.Window
	probeFrom  map[int]bool
}

func newMember(index int, userID string, sender int, counts bool) *member {
	return &member{
		index:      index,
		userID:     userID,
		sender:     sender,
		counts:     counts,
		windows:    make(map[int]*report.Window),
		ackWindows: make(map[int]*report.Window),
		probeFrom:  make(map[int]bool),
		firstProbe: make(chan struct{}),
	}
}

// handle processes one frame on the member's read loop goroutine.
func (r *run) handle(m *member, frame client.ServerFrame) {
	switch frame.Type {
	case client.FrameDirectMessage, client.FrameRoomMessage:
		r.handleMessage(m, frame.Content)
	case client.FrameMessageAck:
		r.handleAck(m, frame)
	case client.FrameError:
		r.countErrorFrame(frame.Status)
	case client.FrameRoomJoined:
		m.joined.Store(true)
	}
}

func (r *run) handleMessage(m *member, content []byte) {
	now := time.Now()
	decoded, err := payload.ParseContent(content)
	if err != nil || decoded.Run != r.id {
		r.foreign.Add(1)
		return
	}
	if decoded.Sender == m.sender {
		return // a copy of the member's own message
	}
	if decoded.Kind == payload.KindProbe {
		if !m.probeFrom[decoded.Sender] {
			m.probeFrom[decoded.Sender] = true
			if m.probes.Add(1) == 1 {
				close(m.firstProbe)
			}
		}
		return
	}
	if !m.counts {
		return
	}

	window := m.windows[decoded.Sender]
	if window == nil {
		window = report.NewWindow()
		m.windows[decoded.Sender] = window
	}
	switch window.Observe(decoded.Seq) {
	case report.SeenDuplicate:
		m.duplicates.Add(1)
		return
	case report.SeenTooOld:
		m.uncheckedLate.Add(1)
	}
	m.delivered.Add(1)
	m.lastDelivery.Store(now.UnixNano())
	if now.UnixNano() <= r.windowEnd.Load() {
		m.inWindow.Add(1)
	}
	r.delivery.Record(m.index, now.Sub(time.Unix(0, decoded.DueNS)))
}

func (r *run) handleAck(m *member, frame client.ServerFrame) {
	now := time.Now()
	decoded, err := payload.ParseClientMessageID(frame.ClientMessageID)
	if err != nil || decoded.Run != r.id || decoded.Kind == payload.KindProbe {
		return
	}
	if !frame.Persisted {
		m.acksFailed.Add(1)
		r.countErrorFrame("ack " + frame.Status)
		return
	}
	window := m.ackWindows[decoded.Sender]
	if window == nil {
		window = report.NewWindow()
		m.ackWindows[decoded.Sender] = window
	}
	if window.Observe(decoded.Seq) == report.SeenDuplicate {
		return
	}
	m.acksPersisted.Add(1)
	if plan := r.plan.Load(); plan != nil {
		r.ack.Record(m.index, now.Sub(plan.Due(decoded.Sender, decoded.Seq)))
	}
}

// totals sums the counters of members.
type totals struct {
	delivered, inWindow, duplicates, uncheckedLate int64
	acksPersisted, acksFailed                      int64
	lastDelivery                                   int64
}

func sum(members []*member) totals {
	var t totals
	for _, m := range members {
		t.delivered += m.delivered.Load()
		t.inWindow += m.inWindow.Load()
		t.duplicates += m.duplicates.Load()
		t.uncheckedLate += m.uncheckedLate.Load()
		t.acksPersisted += m.acksPersisted.Load()
		t.acksFailed += m.acksFailed.Load()
		t.lastDelivery = max(t.lastDelivery, m.lastDelivery.Load())
	}
	return t
}
