package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/nerd-project/nerd/internal/fsutil"
	"github.com/nerd-project/nerd/pkg/container"
	"github.com/nerd-project/nerd/pkg/network"
)

// Connect adds the container to a network: at once when it runs, at its
// next start otherwise (network connect).
func (e *Engine) Connect(ctx context.Context, c *Container, ref string, ec *container.EndpointConfig) error {
	m, err := e.Networks()
	if err != nil {
		return err
	}
	n, err := m.Get(ref)
	if err != nil {
		return err
	}
	if n.IsMode() {
		return modeConflict(n)
	}
	if ec == nil {
		ec = &container.EndpointConfig{}
	}
	if n.IsDefault() && (len(ec.Aliases) > 0 || ec.IPv4 != "") {
		return errors.New("network-scoped alias is supported only for containers in user defined networks")
	}
	if ec.IPv4 != "" && !n.Subnet().Contains(parseIP(ec.IPv4)) {
		return fmt.Errorf("invalid endpoint settings: no configured subnet or ip-range contain the IP address %s", ec.IPv4)
	}
	l, err := fsutil.LockExclusive(c.Paths.Lock())
	if err != nil {
		return err
	}
	defer l.Unlock()
	rec, err := container.ReadRecord(c.Paths)
	if err != nil {
		return err
	}
	if !needsCNI(rec) {
		return fmt.Errorf("container sharing network namespace with another container or host cannot be connected to any other network")
	}
	if _, ok := rec.Networks[n.Name]; ok {
		return fmt.Errorf("endpoint with name %s already exists in network %s", rec.Name, n.Name)
	}
	rec.Networks[n.Name] = ec
	if err := container.WriteRecord(c.Paths, rec); err != nil {
		return err
	}
	st, err := container.ReadState(c.Paths)
	if err != nil {
		return err
	}
	if st.Status == container.StatusRunning || st.Status == container.StatusPaused {
		if err := m.Connect(ctx, c.Paths.Dir, st.Pid, n.Name); err != nil {
			delete(rec.Networks, n.Name)
			_ = container.WriteRecord(c.Paths, rec)
			return err
		}
	}
	c.Record = rec
	return nil
}

// Disconnect removes the container from a network (network disconnect).
func (e *Engine) Disconnect(ctx context.Context, c *Container, ref string, force bool) error {
	m, err := e.Networks()
	if err != nil {
		return err
	}
	name := ref
	if n, err := m.Get(ref); err == nil {
		if n.IsMode() {
			return modeConflict(n)
		}
		name = n.Name
	} else if !force {
		return err
	}
	l, err := fsutil.LockExclusive(c.Paths.Lock())
	if err != nil {
		return err
	}
	defer l.Unlock()
	rec, err := container.ReadRecord(c.Paths)
	if err != nil {
		return err
	}
	if _, ok := rec.Networks[name]; !ok {
		if force {
			return nil
		}
		return fmt.Errorf("container %s is not connected to network %s", strings.TrimPrefix(rec.Name, "/"), ref)
	}
	if err := m.Disconnect(ctx, c.Paths.Dir, name); err != nil && !force {
		return err
	}
	delete(rec.Networks, name)
	if rec.HostConfig.NetworkMode == name {
		// Docker keeps the mode naming the first network it still has.
		rec.HostConfig.NetworkMode = "none"
		if names := network.NetworkNames(rec); len(names) > 0 {
			rec.HostConfig.NetworkMode = names[0]
		}
	}
	if err := container.WriteRecord(c.Paths, rec); err != nil {
		return err
	}
	c.Record = rec
	return nil
}

// modeConflict is Docker's refusal to connect to or disconnect from host
// or none.
func modeConflict(n *network.Network) error {
	return fmt.Errorf("container cannot be disconnected from %s network or connected to %s network", n.Name, n.Name)
}
