package googleid

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/peroxo/peroxo/authsvc/internal/oidctest"
)

func TestVerify(t *testing.T) {
	issuer := oidctest.NewIssuer(t)
	verifier := New(issuer.URL, issuer.JWKSURL, oidctest.ClientID, http.DefaultClient)
	if issuer.KeyFetches.Load() != 0 {
		t.Fatal("keys fetched before the first verification")
	}
	subject, err := verifier.Verify(t.Context(), issuer.Token(t, "google-sub-1"))
	if err != nil {
		t.Fatal(err)
	}
	if subject != "google-sub-1" {
		t.Errorf("subject = %q, want google-sub-1", subject)
	}

	claims := issuer.Claims("google-sub-1")
	wrongAudience, wrongIssuer, expired := claims, claims, claims
	wrongAudience.Audience = "another-client"
	wrongIssuer.Issuer = "https://issuer.invalid"
	expired.Expiry = time.Now().Add(-time.Minute)
	tests := []struct {
		name  string
		token string
	}{
		{"foreign key", oidctest.Sign(t, oidctest.NewKey(t), "test-key", claims)},
		{"unknown key id", oidctest.Sign(t, oidctest.NewKey(t), "other-key", claims)},
		{"alg none", oidctest.Unsigned(t, claims)},
		{"wrong audience", oidctest.Sign(t, issuer.Key, "test-key", wrongAudience)},
		{"wrong issuer", oidctest.Sign(t, issuer.Key, "test-key", wrongIssuer)},
		{"expired", oidctest.Sign(t, issuer.Key, "test-key", expired)},
		{"not a jwt", "not-a-jwt"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			if _, err := verifier.Verify(t.Context(), test.token); err == nil {
				t.Error("token accepted")
			}
		})
	}
}

func TestVerifyDisabled(t *testing.T) {
	verifier := New("https://accounts.google.com", "https://keys.invalid", "", http.DefaultClient)
	if verifier.Enabled() {
		t.Error("verifier without client id is enabled")
	}
	if _, err := verifier.Verify(t.Context(), "x.y.z"); !errors.Is(err, ErrDisabled) {
		t.Errorf("err = %v, want ErrDisabled", err)
	}
}
