package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sellable/inventory/feed"
	"github.com/sellable/inventory/sellable"
)

// ChangeSource subscribes a reader to the sellable changes.
type ChangeSource interface {
	// Partitions is the number of sequences in a change's id.
	Partitions(ctx context.Context) (int, error)
	// Subscribe starts after after: nil from now on, else a cursor of
	// Partitions sequences (feed.Cursor).
	Subscribe(ctx context.Context, f feed.Filter, after feed.Cursor) (*feed.Subscription, error)
}

// LastEventIDHeader is how an EventSource that reconnects says where it
// was; the query parameter lastEventId does the same for a first
// connection (EventSource cannot set headers) and for curl.
const LastEventIDHeader = "Last-Event-ID"

// FeedConfig sets how GET /inventory/changes writes.
type FeedConfig struct {
	// Heartbeat is the longest silence on an open feed: proxies close
	// connections idle for a minute or so, and a comment line keeps them
	// open.
	Heartbeat time.Duration
	// WriteTimeout bounds one write to the client. A client that reads
	// nothing for this long is disconnected; one that reads too slowly
	// is dropped earlier, by its queue (feed.Subscription).
	WriteTimeout time.Duration
	// Batch is the most changes written between two flushes.
	Batch int
	// Linger is how long a change that arrives alone waits for others
	// to share its write: a busy feed then costs one write and flush per
	// Linger instead of one per change (0: none).
	Linger time.Duration
}

// DefaultFeedConfig sends a heartbeat every 15 s and gives up on a
// client that takes 10 s to accept one write.
func DefaultFeedConfig() FeedConfig {
	return FeedConfig{Heartbeat: 15 * time.Second, WriteTimeout: 10 * time.Second, Batch: 256, Linger: 5 * time.Millisecond}
}

// Validate reports every setting out of range.
func (c FeedConfig) Validate() error {
	var errs []error
	if c.Heartbeat <= 0 {
		errs = append(errs, fmt.Errorf("api: feed heartbeat %v must be positive", c.Heartbeat))
	}
	if c.WriteTimeout <= 0 {
		errs = append(errs, fmt.Errorf("api: feed write timeout %v must be positive", c.WriteTimeout))
	}
	if c.Batch < 1 {
		errs = append(errs, fmt.Errorf("api: feed batch %d must be at least 1", c.Batch))
	}
	if c.Linger < 0 {
		errs = append(errs, fmt.Errorf("api: feed linger %v must not be negative", c.Linger))
	}
	return errors.Join(errs...)
}

// FeedEnd is the data of the last event of a feed the server ends
// ("dropped" for a slow consumer, "closed" when the server shuts down):
// why, and the id to resume after (the last change's id, or where the
// feed started when it sent none).
type FeedEnd struct {
	Reason      string `json:"reason"`
	LastEventID string `json:"lastEventId"`
}

// changesHandler answers GET /inventory/changes, the sellable changes as
// Server-Sent Events: one "change" event per change, its id the change's
// cursor, its data the position as GET answers it.
func changesHandler(e *echo.Echo, src ChangeSource, cfg FeedConfig) (echo.HandlerFunc, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	// http.Server.Shutdown waits for handlers but does not cancel their
	// requests: open feeds are told to end.
	closing := make(chan struct{})
	var once sync.Once
	e.Server.RegisterOnShutdown(func() { once.Do(func() { close(closing) }) })
	return func(c echo.Context) error {
		f := feed.Filter{LocationID: c.QueryParam("location"), SKU: c.QueryParam("sku")}
		ctx := c.Request().Context()
		after, err := cursor(ctx, c, src)
		if err != nil {
			return err
		}
		sub, err := src.Subscribe(ctx, f, after)
		if err != nil {
			return err
		}
		defer sub.Close(nil)
		w := &sseWriter{c: c, rc: http.NewResponseController(c.Response()), timeout: cfg.WriteTimeout}
		h := c.Response().Header()
		h.Set(echo.HeaderContentType, "text/event-stream")
		h.Set(echo.HeaderCacheControl, "no-cache")
		h.Set("X-Accel-Buffering", "no") // nginx would hold events back
		c.Response().WriteHeader(http.StatusOK)
		// A first line so that a client knows it is subscribed.
		w.buf.WriteString(": subscribed\n\n")
		if w.flush() != nil {
			return nil
		}
		go func() {
			select {
			case <-closing:
				sub.Close(errShuttingDown)
			case <-sub.Done():
			}
		}()
		buf := make([]feed.Change, 0, cfg.Batch)
		var linger *time.Timer
		if cfg.Linger > 0 {
			linger = time.NewTimer(cfg.Linger)
			defer linger.Stop()
		}
		for {
			batch, err := sub.Next(ctx, buf, cfg.Heartbeat)
			if err == nil && len(batch) > 0 && len(batch) < cap(batch) && linger != nil {
				batch = more(ctx, sub, batch, linger, cfg.Linger)
			}
			switch {
			case errors.Is(err, feed.ErrSlowConsumer):
				w.end("dropped", FeedEnd{Reason: err.Error(), LastEventID: sub.Last().String()})
				return nil
			case errors.Is(err, errShuttingDown):
				w.end("closed", FeedEnd{Reason: err.Error(), LastEventID: sub.Last().String()})
				return nil
			case err != nil:
				return nil // the client left
			case len(batch) == 0:
				w.buf.WriteString(": heartbeat\n\n")
			}
			// Every queued change, then one flush: a busy feed costs one
			// write per batch, not one per change.
			for _, ch := range batch {
				if ch.Frame != nil {
					w.buf.Write(ch.Frame)
				} else {
					w.event("change", ch.ID, positionResponse(ch.Position))
				}
			}
			if w.flush() != nil {
				return nil
			}
		}
	}, nil
}

// more waits up to linger for changes to join batch, then adds those
// queued (up to batch's capacity): the live changes arrive one by one
// from the hub, and writing each alone would cost a write and a flush per
// change and subscriber. An end of the subscription is left to the next
// Next, which reports it once the queue is read.
func more(ctx context.Context, sub *feed.Subscription, batch []feed.Change, t *time.Timer, linger time.Duration) []feed.Change {
	t.Reset(linger)
	select {
	case <-t.C:
	case <-sub.Done():
	case <-ctx.Done():
	}
	got, _ := sub.Next(ctx, batch[len(batch):cap(batch)], 0)
	return batch[:len(batch)+len(got)]
}

// errShuttingDown ends the feeds open when the server shuts down; the
// client reconnects to another instance, or to this one once it is back.
var errShuttingDown = fmt.Errorf("%w: server shutting down", feed.ErrClosed)

// cursor reads where the client resumes: Last-Event-ID, else the query
// parameter lastEventId, else from now on (nil). A change id is one
// sequence per partition (feed.Cursor); 0 is the start.
func cursor(ctx context.Context, c echo.Context, src ChangeSource) (feed.Cursor, error) {
	v, field := c.Request().Header.Get(LastEventIDHeader), LastEventIDHeader
	if v == "" {
		v, field = c.QueryParam("lastEventId"), "lastEventId"
	}
	if v == "" {
		return nil, nil
	}
	n, err := src.Partitions(ctx)
	if err != nil {
		return nil, err
	}
	after, err := feed.ParseCursor(v, n)
	if err != nil {
		return nil, &sellable.FieldError{Field: field, Err: err}
	}
	return after, nil
}

// ChangeFrame is ch as the "change" event GET /inventory/changes writes,
// for a source that encodes each change once for all its subscribers
// (jsfeed.Config.Frame); the bytes are those the handler would write.
func ChangeFrame(ch feed.Change) []byte {
	var b bytes.Buffer
	writeEvent(&b, "change", ch.ID, positionResponse(ch.Position))
	return b.Bytes()
}

// sseWriter writes events to one client, each flush bounded by timeout.
type sseWriter struct {
	c       echo.Context
	rc      *http.ResponseController
	timeout time.Duration
	buf     bytes.Buffer
}

func (w *sseWriter) event(name string, id feed.Cursor, data any) {
	writeEvent(&w.buf, name, id, data)
}

func writeEvent(buf *bytes.Buffer, name string, id feed.Cursor, data any) {
	b, err := json.Marshal(data)
	if err != nil {
		return // our own answer types always encode
	}
	buf.WriteString("event: " + name + "\n")
	if id != nil {
		buf.WriteString("id: ")
		buf.Write(id.Append(buf.AvailableBuffer()))
		buf.WriteString("\n")
	}
	buf.WriteString("data: ")
	buf.Write(b)
	buf.WriteString("\n\n")
}

// end writes a last event; the client may be gone already.
func (w *sseWriter) end(name string, data FeedEnd) {
	w.event(name, nil, data)
	_ = w.flush()
}

func (w *sseWriter) flush() error {
	// The server's write timeout bounds a whole answer; a feed has no
	// end, so each write gets its own deadline instead.
	if err := w.rc.SetWriteDeadline(time.Now().Add(w.timeout)); err != nil {
		return err
	}
	_, err := w.c.Response().Write(w.buf.Bytes())
	w.buf.Reset()
	if err != nil {
		return err
	}
	return w.rc.Flush()
}
