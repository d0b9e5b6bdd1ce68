package schedule

import (
	"context"
	"testing"
	"time"
)

var start = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func TestPlanCountsAddUpToTotal(t *testing.T) {
	cases := []struct {
		name        string
		rate        float64
		senders     int
		window      time.Duration
		maxMessages int64
		total       int64
	}{
		{"even split", 100, 4, time.Second, 0, 100},
		{"uneven split", 10, 3, time.Second, 0, 10},
		{"fractional rate rounds up", 2.5, 1, time.Second, 0, 3},
		{"more senders than messages", 2, 5, time.Second, 0, 2},
		{"cap below window", 1000, 7, 10 * time.Second, 50, 50},
		{"cap above window", 10, 2, time.Second, 500, 10},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			plan, err := NewPlan(start, tc.rate, tc.senders, tc.window, tc.maxMessages)
			if err != nil {
				t.Fatalf("NewPlan: %v", err)
			}
			if plan.Total() != tc.total {
				t.Errorf("Total() = %d, want %d", plan.Total(), tc.total)
			}
			var sum int64
			for sender := range tc.senders {
				sum += plan.Count(sender)
			}
			if sum != tc.total {
				t.Errorf("sum of Count over senders = %d, want %d", sum, tc.total)
			}
		})
	}
}

func TestPlanDueTimesInterleaveEvenly(t *testing.T) {
	plan, err := NewPlan(start, 1000, 4, time.Second, 0)
	if err != nil {
		t.Fatalf("NewPlan: %v", err)
	}
	// Message g over all senders is due g milliseconds after start, whatever
	// sender owns it.
	for sender := range 4 {
		for seq := range plan.Count(sender) {
			global := int64(sender) + seq*4
			want := start.Add(time.Duration(global) * time.Millisecond)
			if got := plan.Due(sender, seq); !got.Equal(want) {
				t.Fatalf("Due(%d, %d) = %s, want %s", sender, seq, got, want)
			}
		}
	}
	if got, want := plan.End(), start.Add(time.Second); !got.Equal(want) {
		t.Errorf("End() = %s, want %s", got, want)
	}
}

func TestPlanDueKeepsFractionalIntervals(t *testing.T) {
	// 3 messages per second: the intervals are 333.33 ms and must not drift.
	plan, err := NewPlan(start, 3, 1, 100*time.Second, 0)
	if err != nil {
		t.Fatalf("NewPlan: %v", err)
	}
	if got, want := plan.Due(0, 299), start.Add(99*time.Second+666_666_667); !got.Equal(want) {
		t.Errorf("Due(0, 299) = %s, want %s", got, want)
	}
}

func TestPlanCountOutsideRange(t *testing.T) {
	plan, err := NewPlan(start, 10, 2, time.Second, 0)
	if err != nil {
		t.Fatalf("NewPlan: %v", err)
	}
	for _, sender := range []int{-1, 2, 100} {
		if got := plan.Count(sender); got != 0 {
			t.Errorf("Count(%d) = %d, want 0", sender, got)
		}
	}
}

func TestNewPlanRejectsInvalidInput(t *testing.T) {
	cases := []struct {
		name        string
		rate        float64
		senders     int
		window      time.Duration
		maxMessages int64
	}{
		{"zero rate", 0, 1, time.Second, 0},
		{"negative rate", -5, 1, time.Second, 0},
		{"no senders", 10, 0, time.Second, 0},
		{"zero window", 10, 1, 0, 0},
		{"negative cap", 10, 1, time.Second, -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewPlan(start, tc.rate, tc.senders, tc.window, tc.maxMessages)
			if err == nil {
				t.Fatal("NewPlan returned no error")
			}
		})
	}
}

func TestSleepUntilPastDueReturnsAtOnce(t *testing.T) {
	if err := SleepUntil(context.Background(), time.Now().Add(-time.Hour)); err != nil {
		t.Fatalf("SleepUntil: %v", err)
	}
}

func TestSleepUntilStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := SleepUntil(ctx, time.Now().Add(time.Hour)); err != context.Canceled {
		t.Fatalf("SleepUntil = %v, want context.Canceled", err)
	}
}
