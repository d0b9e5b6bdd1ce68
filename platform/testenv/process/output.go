package process

import (
	"bytes"
	"strings"
	"sync"
	"testing"
)

// maxOutputLines bounds the lines kept per process, so a chatty process
// in a long test cannot fill the memory; the oldest lines go first.
const maxOutputLines = 5000

// output collects a process's output lines, prefixed with its name. It is
// an io.Writer that exec.Cmd's copying goroutines call concurrently with
// the test, so a mutex guards it.
type output struct {
	prefix string

	mu      sync.Mutex
	partial []byte
	lines   []string
	dropped int
}

func newOutput(name string) *output {
	return &output{prefix: "[" + name + "] "}
}

// Write splits data into lines and keeps each complete one.
func (o *output) Write(data []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.partial = append(o.partial, data...)
	for {
		end := bytes.IndexByte(o.partial, '\n')
		if end < 0 {
			break
		}
		o.add(string(o.partial[:end]))
		o.partial = o.partial[end+1:]
	}
	return len(data), nil
}

// note adds a line written by the harness itself, such as "killed".
func (o *output) note(line string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.add("--- " + line)
}

func (o *output) add(line string) {
	if len(o.lines) == maxOutputLines {
		o.lines = o.lines[1:]
		o.dropped++
	}
	o.lines = append(o.lines, o.prefix+line)
}

// String returns the kept lines and an unterminated last line.
func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var text strings.Builder
	if o.dropped > 0 {
		text.WriteString(o.prefix + "--- earlier lines dropped\n")
	}
	for _, line := range o.lines {
		text.WriteString(line)
		text.WriteByte('\n')
	}
	if len(o.partial) > 0 {
		text.WriteString(o.prefix + string(o.partial) + "\n")
	}
	return text.String()
}

// logIfNeeded writes the output to the test log when the test failed or
// runs with -v.
func (o *output) logIfNeeded(tb testing.TB) {
	if !tb.Failed() && !testing.Verbose() {
		return
	}
	if text := o.String(); text != "" {
		tb.Log("output:\n" + text)
	}
}
