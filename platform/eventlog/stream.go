// Package eventlog defines the JetStream chat event log that the gateway
// writes and the consumer reads: the stream, its subjects, the encoding of
// ids into subject tokens and the event encoding.
package eventlog

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	eventsv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/events/v1"
)

const (
	// StreamName is the stream that stores every chat event.
	StreamName = "CHAT"
	// DeadLetterStreamName stores events the consumer gave up on.
	DeadLetterStreamName = "CHAT_DLQ"
	// DeadLetterSubjectRoot prefixes the original subject of a dead letter.
	DeadLetterSubjectRoot = "dlq"
)

// StreamSettings are the retention and durability settings of the chat
// stream. Zero values mean "no limit" for MaxAge and MaxBytes.
type StreamSettings struct {
	MaxAge          time.Duration
	MaxBytes        int64
	Replicas        int
	DuplicateWindow time.Duration
	// MemoryStorage keeps the stream in memory; the default is file storage.
	MemoryStorage bool
}

// EnsureStreams creates the chat stream and the dead-letter stream or
// updates them to settings. It is idempotent, so every process that uses
// the log may call it at start.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, settings StreamSettings) (jetstream.Stream, error) {
	storage := jetstream.FileStorage
	if settings.MemoryStorage {
		storage = jetstream.MemoryStorage
	}
	replicas := max(settings.Replicas, 1)
	stream, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        StreamName,
		Description: "PerOXO chat events: the system of record of every accepted message",
		Subjects:    []string{AllSubjects},
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		MaxAge:      settings.MaxAge,
		MaxBytes:    orUnlimited(settings.MaxBytes),
		Storage:     storage,
		Replicas:    replicas,
		Duplicates:  settings.DuplicateWindow,
	})
	if err != nil {
		return nil, fmt.Errorf("create or update stream %s: %w", StreamName, err)
	}
	_, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        DeadLetterStreamName,
		Description: "PerOXO chat events that could not be projected into history",
		Subjects:    []string{DeadLetterSubjectRoot + "." + AllSubjects},
		Storage:     storage,
		Replicas:    replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("create or update stream %s: %w", DeadLetterStreamName, err)
	}
	return stream, nil
}

func orUnlimited(limit int64) int64 {
	if limit <= 0 {
		return -1
	}
	return limit
}

// MarshalEvent encodes an event for the stream.
func MarshalEvent(event *eventsv1.ChatEvent) ([]byte, error) {
	data, err := proto.Marshal(event)
	if err != nil {
		return nil, fmt.Errorf("encode chat event: %w", err)
	}
	return data, nil
}

// UnmarshalEvent decodes an event read from the stream.
func UnmarshalEvent(data []byte) (*eventsv1.ChatEvent, error) {
	event := &eventsv1.ChatEvent{}
	if err := proto.Unmarshal(data, event); err != nil {
		return nil, fmt.Errorf("decode chat event: %w", err)
	}
	return event, nil
}
