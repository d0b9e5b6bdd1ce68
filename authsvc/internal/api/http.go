package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
)

// The JSON endpoints keep the paths and field names of existing PerOXO
// clients. Request bodies are single JSON objects of at most MaxBodyBytes;
// unknown fields are ignored so that older servers accept newer clients.

type errorBody struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

type createTenantResponse struct {
	ProjectID    string `json:"project_id"`
	SecretAPIKey string `json:"secret_api_key"`
}

type issueRequestBody struct {
	UserID       string `json:"user_id"`
	ProjectID    string `json:"project_id"`
	SecretAPIKey string `json:"secret_api_key"`
}

type issueResponse struct {
	UserToken string `json:"user_token"`
	// ExpiresAt is in milliseconds since the Unix epoch.
	ExpiresAt int64 `json:"expires_at"`
}

type verifyRequestBody struct {
	UserToken string `json:"user_token"`
}

type verifyResponse struct {
	ProjectID string `json:"project_id"`
	UserID    string `json:"user_id"`
	// ExpiresAt is in milliseconds since the Unix epoch.
	ExpiresAt int64 `json:"expires_at"`
}

func (s *Service) serveGenerateTenant(w http.ResponseWriter, request *http.Request) {
	created, err := s.CreateTenant(request.Context(), request.Header.Get("Authorization"),
		request.URL.Query().Get("name"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, createTenantResponse{
		ProjectID:    created.ProjectID,
		SecretAPIKey: created.APIKey,
	})
}

func (s *Service) serveGenerateUserToken(w http.ResponseWriter, request *http.Request) {
	var body issueRequestBody
	if err := decodeJSON(w, request, &body); err != nil {
		s.countRejection(opIssueToken, err)
		writeError(w, err)
		return
	}
	token, expiresAt, err := s.IssueUserToken(request.Context(), IssueRequest(body))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, issueResponse{UserToken: token, ExpiresAt: expiresAt.UnixMilli()})
}

func (s *Service) serveVerifyUserToken(w http.ResponseWriter, request *http.Request) {
	var body verifyRequestBody
	if err := decodeJSON(w, request, &body); err != nil {
		s.countRejection(opVerifyToken, err)
		writeError(w, err)
		return
	}
	identity, err := s.VerifyUserToken(request.Context(), body.UserToken)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, verifyResponse{
		ProjectID: identity.ProjectID,
		UserID:    identity.UserID,
		ExpiresAt: identity.ExpiresAt.UnixMilli(),
	})
}

// decodeJSON reads one JSON object into target and reports a malformed or
// oversized body as an *Error naming the field when one is at fault.
func decodeJSON(w http.ResponseWriter, request *http.Request, target any) *Error {
	decoder := json.NewDecoder(http.MaxBytesReader(w, request.Body, MaxBodyBytes))
	err := decoder.Decode(target)
	if err == nil {
		if _, extra := decoder.Token(); extra != io.EOF {
			return invalidArgument("", "request body must contain one JSON object only")
		}
		return nil
	}
	var typeErr *json.UnmarshalTypeError
	var maxErr *http.MaxBytesError
	switch {
	case errors.As(err, &typeErr):
		// Every request field is a string.
		return invalidArgument(typeErr.Field, "must be a JSON string, got %s", typeErr.Value)
	case errors.As(err, &maxErr):
		return invalidArgument("", "request body exceeds %d bytes", MaxBodyBytes)
	case errors.Is(err, io.EOF):
		return invalidArgument("", "request body is empty; send a JSON object")
	default:
		return invalidArgument("", "request body is not valid JSON: %v", err)
	}
}

func writeError(w http.ResponseWriter, err error) {
	var apiErr *Error
	if !errors.As(err, &apiErr) {
		apiErr = &Error{Message: "internal error"}
	}
	if apiErr.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(retryAfterSeconds(apiErr.RetryAfter), 10))
	}
	if apiErr.Field == "authorization" {
		w.Header().Set("WWW-Authenticate", "Bearer")
	}
	writeJSON(w, httpStatus(apiErr.Code), errorBody{Error: apiErr.Message, Field: apiErr.Field})
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	// Responses carry keys and tokens; no cache may keep them.
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	// An encoding error means the client went away; no one is left to tell.
	_ = json.NewEncoder(w).Encode(body)
}
