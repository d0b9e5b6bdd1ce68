package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestRunStatus(t *testing.T) {
	server := httptest.NewServer(http.HandlerFunc(
		func(w http.ResponseWriter, request *http.Request) {
			if request.URL.Path != "/healthz" {
				http.Error(w, "down", http.StatusServiceUnavailable)
				return
			}
			_, _ = w.Write([]byte("ok\n"))
		}))
	t.Cleanup(server.Close)

	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	tests := []struct {
		name    string
		args    []string
		wantErr bool
	}{
		{"healthy", []string{server.URL + "/healthz"}, false},
		{"unhealthy status", []string{server.URL + "/readyz"}, true},
		{"connection refused", []string{"-timeout", "1s", closedURL + "/healthz"}, true},
		{"missing URL", nil, true},
		{"two URLs", []string{server.URL, server.URL}, true},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			err := run(test.args)
			if (err != nil) != test.wantErr {
				t.Fatalf("run(%q) error = %v, want error %v", test.args, err, test.wantErr)
			}
		})
	}
}
