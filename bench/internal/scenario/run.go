package scenario

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/sync/errgroup"

	"github.com/peroxo/peroxo/bench/internal/client"
	"github.com/peroxo/peroxo/bench/internal/provision"
	"github.com/peroxo/peroxo/bench/internal/report"
	"github.com/peroxo/peroxo/bench/internal/schedule"
)

// fdReserve is the file descriptors a run needs besides its WebSocket
// connections: HTTP clients, the runtime, standard streams.
const fdReserve = 64

// run is the state of one load run. The scenario's goroutine owns it;
// the fields that read loops touch are atomics or safe for concurrent use.
type run struct {
	options Options
	id      uint32
	logger  *slog.Logger
	dialer  *client.Dialer
	api     *provision.Client
	tenants []provision.Tenant

	delivery *report.Recorder
	ack      *report.Recorder
	sendLag  *report.Recorder
	connect  *report.Recorder

	plan      atomic.Pointer[schedule.Plan]
	windowEnd atomic.Int64 // Unix ns; deliveries up to it count as inside the window

	sent        atomic.Int64
	sendErrors  atomic.Int64
	foreign     atomic.Int64
	disconnects atomic.Int64
	undecodable atomic.Int64

	errorsMu    sync.Mutex
	errorFrames map[string]int64 // by code; guarded by errorsMu
	closes      map[string]int64 // by close status; guarded by errorsMu

	readers sync.WaitGroup
}

// Run validates options, provisions a tenant and tokens, runs the
// scenario and returns its report. Every run ends by itself: the send
// window, the message cap, the warm-up bound and the drain timeout bound it.
func Run(ctx context.Context, options Options, logger *slog.Logger) (*report.Report, error) {
	if err := options.Validate(); err != nil {
		return nil, err
	}
	if err := checkFDLimit(options.connectionCount()); err != nil {
		return nil, err
	}
	sourceAddrs := options.SourceAddrs
	if sourceAddrs == 0 {
		sourceAddrs = client.SourceAddrsFor(options.connectionCount())
	}
	dialer, err := client.NewDialer(options.GatewayURL, sourceAddrs, options.HandshakeTimeout)
	if err != nil {
		return nil, err
	}

	var idBytes [4]byte
	_, _ = rand.Read(idBytes[:])
	shards := 4 * max(1, options.DialConcurrency/16)
	r := &run{
		options: options,
		id:      binary.BigEndian.Uint32(idBytes[:]),
		logger:  logger,
		dialer:  dialer,
		api: &provision.Client{
			HTTP:        &http.Client{Timeout: options.HandshakeTimeout},
			AuthURL:     strings.TrimRight(options.AuthURL, "/"),
			GatewayURL:  httpBase(options.GatewayURL),
			Concurrency: options.TokenConcurrency,
		},
		delivery:    report.NewRecorder(shards),
		ack:         report.NewRecorder(shards),
		sendLag:     report.NewRecorder(shards),
		connect:     report.NewRecorder(shards),
		errorFrames: make(map[string]int64),
		closes:      make(map[string]int64),
	}
	r.windowEnd.Store(time.Now().Add(maxDuration).UnixNano())

	logger.Info("starting run", "scenario", options.Scenario, "run", fmt.Sprintf("%08x", r.id),
		"target", dialer.URL(), "source_addrs", dialer.SourceAddrs())
	for range options.Tenants {
		tenant, err := r.provisionTenant(ctx)
		if err != nil {
			return nil, err
		}
		r.tenants = append(r.tenants, tenant)
	}
	switch options.Scenario {
	case Fanout:
		return r.runFanout(ctx)
	case DM:
		return r.runDM(ctx)
	case Idle:
		return r.runIdle(ctx)
	default:
		return r.runChurn(ctx)
	}
}

func (r *run) provisionTenant(ctx context.Context) (provision.Tenant, error) {
	switch {
	case r.options.ProjectID != "":
		return provision.Tenant{ProjectID: r.options.ProjectID, SecretAPIKey: r.options.SecretAPIKey}, nil
	case r.options.AdminToken != "":
		return r.api.CreateTenantHTTP(ctx, r.options.AdminToken)
	default:
		return provision.CreateTenantCommand(ctx, r.options.AuthsvcPath)
	}
}

// userIDs returns count user ids that start with the run id, so runs in
// one project do not share users.
func (r *run) userIDs(role string, count int) []string {
	ids := make([]string, count)
	for i := range ids {
		ids[i] = fmt.Sprintf("bench-%08x-%s%d", r.id, role, i)
	}
	return ids
}

// openMembers issues a token for each member and connects them all, at most
// DialConcurrency at a time, starting each read loop. On error it closes
// what it opened.
func (r *run) openMembers(ctx context.Context, members []*member) error {
	if len(members) == 0 {
		return nil
	}
	started := time.Now()
	if err := r.issueTokens(ctx, members); err != nil {
		return err
	}
	r.logger.Info("issued tokens", "count", len(members), "tenants", len(r.tenants),
		"elapsed", time.Since(started).Round(time.Millisecond))

	started = time.Now()
	group, groupCtx := errgroup.WithContext(ctx)
	group.SetLimit(r.options.DialConcurrency)
	var opened atomic.Int64
	for i, m := range members {
		if r.options.ConnectRate > 0 {
			due := started.Add(time.Duration(float64(i) / r.options.ConnectRate * float64(time.Second)))
			if err := schedule.SleepUntil(groupCtx, due); err != nil {
				// A failed connect cancels groupCtx; its error is the cause.
				if connectErr := group.Wait(); connectErr != nil {
					err = connectErr
				}
				r.closeMembers(members)
				return fmt.Errorf("open connections: %w", err)
			}
		}
		group.Go(func() error {
			if err := r.connectMember(groupCtx, m, m.token); err != nil {
				return fmt.Errorf("open connection %d of %d (%d open): %w",
					i+1, len(members), opened.Load(), err)
			}
			if n := opened.Add(1); n%10_000 == 0 {
				r.logger.Info("connections open", "count", n)
			}
			return nil
		})
	}
	if err := group.Wait(); err != nil {
		r.closeMembers(members)
		return err
	}
	r.logger.Info("opened connections", "count", len(members), "elapsed", time.Since(started).Round(time.Millisecond))
	return nil
}

// issueTokens sets the token of every member, asking for each tenant's
// members in one batch.
func (r *run) issueTokens(ctx context.Context, members []*member) error {
	byTenant := make([][]*member, len(r.tenants))
	for _, m := range members {
		byTenant[m.tenant] = append(byTenant[m.tenant], m)
	}
	for tenant, group := range byTenant {
		users := make([]string, len(group))
		for i, m := range group {
			users[i] = m.userID
		}
		tokens, err := r.api.IssueTokens(ctx, r.tenants[tenant], users)
		if err != nil {
			return err
		}
		for i, m := range group {
			m.token = tokens[i]
		}
	}
	return nil
}

// connectMember dials one connection, records the handshake time and starts
// its read loop.
func (r *run) connectMember(ctx context.Context, m *member, token string) error {
	started := time.Now()
	ws, err := r.dialer.Dial(ctx, token)
	if err != nil {
		return err
	}
	r.connect.Record(m.index, time.Since(started))
	m.conn = client.NewConn(ws, r.options.WriteTimeout)
	r.readers.Add(1)
	go func() {
		defer r.readers.Done()
		err := m.conn.ReadLoop(
			func(frame client.ServerFrame) { r.handle(m, frame) },
			func(error) { r.undecodable.Add(1) },
		)
		if err != nil {
			label := closeLabel(err)
			m.ended.Store(&label)
			r.disconnects.Add(1)
			r.countClose(label)
			r.logger.Debug("connection ended", "conn", m.index, "user", m.userID, "err", err)
		}
	}()
	return nil
}

// closeMembers closes every open connection with a close handshake, many
// at a time, and waits for their read loops.
func (r *run) closeMembers(members []*member) {
	var group errgroup.Group
	group.SetLimit(512)
	for _, m := range members {
		if m.conn == nil {
			continue
		}
		group.Go(func() error {
			m.conn.Close()
			return nil
		})
	}
	_ = group.Wait()
}

// waitReaders waits for every read loop to return.
func (r *run) waitReaders() { r.readers.Wait() }

// errorSummary returns the error frames counted so far, for messages.
func (r *run) errorSummary() string {
	r.errorsMu.Lock()
	defer r.errorsMu.Unlock()
	return fmt.Sprintf("error frames by code: %v, closes by status: %v", r.errorFrames, r.closes)
}

func (r *run) countErrorFrame(code string) {
	r.errorsMu.Lock()
	r.errorFrames[code]++
	r.errorsMu.Unlock()
}

func (r *run) countClose(label string) {
	r.errorsMu.Lock()
	r.closes[label]++
	r.errorsMu.Unlock()
}

// writeSetup sends frame on m during setup. When the gateway has already
// closed the connection, the error names the close status it sent.
func (r *run) writeSetup(ctx context.Context, m *member, frame []byte) error {
	err := m.conn.Write(ctx, frame)
	if err == nil {
		return nil
	}
	if ended := m.ended.Load(); ended != nil {
		return fmt.Errorf("connection of %s ended with %s (4002 is the gateway's slow-consumer close; "+
			"try a lower -connect-rate): %w", m.userID, *ended, err)
	}
	return err
}

// closeLabel names how a connection ended for the report: the close
// status the gateway sent, or "close without status" for a dropped socket.
func closeLabel(err error) string {
	if status := websocket.CloseStatus(err); status != -1 {
		return fmt.Sprintf("close %d", int(status))
	}
	return "close without status"
}

// baseReport fills what every scenario reports.
func (r *run) baseReport(connections int) *report.Report {
	r.errorsMu.Lock()
	errorFrames := maps.Clone(r.errorFrames)
	closes := maps.Clone(r.closes)
	r.errorsMu.Unlock()
	if n := r.undecodable.Load(); n > 0 {
		errorFrames["undecodable"] = n
	}
	return &report.Report{
		Scenario:       r.options.Scenario,
		Target:         r.dialer.URL(),
		Connections:    connections,
		ConnectLatency: report.Summarize(r.connect.Merged()),
		Disconnects:    r.disconnects.Load(),
		Closes:         closes,
		ErrorFrames:    errorFrames,
	}
}

// checkFDLimit fails early when the open-file limit cannot hold
// connections sockets. The Go runtime has already raised the soft limit to
// the hard limit at start-up.
func checkFDLimit(connections int) error {
	var limit syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &limit); err != nil {
		return fmt.Errorf("read open-file limit: %w", err)
	}
	needed := uint64(connections + fdReserve)
	if limit.Cur < needed {
		return fmt.Errorf("%w: %d connections need about %d file descriptors but the limit is %d; "+
			"run `ulimit -n %d` in this shell first, or spread the connections over several processes",
			client.ErrFDLimit, connections, needed, limit.Cur, needed)
	}
	return nil
}

// httpBase returns the scheme and host of the gateway's HTTP API from a
// base URL that may use ws:// or wss:// and may end in /ws.
func httpBase(base string) string {
	parsed, err := url.Parse(base)
	if err != nil {
		return base // Validate has rejected it already
	}
	switch parsed.Scheme {
	case "ws":
		parsed.Scheme = "http"
	case "wss":
		parsed.Scheme = "https"
	}
	parsed.Path = strings.TrimSuffix(strings.TrimRight(parsed.Path, "/"), "/ws")
	parsed.RawQuery = ""
	return strings.TrimRight(parsed.String(), "/")
}
