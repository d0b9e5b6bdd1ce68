// Package config loads service settings from PEROXO_-prefixed environment
// variables into a struct and reports invalid values by their variable name.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/caarlos0/env/v11"
)

// SettingError reports one setting whose value is invalid.
type SettingError struct {
	Name   string // environment variable, e.g. PEROXO_GATEWAY_ADDR
	Value  string
	Reason string
}

func (e *SettingError) Error() string {
	return fmt.Sprintf("invalid setting %s=%q: %s", e.Name, e.Value, e.Reason)
}

// Invalid returns a [SettingError] for the named setting.
func Invalid(name, value, reason string) error {
	return &SettingError{Name: name, Value: value, Reason: reason}
}

// Load fills cfg, a pointer to a struct with `env` and `envDefault` tags,
// from the process environment. A value that does not parse is returned as a
// [SettingError] naming the environment variable.
func Load(cfg any) error {
	return LoadFrom(cfg, nil)
}

// LoadFrom is [Load] with an explicit environment; a nil map means the
// process environment. Tests use it to avoid touching global state.
func LoadFrom(cfg any, environment map[string]string) error {
	opts := env.Options{}
	if environment != nil {
		opts.Environment = environment
	}
	err := env.ParseWithOptions(cfg, opts)
	if err == nil {
		return nil
	}
	var aggregate env.AggregateError
	if !errors.As(err, &aggregate) {
		return fmt.Errorf("load settings: %w", err)
	}
	lookup := func(name string) string {
		if environment != nil {
			return environment[name]
		}
		return os.Getenv(name)
	}
	for _, cause := range aggregate.Errors {
		var parseErr env.ParseError
		if errors.As(cause, &parseErr) {
			name := envName(reflect.TypeOf(cfg), parseErr.Name)
			return Invalid(name, lookup(name), describeParseError(parseErr))
		}
	}
	return fmt.Errorf("load settings: %w", err)
}

// UnknownSettings returns, sorted, the environment variables that start
// with prefix but that no field of cfg reads: most likely misspelled
// settings, which would otherwise be ignored without a word. A nil
// environment means the process environment. Only names are returned, as
// values may be secrets.
func UnknownSettings(cfg any, prefix string, environment map[string]string) ([]string, error) {
	params, err := env.GetFieldParams(cfg)
	if err != nil {
		return nil, fmt.Errorf("list settings: %w", err)
	}
	known := make(map[string]bool, len(params))
	for _, param := range params {
		known[param.Key] = true
	}
	if environment == nil {
		environment = make(map[string]string)
		for _, pair := range os.Environ() {
			name, value, _ := strings.Cut(pair, "=")
			environment[name] = value
		}
	}
	var unknown []string
	for name := range environment {
		if strings.HasPrefix(name, prefix) && !known[name] {
			unknown = append(unknown, name)
		}
	}
	slices.Sort(unknown)
	return unknown, nil
}

// LogUnknownSettings logs one warning that lists the names
// [UnknownSettings] returns, if it returns any.
func LogUnknownSettings(logger *slog.Logger, cfg any, prefix string) {
	unknown, err := UnknownSettings(cfg, prefix, nil)
	if err != nil {
		logger.Warn("could not list the known settings", "err", err)
		return
	}
	if len(unknown) > 0 {
		logger.Warn("ignoring environment variables that name no setting; "+
			"check their spelling against docs/operations.md", "names", unknown)
	}
}

// envName finds the environment variable of the struct field called field.
func envName(typ reflect.Type, field string) string {
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	if typ.Kind() != reflect.Struct {
		return field
	}
	for i := range typ.NumField() {
		sf := typ.Field(i)
		if sf.Name == field {
			name, _, _ := strings.Cut(sf.Tag.Get("env"), ",")
			return name
		}
		if sf.Type.Kind() == reflect.Struct {
			if name := envName(sf.Type, field); name != field {
				return name
			}
		}
	}
	return field
}

func describeParseError(err env.ParseError) string {
	var numErr *strconv.NumError
	if errors.As(err.Err, &numErr) {
		return fmt.Sprintf("not a valid %s", err.Type)
	}
	if err.Type.String() == "time.Duration" {
		return "not a valid duration (examples: 500ms, 10s, 5m)"
	}
	return err.Err.Error()
}

// CheckAddr validates a listen or dial address of the form host:port.
func CheckAddr(name, value string) error {
	_, port, err := net.SplitHostPort(value)
	if err != nil {
		return Invalid(name, value, "expected host:port, e.g. 127.0.0.1:8080")
	}
	number, err := strconv.Atoi(port)
	if err != nil || number < 0 || number > 65535 {
		return Invalid(name, value, "port must be a number from 0 to 65535")
	}
	return nil
}

// EnsureDir creates the directory path if needed and checks that it is
// writable.
func EnsureDir(name, path string) error {
	if path == "" {
		return Invalid(name, path, "must not be empty")
	}
	if err := os.MkdirAll(path, 0o750); err != nil {
		var pathErr *os.PathError
		if errors.As(err, &pathErr) {
			err = pathErr.Err
		}
		return Invalid(name, path, "cannot create directory: "+err.Error())
	}
	probe, err := os.CreateTemp(path, ".write-check-*")
	if err != nil {
		return Invalid(name, path, "directory is not writable")
	}
	probe.Close()
	os.Remove(probe.Name())
	return nil
}

// CheckPositive validates that a numeric setting is greater than zero.
func CheckPositive[T int | int64 | float64](name string, value T) error {
	if value <= 0 {
		return Invalid(name, fmt.Sprint(value), "must be greater than zero")
	}
	return nil
}
