package spec

import (
	"os"
	"runtime"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// Host holds the facts about the machine that change the generated spec.
// Tests fill it by hand; DetectHost reads the running system.
type Host struct {
	// CgroupV2 is true when /sys/fs/cgroup is the unified hierarchy. Docker
	// gives containers a private cgroup namespace only there.
	CgroupV2 bool
	// SwapLimit is true when the kernel accounts swap per cgroup
	// (memory.memsw.* on v1, memory.swap.max on v2); without it dockerd
	// drops --memory-swap with a warning instead of failing at start.
	SwapLimit bool
	// Hostname is the host's name, used with --network host / --uts host.
	Hostname string
	// NumCPU bounds --cpus (dockerd's sysinfo.NumCPU: the CPUs this
	// process may run on).
	NumCPU int
	// CPUs and Mems are the cpuset lists (e.g. "0-3") --cpuset-cpus and
	// --cpuset-mems must stay within; "" skips the check.
	CPUs string
	Mems string
}

// DetectHost describes the running machine. The cgroup facts are read
// once per process; the hostname each call (it can change).
func DetectHost() Host {
	h := detectStatic()
	h.Hostname, _ = os.Hostname()
	return h
}

var detectStatic = sync.OnceValue(func() Host {
	h := Host{NumCPU: runtime.NumCPU()}
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		h.CgroupV2 = true
	}
	if h.CgroupV2 {
		ctrl, _ := os.ReadFile("/sys/fs/cgroup/cgroup.controllers")
		h.SwapLimit = hasWord(string(ctrl), "memory")
		h.CPUs = readTrim("/sys/fs/cgroup/cpuset.cpus.effective")
		h.Mems = readTrim("/sys/fs/cgroup/cpuset.mems.effective")
	} else {
		_, err := os.Stat("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes")
		h.SwapLimit = err == nil
		h.CPUs = readTrim("/sys/fs/cgroup/cpuset/cpuset.cpus")
		h.Mems = readTrim("/sys/fs/cgroup/cpuset/cpuset.mems")
	}
	if h.CPUs == "" {
		h.CPUs = readTrim("/sys/devices/system/cpu/online")
	}
	if h.Mems == "" {
		h.Mems = readTrim("/sys/devices/system/node/online")
	}
	return h
})

func readTrim(p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func hasWord(s, w string) bool {
	for _, f := range strings.Fields(s) {
		if f == w {
			return true
		}
	}
	return false
}

// sysctlExists mirrors dockerd: runc refuses sysctls the kernel does not
// have, so default ones are only added when present.
func sysctlExists(name string) bool {
	_, err := os.Stat("/proc/sys/" + strings.ReplaceAll(name, ".", "/"))
	return err == nil
}
