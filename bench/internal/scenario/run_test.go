package scenario

import (
	"errors"
	"strings"
	"testing"

	"github.com/peroxo/peroxo/bench/internal/client"
)

func TestCheckFDLimitNamesTheFix(t *testing.T) {
	err := checkFDLimit(1 << 40)
	if !errors.Is(err, client.ErrFDLimit) {
		t.Fatalf("checkFDLimit(2^40) = %v, want ErrFDLimit", err)
	}
	if !strings.Contains(err.Error(), "ulimit -n") {
		t.Errorf("checkFDLimit error %q does not say how to raise the limit", err)
	}
	if err := checkFDLimit(1); err != nil {
		t.Errorf("checkFDLimit(1) = %v, want nil", err)
	}
}

func TestHTTPBase(t *testing.T) {
	cases := []struct{ in, want string }{
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"http://127.0.0.1:8080/", "http://127.0.0.1:8080"},
		{"ws://127.0.0.1:8080/ws", "http://127.0.0.1:8080"},
		{"wss://gw.local/ws?token=x", "https://gw.local"},
		{"http://127.0.0.1:8080/prefix", "http://127.0.0.1:8080/prefix"},
	}
	for _, tc := range cases {
		if got := httpBase(tc.in); got != tc.want {
			t.Errorf("httpBase(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
