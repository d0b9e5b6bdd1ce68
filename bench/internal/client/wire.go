// Package client speaks the gateway's WebSocket protocol for the load
// generator: it dials many connections over several loopback source
// addresses, encodes the client frames the scenarios send and decodes the
// server frames they measure.
package client

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// UserRef names a user of a project, as the protocol's "to" field does.
type UserRef struct {
	ProjectID string `json:"project_id"`
	UserID    string `json:"user_id"`
}

// SendDirectMessage is the client frame that sends a DM.
type SendDirectMessage struct {
	ConversationID  string  `json:"conversation_id"`
	To              UserRef `json:"to"`
	Content         string  `json:"content"`
	ClientMessageID string  `json:"client_message_id"`
}

// JoinRoom is the client frame that joins a room.
type JoinRoom struct {
	RoomID string `json:"room_id"`
}

// RoomMessage is the client frame that sends to a room; From must be the
// sender's own user id.
type RoomMessage struct {
	RoomID    string `json:"room_id"`
	From      string `json:"from"`
	Content   string `json:"content"`
	MessageID string `json:"message_id"`
}

// clientFrame wraps one client message in the externally tagged form
// {"<Type>":{...}}; exactly one field is set.
type clientFrame struct {
	SendDirectMessage *SendDirectMessage `json:",omitempty"`
	JoinRoom          *JoinRoom          `json:",omitempty"`
	RoomMessage       *RoomMessage       `json:",omitempty"`
}

// EncodeDirectMessage returns the frame for message.
func EncodeDirectMessage(message SendDirectMessage) ([]byte, error) {
	return encode(clientFrame{SendDirectMessage: &message})
}

// EncodeJoinRoom returns the frame that joins room.
func EncodeJoinRoom(room string) ([]byte, error) {
	return encode(clientFrame{JoinRoom: &JoinRoom{RoomID: room}})
}

// EncodeRoomMessage returns the frame for message.
func EncodeRoomMessage(message RoomMessage) ([]byte, error) {
	return encode(clientFrame{RoomMessage: &message})
}

func encode(frame clientFrame) ([]byte, error) {
	data, err := json.Marshal(frame)
	if err != nil {
		return nil, fmt.Errorf("encode client frame: %w", err)
	}
	return data, nil
}

// FrameType is the type of a server frame the load generator reads.
type FrameType int

// Server frame types; FrameOther is any type the generator does not measure.
const (
	FrameOther FrameType = iota
	FrameDirectMessage
	FrameRoomMessage
	FrameMessageAck
	FrameError
	FrameRoomJoined
)

// ServerFrame is the part of a server frame the scenarios use. Content and
// ClientMessageID alias the frame's buffer only until the next read.
type ServerFrame struct {
	Type            FrameType
	Content         []byte // DirectMessage and RoomMessage
	ClientMessageID string // MessageAck
	Persisted       bool   // MessageAck with status "Persisted"
	Status          string // MessageAck status or Error code, as raw JSON
}

var (
	roomMessagePrefix   = []byte(`{"RoomMessage":`)
	directMessagePrefix = []byte(`{"DirectMessage":`)
	contentKey          = []byte(`"content":"`)
)

// DecodeServerFrame decodes data. A message whose content needs no JSON
// escapes, as all generated content does, takes a fast path that skips the
// JSON decoder. Every other frame goes through encoding/json.
func DecodeServerFrame(data []byte) (ServerFrame, error) {
	if frame, ok := decodeMessageFast(data); ok {
		return frame, nil
	}
	if typ, ok := frameTypeName(data); ok && !decodedTypes[typ] {
		return ServerFrame{Type: FrameOther}, nil
	}
	var raw struct {
		DirectMessage *struct {
			Content string `json:"content"`
		}
		RoomMessage *struct {
			Content string `json:"content"`
		}
		MessageAck *struct {
			ClientMessageID string          `json:"client_message_id"`
			Status          json.RawMessage `json:"status"`
		}
		Error *struct {
			Code json.RawMessage `json:"code"`
		}
		RoomJoined *struct {
			RoomID string `json:"room_id"`
		}
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return ServerFrame{}, fmt.Errorf("decode server frame %.80q: %w", data, err)
	}
	switch {
	case raw.DirectMessage != nil:
		return ServerFrame{Type: FrameDirectMessage, Content: []byte(raw.DirectMessage.Content)}, nil
	case raw.RoomMessage != nil:
		return ServerFrame{Type: FrameRoomMessage, Content: []byte(raw.RoomMessage.Content)}, nil
	case raw.MessageAck != nil:
		status := string(raw.MessageAck.Status)
		return ServerFrame{
			Type:            FrameMessageAck,
			ClientMessageID: raw.MessageAck.ClientMessageID,
			Persisted:       status == `"Persisted"`,
			Status:          status,
		}, nil
	case raw.Error != nil:
		return ServerFrame{Type: FrameError, Status: string(raw.Error.Code)}, nil
	case raw.RoomJoined != nil:
		return ServerFrame{Type: FrameRoomJoined}, nil
	}
	return ServerFrame{Type: FrameOther}, nil
}

// decodeMessageFast extracts the content of a DirectMessage or RoomMessage
// frame by scanning for its "content" key. It gives up (ok false) on any
// frame it cannot read with certainty, such as escaped content.
func decodeMessageFast(data []byte) (frame ServerFrame, ok bool) {
	switch {
	case bytes.HasPrefix(data, roomMessagePrefix):
		frame.Type = FrameRoomMessage
	case bytes.HasPrefix(data, directMessagePrefix):
		frame.Type = FrameDirectMessage
	default:
		return ServerFrame{}, false
	}
	start := bytes.Index(data, contentKey)
	if start < 0 {
		return ServerFrame{}, false
	}
	start += len(contentKey)
	length := bytes.IndexByte(data[start:], '"')
	if length < 0 || bytes.IndexByte(data[start:start+length], '\\') >= 0 {
		return ServerFrame{}, false
	}
	// A second "content" key, say in a nested object, makes the first one
	// ambiguous.
	if bytes.Contains(data[start+length:], contentKey) {
		return ServerFrame{}, false
	}
	frame.Content = data[start : start+length]
	return frame, true
}

// decodedTypes are the server frame types that DecodeServerFrame decodes;
// it skips the JSON decoder for every other type, such as Presence.
var decodedTypes = map[string]bool{
	"DirectMessage": true,
	"RoomMessage":   true,
	"MessageAck":    true,
	"Error":         true,
	"RoomJoined":    true,
}

// frameTypeName returns the type key of a frame that starts with
// {"<Type>": and ok false for any other start.
func frameTypeName(data []byte) (string, bool) {
	rest, ok := bytes.CutPrefix(data, []byte(`{"`))
	if !ok {
		return "", false
	}
	end := bytes.IndexByte(rest, '"')
	if end < 0 || end+1 >= len(rest) || rest[end+1] != ':' {
		return "", false
	}
	return string(rest[:end]), true
}
