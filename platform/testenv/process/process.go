package process

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Default timeouts of [Options].
const (
	DefaultHealthTimeout = 30 * time.Second
	DefaultStopTimeout   = 15 * time.Second
)

// Options describe a process to start.
type Options struct {
	// Name prefixes the process's output lines and names it in failures.
	Name string
	// Binary is the executable, usually from [Build].
	Binary string
	Args   []string
	// Env holds NAME=value settings added to the test process's
	// environment; a setting here replaces an inherited one.
	Env []string
	// HealthAddr is the host:port whose /healthz must return 200 before
	// [Start] and [Process.Restart] return; empty skips the wait.
	HealthAddr string
	// DeferHealthWait makes [Start] return without waiting for /healthz,
	// so a test can start every member of a cluster first and then call
	// [Process.WaitHealthy] on each. Restart still waits.
	DeferHealthWait bool
	// HealthTimeout bounds the wait for /healthz; zero means
	// [DefaultHealthTimeout].
	HealthTimeout time.Duration
	// StopTimeout bounds how long [Process.Stop] waits after SIGTERM
	// before it sends SIGKILL; zero means [DefaultStopTimeout].
	StopTimeout time.Duration
}

// Process is a running (or stopped) child process. Start, Stop, Kill and
// Restart are meant for the test goroutine; Stop and Kill are also safe to
// call concurrently with each other.
type Process struct {
	options Options
	output  *output

	mu      sync.Mutex // guards cmd, exited and waitErr
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
}

// Start starts a process and waits for its /healthz when
// options.HealthAddr is set. A cleanup registered on tb kills the process
// if it still runs when the test ends and logs its output if the test
// failed or runs with -v.
func Start(tb testing.TB, options Options) *Process {
	tb.Helper()
	if options.Name == "" {
		options.Name = options.Binary
	}
	if options.HealthTimeout == 0 {
		options.HealthTimeout = DefaultHealthTimeout
	}
	if options.StopTimeout == 0 {
		options.StopTimeout = DefaultStopTimeout
	}
	p := &Process{options: options, output: newOutput(options.Name)}
	tb.Cleanup(func() {
		p.Kill()
		p.output.logIfNeeded(tb)
	})
	p.start(tb, !options.DeferHealthWait)
	return p
}

func (p *Process) start(tb testing.TB, waitHealthy bool) {
	tb.Helper()
	cmd := exec.Command(p.options.Binary, p.options.Args...)
	cmd.Env = append(os.Environ(), p.options.Env...)
	cmd.Stdout = p.output
	cmd.Stderr = p.output
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", p.options.Name, err)
	}
	exited := make(chan struct{})
	p.mu.Lock()
	p.cmd, p.exited, p.waitErr = cmd, exited, nil
	p.mu.Unlock()
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.waitErr = err
		p.mu.Unlock()
		p.output.note(fmt.Sprintf("exited: %v", exitText(err)))
		close(exited)
	}()
	if waitHealthy && p.options.HealthAddr != "" {
		p.WaitHealthy(tb)
	}
}

func exitText(err error) string {
	if err == nil {
		return "status 0"
	}
	return err.Error()
}

// URL returns "http://" plus the health address.
func (p *Process) URL() string {
	return "http://" + p.options.HealthAddr
}

// Output returns the lines the process wrote so far, prefixed with its
// name.
func (p *Process) Output() string {
	return p.output.String()
}

// Exited returns a channel that is closed when the current run of the
// process ends.
func (p *Process) Exited() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exited
}

// WaitHealthy polls /healthz on the health address until it returns 200,
// failing the test when the process exits or the health timeout passes.
// Polling is the only readiness signal a separate process gives.
func (p *Process) WaitHealthy(tb testing.TB) {
	tb.Helper()
	exited := p.Exited()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(p.options.HealthTimeout)
	var lastErr error
	for time.Now().Before(deadline) {
		lastErr = checkHealth(client, p.URL()+"/healthz")
		if lastErr == nil {
			return
		}
		select {
		case <-exited:
			tb.Fatalf("%s exited before it was healthy:\n%s", p.options.Name, p.Output())
		case <-time.After(50 * time.Millisecond):
		}
	}
	tb.Fatalf("%s not healthy within %v: %v", p.options.Name, p.options.HealthTimeout, lastErr)
}

func checkHealth(client *http.Client, url string) error {
	response, err := client.Get(url)
	if err != nil {
		return err
	}
	response.Body.Close()
	if response.StatusCode != http.StatusOK {
		return errors.New("status " + response.Status)
	}
	return nil
}

// Stop sends SIGTERM and waits for the process to exit. When it has not
// exited within the stop timeout, Stop kills it and returns an error. It
// returns the exit error, nil for status 0, so a test can assert a clean
// shutdown. Stopping a process that already exited returns how it exited.
func (p *Process) Stop() error {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd == nil {
		return nil
	}
	p.output.note("SIGTERM")
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(p.options.StopTimeout):
		p.Kill()
		return fmt.Errorf("%s did not exit within %v of SIGTERM", p.options.Name,
			p.options.StopTimeout)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.waitErr != nil {
		return fmt.Errorf("%s exited: %w", p.options.Name, p.waitErr)
	}
	return nil
}

// Kill sends SIGKILL and waits for the process to exit. It does nothing
// when the process already exited, so it is idempotent.
func (p *Process) Kill() {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	select {
	case <-exited:
		return
	default:
	}
	p.output.note("SIGKILL")
	_ = cmd.Process.Kill()
	<-exited
}

// Restart starts the process again with the same binary, arguments and
// environment after a Stop or Kill, and waits for its /healthz. A running
// process is stopped first.
func (p *Process) Restart(tb testing.TB) {
	tb.Helper()
	select {
	case <-p.Exited():
	default:
		if err := p.Stop(); err != nil {
			tb.Logf("stop %s before restart: %v", p.options.Name, err)
		}
	}
	p.output.note("restart")
	p.start(tb, true)
}

// Run runs a command to completion and returns its standard output. It
// fails the test when the command cannot start, exits with an error or
// runs longer than timeout; the standard error goes to the test log on
// failure or with -v, like a started process's output.
func Run(tb testing.TB, timeout time.Duration, options Options) []byte {
	tb.Helper()
	if options.Name == "" {
		options.Name = options.Binary
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	stderr := newOutput(options.Name)
	tb.Cleanup(func() { stderr.logIfNeeded(tb) })
	cmd := exec.CommandContext(ctx, options.Binary, options.Args...)
	cmd.Env = append(os.Environ(), options.Env...)
	cmd.Stderr = stderr
	stdout, err := cmd.Output()
	if err != nil {
		tb.Fatalf("run %s %v: %v\n%s", options.Name, options.Args, err, stderr.String())
	}
	return stdout
}
