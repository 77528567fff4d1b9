package spec

import (
	"errors"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/nerd-project/nerd/pkg/container"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Docker's limits (daemon/daemon_unix.go).
const (
	minMemory      = 6 << 20 // linuxMinMemory
	minCPUShares   = 2
	maxCPUShares   = 262144
	defaultPeriod  = 100000 // 100 ms, the CFS period used for --cpus
	minCFSPeriod   = 1000
	maxCFSPeriod   = 1000000
	minCFSQuota    = 1000
	nanoCPUsPerCPU = 1e9
)

// validateResources performs dockerd's create-time checks and adjustments
// on r in place (memory-swap default, cpu-shares clamp), with its messages.
func validateResources(r *container.Resources, host Host) error {
	if r.Memory < 0 || r.MemoryReservation < 0 {
		return errors.New("invalid memory limit: it can not be negative")
	}
	if r.Memory > 0 && r.Memory < minMemory {
		return errors.New("Minimum memory limit allowed is 6MB")
	}
	if r.MemorySwap < -1 {
		return errors.New("invalid memory swap limit: use -1 for unlimited")
	}
	if r.Memory > 0 && r.MemorySwap > 0 && r.MemorySwap < r.Memory {
		return errors.New("Minimum memoryswap limit should be larger than memory limit, see usage")
	}
	if r.Memory == 0 && r.MemorySwap > 0 {
		return errors.New("You should always set the Memory limit when using Memoryswap limit, see usage")
	}
	if r.MemoryReservation > 0 && r.MemoryReservation < minMemory {
		return errors.New("Minimum memory reservation allowed is 6MB")
	}
	if r.Memory > 0 && r.MemoryReservation > 0 && r.Memory < r.MemoryReservation {
		return errors.New("Minimum memory limit can not be less than memory reservation limit, see usage")
	}
	// dockerd's adaptContainerSettings: swap defaults to twice the memory.
	if r.Memory > 0 && r.MemorySwap == 0 {
		r.MemorySwap = 2 * r.Memory
	}

	if r.NanoCPUs > 0 && r.CPUPeriod > 0 {
		return errors.New("Conflicting options: Nano CPUs and CPU Period cannot both be set")
	}
	if r.NanoCPUs > 0 && r.CPUQuota > 0 {
		return errors.New("Conflicting options: Nano CPUs and CPU Quota cannot both be set")
	}
	if n := int64(host.NumCPU); n > 0 && (r.NanoCPUs < 0 || r.NanoCPUs > n*nanoCPUsPerCPU) {
		return fmt.Errorf("Range of CPUs is from 0.01 to %d.00, as there are only %d CPUs available", n, n)
	}
	if r.NanoCPUs < 0 {
		return errors.New("Range of CPUs is from 0.01, as a negative value is not allowed")
	}
	if r.CPUPeriod != 0 && (r.CPUPeriod < minCFSPeriod || r.CPUPeriod > maxCFSPeriod) {
		return errors.New("CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)")
	}
	if r.CPUQuota > 0 && r.CPUQuota < minCFSQuota {
		return errors.New("CPU cfs quota can not be less than 1ms (i.e. 1000)")
	}
	if r.CPUShares < 0 {
		r.CPUShares = minCPUShares
	} else if r.CPUShares > maxCPUShares {
		r.CPUShares = maxCPUShares
	}
	if err := checkCpuset(r.CpusetCpus, host.CPUs, "cpus", "CPUs"); err != nil {
		return err
	}
	return checkCpuset(r.CpusetMems, host.Mems, "mems", "memory nodes")
}

// checkCpuset validates a cpuset list and that it is within what the host
// offers, with dockerd's wording.
func checkCpuset(req, avail, flag, what string) error {
	if req == "" {
		return nil
	}
	want, err := parseCpuset(req)
	if err != nil {
		return fmt.Errorf("Invalid value %s for cpuset %s", req, flag)
	}
	if avail == "" {
		return nil
	}
	have, err := parseCpuset(avail)
	if err != nil {
		return nil // can't tell: let the kernel decide
	}
	for n := range want {
		if !have[n] {
			return fmt.Errorf("Requested %s are not available - requested %s, available: %s", what, req, avail)
		}
	}
	return nil
}

// parseCpuset parses the kernel's list format ("0-3,5").
func parseCpuset(s string) (map[int]bool, error) {
	out := map[int]bool{}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return nil, fmt.Errorf("invalid cpuset %q", s)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("invalid cpuset %q", s)
			}
		}
		if b-a > 1<<16 {
			return nil, fmt.Errorf("invalid cpuset %q", s)
		}
		for n := a; n <= b; n++ {
			out[n] = true
		}
	}
	return out, nil
}

// resources fills linux.resources (memory, cpu, pids; devices come from
// devices()) and the absolute cgroupsPath.
func (g *generator) resources() error {
	lr := linuxResources(&g.hc.Resources, g.host, g.warnf)
	g.s.Linux.Resources.Memory, g.s.Linux.Resources.CPU, g.s.Linux.Resources.Pids = lr.Memory, lr.CPU, lr.Pids

	parent := g.in.CgroupParent
	if parent == "" {
		parent = DefaultCgroupParent
	}
	g.s.Linux.CgroupsPath = path.Join("/", parent, g.rec.ID)
	return nil
}

// Resources returns the memory, CPU and pids limits for r, for `update` of
// a running container, after the same checks as create. Unlike a new
// container's spec it states "unlimited" explicitly (swap -1), because an
// update must clear a previous limit. r is not modified.
func Resources(r *container.Resources) (*specs.LinuxResources, error) {
	host := DetectHost()
	rc := *r
	if err := validateResources(&rc, host); err != nil {
		return nil, err
	}
	lr := linuxResources(&rc, host, func(string, ...any) {})
	if rc.MemorySwap == -1 && host.SwapLimit {
		if lr.Memory == nil {
			lr.Memory = &specs.LinuxMemory{}
		}
		lr.Memory.Swap = ptr(int64(-1))
	}
	return lr, nil
}

// linuxResources converts validated resources like dockerd's
// getMemoryResources/getCPUResources/getPidsLimit.
func linuxResources(r *container.Resources, host Host, warnf func(string, ...any)) *specs.LinuxResources {
	res := &specs.LinuxResources{}
	mem := &specs.LinuxMemory{}
	if r.Memory > 0 {
		mem.Limit = ptr(r.Memory)
	}
	if r.MemoryReservation > 0 {
		mem.Reservation = ptr(r.MemoryReservation)
	}
	if r.MemorySwap > 0 {
		if host.SwapLimit {
			mem.Swap = ptr(r.MemorySwap)
		} else {
			warnf("Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.")
		}
	}
	if *mem != (specs.LinuxMemory{}) {
		res.Memory = mem
	}

	cpu := &specs.LinuxCPU{Cpus: r.CpusetCpus, Mems: r.CpusetMems}
	if r.CPUShares > 0 {
		cpu.Shares = ptr(uint64(r.CPUShares))
	}
	if r.NanoCPUs > 0 {
		cpu.Period = ptr(uint64(defaultPeriod))
		cpu.Quota = ptr(r.NanoCPUs * defaultPeriod / nanoCPUsPerCPU)
	}
	if r.CPUPeriod != 0 {
		cpu.Period = ptr(uint64(r.CPUPeriod))
	}
	if r.CPUQuota != 0 {
		cpu.Quota = ptr(r.CPUQuota)
	}
	if cpu.Shares != nil || cpu.Period != nil || cpu.Quota != nil || cpu.Cpus != "" || cpu.Mems != "" {
		res.CPU = cpu
	}

	// The API allows 0 and negative values for "unlimited"; runc wants -1
	// (which also clears a previous limit on update).
	if r.PidsLimit != nil {
		limit := *r.PidsLimit
		if limit <= 0 {
			limit = -1
		}
		res.Pids = &specs.LinuxPids{Limit: ptr(limit)}
	}
	return res
}

func ptr[T any](v T) *T { return &v }

// rlimitTypes maps --ulimit names (go-units' list; "as" is left out as in
// Docker) to RLIMIT_* numbers.
var rlimitTypes = map[string]int{
	"core": unix.RLIMIT_CORE, "cpu": unix.RLIMIT_CPU, "data": unix.RLIMIT_DATA,
	"fsize": unix.RLIMIT_FSIZE, "locks": unix.RLIMIT_LOCKS, "memlock": unix.RLIMIT_MEMLOCK,
	"msgqueue": unix.RLIMIT_MSGQUEUE, "nice": unix.RLIMIT_NICE, "nofile": unix.RLIMIT_NOFILE,
	"nproc": unix.RLIMIT_NPROC, "rss": unix.RLIMIT_RSS, "rtprio": unix.RLIMIT_RTPRIO,
	"rttime": unix.RLIMIT_RTTIME, "sigpending": unix.RLIMIT_SIGPENDING, "stack": unix.RLIMIT_STACK,
}

// rlimits turns --ulimit into process.rlimits. Unset limits are inherited
// from the monitor. A limit above the host's hard limit is clamped to it:
// the runtime cannot raise it (nofile is capped at 20000 on nerd's CI
// hosts) and failing the start over it helps nobody.
func (g *generator) rlimits() error {
	byName := map[string]container.Ulimit{}
	for _, u := range g.hc.Ulimits {
		byName[u.Name] = u // a later --ulimit of the same name wins
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		u := byName[name]
		res, ok := rlimitTypes[name]
		if !ok {
			return fmt.Errorf("invalid ulimit type: %s", name)
		}
		soft, hard := rlimitValue(u.Soft), rlimitValue(u.Hard)
		if soft > hard {
			return fmt.Errorf("ulimit soft limit must be less than or equal to hard limit: %d > %d", u.Soft, u.Hard)
		}
		if _, hostHard := g.hostRlimit(res); hard > hostHard {
			g.warnf("--ulimit %s=%d:%d exceeds the host's hard limit %d; using %d", name, u.Soft, u.Hard, hostHard, hostHard)
			hard = hostHard
			soft = min(soft, hard)
		}
		g.s.Process.Rlimits = append(g.s.Process.Rlimits, specs.POSIXRlimit{
			Type: "RLIMIT_" + strings.ToUpper(name),
			Soft: soft,
			Hard: hard,
		})
	}
	return nil
}

// rlimitValue maps Docker's -1 ("unlimited") to RLIM_INFINITY.
func rlimitValue(v int64) uint64 {
	if v < 0 {
		return unix.RLIM_INFINITY
	}
	return uint64(v)
}

// sysctls adds Docker's default network sysctls for a private network
// namespace (unprivileged ping and low ports), then --sysctl, each checked
// against the namespaced set Docker allows.
func (g *generator) sysctls() error {
	hostNet := isHostMode(g.hc.NetworkMode)
	if !hostNet {
		if sysctlExists("net.ipv4.ping_group_range") {
			g.s.Linux.Sysctl["net.ipv4.ping_group_range"] = "0 2147483647"
		}
		if sysctlExists("net.ipv4.ip_unprivileged_port_start") {
			g.s.Linux.Sysctl["net.ipv4.ip_unprivileged_port_start"] = "0"
		}
	}
	for k, v := range g.hc.Sysctls {
		if err := ValidateSysctl(k, hostNet, isHostMode(g.hc.IpcMode)); err != nil {
			return err
		}
		g.s.Linux.Sysctl[k] = v
	}
	return nil
}

// ValidateSysctl allows only sysctls that live in a namespace the container
// owns: Docker's IPC list, fs.mqueue.* and net.*; those of a namespace
// shared with the host would change the host.
func ValidateSysctl(key string, hostNetwork, hostIPC bool) error {
	ipc := key == "kernel.msgmax" || key == "kernel.msgmnb" || key == "kernel.msgmni" ||
		key == "kernel.sem" || key == "kernel.shmall" || key == "kernel.shmmax" ||
		key == "kernel.shmmni" || key == "kernel.shm_rmid_forced" || strings.HasPrefix(key, "fs.mqueue.")
	switch {
	case ipc && hostIPC:
		return fmt.Errorf("sysctl %q is not allowed in host IPC namespace", key)
	case ipc:
		return nil
	case strings.HasPrefix(key, "net.") && hostNetwork:
		return fmt.Errorf("sysctl %q is not allowed in host network namespace", key)
	case strings.HasPrefix(key, "net."):
		return nil
	}
	return fmt.Errorf("sysctl %q is not allowed", key)
}
