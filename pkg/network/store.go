package network

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/nerd-project/nerd/internal/fsutil"
	"github.com/nerd-project/nerd/internal/names"
	"github.com/nerd-project/nerd/pkg/container"
)

// CreateOptions are `network create`'s flags.
type CreateOptions struct {
	Name     string
	Driver   string
	Subnet   string
	Gateway  string
	IPRange  string
	Internal bool
	Labels   map[string]string
	Options  map[string]string
}

// Create makes a user-defined network. The bridge itself appears when the
// first container joins.
func (m *Manager) Create(ctx context.Context, o CreateOptions) (*Network, error) {
	if o.Driver == "" {
		o.Driver = "bridge"
	}
	if o.Driver != "bridge" {
		return nil, fmt.Errorf("plugin %q not found: only the bridge driver is supported", o.Driver)
	}
	if !names.Valid(o.Name, 1) {
		return nil, fmt.Errorf("invalid network name %q: only %s are allowed", o.Name, names.Allowed)
	}
	if IsPredefined(o.Name) {
		return nil, fmt.Errorf("%w: network with name %s already exists", ErrExists, o.Name)
	}
	l, err := m.lock()
	if err != nil {
		return nil, err
	}
	defer l.Unlock()
	if _, err := m.ensureDefault(); err != nil {
		return nil, err
	}
	all, err := m.list()
	if err != nil {
		return nil, err
	}
	for _, n := range all {
		if n.Name == o.Name {
			return nil, fmt.Errorf("%w: network with name %s already exists", ErrExists, o.Name)
		}
	}
	ipam, err := m.allocateIPAM(all, o.Subnet, o.Gateway, o.IPRange)
	if err != nil {
		return nil, err
	}
	id, err := newID()
	if err != nil {
		return nil, err
	}
	opts := map[string]string{}
	for k, v := range o.Options {
		opts[k] = v
	}
	if opts[bridgeOption] == "" {
		opts[bridgeOption] = "br-" + id[:12]
	}
	if len(opts[bridgeOption]) > 15 {
		return nil, fmt.Errorf("bridge name %q is longer than 15 characters", opts[bridgeOption])
	}
	for _, n := range all {
		if n.Bridge() == opts[bridgeOption] {
			return nil, fmt.Errorf("bridge %s is already used by network %s", n.Bridge(), n.Name)
		}
	}
	labels := o.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	n := &Network{
		Name: o.Name, ID: id, Created: time.Now().UTC(), Scope: "local", Driver: "bridge",
		EnableIPv4: true, IPAM: ipam, Internal: o.Internal,
		Containers: map[string]EndpointResource{}, Options: opts, Labels: labels,
	}
	if err := m.write(n); err != nil {
		return nil, err
	}
	return n, nil
}

// ensureDefault writes the default network the first time it is needed,
// from the configured bridge name and subnet. Callers hold the lock.
func (m *Manager) ensureDefault() (*Network, error) {
	if n, err := m.read(DefaultNetwork); err == nil {
		return n, nil
	} else if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	ipam, err := ipamFor(m.opts.Subnet, "", "")
	if err != nil {
		return nil, fmt.Errorf("default network: %w", err)
	}
	id, err := newID()
	if err != nil {
		return nil, err
	}
	n := &Network{
		Name: DefaultNetwork, ID: id, Created: time.Now().UTC(), Scope: "local", Driver: "bridge",
		EnableIPv4: true, IPAM: ipam, Containers: map[string]EndpointResource{},
		Options: map[string]string{
			bridgeOption: m.opts.BridgeName,
			"com.docker.network.bridge.default_bridge":       "true",
			"com.docker.network.bridge.enable_ip_masquerade": "true",
		},
		Labels: map[string]string{},
	}
	if err := m.write(n); err != nil {
		return nil, err
	}
	return n, nil
}

func (m *Manager) read(name string) (*Network, error) {
	data, err := os.ReadFile(m.file(name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("network %s %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	var n Network
	if err := json.Unmarshal(data, &n); err != nil {
		return nil, fmt.Errorf("reading network %s: %w", name, err)
	}
	if n.Containers == nil {
		n.Containers = map[string]EndpointResource{}
	}
	return &n, nil
}

func (m *Manager) write(n *Network) error {
	data, err := json.MarshalIndent(n, "", "  ")
	if err != nil {
		return err
	}
	if err := fsutil.WriteFileAtomic(m.file(n.Name), data, 0o644); err != nil {
		return fmt.Errorf("writing network %s: %w", n.Name, err)
	}
	return nil
}

// list reads every network, by name.
func (m *Manager) list() ([]*Network, error) {
	ents, err := os.ReadDir(m.dir())
	if err != nil {
		return nil, err
	}
	var out []*Network
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || strings.HasPrefix(name, ".") {
			continue
		}
		n, err := m.read(name)
		if err != nil {
			continue // removed meanwhile
		}
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// List returns every network (the predefined bridge, host and none
// included), by name.
func (m *Manager) List() ([]*Network, error) {
	def, err := m.Default()
	if err != nil {
		return nil, err
	}
	all, err := m.list()
	if err != nil {
		return nil, err
	}
	all = append(all, m.predefined(def)...)
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	return all, nil
}

// Default is the default network, created on first use.
func (m *Manager) Default() (*Network, error) {
	if n, err := m.read(DefaultNetwork); err == nil {
		return n, nil
	}
	l, err := m.lock()
	if err != nil {
		return nil, err
	}
	defer l.Unlock()
	return m.ensureDefault()
}

// Get finds a network by name, full ID or unique ID prefix, as Docker does.
func (m *Manager) Get(ref string) (*Network, error) {
	if ref == DefaultNetwork {
		return m.Default()
	}
	if n, err := m.read(ref); err == nil {
		return n, nil
	}
	all, err := m.List()
	if err != nil {
		return nil, err
	}
	var found []*Network
	for _, n := range all {
		if n.Name == ref || n.ID == ref {
			return n, nil
		}
		if len(ref) >= 1 && strings.HasPrefix(n.ID, ref) {
			found = append(found, n)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return nil, fmt.Errorf("network %s %w", ref, ErrNotFound)
	}
	return nil, fmt.Errorf("network %s is ambiguous (%d matches found based on ID prefix)", ref, len(found))
}

// Inspect is Get with Containers filled from the attached containers.
func (m *Manager) Inspect(ref string) (*Network, error) {
	n, err := m.Get(ref)
	if err != nil {
		return nil, err
	}
	for _, a := range m.attachments() {
		for _, ep := range a.Endpoints {
			if ep.NetworkID == n.ID && ep.IP != "" {
				n.Containers[a.ContainerID] = EndpointResource{
					Name: a.Name, EndpointID: ep.EndpointID, MacAddress: ep.MacAddress,
					IPv4Address: fmt.Sprintf("%s/%d", ep.IP, ep.PrefixLen),
				}
			}
		}
	}
	return n, nil
}

// Remove deletes a network nothing uses, with its bridge and rules.
func (m *Manager) Remove(ctx context.Context, ref string) error {
	n, err := m.Get(ref)
	if err != nil {
		return err
	}
	if IsPredefined(n.Name) {
		return fmt.Errorf("%s is a pre-defined network and cannot be removed", n.Name)
	}
	l, err := m.lock()
	if err != nil {
		return err
	}
	defer l.Unlock()
	if users := m.users(n.Name); len(users) > 0 {
		return fmt.Errorf("error while removing network: network %s %w (%s)", n.Name, ErrInUse, m.endpointList(n, users))
	}
	m.releaseNetwork(ctx, n)
	if err := os.Remove(m.file(n.Name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing network %s: %w", n.Name, err)
	}
	_ = os.RemoveAll(m.ipamDir() + "/" + n.Name)
	_ = os.Remove(m.conflistFile(n.Name))
	m.cleanupSharedChains(ctx)
	return nil
}

// endpointList names the users of n as Docker's refusal does:
// name:"web" id:"<endpoint ID, 12>", one per container. A stopped
// container, which Docker would not count, has no endpoint: its own short
// ID stands in.
func (m *Manager) endpointList(n *Network, users []string) string {
	var out []string
	for _, id := range users {
		dir := filepath.Join(m.containersDir(), id)
		name, short := id[:12], id[:12]
		if rec, err := container.ReadRecord(container.Paths{Dir: dir}); err == nil {
			name = strings.TrimPrefix(rec.Name, "/")
		}
		if a, err := ReadAttachment(dir); err == nil {
			for _, ep := range a.Endpoints {
				if ep.NetworkID == n.ID && len(ep.EndpointID) >= 12 {
					short = ep.EndpointID[:12]
				}
			}
		}
		out = append(out, fmt.Sprintf("name:%q id:%q", name, short))
	}
	return strings.Join(out, ", ")
}

// Prune removes the user networks no container uses, and tears down the
// default network's bridge and rules when no container uses it (the
// network itself stays, as in Docker). keep filters the candidates.
func (m *Manager) Prune(ctx context.Context, keep func(*Network) bool) ([]string, error) {
	all, err := m.List()
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, n := range all {
		if IsPredefined(n.Name) || (keep != nil && keep(n)) {
			continue
		}
		if err := m.Remove(ctx, n.Name); err == nil {
			removed = append(removed, n.Name)
		}
	}
	l, err := m.lock()
	if err != nil {
		return removed, err
	}
	defer l.Unlock()
	if def, err := m.read(DefaultNetwork); err == nil && len(m.users(DefaultNetwork)) == 0 {
		m.releaseNetwork(ctx, def)
	}
	m.cleanupSharedChains(ctx)
	return removed, nil
}

func newID() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}
