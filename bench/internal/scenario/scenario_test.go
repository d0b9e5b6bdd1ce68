package scenario

import (
	"io"
	"log/slog"
	"testing"
	"time"
)

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestDMCountsEveryDelivery(t *testing.T) {
	url := startProtocolServer(t, &protocolServer{})
	rep, err := Run(t.Context(), testOptions(url, DM), discard)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if rep.Sent != 100 {
		t.Errorf("Sent = %d, want 100 (200 msg/s for 0.5 s)", rep.Sent)
	}
	if rep.Delivered != rep.Sent {
		t.Errorf("Delivered = %d, want %d", rep.Delivered, rep.Sent)
	}
	if rep.Missing != 0 {
		t.Errorf("Missing = %d, want 0", rep.Missing)
	}
	if rep.Duplicates != 0 {
		t.Errorf("Duplicates = %d, want 0", rep.Duplicates)
	}
	if rep.AcksPersisted != rep.Sent {
		t.Errorf("AcksPersisted = %d, want %d", rep.AcksPersisted, rep.Sent)
	}
	if rep.DeliveryLatency == nil || rep.DeliveryLatency.Count != rep.Sent {
		t.Errorf("DeliveryLatency = %+v, want %d samples", rep.DeliveryLatency, rep.Sent)
	}
	if rep.AckLatency == nil || rep.AckLatency.Count != rep.Sent {
		t.Errorf("AckLatency = %+v, want %d samples", rep.AckLatency, rep.Sent)
	}
	if rep.Connections != 4 {
		t.Errorf("Connections = %d, want 4", rep.Connections)
	}
}

func TestDMDetectsDropsAndDuplicates(t *testing.T) {
	url := startProtocolServer(t, &protocolServer{dropEvery: 10, duplicateEvery: 7})
	options := testOptions(url, DM)
	options.Drain = 300 * time.Millisecond
	rep, err := Run(t.Context(), options, discard)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	// Of 100 messages, numbers 10..100 step 10 are dropped (10) and
	// 7..98 step 7 are doubled (14), except 70, which is doubled instead of
	// dropped because the duplicate check runs last.
	if rep.Missing != 9 {
		t.Errorf("Missing = %d, want 9", rep.Missing)
	}
	if rep.Duplicates != 14 {
		t.Errorf("Duplicates = %d, want 14", rep.Duplicates)
	}
	if rep.Delivered != 91 {
		t.Errorf("Delivered = %d, want 91", rep.Delivered)
	}
}

func TestFanoutDeliversToEveryMember(t *testing.T) {
	url := startProtocolServer(t, &protocolServer{})
	rep, err := Run(t.Context(), testOptions(url, Fanout), discard)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if rep.Expected != rep.Sent*5 {
		t.Errorf("Expected = %d, want %d (5 members)", rep.Expected, rep.Sent*5)
	}
	if rep.Delivered != rep.Expected {
		t.Errorf("Delivered = %d, want %d", rep.Delivered, rep.Expected)
	}
	if rep.Duplicates != 0 {
		t.Errorf("Duplicates = %d, want 0", rep.Duplicates)
	}
	if rep.InWindowShare <= 0 || rep.InWindowShare > 1 {
		t.Errorf("InWindowShare = %v, want in (0, 1]", rep.InWindowShare)
	}
}

func TestIdleReportsMemoryPerConnection(t *testing.T) {
	url := startProtocolServer(t, &protocolServer{})
	rep, err := Run(t.Context(), testOptions(url, Idle), discard)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if rep.Memory == nil {
		t.Fatal("Memory = nil")
	}
	if rep.Memory.Connections != 10 {
		t.Errorf("Memory.Connections = %d, want 10", rep.Memory.Connections)
	}
	if rep.Memory.GatewayActive != 10 {
		t.Errorf("Memory.GatewayActive = %v, want 10", rep.Memory.GatewayActive)
	}
	if rep.Memory.RSSPerConn != 1000 {
		t.Errorf("RSSPerConn = %v, want 1000", rep.Memory.RSSPerConn)
	}
	if rep.Memory.HeapInusePerConn != 500 {
		t.Errorf("HeapInusePerConn = %v, want 500", rep.Memory.HeapInusePerConn)
	}
	if rep.Memory.GoroutinesPerConn != 1 {
		t.Errorf("GoroutinesPerConn = %v, want 1", rep.Memory.GoroutinesPerConn)
	}
}

func TestChurnConnectsOnSchedule(t *testing.T) {
	url := startProtocolServer(t, &protocolServer{})
	rep, err := Run(t.Context(), testOptions(url, Churn), discard)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if rep.ConnectAttempts != 10 {
		t.Errorf("ConnectAttempts = %d, want 10 (20/s for 0.5 s)", rep.ConnectAttempts)
	}
	if rep.ConnectErrors != 0 {
		t.Errorf("ConnectErrors = %d, want 0", rep.ConnectErrors)
	}
	if rep.Delivered != rep.Expected {
		t.Errorf("Delivered = %d, want %d", rep.Delivered, rep.Expected)
	}
}
