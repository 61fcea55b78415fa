package app

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"strconv"
	"time"
)

// followParent returns a context that also ends when the process that
// started this one, or that process's parent, exits. A task runner needs
// this: `go tool task run` is the go command running Task running the
// program, and neither passes a SIGTERM on (Task waits for a third one,
// then exits); a runner that dies or is killed must not leave the
// program holding its ports. Off by default: a program started with
// nohup must outlive its shell.
func followParent(ctx context.Context, log *slog.Logger) context.Context {
	ppid := os.Getppid()
	gppid, _ := procParent(ppid) // 0 where /proc is missing: parent only
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			gone := 0
			if os.Getppid() != ppid {
				gone = ppid
			} else if gppid > 1 && !procAlive(gppid) {
				gone = gppid
			}
			if gone != 0 {
				log.Info("stopping: the process that started this one exited", "pid", gone)
				cancel()
				return
			}
		}
	}()
	return ctx
}

// procParent reads a process's parent from /proc/<pid>/stat (Linux).
func procParent(pid int) (int, bool) {
	_, ppid, ok := procStat(pid)
	return ppid, ok
}

// procAlive is false once a process has exited, zombies included.
func procAlive(pid int) bool {
	state, _, ok := procStat(pid)
	return ok && state != 'Z' && state != 'X'
}

// procStat parses "pid (comm) S ppid ..."; comm may hold spaces and
// parentheses, so the fields start after the last ')'.
func procStat(pid int) (state byte, ppid int, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 2 || len(f[0]) != 1 {
		return 0, 0, false
	}
	ppid, err = strconv.Atoi(string(f[1]))
	return f[0][0], ppid, err == nil
}
