package main

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/nerd-project/nerd/internal/cli"
	"github.com/nerd-project/nerd/internal/cli/opts"
	"github.com/nerd-project/nerd/pkg/container"
	"github.com/nerd-project/nerd/pkg/engine"
	"github.com/spf13/pflag"
)

// networkFlags are run/create's networking flags.
type networkFlags struct {
	networks   []string
	aliases    []string
	ip         string
	mac        string
	addHosts   []string
	dns        []string
	dnsSearch  []string
	dnsOptions []string
	publish    []string
	publishAll bool
	// warnings are dockerd's create warnings, printed once the container
	// exists ("WARNING: …" on stderr).
	warnings []string
}

func addNetworkFlags(f *pflag.FlagSet, n *networkFlags) {
	f.StringArrayVar(&n.networks, "network", nil, "Connect a container to a network")
	f.StringArrayVar(&n.networks, "net", nil, "Connect a container to a network")
	_ = f.MarkHidden("net")
	f.StringArrayVar(&n.aliases, "network-alias", nil, "Add network-scoped alias for the container")
	f.StringArrayVar(&n.aliases, "net-alias", nil, "Add network-scoped alias for the container")
	_ = f.MarkHidden("net-alias")
	f.StringVar(&n.ip, "ip", "", "IPv4 address (e.g., 172.30.100.104)")
	f.StringVar(&n.mac, "mac-address", "", "Container MAC address (e.g., 92:d0:c6:0a:29:33)")
	f.StringArrayVar(&n.addHosts, "add-host", nil, "Add a custom host-to-IP mapping (host:ip)")
	f.StringArrayVar(&n.dns, "dns", nil, "Set custom DNS servers")
	f.StringArrayVar(&n.dnsSearch, "dns-search", nil, "Set custom DNS search domains")
	f.StringArrayVar(&n.dnsOptions, "dns-option", nil, "Set DNS options")
	f.StringArrayVar(&n.dnsOptions, "dns-opt", nil, "Set DNS options")
	_ = f.MarkHidden("dns-opt")
	f.StringArrayVarP(&n.publish, "publish", "p", nil, "Publish a container's port(s) to the host")
	f.BoolVarP(&n.publishAll, "publish-all", "P", false, "Publish all exposed ports to random ports")
}

// apply validates the flags like the Docker CLI and dockerd, and fills
// the config and host config; it returns the networks to join.
func (n *networkFlags) apply(cfg *container.Config, hc *container.HostConfig) (map[string]*container.EndpointConfig, error) {
	bad := func(err error) (map[string]*container.EndpointConfig, error) { return nil, cli.FlagError(err) }
	mode := engine.DefaultNetworkMode()
	var names []string
	typed := map[string]bool{}
	for _, v := range n.networks {
		for _, name := range strings.Split(v, ",") {
			if name == "" {
				continue
			}
			if typed[name] {
				return bad(fmt.Errorf("network %q is specified multiple times", name))
			}
			typed[name] = true
			if name == "default" {
				name = "bridge"
			}
			names = append(names, name)
		}
	}
	if len(names) > 0 {
		mode = names[0]
	}
	special := func(m string) bool { return m == "none" || m == "host" || strings.HasPrefix(m, "container:") }
	if len(names) > 1 {
		// The Docker CLI's rule, and none of the special modes with
		// anything else.
		user, other := false, false
		for _, m := range names {
			user = user || !special(m) && m != "bridge"
			other = other || special(m) || m == "bridge"
			if special(m) || user && other {
				return bad(errors.New("conflicting options: cannot attach both user-defined and non-user-defined network-modes"))
			}
		}
	}
	hc.NetworkMode = mode
	if mode == "host" && (len(n.publish) > 0 || n.publishAll) {
		// Docker warns and ignores; so does nerd.
		if len(n.publish) > 0 {
			n.warnings = append(n.warnings, "Published ports are discarded when using host network mode")
		}
		n.publish, n.publishAll = nil, false
	}
	if special(mode) {
		// dockerd's validateNetContainerMode, in its order.
		ctr := strings.HasPrefix(mode, "container:")
		switch {
		case mode == "container:":
			return bad(fmt.Errorf("invalid network mode: %s", mode))
		case ctr && cfg.Hostname != "":
			return nil, errors.New("conflicting options: hostname and the network mode")
		case ctr && len(n.dns) > 0:
			return nil, errors.New("conflicting options: dns and the network mode")
		case ctr && len(n.addHosts) > 0:
			return nil, errors.New("conflicting options: custom host-to-IP mapping and the network mode")
		case (ctr || mode == "host") && n.mac != "":
			return nil, errors.New("conflicting options: mac-address and the network mode")
		case ctr && (len(n.publish) > 0 || n.publishAll):
			return nil, errors.New("conflicting options: port publishing and the container type network mode")
		case ctr && len(cfg.ExposedPorts) > 0:
			return nil, errors.New("conflicting options: port exposing and the container type network mode")
		}
		if len(n.aliases) > 0 || n.ip != "" {
			return nil, errors.New("network-scoped alias is supported only for containers in user defined networks")
		}
	}
	if n.ip != "" {
		if ip := net.ParseIP(n.ip); ip == nil || ip.To4() == nil {
			return bad(fmt.Errorf("invalid IPv4 address: %s", n.ip))
		}
	}
	if n.mac != "" {
		if _, err := net.ParseMAC(n.mac); err != nil {
			return bad(fmt.Errorf("%s is not a valid mac address", n.mac))
		}
	}
	for _, h := range n.addHosts {
		if err := opts.ValidateExtraHost(h); err != nil {
			return bad(err)
		}
	}
	for _, d := range n.dns {
		if err := opts.ValidateIP(d); err != nil {
			return bad(err)
		}
	}
	exposed, bindings, err := opts.ParsePortSpecs(n.publish)
	if err != nil {
		return bad(err)
	}
	if len(exposed) > 0 && cfg.ExposedPorts == nil {
		cfg.ExposedPorts = map[string]struct{}{}
	}
	for k := range exposed {
		cfg.ExposedPorts[k] = struct{}{}
	}
	hc.PortBindings, hc.PublishAllPorts = bindings, n.publishAll
	hc.DNS, hc.DNSSearch, hc.DNSOptions, hc.ExtraHosts = n.dns, n.dnsSearch, n.dnsOptions, n.addHosts
	if special(mode) {
		return nil, nil
	}
	out := map[string]*container.EndpointConfig{}
	for i, name := range names {
		ec := &container.EndpointConfig{}
		if i == 0 {
			ec.Aliases, ec.IPv4, ec.MacAddress = n.aliases, n.ip, n.mac
		}
		out[name] = ec
	}
	if len(out) == 0 {
		out[mode] = &container.EndpointConfig{Aliases: n.aliases, IPv4: n.ip, MacAddress: n.mac}
	}
	return out, nil
}
