package network

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/containernetworking/cni/libcni"
	"github.com/nerd-project/nerd/internal/fsutil"
)

const cniVersion = "1.0.0"

// conflist is the CNI plugin chain of a network: bridge and host-local.
// Masquerading, forwarding and published ports are rules of nerd's own
// (rules.go, hostports.go), not per-container plugin work. withPorts adds
// portmap, which only tears down what an older nerd published through it
// (portmap's DEL does nothing without the mappings).
//
// staticIP is an address asked for with --ip: it may lie anywhere in the
// subnet, as with Docker (the ip-range is where addresses are picked), so
// host-local gets the whole subnet when it is outside the range.
func (m *Manager) conflist(n *Network, withPorts bool, staticIP string) map[string]any {
	c := n.IPAM.Config[0]
	_, sn, _ := net.ParseCIDR(c.Subnet)
	rng := map[string]any{"subnet": c.Subnet, "gateway": c.Gateway}
	_, r, _ := net.ParseCIDR(c.IPRange)
	if r != nil && (staticIP == "" || r.Contains(net.ParseIP(staticIP))) {
		start, end := r.IP.Mask(r.Mask), lastIP(r)
		if start.Equal(sn.IP.Mask(sn.Mask)) {
			start = nthIP(sn, 1)
		}
		rng["rangeStart"], rng["rangeEnd"] = start.String(), end.String()
	}
	ipam := map[string]any{
		"type":    "host-local",
		"ranges":  [][]map[string]any{{rng}},
		"dataDir": m.ipamDir(),
	}
	if !n.Internal {
		ipam["routes"] = []map[string]any{{"dst": "0.0.0.0/0"}}
	}
	plugins := []map[string]any{{
		"type":         "bridge",
		"bridge":       n.Bridge(),
		"isGateway":    true,
		"ipMasq":       false,
		"hairpinMode":  true,
		"ipam":         ipam,
		"capabilities": map[string]bool{"ips": true, "mac": true},
	}}
	if withPorts {
		plugins = append(plugins, map[string]any{
			"type":         "portmap",
			"capabilities": map[string]bool{"portMappings": true},
			"snat":         true,
		})
	}
	return map[string]any{"cniVersion": cniVersion, "name": n.Name, "plugins": plugins}
}

func (m *Manager) conflistFile(name string) string {
	return filepath.Join(m.dir(), name+".conflist")
}

// writeConflist keeps the chain on disk beside the network for people and
// tools that look (nerd itself builds the chain per container). It is
// rewritten only when it differs: the attach of every container calls it,
// and an atomic write is an fsync.
func (m *Manager) writeConflist(n *Network) {
	data, err := json.MarshalIndent(m.conflist(n, false, ""), "", "  ")
	if err != nil {
		return
	}
	if old, err := os.ReadFile(m.conflistFile(n.Name)); err == nil && bytes.Equal(old, data) {
		return
	}
	_ = fsutil.WriteFileAtomic(m.conflistFile(n.Name), data, 0o644)
}

func (m *Manager) cni() *libcni.CNIConfig {
	return libcni.NewCNIConfigWithCacheDir(m.opts.CNIPath, m.cacheDir(), nil)
}

func (m *Manager) confList(n *Network, withPorts bool, staticIP string) (*libcni.NetworkConfigList, error) {
	data, err := json.Marshal(m.conflist(n, withPorts, staticIP))
	if err != nil {
		return nil, err
	}
	return libcni.NetworkConfFromBytes(data)
}

// runtimeConf is what ADD and DEL of one endpoint pass to the plugins.
func runtimeConf(id, netns, ifName string, ports []PortMapping, ip, mac string) *libcni.RuntimeConf {
	rt := &libcni.RuntimeConf{ContainerID: id, NetNS: netns, IfName: ifName, CapabilityArgs: map[string]any{}}
	if len(ports) > 0 {
		pm := make([]map[string]any, 0, len(ports))
		for _, p := range ports {
			e := map[string]any{"hostPort": p.HostPort, "containerPort": p.ContainerPort, "protocol": p.Protocol}
			if p.HostIP != "" && p.HostIP != "0.0.0.0" {
				e["hostIP"] = p.HostIP
			}
			pm = append(pm, e)
		}
		rt.CapabilityArgs["portMappings"] = pm
	}
	if ip != "" {
		rt.CapabilityArgs["ips"] = []string{ip}
	}
	if mac != "" {
		rt.CapabilityArgs["mac"] = mac
	}
	return rt
}

// cniAdd attaches netns to network n and returns the endpoint.
func (m *Manager) cniAdd(ctx context.Context, n *Network, id, netns, ifName, ip, mac string) (*Endpoint, error) {
	if ip != "" {
		// Docker's refusal of a taken --ip (host-local's would be "is not
		// available in range set"): the gateway, or an address host-local
		// holds for another container (a file named by it).
		_, err := os.Stat(filepath.Join(m.ipamDir(), n.Name, ip))
		if ip == n.IPAM.Config[0].Gateway || err == nil {
			return nil, errors.New("Address already in use")
		}
	}
	list, err := m.confList(n, false, ip)
	if err != nil {
		return nil, err
	}
	res, err := m.cni().AddNetworkList(ctx, list, runtimeConf(id, netns, ifName, nil, ip, mac))
	if err != nil {
		// libcni does not undo the plugins that succeeded before the one
		// that failed (an address): DEL the whole chain.
		_ = m.cni().DelNetworkList(ctx, list, runtimeConf(id, "", ifName, nil, "", ""))
		return nil, err
	}
	var r struct {
		Interfaces []struct {
			Name    string `json:"name"`
			Mac     string `json:"mac"`
			Sandbox string `json:"sandbox"`
		} `json:"interfaces"`
		IPs []struct {
			Address   string `json:"address"`
			Gateway   string `json:"gateway"`
			Interface *int   `json:"interface"`
		} `json:"ips"`
	}
	data, err := json.Marshal(res)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, err
	}
	ep := &Endpoint{Network: n.Name, NetworkID: n.ID, IfName: ifName}
	for _, ipc := range r.IPs {
		a, sn, err := net.ParseCIDR(ipc.Address)
		if err != nil || a.To4() == nil {
			continue
		}
		ep.IP = a.String()
		ep.PrefixLen, _ = sn.Mask.Size()
		ep.Gateway = ipc.Gateway
		if ipc.Interface != nil && *ipc.Interface < len(r.Interfaces) {
			ep.MacAddress = r.Interfaces[*ipc.Interface].Mac
		}
		break
	}
	if ep.IP == "" {
		return nil, fmt.Errorf("network %s: the CNI plugins returned no IPv4 address", n.Name)
	}
	return ep, nil
}

// cniDel detaches an endpoint. The netns is never passed: by poststop the
// container's netns is gone (or its pid reused), and bridge's DEL without
// a netns still releases the address; the veth died with the netns. An
// endpoint whose ports portmap published (an older nerd) gets portmap's
// DEL with the same mappings.
func (m *Manager) cniDel(ctx context.Context, n *Network, id string, ep *Endpoint, ports []PortMapping) error {
	if !ep.Ports || ep.PortDriver != "" {
		ports = nil
	}
	list, err := m.confList(n, len(ports) > 0, "")
	if err != nil {
		return err
	}
	return m.cni().DelNetworkList(ctx, list, runtimeConf(id, "", ep.IfName, ports, "", ""))
}

// cniPluginsPresent checks the plugin directory once, for a clear error.
func (m *Manager) cniPluginsPresent() error {
	for _, d := range m.opts.CNIPath {
		if _, err := os.Stat(filepath.Join(d, "bridge")); err == nil {
			return nil
		}
	}
	return fmt.Errorf("CNI plugins not found in %v: install them with make install, or set --cni-path", m.opts.CNIPath)
}
