package network

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/nerd-project/nerd/pkg/container"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// Setup attaches the container in dir, whose init is pid, to its networks
// (the createRuntime hook). It is idempotent: endpoints left by a run
// whose teardown never happened are released first.
func (m *Manager) Setup(ctx context.Context, dir string, pid int) error {
	rec, err := container.ReadRecord(container.Paths{Dir: dir})
	if err != nil {
		return err
	}
	names := NetworkNames(rec)
	nsPath := fmt.Sprintf("/proc/%d/ns/net", pid)
	// runc leaves lo down when it joins or creates a netns for us; one
	// netlink call instead of the loopback plugin's exec.
	if err := loopbackUp(nsPath); err != nil {
		return fmt.Errorf("bringing up lo: %w", err)
	}
	if len(names) == 0 {
		return nil
	}
	if err := m.cniPluginsPresent(); err != nil {
		return err
	}
	l, err := m.lock()
	if err != nil {
		return err
	}
	defer l.Unlock()
	a, err := ReadAttachment(dir)
	if err != nil {
		return err
	}
	if len(a.Endpoints) > 0 {
		m.detachAll(ctx, rec.ID, a)
	}
	a.ContainerID, a.Name = rec.ID, rec.Name
	for i, name := range names {
		ep, err := m.attach(ctx, rec, a, name, nsPath, fmt.Sprintf("eth%d", i), i == 0)
		if err != nil {
			m.detachAll(ctx, rec.ID, a)
			_ = writeAttachment(dir, a)
			return err
		}
		a.Endpoints = append(a.Endpoints, ep)
	}
	if err := writeAttachment(dir, a); err != nil {
		m.detachAll(ctx, rec.ID, a)
		return err
	}
	if err := m.WriteHosts(dir, rec, a); err != nil {
		return err
	}
	return m.refreshDNS(ctx, names...)
}

// attach adds one endpoint. Callers hold the lock.
func (m *Manager) attach(ctx context.Context, rec *container.Record, a *Attachment, name, nsPath, ifName string, withPorts bool) (*Endpoint, error) {
	n, err := m.read(name)
	if errors.Is(err, ErrNotFound) && name == DefaultNetwork {
		n, err = m.ensureDefault()
	}
	if err != nil {
		return nil, err
	}
	if err := m.ensureRules(ctx, n); err != nil {
		return nil, err
	}
	ec := rec.Networks[name]
	if ec == nil {
		ec = &container.EndpointConfig{}
	}
	ep, err := m.cniAdd(ctx, n, rec.ID, nsPath, ifName, ec.IPv4, ec.MacAddress)
	if err != nil {
		return nil, fmt.Errorf("attaching to network %s: %w", name, err)
	}
	if withPorts && len(a.Ports) > 0 {
		if err := m.publish(ctx, n.Bridge(), rec.ID, ep.IP, a.Ports); err != nil {
			_ = m.cniDel(ctx, n, rec.ID, ep, nil)
			return nil, fmt.Errorf("attaching to network %s: %w", name, err)
		}
		ep.Ports, ep.PortDriver = true, PortDriverNerd
	}
	ep.Aliases = ec.Aliases
	if id, err := newID(); err == nil {
		ep.EndpointID = id
	}
	m.writeConflist(n)
	return ep, nil
}

// detachAll releases every endpoint of a (best effort) and empties it.
// Callers hold the lock.
func (m *Manager) detachAll(ctx context.Context, id string, a *Attachment) []error {
	var errs []error
	for _, ep := range a.Endpoints {
		if err := m.detach(ctx, id, a, ep); err != nil {
			errs = append(errs, err)
		}
	}
	a.Endpoints = nil
	return errs
}

func (m *Manager) detach(ctx context.Context, id string, a *Attachment, ep *Endpoint) error {
	var errs []error
	if ep.Ports && ep.PortDriver == PortDriverNerd {
		// Before anything that can fail: the rules need no network.
		if err := m.unpublish(ctx, id, ep.IP, a.Ports); err != nil {
			errs = append(errs, err)
		}
	}
	n, err := m.read(ep.Network)
	if err == nil {
		err = m.cniDel(ctx, n, id, ep, a.Ports)
	}
	if err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("detaching from network %s: %w", ep.Network, err)
	}
	return nil
}

// Teardown detaches the container in dir from every network (the poststop
// hook, and rm for a container whose hook never ran). Idempotent; the
// container's netns may be long gone.
func (m *Manager) Teardown(ctx context.Context, dir string) error {
	a, err := ReadAttachment(dir)
	if err != nil || len(a.Endpoints) == 0 {
		return err
	}
	l, err := m.lock()
	if err != nil {
		return err
	}
	defer l.Unlock()
	// Re-read under the lock: another teardown may have won.
	if a, err = ReadAttachment(dir); err != nil || len(a.Endpoints) == 0 {
		return err
	}
	var names []string
	for _, ep := range a.Endpoints {
		names = append(names, ep.Network)
	}
	errs := m.detachAll(ctx, a.ContainerID, a)
	if err := writeAttachment(dir, a); err != nil {
		errs = append(errs, err)
	}
	if err := m.refreshDNS(ctx, names...); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// withAttachment runs fn on the record and attachment of the container in
// dir under the network lock, then saves the attachment, rewrites the
// hosts file and refreshes the responders of the networks touched.
func (m *Manager) withAttachment(ctx context.Context, dir string, fn func(*container.Record, *Attachment) ([]string, error)) error {
	rec, err := container.ReadRecord(container.Paths{Dir: dir})
	if err != nil {
		return err
	}
	l, err := m.lock()
	if err != nil {
		return err
	}
	defer l.Unlock()
	a, err := ReadAttachment(dir)
	if err != nil {
		return err
	}
	touched, err := fn(rec, a)
	if touched == nil {
		return err
	}
	if werr := writeAttachment(dir, a); werr != nil {
		return werr
	}
	_ = m.WriteHosts(dir, rec, a)
	return errors.Join(err, m.refreshDNS(ctx, append(endpointNetworks(a), touched...)...))
}

// Connect attaches a running container to one more network (network
// connect). The caller has added the network to the container's record.
func (m *Manager) Connect(ctx context.Context, dir string, pid int, name string) error {
	return m.withAttachment(ctx, dir, func(rec *container.Record, a *Attachment) ([]string, error) {
		if a.Endpoint(name) != nil {
			return nil, fmt.Errorf("endpoint with name %s already exists in network %s", rec.Name, name)
		}
		used := map[string]bool{}
		for _, ep := range a.Endpoints {
			used[ep.IfName] = true
		}
		ifName := "eth0"
		for i := 0; used[ifName]; i++ {
			ifName = fmt.Sprintf("eth%d", i+1)
		}
		ep, err := m.attach(ctx, rec, a, name, fmt.Sprintf("/proc/%d/ns/net", pid), ifName, len(a.Endpoints) == 0)
		if err != nil {
			return nil, err
		}
		a.ContainerID, a.Name = rec.ID, rec.Name
		a.Endpoints = append(a.Endpoints, ep)
		return []string{name}, nil
	})
}

// Disconnect detaches a running container from one network.
func (m *Manager) Disconnect(ctx context.Context, dir, name string) error {
	return m.withAttachment(ctx, dir, func(rec *container.Record, a *Attachment) ([]string, error) {
		ep := a.Endpoint(name)
		if ep == nil {
			return nil, nil
		}
		err := m.detach(ctx, a.ContainerID, a, ep)
		kept := a.Endpoints[:0]
		for _, e := range a.Endpoints {
			if e != ep {
				kept = append(kept, e)
			}
		}
		a.Endpoints = kept
		return []string{name}, err
	})
}

func endpointNetworks(a *Attachment) []string {
	var names []string
	for _, ep := range a.Endpoints {
		names = append(names, ep.Network)
	}
	return names
}

// loopbackUp sets lo up inside the netns at nsPath without entering it.
func loopbackUp(nsPath string) error {
	h, err := netns.GetFromPath(nsPath)
	if err != nil {
		return err
	}
	defer h.Close()
	nl, err := netlink.NewHandleAt(h)
	if err != nil {
		return err
	}
	defer nl.Close()
	lo, err := nl.LinkByName("lo")
	if err != nil {
		return err
	}
	return nl.LinkSetUp(lo)
}

// HostGateway is what --add-host NAME:host-gateway resolves to: the
// default network's gateway.
func (m *Manager) HostGateway() string {
	n, err := m.Default()
	if err != nil || n.Gateway() == nil {
		return ""
	}
	return n.Gateway().String()
}

// firstIP is the container's address on its primary network, or "".
func (a *Attachment) firstIP() string {
	if a == nil || len(a.Endpoints) == 0 {
		return ""
	}
	return a.Endpoints[0].IP
}

func validIPv4(s string) bool {
	ip := net.ParseIP(strings.TrimSpace(s))
	return ip != nil && ip.To4() != nil
}
