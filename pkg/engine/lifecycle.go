package engine

import (
	"context"
	"errors"
	"fmt"
	"github.com/nerd-project/nerd/internal/names"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nerd-project/nerd/internal/fsutil"
	"github.com/nerd-project/nerd/internal/signal"
	"github.com/nerd-project/nerd/pkg/container"
	"golang.org/x/sys/unix"
)

// DefaultStopTimeout is Docker's grace period before SIGKILL.
const DefaultStopTimeout = 10

// ErrNotRunning is wrapped when an operation needs a running container.
var ErrNotRunning = errors.New("is not running")

func (e *Engine) client(c *Container) (*container.Client, error) {
	cl, err := container.Dial(c.Paths)
	if err != nil {
		return nil, err
	}
	return cl, nil
}

func (e *Engine) refresh(c *Container) {
	if fresh, err := e.load(c.ID); err == nil {
		*c = *fresh
	}
}

// Kill sends sig to the container's init. Like a user's docker kill it
// marks the container manually stopped, so the restart policy leaves it.
func (e *Engine) Kill(ctx context.Context, c *Container, sig syscall.Signal) error {
	e.refresh(c)
	if !c.State.Running() {
		return fmt.Errorf("cannot kill container: %s: container %s %w", c.displayRef(), c.ID, ErrNotRunning)
	}
	cl, err := e.client(c)
	if err != nil {
		return err
	}
	if err := cl.Kill(ctx, int(sig), true); err != nil {
		return err
	}
	if sig == syscall.SIGKILL {
		// Like Docker, a SIGKILL kill returns once the container is down,
		// so `kill x; rm x` works.
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_, _ = e.Wait(wctx, c)
	}
	return nil
}

func (c *Container) displayRef() string { return c.Name }

// StopSignal is the container's stop signal (default SIGTERM).
func (c *Container) StopSignal() syscall.Signal {
	if s, err := ParseSignal(c.Config.StopSignal); err == nil && s != 0 {
		return s
	}
	return syscall.SIGTERM
}

// Stop sends the stop signal, waits up to timeout seconds (nil: the
// container's --stop-timeout, else 10; -1: forever), then SIGKILL. A
// container that is not running is left alone, as in Docker.
func (e *Engine) Stop(ctx context.Context, c *Container, timeout *int, sig syscall.Signal) error {
	e.refresh(c)
	if !c.State.Running() {
		return nil
	}
	cl, err := e.client(c)
	if err != nil {
		return err
	}
	if sig == 0 {
		sig = c.StopSignal()
	}
	t := DefaultStopTimeout
	if c.Config.StopTimeout != nil {
		t = *c.Config.StopTimeout
	}
	if timeout != nil {
		t = *timeout
	}
	if err := cl.Kill(ctx, int(sig), true); err != nil && !errors.Is(err, container.ErrNoMonitor) {
		return err
	}
	wctx := ctx
	if t >= 0 {
		var cancel context.CancelFunc
		wctx, cancel = context.WithTimeout(ctx, time.Duration(t)*time.Second)
		defer cancel()
	}
	if _, err := e.Wait(wctx, c); err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err := cl.Kill(ctx, int(syscall.SIGKILL), true); err != nil && !errors.Is(err, container.ErrNoMonitor) {
		return err
	}
	_, err = e.Wait(ctx, c)
	return err
}

// Wait blocks until the container is no longer running and returns its
// exit code.
func (e *Engine) Wait(ctx context.Context, c *Container) (int, error) {
	e.refresh(c)
	if !c.State.Running() {
		return c.State.ExitCode, nil
	}
	cl, err := e.client(c)
	if err == nil {
		code, werr := cl.Wait(ctx)
		if werr == nil {
			e.waitMonitorGone(ctx, c)
			return code, nil
		}
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
	}
	// No monitor to ask: poll the state (reconciled when the monitor is gone).
	for {
		e.refresh(c)
		if !c.State.Running() {
			return c.State.ExitCode, nil
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// waitMonitorGone gives the monitor a moment to finish its teardown (state
// written, rootfs unmounted) after it reported the exit.
func (e *Engine) waitMonitorGone(ctx context.Context, c *Container) {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		st, err := container.ReadState(c.Paths)
		if err != nil {
			return // removed by --rm
		}
		c.State = st
		if !container.MonitorAlive(st) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Pause freezes the container.
func (e *Engine) Pause(ctx context.Context, c *Container) error {
	e.refresh(c)
	if c.State.Status == container.StatusPaused {
		return fmt.Errorf("container %s is already paused", c.ID)
	}
	if c.State.Status != container.StatusRunning {
		return fmt.Errorf("container %s %w", c.ID, ErrNotRunning)
	}
	cl, err := e.client(c)
	if err != nil {
		return err
	}
	return cl.Pause(ctx)
}

// Unpause thaws it.
func (e *Engine) Unpause(ctx context.Context, c *Container) error {
	e.refresh(c)
	if c.State.Status != container.StatusPaused {
		return fmt.Errorf("container %s is not paused", c.ID)
	}
	cl, err := e.client(c)
	if err != nil {
		return err
	}
	return cl.Resume(ctx)
}

// Rename gives the container a new name.
func (e *Engine) Rename(c *Container, name string) error {
	name = strings.TrimPrefix(name, "/")
	if !validName(name) {
		return fmt.Errorf("Invalid container name (%s), only %s are allowed", name, names.Allowed)
	}
	l, err := e.namesLock()
	if err != nil {
		return err
	}
	defer l.Unlock()
	if name == c.Name {
		return fmt.Errorf("Renaming a container with the same name as its current name")
	}
	if other := e.nameOwner(name); other != "" {
		return fmt.Errorf("%w: Conflict. The container name \"/%s\" is already in use by container \"%s\". You have to remove (or rename) that container to be able to reuse that name.", ErrConflict, name, other)
	}
	cl, err := fsutil.LockExclusive(c.Paths.Lock())
	if err != nil {
		return err
	}
	defer cl.Unlock()
	rec, err := container.ReadRecord(c.Paths)
	if err != nil {
		return err
	}
	old := rec.Name
	if err := e.claimName(name, c.ID); err != nil {
		return err
	}
	rec.Name = name
	if err := container.WriteRecord(c.Paths, rec); err != nil {
		return err
	}
	e.releaseName(old, c.ID)
	return nil
}

// RemoveOptions tune Remove.
type RemoveOptions struct {
	Force bool
	// Volumes removes the container's anonymous volumes (rm -v).
	Volumes bool
}

// removeContainer deletes a container. A running one needs Force (it is
// killed). A container whose monitor died is cleaned up by hand: its
// processes are killed through its cgroup, its rootfs unmounted.
func (e *Engine) removeContainer(ctx context.Context, c *Container, opts RemoveOptions) error {
	e.refresh(c)
	if c.State.Running() {
		if !opts.Force {
			// dockerd's texts (daemon/delete.go).
			if c.State.Status == container.StatusPaused {
				return fmt.Errorf("%w: cannot remove container \"/%s\": container is paused and must be unpaused first", ErrConflict, c.Name)
			}
			return fmt.Errorf("%w: cannot remove container \"/%s\": container is %s: stop the container before removing or force remove", ErrConflict, c.Name, c.State.Status)
		}
		if cl, err := e.client(c); err == nil {
			_ = cl.Kill(ctx, int(syscall.SIGKILL), true)
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			_, _ = e.Wait(wctx, c)
			cancel()
		}
	}
	// A monitor that is still starting (it holds the lock until the state
	// says running) or that a killed `run` left behind is stopped through
	// its socket; retry a few times rather than fail the rm.
	var l *fsutil.Lock
	for attempt := 0; ; attempt++ {
		var err error
		if l, err = fsutil.LockExclusive(c.Paths.Lock()); err != nil {
			return err
		}
		st, err := container.ReadState(c.Paths)
		if err != nil || !st.Running() || !container.MonitorAlive(st) {
			break
		}
		l.Unlock()
		if !opts.Force || attempt == 3 {
			return fmt.Errorf("cannot remove container \"/%s\": its monitor did not stop", c.Name)
		}
		if cl, err := e.client(c); err == nil {
			_ = cl.Kill(ctx, int(syscall.SIGKILL), true)
		}
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, _ = e.Wait(wctx, c)
		cancel()
	}
	defer l.Unlock()
	e.cleanupOrphans(c)
	if err := e.teardownNetworks(ctx, c); err != nil && !opts.Force {
		return fmt.Errorf("removing container %s: %w", c.ID, err)
	}
	// Rename first: a crash mid-delete leaves a hidden directory, never a
	// half container that ps would show.
	trash := filepath.Join(e.containersDir(), ".rm-"+c.ID)
	if err := os.Rename(c.Paths.Dir, trash); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil // --rm got there first
		}
		return fmt.Errorf("removing container %s: %w", c.ID, err)
	}
	e.releaseName(c.Name, c.ID)
	return os.RemoveAll(trash)
}

// cleanupOrphans kills what a dead monitor left behind (the container's
// processes, found through its cgroup), unmounts the rootfs and drops the
// libcontainer state, so rm -f after a kill -9 of the monitor releases
// everything.
func (e *Engine) cleanupOrphans(c *Container) {
	killed := false
	for _, ctrl := range []string{"pids", "memory", "cpu", "freezer", "devices", "blkio", "cpuset", "cpuacct", "net_cls", "perf_event", "hugetlb", "systemd", "unified", ""} {
		dir := filepath.Join("/sys/fs/cgroup", ctrl, "nerd", c.ID)
		if ctrl == "freezer" {
			_ = os.WriteFile(filepath.Join(dir, "freezer.state"), []byte("THAWED"), 0)
		}
		if data, err := os.ReadFile(filepath.Join(dir, "cgroup.procs")); err == nil {
			for _, f := range strings.Fields(string(data)) {
				if pid, err := strconv.Atoi(f); err == nil && pid > 0 {
					_ = unix.Kill(pid, unix.SIGKILL)
					killed = true
				}
			}
		}
	}
	if c.State.Pid > 0 && !container.MonitorAlive(c.State) {
		// The init may still run if its cgroup was not found.
		if isInitOf(c.State.Pid, c.ID) {
			_ = unix.Kill(c.State.Pid, unix.SIGKILL)
			killed = true
		}
	}
	if killed {
		// Give the killed processes a moment to leave the mount and cgroups
		// (longer under load, or while their network namespace goes).
		waitCgroupEmpty(c.ID, 2*time.Second)
	}
	_ = unix.Unmount(c.Paths.Rootfs(), unix.MNT_DETACH)
	for _, ctrl := range []string{"pids", "memory", "cpu", "freezer", "devices", "blkio", "cpuset", "cpuacct", "net_cls", "perf_event", "hugetlb", "systemd", "unified", ""} {
		_ = os.Remove(filepath.Join("/sys/fs/cgroup", ctrl, "nerd", c.ID))
	}
	_ = os.RemoveAll(filepath.Join(c.Paths.RuncRoot(), c.ID))
	_ = os.Remove(c.Paths.Socket())
}

// waitCgroupEmpty waits until no process is left in the container's pids
// (or unified) cgroup, or timeout.
func waitCgroupEmpty(id string, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for {
		empty := true
		for _, ctrl := range []string{"pids", "unified", ""} {
			data, err := os.ReadFile(filepath.Join("/sys/fs/cgroup", ctrl, "nerd", id, "cgroup.procs"))
			if err == nil && len(strings.TrimSpace(string(data))) > 0 {
				empty = false
			}
		}
		if empty || time.Now().After(deadline) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// isInitOf checks through /proc/<pid>/cgroup that pid belongs to container
// id, so a recycled pid is never killed.
func isInitOf(pid int, id string) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	return err == nil && strings.Contains(string(data), "/nerd/"+id)
}

// ParseSignal accepts "TERM", "SIGTERM", "15", "RTMIN+1"; "" is 0 (the
// default signal).
func ParseSignal(s string) (syscall.Signal, error) {
	if s == "" {
		return 0, nil
	}
	return signal.Parse(s)
}

// WaitRemoved waits (briefly) until an --rm container's monitor has removed
// it.
func (e *Engine) WaitRemoved(ctx context.Context, c *Container) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(c.Paths.Dir); errors.Is(err, os.ErrNotExist) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
}
