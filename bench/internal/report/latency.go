// Package report collects what a load run measures (latency histograms,
// duplicate detection, counts) and prints the result as a table for people
// and as one JSON line for scripts.
package report

import (
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Histograms record microseconds from 1 µs to 10 minutes with three
// significant digits; a longer latency is clamped to the maximum.
const (
	minMicros   = 1
	maxMicros   = int64(10 * time.Minute / time.Microsecond)
	sigFigures  = 3
	shardsFloor = 8
)

// Recorder is a latency histogram that many goroutines record into. It
// spreads writers over shards, each guarded by its own mutex, so receivers
// rarely wait on each other. Safe for concurrent use.
type Recorder struct {
	shards []recorderShard
}

type recorderShard struct {
	mu        sync.Mutex
	histogram *hdrhistogram.Histogram
	_         [40]byte // keeps neighbouring shards off one cache line
}

// NewRecorder returns an empty Recorder with at least shards shards.
func NewRecorder(shards int) *Recorder {
	shards = max(shards, shardsFloor)
	r := &Recorder{shards: make([]recorderShard, shards)}
	for i := range r.shards {
		r.shards[i].histogram = hdrhistogram.New(minMicros, maxMicros, sigFigures)
	}
	return r
}

// Record adds one latency. key picks the shard; callers pass a stable
// per-goroutine value such as a connection index. A negative latency, which
// only a wall-clock step can cause, is recorded as zero.
func (r *Recorder) Record(key int, latency time.Duration) {
	micros := min(max(latency.Microseconds(), 0), maxMicros)
	shard := &r.shards[uint(key)%uint(len(r.shards))]
	shard.mu.Lock()
	_ = shard.histogram.RecordValue(micros)
	shard.mu.Unlock()
}

// Merged returns one histogram with every recorded value.
func (r *Recorder) Merged() *hdrhistogram.Histogram {
	merged := hdrhistogram.New(minMicros, maxMicros, sigFigures)
	for i := range r.shards {
		shard := &r.shards[i]
		shard.mu.Lock()
		merged.Merge(shard.histogram)
		shard.mu.Unlock()
	}
	return merged
}

// Latency summarises a histogram in milliseconds.
type Latency struct {
	Count int64   `json:"count"`
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p99_9"`
	Max   float64 `json:"max"`
}

// Summarize returns the percentiles of histogram, which holds microseconds,
// in milliseconds. It returns nil for an empty histogram.
func Summarize(histogram *hdrhistogram.Histogram) *Latency {
	if histogram.TotalCount() == 0 {
		return nil
	}
	toMillis := func(micros int64) float64 { return float64(micros) / 1000 }
	return &Latency{
		Count: histogram.TotalCount(),
		Mean:  histogram.Mean() / 1000,
		P50:   toMillis(histogram.ValueAtQuantile(50)),
		P90:   toMillis(histogram.ValueAtQuantile(90)),
		P99:   toMillis(histogram.ValueAtQuantile(99)),
		P999:  toMillis(histogram.ValueAtQuantile(99.9)),
		Max:   toMillis(histogram.Max()),
	}
}
