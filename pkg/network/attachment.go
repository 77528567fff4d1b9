package network

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/nerd-project/nerd/internal/fsutil"
	"github.com/nerd-project/nerd/pkg/container"
)

// Attachment is a container's networking state, <container dir>/network.json:
// the ports it publishes (host ports resolved once, at start, and reused
// by restarts) and, while it runs, its endpoint on each network. Teardown
// reads it, so a poststop hook that never ran (kill -9 of the monitor) is
// made up for by rm.
type Attachment struct {
	ContainerID string        `json:"ContainerID"`
	Name        string        `json:"Name"`
	Ports       []PortMapping `json:"Ports,omitempty"`
	Endpoints   []*Endpoint   `json:"Endpoints,omitempty"`
}

// Endpoint is the container's interface on one network.
type Endpoint struct {
	Network    string   `json:"Network"`
	NetworkID  string   `json:"NetworkID"`
	EndpointID string   `json:"EndpointID"`
	IfName     string   `json:"IfName"`
	IP         string   `json:"IPAddress"`
	PrefixLen  int      `json:"IPPrefixLen"`
	Gateway    string   `json:"Gateway"`
	MacAddress string   `json:"MacAddress"`
	Aliases    []string `json:"Aliases,omitempty"`
	// Ports is true on the endpoint that carries the port mappings.
	Ports bool `json:"Ports,omitempty"`
	// PortDriver says how they were applied: "nerd" (nerd's DNAT rules,
	// removed by the container's ID), or "" with Ports from an older nerd
	// (portmap, whose DEL needs the mappings again).
	PortDriver string `json:"PortDriver,omitempty"`
}

// PortMapping is one published port, host port resolved.
type PortMapping struct {
	HostIP        string `json:"HostIp"`
	HostPort      int    `json:"HostPort"`
	ContainerPort int    `json:"ContainerPort"`
	Protocol      string `json:"Protocol"`
	// HostPortEnd, in a wanted mapping only, makes HostPort..HostPortEnd
	// a range to take the first free port of (-p 8000-8010:80).
	HostPortEnd int `json:"-"`
}

func attachmentFile(dir string) string { return filepath.Join(dir, "network.json") }

// ReadAttachment reads a container's attachment; a missing file is an
// empty attachment.
func ReadAttachment(dir string) (*Attachment, error) {
	data, err := os.ReadFile(attachmentFile(dir))
	if errors.Is(err, os.ErrNotExist) {
		return &Attachment{}, nil
	}
	if err != nil {
		return nil, err
	}
	var a Attachment
	if err := json.Unmarshal(data, &a); err != nil {
		return nil, fmt.Errorf("reading %s: %w", attachmentFile(dir), err)
	}
	return &a, nil
}

func writeAttachment(dir string, a *Attachment) error {
	data, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(attachmentFile(dir), data, 0o644)
}

// Endpoint returns the endpoint on network name, or nil.
func (a *Attachment) Endpoint(name string) *Endpoint {
	for _, ep := range a.Endpoints {
		if ep.Network == name {
			return ep
		}
	}
	return nil
}

// attachments reads every container's attachment in the data root.
func (m *Manager) attachments() []*Attachment {
	ents, err := os.ReadDir(m.containersDir())
	if err != nil {
		return nil
	}
	var out []*Attachment
	for _, e := range ents {
		if len(e.Name()) != 64 {
			continue // .tmp-…, .rm-…
		}
		a, err := ReadAttachment(filepath.Join(m.containersDir(), e.Name()))
		if err != nil || len(a.Endpoints) == 0 {
			continue
		}
		out = append(out, a)
	}
	return out
}

// users are the containers whose record names network name, running or
// not: a network is in use while any container would join it at start.
func (m *Manager) users(name string) []string {
	ents, err := os.ReadDir(m.containersDir())
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		if len(e.Name()) != 64 {
			continue
		}
		rec, err := container.ReadRecord(container.Paths{Dir: filepath.Join(m.containersDir(), e.Name())})
		if err != nil {
			continue
		}
		if _, ok := rec.Networks[name]; ok {
			out = append(out, rec.ID)
		}
	}
	sort.Strings(out)
	return out
}

// activeOn counts the running endpoints on network id.
func (m *Manager) activeOn(networkID string) int {
	n := 0
	for _, a := range m.attachments() {
		for _, ep := range a.Endpoints {
			if ep.NetworkID == networkID {
				n++
			}
		}
	}
	return n
}

// lock takes the host-wide network lock: the CNI plugins are not safe to
// run concurrently, and the shared iptables chains are shared by every
// data root.
func (m *Manager) lock() (*fsutil.Lock, error) {
	return fsutil.LockExclusive(m.opts.LockPath)
}

// NetworkNames are the networks of a record in the order they are
// joined: the primary one (HostConfig.NetworkMode) first, then by name.
func NetworkNames(rec *container.Record) []string {
	var names []string
	if _, ok := rec.Networks[rec.HostConfig.NetworkMode]; ok {
		names = append(names, rec.HostConfig.NetworkMode)
	}
	var rest []string
	for n := range rec.Networks {
		if n != rec.HostConfig.NetworkMode {
			rest = append(rest, n)
		}
	}
	sort.Strings(rest)
	return append(names, rest...)
}
