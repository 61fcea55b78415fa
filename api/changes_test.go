package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sellable/inventory/api"
	"github.com/sellable/inventory/feed"
	"github.com/sellable/inventory/feed/jsfeed"
	"github.com/sellable/inventory/internal/poll"
	"github.com/sellable/inventory/internal/systemtest"
	"github.com/sellable/inventory/kv"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

// feedStack is the command and query API with the change feed, over a
// real embedded server with a calculator running.
type feedStack struct {
	*stack
	src *jsfeed.Source
	e   *echo.Echo
	srv *httptest.Server
}

// newFeedStack serves the API and GET /inventory/changes with src's
// settings tuned by tune and the feed's by feedTune (nil: defaults). The
// test server runs on the Echo instance's own http.Server, as
// app.ServeListener does, so that its shutdown reaches the feeds.
func newFeedStack(t *testing.T, tune func(*jsfeed.Config), feedTune func(*api.FeedConfig)) *feedStack {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	sys := systemtest.Start(t, systemtest.Config{Partitions: feedPartitions})
	sys.StartCalculator(t, nil, nil)
	cfg := jsfeed.DefaultConfig()
	cfg.Logger = log
	cfg.Frame = api.ChangeFrame
	if tune != nil {
		tune(&cfg)
	}
	src, err := jsfeed.NewSource(sys.JS, cfg)
	if err != nil {
		t.Fatal(err)
	}
	fc := api.DefaultFeedConfig()
	if feedTune != nil {
		feedTune(&fc)
	}
	e := sys.API(log)
	if err := api.RegisterLive(e, src, fc, jsfeed.NewDeadLetters(sys.JS)); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(e)
	srv.Config = e.Server
	srv.Config.Handler = e
	srv.Start()
	t.Cleanup(srv.Close)
	return &feedStack{stack: &stack{sys: sys, http: srv}, src: src, e: e, srv: srv}
}

// sse is one Server-Sent Event, or a comment line (Comment set).
type sse struct {
	Event, ID, Data, Comment string
}

// sseReader parses an event stream in the background, so that a test
// waiting for an event that never comes fails instead of hanging.
type sseReader struct {
	events chan sse
	err    error // set before events is closed
}

func newSSEReader(body io.Reader) *sseReader {
	r := &sseReader{events: make(chan sse)}
	go func() {
		defer close(r.events)
		br := bufio.NewReader(body)
		var ev sse
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				r.err = err
				return
			}
			line = strings.TrimSuffix(line, "\n")
			switch {
			case line == "":
				if ev != (sse{}) {
					r.events <- ev
					ev = sse{}
				}
			case strings.HasPrefix(line, ":"):
				ev.Comment = strings.TrimSpace(line[1:])
			case strings.HasPrefix(line, "event: "):
				ev.Event = line[len("event: "):]
			case strings.HasPrefix(line, "id: "):
				ev.ID = line[len("id: "):]
			case strings.HasPrefix(line, "data: "):
				ev.Data = line[len("data: "):]
			}
		}
	}()
	return r
}

// readTimeout bounds the wait for one event.
const readTimeout = 20 * time.Second

// next reads the next event or comment.
func (s *sseReader) next() (sse, error) {
	select {
	case ev, ok := <-s.events:
		if !ok {
			return sse{}, s.err
		}
		return ev, nil
	case <-time.After(readTimeout):
		return sse{}, fmt.Errorf("no event within %v", readTimeout)
	}
}

// change is a "change" event's id and position.
type change struct {
	id  feed.Cursor
	pos api.PositionResponse
}

// nextChange skips comments and returns the next change event; another
// event fails the test.
func (s *sseReader) nextChange(t *testing.T) change {
	t.Helper()
	for {
		ev, err := s.next()
		if err != nil {
			t.Fatalf("reading the feed: %v", err)
		}
		if ev.Comment != "" {
			continue
		}
		if ev.Event != "change" {
			t.Fatalf("event %+v, want a change", ev)
		}
		id, err := feed.ParseCursor(ev.ID, feedPartitions)
		if err != nil || ev.ID == "0" {
			t.Fatalf("change id %q: %v", ev.ID, err)
		}
		var p api.PositionResponse
		if err := json.Unmarshal([]byte(ev.Data), &p); err != nil {
			t.Fatalf("change data %q: %v", ev.Data, err)
		}
		return change{id: id, pos: p}
	}
}

// subscribe opens the feed at query with headers hdr (name, value, …)
// and returns once the server says it is subscribed. The feed closes
// when t ends or close is called.
func (f *feedStack) subscribe(t *testing.T, query string, hdr ...string) (r *sseReader, close func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.srv.URL+"/inventory/changes"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	close = func() { cancel(); resp.Body.Close() }
	t.Cleanup(close)
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET /inventory/changes%s: %d %s", query, resp.StatusCode, b)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	r = newSSEReader(resp.Body)
	ev, err := r.next()
	if err != nil || ev.Comment != "subscribed" {
		t.Fatalf("first line %+v, %v; want the subscribed comment", ev, err)
	}
	return r, close
}

func (f *feedStack) adjust(t *testing.T, loc, sku string, count int) {
	t.Helper()
	body := fmt.Sprintf(`{"locationId":%q,"sku":%q,"count":%d}`, loc, sku, count)
	if status, out := f.do(t, http.MethodPost, "/inventory/adjustment", body); status != http.StatusCreated {
		t.Fatalf("adjust: %d %v", status, out)
	}
}

// waitChange waits until the view holds the change of loc and sku to
// count: the bucket's value is the change the feed reads.
func (f *feedStack) waitChange(t *testing.T, loc, sku string, count int64) {
	t.Helper()
	poll.Until(t, 10*time.Second, "the change of "+loc+"/"+sku, func() error {
		p, err := f.sys.View.Get(context.Background(), loc, sku)
		if err != nil || p.Count != count {
			return fmt.Errorf("%+v %v, want count %d", p, err, count)
		}
		return nil
	})
}

// feedPartitions is the partition count of the feed tests' stack, the
// number of sequences in a change's id.
const feedPartitions = 2

// putAsync stores pos in its partition's view bucket as the calculator's
// writer does (a KV put is a publish to the key's subject in the
// bucket's stream), without waiting for the ack: many changes fast.
func (f *feedStack) putAsync(t *testing.T, pos sellable.Position) {
	t.Helper()
	k := sellable.Key{LocationID: pos.LocationID, SKU: pos.SKU}
	v, err := kv.EncodeValue(pos)
	if err != nil {
		t.Fatal(err)
	}
	subject := "$KV." + kv.BucketName(streams.Partition(k, feedPartitions)) + "." + streams.KeyToken(k)
	if _, err := f.sys.JS.PublishAsync(subject, v); err != nil {
		t.Fatal(err)
	}
}

// grows reports whether id is after last: at or past it in every
// partition, and not equal.
func grows(id, last feed.Cursor) bool {
	return id.Covers(last) && id.String() != last.String()
}

// Each change of a watched position arrives as one event with the
// position as GET answers it, and the filters leave the others out.
func TestChangesFeedDeliversEachChangeItsFilterSelects(t *testing.T) {
	f := newFeedStack(t, nil, nil)
	all, _ := f.subscribe(t, "")
	byLoc, _ := f.subscribe(t, "?location=feed+loc.1")
	byBoth, _ := f.subscribe(t, "?location=feed+loc.1&sku=sku*2")

	// The calculator folds the events of one batch into one change, so
	// each change is awaited before the next adjustment.
	f.adjust(t, "feed loc.1", "sku>1", 5)
	f.adjust(t, "other", "sku*2", 7)
	f.adjust(t, "feed loc.1", "sku*2", 3)
	f.waitChange(t, "feed loc.1", "sku*2", 3)
	f.adjust(t, "feed loc.1", "sku*2", -1)

	type pos struct {
		loc, sku string
		count    int64
	}
	read := func(r *sseReader, n int) []pos {
		var out []pos
		last := feed.Start(feedPartitions)
		for range n {
			c := r.nextChange(t)
			if !grows(c.id, last) {
				t.Errorf("change id %v after %v: ids must grow", c.id, last)
			}
			last = c.id
			out = append(out, pos{c.pos.LocationID, c.pos.SKU, c.pos.Count})
		}
		return out
	}
	// Across positions the order is the calculators' (partitions run in
	// parallel); within a position it is the log's.
	if got := read(byBoth, 2); got[0] != (pos{"feed loc.1", "sku*2", 3}) || got[1] != (pos{"feed loc.1", "sku*2", 2}) {
		t.Errorf("location and SKU filter: %v", got)
	}
	got := read(byLoc, 3)
	want := map[pos]bool{{"feed loc.1", "sku>1", 5}: true, {"feed loc.1", "sku*2", 3}: true, {"feed loc.1", "sku*2", 2}: true}
	for _, p := range got {
		if !want[p] {
			t.Errorf("location filter delivered %v", p)
		}
		delete(want, p)
	}
	seen := map[pos]bool{}
	for _, p := range read(all, 4) {
		seen[p] = true
	}
	if !seen[pos{"other", "sku*2", 7}] || !seen[pos{"feed loc.1", "sku*2", 2}] {
		t.Errorf("unfiltered feed: %v", seen)
	}
	// One more change outside the location filter, then one inside: the
	// filtered feed's next event is the one inside.
	f.adjust(t, "other", "sku>1", 1)
	f.adjust(t, "feed loc.1", "sku>1", 1)
	if c := byLoc.nextChange(t); c.pos.LocationID != "feed loc.1" || c.pos.SKU != "sku>1" || c.pos.Count != 6 {
		t.Errorf("location filter delivered %+v", c.pos)
	}
}

// Resuming after id N gives every position changed since, once, with
// its newest value, in increasing ids above N; lastEventId=0 gives every
// position's newest value. Last-Event-ID wins over the query parameter.
func TestChangesFeedResumesWithoutGapsOrDuplicates(t *testing.T) {
	f := newFeedStack(t, nil, nil)
	r, closeFeed := f.subscribe(t, "?location=resume")
	f.adjust(t, "resume", "a", 1)
	f.adjust(t, "resume", "b", 1)
	first, second := r.nextChange(t), r.nextChange(t)
	closeFeed()
	if !grows(second.id, first.id) {
		t.Fatalf("second id %v, first %v: ids must grow", second.id, first.id)
	}
	seenUpTo := second.id

	// Away: a changes three times, c appears.
	f.adjust(t, "resume", "a", 2)
	f.adjust(t, "resume", "a", 3)
	f.adjust(t, "resume", "c", 5)
	f.waitChange(t, "resume", "a", 6)
	f.waitChange(t, "resume", "c", 5)

	check := func(r *sseReader, after feed.Cursor, want map[string]int64) {
		t.Helper()
		last := after
		// Count, not range: the loop deletes from want as it goes.
		for n := len(want); n > 0; n-- {
			c := r.nextChange(t)
			if !grows(c.id, last) {
				t.Errorf("change id %v after %v: ids must grow", c.id, last)
			}
			last = c.id
			w, ok := want[c.pos.SKU]
			if !ok || c.pos.Count != w {
				t.Errorf("resumed after %v: %s=%d, want %v (each position once, newest value)", after, c.pos.SKU, c.pos.Count, want)
			}
			delete(want, c.pos.SKU)
		}
		// Nothing else is pending: the next event is the next change.
		f.adjust(t, "resume", "d", 1)
		if c := r.nextChange(t); c.pos.SKU != "d" || !grows(c.id, last) {
			t.Errorf("after catching up: %+v id %v, want d's first change after %v", c.pos, c.id, last)
		}
	}
	// The header wins: the query's 0 would send b again.
	resumed, _ := f.subscribe(t, "?location=resume&lastEventId=0", "Last-Event-ID", seenUpTo.String())
	check(resumed, seenUpTo, map[string]int64{"a": 6, "c": 5})

	fromStart, _ := f.subscribe(t, "?location=resume&lastEventId=0")
	f.waitChange(t, "resume", "d", 1)
	check(fromStart, feed.Start(feedPartitions), map[string]int64{"a": 6, "b": 1, "c": 5, "d": 1})
}

// A quiet feed sends a comment line every heartbeat interval.
func TestChangesFeedSendsHeartbeats(t *testing.T) {
	f := newFeedStack(t, nil, func(c *api.FeedConfig) { c.Heartbeat = 50 * time.Millisecond })
	r, _ := f.subscribe(t, "")
	for range 3 {
		ev, err := r.next()
		if err != nil || ev.Comment != "heartbeat" {
			t.Fatalf("got %+v, %v; want a heartbeat", ev, err)
		}
	}
}

// A client that stops reading is dropped once its queue is full, not
// buffered without bound: the server ends its subscription, and when the
// client reads again it finds what was queued, then a last "dropped"
// event saying why and where to resume, then the end of the answer.
func TestChangesFeedDropsAClientThatStopsReading(t *testing.T) {
	const queue = 16
	f := newFeedStack(t, func(c *jsfeed.Config) { c.Queue, c.Pull = queue, queue }, func(c *api.FeedConfig) { c.WriteTimeout = time.Minute })

	conn, err := net.Dial("tcp", f.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.(*net.TCPConn).SetReadBuffer(4 << 10)
	if _, err := io.WriteString(conn, "GET /inventory/changes HTTP/1.1\r\nHost: feed\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("feed: %v %v", resp, err)
	}
	body := newSSEReader(resp.Body)
	if ev, err := body.next(); err != nil || ev.Comment != "subscribed" {
		t.Fatalf("first line %+v, %v", ev, err)
	}

	// The client reads nothing more. Values are put straight into the
	// view's buckets, many and fast, until the server gives up on it.
	published := 0
	poll.Until(t, 60*time.Second, "the stalled client dropped", func() error {
		for range 500 {
			published++
			f.putAsync(t, sellable.Position{LocationID: "slow", SKU: strconv.Itoa(published % 1000), Count: int64(published), Seq: uint64(published), UpdatedAt: time.Now()})
		}
		<-f.sys.JS.PublishAsyncComplete()
		if st := f.src.Stats(); st.Dropped != 1 || st.Open != 0 {
			return fmt.Errorf("after %d changes: %+v", published, st)
		}
		return nil
	})

	// Reading again: the changes that were under way, then the reason.
	var last string
	var end sse
	for {
		ev, err := body.next()
		if err != nil {
			t.Fatalf("feed ended without a dropped event (%v); last change %s", err, last)
		}
		if ev.Event == "change" {
			last = ev.ID
			continue
		}
		if ev.Comment != "" {
			continue
		}
		end = ev
		break
	}
	var why api.FeedEnd
	if err := json.Unmarshal([]byte(end.Data), &why); err != nil || end.Event != "dropped" {
		t.Fatalf("last event %+v (%v), want dropped", end, err)
	}
	if !strings.Contains(why.Reason, "slow consumer") || !strings.Contains(why.Reason, strconv.Itoa(queue)) || why.LastEventID != last {
		t.Errorf("dropped: %+v, want the slow-consumer reason and the last id sent (%s)", why, last)
	}
	if _, err := body.next(); !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("after the dropped event: %v, want the end of the answer", err)
	}
}

// A subscriber that reads, but not as fast as changes arrive, falls
// behind in the stream rather than in its queue: it is dropped all the
// same, with the reason, instead of lagging further unseen.
func TestChangesFeedDropsASubscriberBehindTheStream(t *testing.T) {
	// A queue larger than the burst, so that only the hub's allowance
	// can drop it: with a queue of the allowance's size, the hub reading
	// two partitions at once filled it first as often as not.
	const queue, behind = 256, 8
	f := newFeedStack(t, func(c *jsfeed.Config) { c.Queue, c.Behind, c.Pull = queue, behind, 1 }, nil)
	r, _ := f.subscribe(t, "?location=behind")
	// A burst: far more changes than the hub may lag reach the streams
	// at once, while its consumers fetch them one at a time.
	for i := range 200 {
		f.putAsync(t, sellable.Position{LocationID: "behind", SKU: strconv.Itoa(i), Count: int64(i), Seq: uint64(i + 1), UpdatedAt: time.Now()})
	}
	<-f.sys.JS.PublishAsyncComplete()
	for {
		ev, err := r.next()
		if err != nil {
			t.Fatalf("feed ended without a dropped event: %v", err)
		}
		if ev.Comment == "heartbeat" {
			t.Fatal("a quiet feed and no dropped event: the burst was read through")
		}
		if ev.Event == "change" || ev.Comment != "" {
			continue
		}
		if ev.Event != "dropped" || !strings.Contains(ev.Data, "in the streams") {
			t.Fatalf("last event %+v, want dropped for the changes waiting in the stream", ev)
		}
		break
	}
	poll.Until(t, 10*time.Second, "the dropped subscriber counted", func() error {
		if st := f.src.Stats(); st.Dropped != 1 || st.Open != 0 {
			return fmt.Errorf("%+v", st)
		}
		return nil
	})
}

// A burst that puts the hub more than a queue, but less than Behind,
// behind the stream is read through: no subscriber is dropped for a
// moment's lag of the whole process (a bound of one queue dropped every
// subscriber of a load run).
func TestChangesFeedReadsThroughABurst(t *testing.T) {
	// The burst is several queues long, so that the old allowance of one
	// queue would drop the subscriber; the queue is large enough that a
	// reader on a busy machine keeps within it while two partitions'
	// consumers deliver at once.
	const queue, burst = 128, 600
	f := newFeedStack(t, func(c *jsfeed.Config) { c.Queue, c.Behind, c.Pull = queue, 10*burst, 1 }, nil)
	r, _ := f.subscribe(t, "?location=burst")
	for i := range burst {
		f.putAsync(t, sellable.Position{LocationID: "burst", SKU: strconv.Itoa(i), Count: int64(i), Seq: uint64(i + 1), UpdatedAt: time.Now()})
	}
	<-f.sys.JS.PublishAsyncComplete()
	for got := 0; got < burst; {
		ev, err := r.next()
		if err != nil {
			t.Fatalf("after %d changes: %v", got, err)
		}
		switch {
		case ev.Event == "change":
			got++
		case ev.Comment != "":
		default:
			t.Fatalf("after %d changes: %+v, want only changes", got, ev)
		}
	}
}

// A server that shuts down ends its feeds with a "closed" event rather
// than holding its shutdown until they leave.
func TestChangesFeedEndsOnShutdown(t *testing.T) {
	f := newFeedStack(t, nil, nil)
	r, _ := f.subscribe(t, "?sku=shutdown")
	f.adjust(t, "l", "shutdown", 4)
	first := r.nextChange(t)
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- f.srv.Config.Shutdown(ctx)
	}()
	ev, err := r.next()
	if err != nil || ev.Event != "closed" {
		t.Fatalf("got %+v, %v; want the closed event", ev, err)
	}
	var why api.FeedEnd
	if err := json.Unmarshal([]byte(ev.Data), &why); err != nil || why.LastEventID != first.id.String() {
		t.Errorf("closed: %s (%v), want lastEventId %v", ev.Data, err, first.id)
	}
	if err := <-done; err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

// Bad cursors and identifiers get a 400 naming the input; subscribers
// over the limit a 503.
func TestChangesFeedRefusals(t *testing.T) {
	f := newFeedStack(t, func(c *jsfeed.Config) { c.MaxSubscribers = 1 }, nil)
	for _, tc := range []struct {
		query, header string
		status        int
		field         string
	}{
		{"?lastEventId=-1", "", http.StatusBadRequest, "lastEventId"},
		{"", "abc", http.StatusBadRequest, "Last-Event-ID"},
		// An id of the single-stream feed, and cursors of 1 and 3 parts
		// for 2 partitions.
		{"?lastEventId=42", "", http.StatusBadRequest, "lastEventId"},
		{"", "42", http.StatusBadRequest, "Last-Event-ID"},
		{"?lastEventId=1.2.3", "", http.StatusBadRequest, "lastEventId"},
		{"?lastEventId=1..2", "", http.StatusBadRequest, "lastEventId"},
		{"?lastEventId=1.18446744073709551616", "", http.StatusBadRequest, "lastEventId"},
		{"", "1. 2", http.StatusBadRequest, "Last-Event-ID"},
		{"?lastEventId=" + strings.Repeat("1.", 20000) + "1", "", http.StatusBadRequest, "lastEventId"},
		{"?location=%01", "", http.StatusBadRequest, "location"},
		{"?sku=" + strings.Repeat("x", sellable.MaxIDLength+1), "", http.StatusBadRequest, "sku"},
	} {
		var hdr []string
		if tc.header != "" {
			hdr = []string{"Last-Event-ID", tc.header}
		}
		status, out := f.do(t, http.MethodGet, "/inventory/changes"+tc.query, "", hdr...)
		if status != tc.status || out["field"] != tc.field {
			t.Errorf("%s %s: %d %v, want %d naming %s", tc.query, tc.header, status, out, tc.status, tc.field)
		}
	}
	_, closeFirst := f.subscribe(t, "")
	if status, out := f.do(t, http.MethodGet, "/inventory/changes", ""); status != http.StatusServiceUnavailable {
		t.Errorf("second subscriber over a limit of one: %d %v", status, out)
	}
	closeFirst()
	poll.Until(t, 10*time.Second, "the first subscription released", func() error {
		if st := f.src.Stats(); st.Open != 0 {
			return fmt.Errorf("%+v", st)
		}
		return nil
	})
	f.subscribe(t, "")
}
