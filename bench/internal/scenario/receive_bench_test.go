package scenario

import (
	"testing"
	"time"

	"github.com/peroxo/peroxo/bench/internal/client"
	"github.com/peroxo/peroxo/bench/internal/payload"
	"github.com/peroxo/peroxo/bench/internal/report"
)

// BenchmarkReceiveRoomMessage measures the generator's own cost per
// delivery: decoding the frame, checking for duplicates and recording the
// latency. It bounds the delivery rate one core of the generator can count.
func BenchmarkReceiveRoomMessage(b *testing.B) {
	r := &run{id: 7, delivery: report.NewRecorder(8), errorFrames: map[string]int64{}}
	r.windowEnd.Store(time.Now().Add(time.Hour).UnixNano())
	m := newMember(0, "m0", -1, true)
	frames := make([][]byte, 1024)
	for i := range frames {
		content := payload.AppendContent(nil, payload.Content{
			Run: 7, Kind: payload.KindMessage, Sender: i % 8, Seq: int64(i), DueNS: time.Now().UnixNano(),
		}, 64)
		frames[i] = []byte(`{"RoomMessage":{"room_id":"bench-00000007","from":"bench-p1","content":"` +
			string(content) + `","message_id":"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b","timestamp":1764858000000}}`)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		frame, err := client.DecodeServerFrame(frames[i%len(frames)])
		if err != nil {
			b.Fatal(err)
		}
		r.handle(m, frame)
	}
}
