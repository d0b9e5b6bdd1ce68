package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/peroxo/peroxo/gateway/internal/auth"
)

// Subprotocol is the WebSocket subprotocol of this protocol version. A
// client that sends its token in Sec-WebSocket-Protocol offers
// "peroxo.v1, bearer.<token>" and the gateway selects "peroxo.v1".
const Subprotocol = "peroxo.v1"

// bearerProtocolPrefix starts the subprotocol value that carries a token.
const bearerProtocolPrefix = "bearer."

// Verifier verifies user tokens; *auth.Verifier implements it.
type Verifier interface {
	Verify(ctx context.Context, token string) (auth.Identity, error)
}

// tokenFrom returns the token of request from, in this order, the "token"
// query parameter, an "Authorization: Bearer" header or a "bearer.<token>"
// entry of Sec-WebSocket-Protocol. Browsers cannot set headers on a
// WebSocket, so the query and subprotocol forms exist for them.
func tokenFrom(request *http.Request) string {
	if token := request.URL.Query().Get("token"); token != "" {
		return token
	}
	if header := request.Header.Get("Authorization"); header != "" {
		scheme, token, found := strings.Cut(header, " ")
		if found && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(token)
		}
	}
	for _, header := range request.Header.Values("Sec-WebSocket-Protocol") {
		for _, protocol := range strings.Split(header, ",") {
			protocol = strings.TrimSpace(protocol)
			if token, found := strings.CutPrefix(protocol, bearerProtocolPrefix); found {
				return token
			}
		}
	}
	return ""
}

// authenticate verifies the request's token and writes the HTTP error
// itself when it fails: 400 without a token, 401 for a rejected token and
// 503 when the auth service cannot answer.
func authenticate(writer http.ResponseWriter, request *http.Request, verifier Verifier,
) (auth.Identity, bool) {
	token := tokenFrom(request)
	if token == "" {
		writeError(writer, http.StatusBadRequest, "missing token: send ?token=, "+
			"Authorization: Bearer, or Sec-WebSocket-Protocol: peroxo.v1, bearer.<token>")
		return auth.Identity{}, false
	}
	identity, err := verifier.Verify(request.Context(), token)
	switch {
	case errors.Is(err, auth.ErrInvalidToken):
		writeError(writer, http.StatusUnauthorized, "invalid or expired token")
		return auth.Identity{}, false
	case err != nil:
		writer.Header().Set("Retry-After", "1")
		writeError(writer, http.StatusServiceUnavailable,
			"auth service unavailable; retry later")
		return auth.Identity{}, false
	}
	return identity, true
}

func writeJSON(writer http.ResponseWriter, status int, value any) {
	writer.Header().Set("Content-Type", "application/json")
	writer.WriteHeader(status)
	encoder := json.NewEncoder(writer)
	encoder.SetEscapeHTML(false)
	_ = encoder.Encode(value)
}

func writeError(writer http.ResponseWriter, status int, message string) {
	writeJSON(writer, status, map[string]string{"error": message})
}
