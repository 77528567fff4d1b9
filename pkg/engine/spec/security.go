package spec

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/moby/profiles/seccomp"
	"github.com/moby/sys/capability"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Seccomp profile names with a meaning of their own (Docker's).
const (
	SeccompUnconfined = "unconfined"
	SeccompBuiltin    = "builtin"
)

// DefaultCapabilities is Docker's default capability set.
func DefaultCapabilities() []string {
	return []string{
		"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER",
		"CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID",
		"CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
		"CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
	}
}

// securityOpts is --security-opt after parsing.
type securityOpts struct {
	noNewPrivileges bool
	// seccomp is "" (default profile), SeccompUnconfined, SeccompBuiltin,
	// inline JSON (what the CLI stores, like Docker's) or a file path.
	seccomp string
	// unconfinedPaths is systempaths=unconfined: no masked or read-only
	// /proc and /sys paths.
	unconfinedPaths bool
	// ignored are accepted options nerd has no use for (SELinux labels and
	// AppArmor profiles: neither is enforced on nerd's hosts).
	ignored []string
}

// parseSecurityOpts follows dockerd's parseSecurityOpt: "name=value", the
// deprecated "name:value", and a bare "no-new-privileges".
func parseSecurityOpts(list []string) (securityOpts, error) {
	var so securityOpts
	for _, opt := range list {
		if opt == "no-new-privileges" {
			so.noNewPrivileges = true
			continue
		}
		if opt == "disable" { // label=disable's old spelling
			so.ignored = append(so.ignored, opt)
			continue
		}
		k, v, ok := strings.Cut(opt, "=")
		if !ok {
			k, v, ok = strings.Cut(opt, ":")
		}
		if !ok || v == "" {
			return so, fmt.Errorf("invalid --security-opt: %q", opt)
		}
		switch k {
		case "label", "apparmor":
			so.ignored = append(so.ignored, opt)
		case "seccomp":
			so.seccomp = v
		case "no-new-privileges":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return so, fmt.Errorf("invalid --security-opt: %q", opt)
			}
			so.noNewPrivileges = b
		case "systempaths":
			if v != SeccompUnconfined {
				return so, fmt.Errorf("invalid --security-opt: %q", opt)
			}
			so.unconfinedPaths = true
		default:
			return so, fmt.Errorf("invalid --security-opt: %q", opt)
		}
	}
	return so, nil
}

// capabilities sets Docker's capability set adjusted by --cap-add,
// --cap-drop and --privileged in the bounding, effective and permitted
// sets (dockerd leaves inheritable and ambient empty).
func (g *generator) capabilities() error {
	caps, err := TweakCapabilities(DefaultCapabilities(), g.hc.CapAdd, g.hc.CapDrop, g.hc.Privileged)
	if err != nil {
		return err
	}
	g.s.Process.Capabilities = &specs.LinuxCapabilities{
		Bounding:  caps,
		Effective: slices.Clone(caps),
		Permitted: slices.Clone(caps),
	}
	return nil
}

// TweakCapabilities is dockerd's: privileged gets every capability the
// kernel has; "ALL" in adds means all but the drops; "ALL" in drops means
// only the adds; otherwise defaults minus drops plus adds. Names are
// case-insensitive, with or without the CAP_ prefix.
func TweakCapabilities(defaults, adds, drops []string, privileged bool) ([]string, error) {
	if privileged {
		return allCapabilities(), nil
	}
	if len(adds) == 0 && len(drops) == 0 {
		return slices.Clone(defaults), nil
	}
	capDrop, err := NormalizeCapabilities(drops)
	if err != nil {
		return nil, err
	}
	capAdd, err := NormalizeCapabilities(adds)
	if err != nil {
		return nil, err
	}
	var caps []string
	switch {
	case slices.Contains(capAdd, "ALL"):
		for _, c := range allCapabilities() {
			if !slices.Contains(capDrop, c) {
				caps = append(caps, c)
			}
		}
	case slices.Contains(capDrop, "ALL"):
		caps = slices.DeleteFunc(slices.Clone(capAdd), func(c string) bool { return c == "ALL" })
	default:
		for _, c := range defaults {
			if !slices.Contains(capDrop, c) {
				caps = append(caps, c)
			}
		}
		caps = append(caps, capAdd...)
	}
	// Docker may list an added default twice; runc does not care, but a
	// clean list reads better in inspect output and tests.
	return dedupe(caps), nil
}

// NormalizeCapabilities upper-cases names, adds the CAP_ prefix and checks
// them against the capabilities known to exist, with dockerd's errors.
func NormalizeCapabilities(list []string) ([]string, error) {
	known, supported := capabilityTables()
	out := make([]string, 0, len(list))
	for _, c := range list {
		c = strings.ToUpper(strings.TrimSpace(c))
		if c == "ALL" {
			out = append(out, c)
			continue
		}
		if !strings.HasPrefix(c, "CAP_") {
			c = "CAP_" + c
		}
		if !known[c] {
			return nil, fmt.Errorf("unknown capability: %q", c)
		}
		if !supported[c] {
			return nil, fmt.Errorf("capability not supported by your kernel or not available in the current environment: %q", c)
		}
		out = append(out, c)
	}
	return out, nil
}

// capabilityTables lists the capability names the library knows and the
// subset available here: known to the kernel (cap_last_cap) and in our own
// effective set, as dockerd checks since a restricted environment (a VM
// init without CAP_SYS_RESOURCE, Docker-in-Docker) cannot grant the rest
// and runc would fail with "unable to apply caps: operation not permitted".
var capabilityTables = sync.OnceValues(func() (known, supported map[string]bool) {
	known, supported = map[string]bool{}, map[string]bool{}
	last, lastErr := capability.LastCap()
	var current capability.Capabilities
	if c, err := capability.NewPid2(0); err == nil && c.Load() == nil && !c.Empty(capability.EFFECTIVE) {
		current = c
	}
	for _, c := range capability.ListKnown() {
		name := "CAP_" + strings.ToUpper(c.String())
		known[name] = true
		if lastErr == nil && c > last {
			continue
		}
		if current != nil && !current.Get(capability.EFFECTIVE, c) {
			continue
		}
		supported[name] = true
	}
	return known, supported
})

// allCapabilities is every capability available here, in number order,
// as --privileged gets them.
func allCapabilities() []string {
	_, supported := capabilityTables()
	var out []string
	for _, c := range capability.ListKnown() {
		name := "CAP_" + strings.ToUpper(c.String())
		if supported[name] {
			out = append(out, name)
		}
	}
	return out
}

func dedupe(list []string) []string {
	seen := make(map[string]bool, len(list))
	out := list[:0]
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// seccomp applies Docker's default profile unless the container is
// privileged or asked for seccomp=unconfined; seccomp=FILE (or the inline
// JSON the CLI stores) is a Docker-format profile.
func (g *generator) seccomp() error {
	prof := g.sec.seccomp
	if g.hc.Privileged || prof == SeccompUnconfined {
		return nil
	}
	var (
		sc  *specs.LinuxSeccomp
		err error
	)
	switch {
	case prof == "" || prof == SeccompBuiltin:
		sc, err = seccomp.GetDefaultProfile(g.s)
		if err != nil {
			return fmt.Errorf("generate default seccomp profile: %w", err)
		}
	default:
		body := prof
		if !strings.HasPrefix(strings.TrimSpace(prof), "{") {
			b, rerr := os.ReadFile(prof)
			if rerr != nil {
				return fmt.Errorf("opening seccomp profile (%s) failed: %w", prof, rerr)
			}
			body = string(b)
		}
		sc, err = seccomp.LoadProfile(body, g.s)
		if err != nil {
			return fmt.Errorf("loading seccomp profile: %w", err)
		}
	}
	g.s.Linux.Seccomp = sc
	return nil
}

// maskedPaths is Docker's list of /proc and /sys paths hidden from
// containers, plus the per-CPU thermal_throttle directories present on
// this host (GHSA-6fw5-f8r9-fgfm).
func maskedPaths() []string {
	paths := []string{
		"/proc/asound",
		"/proc/acpi",
		"/proc/interrupts",
		"/proc/kcore",
		"/proc/keys",
		"/proc/latency_stats",
		"/proc/timer_list",
		"/proc/timer_stats",
		"/proc/sched_debug",
		"/proc/scsi",
		"/sys/firmware",
		"/sys/devices/virtual/powercap",
	}
	return append(paths, thermalThrottle()...)
}

var thermalThrottle = sync.OnceValue(func() []string {
	m, _ := filepath.Glob("/sys/devices/system/cpu/cpu[0-9]*/thermal_throttle")
	slices.Sort(m)
	return m
})

// readonlyPaths is Docker's list of /proc paths mounted read-only.
func readonlyPaths() []string {
	return []string{
		"/proc/bus",
		"/proc/fs",
		"/proc/irq",
		"/proc/sys",
		"/proc/sysrq-trigger",
	}
}
