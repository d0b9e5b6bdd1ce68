package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestChatReadiness(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		wantErr bool
	}{
		{"ready", http.StatusOK, false},
		{"not ready", http.StatusServiceUnavailable, true},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			server := httptest.NewServer(http.HandlerFunc(
				func(w http.ResponseWriter, request *http.Request) {
					if request.URL.Path != "/readyz" {
						http.NotFound(w, request)
						return
					}
					w.WriteHeader(test.status)
				}))
			defer server.Close()
			err := chatReadiness(server.URL)(context.Background())
			if (err != nil) != test.wantErr {
				t.Errorf("chatReadiness error = %v, want error %v", err, test.wantErr)
			}
		})
	}

	server := httptest.NewServer(http.NotFoundHandler())
	server.Close()
	if err := chatReadiness(server.URL)(context.Background()); err == nil {
		t.Error("chatReadiness succeeded with chatsvc down")
	}
}
