package wire

import (
	"errors"
	"strings"
	"testing"
)

var limits = Limits{MaxContentBytes: 16}

const (
	validUUID = "0190a8f0-0000-7000-8000-000000000001"
	validDM   = `{"SendDirectMessage":{"conversation_id":"` + validUUID +
		`","to":{"project_id":"p","user_id":"bob"},"content":"hi","client_message_id":"` +
		validUUID + `"}}`
)

func TestDecodeAcceptsEveryType(t *testing.T) {
	frames := map[string]string{
		TypeSendDirectMessage: validDM,
		TypeJoinRoom:          `{"JoinRoom":{"room_id":"lobby"}}`,
		TypeLeaveRoom:         `{"LeaveRoom":{"room_id":"lobby"}}`,
		TypeRoomMessage: `{"RoomMessage":{"room_id":"lobby","from":"alice",` +
			`"content":"hi","message_id":"` + validUUID + `"}}`,
		TypeGetOnlineUsers: `{"GetOnlineUsers":{}}`,
		TypeRefreshToken:   `{"RefreshToken":{"token":"pxtok_abc"}}`,
		TypeGetPaginatedMessages: `{"GetPaginatedMessages":{"project_id":"p",` +
			`"conversation_id":"` + validUUID + `","message_id":"","limit":10}}`,
		TypeSyncMessages: `{"SyncMessages":{"project_id":"p","conversation_id":"` +
			validUUID + `","message_id":"` + validUUID + `"}}`,
		TypeGetRoomHistory:   `{"GetRoomHistory":{"room_id":"lobby"}}`,
		TypeGetConversations: `{"GetConversations":{}}`,
	}
	for name, frame := range frames {
		request, err := Decode([]byte(frame), limits)
		if err != nil {
			t.Errorf("Decode(%s): %v", name, err)
			continue
		}
		if request.Type() != name {
			t.Errorf("Decode(%s) returned %s", name, request.Type())
		}
	}
}

func TestDecodeRejectsBadInput(t *testing.T) {
	dm := func(body string) string { return `{"SendDirectMessage":` + body + `}` }
	dmWith := func(old, replacement string) string {
		return strings.Replace(validDM, old, replacement, 1)
	}
	tests := []struct {
		name  string
		frame string
		code  Code
	}{
		{"not JSON", `hello`, CodeInvalidFrame},
		{"truncated JSON", `{"JoinRoom":{"room_id":"x"}`, CodeInvalidFrame},
		{"array", `[{"JoinRoom":{"room_id":"x"}}]`, CodeInvalidFrame},
		{"number", `42`, CodeInvalidFrame},
		{"string", `"GetOnlineUsers"`, CodeInvalidFrame},
		{"empty object", `{}`, CodeInvalidFrame},
		{"two keys", `{"JoinRoom":{"room_id":"x"},"LeaveRoom":{"room_id":"x"}}`,
			CodeInvalidFrame},
		{"trailing data", `{"JoinRoom":{"room_id":"x"}} {}`, CodeInvalidFrame},
		{"unknown type", `{"Explode":{}}`, CodeUnknownType},
		{"body not object", `{"JoinRoom":"lobby"}`, CodeInvalidField},
		{"body null", `{"JoinRoom":null}`, CodeInvalidField},
		{"unknown field", `{"JoinRoom":{"room_id":"x","admin":true}}`, CodeInvalidField},
		{"missing field", `{"JoinRoom":{}}`, CodeInvalidField},
		{"mistyped field", `{"JoinRoom":{"room_id":7}}`, CodeInvalidField},
		{"empty room id", `{"JoinRoom":{"room_id":""}}`, CodeInvalidField},
		{"long room id", `{"JoinRoom":{"room_id":"` + strings.Repeat("r", 129) + `"}}`,
			CodeInvalidField},
		{"control character in id", `{"JoinRoom":{"room_id":"a\u0007b"}}`, CodeInvalidField},
		{"newline in user id", dmWith(`"bob"`, `"bo\nb"`), CodeInvalidField},
		{"invalid client id", dmWith(`"client_message_id":"`+validUUID,
			`"client_message_id":"not-a-uuid`), CodeInvalidField},
		{"unhyphenated uuid", dmWith(`"conversation_id":"`+validUUID,
			`"conversation_id":"`+strings.ReplaceAll(validUUID, "-", "")), CodeInvalidField},
		{"empty content", dmWith(`"content":"hi"`, `"content":""`), CodeInvalidField},
		{"long content", dmWith(`"content":"hi"`, `"content":"`+strings.Repeat("x", 17)+`"`),
			CodeInvalidField},
		{"mistyped content", dmWith(`"content":"hi"`, `"content":5`), CodeInvalidField},
		{"nested unknown field", dmWith(`"user_id":"bob"`, `"user_id":"bob","x":1`),
			CodeInvalidField},
		{"missing to", dm(`{"conversation_id":"` + validUUID + `","content":"hi",` +
			`"client_message_id":"` + validUUID + `"}`), CodeInvalidField},
		{"limit too large", `{"GetRoomHistory":{"room_id":"x","limit":51}}`, CodeInvalidField},
		{"limit zero", `{"GetRoomHistory":{"room_id":"x","limit":0}}`, CodeInvalidField},
		{"empty body with field", `{"GetOnlineUsers":{"x":1}}`, CodeInvalidField},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			_, err := Decode([]byte(test.frame), limits)
			var decodeErr *DecodeError
			if !errors.As(err, &decodeErr) {
				t.Fatalf("Decode(%s) err = %v, want a DecodeError", test.frame, err)
			}
			if decodeErr.Code != test.code {
				t.Errorf("code = %d (%s), want %d", decodeErr.Code, decodeErr.Message, test.code)
			}
		})
	}
}

func TestDecodeErrorKeepsClientMessageID(t *testing.T) {
	frame := strings.Replace(validDM, `"content":"hi"`, `"content":""`, 1)
	_, err := Decode([]byte(frame), limits)
	var decodeErr *DecodeError
	if !errors.As(err, &decodeErr) {
		t.Fatalf("err = %v", err)
	}
	got := decodeErr.Frame()
	if got.ClientMessageID != validUUID || got.Request != TypeSendDirectMessage {
		t.Errorf("Error frame = %+v", got)
	}
}

func TestEncodeFrames(t *testing.T) {
	tests := []struct {
		frame Frame
		want  string
	}{
		{MessageAck{ClientMessageID: "c", MessageID: "m", Timestamp: 5},
			`{"MessageAck":{"client_message_id":"c","message_id":"m","timestamp":5,` +
				`"status":"Persisted"}}`},
		{MessageAck{ClientMessageID: "c", MessageID: "m", Timestamp: 5,
			Status: AckStatus{FailedReason: "down"}},
			`{"MessageAck":{"client_message_id":"c","message_id":"m","timestamp":5,` +
				`"status":{"Failed":"down"}}}`},
		{Presence{User: "bob", Status: StatusOnline},
			`{"Presence":{"user":"bob","status":"Online"}}`},
		{Error{Code: CodeRateLimited, Message: "slow down", Request: "JoinRoom"},
			`{"Error":{"code":3000,"message":"slow down","request":"JoinRoom"}}`},
	}
	for _, test := range tests {
		got := string(MustEncode(test.frame))
		if got != test.want {
			t.Errorf("Encode = %s\nwant %s", got, test.want)
		}
	}
}

func TestDecodeRejectsInvalidUTF8AndUppercaseUUIDs(t *testing.T) {
	limits := Limits{MaxContentBytes: 1024}
	invalid := []byte("{\"JoinRoom\":{\"room_id\":\"caf\xff\"}}")
	_, err := Decode(invalid, limits)
	var decodeErr *DecodeError
	if !errors.As(err, &decodeErr) || decodeErr.Code != CodeInvalidFrame {
		t.Errorf("Decode(invalid UTF-8) error = %v, want code %d", err, CodeInvalidFrame)
	}
	upper := []byte(`{"SendDirectMessage":{"conversation_id":"0190A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B",` +
		`"to":{"project_id":"p","user_id":"bob"},"content":"hi",` +
		`"client_message_id":"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"}}`)
	_, err = Decode(upper, limits)
	if !errors.As(err, &decodeErr) || decodeErr.Code != CodeInvalidField {
		t.Errorf("Decode(uppercase UUID) error = %v, want code %d", err, CodeInvalidField)
	}
}
