package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sellable/inventory/auth"
	"github.com/sellable/inventory/internal/poll"
)

// feedTap is a reverse proxy in front of a program that remembers what
// each request for the feed carried and can cut the feeds open through
// it, as a network that drops a connection would.
type feedTap struct {
	mu    sync.Mutex
	feeds []*http.Request // the feed requests received, in order
	cuts  []context.CancelFunc
}

func newFeedTap(t *testing.T, target string) (*feedTap, string) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	tap := &feedTap{}
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.FlushInterval = -1 // events pass at once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/inventory/changes" {
			ctx, cancel := context.WithCancel(r.Context())
			tap.mu.Lock()
			tap.feeds = append(tap.feeds, r.Clone(context.Background()))
			tap.cuts = append(tap.cuts, cancel)
			tap.mu.Unlock()
			r = r.WithContext(ctx)
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		// The browser may still hold a feed open, which Close would
		// wait for.
		tap.cut()
		srv.CloseClientConnections()
		srv.Close()
	})
	return tap, srv.URL
}

// requests answers the feed requests received so far.
func (f *feedTap) requests() []*http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*http.Request(nil), f.feeds...)
}

// cut ends every feed open through the tap.
func (f *feedTap) cut() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.cuts {
		c()
	}
}

// postAdjustment posts an adjustment with a bearer token and wants 201.
func postAdjustment(t *testing.T, base, token, loc, sku string, count int) {
	t.Helper()
	body := fmt.Sprintf(`{"locationId":%q,"sku":%q,"count":%d}`, loc, sku, count)
	poll.Until(t, 30*time.Second, "adjustment "+loc+"/"+sku, func() error {
		req, _ := http.NewRequest("POST", base+"/inventory/adjustment", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	})
}

// jsString evaluates a JavaScript expression yielding a string.
func jsString(t *testing.T, ctx context.Context, expr string) string {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	got, err := chromedp.Run(sctx, chromedp.Evaluate[string](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return got
}

// The console on a deployment with API keys (issue 14.5). Without a
// token the page says 401; with a read token typed in, the board follows
// the feed (read with fetch, which carries the token, not EventSource,
// which cannot), a panel the token has no scope for says 403, and the
// token stays out of the URL. A feed cut by the network is resumed with
// the token and the last id seen as Last-Event-ID, and the board goes
// on changing without a reload.
func TestConsoleOnSecuredAllInOne(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	readKey, adjustKey := randomKey(t), randomKey(t)
	keys := filepath.Join(t.TempDir(), "api-keys")
	writeKeys(t, keys,
		fmt.Sprintf("e2e-console %s %s", auth.ScopeRead, auth.HashKey(readKey)),
		fmt.Sprintf("e2e-wms %s %s", auth.ScopeAdjust, auth.HashKey(adjustKey)))
	a := newAllInOne(t)
	a.env["INVENTORY_API_KEYS_FILE"] = keys
	a.start(t)
	tap, base := newFeedTap(t, a.base)
	postAdjustment(t, a.base, adjustKey, "SEC", "first", 40)

	run(t, ctx, "open the console", chromedp.Navigate(base+"/console"),
		chromedp.WaitVisible(`#token`),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[string](`window.sameLoad = "yes"`)(ctx, tg)
			return err
		}))
	waitJS(t, ctx, "the feed refused", `document.getElementById("feed-status").textContent`, "401 unauthorized")
	waitJS(t, ctx, "the 401 said on the page",
		`String(document.getElementById("auth-message").textContent.includes("Live board: 401 Unauthorized"))`, "true")
	waitJS(t, ctx, "the partitions panel refused",
		`String(document.getElementById("partitions-message").textContent.startsWith("Partition status: 401"))`, "true")

	unauthorized := len(tap.requests()) // the feed requests without a token

	run(t, ctx, "enter the token", chromedp.SendKeys(`#token`, readKey), chromedp.Click(`#token-use`))
	waitJS(t, ctx, "feed live", `document.getElementById("feed-status").textContent`, "live")
	waitJS(t, ctx, "the existing position on the board",
		`(document.querySelector('#board tr[data-sku="first"] td.count') || {}).textContent || ""`, "40")
	waitJS(t, ctx, "the 401 gone", `document.getElementById("auth-message").textContent`, "")
	waitJS(t, ctx, "partition rows", `String(document.querySelectorAll("#partitions tbody tr").length)`, "8")
	waitJS(t, ctx, "a read token may not see dead letters",
		`String(document.getElementById("deadletters-message").textContent.startsWith("Dead letters: 403 Forbidden"))`, "true")
	if got := jsString(t, ctx, `sessionStorage.getItem("inventory.console.token")`); got != readKey {
		t.Fatalf("sessionStorage holds %q", got)
	}
	if got := jsString(t, ctx, `location.href + "|" + document.getElementById("token").value`); strings.Contains(got, readKey) {
		t.Fatalf("the token is in the URL or left in the field: %q", got)
	}

	sku := fmt.Sprintf("secured-%d", time.Now().UnixNano())
	row := `#board tr[data-sku="` + sku + `"] td.count`
	postAdjustment(t, a.base, adjustKey, "SEC", sku, 7)
	waitJS(t, ctx, "the new position on the board", `(document.querySelector('`+row+`') || {}).textContent || ""`, "7")

	// The network drops the feed: the page reconnects with the token and
	// resumes after the last id it saw.
	lastID := jsString(t, ctx, `document.getElementById("feed-status").dataset.lastEventId || ""`)
	if lastID == "" {
		t.Fatal("the page saw no event id")
	}
	before := len(tap.requests())
	tap.cut()
	poll.Until(t, 30*time.Second, "the feed reopened", func() error {
		if n := len(tap.requests()); n <= before {
			return fmt.Errorf("%d feed requests", n)
		}
		return nil
	})
	postAdjustment(t, a.base, adjustKey, "SEC", sku, 5)
	waitJS(t, ctx, "the change on the board after the reconnect", `document.querySelector('`+row+`').textContent`, "12")
	waitJS(t, ctx, "no reload", `window.sameLoad || ""`, "yes")

	t.Run("parser", func(t *testing.T) { checkEventStreamParser(t, ctx) })

	reqs := tap.requests()
	if unauthorized < 1 {
		t.Fatal("no feed request before the token")
	}
	for i, r := range reqs {
		want := "Bearer " + readKey
		if i < unauthorized {
			want = ""
		}
		if got := r.Header.Get("Authorization"); got != want {
			t.Errorf("feed request %d: Authorization %q, want %q", i, got, want)
		}
		if strings.Contains(r.URL.String(), readKey) {
			t.Errorf("feed request %d: the token in the URL %s", i, r.URL)
		}
	}
	if got := reqs[unauthorized].Header.Get("Last-Event-ID"); got != "" {
		t.Errorf("first feed request with the token: Last-Event-ID %q, want none (a new board starts from lastEventId=0)", got)
	}
	if got := reqs[before].Header.Get("Last-Event-ID"); got != lastID {
		t.Errorf("the reconnect sent Last-Event-ID %q, want %q (the last id the page saw)", got, lastID)
	}
}

// checkEventStreamParser runs the console's event stream parser against the format's corners, fed
// in chunks of every size from 1 byte: a byte order mark, CRLF and lone
// CR line ends (also split between chunks), comments (the heartbeats),
// an id that stays for later events, a field without a colon, one
// leading space dropped and a second kept, retry, multi-line data, and a
// block without data that dispatches nothing.
// (Run on the page TestConsoleOnSecuredAllInOne opened: the parser is a
// global of the console's script.)
func checkEventStreamParser(t *testing.T, ctx context.Context) {
	const stream = "\ufeff: subscribed\r\n\r\nevent: change\r\nid: 7\r\ndata: {\"a\":1}\r\n\r\n: heartbeat\n\n" +
		"retry: 2500\ndata:x\ndata\ndata:  y\n\nid: 9\n\nevent: dropped\rdata: z\r\r"
	const want = `[{"comment":"subscribed"},{"type":"change","data":"{\"a\":1}","id":"7"},{"comment":"heartbeat"},` +
		`{"retry":2500},{"type":"message","data":"x\n\n y","id":"7"},{"type":"dropped","data":"z","id":"9"}]|9`
	for _, size := range []int{1, 2, 3, 5, 8, 1000} {
		expr := fmt.Sprintf(`(() => {
			const out = [];
			const p = sseParser((e) => out.push(e), (r) => out.push({retry: r}), (c) => out.push({comment: c}));
			const s = %q;
			for (let i = 0; i < s.length; i += %d) p.push(s.slice(i, i + %d));
			return JSON.stringify(out) + "|" + p.lastEventId();
		})()`, stream, size, size)
		if got := jsString(t, ctx, expr); got != want {
			t.Errorf("chunks of %d:\n got %s\nwant %s", size, got, want)
		}
	}
}
