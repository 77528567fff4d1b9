package engine

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/nerd-project/nerd/pkg/container"
	"github.com/nerd-project/nerd/pkg/network"
)

// NetworkSettings is inspect's NetworkSettings (Docker's shape): the
// legacy top-level fields come from the primary network.
type NetworkSettings struct {
	Bridge      string                             `json:"Bridge"`
	SandboxID   string                             `json:"SandboxID"`
	SandboxKey  string                             `json:"SandboxKey"`
	Ports       map[string][]container.PortBinding `json:"Ports"`
	HairpinMode bool                               `json:"HairpinMode"`
	EndpointID  string                             `json:"EndpointID"`
	Gateway     string                             `json:"Gateway"`
	IPAddress   string                             `json:"IPAddress"`
	IPPrefixLen int                                `json:"IPPrefixLen"`
	IPv6Gateway string                             `json:"IPv6Gateway"`
	MacAddress  string                             `json:"MacAddress"`
	Networks    map[string]*EndpointSettings       `json:"Networks"`
}

// EndpointSettings is one network of inspect's NetworkSettings.Networks.
type EndpointSettings struct {
	IPAMConfig  *IPAMConfig `json:"IPAMConfig"`
	Links       []string    `json:"Links"`
	Aliases     []string    `json:"Aliases"`
	MacAddress  string      `json:"MacAddress"`
	NetworkID   string      `json:"NetworkID"`
	EndpointID  string      `json:"EndpointID"`
	Gateway     string      `json:"Gateway"`
	IPAddress   string      `json:"IPAddress"`
	IPPrefixLen int         `json:"IPPrefixLen"`
	IPv6Gateway string      `json:"IPv6Gateway"`
	DNSNames    []string    `json:"DNSNames"`
}

// IPAMConfig is --ip as inspect shows it.
type IPAMConfig struct {
	IPv4Address string `json:"IPv4Address,omitempty"`
}

func (e *Engine) attachment(c *Container) *network.Attachment {
	a, err := network.ReadAttachment(c.Paths.Dir)
	if err != nil {
		return &network.Attachment{}
	}
	return a
}

func (e *Engine) networkSettings(c *Container) NetworkSettings {
	running := c.State.Running()
	a := e.attachment(c)
	ns := NetworkSettings{
		Ports:    network.Ports(c.Record, a, running),
		Networks: map[string]*EndpointSettings{},
	}
	if running && c.State.Pid > 0 {
		ns.SandboxKey = fmt.Sprintf("/proc/%d/ns/net", c.State.Pid)
	}
	mode := c.HostConfig.NetworkMode
	if !needsCNI(c.Record) {
		if mode != "" && !strings.HasPrefix(mode, "container:") {
			ns.Networks[mode] = &EndpointSettings{}
		}
		return ns
	}
	for name, ec := range c.Networks {
		es := &EndpointSettings{MacAddress: ec.MacAddress}
		if ec.IPv4 != "" {
			es.IPAMConfig = &IPAMConfig{IPv4Address: ec.IPv4}
		}
		if name != network.DefaultNetwork {
			es.Aliases = ec.Aliases
		}
		if ep := a.Endpoint(name); ep != nil && running {
			es.NetworkID, es.EndpointID = ep.NetworkID, ep.EndpointID
			es.Gateway, es.IPAddress, es.IPPrefixLen, es.MacAddress = ep.Gateway, ep.IP, ep.PrefixLen, ep.MacAddress
			if name != network.DefaultNetwork {
				es.DNSNames = append([]string{c.Name}, ep.Aliases...)
				es.DNSNames = append(es.DNSNames, c.ID[:12])
			}
			if name == mode {
				ns.EndpointID, ns.Gateway, ns.IPAddress, ns.IPPrefixLen, ns.MacAddress = ep.EndpointID, ep.Gateway, ep.IP, ep.PrefixLen, ep.MacAddress
			}
		}
		ns.Networks[name] = es
	}
	return ns
}

// PublishedPorts are the ports a running container publishes, sorted.
func (e *Engine) PublishedPorts(c *Container) []network.PortMapping {
	if !c.State.Running() {
		return nil
	}
	ps := append([]network.PortMapping(nil), e.attachment(c).Ports...)
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].ContainerPort != ps[j].ContainerPort {
			return ps[i].ContainerPort < ps[j].ContainerPort
		}
		if ps[i].Protocol != ps[j].Protocol {
			return ps[i].Protocol < ps[j].Protocol
		}
		return ps[i].HostPort < ps[j].HostPort
	})
	return ps
}

// DisplayablePorts is ps's PORTS column as the Docker CLI builds it:
// "0.0.0.0:8080->80/tcp", consecutive ports folded into ranges, exposed
// ports that are not published as "80/tcp".
func (e *Engine) DisplayablePorts(c *Container) string {
	if !c.State.Running() {
		return ""
	}
	type key struct{ ip, proto string }
	type span struct{ h0, h1, c0, c1 int }
	groups := map[key][]span{}
	var order []key
	published := map[string]bool{}
	for _, p := range e.PublishedPorts(c) {
		published[fmt.Sprintf("%d/%s", p.ContainerPort, p.Protocol)] = true
		k := key{p.HostIP, p.Protocol}
		if k.ip == "" {
			k.ip = "0.0.0.0"
		}
		g := groups[k]
		if n := len(g); n > 0 && g[n-1].h1+1 == p.HostPort && g[n-1].c1+1 == p.ContainerPort {
			g[n-1].h1, g[n-1].c1 = p.HostPort, p.ContainerPort
		} else {
			if len(g) == 0 {
				order = append(order, k)
			}
			g = append(g, span{p.HostPort, p.HostPort, p.ContainerPort, p.ContainerPort})
		}
		groups[k] = g
	}
	rng := func(a, b int) string {
		if a == b {
			return strconv.Itoa(a)
		}
		return fmt.Sprintf("%d-%d", a, b)
	}
	var out []string
	for _, k := range order {
		for _, s := range groups[k] {
			out = append(out, fmt.Sprintf("%s:%s->%s/%s", k.ip, rng(s.h0, s.h1), rng(s.c0, s.c1), k.proto))
		}
	}
	var exposed []string
	for p := range c.Config.ExposedPorts {
		if !published[p] {
			exposed = append(exposed, p)
		}
	}
	sort.Strings(exposed)
	out = append(out, exposed...)
	return strings.Join(out, ", ")
}
