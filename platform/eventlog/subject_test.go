package eventlog

import (
	"strings"
	"testing"
)

func TestEncodeTokenRoundTrip(t *testing.T) {
	ids := []string{
		"alice", "peroxo_pj_4f9a", "user-1_x", "a.b", "*", ">", "a b", "tab\tid",
		"ünïcödé", "日本語", "~tilde", "=", "", "a.*.>", strings.Repeat("x.", 100),
	}
	seen := make(map[string]string)
	for _, id := range ids {
		token := EncodeToken(id)
		if token == "" || strings.ContainsAny(token, ".*> \t\r\n") {
			t.Errorf("EncodeToken(%q) = %q, not a subject-safe token", id, token)
		}
		for _, r := range token {
			if r > 127 {
				t.Errorf("EncodeToken(%q) = %q contains non-ASCII", id, token)
			}
		}
		decoded, err := DecodeToken(token)
		if err != nil {
			t.Errorf("DecodeToken(%q): %v", token, err)
		}
		if decoded != id {
			t.Errorf("DecodeToken(EncodeToken(%q)) = %q", id, decoded)
		}
		if other, dup := seen[token]; dup {
			t.Errorf("ids %q and %q share token %q", other, id, token)
		}
		seen[token] = id
	}
}

func TestDecodeTokenRejectsForeignTokens(t *testing.T) {
	for _, token := range []string{"", "a.b", "~!!", "ü"} {
		if _, err := DecodeToken(token); err == nil {
			t.Errorf("DecodeToken(%q) succeeded, want an error", token)
		}
	}
}

func TestDirectSubjectMatchesUserSubjects(t *testing.T) {
	subject := DirectSubject("peroxo_pj_1", "bob.smith", "alice")
	if subject != "chat.peroxo_pj_1.dm."+EncodeToken("bob.smith")+".alice" {
		t.Errorf("DirectSubject = %q", subject)
	}
	received, _ := UserSubjects("peroxo_pj_1", "bob.smith")
	_, sent := UserSubjects("peroxo_pj_1", "alice")
	if !matches(received, subject) {
		t.Errorf("%q does not match %q", received, subject)
	}
	if !matches(sent, subject) {
		t.Errorf("%q does not match %q", sent, subject)
	}
	otherReceived, _ := UserSubjects("peroxo_pj_2", "bob.smith")
	if matches(otherReceived, subject) {
		t.Errorf("filter of another project %q matches %q", otherReceived, subject)
	}
}

// matches reports whether a NATS subject filter with '*' and '>' wildcards
// matches subject.
func matches(filter, subject string) bool {
	filterTokens := strings.Split(filter, ".")
	subjectTokens := strings.Split(subject, ".")
	for i, token := range filterTokens {
		if token == ">" {
			return len(subjectTokens) > i
		}
		if i >= len(subjectTokens) || (token != "*" && token != subjectTokens[i]) {
			return false
		}
	}
	return len(filterTokens) == len(subjectTokens)
}
