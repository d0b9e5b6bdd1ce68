package wire

import (
	"encoding/json"
	"fmt"
)

// Frame is a server frame. Encode wraps it in its type key.
type Frame interface {
	frameType() string
}

// Encode returns the text frame {"<Type>":<fields>}. A room message is
// encoded once and the same bytes go to every member.
func Encode(frame Frame) ([]byte, error) {
	body, err := json.Marshal(frame)
	if err != nil {
		return nil, fmt.Errorf("encode %s frame: %w", frame.frameType(), err)
	}
	name := frame.frameType()
	encoded := make([]byte, 0, len(name)+len(body)+5)
	encoded = append(encoded, `{"`...)
	encoded = append(encoded, name...)
	encoded = append(encoded, `":`...)
	encoded = append(encoded, body...)
	encoded = append(encoded, '}')
	return encoded, nil
}

// MustEncode is [Encode] for frames whose fields cannot fail to encode
// (strings, numbers and slices of them), which is every frame here.
func MustEncode(frame Frame) []byte {
	encoded, err := Encode(frame)
	if err != nil {
		panic(err)
	}
	return encoded
}

// DirectMessage delivers a direct message. From is the sender's user id in
// the same project; To, an addition to PerOXO's shape, is the recipient's
// user id, so the sender's other sessions can place their copy.
type DirectMessage struct {
	From            string `json:"from"`
	To              string `json:"to"`
	Content         string `json:"content"`
	ServerMessageID string `json:"server_message_id"`
	Timestamp       int64  `json:"timestamp"`
	ConversationID  string `json:"conversation_id"`
}

// RoomMessageFrame delivers a room message with the server's message id.
type RoomMessageFrame struct {
	RoomID    string `json:"room_id"`
	From      string `json:"from"`
	Content   string `json:"content"`
	MessageID string `json:"message_id"`
	Timestamp int64  `json:"timestamp"`
}

// AckStatus is "Persisted" or {"Failed":"reason"}.
type AckStatus struct {
	// FailedReason is empty when the event log stored the message.
	FailedReason string
}

// MarshalJSON encodes the status in PerOXO's shape.
func (s AckStatus) MarshalJSON() ([]byte, error) {
	if s.FailedReason == "" {
		return []byte(`"Persisted"`), nil
	}
	return json.Marshal(map[string]string{"Failed": s.FailedReason})
}

// MessageAck tells the sender what happened to its message.
type MessageAck struct {
	ClientMessageID string    `json:"client_message_id"`
	MessageID       string    `json:"message_id"`
	Timestamp       int64     `json:"timestamp"`
	Status          AckStatus `json:"status"`
}

// Presence statuses.
const (
	StatusOnline  = "Online"
	StatusOffline = "Offline"
)

// Presence reports that a user of the project came online or went offline.
type Presence struct {
	User   string `json:"user"`
	Status string `json:"status"`
}

// Error answers a request that failed. Request is the request's type name;
// ClientMessageID is set when the request carried one.
type Error struct {
	Code            Code   `json:"code"`
	Message         string `json:"message"`
	Request         string `json:"request"`
	ClientMessageID string `json:"client_message_id,omitempty"`
}

// RoomJoined confirms JoinRoom. Members lists the distinct users in the
// room on this gateway node, at most [MaxListedMembers].
type RoomJoined struct {
	RoomID  string   `json:"room_id"`
	Members []string `json:"members"`
}

// MaxListedMembers bounds RoomJoined.Members.
const MaxListedMembers = 100

// RoomLeft confirms LeaveRoom.
type RoomLeft struct {
	RoomID string `json:"room_id"`
}

// OnlineUsers answers GetOnlineUsers with the project's online users,
// sorted.
type OnlineUsers struct {
	Users []string `json:"users"`
}

// TokenRefreshed confirms RefreshToken with the new expiry in ms.
type TokenRefreshed struct {
	ExpiresAt int64 `json:"expires_at"`
}

// HistoryMessage is one stored message in a history answer. ConversationID
// is set for direct messages and RoomID for room messages.
type HistoryMessage struct {
	MessageID       string `json:"message_id"`
	ClientMessageID string `json:"client_message_id,omitempty"`
	ConversationID  string `json:"conversation_id,omitempty"`
	RoomID          string `json:"room_id,omitempty"`
	From            string `json:"from"`
	To              string `json:"to,omitempty"`
	Content         string `json:"content"`
	Timestamp       int64  `json:"timestamp"`
}

// ChatHistoryResponse answers GetPaginatedMessages, newest first.
type ChatHistoryResponse struct {
	ConversationID string           `json:"conversation_id"`
	Messages       []HistoryMessage `json:"messages"`
	HasMore        bool             `json:"has_more"`
	NextCursor     string           `json:"next_cursor,omitempty"`
}

// SyncMessagesResponse answers SyncMessages, oldest first.
type SyncMessagesResponse struct {
	ConversationID string           `json:"conversation_id"`
	Messages       []HistoryMessage `json:"messages"`
	HasMore        bool             `json:"has_more"`
	NextCursor     string           `json:"next_cursor,omitempty"`
}

// RoomHistoryResponse answers GetRoomHistory, newest first.
type RoomHistoryResponse struct {
	RoomID     string           `json:"room_id"`
	Messages   []HistoryMessage `json:"messages"`
	HasMore    bool             `json:"has_more"`
	NextCursor string           `json:"next_cursor,omitempty"`
}

// ConversationSummary is one entry of a ConversationList.
type ConversationSummary struct {
	ConversationID string          `json:"conversation_id"`
	Peer           string          `json:"peer"`
	LastMessage    *HistoryMessage `json:"last_message,omitempty"`
}

// ConversationList answers GetConversations, most recent first.
type ConversationList struct {
	Conversations []ConversationSummary `json:"conversations"`
}

func (DirectMessage) frameType() string        { return "DirectMessage" }
func (RoomMessageFrame) frameType() string     { return "RoomMessage" }
func (MessageAck) frameType() string           { return "MessageAck" }
func (Presence) frameType() string             { return "Presence" }
func (Error) frameType() string                { return "Error" }
func (RoomJoined) frameType() string           { return "RoomJoined" }
func (RoomLeft) frameType() string             { return "RoomLeft" }
func (OnlineUsers) frameType() string          { return "OnlineUsers" }
func (TokenRefreshed) frameType() string       { return "TokenRefreshed" }
func (ChatHistoryResponse) frameType() string  { return "ChatHistoryResponse" }
func (SyncMessagesResponse) frameType() string { return "SyncMessagesResponse" }
func (RoomHistoryResponse) frameType() string  { return "RoomHistoryResponse" }
func (ConversationList) frameType() string     { return "ConversationList" }

// Error returns the message, so an *Error can travel as a Go error until
// it is sent.
func (e *Error) Error() string {
	return e.Message
}
