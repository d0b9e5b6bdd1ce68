// Package secret generates the random identifiers and credentials of the
// auth service and hashes credentials for storage.
package secret

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"strings"
)

const (
	// LowerAlphanumerics is the alphabet of project ids.
	LowerAlphanumerics = "abcdefghijklmnopqrstuvwxyz0123456789"
	// Alphanumerics is the alphabet of API keys and user tokens.
	Alphanumerics = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

// Random returns n characters drawn uniformly from alphabet with crypto/rand.
// rand.Text is not used because it fixes its own alphabet and length.
// Bytes at or above the largest multiple of len(alphabet) below 256 are
// discarded, so every character has the same probability (no modulo bias).
func Random(alphabet string, n int) (string, error) {
	if len(alphabet) == 0 || len(alphabet) > 256 {
		return "", fmt.Errorf("generate random string: alphabet of %d bytes", len(alphabet))
	}
	limit := 256 - 256%len(alphabet)
	var out strings.Builder
	out.Grow(n)
	buffer := make([]byte, n+n/2+8)
	for out.Len() < n {
		if _, err := rand.Read(buffer); err != nil {
			return "", fmt.Errorf("read random bytes: %w", err)
		}
		for _, b := range buffer {
			if int(b) >= limit {
				continue
			}
			out.WriteByte(alphabet[int(b)%len(alphabet)])
			if out.Len() == n {
				break
			}
		}
	}
	return out.String(), nil
}

// Hash returns the SHA-256 digest of a credential as lowercase hex.
//
// A plain, unsalted SHA-256 suffices here, unlike for passwords. Every
// credential hashed this way has at least 24 characters drawn uniformly
// from 62, over 140 bits of entropy, so no dictionary or brute-force search
// can invert it. A slow hash would only slow down every verification.
func Hash(credential string) string {
	digest := sha256.Sum256([]byte(credential))
	return hex.EncodeToString(digest[:])
}

// EqualHash compares two hex digests in constant time.
func EqualHash(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// HasForm reports whether value is prefix followed by exactly n characters
// of alphabet. It reads no store, so malformed input is rejected early.
func HasForm(value, prefix string, n int, alphabet string) bool {
	rest, ok := strings.CutPrefix(value, prefix)
	if !ok || len(rest) != n {
		return false
	}
	for i := range len(rest) {
		if strings.IndexByte(alphabet, rest[i]) < 0 {
			return false
		}
	}
	return true
}
