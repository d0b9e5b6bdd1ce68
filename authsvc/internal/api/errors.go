package api

import (
	"fmt"
	"net/http"
	"time"

	"connectrpc.com/connect"
)

// Error is a failure reported to the client: a Connect code, which also
// selects the HTTP status, the request field at fault if any, and a message
// safe to show. Reason is the bounded metric label.
type Error struct {
	Code       connect.Code
	Field      string
	Message    string
	Reason     reason
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// reason is the value of the reason label of authsvc_requests_rejected_total.
type reason string

// The complete set of rejection reasons, which bounds the label.
const (
	reasonInvalidArgument    reason = "invalid_argument"
	reasonMalformedToken     reason = "malformed_token"
	reasonUnknownToken       reason = "unknown_or_expired_token"
	reasonUnknownProject     reason = "unknown_project"
	reasonWrongKey           reason = "wrong_key"
	reasonMissingCredentials reason = "missing_credentials"
	reasonBadIDToken         reason = "invalid_id_token"
	reasonSignInDisabled     reason = "sign_in_disabled"
	reasonRateLimited        reason = "rate_limited"
	reasonBackend            reason = "backend_error"
)

var allReasons = []reason{
	reasonInvalidArgument, reasonMalformedToken, reasonUnknownToken,
	reasonUnknownProject, reasonWrongKey, reasonMissingCredentials,
	reasonBadIDToken, reasonSignInDisabled, reasonRateLimited, reasonBackend,
}

func invalidArgument(field, format string, args ...any) *Error {
	return &Error{
		Code:    connect.CodeInvalidArgument,
		Field:   field,
		Message: fmt.Sprintf(format, args...),
		Reason:  reasonInvalidArgument,
	}
}

func unauthenticated(field string, cause reason, message string) *Error {
	return &Error{Code: connect.CodeUnauthenticated, Field: field, Message: message, Reason: cause}
}

func backendError() *Error {
	return &Error{
		Code:    connect.CodeUnavailable,
		Message: "a storage backend failed; retry later",
		Reason:  reasonBackend,
	}
}

// httpStatus maps the Connect codes this service returns to HTTP statuses.
func httpStatus(code connect.Code) int {
	switch code {
	case connect.CodeInvalidArgument:
		return http.StatusBadRequest
	case connect.CodeUnauthenticated:
		return http.StatusUnauthorized
	case connect.CodeResourceExhausted:
		return http.StatusTooManyRequests
	case connect.CodeUnavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// retryAfterSeconds rounds up, so a client that waits that long finds the
// window ended.
func retryAfterSeconds(wait time.Duration) int64 {
	seconds := int64((wait + time.Second - 1) / time.Second)
	return max(seconds, 1)
}
