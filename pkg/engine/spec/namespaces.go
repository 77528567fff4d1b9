package spec

import (
	"fmt"
	"strings"

	"github.com/nerd-project/nerd/pkg/container"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func isHostMode(mode string) bool { return mode == "host" }

func isContainerMode(mode string) bool { return strings.HasPrefix(mode, "container:") }

// validateModes checks --network, --ipc, --pid and --uts like dockerd. The
// container:NAME forms need the other container's namespaces, which come
// with a later change; until then they fail clearly instead of silently
// getting a private namespace.
func validateModes(hc *container.HostConfig) error {
	switch m := hc.IpcMode; {
	case m == "", m == "private", m == "shareable", m == "host", m == "none":
	case isContainerMode(m) && len(m) > len("container:"):
		return fmt.Errorf("--ipc %s: joining another container's IPC namespace is not supported yet", m)
	default:
		return fmt.Errorf("invalid IPC mode: %s", m)
	}
	switch m := hc.PidMode; {
	case m == "", m == "host":
	case isContainerMode(m) && len(m) > len("container:"):
		return fmt.Errorf("--pid %s: joining another container's PID namespace is not supported yet", m)
	default:
		return fmt.Errorf("invalid PID mode: %s", m)
	}
	switch m := hc.UTSMode; m {
	case "", "host":
	default:
		return fmt.Errorf("invalid UTS mode: %s", m)
	}
	if m := hc.NetworkMode; isContainerMode(m) && len(m) == len("container:") {
		return fmt.Errorf("invalid network mode: %s", m)
	}
	return nil
}

// namespaces starts from Docker's set (mount, network, uts, pid, ipc) and
// removes the ones shared with the host. A cgroup namespace is added on
// cgroup v2 only, matching dockerd's default cgroupns mode per version.
// --network none still gets a fresh namespace: it only has lo.
func (g *generator) namespaces() error {
	ns := []specs.LinuxNamespace{{Type: specs.MountNamespace}}
	if !isHostMode(g.hc.NetworkMode) {
		// container:NAME joins the target's netns (path set by the engine).
		ns = append(ns, specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: g.in.NetNSPath})
	}
	if !isHostMode(g.hc.UTSMode) {
		ns = append(ns, specs.LinuxNamespace{Type: specs.UTSNamespace})
	}
	if !isHostMode(g.hc.PidMode) {
		ns = append(ns, specs.LinuxNamespace{Type: specs.PIDNamespace})
	}
	if !isHostMode(g.hc.IpcMode) {
		ns = append(ns, specs.LinuxNamespace{Type: specs.IPCNamespace})
	}
	if g.host.CgroupV2 {
		ns = append(ns, specs.LinuxNamespace{Type: specs.CgroupNamespace})
	}
	g.s.Linux.Namespaces = ns
	return nil
}
