package engine

import (
	"context"
	"fmt"
)

// Boot starts every stopped container whose restart policy wants it running
// after a reboot (Docker's daemon-start behaviour): "always"; and
// "unless-stopped" and "on-failure" unless a user stopped it. Records whose
// monitor died with the machine read as exited (255) by then.
func (e *Engine) Boot(ctx context.Context) ([]*Container, []error) {
	all, err := e.List()
	if err != nil {
		return nil, []error{err}
	}
	var started []*Container
	var errs []error
	for _, c := range all {
		if c.State.Running() || !wantsBoot(c) {
			continue
		}
		if err := e.Start(ctx, c); err != nil {
			errs = append(errs, fmt.Errorf("starting %s: %w", c.Name, err))
			continue
		}
		started = append(started, c)
	}
	return started, errs
}

func wantsBoot(c *Container) bool {
	if c.State.Status == "created" {
		return false
	}
	switch c.HostConfig.RestartPolicy.Name {
	case "always":
		return true
	case "unless-stopped":
		return !c.State.ManuallyStopped
	case "on-failure":
		return !c.State.ManuallyStopped && c.State.ExitCode != 0
	}
	return false
}
