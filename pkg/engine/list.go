package engine

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/nerd-project/nerd/internal/fsutil"
	"github.com/nerd-project/nerd/pkg/container"
)

// Container is a record with its (reconciled) state.
type Container struct {
	*container.Record
	State *container.State
	Paths container.Paths
}

// List returns every container, newest first. States whose monitor is gone
// are reconciled to exited on the way.
func (e *Engine) List() ([]*Container, error) {
	entries, err := os.ReadDir(e.containersDir())
	if err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	var out []*Container
	for _, ent := range entries {
		if !ent.IsDir() || strings.HasPrefix(ent.Name(), ".") {
			continue
		}
		c, err := e.load(ent.Name())
		if err != nil {
			// Removed meanwhile, or unreadable: skip rather than fail ps.
			continue
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out, nil
}

func (e *Engine) load(id string) (*Container, error) {
	p := e.Paths(id)
	rec, err := container.ReadRecord(p)
	if err != nil {
		return nil, err
	}
	st, err := container.ReadState(p)
	if err != nil {
		return nil, err
	}
	c := &Container{Record: rec, State: st, Paths: p}
	if st.Running() && !container.MonitorAlive(st) {
		if err := e.reconcile(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// reconcile marks a container whose monitor died (kill -9, crash, reboot)
// as exited, so it never shows as a phantom "Up".
func (e *Engine) reconcile(c *Container) error {
	l, err := fsutil.LockExclusive(c.Paths.Lock())
	if err != nil {
		return err
	}
	defer l.Unlock()
	st, err := container.ReadState(c.Paths)
	if err != nil {
		return err
	}
	if st.Running() && !container.MonitorAlive(st) {
		st.Status = container.StatusExited
		if st.ExitCode == 0 {
			st.ExitCode = 255
		}
		st.Pid = 0
		st.FinishedAt = time.Now().UTC()
		st.Error = "monitor process exited unexpectedly"
		if err := container.WriteState(c.Paths, st); err != nil {
			return err
		}
	}
	c.State = st
	return nil
}

// Get finds a container by full ID, name (with or without "/") or unique
// ID prefix, as Docker does.
func (e *Engine) Get(ref string) (*Container, error) {
	if ref == "" {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, ref)
	}
	if isHexID(ref) && len(ref) == 64 {
		if c, err := e.load(ref); err == nil {
			return c, nil
		}
	}
	// Docker's order: full ID, exact name, then a unique ID prefix.
	if id := e.nameOwner(strings.TrimPrefix(ref, "/")); id != "" {
		if c, err := e.load(id); err == nil {
			return c, nil
		}
	}
	var match string
	if isHexID(ref) {
		for _, id := range e.recordIDs() {
			if strings.HasPrefix(id, ref) {
				if match != "" {
					return nil, fmt.Errorf("multiple IDs found with provided prefix: %s", ref)
				}
				match = id
			}
		}
	}
	if match == "" {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, ref)
	}
	c, err := e.load(match)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, ref)
	}
	return c, nil
}

func isHexID(s string) bool {
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return s != ""
}

// NotFound reports whether err means a missing container.
func NotFound(err error) bool { return errors.Is(err, ErrNotFound) }
