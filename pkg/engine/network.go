package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/nerd-project/nerd/pkg/container"
	"github.com/nerd-project/nerd/pkg/engine/spec"
	"github.com/nerd-project/nerd/pkg/network"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// NetworkOptions configure container networking (nerd.toml and flags).
type NetworkOptions struct {
	// CNIPath is the CNI plugin directory; "" finds nerd's own.
	CNIPath string
	// BridgeName, Subnet, Pool, PoolSize: see network.Options.
	BridgeName string
	Subnet     string
	Pool       string
	PoolSize   int
	// ConfigFile is the nerd.toml the hooks must read too.
	ConfigFile string
}

// Networks is the network manager of the data root, opened once.
func (e *Engine) Networks() (*network.Manager, error) {
	if e.networks != nil {
		return e.networks, nil
	}
	o := e.netOpts
	cniPath := o.CNIPath
	if cniPath == "" {
		cniPath = e.libexecPath("cni")
	}
	lockPath := "/run/nerd/network.lock"
	if os.Geteuid() != 0 {
		lockPath = filepath.Join(e.runDir, "network.lock")
	}
	m, err := network.New(network.Options{
		DataRoot: e.dataRoot, RunDir: e.runDir, LockPath: lockPath,
		CNIPath:    filepath.SplitList(cniPath),
		BridgeName: o.BridgeName, Subnet: o.Subnet, Pool: o.Pool, PoolSize: o.PoolSize,
		DNSBinary: e.libexecPath("nerd-dns"),
	})
	if err != nil {
		return nil, err
	}
	e.networks = m
	return m, nil
}

// libexecPath finds one of nerd's helpers (the CNI plugin directory,
// nerd-dns) beside the running executable or in ../libexec/nerd. The
// first candidate is returned when none exists, for a clear error later.
func (e *Engine) libexecPath(name string) string {
	exe, err := os.Executable()
	if err != nil {
		return filepath.Join("/usr/local/libexec/nerd", name)
	}
	dir := filepath.Dir(exe)
	cands := []string{filepath.Join(dir, name), filepath.Join(dir, "..", "libexec", "nerd", name), filepath.Join("/usr/local/libexec/nerd", name)}
	for _, c := range cands {
		if _, err := os.Stat(c); err == nil {
			return filepath.Clean(c)
		}
	}
	return cands[0]
}

// DefaultNetworkMode is "bridge" (the default network) for root. Without
// root there is no bridge to join until rootless networking lands, so a
// user's containers get "none" unless they ask for host.
func DefaultNetworkMode() string {
	if os.Geteuid() != 0 {
		return "none"
	}
	return network.DefaultNetwork
}

// needsCNI reports whether the container joins networks through CNI (the
// others get no hooks: none, host and container: cost no plugin).
func needsCNI(rec *container.Record) bool { return len(rec.Networks) > 0 }

// networkHooks are the OCI hooks that attach and detach the container:
// the nerd executable itself, run by the runtime with the OCI state on
// stdin (see cmd/nerd/internal_hook.go).
func (e *Engine) networkHooks() (*specs.Hooks, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(e.dataRoot)
	if err != nil {
		return nil, err
	}
	m, err := e.Networks()
	if err != nil {
		return nil, err
	}
	_ = m
	cniPath := e.netOpts.CNIPath
	if cniPath == "" {
		cniPath = e.libexecPath("cni")
	}
	env := []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	if e.netOpts.ConfigFile != "" {
		env = append(env, "NERD_CONFIG="+e.netOpts.ConfigFile)
	}
	hook := func(event string) specs.Hook {
		return specs.Hook{Path: exe, Args: []string{"nerd", "--data-root", abs, "--cni-path", cniPath, "internal", "oci-hook", event}, Env: env}
	}
	return &specs.Hooks{
		CreateRuntime: []specs.Hook{hook("createRuntime")},
		Poststop:      []specs.Hook{hook("poststop")},
	}, nil
}

// prepareNetworks checks a new record's networks and fills what Docker
// resolves at create: the network names (an ID or prefix becomes the
// name), and rejects an unknown one.
func (e *Engine) prepareNetworks(rec *container.Record, want map[string]*container.EndpointConfig) error {
	// Without -h (the record has the short ID), dockerd gives a container
	// of the host's network the host's name, and one sharing another
	// container's network that container's hostname and domain name.
	defaultHostname := rec.Config.Hostname == "" || len(rec.ID) >= 12 && rec.Config.Hostname == rec.ID[:12]
	switch mode := rec.HostConfig.NetworkMode; {
	case mode == "host":
		if h, err := os.Hostname(); err == nil && h != "" && defaultHostname {
			rec.Config.Hostname = h
		}
		rec.Networks = nil
		return nil
	case strings.HasPrefix(mode, "container:"):
		if t, err := e.Get(strings.TrimPrefix(mode, "container:")); err == nil && defaultHostname {
			rec.Config.Hostname, rec.Config.Domainname = t.Config.Hostname, t.Config.Domainname
		}
		rec.Networks = nil
		return nil
	case mode == "none":
		rec.Networks = nil
		return nil
	case len(want) == 0:
		want = map[string]*container.EndpointConfig{mode: {}}
	}
	rec.Networks = want
	m, err := e.Networks()
	if err != nil {
		return err
	}
	resolved := map[string]*container.EndpointConfig{}
	for name, ec := range rec.Networks {
		n, err := m.Get(name)
		if err != nil {
			if errors.Is(err, network.ErrNotFound) {
				return fmt.Errorf("network %s not found", name)
			}
			return err
		}
		if ec == nil {
			ec = &container.EndpointConfig{}
		}
		if n.IsDefault() && (len(ec.Aliases) > 0 || ec.IPv4 != "") {
			if ec.IPv4 != "" {
				return errors.New("user specified IP address is supported on user defined networks only")
			}
			return errors.New("network-scoped alias is supported only for containers in user defined networks")
		}
		if ec.IPv4 != "" && !n.Subnet().Contains(parseIP(ec.IPv4)) {
			return fmt.Errorf("invalid endpoint settings: no configured subnet or ip-range contain the IP address %s", ec.IPv4)
		}
		if rec.HostConfig.NetworkMode == name {
			rec.HostConfig.NetworkMode = n.Name
		}
		resolved[n.Name] = ec
	}
	rec.Networks = resolved
	return nil
}

// writeNetworkFiles writes the hostname, hosts and resolv.conf the
// container's /etc gets (bind-mounted by the spec). The hosts file gets
// the container's address in the createRuntime hook.
func (e *Engine) writeNetworkFiles(dir string, rec *container.Record) error {
	hostname := rec.Config.Hostname
	if err := os.WriteFile(filepath.Join(dir, "hostname"), []byte(hostname+"\n"), 0o644); err != nil {
		return err
	}
	hostNet := rec.HostConfig.NetworkMode == "host"
	hostResolv, err := os.ReadFile("/etc/resolv.conf")
	if err != nil {
		hostResolv = nil
	}
	if target := strings.TrimPrefix(rec.HostConfig.NetworkMode, "container:"); target != rec.HostConfig.NetworkMode {
		// Sharing another container's network: its hosts and resolv.conf.
		if t, err := e.Get(target); err == nil {
			for _, f := range []string{"hosts", "resolv.conf"} {
				if data, err := os.ReadFile(filepath.Join(t.Paths.Dir, f)); err == nil {
					if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
						return err
					}
				}
			}
			return nil
		}
	}
	hosts := network.HostsContent(rec, nil, "")
	responder := ""
	if needsCNI(rec) {
		m, err := e.Networks()
		if err != nil {
			return err
		}
		hosts = network.HostsContent(rec, nil, m.HostGateway())
		responder = m.ResponderAddress(rec.HostConfig.NetworkMode)
	} else if hostNet {
		if data, err := os.ReadFile("/etc/hosts"); err == nil {
			hosts = string(data)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "hosts"), []byte(hosts), 0o644); err != nil {
		return err
	}
	rc := network.ResolvConf(string(hostResolv), rec, responder, hostNet)
	return os.WriteFile(filepath.Join(dir, "resolv.conf"), []byte(rc), 0o644)
}

// reservePorts binds the container's published host ports before its
// monitor starts (see network.Reservation); nil when it publishes none.
func (e *Engine) reservePorts(ctx context.Context, c *Container) (*network.Reservation, error) {
	if !needsCNI(c.Record) {
		return nil, nil
	}
	m, err := e.Networks()
	if err != nil {
		return nil, err
	}
	if len(network.Wanted(c.Record)) == 0 {
		a, err := network.ReadAttachment(c.Paths.Dir)
		if err != nil || len(a.Ports) == 0 {
			return nil, err
		}
	}
	return m.Reserve(ctx, c.Paths.Dir, c.Record)
}

// teardownNetworks detaches a container whose poststop hook may never
// have run (monitor killed); idempotent.
func (e *Engine) teardownNetworks(ctx context.Context, c *Container) error {
	if !needsCNI(c.Record) {
		return nil
	}
	m, err := e.Networks()
	if err != nil {
		return err
	}
	return m.Teardown(ctx, c.Paths.Dir)
}

// networkSpec adds what the spec needs for networking: the hooks for a
// container on networks, the target's netns for container:NAME.
func (e *Engine) networkSpec(in *spec.Input) error {
	if needsCNI(in.Record) {
		h, err := e.networkHooks()
		if err != nil {
			return err
		}
		in.Hooks = h
	}
	p, err := e.netnsPath(in.Record.HostConfig.NetworkMode)
	if err != nil {
		return err
	}
	in.NetNSPath = p
	return nil
}

func parseIP(s string) net.IP { return net.ParseIP(s) }

// hookError shortens the runtime's report of a failed network hook
// ("… error running createRuntime hook #0: exit status 1, stdout: ,
// stderr: Error: …") to what the hook said, in Docker's words.
func hookError(msg string) string {
	if !strings.Contains(msg, "createRuntime hook") {
		return msg
	}
	_, said, ok := strings.Cut(msg, "stderr: ")
	if !ok {
		return msg
	}
	said = strings.TrimPrefix(strings.TrimSpace(said), "Error: ")
	return "failed to set up container networking: " + said
}

// netnsPath is where a --network container:NAME container finds its
// target's network namespace: the target must run.
func (e *Engine) netnsPath(mode string) (string, error) {
	target, ok := strings.CutPrefix(mode, "container:")
	if !ok {
		return "", nil
	}
	t, err := e.Get(target)
	if err != nil {
		return "", err
	}
	if !t.State.Running() || t.State.Pid == 0 {
		return "", fmt.Errorf("cannot join network namespace of a non running container: container %s is %s", target, t.State.Status)
	}
	return fmt.Sprintf("/proc/%d/ns/net", t.State.Pid), nil
}
