package network

import (
	"crypto/sha256"
	"encoding/hex"
)

// Docker predefines two networks besides bridge: host (the host's network
// namespace) and none (only lo). They are modes, not networks anything is
// attached to, so nerd never stores them: network ls and inspect show them
// as Docker does, and create, rm, prune, connect and disconnect refuse them.

// Predefined network drivers.
const (
	HostDriver = "host"
	NullDriver = "null"
)

// predefined is host and none as network ls and inspect show them. IDs
// are derived from the data root, so they stay the same from one command
// to the next; Created is the default network's.
func (m *Manager) predefined(def *Network) []*Network {
	mk := func(name, driver string) *Network {
		sum := sha256.Sum256([]byte("nerd predefined network\x00" + m.opts.DataRoot + "\x00" + name))
		return &Network{
			Name: name, ID: hex.EncodeToString(sum[:]), Created: def.Created, Scope: "local",
			Driver: driver, EnableIPv4: name == "host", IPAM: IPAM{Driver: "default"},
			Containers: map[string]EndpointResource{}, Options: map[string]string{}, Labels: map[string]string{},
		}
	}
	return []*Network{mk("host", HostDriver), mk("none", NullDriver)}
}

// IsMode reports host and none: networks no container can be connected to
// or disconnected from.
func (n *Network) IsMode() bool { return n.Driver == HostDriver || n.Driver == NullDriver }
