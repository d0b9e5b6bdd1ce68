package wire

// Client message type names, the keys of client frames.
const (
	TypeSendDirectMessage    = "SendDirectMessage"
	TypeJoinRoom             = "JoinRoom"
	TypeLeaveRoom            = "LeaveRoom"
	TypeRoomMessage          = "RoomMessage"
	TypeGetOnlineUsers       = "GetOnlineUsers"
	TypeRefreshToken         = "RefreshToken"
	TypeGetPaginatedMessages = "GetPaginatedMessages"
	TypeSyncMessages         = "SyncMessages"
	TypeGetRoomHistory       = "GetRoomHistory"
	TypeGetConversations     = "GetConversations"
)

// Request is a decoded, validated client frame.
type Request interface {
	// Type returns the frame's type name, e.g. "JoinRoom".
	Type() string
}

// UserRef names a user of a project.
type UserRef struct {
	ProjectID string `json:"project_id"`
	UserID    string `json:"user_id"`
}

// SendDirectMessage sends content to one user of the caller's project.
type SendDirectMessage struct {
	ConversationID  string  `json:"conversation_id"`
	To              UserRef `json:"to"`
	Content         string  `json:"content"`
	ClientMessageID string  `json:"client_message_id"`
}

// JoinRoom subscribes the session to a room of the caller's project.
type JoinRoom struct {
	RoomID string `json:"room_id"`
}

// LeaveRoom unsubscribes the session from a room.
type LeaveRoom struct {
	RoomID string `json:"room_id"`
}

// RoomMessage posts content to a joined room. MessageID is the client's
// id for the message and plays the role of client_message_id.
type RoomMessage struct {
	RoomID    string `json:"room_id"`
	From      string `json:"from"`
	Content   string `json:"content"`
	MessageID string `json:"message_id"`
}

// GetOnlineUsers asks for the users of the caller's project that are
// online on any gateway node.
type GetOnlineUsers struct{}

// RefreshToken replaces the session's token with a newer one of the same
// user, which postpones the session's expiry.
type RefreshToken struct {
	Token string `json:"token"`
}

// GetPaginatedMessages pages a direct conversation newest first. MessageID
// is the exclusive cursor (the oldest id the client has seen); empty
// starts at the newest message.
type GetPaginatedMessages struct {
	ProjectID      string `json:"project_id"`
	ConversationID string `json:"conversation_id"`
	MessageID      string `json:"message_id"`
	Limit          *int   `json:"limit"`
}

// SyncMessages returns a direct conversation's messages after MessageID,
// oldest first; empty MessageID starts at the oldest message.
type SyncMessages struct {
	ProjectID      string `json:"project_id"`
	ConversationID string `json:"conversation_id"`
	MessageID      string `json:"message_id"`
	Limit          *int   `json:"limit"`
}

// GetRoomHistory pages a joined room newest first, before MessageID.
type GetRoomHistory struct {
	RoomID    string `json:"room_id"`
	MessageID string `json:"message_id"`
	Limit     *int   `json:"limit"`
}

// GetConversations lists the caller's direct conversations.
type GetConversations struct{}

// Type returns "SendDirectMessage".
func (SendDirectMessage) Type() string { return TypeSendDirectMessage }

// Type returns "JoinRoom".
func (JoinRoom) Type() string { return TypeJoinRoom }

// Type returns "LeaveRoom".
func (LeaveRoom) Type() string { return TypeLeaveRoom }

// Type returns "RoomMessage".
func (RoomMessage) Type() string { return TypeRoomMessage }

// Type returns "GetOnlineUsers".
func (GetOnlineUsers) Type() string { return TypeGetOnlineUsers }

// Type returns "RefreshToken".
func (RefreshToken) Type() string { return TypeRefreshToken }

// Type returns "GetPaginatedMessages".
func (GetPaginatedMessages) Type() string { return TypeGetPaginatedMessages }

// Type returns "SyncMessages".
func (SyncMessages) Type() string { return TypeSyncMessages }

// Type returns "GetRoomHistory".
func (GetRoomHistory) Type() string { return TypeGetRoomHistory }

// Type returns "GetConversations".
func (GetConversations) Type() string { return TypeGetConversations }
