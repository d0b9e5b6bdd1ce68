package wire

// Code is the numeric code of an Error frame. Codes are grouped by range,
// and docs/protocol.md lists the same table:
//
//	1000-1999  the request is malformed; resending it unchanged fails again
//	2000-2999  the request names something the caller may not use
//	3000-3999  a limit was reached; the request may succeed later
//	5000-5999  the server or a service behind it failed; retry later
type Code int

// Error codes sent in Error frames.
const (
	CodeInvalidFrame         Code = 1000 // not a JSON object with exactly one key
	CodeUnknownType          Code = 1001 // the key names no client message type
	CodeInvalidField         Code = 1002 // a field is missing, unknown, mistyped or out of range
	CodeBinaryFrame          Code = 1003 // binary frames are not part of the protocol
	CodeConversationMismatch Code = 1004 // conversation_id is not the pair's derived id
	CodeUnknownCursor        Code = 1005 // message_id names no message of that conversation or room

	CodeForbiddenProject Code = 2000 // the request names another project
	CodeNotSender        Code = 2001 // RoomMessage.from is not the caller
	CodeNotRoomMember    Code = 2002 // the caller has not joined the room
	CodeTokenMismatch    Code = 2003 // a refreshed token belongs to another user
	CodeTokenInvalid     Code = 2004 // a refreshed token is invalid or expired
	CodeNotParticipant   Code = 2005 // the caller is not in the conversation

	CodeRateLimited  Code = 3000 // more frames per second than allowed
	CodeTooManyRooms Code = 3001 // the session joined the maximum number of rooms
	CodeRoomFull     Code = 3002 // the room has the maximum number of members on this node
	CodeOverloaded   Code = 3003 // a server queue is full

	CodeInternal            Code = 5000 // an unexpected server failure
	CodeAuthUnavailable     Code = 5001 // the auth service did not respond
	CodeHistoryUnavailable  Code = 5002 // the history service did not respond
	CodePresenceUnavailable Code = 5003 // the cluster presence query failed
)

// CloseCode is a WebSocket close status the gateway sends. Codes from
// RFC 6455 keep their meaning; 4000-4999 (reserved for applications) carry
// the gateway's own reasons.
type CloseCode int

// Close codes sent by the gateway.
const (
	CloseNormal          CloseCode = 1000 // the session ended normally
	CloseGoingAway       CloseCode = 1001 // the gateway is shutting down
	CloseProtocolError   CloseCode = 1002 // the client broke the WebSocket protocol
	CloseMessageTooBig   CloseCode = 1009 // a frame exceeded the frame size limit
	CloseInternalError   CloseCode = 1011 // an unexpected server failure
	CloseTokenExpired    CloseCode = 4001 // the token expired and was not refreshed
	CloseSlowConsumer    CloseCode = 4002 // the outbound queue was full
	CloseTooManySessions CloseCode = 4003 // the user holds the maximum number of sessions
	CloseIdleTimeout     CloseCode = 4004 // no frame arrived within the idle timeout
	ClosePongTimeout     CloseCode = 4005 // a ping was not answered in time
)

// Close reasons sent with the close codes above.
const (
	ReasonTokenExpired    = "token expired"
	ReasonSlowConsumer    = "slow consumer: outbound queue full"
	ReasonTooManySessions = "too many sessions for this user"
	ReasonIdleTimeout     = "idle timeout"
	ReasonPongTimeout     = "ping timeout"
	ReasonGoingAway       = "server shutting down"
)
