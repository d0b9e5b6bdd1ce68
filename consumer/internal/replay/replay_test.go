package replay_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/peroxo/peroxo/consumer/internal/consumertest"
	"github.com/peroxo/peroxo/consumer/internal/projector"
	"github.com/peroxo/peroxo/consumer/internal/replay"
	"github.com/peroxo/peroxo/platform/eventlog"
	chatv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/chat/v1"
)

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// recordingProgress records the calls a replay makes.
type recordingProgress struct {
	total    uint64
	last     uint64
	finished bool
}

func (p *recordingProgress) Start(total uint64)  { p.total = total }
func (p *recordingProgress) Advance(read uint64) { p.last = read }
func (p *recordingProgress) Finish()             { p.finished = true }

func TestReplaySelectsEvents(t *testing.T) {
	natsServer := consumertest.StartNATS(t)
	js := consumertest.Connect(t, natsServer.ClientURL())
	stream := consumertest.EnsureStreams(t, js)

	var all, projectA []*chatv1.Message
	for i := range 30 {
		project := "peroxo_pj_a"
		if i%3 == 0 {
			project = "peroxo.pj.b" // an id that needs subject encoding
		}
		message := consumertest.NewMessage(project, "alice", "bob")
		consumertest.Publish(t, js, message)
		all = append(all, message)
		if project == "peroxo_pj_a" {
			projectA = append(projectA, message)
		}
	}
	// A malformed event is counted and skipped.
	if _, err := js.Publish(context.Background(), eventlog.RoomSubject("peroxo_pj_a", "x"),
		[]byte{0xff}); err != nil {
		t.Fatal(err)
	}
	eleventh, err := stream.GetMsg(context.Background(), 11)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name      string
		options   replay.Options
		want      []*chatv1.Message
		malformed int
	}{
		{"whole stream", replay.Options{}, all, 1},
		{"one project", replay.Options{Project: "peroxo_pj_a"}, projectA, 1},
		{"encoded project", replay.Options{Project: "peroxo.pj.b"}, everyThird(all), 0},
		{"from sequence", replay.Options{FromSeq: 11}, all[10:], 1},
		{"since time", replay.Options{Since: eleventh.Time}, all[10:], 1},
		{"past the end", replay.Options{FromSeq: 100}, nil, 0},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			chat := consumertest.StartChatServer(t, nil)
			writer := projector.NewChatWriter(http.DefaultClient, chat.URL, 5*time.Second)
			progress := &recordingProgress{}
			options := test.options
			options.BatchSize = 7
			options.Progress = progress
			summary, err := replay.Run(context.Background(), js, writer, options, discard)
			if err != nil {
				t.Fatalf("replay: %v", err)
			}
			if got, want := chat.MessageIDs(), consumertest.IDs(test.want); !slices.Equal(got, want) {
				t.Errorf("replayed ids = %v, want %v", got, want)
			}
			if summary.Appended != len(test.want) {
				t.Errorf("summary appended = %d, want %d", summary.Appended, len(test.want))
			}
			if summary.Read != len(test.want)+test.malformed {
				t.Errorf("summary read = %d, want %d", summary.Read, len(test.want)+test.malformed)
			}
			if summary.Malformed != test.malformed {
				t.Errorf("summary malformed = %d, want %d", summary.Malformed, test.malformed)
			}
			if summary.LastSequence != 31 {
				t.Errorf("summary last sequence = %d, want 31", summary.LastSequence)
			}
			if summary.Read > 0 && progress.total != uint64(summary.Read) {
				t.Errorf("progress total = %d, want %d", progress.total, summary.Read)
			}
			if progress.last != uint64(summary.Read) {
				t.Errorf("progress last = %d, want %d", progress.last, summary.Read)
			}

			// A second replay into the same store only finds duplicates.
			again, err := replay.Run(context.Background(), js, writer, options, discard)
			if err != nil {
				t.Fatalf("second replay: %v", err)
			}
			if again.Appended != 0 || again.Duplicates != len(test.want) {
				t.Errorf("second replay appended %d and found %d duplicates, want 0 and %d",
					again.Appended, again.Duplicates, len(test.want))
			}
		})
	}
}

func everyThird(messages []*chatv1.Message) []*chatv1.Message {
	var selected []*chatv1.Message
	for i := 0; i < len(messages); i += 3 {
		selected = append(selected, messages[i])
	}
	return selected
}

func TestReplayOfEmptyStream(t *testing.T) {
	natsServer := consumertest.StartNATS(t)
	js := consumertest.Connect(t, natsServer.ClientURL())
	consumertest.EnsureStreams(t, js)
	chat := consumertest.StartChatServer(t, nil)
	writer := projector.NewChatWriter(http.DefaultClient, chat.URL, 5*time.Second)

	summary, err := replay.Run(context.Background(), js, writer, replay.Options{}, discard)
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	if summary.Read != 0 {
		t.Errorf("summary read = %d, want 0", summary.Read)
	}
}

// publishingWriter publishes more events during its first write, as the
// gateway would while a replay runs.
type publishingWriter struct {
	projector.Writer
	publish func()
	once    sync.Once
}

func (w *publishingWriter) AppendMessages(
	ctx context.Context,
	messages []*chatv1.Message,
) (projector.AppendResult, error) {
	w.once.Do(w.publish)
	return w.Writer.AppendMessages(ctx, messages)
}

func TestReplayStopsAtLastSequenceAtStart(t *testing.T) {
	natsServer := consumertest.StartNATS(t)
	js := consumertest.Connect(t, natsServer.ClientURL())
	consumertest.EnsureStreams(t, js)
	before := consumertest.PublishMany(t, js, "peroxo_pj_a", 20)
	chat := consumertest.StartChatServer(t, nil)
	writer := &publishingWriter{
		Writer: projector.NewChatWriter(http.DefaultClient, chat.URL, 5*time.Second),
		publish: func() {
			consumertest.PublishMany(t, js, "peroxo_pj_a", 10)
		},
	}

	summary, err := replay.Run(context.Background(), js, writer,
		replay.Options{BatchSize: 5}, discard)
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	if summary.LastSequence != 20 {
		t.Errorf("summary last sequence = %d, want 20", summary.LastSequence)
	}
	if summary.Read != 20 {
		t.Errorf("summary read = %d, want 20", summary.Read)
	}
	if got, want := chat.MessageIDs(), consumertest.IDs(before); !slices.Equal(got, want) {
		t.Errorf("replayed %d events, want the %d stored at start", len(got), len(want))
	}
}
