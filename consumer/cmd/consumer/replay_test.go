package main

import (
	"testing"
	"time"
)

func TestParseReplayFlags(t *testing.T) {
	now := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		args    []string
		since   time.Time
		fromSeq uint64
		wantErr bool
	}{
		{"no flags", nil, time.Time{}, 0, false},
		{"since duration", []string{"--since", "24h"}, now.Add(-24 * time.Hour), 0, false},
		{"since rfc3339", []string{"--since", "2026-03-01T10:00:00Z"},
			time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC), 0, false},
		{"from sequence", []string{"--from-seq", "42"}, time.Time{}, 42, false},
		{"both starts", []string{"--since", "1h", "--from-seq", "2"}, time.Time{}, 0, true},
		{"negative duration", []string{"--since", "-1h"}, time.Time{}, 0, true},
		{"garbage time", []string{"--since", "yesterday"}, time.Time{}, 0, true},
		{"extra argument", []string{"now"}, time.Time{}, 0, true},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			flags, err := parseReplayFlags(test.args, now)
			if test.wantErr {
				if err == nil {
					t.Errorf("parseReplayFlags(%q) succeeded, want an error", test.args)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseReplayFlags(%q): %v", test.args, err)
			}
			if !flags.since.Equal(test.since) {
				t.Errorf("since = %s, want %s", flags.since, test.since)
			}
			if flags.fromSeq != test.fromSeq {
				t.Errorf("from-seq = %d, want %d", flags.fromSeq, test.fromSeq)
			}
		})
	}
}
