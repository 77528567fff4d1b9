// Package network is nerd's container networking: the store of networks
// (Docker's network JSON, one file per network under <data-root>/networks),
// CNI conflist generation, subnet allocation, attach and detach through
// libcni under one host-wide lock, published ports, /etc/hosts and
// resolv.conf, the per-network DNS responder, and the teardown of bridges
// and their rules.
//
// Attach and detach run inside the OCI createRuntime and poststop hooks of
// a container (see cmd/nerd/internal_hook.go); everything they need is on
// disk: the container's record and its attachment state
// (<container dir>/network.json).
package network

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"
)

// DefaultNetwork is the network containers join unless told otherwise.
const DefaultNetwork = "bridge"

// Defaults of the configurable settings (nerd.toml).
const (
	DefaultBridgeName = "nerd0"
	// DefaultSubnet avoids podman's 10.88.0.0/16 and Docker's 172.17.0.0/16.
	DefaultSubnet = "10.77.0.0/16"
	// DefaultPool is where user networks get their subnets from.
	DefaultPool     = "10.78.0.0/16"
	DefaultPoolSize = 24
)

// Sentinel errors; the CLI maps them to Docker's messages and exit codes.
var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
	ErrInUse    = errors.New("has active endpoints")
)

// Options configure a Manager.
type Options struct {
	// DataRoot is nerd's data root; networks live in DataRoot/networks and
	// containers in DataRoot/containers.
	DataRoot string
	// RunDir is the data root's runtime directory (tmpfs: forgotten at
	// reboot, like the iptables rules it tracks).
	RunDir string
	// LockPath is the network lock, shared by every data root on the host
	// because the CNI plugins and the shared iptables chains are.
	LockPath string
	// CNIPath lists the directories holding the CNI plugins.
	CNIPath []string
	// BridgeName, Subnet configure the default network; Pool and PoolSize
	// the subnets handed to user networks without --subnet.
	BridgeName string
	Subnet     string
	Pool       string
	PoolSize   int
	// DNSBinary is the nerd-dns responder ("" disables name resolution).
	DNSBinary string
}

// Manager owns the networks of one data root.
type Manager struct {
	opts Options
}

// New opens the networks of a data root.
func New(opts Options) (*Manager, error) {
	if opts.BridgeName == "" {
		opts.BridgeName = DefaultBridgeName
	}
	if opts.Subnet == "" {
		opts.Subnet = DefaultSubnet
	}
	if opts.Pool == "" {
		opts.Pool = DefaultPool
	}
	if opts.PoolSize == 0 {
		opts.PoolSize = DefaultPoolSize
	}
	if opts.LockPath == "" {
		opts.LockPath = "/run/nerd/network.lock"
	}
	if len(opts.BridgeName) > 15 {
		return nil, fmt.Errorf("bridge name %q is longer than 15 characters", opts.BridgeName)
	}
	for _, s := range []string{opts.Subnet, opts.Pool} {
		if _, _, err := net.ParseCIDR(s); err != nil {
			return nil, fmt.Errorf("invalid network configuration: %w", err)
		}
	}
	m := &Manager{opts: opts}
	for _, d := range []string{m.dir(), m.ipamDir(), m.cacheDir(), filepath.Dir(opts.LockPath), m.runDir()} {
		if err := os.MkdirAll(d, 0o711); err != nil {
			return nil, fmt.Errorf("creating %s: %w", d, err)
		}
	}
	return m, nil
}

func (m *Manager) dir() string      { return filepath.Join(m.opts.DataRoot, "networks") }
func (m *Manager) ipamDir() string  { return filepath.Join(m.dir(), "ipam") }
func (m *Manager) cacheDir() string { return filepath.Join(m.dir(), "cni-cache") }
func (m *Manager) runDir() string   { return filepath.Join(m.opts.RunDir, "net") }
func (m *Manager) containersDir() string {
	return filepath.Join(m.opts.DataRoot, "containers")
}
func (m *Manager) file(name string) string { return filepath.Join(m.dir(), name+".json") }

// Network is a network as `network inspect` shows it (Docker's shape).
type Network struct {
	Name       string                      `json:"Name"`
	ID         string                      `json:"Id"`
	Created    time.Time                   `json:"Created"`
	Scope      string                      `json:"Scope"`
	Driver     string                      `json:"Driver"`
	EnableIPv4 bool                        `json:"EnableIPv4"`
	EnableIPv6 bool                        `json:"EnableIPv6"`
	IPAM       IPAM                        `json:"IPAM"`
	Internal   bool                        `json:"Internal"`
	Attachable bool                        `json:"Attachable"`
	Ingress    bool                        `json:"Ingress"`
	ConfigFrom ConfigReference             `json:"ConfigFrom"`
	ConfigOnly bool                        `json:"ConfigOnly"`
	Containers map[string]EndpointResource `json:"Containers"`
	Options    map[string]string           `json:"Options"`
	Labels     map[string]string           `json:"Labels"`
}

// IPAM is the network's address management.
type IPAM struct {
	Driver  string            `json:"Driver"`
	Options map[string]string `json:"Options"`
	Config  []IPAMConfig      `json:"Config"`
}

// IPAMConfig is one subnet of a network.
type IPAMConfig struct {
	Subnet  string `json:"Subnet"`
	IPRange string `json:"IPRange,omitempty"`
	Gateway string `json:"Gateway"`
}

// ConfigReference is Docker's ConfigFrom.
type ConfigReference struct {
	Network string `json:"Network"`
}

// EndpointResource is one container on the network, as inspect shows it.
type EndpointResource struct {
	Name        string `json:"Name"`
	EndpointID  string `json:"EndpointID"`
	MacAddress  string `json:"MacAddress"`
	IPv4Address string `json:"IPv4Address"`
	IPv6Address string `json:"IPv6Address"`
}

// bridgeOption is where Docker records a bridge network's Linux bridge.
const bridgeOption = "com.docker.network.bridge.name"

// Bridge is the Linux bridge of the network.
func (n *Network) Bridge() string { return n.Options[bridgeOption] }

// Subnet is the network's (first) IPv4 subnet.
func (n *Network) Subnet() *net.IPNet {
	if len(n.IPAM.Config) == 0 {
		return nil
	}
	_, s, err := net.ParseCIDR(n.IPAM.Config[0].Subnet)
	if err != nil {
		return nil
	}
	return s
}

// Gateway is the network's gateway address (the bridge's).
func (n *Network) Gateway() net.IP {
	if len(n.IPAM.Config) == 0 {
		return nil
	}
	return net.ParseIP(n.IPAM.Config[0].Gateway).To4()
}

// IsDefault reports the default network (no name resolution, as in Docker).
func (n *Network) IsDefault() bool { return n.Name == DefaultNetwork }

// IsPredefined reports the names Docker reserves for its own modes.
func IsPredefined(name string) bool {
	return name == DefaultNetwork || name == "host" || name == "none"
}
