package main

import (
	"sort"
	"strconv"
	"strings"

	"github.com/nerd-project/nerd/pkg/engine"
	"github.com/nerd-project/nerd/pkg/network"
)

// psNetworks is the NETWORKS column: the container's networks, by name.
func psNetworks(c *engine.Container) string {
	if len(c.Networks) == 0 {
		return c.HostConfig.NetworkMode
	}
	names := make([]string, 0, len(c.Networks))
	for n := range c.Networks {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}

// psOnNetwork is `--filter network=NAME` (or the mode: host, none).
func psOnNetwork(c *engine.Container, name string) bool {
	if _, ok := c.Networks[name]; ok {
		return true
	}
	return c.HostConfig.NetworkMode == name
}

// psPublishes is `--filter publish=8080[/tcp]`: a host port published.
func psPublishes(c *engine.Container, v string) bool {
	port, proto := network.SplitPortProto(v)
	for _, b := range network.Wanted(c.Record) {
		if strconv.Itoa(b.HostPort) == port && b.Protocol == proto {
			return true
		}
	}
	if !c.State.Running() {
		return false
	}
	a, err := network.ReadAttachment(c.Paths.Dir)
	if err != nil {
		return false
	}
	for _, p := range a.Ports {
		if strconv.Itoa(p.HostPort) == port && p.Protocol == proto {
			return true
		}
	}
	return false
}

// psExposes is `--filter expose=80[/tcp]`: a container port exposed.
func psExposes(c *engine.Container, v string) bool {
	port, proto := network.SplitPortProto(v)
	_, ok := c.Config.ExposedPorts[port+"/"+proto]
	return ok
}
