package api_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/sellable/inventory/api"
	"github.com/sellable/inventory/internal/poll"
	"github.com/sellable/inventory/internal/systemtest"
)

// Read your writes over HTTP: with the calculator stopped, a read at a
// write's sequence answers 504 saying how far the view is, while one
// without it answers the stale view; with the calculator running, every
// write is read back at its sequence, through the query parameter and
// through the header. If minSeq were ignored, the 504 would be a 404.
func TestReadYourWritesHTTP(t *testing.T) {
	sys := systemtest.Start(t, systemtest.Config{})
	s := &stack{sys: sys, http: sys.ServeAPI(t, slog.New(slog.DiscardHandler))}
	path := queryPath("ryw", "a")

	status, out := s.do(t, http.MethodPost, "/inventory/adjustment", `{"locationId":"ryw","sku":"a","count":7}`)
	if status != http.StatusCreated {
		t.Fatalf("adjustment: %d %v", status, out)
	}
	seq := uint64(out["seq"].(float64))
	minSeq := "?minSeq=" + strconv.FormatUint(seq, 10)

	resp := fetchAnswer(t, s.http.URL+path+minSeq+"&wait=0.2s")
	if resp.status != http.StatusGatewayTimeout || resp.header.Get(api.ViewSeqHeader) != "0" {
		t.Fatalf("read at seq %d before the view has it: %d %s %v", seq, resp.status, resp.body, resp.header)
	}
	if st, out := s.do(t, http.MethodGet, path, ""); st != http.StatusNotFound {
		t.Fatalf("read without minSeq: %d %v, want the view as it is (404)", st, out)
	}

	sys.StartCalculator(t, nil, nil)
	want := 7
	for i := range 40 {
		body := `{"locationId":"ryw","sku":"a","count":1}`
		want++
		if i%2 == 1 {
			body = `{"locationId":"ryw","sku":"a","count":-1}`
			want -= 2
		}
		status, out := s.do(t, http.MethodPost, "/inventory/adjustment", body)
		if status != http.StatusCreated {
			t.Fatalf("adjustment: %d %v", status, out)
		}
		seq := strconv.FormatUint(uint64(out["seq"].(float64)), 10)
		var st int
		if i%3 == 0 {
			st, out = s.do(t, http.MethodGet, path, "", api.MinSeqHeader, seq)
		} else {
			st, out = s.do(t, http.MethodGet, path+"?minSeq="+seq, "")
		}
		if st != http.StatusOK || out["count"] != float64(want) {
			t.Fatalf("write %d (seq %s) read back: %d %v, want count %d", i, seq, st, out, want)
		}
	}
}

// The point query answers from the read model only when what it holds
// reflects minSeq: with the calculator stopped after the read model holds
// a write, a read at a later write's sequence answers 504 from the view,
// not the held answer; without minSeq the held answer is served. If the
// handler served memory regardless of minSeq, the 504 would be a 200
// with the older count.
func TestReadYourWritesFromMemory(t *testing.T) {
	sys := systemtest.Start(t, systemtest.Config{})
	s := &stack{sys: sys, http: sys.ServeAPI(t, slog.New(slog.DiscardHandler))}
	_, stop := sys.StartCalculator(t, nil, nil)
	path := queryPath("ryw-mem", "a")

	status, out := s.do(t, http.MethodPost, "/inventory/adjustment", `{"locationId":"ryw-mem","sku":"a","count":7}`)
	if status != http.StatusCreated {
		t.Fatalf("adjustment: %d %v", status, out)
	}
	first := uint64(out["seq"].(float64))
	poll.Until(t, 10*time.Second, "the read model holds the write", func() error {
		_, seq, err := sys.ReadModel.Answer(context.Background(), "ryw-mem", "a")
		if err != nil || seq != first {
			return fmt.Errorf("read model: seq %d, %v; want %d", seq, err, first)
		}
		return nil
	})
	stop()

	status, out = s.do(t, http.MethodPost, "/inventory/adjustment", `{"locationId":"ryw-mem","sku":"a","count":1}`)
	if status != http.StatusCreated {
		t.Fatalf("adjustment: %d %v", status, out)
	}
	second := strconv.FormatUint(uint64(out["seq"].(float64)), 10)
	resp := fetchAnswer(t, s.http.URL+path+"?minSeq="+second+"&wait=0.2s")
	if resp.status != http.StatusGatewayTimeout || resp.header.Get(api.ViewSeqHeader) != strconv.FormatUint(first, 10) {
		t.Fatalf("read at seq %s while memory holds %d: %d %s %v", second, first, resp.status, resp.body, resp.header)
	}
	if st, out := s.do(t, http.MethodGet, path, "", api.MinSeqHeader, strconv.FormatUint(first, 10)); st != http.StatusOK || out["count"] != float64(7) {
		t.Fatalf("read at the held sequence: %d %v, want count 7", st, out)
	}
}

func TestReadYourWritesBadInput(t *testing.T) {
	s := newStack(t)
	path := queryPath("ryw", "bad")
	for _, c := range []struct{ query, header, field string }{
		{"?minSeq=abc", "", "minSeq"},
		{"?minSeq=-1", "", "minSeq"},
		{"?minSeq=%2B1", "", "minSeq"},
		{"?minSeq=01", "", "minSeq"},
		{"?minSeq=1.5", "", "minSeq"},
		{"?minSeq=18446744073709551616", "", "minSeq"},
		{"?minSeq=9223372036854775808", "", "minSeq"},
		{"?minSeq=1&wait=5us", "", "wait"},
		{"?minSeq=1&wait=1m", "", "wait"},
		{"?minSeq=1&wait=10.5s", "", "wait"},
		{"", "x", api.MinSeqHeader},
		{"", " ", api.MinSeqHeader},
		{"?minSeq=", "", "minSeq"},
		{"?minSeq=1&wait=", "", "wait"},
		{"?minSeq=1&wait=abc", "", "wait"},
		{"?minSeq=1&wait=11s", "", "wait"},
		{"?minSeq=1&wait=-1s", "", "wait"},
		{"?minSeq=1&wait=5", "", "wait"},
	} {
		var hdr []string
		if c.header != "" {
			hdr = []string{api.MinSeqHeader, c.header}
		}
		st, out := s.do(t, http.MethodGet, path+c.query, "", hdr...)
		if st != http.StatusBadRequest || out["field"] != c.field {
			t.Errorf("%s %s: %d %v, want 400 naming %s", c.query, c.header, st, out, c.field)
		}
	}
}

type fetched struct {
	status int
	header http.Header
	body   string
}

func fetchAnswer(t *testing.T, url string) fetched {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return fetched{resp.StatusCode, resp.Header, string(b)}
}
