// Command healthcheck requests one URL and exits 0 when it returns 200 OK
// and 1 otherwise. The service images run it as their Docker HEALTHCHECK,
// because the distroless base has no shell or curl.
//
// Usage:
//
//	healthcheck [-timeout 2s] http://127.0.0.1:8080/healthz
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "healthcheck:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	flags := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	timeout := flags.Duration("timeout", 2*time.Second, "maximum time for the whole request")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if flags.NArg() != 1 {
		return fmt.Errorf("expected one URL argument, got %d", flags.NArg())
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	return check(ctx, http.DefaultClient, flags.Arg(0))
}

// check sends GET url and returns an error unless the status is 200.
func check(ctx context.Context, client *http.Client, url string) error {
	request, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	response, err := client.Do(request)
	if err != nil {
		return fmt.Errorf("get %s: %w", url, err)
	}
	defer response.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(response.Body, 64<<10))
	if response.StatusCode != http.StatusOK {
		return fmt.Errorf("get %s: status %s", url, response.Status)
	}
	return nil
}
