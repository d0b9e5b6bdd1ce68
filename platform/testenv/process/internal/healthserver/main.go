// Command healthserver is the process the harness's own tests start: it
// serves /healthz on HEALTHSERVER_ADDR, prints its arguments and a line
// per request, and on SIGTERM exits with HEALTHSERVER_EXIT_CODE (default
// 0), or ignores the signal when HEALTHSERVER_IGNORE_TERM=1.
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
)

func main() {
	listener, err := net.Listen("tcp", os.Getenv("HEALTHSERVER_ADDR"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "listen:", err)
		os.Exit(2)
	}
	fmt.Println("started with", os.Args[1:])
	http.HandleFunc("/healthz", func(writer http.ResponseWriter, _ *http.Request) {
		fmt.Println("healthz")
		writer.WriteHeader(http.StatusOK)
	})
	go func() { _ = http.Serve(listener, nil) }()

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM)
	for range signals {
		if os.Getenv("HEALTHSERVER_IGNORE_TERM") == "1" {
			fmt.Fprintln(os.Stderr, "ignoring SIGTERM")
			continue
		}
		code, _ := strconv.Atoi(os.Getenv("HEALTHSERVER_EXIT_CODE"))
		fmt.Fprintln(os.Stderr, "stopping on SIGTERM")
		os.Exit(code)
	}
}
