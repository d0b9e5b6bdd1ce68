package api

import (
	"strings"
	"testing"
)

func TestCheckText(t *testing.T) {
	tests := []struct {
		name     string
		value    string
		optional bool
		valid    bool
	}{
		{"plain", "alice", false, true},
		{"unicode letters", "ål 日", false, true},
		{"at the limit", strings.Repeat("a", 8), false, true},
		{"over the limit", strings.Repeat("a", 9), false, false},
		{"multibyte over the limit", "ééééé", false, false},
		{"empty required", "", false, false},
		{"empty optional", "", true, true},
		{"invalid utf8", "a\xffb", false, false},
		{"newline", "a\nb", false, false},
		{"nul", "a\x00b", false, false},
		{"c1 control", "a\u0085b", false, false},
		{"delete", "a\x7fb", false, false},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			err := checkText("user_id", test.value, 8, test.optional)
			if (err == nil) != test.valid {
				t.Fatalf("checkText(%q) = %v, want valid %v", test.value, err, test.valid)
			}
			if err != nil && err.Field != "user_id" {
				t.Errorf("field = %q, want user_id", err.Field)
			}
		})
	}
}

func TestBearer(t *testing.T) {
	tests := []struct {
		header string
		want   string
		ok     bool
	}{
		{"Bearer abc", "abc", true},
		{"bearer  abc ", "abc", true},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"Basic abc", "", false},
		{"", "", false},
	}
	for _, test := range tests {
		got, ok := bearer(test.header)
		if got != test.want || ok != test.ok {
			t.Errorf("bearer(%q) = %q, %v; want %q, %v", test.header, got, ok, test.want, test.ok)
		}
	}
}
