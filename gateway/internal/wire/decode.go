package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
)

// MaxIDBytes is the maximum length of a user, room or project id.
const MaxIDBytes = 128

// MaxPageSize is the largest page a history request may ask for; a
// request without a limit gets this many messages.
const MaxPageSize = 50

// Limits are the configurable bounds the decoder enforces.
type Limits struct {
	// MaxContentBytes is the maximum length of a message's content in
	// bytes of UTF-8.
	MaxContentBytes int
}

// DecodeError describes a rejected client frame. Request is the frame's
// type name when the frame got that far, else empty.
type DecodeError struct {
	Code            Code
	Request         string
	ClientMessageID string
	Message         string
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("decode %s frame: %s", e.Request, e.Message)
}

// Decode parses and validates one client text frame. Unknown fields,
// missing required fields, mistyped values, a second top-level key and
// trailing data are all rejected with a [DecodeError].
func Decode(data []byte, limits Limits) (Request, error) {
	// encoding/json would replace invalid UTF-8 with U+FFFD and store a
	// message other than the one sent, so such frames are rejected whole.
	if !utf8.Valid(data) {
		return nil, &DecodeError{Code: CodeInvalidFrame, Message: "frame is not valid UTF-8"}
	}
	name, body, err := splitEnvelope(data)
	if err != nil {
		return nil, err
	}
	decode, ok := decoders[name]
	if !ok {
		return nil, &DecodeError{
			Code:    CodeUnknownType,
			Request: "",
			Message: fmt.Sprintf("unknown message type %q", truncate(name, 64)),
		}
	}
	request, err := decode(body, limits)
	if err != nil {
		var decodeErr *DecodeError
		if errors.As(err, &decodeErr) {
			decodeErr.Request = name
			return nil, decodeErr
		}
		return nil, &DecodeError{Code: CodeInvalidField, Request: name, Message: err.Error()}
	}
	return request, nil
}

// splitEnvelope checks that data is a JSON object with exactly one key and
// returns that key and its raw value.
func splitEnvelope(data []byte) (string, json.RawMessage, error) {
	invalid := func(message string) error {
		return &DecodeError{Code: CodeInvalidFrame, Message: message}
	}
	decoder := json.NewDecoder(bytes.NewReader(data))
	token, err := decoder.Token()
	if err != nil {
		return "", nil, invalid("frame is not valid JSON")
	}
	if delim, ok := token.(json.Delim); !ok || delim != '{' {
		return "", nil, invalid("frame must be a JSON object with one key, the message type")
	}
	if !decoder.More() {
		return "", nil, invalid("frame object is empty; expected one key, the message type")
	}
	token, err = decoder.Token()
	if err != nil {
		return "", nil, invalid("frame is not valid JSON")
	}
	name, _ := token.(string)
	var body json.RawMessage
	if err := decoder.Decode(&body); err != nil {
		return "", nil, invalid("frame is not valid JSON")
	}
	if decoder.More() {
		return "", nil, invalid("frame object has more than one key")
	}
	if _, err := decoder.Token(); err != nil {
		return "", nil, invalid("frame is not valid JSON")
	}
	if _, err := decoder.Token(); !errors.Is(err, io.EOF) {
		return "", nil, invalid("unexpected data after the frame object")
	}
	return name, body, nil
}

type decodeFunc func(body json.RawMessage, limits Limits) (Request, error)

var decoders = map[string]decodeFunc{
	TypeSendDirectMessage:    decodeSendDirectMessage,
	TypeJoinRoom:             decodeJoinRoom,
	TypeLeaveRoom:            decodeLeaveRoom,
	TypeRoomMessage:          decodeRoomMessage,
	TypeGetOnlineUsers:       decodeEmpty(GetOnlineUsers{}),
	TypeRefreshToken:         decodeRefreshToken,
	TypeGetPaginatedMessages: decodeGetPaginatedMessages,
	TypeSyncMessages:         decodeSyncMessages,
	TypeGetRoomHistory:       decodeGetRoomHistory,
	TypeGetConversations:     decodeEmpty(GetConversations{}),
}

// decodeObject decodes body, which must be a JSON object, into target and
// rejects fields target does not have.
func decodeObject(body json.RawMessage, target any) error {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return &DecodeError{Code: CodeInvalidField, Message: "message body must be a JSON object"}
	}
	decoder := json.NewDecoder(bytes.NewReader(trimmed))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(target); err != nil {
		return &DecodeError{Code: CodeInvalidField, Message: describeJSONError(err)}
	}
	return nil
}

func describeJSONError(err error) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return fmt.Sprintf("field %s must be a JSON %s, got %s",
			typeErr.Field, jsonKind(typeErr.Type.Kind().String()), typeErr.Value)
	}
	return "invalid message body: " + err.Error()
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "int", "int64", "ptr":
		return "number"
	case "struct":
		return "object"
	default:
		return goKind
	}
}

func decodeEmpty[T Request](value T) decodeFunc {
	return func(body json.RawMessage, _ Limits) (Request, error) {
		if string(bytes.TrimSpace(body)) == "null" {
			return value, nil
		}
		var empty struct{}
		if err := decodeObject(body, &empty); err != nil {
			return nil, err
		}
		return value, nil
	}
}

func decodeSendDirectMessage(body json.RawMessage, limits Limits) (Request, error) {
	var message SendDirectMessage
	if err := decodeObject(body, &message); err != nil {
		return nil, err
	}
	err := firstError(
		checkUUID("client_message_id", message.ClientMessageID),
		checkUUID("conversation_id", message.ConversationID),
		checkID("to.project_id", message.To.ProjectID),
		checkID("to.user_id", message.To.UserID),
		checkContent(message.Content, limits),
	)
	if err != nil {
		return nil, withClientID(err, message.ClientMessageID)
	}
	return message, nil
}

func decodeJoinRoom(body json.RawMessage, _ Limits) (Request, error) {
	var message JoinRoom
	if err := decodeObject(body, &message); err != nil {
		return nil, err
	}
	if err := checkID("room_id", message.RoomID); err != nil {
		return nil, err
	}
	return message, nil
}

func decodeLeaveRoom(body json.RawMessage, _ Limits) (Request, error) {
	var message LeaveRoom
	if err := decodeObject(body, &message); err != nil {
		return nil, err
	}
	if err := checkID("room_id", message.RoomID); err != nil {
		return nil, err
	}
	return message, nil
}

func decodeRoomMessage(body json.RawMessage, limits Limits) (Request, error) {
	var message RoomMessage
	if err := decodeObject(body, &message); err != nil {
		return nil, err
	}
	err := firstError(
		checkUUID("message_id", message.MessageID),
		checkID("room_id", message.RoomID),
		checkID("from", message.From),
		checkContent(message.Content, limits),
	)
	if err != nil {
		return nil, withClientID(err, message.MessageID)
	}
	return message, nil
}

func decodeRefreshToken(body json.RawMessage, _ Limits) (Request, error) {
	var message RefreshToken
	if err := decodeObject(body, &message); err != nil {
		return nil, err
	}
	if message.Token == "" || len(message.Token) > 256 {
		return nil, invalidField("token must hold 1 to 256 bytes")
	}
	return message, nil
}

func decodeGetPaginatedMessages(body json.RawMessage, _ Limits) (Request, error) {
	var message GetPaginatedMessages
	if err := decodeObject(body, &message); err != nil {
		return nil, err
	}
	err := firstError(
		checkID("project_id", message.ProjectID),
		checkUUID("conversation_id", message.ConversationID),
		checkOptionalUUID("message_id", message.MessageID),
		checkLimit(message.Limit),
	)
	if err != nil {
		return nil, err
	}
	return message, nil
}

func decodeSyncMessages(body json.RawMessage, _ Limits) (Request, error) {
	var message SyncMessages
	if err := decodeObject(body, &message); err != nil {
		return nil, err
	}
	err := firstError(
		checkID("project_id", message.ProjectID),
		checkUUID("conversation_id", message.ConversationID),
		checkOptionalUUID("message_id", message.MessageID),
		checkLimit(message.Limit),
	)
	if err != nil {
		return nil, err
	}
	return message, nil
}

func decodeGetRoomHistory(body json.RawMessage, _ Limits) (Request, error) {
	var message GetRoomHistory
	if err := decodeObject(body, &message); err != nil {
		return nil, err
	}
	err := firstError(
		checkID("room_id", message.RoomID),
		checkOptionalUUID("message_id", message.MessageID),
		checkLimit(message.Limit),
	)
	if err != nil {
		return nil, err
	}
	return message, nil
}

func invalidField(message string) error {
	return &DecodeError{Code: CodeInvalidField, Message: message}
}

func withClientID(err error, clientID string) error {
	var decodeErr *DecodeError
	if errors.As(err, &decodeErr) && checkUUID("", clientID) == nil {
		decodeErr.ClientMessageID = clientID
	}
	return err
}

func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// CheckID validates a user, room or project id: 1 to [MaxIDBytes] bytes of
// valid UTF-8 without control characters.
func CheckID(field, value string) error {
	return checkID(field, value)
}

func checkID(field, value string) error {
	switch {
	case value == "":
		return invalidField(field + " must not be empty")
	case len(value) > MaxIDBytes:
		return invalidField(fmt.Sprintf("%s must be at most %d bytes", field, MaxIDBytes))
	case !utf8.ValidString(value):
		return invalidField(field + " must be valid UTF-8")
	}
	for _, r := range value {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return invalidField(field + " must not contain control characters")
		}
	}
	return nil
}

func checkUUID(field, value string) error {
	if len(value) != 36 {
		return invalidField(field + " must be a hyphenated UUID")
	}
	if _, err := uuid.Parse(value); err != nil {
		return invalidField(field + " must be a hyphenated UUID")
	}
	// One spelling per id, so a resend in upper case is the same message.
	if value != strings.ToLower(value) {
		return invalidField(field + " must be a lowercase UUID")
	}
	return nil
}

func checkOptionalUUID(field, value string) error {
	if value == "" {
		return nil
	}
	return checkUUID(field, value)
}

func checkLimit(limit *int) error {
	if limit != nil && (*limit < 1 || *limit > MaxPageSize) {
		return invalidField(fmt.Sprintf("limit must be between 1 and %d", MaxPageSize))
	}
	return nil
}

func checkContent(content string, limits Limits) error {
	switch {
	case content == "":
		return invalidField("content must not be empty")
	case len(content) > limits.MaxContentBytes:
		return invalidField(fmt.Sprintf("content must be at most %d bytes",
			limits.MaxContentBytes))
	}
	return nil
}

func truncate(value string, maxBytes int) string {
	if len(value) <= maxBytes {
		return value
	}
	return value[:maxBytes]
}

// Frame returns the Error frame that answers the rejected request.
func (e *DecodeError) Frame() Error {
	return Error{
		Code:            e.Code,
		Message:         e.Message,
		Request:         e.Request,
		ClientMessageID: e.ClientMessageID,
	}
}
