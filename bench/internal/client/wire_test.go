package client

import (
	"encoding/json"
	"testing"
)

func TestEncodeClientFrames(t *testing.T) {
	dm, err := EncodeDirectMessage(SendDirectMessage{
		ConversationID:  "c1",
		To:              UserRef{ProjectID: "p", UserID: "bob"},
		Content:         "hi",
		ClientMessageID: "00000001-0000-8000-8000-000000000000",
	})
	if err != nil {
		t.Fatalf("EncodeDirectMessage: %v", err)
	}
	want := `{"SendDirectMessage":{"conversation_id":"c1","to":{"project_id":"p","user_id":"bob"},` +
		`"content":"hi","client_message_id":"00000001-0000-8000-8000-000000000000"}}`
	if string(dm) != want {
		t.Errorf("EncodeDirectMessage = %s, want %s", dm, want)
	}
	join, err := EncodeJoinRoom("r1")
	if err != nil {
		t.Fatalf("EncodeJoinRoom: %v", err)
	}
	if string(join) != `{"JoinRoom":{"room_id":"r1"}}` {
		t.Errorf("EncodeJoinRoom = %s", join)
	}
	room, err := EncodeRoomMessage(RoomMessage{RoomID: "r1", From: "alice", Content: "x", MessageID: "m"})
	if err != nil {
		t.Fatalf("EncodeRoomMessage: %v", err)
	}
	if string(room) != `{"RoomMessage":{"room_id":"r1","from":"alice","content":"x","message_id":"m"}}` {
		t.Errorf("EncodeRoomMessage = %s", room)
	}
}

func TestDecodeServerFrame(t *testing.T) {
	cases := []struct {
		name      string
		frame     string
		typ       FrameType
		content   string
		clientID  string
		persisted bool
		status    string
	}{
		{
			name:    "room message fast path",
			frame:   `{"RoomMessage":{"room_id":"r","from":"a","content":"pxb1 x","message_id":"m","timestamp":1}}`,
			typ:     FrameRoomMessage,
			content: "pxb1 x",
		},
		{
			name: "direct message fast path",
			frame: `{"DirectMessage":{"from":"a","to":"b","content":"hello","server_message_id":"s",` +
				`"timestamp":1,"conversation_id":"c"}}`,
			typ:     FrameDirectMessage,
			content: "hello",
		},
		{
			name:    "escaped content takes the decoder",
			frame:   `{"DirectMessage":{"from":"a","content":"say \"hi\"\n","timestamp":1}}`,
			typ:     FrameDirectMessage,
			content: "say \"hi\"\n",
		},
		{
			name:    "spaced JSON takes the decoder",
			frame:   `{ "RoomMessage": { "content": "abc" } }`,
			typ:     FrameRoomMessage,
			content: "abc",
		},
		{
			name:      "persisted ack",
			frame:     `{"MessageAck":{"client_message_id":"c","message_id":"m","timestamp":1,"status":"Persisted"}}`,
			typ:       FrameMessageAck,
			clientID:  "c",
			persisted: true,
			status:    `"Persisted"`,
		},
		{
			name:     "failed ack",
			frame:    `{"MessageAck":{"client_message_id":"c","message_id":"","timestamp":1,"status":{"Failed":"log down"}}}`,
			typ:      FrameMessageAck,
			clientID: "c",
			status:   `{"Failed":"log down"}`,
		},
		{
			name:   "error",
			frame:  `{"Error":{"code":3000,"message":"slow down","request":"RoomMessage"}}`,
			typ:    FrameError,
			status: "3000",
		},
		{
			name:  "room joined",
			frame: `{"RoomJoined":{"room_id":"r","members":["a"]}}`,
			typ:   FrameRoomJoined,
		},
		{
			name:  "other",
			frame: `{"Presence":{"user":"a","status":"Online"}}`,
			typ:   FrameOther,
		},
		{
			name:  "other with spaces",
			frame: `{ "Presence": {"user":"a"} }`,
			typ:   FrameOther,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			frame, err := DecodeServerFrame([]byte(tc.frame))
			if err != nil {
				t.Fatalf("DecodeServerFrame: %v", err)
			}
			if frame.Type != tc.typ {
				t.Errorf("Type = %d, want %d", frame.Type, tc.typ)
			}
			if string(frame.Content) != tc.content {
				t.Errorf("Content = %q, want %q", frame.Content, tc.content)
			}
			if frame.ClientMessageID != tc.clientID {
				t.Errorf("ClientMessageID = %q, want %q", frame.ClientMessageID, tc.clientID)
			}
			if frame.Persisted != tc.persisted {
				t.Errorf("Persisted = %v, want %v", frame.Persisted, tc.persisted)
			}
			if frame.Status != tc.status {
				t.Errorf("Status = %q, want %q", frame.Status, tc.status)
			}
		})
	}
}

func TestDecodeServerFrameRejectsInvalidJSON(t *testing.T) {
	if _, err := DecodeServerFrame([]byte(`{"MessageAck":`)); err == nil {
		t.Error("DecodeServerFrame accepted truncated JSON")
	}
}

func TestFastPathMatchesDecoder(t *testing.T) {
	frame := []byte(`{"RoomMessage":{"room_id":"r","from":"a","content":"pxb1 0000000a m 1 2 3 xxxx",` +
		`"message_id":"m","timestamp":1}}`)
	fast, ok := decodeMessageFast(frame)
	if !ok {
		t.Fatal("decodeMessageFast rejected a plain frame")
	}
	var slow struct {
		RoomMessage struct {
			Content string `json:"content"`
		}
	}
	if err := json.Unmarshal(frame, &slow); err != nil {
		t.Fatalf("json.Unmarshal: %v", err)
	}
	if string(fast.Content) != slow.RoomMessage.Content {
		t.Errorf("fast content %q, decoder content %q", fast.Content, slow.RoomMessage.Content)
	}
}
