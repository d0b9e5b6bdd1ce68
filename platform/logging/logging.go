// Package logging builds the structured logger every service uses.
package logging

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// Settings selects the log level and encoding. Services embed it in their
// configuration so that every process reads the same two variables.
type Settings struct {
	Level  string `env:"PEROXO_LOG_LEVEL" envDefault:"info"`
	Format string `env:"PEROXO_LOG_FORMAT" envDefault:"text"`
}

// New returns a logger writing to w at the configured level, with the
// service name attached to every record.
func New(w io.Writer, settings Settings, service string) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(settings.Level)); err != nil {
		return nil, fmt.Errorf(
			"invalid setting PEROXO_LOG_LEVEL=%q: expected debug, info, warn or error",
			settings.Level)
	}
	options := &slog.HandlerOptions{Level: level}
	var handler slog.Handler
	switch strings.ToLower(settings.Format) {
	case "text":
		handler = slog.NewTextHandler(w, options)
	case "json":
		handler = slog.NewJSONHandler(w, options)
	default:
		return nil, fmt.Errorf(
			"invalid setting PEROXO_LOG_FORMAT=%q: expected text or json", settings.Format)
	}
	return slog.New(handler).With("service", service), nil
}
