package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/nerd-project/nerd/internal/fsutil"
	"github.com/nerd-project/nerd/pkg/container"
	"github.com/nerd-project/nerd/pkg/engine/spec"
)

// Update is what `docker update` may change.
type Update struct {
	RestartPolicy *container.RestartPolicy
	Resources     *container.Resources
}

// UpdateContainer records the change and, when the container runs, tells
// its monitor (new cgroup limits, new restart policy).
func (e *Engine) UpdateContainer(ctx context.Context, c *Container, u Update) error {
	l, err := fsutil.LockExclusive(c.Paths.Lock())
	if err != nil {
		return err
	}
	rec, err := container.ReadRecord(c.Paths)
	if err != nil {
		l.Unlock()
		return err
	}
	if u.RestartPolicy != nil {
		if rec.HostConfig.AutoRemove && u.RestartPolicy.Name != "no" {
			l.Unlock()
			return errors.New("Restart policy cannot be updated because AutoRemove is enabled for the container")
		}
		rec.HostConfig.RestartPolicy = *u.RestartPolicy
	}
	if u.Resources != nil {
		r := &rec.HostConfig.Resources
		if u.Resources.Memory != 0 {
			r.Memory = u.Resources.Memory
		}
		if u.Resources.MemorySwap != 0 {
			r.MemorySwap = u.Resources.MemorySwap
		}
		if u.Resources.NanoCPUs != 0 {
			r.NanoCPUs = u.Resources.NanoCPUs
		}
		if u.Resources.CPUShares != 0 {
			r.CPUShares = u.Resources.CPUShares
		}
		if u.Resources.PidsLimit != nil {
			r.PidsLimit = u.Resources.PidsLimit
		}
	}
	if err := container.WriteRecord(c.Paths, rec); err != nil {
		l.Unlock()
		return err
	}
	l.Unlock()
	c.Record = rec
	if !c.State.Running() {
		return nil
	}
	cl, err := container.Dial(c.Paths)
	if err != nil {
		return err
	}
	if u.RestartPolicy != nil {
		if err := cl.SetRestartPolicy(ctx, *u.RestartPolicy); err != nil {
			return fmt.Errorf("updating restart policy of %s: %w", c.ID, err)
		}
	}
	if u.Resources != nil {
		res, err := spec.Resources(&rec.HostConfig.Resources)
		if err != nil {
			return err
		}
		if err := cl.Update(ctx, res); err != nil {
			return fmt.Errorf("updating resources of %s: %w", c.ID, err)
		}
	}
	return nil
}
