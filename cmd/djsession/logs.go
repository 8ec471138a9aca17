package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// quietLibraryLogs keeps the libraries' own log lines off stderr, where
// only djsession's messages belong (a failure is reported once, as the
// command's error):
//
//   - go-redis logs every failed dial ("redis: 2026/11/22 ... pool.go:770:
//     ... failed to dial") through its package logger: it is replaced by one
//     that drops everything.
//   - slog's default logger, which the stores use for what Django logs as
//     a warning (cached_db: "reading the cache failed; using the
//     database"; "error saving to cache"), prints through w as
//     "djsession: warning: ..." lines; below Warn nothing is printed.
func quietLibraryLogs(w io.Writer) {
	redis.SetLogger(discardRedisLog{})
	slog.SetDefault(slog.New(&warningHandler{w: w, mu: new(sync.Mutex)}))
}

// discardRedisLog is a go-redis logger that prints nothing.
type discardRedisLog struct{}

func (discardRedisLog) Printf(context.Context, string, ...any) {}

// warningHandler is a slog.Handler that writes each record at Warn or
// above as one line "djsession: warning: MESSAGE (key=value, ...)", with
// control characters replaced.
type warningHandler struct {
	w     io.Writer
	mu    *sync.Mutex
	attrs []slog.Attr
	group string
}

func (h *warningHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }

func (h *warningHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	// Even an error record is a warning here: the command's own outcome
	// is reported once, by its exit code and message.
	b.WriteString("djsession: warning: ")
	b.WriteString(sanitize(r.Message))
	var parts []string
	add := func(a slog.Attr) {
		if a.Equal(slog.Attr{}) {
			return
		}
		key := a.Key
		if h.group != "" {
			key = h.group + "." + key
		}
		parts = append(parts, key+"="+sanitize(a.Value.Resolve().String()))
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(func(a slog.Attr) bool { add(a); return true })
	if len(parts) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(parts, ", "))
	}
	b.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, b.String())
	return err
}

func (h *warningHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), attrs...)
	return &c
}

func (h *warningHandler) WithGroup(name string) slog.Handler {
	c := *h
	if c.group != "" {
		name = c.group + "." + name
	}
	c.group = name
	return &c
}
