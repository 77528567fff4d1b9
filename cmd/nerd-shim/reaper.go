package main

import (
	"errors"
	"os"
	"os/signal"
	"sync"

	"golang.org/x/sys/unix"
)

// maxUnclaimed bounds the exit statuses kept for pids nobody waits for
// yet: a process can exit (and be reaped) before the monitor learns its pid
// from the helper. Everything else reaped here (orphans of a shared pid
// namespace, detached execs) is never claimed: the oldest are dropped.
const maxUnclaimed = 64

var errReaped = errors.New("process already exited")

// reaper is the only place that reaps children: as a child subreaper the
// monitor adopts the container's init and exec'd processes when the helper
// that started them exits, and it runs no library that waits on its own
// children, so one wait4(-1) loop on SIGCHLD sees every exit.
type reaper struct {
	mu        sync.Mutex
	waiting   map[int]chan unix.WaitStatus
	unclaimed []exit // oldest first
}

type exit struct {
	pid int
	ws  unix.WaitStatus
}

func newReaper() *reaper {
	r := &reaper{waiting: map[int]chan unix.WaitStatus{}}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, unix.SIGCHLD)
	go func() {
		for range sig {
			r.reap()
		}
	}()
	return r
}

func (r *reaper) reap() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil || pid <= 0 {
			return
		}
		if ch, ok := r.waiting[pid]; ok {
			delete(r.waiting, pid)
			ch <- ws
		} else {
			if len(r.unclaimed) == maxUnclaimed {
				r.unclaimed = append(r.unclaimed[:0], r.unclaimed[1:]...)
			}
			r.unclaimed = append(r.unclaimed, exit{pid, ws})
		}
	}
}

// expect returns a channel that receives pid's exit status.
func (r *reaper) expect(pid int) <-chan unix.WaitStatus {
	ch := make(chan unix.WaitStatus, 1)
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, e := range r.unclaimed {
		if e.pid == pid {
			r.unclaimed = append(r.unclaimed[:i], r.unclaimed[i+1:]...)
			ch <- e.ws
			return ch
		}
	}
	r.waiting[pid] = ch
	return ch
}

// kill signals pid if it has not been reaped: while its zombie (or the
// process) exists the pid cannot be reused, so the signal cannot hit
// another process.
func (r *reaper) kill(pid int, sig unix.Signal) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.waiting[pid]; !ok {
		return errReaped
	}
	return unix.Kill(pid, sig)
}
