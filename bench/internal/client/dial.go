package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"
)

// Ephemeral ports run out near 28,000 connections per source address with
// Linux's default ip_local_port_range (32768-60999), and the ports of a
// previous run stay in TIME_WAIT for a minute. So SourceAddrsFor plans at
// most this many connections per address.
const connsPerSourceAddr = 10_000

// ErrFDLimit marks a dial that failed because this process reached its
// open-file limit.
var ErrFDLimit = errors.New("load generator reached its open-file limit")

// ErrPortsExhausted marks a dial that failed because no ephemeral port was
// left for the source address.
var ErrPortsExhausted = errors.New("ephemeral ports exhausted; spread connections over more source addresses")

// ErrNoGateway marks a dial that nothing accepted at the gateway's address.
var ErrNoGateway = errors.New("no gateway listens there; start it or point -gateway at it")

// Dialer opens WebSocket connections to one gateway. When the gateway is on
// loopback it binds each connection to one of several source addresses
// (127.0.0.1, 127.0.0.2, ...) in turn, so the connection count is not bound
// by one address's ephemeral ports. Safe for concurrent use.
type Dialer struct {
	wsURL   *url.URL
	clients []*http.Client
	next    atomic.Uint64
}

// NewDialer returns a Dialer for the gateway at gatewayURL (http:// or
// https://, or ws:// or wss://). sourceAddrs is how many loopback source
// addresses to use; it is ignored unless the gateway's host is an IPv4
// loopback address. handshakeTimeout bounds each TCP connect and upgrade.
func NewDialer(gatewayURL string, sourceAddrs int, handshakeTimeout time.Duration) (*Dialer, error) {
	wsURL, err := WebSocketURL(gatewayURL)
	if err != nil {
		return nil, err
	}
	sources := []netip.Addr{{}}
	if host, err := netip.ParseAddr(wsURL.Hostname()); err == nil && host.Is4() && host.IsLoopback() {
		sources = loopbackSources(sourceAddrs)
	}
	dialer := &Dialer{wsURL: wsURL}
	for _, source := range sources {
		netDialer := &net.Dialer{Timeout: handshakeTimeout}
		if source.IsValid() {
			netDialer.LocalAddr = &net.TCPAddr{IP: source.AsSlice()}
		}
		transport := &http.Transport{
			DialContext:           netDialer.DialContext,
			ResponseHeaderTimeout: handshakeTimeout,
			DisableCompression:    true,
		}
		dialer.clients = append(dialer.clients, &http.Client{Transport: transport})
	}
	return dialer, nil
}

// SourceAddrs returns how many source addresses the Dialer spreads over.
func (d *Dialer) SourceAddrs() int { return len(d.clients) }

// URL returns the WebSocket URL the Dialer connects to, without a token.
func (d *Dialer) URL() string { return d.wsURL.String() }

// Dial opens one connection authenticated with token. It wraps
// [ErrFDLimit] or [ErrPortsExhausted] when the local side ran out of file
// descriptors or ports.
func (d *Dialer) Dial(ctx context.Context, token string) (*websocket.Conn, error) {
	target := *d.wsURL
	query := target.Query()
	query.Set("token", token)
	target.RawQuery = query.Encode()
	client := d.clients[d.next.Add(1)%uint64(len(d.clients))]
	conn, response, err := websocket.Dial(ctx, target.String(), &websocket.DialOptions{
		HTTPClient: client,
	})
	if err != nil {
		return nil, classifyDialError(redactToken(err, token), response)
	}
	// Frames larger than this are not the generator's; the gateway's own
	// limit is lower.
	conn.SetReadLimit(1 << 20)
	return conn, nil
}

func classifyDialError(err error, response *http.Response) error {
	switch {
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return fmt.Errorf("dial gateway: %w (raise it with ulimit -n): %w", ErrFDLimit, err)
	case errors.Is(err, syscall.EADDRNOTAVAIL), errors.Is(err, syscall.EADDRINUSE):
		return fmt.Errorf("dial gateway: %w: %w", ErrPortsExhausted, err)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("dial gateway: %w: %w", ErrNoGateway, err)
	case response != nil:
		return fmt.Errorf("dial gateway: upgrade rejected with HTTP %d: %w", response.StatusCode, err)
	default:
		return fmt.Errorf("dial gateway: %w", err)
	}
}

// redactedError is an error whose message has the user token removed. It
// unwraps to the original, so errors.Is still matches the cause.
type redactedError struct {
	message string
	cause   error
}

func (e *redactedError) Error() string { return e.message }
func (e *redactedError) Unwrap() error { return e.cause }

// redactToken removes token from err's message, because the dial error of
// coder/websocket quotes the request URL and the URL carries the token.
func redactToken(err error, token string) error {
	if token == "" || !strings.Contains(err.Error(), token) {
		return err
	}
	return &redactedError{message: strings.ReplaceAll(err.Error(), token, "REDACTED"), cause: err}
}

// SourceAddrsFor returns how many loopback source addresses connections
// connections need.
func SourceAddrsFor(connections int) int {
	return max(1, (connections+connsPerSourceAddr-1)/connsPerSourceAddr)
}

// loopbackSources returns 127.0.0.1 to 127.0.0.count. Linux routes all of
// 127.0.0.0/8 to the loopback interface, so binding needs no setup.
func loopbackSources(count int) []netip.Addr {
	count = min(max(count, 1), 254)
	sources := make([]netip.Addr, count)
	for i := range count {
		sources[i] = netip.AddrFrom4([4]byte{127, 0, 0, byte(i + 1)})
	}
	return sources
}

// WebSocketURL returns the /ws URL of the gateway at base, which may use
// the http, https, ws or wss scheme and may already end in /ws.
func WebSocketURL(base string) (*url.URL, error) {
	parsed, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("parse gateway URL %q: %w", base, err)
	}
	switch parsed.Scheme {
	case "http", "ws":
		parsed.Scheme = "ws"
	case "https", "wss":
		parsed.Scheme = "wss"
	default:
		return nil, fmt.Errorf("invalid gateway URL %q: expected an http, https, ws or wss scheme", base)
	}
	if parsed.Host == "" {
		return nil, fmt.Errorf("invalid gateway URL %q: no host", base)
	}
	if parsed.Path == "" || parsed.Path == "/" {
		parsed.Path = "/ws"
	}
	parsed.RawQuery = ""
	return parsed, nil
}
