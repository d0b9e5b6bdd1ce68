package room

import (
	"context"
	"fmt"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// countingMember counts frames. Only the room goroutine calls Send, and
// done is closed when the count reaches want.
type countingMember struct {
	count int
	want  int
	done  chan struct{}
}

func (m *countingMember) Send([]byte) bool {
	m.count++
	if m.count == m.want {
		close(m.done)
	}
	return true
}

func startRoom(t testing.TB) *Room {
	t.Helper()
	r := New(1024)
	done := make(chan error, 1)
	go func() { done <- r.Run(context.Background()) }()
	t.Cleanup(func() {
		r.Close()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return r
}

func TestPublishSkipsSenderAndLeftMembers(t *testing.T) {
	r := startRoom(t)
	sender := &countingMember{want: -1, done: make(chan struct{})}
	stayer := &countingMember{want: 2, done: make(chan struct{})}
	leaver := &countingMember{want: -1, done: make(chan struct{})}
	for _, member := range []Member{sender, stayer, leaver} {
		r.Join(member)
	}
	r.Publish([]byte("one"), sender)
	r.Leave(leaver)
	r.Publish([]byte("two"), sender)
	<-stayer.done
	r.Close()
	<-r.Done()
	if sender.count != 0 {
		t.Errorf("sender received %d frames, want 0", sender.count)
	}
	if leaver.count != 1 {
		t.Errorf("member that left received %d frames, want 1", leaver.count)
	}
}

func TestSubmitAfterCloseReturnsFalse(t *testing.T) {
	r := startRoom(t)
	r.Close()
	<-r.Done()
	if r.Join(&countingMember{}) {
		t.Error("Join after Close returned true")
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// BenchmarkFanOut measures one room actor sending a pre-encoded frame to
// every member; members count frames without copying them.
func BenchmarkFanOut(b *testing.B) {
	frame := []byte(`{"RoomMessage":{"room_id":"lobby","from":"alice","content":"hi",` +
		`"message_id":"0190a8f0-0000-7000-8000-000000000001","timestamp":1}}`)
	for _, members := range []int{1, 100, 10000} {
		b.Run(fmt.Sprintf("members=%d", members), func(b *testing.B) {
			r := startRoom(b)
			last := &countingMember{want: b.N, done: make(chan struct{})}
			for range members - 1 {
				r.Join(&countingMember{want: -1})
			}
			r.Join(last)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				r.Publish(frame, nil)
			}
			<-last.done
			b.ReportMetric(float64(members), "deliveries/op")
		})
	}
}
