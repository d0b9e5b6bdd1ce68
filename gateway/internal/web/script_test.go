package web

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// TestClientScripts runs the JavaScript unit tests in jstest/ with
// Node.js's built-in test runner. The browser test covers the same modules
// end to end; these pin down deduplication and backoff case by case.
func TestClientScripts(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed; the client's script tests need Node.js 20 or newer")
	}
	files, err := filepath.Glob(filepath.Join("jstest", "*.test.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no jstest/*.test.mjs files found")
	}
	command := exec.Command(node, append([]string{"--test"}, files...)...)
	output, err := command.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test: %v\n%s", err, output)
	}
}
