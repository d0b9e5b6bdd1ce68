package webtest

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/chromedp/chromedp"

	"github.com/peroxo/peroxo/platform/testenv"
	chatv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/chat/v1"
	"github.com/peroxo/peroxo/schemas/gen/peroxo/chat/v1/chatv1connect"
)

// UpdateScreenshotVar names the variable that makes the test overwrite
// docs/web-client.png with its screenshot. Without it the screenshot goes
// to a temporary directory, so a test run leaves the repository unchanged.
const UpdateScreenshotVar = "PEROXO_UPDATE_SCREENSHOT"

func TestWebClientEndToEnd(t *testing.T) {
	chromium := testenv.Service(t, "PEROXO_TEST_CHROMIUM")
	binaries := buildServices(t)
	sys := startSystem(t, binaries)
	browser := newBrowser(t, chromium)
	alice := newPage(t, browser, "alice")
	bob := newPage(t, browser, "bob")
	base := sys.baseURL()

	alice.signIn(base, "alice")
	bob.signIn(base, "bob")
	alice.waitUntil("bob listed online", onlineListed("bob"))
	bob.waitUntil("alice listed online", onlineListed("alice"))

	// Direct messages in both directions.
	direct := []string{"Hi Bob, are you there?"}
	alice.openDirect("bob")
	alice.send(direct[0])
	alice.waitForMessage(direct[0], "persisted")
	bob.openChannel("alice")
	bob.waitForMessage(direct[0], "received")

	direct = append(direct, "Hi Alice! Yes, reading you loud and clear.")
	bob.send(direct[1])
	bob.waitForMessage(direct[1], "persisted")
	alice.waitForMessage(direct[1], "received")

	// Room messages in both directions.
	room := []string{"Hello lobby, anyone around?", "Bob here, hello from the lobby."}
	alice.joinRoom("lobby")
	bob.joinRoom("lobby")
	alice.send(room[0])
	bob.waitForMessage(room[0], "received")
	bob.send(room[1])
	alice.waitForMessage(room[1], "received")
	alice.waitForMessage(room[0], "persisted")

	// An Error frame shows on the message that caused it: the content is over
	// the gateway's default message limit (8192 bytes) but under its frame
	// limit (65536 bytes), so the session stays open.
	alice.joinRoom("limits")
	tooLong := strings.Repeat("x", 9000)
	alice.do(chromedp.SetValue(chromedp.ID("composer-input"), tooLong))
	alice.send("")
	alice.waitUntil("oversized message marked failed with a reason",
		`[...document.querySelectorAll("#message-list li.message")].some((e) =>
			e.dataset.status === "failed"
			&& e.querySelector(".status-text").textContent.startsWith("Failed: "))`)
	alice.do(chromedp.Click(chromedp.ID("leave-room")))
	alice.waitUntil("room limits left", `![...document.querySelectorAll(".channel-name")]
		.some((e) => e.textContent === "# limits")`)

	// A longer conversation for the screenshot.
	alice.openChannel("bob")
	bob.openChannel("alice")
	for _, line := range []string{
		"The gateway restart is scheduled for this afternoon.",
		"Good, the client reconnects by itself and syncs what it missed.",
	} {
		direct = append(direct, line)
		alice.send(line)
		alice.waitForMessage(line, "persisted")
		bob.waitForMessage(line, "received")
	}
	bob.send("Perfect. I will keep this tab open and watch.")
	direct = append(direct, "Perfect. I will keep this tab open and watch.")
	alice.waitForMessage(direct[len(direct)-1], "received")
	bob.waitForMessage(direct[len(direct)-1], "persisted")
	saveScreenshot(t, alice)
	alice.checkLabels()

	// A reload shows the stored history of the open conversation and of
	// the rooms the page had joined.
	conversation := evaluate[string](bob, `JSON.parse(sessionStorage.getItem("peroxo.view")).active`)
	project := evaluate[string](bob, `JSON.parse(sessionStorage.getItem("peroxo.session")).projectId`)
	waitProjected(t, sys, project, chatv1.ChannelKind_CHANNEL_KIND_DIRECT,
		strings.TrimPrefix(conversation, "dm:"), len(direct))
	waitProjected(t, sys, project, chatv1.ChannelKind_CHANNEL_KIND_ROOM, "lobby", len(room))
	bob.do(chromedp.Reload())
	bob.waitOnline()
	bob.waitUntil("history shown after reload", messageCount(len(direct)))
	bob.checkMessages(direct)
	bob.openChannel("# lobby")
	bob.waitUntil("room history shown after reload", messageCount(len(room)))
	bob.checkMessages(room)
	bob.openChannel("alice")

	// Restart the gateway mid-conversation: one message goes out just
	// before the stop, one while it is down.
	justBefore := "Sent just before the gateway stops."
	whileDown := "Sent while the gateway is down."
	alice.send(justBefore)
	sys.restartGateway(t, func() {
		alice.waitOffline()
		bob.waitOffline()
		alice.send(whileDown)
		alice.waitForMessage(whileDown, "sending")
	})
	direct = append(direct, justBefore, whileDown)
	alice.waitOnline()
	bob.waitOnline()
	alice.waitForMessage(justBefore, "persisted")
	alice.waitForMessage(whileDown, "persisted")
	bob.waitForMessage(justBefore, "received")
	bob.waitForMessage(whileDown, "received")

	afterRestart := "Back online, and nothing was lost."
	direct = append(direct, afterRestart)
	bob.send(afterRestart)
	alice.waitForMessage(afterRestart, "received")
	bob.waitForMessage(afterRestart, "persisted")
	alice.checkMessages(direct)
	bob.checkMessages(direct)

	// Rooms are joined again after the restart.
	roomAfter := "The lobby survived the restart too."
	room = append(room, roomAfter)
	alice.openChannel("# lobby")
	alice.waitUntil("lobby joined again", `document.getElementById("chat-subtitle")
		.textContent.includes("member")`)
	bob.openChannel("# lobby")
	bob.waitUntil("lobby joined again", `document.getElementById("chat-subtitle")
		.textContent.includes("member")`)
	alice.send(roomAfter)
	bob.waitForMessage(roomAfter, "received")
	alice.waitForMessage(roomAfter, "persisted")
	alice.checkMessages(room)
	bob.checkMessages(room)

	alice.checkHealthy()
	bob.checkHealthy()
}

// onlineListed returns an expression that is true when the page's online
// list shows user.
func onlineListed(user string) string {
	return `[...document.querySelectorAll("#online-list li")].some((e) => e.dataset.user === ` +
		jsString(user) + `)`
}

// messageCount returns an expression that is true when the open
// conversation shows at least count messages.
func messageCount(count int) string {
	return `document.querySelectorAll("#message-list li.message").length >= ` +
		strconv.Itoa(count)
}

// waitProjected waits until chatsvc stores at least count messages of a
// channel. The consumer projects the event log into history
// asynchronously, so a history check starts only after this.
func waitProjected(tb testing.TB, sys *system, project string, kind chatv1.ChannelKind,
	channel string, count int) {
	tb.Helper()
	client := chatv1connect.NewChatServiceClient(http.DefaultClient, "http://"+sys.chatsvc.addr)
	deadline := time.Now().Add(waitTimeout)
	ticker := time.NewTicker(100 * time.Millisecond)
	defer ticker.Stop()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		response, err := client.GetHistory(ctx, connect.NewRequest(&chatv1.GetHistoryRequest{
			ProjectId: project,
			Kind:      kind,
			ChannelId: channel,
			Limit:     200,
		}))
		cancel()
		if err == nil && len(response.Msg.GetMessages()) >= count {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("chatsvc history of %s %s has not reached %d messages within %s (last error: %v)",
				kind, channel, count, waitTimeout, err)
		}
		<-ticker.C
	}
}

// saveScreenshot captures the page. It overwrites docs/web-client.png when
// UpdateScreenshotVar is "1" and writes to a temporary file otherwise.
func saveScreenshot(tb testing.TB, p *page) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, waitTimeout)
	defer cancel()
	image, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		tb.Fatalf("capture screenshot: %v", err)
	}
	path := filepath.Join(tb.TempDir(), "web-client.png")
	if os.Getenv(UpdateScreenshotVar) == "1" {
		path = filepath.Join(repositoryRoot(tb), "docs", "web-client.png")
	}
	if err := os.WriteFile(path, image, 0o644); err != nil {
		tb.Fatalf("write screenshot: %v", err)
	}
	tb.Logf("screenshot written to %s", path)
}
