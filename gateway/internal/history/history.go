// Package history serves the WebSocket history requests through the chat
// service's Connect API and enforces who may read what. A [Service] holds
// no state of its own and is safe for concurrent use; its calls block, so
// sessions run them off their read loops.
package history

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"connectrpc.com/connect"

	"github.com/peroxo/peroxo/gateway/internal/conversation"
	"github.com/peroxo/peroxo/gateway/internal/wire"
	chatv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/chat/v1"
	"github.com/peroxo/peroxo/schemas/gen/peroxo/chat/v1/chatv1connect"
)

// Service serves history requests through the chat service.
type Service struct {
	client chatv1connect.ChatServiceClient
	logger *slog.Logger
}

// New returns a Service that calls the chat service at baseURL.
func New(httpClient connect.HTTPClient, baseURL string, logger *slog.Logger) *Service {
	return &Service{
		client: chatv1connect.NewChatServiceClient(httpClient, baseURL),
		logger: logger.With("component", "history"),
	}
}

// Answer returns the encoded answer frame to request from user of project,
// or a *wire.Error. Room requests must be checked for membership by the
// caller first.
//
// A direct conversation is readable by its two users only. The request
// names just the conversation id, so every returned message must have the
// caller as sender or recipient and the conversation id derived from its
// pair; a page that breaks this is refused whole. An empty page reveals
// nothing, so it is returned as it is.
func (s *Service) Answer(ctx context.Context, project, user string,
	request wire.Request) ([]byte, error) {
	switch request := request.(type) {
	case wire.GetPaginatedMessages:
		if request.ProjectID != project {
			return nil, forbiddenProject()
		}
		response, err := s.client.GetHistory(ctx, connect.NewRequest(&chatv1.GetHistoryRequest{
			ProjectId:       project,
			Kind:            chatv1.ChannelKind_CHANNEL_KIND_DIRECT,
			ChannelId:       request.ConversationID,
			BeforeMessageId: request.MessageID,
			Limit:           pageSize(request.Limit),
		}))
		if err != nil {
			return nil, s.chatError(err)
		}
		messages, err := directMessages(project, user, request.ConversationID,
			response.Msg.GetMessages())
		if err != nil {
			return nil, err
		}
		return wire.MustEncode(wire.ChatHistoryResponse{
			ConversationID: request.ConversationID,
			Messages:       messages,
			HasMore:        response.Msg.GetHasMore(),
			NextCursor:     response.Msg.GetNextCursor(),
		}), nil
	case wire.SyncMessages:
		if request.ProjectID != project {
			return nil, forbiddenProject()
		}
		response, err := s.client.SyncMessages(ctx, connect.NewRequest(&chatv1.SyncMessagesRequest{
			ProjectId:      project,
			Kind:           chatv1.ChannelKind_CHANNEL_KIND_DIRECT,
			ChannelId:      request.ConversationID,
			AfterMessageId: request.MessageID,
			Limit:          pageSize(request.Limit),
		}))
		if err != nil {
			return nil, s.chatError(err)
		}
		messages, err := directMessages(project, user, request.ConversationID,
			response.Msg.GetMessages())
		if err != nil {
			return nil, err
		}
		return wire.MustEncode(wire.SyncMessagesResponse{
			ConversationID: request.ConversationID,
			Messages:       messages,
			HasMore:        response.Msg.GetHasMore(),
			NextCursor:     response.Msg.GetNextCursor(),
		}), nil
	case wire.GetRoomHistory:
		response, err := s.client.GetHistory(ctx, connect.NewRequest(&chatv1.GetHistoryRequest{
			ProjectId:       project,
			Kind:            chatv1.ChannelKind_CHANNEL_KIND_ROOM,
			ChannelId:       request.RoomID,
			BeforeMessageId: request.MessageID,
			Limit:           pageSize(request.Limit),
		}))
		if err != nil {
			return nil, s.chatError(err)
		}
		messages := make([]wire.HistoryMessage, 0, len(response.Msg.GetMessages()))
		for _, message := range response.Msg.GetMessages() {
			messages = append(messages, historyMessage(message))
		}
		return wire.MustEncode(wire.RoomHistoryResponse{
			RoomID:     request.RoomID,
			Messages:   messages,
			HasMore:    response.Msg.GetHasMore(),
			NextCursor: response.Msg.GetNextCursor(),
		}), nil
	case wire.GetConversations:
		response, err := s.client.ListConversations(ctx,
			connect.NewRequest(&chatv1.ListConversationsRequest{ProjectId: project, UserId: user}))
		if err != nil {
			return nil, s.chatError(err)
		}
		list := make([]wire.ConversationSummary, 0, len(response.Msg.GetConversations()))
		for _, item := range response.Msg.GetConversations() {
			summary := wire.ConversationSummary{
				ConversationID: item.GetConversationId(),
				Peer:           item.GetPeerUserId(),
			}
			if item.GetLastMessage() != nil {
				last := historyMessage(item.GetLastMessage())
				summary.LastMessage = &last
			}
			list = append(list, summary)
		}
		return wire.MustEncode(wire.ConversationList{Conversations: list}), nil
	default:
		return nil, fmt.Errorf("answer history request: unexpected %s", request.Type())
	}
}

// directMessages converts a page of a direct conversation and checks that
// user takes part in it.
func directMessages(project, user, conversationID string, page []*chatv1.Message,
) ([]wire.HistoryMessage, error) {
	messages := make([]wire.HistoryMessage, 0, len(page))
	for _, message := range page {
		sender, recipient := message.GetSenderId(), message.GetRecipientId()
		participant := sender == user || recipient == user
		if !participant || conversation.ID(project, sender, recipient) != conversationID {
			return nil, &wire.Error{Code: wire.CodeNotParticipant,
				Message: "you are not a participant of this conversation"}
		}
		messages = append(messages, historyMessage(message))
	}
	return messages, nil
}

func historyMessage(message *chatv1.Message) wire.HistoryMessage {
	converted := wire.HistoryMessage{
		MessageID:       message.GetMessageId(),
		ClientMessageID: message.GetClientMessageId(),
		From:            message.GetSenderId(),
		Content:         message.GetContent(),
		Timestamp:       message.GetTimestampMs(),
	}
	if message.GetKind() == chatv1.ChannelKind_CHANNEL_KIND_ROOM {
		converted.RoomID = message.GetChannelId()
	} else {
		converted.ConversationID = message.GetChannelId()
		converted.To = message.GetRecipientId()
	}
	return converted
}

func pageSize(limit *int) int32 {
	if limit == nil {
		return wire.MaxPageSize
	}
	return int32(*limit)
}

func forbiddenProject() error {
	return &wire.Error{Code: wire.CodeForbiddenProject,
		Message: "project_id must be the project of your token"}
}

// chatError turns a failed chatsvc call into an Error frame. The client
// must fix a cursor that names no message or a request chatsvc rejects.
// Any other failure means history is unavailable, so a retry may work.
func (s *Service) chatError(err error) error {
	switch connect.CodeOf(err) {
	case connect.CodeNotFound:
		return &wire.Error{Code: wire.CodeUnknownCursor,
			Message: "message_id is not a message of this conversation or room"}
	case connect.CodeInvalidArgument:
		message := err.Error()
		var connectErr *connect.Error
		if errors.As(err, &connectErr) {
			message = connectErr.Message()
		}
		return &wire.Error{Code: wire.CodeInvalidField, Message: message}
	}
	s.logger.Warn("chat service call failed", "err", err)
	return &wire.Error{Code: wire.CodeHistoryUnavailable,
		Message: "history is unavailable; retry later"}
}
