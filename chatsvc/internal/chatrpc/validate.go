package chatrpc

import (
	"fmt"
	"strconv"
	"unicode/utf8"

	"connectrpc.com/connect"
	"github.com/google/uuid"

	chatv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/chat/v1"

	"github.com/peroxo/peroxo/chatsvc/internal/store"
)

// MaxIDBytes is the longest project, channel, user or client message id
// accepted, in bytes.
const MaxIDBytes = 256

// Page sizes of the contract: the default used for a limit of 0 and the
// maximum accepted.
const (
	DefaultHistoryLimit = 50
	MaxHistoryLimit     = 200
	DefaultSyncLimit    = 100
	MaxSyncLimit        = 500
	DefaultListLimit    = 50
	MaxListLimit        = 500
)

// invalidArgument returns an InvalidArgument error that names field.
func invalidArgument(field, format string, args ...any) error {
	return connect.NewError(connect.CodeInvalidArgument,
		fmt.Errorf("invalid %s: %s", field, fmt.Sprintf(format, args...)))
}

func checkID(field, value string) error {
	if value == "" {
		return invalidArgument(field, "must not be empty")
	}
	if len(value) > MaxIDBytes {
		return invalidArgument(field, "is %d bytes, the maximum is %d", len(value), MaxIDBytes)
	}
	if !utf8.ValidString(value) {
		return invalidArgument(field, "must be valid UTF-8")
	}
	return nil
}

func parseKind(field string, kind chatv1.ChannelKind) (store.Kind, error) {
	switch kind {
	case chatv1.ChannelKind_CHANNEL_KIND_DIRECT:
		return store.KindDirect, nil
	case chatv1.ChannelKind_CHANNEL_KIND_ROOM:
		return store.KindRoom, nil
	}
	return 0, invalidArgument(field, "must be CHANNEL_KIND_DIRECT or CHANNEL_KIND_ROOM, got %s",
		kind)
}

func parseChannel(projectID string, kind chatv1.ChannelKind, channelID string) (store.Channel, error) {
	if err := checkID("project_id", projectID); err != nil {
		return store.Channel{}, err
	}
	storeKind, err := parseKind("kind", kind)
	if err != nil {
		return store.Channel{}, err
	}
	if err := checkID("channel_id", channelID); err != nil {
		return store.Channel{}, err
	}
	return store.Channel{ProjectID: projectID, Kind: storeKind, ID: channelID}, nil
}

// parseCursor accepts an empty cursor as [uuid.Nil].
func parseCursor(field, value string) (uuid.UUID, error) {
	if value == "" {
		return uuid.Nil, nil
	}
	id, err := uuid.Parse(value)
	if err != nil {
		return uuid.Nil, invalidArgument(field, "must be a UUID, got %s", quote(value))
	}
	return id, nil
}

// parseLimit maps 0 to fallback and rejects values outside 1..maximum.
func parseLimit(field string, value int32, fallback, maximum int) (int, error) {
	if value == 0 {
		return fallback, nil
	}
	if value < 0 || int(value) > maximum {
		return 0, invalidArgument(field, "must be from 1 to %d, or 0 for %d, got %d",
			maximum, fallback, value)
	}
	return int(value), nil
}

// parseMessage checks one message of an append. field is the message's
// path in the request, for example messages[3].
func (s *Server) parseMessage(field string, message *chatv1.Message) (store.Message, error) {
	if err := checkID(field+".project_id", message.GetProjectId()); err != nil {
		return store.Message{}, err
	}
	kind, err := parseKind(field+".kind", message.GetKind())
	if err != nil {
		return store.Message{}, err
	}
	if err := checkID(field+".channel_id", message.GetChannelId()); err != nil {
		return store.Message{}, err
	}

	id, err := uuid.Parse(message.GetMessageId())
	if err != nil || id.Version() != 7 {
		return store.Message{}, invalidArgument(field+".message_id",
			"must be a UUIDv7, got %s", quote(message.GetMessageId()))
	}
	if len(message.GetClientMessageId()) > MaxIDBytes {
		return store.Message{}, invalidArgument(field+".client_message_id",
			"is %d bytes, the maximum is %d", len(message.GetClientMessageId()), MaxIDBytes)
	}
	if err := checkID(field+".sender_id", message.GetSenderId()); err != nil {
		return store.Message{}, err
	}
	switch {
	case kind == store.KindDirect:
		if err := checkID(field+".recipient_id", message.GetRecipientId()); err != nil {
			return store.Message{}, err
		}
	case message.GetRecipientId() != "":
		return store.Message{}, invalidArgument(field+".recipient_id",
			"must be empty for a room message")
	}

	if len(message.GetContent()) > s.limits.MaxContentBytes {
		return store.Message{}, invalidArgument(field+".content",
			"is %d bytes, the maximum is %d", len(message.GetContent()),
			s.limits.MaxContentBytes)
	}
	if message.GetTimestampMs() <= 0 {
		return store.Message{}, invalidArgument(field+".timestamp_ms",
			"must be a positive number of milliseconds since the Unix epoch")
	}

	return store.Message{
		Channel:         store.Channel{ProjectID: message.GetProjectId(), Kind: kind, ID: message.GetChannelId()},
		ID:              id,
		ClientMessageID: message.GetClientMessageId(),
		SenderID:        message.GetSenderId(),
		RecipientID:     message.GetRecipientId(),
		Content:         message.GetContent(),
		TimestampMS:     message.GetTimestampMs(),
	}, nil
}

// quote returns value quoted, cut to 64 bytes so an error stays short.
func quote(value string) string {
	if len(value) > 64 {
		return strconv.Quote(value[:64]) + "..."
	}
	return strconv.Quote(value)
}
