package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sellable/inventory/internal/poll"
)

// skipBrowserEnv, set to 1, skips the browser tests on a machine without
// Chromium. Unset (as in CI, whose .ci/run installs Chromium), a missing
// browser fails them: a browser test that quietly skips proves nothing.
const skipBrowserEnv = "INVENTORY_SKIP_BROWSER"

// screenshotEnv names a file to write the console's screenshot to (the
// README's, docs/console.png).
const screenshotEnv = "INVENTORY_CONSOLE_SCREENSHOT"

// chromium finds the browser: $CHROMIUM, else Debian's chromium on PATH.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv(skipBrowserEnv) == "1" {
		t.Skip("no Chromium, and " + skipBrowserEnv + "=1")
	}
	t.Fatal("Chromium not found (apt-get install chromium, or CHROMIUM=/path); set " + skipBrowserEnv + "=1 to skip the browser tests locally")
	return ""
}

// browser is a headless Chromium tab for the duration of t.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox, // CI runs as root, where Chromium's sandbox refuses to start
		chromedp.WindowSize(1280, 1000),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// Start the browser now, so that its start-up is not charged to the
	// first step's deadline.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// run runs actions in the tab, each step bounded so that a page that
// never shows what is awaited fails the test instead of hanging it.
func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// waitJS polls a JavaScript expression in the tab until it yields want.
func waitJS(t *testing.T, ctx context.Context, what, expr, want string) {
	t.Helper()
	poll.Until(t, 30*time.Second, what, func() error {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		got, err := chromedp.Run(sctx, chromedp.Evaluate[string](expr))
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("%q, want %q", got, want)
		}
		return nil
	})
}

// The console's board follows the feed: an adjustment posted over HTTP
// shows on the open page without a reload, and so does the next one.
// The other panels load from the same process.
func TestConsoleBoardFollowsTheFeed(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	a := newAllInOne(t)
	a.start(t)
	command(t, a.base, "adjustment", "STL", "123123", 100, "")
	command(t, a.base, "reservation", "STL", "123123", 10, "")
	waitCount(t, a.base, "STL", "123123", 90)

	run(t, ctx, "open the console", chromedp.Navigate(a.base+"/console"),
		chromedp.WaitVisible(`#board tbody tr[data-sku="123123"]`),
		// Marks this page load: a reload would lose it.
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[string](`window.sameLoad = "yes"`)(ctx, tg)
			return err
		}))
	waitJS(t, ctx, "feed live", `document.getElementById("feed-status").textContent`, "live")
	waitJS(t, ctx, "the existing position on the board",
		`document.querySelector('#board tr[data-sku="123123"] td.count').textContent`, "90")

	sku := fmt.Sprintf("browser-%d", time.Now().UnixNano())
	row := `#board tr[data-sku="` + sku + `"] td.count`
	command(t, a.base, "adjustment", "STL", sku, 7, "")
	waitJS(t, ctx, "the new position on the board", `(document.querySelector('`+row+`') || {}).textContent || ""`, "7")
	command(t, a.base, "adjustment", "STL", sku, 5, "")
	waitJS(t, ctx, "the change on the board", `document.querySelector('`+row+`').textContent`, "12")
	waitJS(t, ctx, "no reload", `window.sameLoad || ""`, "yes")

	// The all-in-one owns every partition.
	waitJS(t, ctx, "partition rows", `String(document.querySelectorAll("#partitions tbody tr").length)`, "8")
	waitJS(t, ctx, "dead letters panel", `document.getElementById("deadletters-message").textContent`,
		"No dead letters: every message was applied.")
	// A click on a row asks for that position's history; whatever the
	// server answers, the panel says something (a table or a message).
	run(t, ctx, "click the row", chromedp.Click(`#board tr[data-sku="`+sku+`"]`))
	waitJS(t, ctx, "history requested", `document.getElementById("history-sku").value`, sku)
	poll.Until(t, 30*time.Second, "history panel answers", func() error {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		msg, err := chromedp.Run(sctx, chromedp.Evaluate[string](`document.getElementById("history-message").textContent`))
		if err != nil {
			return err
		}
		rows, err := chromedp.Run(sctx, chromedp.Evaluate[int](`document.querySelectorAll("#history tbody tr").length`))
		if err != nil {
			return err
		}
		if rows == 0 && (msg == "" || msg == "Loading…") {
			return fmt.Errorf("message %q, %d rows", msg, rows)
		}
		return nil
	})

	if path := os.Getenv(screenshotEnv); path != "" {
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// The documentation page renders every operation of the document in a
// real browser: the vendored Swagger UI loads from the binary and runs
// (issue 11's browser check of /docs).
func TestDocsPageRendersEveryOperation(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	a := newAllInOne(t)
	a.start(t)

	resp, err := http.Get(a.base + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	err = json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	operations := 0
	for _, item := range doc.Paths {
		for method := range item {
			switch strings.ToLower(method) {
			case "get", "put", "post", "delete", "patch", "head", "options", "trace":
				operations++
			}
		}
	}
	if operations < 10 {
		t.Fatalf("the document has %d operations", operations)
	}
	run(t, ctx, "open /docs", chromedp.Navigate(a.base+"/docs"), chromedp.WaitVisible(`.opblock`))
	waitJS(t, ctx, "every operation rendered", `String(document.querySelectorAll(".opblock").length)`, fmt.Sprint(operations))
	waitJS(t, ctx, "the point query's block", `document.querySelector("#operations-queries-getPosition .opblock-summary-path").textContent.replace(/\u200b/g, "")`,
		"/inventory/locations/{location}/skus/{sku}")
}
