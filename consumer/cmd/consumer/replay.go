package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/peroxo/peroxo/consumer/internal/replay"
)

// replayFlags are the options of consumer replay.
type replayFlags struct {
	since     time.Time
	fromSeq   uint64
	project   string
	batchSize int
}

// parseReplayFlags parses the replay flags; a batch size of 0 means
// PEROXO_CONSUMER_BATCH_SIZE.
func parseReplayFlags(args []string, now time.Time) (replayFlags, error) {
	var parsed replayFlags
	var since string
	set := flag.NewFlagSet("consumer replay", flag.ContinueOnError)
	set.StringVar(&since, "since", "",
		"replay events stored at or after this time: RFC 3339 (2026-01-02T15:04:05Z) "+
			"or a duration before now (24h)")
	set.Uint64Var(&parsed.fromSeq, "from-seq", 0, "replay events from this stream sequence")
	set.StringVar(&parsed.project, "project", "", "replay only this project id's events")
	set.IntVar(&parsed.batchSize, "batch-size", 0,
		"events per AppendMessages call (default PEROXO_CONSUMER_BATCH_SIZE)")
	set.Usage = func() {
		fmt.Fprintln(set.Output(), "Usage: consumer replay [--since TIME | --from-seq N] "+
			"[--project ID]\n\nRe-project the chat stream into the chatsvc at "+
			"PEROXO_CONSUMER_CHAT_URL.\nWrites are idempotent, so replaying "+
			"events that history already holds\nonly counts them as duplicates.")
		set.PrintDefaults()
	}
	if err := set.Parse(args); err != nil {
		return parsed, err
	}
	if set.NArg() > 0 {
		return parsed, fmt.Errorf("unexpected arguments %q", set.Args())
	}
	if since != "" && parsed.fromSeq > 0 {
		return parsed, errors.New("use either --since or --from-seq, not both")
	}
	if parsed.batchSize < 0 {
		return parsed, fmt.Errorf("invalid --batch-size %d: must not be negative", parsed.batchSize)
	}
	if since != "" {
		start, err := parseSince(since, now)
		if err != nil {
			return parsed, err
		}
		parsed.since = start
	}
	return parsed, nil
}

func parseSince(value string, now time.Time) (time.Time, error) {
	if start, err := time.Parse(time.RFC3339, value); err == nil {
		return start, nil
	}
	duration, err := time.ParseDuration(value)
	if err != nil || duration <= 0 {
		return time.Time{}, fmt.Errorf("invalid --since %q: expected an RFC 3339 time "+
			"such as 2026-01-02T15:04:05Z or a positive duration such as 24h", value)
	}
	return now.Add(-duration), nil
}

func runReplay(ctx context.Context, args []string) error {
	flags, err := parseReplayFlags(args, time.Now())
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	cfg, logger, conn, js, err := setup()
	if err != nil {
		return err
	}
	defer conn.Close()
	if flags.batchSize == 0 {
		flags.batchSize = cfg.BatchSize
	}
	logger.Info("replay starting", "nats", cfg.NATSURL, "chatsvc", cfg.ChatURL,
		"since", flags.since, "from_seq", flags.fromSeq, "project", flags.project)
	summary, err := replay.Run(ctx, js, newWriter(cfg), replay.Options{
		Since:         flags.since,
		FromSeq:       flags.fromSeq,
		Project:       flags.project,
		BatchSize:     flags.batchSize,
		WriteAttempts: 5,
		Progress:      replay.NewProgress(os.Stderr, logger, 5*time.Second),
	}, logger)
	fmt.Println(formatSummary(summary))
	return err
}

func formatSummary(summary replay.Summary) string {
	var out strings.Builder
	fmt.Fprintf(&out, "events read:  %d (stream last sequence at start: %d)\n",
		summary.Read, summary.LastSequence)
	fmt.Fprintf(&out, "appended:     %d\n", summary.Appended)
	fmt.Fprintf(&out, "duplicates:   %d\n", summary.Duplicates)
	fmt.Fprintf(&out, "malformed:    %d (skipped)\n", summary.Malformed)
	fmt.Fprintf(&out, "duration:     %s\n", summary.Duration.Round(time.Millisecond))
	fmt.Fprintf(&out, "rate:         %.0f events/s", summary.Rate())
	return out.String()
}
