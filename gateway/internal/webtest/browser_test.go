package webtest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// waitTimeout bounds every wait for the page. It only stops a hung test;
// no check depends on how fast the page is.
const waitTimeout = 90 * time.Second

// newBrowser starts headless Chromium from path with a fresh profile and
// returns the context of its first tab. Cleanup closes the browser.
func newBrowser(tb testing.TB, path string) context.Context {
	tb.Helper()
	allocatorCtx, cancelAllocator := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(tb.TempDir()),
	)
	browserCtx, cancelBrowser := chromedp.NewContext(allocatorCtx)
	tb.Cleanup(func() {
		cancelBrowser()
		cancelAllocator()
	})
	// The first run starts the browser process.
	if err := chromedp.Do(browserCtx); err != nil {
		tb.Fatalf("start chromium %s: %v", path, err)
	}
	return browserCtx
}

// page is one tab in its own browser context, so two pages share no
// cookies or storage, like two people on two machines.
type page struct {
	tb   testing.TB
	name string
	ctx  context.Context

	mu       sync.Mutex
	problems []string
	console  []string
}

// consoleKept bounds the console lines a page keeps for failure messages.
const consoleKept = 40

// newPage opens a tab in a new browser context of browser and records
// uncaught exceptions and the browser's security and network errors, such
// as Content-Security-Policy violations, for checkHealthy.
func newPage(tb testing.TB, browser context.Context, name string) *page {
	tb.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	tb.Cleanup(cancel)
	p := &page{tb: tb, name: name, ctx: ctx}
	// The first run creates the tab and binds it to the context it gets, so
	// it must get ctx itself and not a context with a timeout.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		tb.Fatalf("open tab for %s: %v", name, err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for message, err := range messages {
			if err != nil {
				return
			}
			p.mu.Lock()
			if message.IsException() || message.Source == "security" {
				p.problems = append(p.problems, message.String())
			}
			p.console = append(p.console, message.String())
			if len(p.console) > consoleKept {
				p.console = p.console[1:]
			}
			p.mu.Unlock()
		}
	}()
	return p
}

// do runs actions in the page and fails the test on an error.
func (p *page) do(actions ...chromedp.Action[chromedp.Void]) {
	p.tb.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, waitTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.tb.Fatalf("%s: %v\nstatus: %s", p.name, err, p.describe())
	}
}

// waitUntil polls the JavaScript expression until it is truthy.
func (p *page) waitUntil(what, expression string) {
	p.tb.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, waitTimeout)
	defer cancel()
	poll := chromedp.Poll[bool](expression,
		chromedp.WithPollingInterval(50*time.Millisecond),
		chromedp.WithPollingTimeout(waitTimeout))
	if _, err := chromedp.Run(ctx, poll); err != nil {
		p.tb.Fatalf("%s: waiting until %s: %v\nstatus: %s", p.name, what, err, p.describe())
	}
}

// evaluate runs a JavaScript expression and decodes its result into T.
func evaluate[T any](p *page, expression string) T {
	p.tb.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, waitTimeout)
	defer cancel()
	value, err := chromedp.Run(ctx, chromedp.Evaluate[T](expression))
	if err != nil {
		p.tb.Fatalf("%s: evaluate %s: %v", p.name, expression, err)
	}
	return value
}

// describe returns the page's connection status and visible errors, for
// failure messages.
func (p *page) describe() string {
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[
		"connection: " + document.getElementById("connection-status").textContent.trim(),
		"open: " + document.getElementById("chat-title").textContent,
		"message box: " + document.getElementById("composer-input").value.length +
			" characters" + (document.getElementById("composer-input").disabled ? ", disabled" : ""),
		"messages: " + [...document.querySelectorAll("#message-list li.message")]
			.map((e) => e.dataset.status + " " + JSON.stringify(e.querySelector(".content").textContent))
			.join(", "),
		...[...document.querySelectorAll(".form-error, #history-status")]
			.filter((e) => e.textContent.trim())
			.map((e) => e.id + ": " + e.textContent.trim()),
	].join("; ")`))
	if err != nil {
		text = fmt.Sprintf("(unavailable: %v)", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return text + "\nconsole:\n  " + strings.Join(p.console, "\n  ")
}

// checkHealthy fails the test when the page threw an uncaught exception
// or the browser reported a security error.
func (p *page) checkHealthy() {
	p.tb.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, problem := range p.problems {
		p.tb.Errorf("%s: browser reported %s", p.name, problem)
	}
}

// checkLabels fails the test when a visible form control has no label or
// a visible button has no accessible name, which screen readers and voice
// control need.
func (p *page) checkLabels() {
	p.tb.Helper()
	unlabeled := evaluate[[]string](p, `[...document.querySelectorAll("input, textarea, button")]
		.filter((e) => e.getClientRects().length > 0)
		.filter((e) => e.tagName === "BUTTON"
			? !(e.getAttribute("aria-label") || e.textContent.trim())
			: !(e.labels?.length || e.getAttribute("aria-label")))
		.map((e) => e.outerHTML.slice(0, 120))`)
	for _, control := range unlabeled {
		p.tb.Errorf("%s: control without a label: %s", p.name, control)
	}
}

// jsString quotes value as a JavaScript string literal.
func jsString(value string) string {
	encoded, _ := json.Marshal(value)
	return string(encoded)
}

// signIn loads the web client and signs in by user name (development
// mode).
func (p *page) signIn(baseURL, user string) {
	p.tb.Helper()
	p.do(
		chromedp.Navigate(baseURL),
		chromedp.WaitVisible(chromedp.ID("dev-user")),
	)
	p.checkLabels()
	p.do(chromedp.SendKeys(chromedp.ID("dev-user"), user+kb.Enter))
	p.waitOnline()
	p.waitUntil("whoami shows "+user,
		`document.getElementById("whoami").textContent === `+jsString(user))
}

// waitOnline waits until the connection status shows the page online.
func (p *page) waitOnline() {
	p.tb.Helper()
	p.waitUntil("online", `document.getElementById("connection-status").dataset.state === "online"
		&& document.getElementById("offline-banner").hidden`)
}

// waitOffline waits until the page shows its offline banner.
func (p *page) waitOffline() {
	p.tb.Helper()
	p.waitUntil("offline banner shown",
		`!document.getElementById("offline-banner").hidden
		&& document.getElementById("connection-status").dataset.state !== "online"`)
}

// openDirect opens the conversation with peer through the sidebar form.
func (p *page) openDirect(peer string) {
	p.tb.Helper()
	p.do(chromedp.SendKeys(chromedp.ID("dm-peer"), peer+kb.Enter))
	p.waitUntil("conversation with "+peer+" open",
		`document.getElementById("chat-title").textContent === `+jsString(peer))
}

// joinRoom joins room through the sidebar form.
func (p *page) joinRoom(room string) {
	p.tb.Helper()
	p.do(chromedp.SendKeys(chromedp.ID("room-name"), room+kb.Enter))
	p.waitUntil("room "+room+" joined", `document.getElementById("chat-title").textContent === `+
		jsString("# "+room)+` && document.getElementById("chat-subtitle").textContent.includes("member")`)
}

// openChannel clicks the sidebar entry whose title is title.
func (p *page) openChannel(title string) {
	p.tb.Helper()
	p.waitUntil("sidebar lists "+title, `[...document.querySelectorAll(".channel-name")]
		.some((e) => e.textContent === `+jsString(title)+`)`)
	p.do(chromedp.Click(chromedp.JSPath(`[...document.querySelectorAll(".channel")]
		.find((e) => e.querySelector(".channel-name")?.textContent === ` + jsString(title) + `)`)))
	p.waitUntil(title+" open", `document.getElementById("chat-title").textContent === `+
		jsString(title))
}

// send types text into the message box and presses Enter.
func (p *page) send(text string) {
	p.tb.Helper()
	p.do(chromedp.SendKeys(chromedp.ID("composer-input"), text+kb.Enter))
	p.waitUntil("message box cleared after sending "+text,
		`document.getElementById("composer-input").value === ""`)
}

// shownMessage is a message element of the open conversation.
type shownMessage struct {
	ID      string `json:"id"`
	Content string `json:"content"`
	Status  string `json:"status"`
	From    string `json:"from"`
}

// messages returns the message elements of the open conversation in
// display order.
func (p *page) messages() []shownMessage {
	p.tb.Helper()
	return evaluate[[]shownMessage](p, `[...document.querySelectorAll("#message-list li.message")]
		.map((e) => ({
			id: e.dataset.messageId ?? "",
			content: e.querySelector(".content").textContent,
			status: e.dataset.status,
			from: e.querySelector(".author").textContent,
		}))`)
}

// waitForMessage waits until a message with content is shown with status.
func (p *page) waitForMessage(content, status string) {
	p.tb.Helper()
	p.waitUntil(fmt.Sprintf("message %q shown as %s", content, status),
		`[...document.querySelectorAll("#message-list li.message")].some((e) =>
			e.querySelector(".content").textContent === `+jsString(content)+`
			&& e.dataset.status === `+jsString(status)+`)`)
}

// checkMessages fails the test unless the open conversation shows exactly
// the expected contents, in order, each once, each with a distinct server
// id and none waiting for an acknowledgement, and shows no history error.
func (p *page) checkMessages(want []string) {
	p.tb.Helper()
	status := evaluate[string](p, `document.getElementById("history-status").textContent`)
	if strings.HasPrefix(status, "Could not") {
		p.tb.Errorf("%s: history error shown: %s", p.name, status)
	}
	shown := p.messages()
	var contents []string
	seen := map[string]bool{}
	for _, message := range shown {
		contents = append(contents, message.Content)
		if message.ID == "" {
			p.tb.Errorf("%s: message %q has no server id (status %s)",
				p.name, message.Content, message.Status)
			continue
		}
		if seen[message.ID] {
			p.tb.Errorf("%s: message id %s shown twice", p.name, message.ID)
		}
		seen[message.ID] = true
	}
	if strings.Join(contents, "\n") != strings.Join(want, "\n") {
		p.tb.Errorf("%s: shown messages\n  %q\nwant\n  %q", p.name, contents, want)
	}
}
