package projector

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"connectrpc.com/connect"

	chatv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/chat/v1"
	"github.com/peroxo/peroxo/schemas/gen/peroxo/chat/v1/chatv1connect"
)

// Writer stores messages in history. AppendMessages must be idempotent by
// message id, because an event is written again after a lost ack.
type Writer interface {
	AppendMessages(ctx context.Context, messages []*chatv1.Message) (AppendResult, error)
}

// AppendResult counts what one write stored.
type AppendResult struct {
	Appended   int
	Duplicates int
}

// ChatWriter writes to chatsvc over Connect. It is safe for concurrent use.
type ChatWriter struct {
	client  chatv1connect.ChatServiceClient
	timeout time.Duration
}

// NewChatWriter returns a writer for the chatsvc at baseURL; each call is
// bounded by timeout.
func NewChatWriter(httpClient *http.Client, baseURL string, timeout time.Duration) *ChatWriter {
	return &ChatWriter{
		client:  chatv1connect.NewChatServiceClient(httpClient, baseURL),
		timeout: timeout,
	}
}

// AppendMessages stores messages through chatsvc's AppendMessages.
func (w *ChatWriter) AppendMessages(
	ctx context.Context,
	messages []*chatv1.Message,
) (AppendResult, error) {
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	response, err := w.client.AppendMessages(ctx,
		connect.NewRequest(&chatv1.AppendMessagesRequest{Messages: messages}))
	if err != nil {
		return AppendResult{}, fmt.Errorf("append %d messages to chatsvc: %w", len(messages), err)
	}
	return AppendResult{
		Appended:   int(response.Msg.GetAppended()),
		Duplicates: int(response.Msg.GetDuplicates()),
	}, nil
}

// outage reports whether err means chatsvc or its store was unreachable or
// timed out, rather than that the events are invalid.
func outage(err error) bool {
	switch connect.CodeOf(err) {
	case connect.CodeUnavailable, connect.CodeDeadlineExceeded, connect.CodeCanceled,
		connect.CodeResourceExhausted, connect.CodeAborted:
		return true
	}
	return false
}

// permanent reports whether a write error will recur for the same
// messages, so retrying them is pointless.
func permanent(err error) bool {
	switch connect.CodeOf(err) {
	case connect.CodeInvalidArgument, connect.CodeFailedPrecondition,
		connect.CodeOutOfRange, connect.CodePermissionDenied:
		return true
	}
	return false
}
