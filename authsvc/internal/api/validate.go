package api

import (
	"unicode"
	"unicode/utf8"

	"github.com/peroxo/peroxo/authsvc/internal/tenants"
	"github.com/peroxo/peroxo/authsvc/internal/tokens"
)

// Limits on request fields, in bytes of UTF-8.
const (
	// MaxUserIDBytes bounds user_id.
	MaxUserIDBytes = 128
	// MaxProjectIDBytes bounds project_id. Generated ids have 30 bytes; the
	// headroom admits ids imported from elsewhere.
	MaxProjectIDBytes = 64
	// MaxNameBytes bounds the optional tenant name.
	MaxNameBytes = 128
	// MaxBodyBytes bounds a JSON request body.
	MaxBodyBytes = 16 << 10
)

// checkText validates an identifier or label: valid UTF-8, no control
// characters, at most maxBytes, and present unless optional.
func checkText(field, value string, maxBytes int, optional bool) *Error {
	if value == "" {
		if optional {
			return nil
		}
		return invalidArgument(field, "is required")
	}
	if len(value) > maxBytes {
		return invalidArgument(field, "must be at most %d bytes, got %d", maxBytes, len(value))
	}
	if !utf8.ValidString(value) {
		return invalidArgument(field, "must be valid UTF-8")
	}
	for _, char := range value {
		if unicode.IsControl(char) {
			return invalidArgument(field, "must not contain control characters (found %U)", char)
		}
	}
	return nil
}

func checkAPIKey(key string) *Error {
	if key == "" {
		return invalidArgument("secret_api_key", "is required")
	}
	if !tenants.IsAPIKeyForm(key) {
		return invalidArgument("secret_api_key",
			"must be %s followed by 40 letters or digits", tenants.APIKeyPrefix)
	}
	return nil
}

func checkUserToken(token string) *Error {
	if token == "" {
		return invalidArgument("user_token", "is required")
	}
	if !tokens.IsForm(token) {
		err := invalidArgument("user_token",
			"must be %s followed by 24 letters or digits (%d bytes)", tokens.Prefix, tokens.Length)
		err.Reason = reasonMalformedToken
		return err
	}
	return nil
}

// CheckName validates an optional tenant name as CreateTenant does.
func CheckName(name string) error {
	if err := checkText("name", name, MaxNameBytes, true); err != nil {
		return err
	}
	return nil
}
