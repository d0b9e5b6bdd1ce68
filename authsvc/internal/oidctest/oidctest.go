// Package oidctest runs a local OpenID Connect issuer for tests: an
// httptest server publishing the JSON Web Key Set of a freshly generated
// RSA key, and helpers that sign ID tokens with go-jose.
package oidctest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// ClientID is the audience that tokens from [Issuer.Token] carry.
const ClientID = "peroxo-test-client.apps.example"

// Issuer is a local OIDC issuer. Its URL is both the issuer (iss) and the
// base of the key set URL.
type Issuer struct {
	URL string
	// JWKSURL serves the public key of Key.
	JWKSURL string
	// Key signs the tokens; only its public half is published.
	Key *rsa.PrivateKey
	// KeyFetches counts requests for the key set.
	KeyFetches atomic.Int64
}

// Claims are the ID token claims the tests vary.
type Claims struct {
	Issuer   string
	Subject  string
	Audience string
	Expiry   time.Time
}

// NewIssuer starts an issuer that stops when the test ends.
func NewIssuer(tb testing.TB) *Issuer {
	tb.Helper()
	issuer := &Issuer{Key: NewKey(tb)}
	jwks := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
		Key: &issuer.Key.PublicKey, KeyID: "test-key", Algorithm: "RS256", Use: "sig",
	}}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /certs", func(w http.ResponseWriter, _ *http.Request) {
		issuer.KeyFetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(jwks)
	})
	server := httptest.NewServer(mux)
	tb.Cleanup(server.Close)
	issuer.URL = server.URL
	issuer.JWKSURL = server.URL + "/certs"
	return issuer
}

// NewKey generates a 2048-bit RSA key.
func NewKey(tb testing.TB) *rsa.PrivateKey {
	tb.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	return key
}

// Claims returns valid claims for subject: this issuer, [ClientID], and an
// expiry in one hour.
func (i *Issuer) Claims(subject string) Claims {
	return Claims{Issuer: i.URL, Subject: subject, Audience: ClientID, Expiry: time.Now().Add(time.Hour)}
}

// Token returns a valid ID token for subject.
func (i *Issuer) Token(tb testing.TB, subject string) string {
	tb.Helper()
	return Sign(tb, i.Key, "test-key", i.Claims(subject))
}

// Sign returns an RS256 ID token with claims, signed by key with key id kid.
func Sign(tb testing.TB, key *rsa.PrivateKey, kid string, claims Claims) string {
	tb.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid))
	if err != nil {
		tb.Fatal(err)
	}
	raw, err := jwt.Signed(signer).Claims(registered(claims)).Serialize()
	if err != nil {
		tb.Fatal(err)
	}
	return raw
}

// Unsigned returns a token with alg "none" and an empty signature.
func Unsigned(tb testing.TB, claims Claims) string {
	tb.Helper()
	header, err := json.Marshal(map[string]string{"alg": "none", "typ": "JWT"})
	if err != nil {
		tb.Fatal(err)
	}
	payload, err := json.Marshal(registered(claims))
	if err != nil {
		tb.Fatal(err)
	}
	encode := base64.RawURLEncoding.EncodeToString
	return encode(header) + "." + encode(payload) + "."
}

func registered(claims Claims) jwt.Claims {
	return jwt.Claims{
		Issuer:   claims.Issuer,
		Subject:  claims.Subject,
		Audience: jwt.Audience{claims.Audience},
		Expiry:   jwt.NewNumericDate(claims.Expiry),
		IssuedAt: jwt.NewNumericDate(claims.Expiry.Add(-time.Hour)),
	}
}
