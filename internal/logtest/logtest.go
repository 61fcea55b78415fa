// Package logtest captures what code under test logs, so a test can
// assert that a warning was given.
package logtest

import (
	"bytes"
	"log/slog"
	"sync"
)

// Buffer collects a logger's text output; safe for concurrent logging.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// New is an empty buffer.
func New() *Buffer { return &Buffer{} }

// Logger logs every level, as text, into b.
func (b *Buffer) Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// Len is how many bytes were logged so far.
func (b *Buffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Len()
}

// String is everything logged so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
