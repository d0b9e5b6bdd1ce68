package report

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestWindowObserve(t *testing.T) {
	cases := []struct {
		name string
		seqs []int64
		want []Seen
	}{
		{"in order", []int64{0, 1, 2}, []Seen{SeenNew, SeenNew, SeenNew}},
		{"repeat", []int64{0, 1, 1, 0}, []Seen{SeenNew, SeenNew, SeenDuplicate, SeenDuplicate}},
		{"reordered", []int64{5, 3, 4, 3}, []Seen{SeenNew, SeenNew, SeenNew, SeenDuplicate}},
		{"gap then fill", []int64{0, 100, 50, 50}, []Seen{SeenNew, SeenNew, SeenNew, SeenDuplicate}},
		{
			"below window",
			[]int64{0, WindowSize, 0, 1},
			[]Seen{SeenNew, SeenNew, SeenTooOld, SeenNew},
		},
		{
			"jump past window forgets old bits",
			[]int64{7, 3*WindowSize + 7, 2*WindowSize + 8},
			[]Seen{SeenNew, SeenNew, SeenNew},
		},
		{
			"slot reused after advance",
			[]int64{1, WindowSize + 1, WindowSize + 1},
			[]Seen{SeenNew, SeenNew, SeenDuplicate},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			window := NewWindow()
			for i, seq := range tc.seqs {
				if got := window.Observe(seq); got != tc.want[i] {
					t.Errorf("Observe(%d) at step %d = %d, want %d", seq, i, got, tc.want[i])
				}
			}
		})
	}
}

func TestWindowAdvanceClearsSkippedSlots(t *testing.T) {
	window := NewWindow()
	// Fill the whole window, then move it forward by half: the numbers that
	// entered the window unseen must read as new.
	for seq := range int64(WindowSize) {
		window.Observe(seq)
	}
	window.Observe(WindowSize + WindowSize/2)
	for seq := int64(WindowSize); seq < WindowSize+WindowSize/2; seq++ {
		if got := window.Observe(seq); got != SeenNew {
			t.Fatalf("Observe(%d) = %d, want SeenNew", seq, got)
		}
	}
}

func TestSummarizePercentiles(t *testing.T) {
	recorder := NewRecorder(4)
	// 1..1000 ms, one value each: percentile p sits at p*10 ms.
	var wg sync.WaitGroup
	for worker := range 4 {
		wg.Go(func() {
			for ms := worker + 1; ms <= 1000; ms += 4 {
				recorder.Record(worker, time.Duration(ms)*time.Millisecond)
			}
		})
	}
	wg.Wait()
	latency := Summarize(recorder.Merged())
	if latency == nil {
		t.Fatal("Summarize returned nil for a non-empty histogram")
	}
	checks := []struct {
		name      string
		got, want float64
	}{
		{"p50", latency.P50, 500},
		{"p90", latency.P90, 900},
		{"p99", latency.P99, 990},
		{"p99.9", latency.P999, 999},
		{"max", latency.Max, 1000},
		{"mean", latency.Mean, 500.5},
	}
	for _, check := range checks {
		// Three significant digits: values may be off by 0.1%.
		if math.Abs(check.got-check.want) > check.want*0.001+0.001 {
			t.Errorf("%s = %.3f ms, want %.3f ms", check.name, check.got, check.want)
		}
	}
	if latency.Count != 1000 {
		t.Errorf("Count = %d, want 1000", latency.Count)
	}
}

func TestRecorderClampsOutOfRange(t *testing.T) {
	recorder := NewRecorder(1)
	recorder.Record(0, -time.Second)
	recorder.Record(0, time.Hour)
	latency := Summarize(recorder.Merged())
	if latency.Count != 2 {
		t.Fatalf("Count = %d, want 2", latency.Count)
	}
	if latency.P50 != 0 {
		t.Errorf("P50 = %v ms, want 0 for a negative latency", latency.P50)
	}
	if max := float64(maxMicros) / 1000; math.Abs(latency.Max-max) > max*0.001 {
		t.Errorf("Max = %v ms, want about %v ms", latency.Max, max)
	}
}

func TestSummarizeEmpty(t *testing.T) {
	if got := Summarize(NewRecorder(1).Merged()); got != nil {
		t.Errorf("Summarize(empty) = %+v, want nil", got)
	}
}

func TestShare(t *testing.T) {
	if got := Share(1, 4); got != 0.25 {
		t.Errorf("Share(1, 4) = %v, want 0.25", got)
	}
	if got := Share(5, 0); got != 0 {
		t.Errorf("Share(5, 0) = %v, want 0", got)
	}
}

func TestReportOutputs(t *testing.T) {
	r := &Report{
		Scenario:        "dm",
		Target:          "ws://127.0.0.1:18080/ws",
		Connections:     4,
		Senders:         4,
		OfferedRate:     100,
		Window:          1,
		Sent:            100,
		Expected:        100,
		Delivered:       99,
		InWindowShare:   0.97,
		Missing:         1,
		Throughput:      98.5,
		DeliveryLatency: &Latency{Count: 99, P50: 0.5, P99: 2, Max: 3},
		AcksPersisted:   100,
		AckLatency:      &Latency{Count: 100, P50: 1, P99: 4, Max: 5},
		ErrorFrames:     map[string]int64{"rate_limited": 2},
		Disconnects:     3,
		Closes:          map[string]int64{"close 4002": 3},
	}
	var line bytes.Buffer
	if err := r.WriteJSON(&line); err != nil {
		t.Fatalf("WriteJSON: %v", err)
	}
	if strings.Count(line.String(), "\n") != 1 {
		t.Errorf("WriteJSON wrote %q, want exactly one line", line.String())
	}
	var decoded map[string]any
	if err := json.Unmarshal(line.Bytes(), &decoded); err != nil {
		t.Fatalf("decode JSON line: %v", err)
	}
	for _, key := range []string{"delivery_latency_ms", "ack_latency_ms", "in_window_share", "missing"} {
		if _, ok := decoded[key]; !ok {
			t.Errorf("JSON line has no %q: %s", key, line.String())
		}
	}
	if _, ok := decoded["gateway_memory"]; ok {
		t.Errorf("JSON line has gateway_memory although the run measured none")
	}

	var table bytes.Buffer
	if err := r.WriteTable(&table); err != nil {
		t.Fatalf("WriteTable: %v", err)
	}
	for _, want := range []string{
		"99 of 100 expected (99.000%)",
		"97.000% of expected",
		"p99 2.000",
		"100 persisted, 0 failed, 0 missing",
		"rate_limited: 2",
		"close 4002: 3",
	} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table has no %q:\n%s", want, table.String())
		}
	}
}
