package api

import (
	"context"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/sellable/inventory/api/gen/queries"

	"github.com/sellable/inventory/sellable"
)

// Historian reads a position's events from the event stream
// (query.EventLog).
type Historian interface {
	History(ctx context.Context, k sellable.Key, before uint64, limit int) (sellable.HistoryPage, error)
}

// HistoryEntry is one event as the history serves it. Count, reason,
// reference and source are absent when the event gives none or could not
// be read (error says why).
type HistoryEntry struct {
	Seq       uint64 `json:"seq"`
	Time      string `json:"time"`
	Kind      string `json:"kind"`
	Count     *int64 `json:"count,omitempty"`
	Reason    string `json:"reason,omitempty"`
	Reference string `json:"reference,omitempty"`
	Source    string `json:"source,omitempty"`
	Error     string `json:"error,omitempty"`
}

// HistoryResponse is one page of a position's events, newest first.
// NextBefore is the before of the next page, absent after the last.
type HistoryResponse struct {
	LocationID string         `json:"locationId"`
	SKU        string         `json:"sku"`
	Events     []HistoryEntry `json:"events"`
	NextBefore uint64         `json:"nextBefore,omitempty"`
}

// GetPositionHistory answers GET
// /inventory/locations/{location}/skus/{sku}/history?limit=&before=.
func (s queryServer) GetPositionHistory(c echo.Context, loc queries.Location, sku queries.ID, _ queries.GetPositionHistoryParams) error {
	{
		var err error
		limit := sellable.DefaultHistoryLimit
		if s, ok := queryValue(c, "limit"); ok {
			if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > sellable.MaxHistoryLimit {
				return &sellable.FieldError{Field: "limit", Err: sellable.ErrHistoryLimit}
			}
		}
		var before uint64
		if s, ok := queryValue(c, "before"); ok {
			if before, err = seqParam(s, "before"); err != nil || before == 0 {
				return &sellable.FieldError{Field: "before", Err: sellable.ErrHistoryBefore}
			}
		}
		page, err := s.h.History(c.Request().Context(), sellable.Key{LocationID: loc, SKU: sku}, before, limit)
		if err != nil {
			return err
		}
		out := HistoryResponse{LocationID: loc, SKU: sku, Events: make([]HistoryEntry, len(page.Entries)), NextBefore: page.Before}
		for i, en := range page.Entries {
			out.Events[i] = historyEntry(en)
		}
		return c.JSON(http.StatusOK, out)
	}
}

func historyEntry(en sellable.HistoryEntry) HistoryEntry {
	h := HistoryEntry{Seq: en.Seq, Time: en.Time.UTC().Format(TimeFormat), Kind: en.Kind}
	if en.Decoded {
		n := en.Event.Count
		h.Count = &n
		h.Reason, h.Reference, h.Source = string(en.Event.Reason), en.Event.Reference, en.Event.Source
	}
	if en.Err != nil {
		h.Error = en.Err.Error()
	}
	return h
}
