package loadtest

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"
)

// ParseMode checks a mode name.
func ParseMode(s string) (Mode, error) {
	m := Mode(s)
	if !slices.Contains(Modes, m) {
		return "", fmt.Errorf("unknown mode %q: want one of %v", s, Modes)
	}
	return m, nil
}

// Run performs one mode against the running system and reports. Progress
// bars go to progress (nil: none). A step that fails ends the run; the
// report holds what was measured until then, the failing step with its
// error.
func Run(ctx context.Context, mode Mode, cfg Config, progress io.Writer) (*Report, error) {
	if err := cfg.ValidateFor(mode); err != nil {
		return nil, err
	}
	if !cfg.Progress {
		progress = nil
	}
	t, err := connect(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer t.close()
	r := &Report{Mode: mode, Started: time.Now().UTC(), HTTP: cfg.HTTPURL, NATS: cfg.NATSURL, Partitions: t.partitions}
	for _, step := range plan(mode, cfg) {
		sec, err := step(ctx, t, progress)
		if err != nil {
			sec.Error = err.Error()
		}
		r.Sections = append(r.Sections, sec)
		if err != nil {
			r.relate()
			return r, err
		}
	}
	r.relate()
	return r, nil
}

type step func(ctx context.Context, t *target, progress io.Writer) (Section, error)

// plan is the steps of a mode. Without --via, events go over NATS, and
// ModeAll ingests over both transports. Every mode that measures HTTP
// requests measures the ceiling (GET /healthz) first, at the same
// concurrency, so its figures come with their ratio to it.
func plan(mode Mode, cfg Config) []step {
	via := cfg.Via
	if via == "" {
		via = ViaNATS
	}
	baseline := func(ctx context.Context, t *target, w io.Writer) (Section, error) { return t.baseline(ctx, cfg, w) }
	ceiling := func(ctx context.Context, t *target, w io.Writer) (Section, error) { return t.ceiling(ctx, cfg, w) }
	ingest := func(v Via) step {
		return func(ctx context.Context, t *target, w io.Writer) (Section, error) { return t.ingest(ctx, cfg, v, w) }
	}
	freshness := func(r float64) step {
		return func(ctx context.Context, t *target, w io.Writer) (Section, error) {
			return t.freshness(ctx, cfg, via, r, w)
		}
	}
	queries := func(r float64) step {
		return func(ctx context.Context, t *target, w io.Writer) (Section, error) {
			return t.queries(ctx, cfg, via, r, w)
		}
	}
	commands := func(ctx context.Context, t *target, w io.Writer) (Section, error) { return t.commands(ctx, cfg, w) }
	freshRate := cfg.Rate
	if freshRate <= 0 {
		freshRate = DefaultFreshnessRate
	}
	switch mode {
	case ModeBaseline:
		return []step{baseline}
	case ModeCeiling:
		return []step{ceiling}
	case ModeIngest:
		if via == ViaHTTP {
			return []step{ceiling, ingest(via)}
		}
		return []step{ingest(via)}
	case ModeFreshness:
		return []step{freshness(freshRate)}
	case ModeQueries:
		return []step{ceiling, queries(cfg.WithIngestRate)}
	case ModeCommands:
		return []step{ceiling, commands}
	case ModeReservations:
		steps := []step{ceiling}
		for _, shape := range reservationShapes {
			steps = append(steps, func(ctx context.Context, t *target, w io.Writer) (Section, error) {
				return t.reservations(ctx, cfg, shape, w)
			})
		}
		return steps
	case ModeFeed:
		return []step{func(ctx context.Context, t *target, w io.Writer) (Section, error) { return t.feed(ctx, cfg, w) }}
	case ModeSweep:
		sweep := cfg.Sweep
		if len(sweep) == 0 {
			sweep, _ = ParseSweep(DefaultSweep)
		}
		steps := []step{baseline}
		for i, st := range sweep {
			steps = append(steps, func(ctx context.Context, t *target, w io.Writer) (Section, error) {
				return t.sweepStep(ctx, cfg, i, st, w)
			})
		}
		return steps
	case ModeAll:
		steps := []step{baseline, ceiling}
		if cfg.Via == "" {
			steps = append(steps, ingest(ViaNATS), ingest(ViaHTTP))
		} else {
			steps = append(steps, ingest(cfg.Via))
		}
		steps = append(steps, freshness(cfg.FreshnessRate), queries(0))
		if cfg.WithIngestRate > 0 {
			steps = append(steps, queries(cfg.WithIngestRate))
		}
		// Single POSTs with no watch running, like queries over HTTP
		// whatever --via says; --batch shapes only the ingest over HTTP.
		return append(steps, commands)
	}
	return nil
}
