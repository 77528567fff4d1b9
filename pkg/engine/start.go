package engine

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"github.com/nerd-project/nerd/internal/fsutil"
	"github.com/nerd-project/nerd/pkg/container"
)

// StartError is a failure to start the container's process, with the exit
// code Docker gives it: 127 (command not found), 126 (cannot invoke), 125.
type StartError struct {
	Msg  string
	Code int
}

func (e *StartError) Error() string { return e.Msg }

// startReport is what the monitor writes on fd 3 once the container runs
// (or failed to).
type startReport struct {
	Pid   int    `json:"pid"`
	Error string `json:"error"`
	Code  int    `json:"code"`
}

// Start starts a created or exited container under a new monitor. Starting
// a running container does nothing, as in Docker.
func (e *Engine) Start(ctx context.Context, c *Container) error {
	return e.start(ctx, c, false)
}

// StartAttached is Start for a client that attaches next (run without -d,
// start -a): the monitor creates the container but holds its process until
// the first attach, so not a byte of early output is missed.
func (e *Engine) StartAttached(ctx context.Context, c *Container) error {
	return e.start(ctx, c, true)
}

func (e *Engine) start(ctx context.Context, c *Container, waitAttach bool) error {
	l, err := fsutil.LockExclusive(c.Paths.Lock())
	if err != nil {
		return err
	}
	st, err := container.ReadState(c.Paths)
	if err != nil {
		l.Unlock()
		return err
	}
	if st.Running() && container.MonitorAlive(st) {
		l.Unlock()
		return nil
	}
	// A user start clears the manual-stop mark and the restart count (a
	// fresh container has neither: no write, no fsync on the run path).
	if st.ManuallyStopped || st.RestartCount != 0 || st.Error != "" {
		st.ManuallyStopped = false
		st.RestartCount = 0
		st.Error = ""
		if err := container.WriteState(c.Paths, st); err != nil {
			l.Unlock()
			return err
		}
	}
	// The monitor takes the lock itself to record "running".
	l.Unlock()

	shim, err := e.shim()
	if err != nil {
		return err
	}
	// Published host ports are bound here, before anything starts, so a
	// taken port fails the start cleanly; the monitor inherits the sockets.
	ports, err := e.reservePorts(ctx, c)
	if err != nil {
		return err
	}
	defer ports.Close()
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		w.Close()
		return err
	}
	defer devnull.Close()
	args := []string{"--id", c.ID, "--dir", c.Paths.Dir, "--run-dir", c.Paths.RunDir}
	if waitAttach {
		args = append(args, "--wait-attach")
	}
	cmd := exec.Command(shim, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = devnull, devnull, devnull
	cmd.ExtraFiles = []*os.File{w}
	if ports != nil {
		cmd.ExtraFiles = append(cmd.ExtraFiles, ports.Files...)
	}
	// Its own session: the monitor outlives this CLI and its terminal.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		return fmt.Errorf("starting monitor for %s: %w", c.ID, err)
	}
	w.Close()
	line, readErr := bufio.NewReader(r).ReadBytes('\n')
	// The monitor lives on; never wait for it (it is not our child to reap
	// once we exit, and a detached run must return at once).
	_ = cmd.Process.Release()
	if readErr != nil && len(line) == 0 {
		return fmt.Errorf("starting container %s: monitor exited before the container started", c.ID)
	}
	var rep startReport
	if err := json.Unmarshal(line, &rep); err != nil {
		return fmt.Errorf("starting container %s: bad monitor report %q", c.ID, line)
	}
	if rep.Error != "" {
		code := rep.Code
		if code == 0 {
			code = 125
		}
		return &StartError{Msg: hookError(rep.Error), Code: code}
	}
	if st, err := container.ReadState(c.Paths); err == nil {
		c.State = st
	}
	return nil
}
