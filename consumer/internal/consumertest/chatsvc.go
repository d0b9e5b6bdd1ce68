package consumertest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"connectrpc.com/connect"

	chatv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/chat/v1"
	"github.com/peroxo/peroxo/schemas/gen/peroxo/chat/v1/chatv1connect"
)

// Chatsvc is a chatsvc process built from this workspace, with its
// embedded store in a temporary directory. Only the test goroutine that
// started it may call Kill and Start.
type Chatsvc struct {
	// URL is the base URL of the Connect API.
	URL string
	// Client calls the running process.
	Client chatv1connect.ChatServiceClient

	binary string
	env    []string
	cmd    *exec.Cmd
	exited chan struct{}
}

// StartChatsvc builds chatsvc, starts it on a free loopback port and waits
// until it is ready. extraEnv adds settings such as PEROXO_CHAT_CQL_HOSTS.
// The process is killed when the test ends.
func StartChatsvc(tb testing.TB, extraEnv ...string) *Chatsvc {
	tb.Helper()
	binary := filepath.Join(tb.TempDir(), "chatsvc")
	build := exec.Command("go", "build", "-o", binary, "./cmd/chatsvc")
	build.Dir = filepath.Join(moduleRoot(tb), "..", "chatsvc")
	if output, err := build.CombinedOutput(); err != nil {
		tb.Fatalf("build chatsvc: %v\n%s", err, output)
	}
	addr := freeAddr(tb)
	chat := &Chatsvc{
		URL:    "http://" + addr,
		binary: binary,
		env: append([]string{
			"PEROXO_CHAT_ADDR=" + addr,
			"PEROXO_CHAT_DATA_DIR=" + tb.TempDir(),
			"PEROXO_LOG_LEVEL=warn",
		}, extraEnv...),
	}
	chat.Client = chatv1connect.NewChatServiceClient(http.DefaultClient, chat.URL)
	chat.Start(tb)
	tb.Cleanup(chat.Kill)
	return chat
}

// Start starts the process and waits until /readyz returns 200.
func (c *Chatsvc) Start(tb testing.TB) {
	tb.Helper()
	c.cmd = exec.Command(c.binary)
	c.cmd.Env = append(os.Environ(), c.env...)
	c.cmd.Stderr = os.Stderr
	if err := c.cmd.Start(); err != nil {
		tb.Fatalf("start chatsvc: %v", err)
	}
	c.exited = make(chan struct{})
	go func(cmd *exec.Cmd, exited chan struct{}) {
		_ = cmd.Wait()
		close(exited)
	}(c.cmd, c.exited)
	deadline := time.Now().Add(30 * time.Second)
	for {
		response, err := http.Get(c.URL + "/readyz")
		if err == nil {
			response.Body.Close()
			if response.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-c.exited:
			tb.Fatalf("chatsvc exited during start")
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatalf("chatsvc not ready at %s within 30s", c.URL)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill stops the process at once, as a crash would, and waits for it to
// exit. It is idempotent.
func (c *Chatsvc) Kill() {
	if c.cmd == nil || c.cmd.Process == nil {
		return
	}
	_ = c.cmd.Process.Kill()
	<-c.exited
	c.cmd = nil
}

// History returns every message of a channel, oldest first, paging through
// GetHistory.
func (c *Chatsvc) History(
	tb testing.TB,
	project string,
	kind chatv1.ChannelKind,
	channel string,
) []*chatv1.Message {
	tb.Helper()
	var newestFirst []*chatv1.Message
	cursor := ""
	for {
		response, err := c.Client.GetHistory(context.Background(),
			connect.NewRequest(&chatv1.GetHistoryRequest{
				ProjectId:       project,
				Kind:            kind,
				ChannelId:       channel,
				BeforeMessageId: cursor,
				Limit:           200,
			}))
		if err != nil {
			tb.Fatalf("get history of %s: %v", channel, err)
		}
		newestFirst = append(newestFirst, response.Msg.GetMessages()...)
		if !response.Msg.GetHasMore() {
			break
		}
		cursor = response.Msg.GetNextCursor()
	}
	slices.Reverse(newestFirst)
	return newestFirst
}

func freeAddr(tb testing.TB) string {
	tb.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("find a free port: %v", err)
	}
	defer listener.Close()
	return listener.Addr().String()
}

// moduleRoot returns the consumer module's directory.
func moduleRoot(tb testing.TB) string {
	tb.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		tb.Fatal(errors.New("locate consumertest source"))
	}
	root := filepath.Join(filepath.Dir(file), "..", "..")
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		tb.Fatal(fmt.Errorf("find consumer module at %s: %w", root, err))
	}
	return root
}
