// Package runner runs a service's main function with signal handling,
// graceful shutdown and exit codes.
package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Main runs run until it returns or SIGINT or SIGTERM arrives, then exits
// the process: status 0 after a clean stop, 1 after an error. The context
// given to run is cancelled by the first signal; a second signal exits at
// once with status 1.
func Main(run func(ctx context.Context) error) {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
		second := make(chan os.Signal, 1)
		signal.Notify(second, syscall.SIGINT, syscall.SIGTERM)
		<-second
		slog.Error("second signal received, exiting without draining")
		os.Exit(1)
	}()
	if err := run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		slog.Error("service stopped with an error", "err", err)
		os.Exit(1)
	}
}

// ServeHTTP serves server on listener until ctx is cancelled, then shuts it
// down, giving in-flight requests up to drain to finish. It returns nil
// after a clean shutdown.
func ServeHTTP(ctx context.Context, server *http.Server, listener net.Listener, drain time.Duration) error {
	errs := make(chan error, 1)
	go func() { errs <- server.Serve(listener) }()
	select {
	case err := <-errs:
		return fmt.Errorf("serve http on %s: %w", listener.Addr(), err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	if err := server.Shutdown(shutdownCtx); err != nil {
		_ = server.Close()
		return fmt.Errorf("shut down http server within %s: %w", drain, err)
	}
	return nil
}

// ListenHTTP opens a TCP listener on addr and returns an [http.Server] for
// handler with the header timeout and error log every service uses. The
// server speaks HTTP/1.1 and unencrypted HTTP/2 (h2c), so gRPC clients can
// call Connect handlers without TLS.
// setting names the variable addr came from, for the error message.
func ListenHTTP(setting, addr string, handler http.Handler, logger *slog.Logger) (*http.Server, net.Listener, error) {
	listener, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("listen on %s=%s: %w", setting, addr, err)
	}
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	server := &http.Server{
		Protocols:         protocols,
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	return server, listener, nil
}
