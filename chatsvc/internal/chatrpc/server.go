// Package chatrpc serves peroxo.chat.v1.ChatService over Connect, gRPC and
// gRPC-Web on top of a [store.Store].
package chatrpc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"

	chatv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/chat/v1"
	"github.com/peroxo/peroxo/schemas/gen/peroxo/chat/v1/chatv1connect"

	"github.com/peroxo/peroxo/chatsvc/internal/store"
)

// Limits bounds what one request may carry.
type Limits struct {
	// MaxContentBytes is the largest message content, in bytes.
	MaxContentBytes int
	// MaxBatch is the largest number of messages in one AppendMessages.
	MaxBatch int
}

// Server implements [chatv1connect.ChatServiceHandler]. It keeps no state
// of its own, so it is safe for concurrent use as far as its store is.
type Server struct {
	store  store.Store
	limits Limits
	logger *slog.Logger
}

var _ chatv1connect.ChatServiceHandler = (*Server)(nil)

// NewServer returns a Server over store.
func NewServer(store store.Store, limits Limits, logger *slog.Logger) *Server {
	return &Server{store: store, limits: limits, logger: logger.With("component", "chatrpc")}
}

// messageOverheadBytes is an allowance for the fields of one message other
// than its content, used to bound the size of a request.
const messageOverheadBytes = 4 << 10

// MaxRequestBytes returns the largest request body the service reads: a
// full batch of messages with content of the maximum length. A larger
// request is rejected with ResourceExhausted before it is decoded.
func (l Limits) MaxRequestBytes() int64 {
	return int64(l.MaxBatch) * int64(l.MaxContentBytes+messageOverheadBytes)
}

// Register mounts the service, for the Connect, gRPC and gRPC-Web
// protocols, and the standard gRPC health service on mux.
func (s *Server) Register(mux *http.ServeMux, options ...connect.HandlerOption) {
	readLimit := connect.WithReadMaxBytes(int(s.limits.MaxRequestBytes()))
	mux.Handle(chatv1connect.NewChatServiceHandler(s, append(options, readLimit)...))
	mux.Handle(grpchealth.NewHandler(s, options...))
}

// Check implements [grpchealth.Checker]. The server and the chat service
// are serving while a store ping succeeds, the same check as /readyz.
func (s *Server) Check(
	ctx context.Context,
	request *grpchealth.CheckRequest,
) (*grpchealth.CheckResponse, error) {
	if request.Service != "" && request.Service != chatv1connect.ChatServiceName {
		return nil, connect.NewError(connect.CodeNotFound,
			fmt.Errorf("unknown service %q", request.Service))
	}
	if err := s.store.Ping(ctx); err != nil {
		s.logger.Warn("health check failed", "err", err)
		return &grpchealth.CheckResponse{Status: grpchealth.StatusNotServing}, nil
	}
	return &grpchealth.CheckResponse{Status: grpchealth.StatusServing}, nil
}

// AppendMessages validates the whole batch, then stores it.
func (s *Server) AppendMessages(
	ctx context.Context,
	request *connect.Request[chatv1.AppendMessagesRequest],
) (*connect.Response[chatv1.AppendMessagesResponse], error) {
	incoming := request.Msg.GetMessages()
	if len(incoming) > s.limits.MaxBatch {
		return nil, invalidArgument("messages", "holds %d messages, the maximum is %d",
			len(incoming), s.limits.MaxBatch)
	}
	messages := make([]store.Message, len(incoming))
	for i, message := range incoming {
		parsed, err := s.parseMessage(fmt.Sprintf("messages[%d]", i), message)
		if err != nil {
			return nil, err
		}
		messages[i] = parsed
	}
	if len(messages) == 0 {
		return connect.NewResponse(&chatv1.AppendMessagesResponse{}), nil
	}
	result, err := s.store.Append(ctx, messages)
	if err != nil {
		return nil, s.storeError(ctx, "append messages", err)
	}
	return connect.NewResponse(&chatv1.AppendMessagesResponse{
		Appended:   int32(result.Appended),
		Duplicates: int32(result.Duplicates),
	}), nil
}

// GetHistory returns one page of a channel, newest first.
func (s *Server) GetHistory(
	ctx context.Context,
	request *connect.Request[chatv1.GetHistoryRequest],
) (*connect.Response[chatv1.GetHistoryResponse], error) {
	msg := request.Msg
	query, err := parsePageQuery(msg.GetProjectId(), msg.GetKind(), msg.GetChannelId(),
		"before_message_id", msg.GetBeforeMessageId(),
		msg.GetLimit(), DefaultHistoryLimit, MaxHistoryLimit)
	if err != nil {
		return nil, err
	}
	page, err := s.store.History(ctx, query)
	if err != nil {
		return nil, s.pageError(ctx, "before_message_id", query, err)
	}
	return connect.NewResponse(&chatv1.GetHistoryResponse{
		Messages:   toProtoMessages(page.Messages),
		HasMore:    page.HasMore,
		NextCursor: nextCursor(page),
	}), nil
}

// SyncMessages returns one page of a channel after a message, oldest first.
func (s *Server) SyncMessages(
	ctx context.Context,
	request *connect.Request[chatv1.SyncMessagesRequest],
) (*connect.Response[chatv1.SyncMessagesResponse], error) {
	msg := request.Msg
	query, err := parsePageQuery(msg.GetProjectId(), msg.GetKind(), msg.GetChannelId(),
		"after_message_id", msg.GetAfterMessageId(),
		msg.GetLimit(), DefaultSyncLimit, MaxSyncLimit)
	if err != nil {
		return nil, err
	}
	page, err := s.store.Sync(ctx, query)
	if err != nil {
		return nil, s.pageError(ctx, "after_message_id", query, err)
	}
	return connect.NewResponse(&chatv1.SyncMessagesResponse{
		Messages:   toProtoMessages(page.Messages),
		HasMore:    page.HasMore,
		NextCursor: nextCursor(page),
	}), nil
}

// ListConversations returns a user's conversations, most recent first.
func (s *Server) ListConversations(
	ctx context.Context,
	request *connect.Request[chatv1.ListConversationsRequest],
) (*connect.Response[chatv1.ListConversationsResponse], error) {
	msg := request.Msg
	if err := checkID("project_id", msg.GetProjectId()); err != nil {
		return nil, err
	}
	if err := checkID("user_id", msg.GetUserId()); err != nil {
		return nil, err
	}
	limit, err := parseLimit("limit", msg.GetLimit(), DefaultListLimit, MaxListLimit)
	if err != nil {
		return nil, err
	}
	conversations, err := s.store.Conversations(ctx, msg.GetProjectId(), msg.GetUserId(), limit)
	if err != nil {
		return nil, s.storeError(ctx, "list conversations", err,
			"project", msg.GetProjectId(), "user", msg.GetUserId())
	}
	response := &chatv1.ListConversationsResponse{
		Conversations: make([]*chatv1.Conversation, len(conversations)),
	}
	for i, conversation := range conversations {
		response.Conversations[i] = &chatv1.Conversation{
			ConversationId: conversation.ConversationID,
			PeerUserId:     conversation.PeerUserID,
			LastMessage:    toProtoMessage(conversation.LastMessage),
		}
	}
	return connect.NewResponse(response), nil
}

// ListRooms returns a project's rooms, most recent first.
func (s *Server) ListRooms(
	ctx context.Context,
	request *connect.Request[chatv1.ListRoomsRequest],
) (*connect.Response[chatv1.ListRoomsResponse], error) {
	msg := request.Msg
	if err := checkID("project_id", msg.GetProjectId()); err != nil {
		return nil, err
	}
	limit, err := parseLimit("limit", msg.GetLimit(), DefaultListLimit, MaxListLimit)
	if err != nil {
		return nil, err
	}
	rooms, err := s.store.Rooms(ctx, msg.GetProjectId(), limit)
	if err != nil {
		return nil, s.storeError(ctx, "list rooms", err, "project", msg.GetProjectId())
	}
	response := &chatv1.ListRoomsResponse{Rooms: make([]*chatv1.Room, len(rooms))}
	for i, room := range rooms {
		response.Rooms[i] = &chatv1.Room{
			RoomId:      room.RoomID,
			LastMessage: toProtoMessage(room.LastMessage),
		}
	}
	return connect.NewResponse(response), nil
}

func parsePageQuery(
	projectID string,
	kind chatv1.ChannelKind,
	channelID string,
	cursorField, cursor string,
	limit int32,
	fallback, maximum int,
) (store.PageQuery, error) {
	channel, err := parseChannel(projectID, kind, channelID)
	if err != nil {
		return store.PageQuery{}, err
	}
	cursorID, err := parseCursor(cursorField, cursor)
	if err != nil {
		return store.PageQuery{}, err
	}
	pageSize, err := parseLimit("limit", limit, fallback, maximum)
	if err != nil {
		return store.PageQuery{}, err
	}
	return store.PageQuery{Channel: channel, Cursor: cursorID, Limit: pageSize}, nil
}

// pageError maps an unknown cursor to NotFound naming the cursor field.
func (s *Server) pageError(ctx context.Context, cursorField string, query store.PageQuery, err error) error {
	if errors.Is(err, store.ErrCursorNotFound) {
		return connect.NewError(connect.CodeNotFound, fmt.Errorf(
			"%s %s is not a message of %s channel %q", cursorField, query.Cursor,
			query.Channel.Kind, query.Channel.ID))
	}
	return s.storeError(ctx, "read channel", err,
		"project", query.Channel.ProjectID, "channel", query.Channel.ID)
}

// storeError logs a failed store call and returns it as Unavailable, so
// callers retry, or as the context's code when the caller gave up.
func (s *Server) storeError(ctx context.Context, operation string, err error, attrs ...any) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		code := connect.CodeCanceled
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			code = connect.CodeDeadlineExceeded
		}
		return connect.NewError(code, fmt.Errorf("%s: %w", operation, ctxErr))
	}
	s.logger.Warn(operation+" failed", append(attrs, "err", err)...)
	return connect.NewError(connect.CodeUnavailable, fmt.Errorf("%s: %w", operation, err))
}
