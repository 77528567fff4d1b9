package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/nerd-project/nerd/internal/fsutil"
	"github.com/nerd-project/nerd/pkg/container"
	"github.com/nerd-project/nerd/pkg/engine/spec"
	specs "github.com/opencontainers/runtime-spec/specs-go"
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
	if u.Resources != nil {
		// The monitor re-reads config.json at every (re)start.
		if err := rewriteSpecResources(c, &rec.HostConfig.Resources); err != nil {
			l.Unlock()
			return err
		}
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

func rewriteSpecResources(c *Container, r *container.Resources) error {
	data, err := os.ReadFile(c.Paths.Spec())
	if err != nil {
		return err
	}
	var s specs.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("reading %s: %w", c.Paths.Spec(), err)
	}
	res, err := spec.Resources(r)
	if err != nil {
		return err
	}
	if s.Linux != nil {
		devices := []specs.LinuxDeviceCgroup(nil)
		if s.Linux.Resources != nil {
			devices = s.Linux.Resources.Devices
		}
		s.Linux.Resources = res
		s.Linux.Resources.Devices = devices
	}
	out, err := json.MarshalIndent(&s, "", "  ")
	if err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(c.Paths.Spec(), out, 0o644)
}
