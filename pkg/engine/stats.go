package engine

// docker stats from the container's cgroup (cgroup v1 controllers under
// /sys/fs/cgroup/<controller>/nerd/<id>, or the unified hierarchy's
// /sys/fs/cgroup/nerd/<id> on a cgroup v2 host).

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Stats is one reading of a container's counters.
type Stats struct {
	Read time.Time
	// CPUUsage is the container's CPU time and SystemUsage the host's
	// (both in nanoseconds); OnlineCPUs is the host's CPU count.
	CPUUsage    uint64
	SystemUsage uint64
	OnlineCPUs  int
	// MemUsage excludes inactive page cache (Docker's "usage"); MemLimit
	// is the cgroup limit, or the host's memory when there is none.
	MemUsage uint64
	MemLimit uint64
	// BlockRead and BlockWrite are bytes of block I/O.
	BlockRead  uint64
	BlockWrite uint64
	NetRx      uint64
	NetTx      uint64
	Pids       uint64
	// Running is false for a container that is not running (all zero).
	Running bool
}

// CPUPercent is Docker's CPU %: the container's share of the host's CPU
// time between two readings, times the CPU count.
func CPUPercent(prev, cur Stats) float64 {
	cpuDelta := float64(cur.CPUUsage) - float64(prev.CPUUsage)
	sysDelta := float64(cur.SystemUsage) - float64(prev.SystemUsage)
	if sysDelta > 0 && cpuDelta > 0 {
		return cpuDelta / sysDelta * float64(cur.OnlineCPUs) * 100
	}
	return 0
}

// MemPercent is Docker's MEM %.
func (s Stats) MemPercent() float64 {
	if s.MemLimit == 0 {
		return 0
	}
	return float64(s.MemUsage) / float64(s.MemLimit) * 100
}

const cgroupRoot = "/sys/fs/cgroup"

// ContainerStats reads c's counters now.
func (e *Engine) ContainerStats(c *Container) Stats {
	e.refresh(c)
	s := Stats{Read: time.Now()}
	if !c.State.Running() {
		return s
	}
	s.Running = true
	s.SystemUsage, s.OnlineCPUs = hostCPU()
	if cgroup2() {
		dir := filepath.Join(cgroupRoot, "nerd", c.ID)
		st := readKV(filepath.Join(dir, "cpu.stat"))
		s.CPUUsage = st["usage_usec"] * 1000
		usage := readUint(filepath.Join(dir, "memory.current"))
		mst := readKV(filepath.Join(dir, "memory.stat"))
		s.MemUsage = withoutCache(usage, mst["inactive_file"])
		s.MemLimit = readUint(filepath.Join(dir, "memory.max")) // "max" reads as 0
		s.BlockRead, s.BlockWrite = ioStatV2(filepath.Join(dir, "io.stat"))
		s.Pids = readUint(filepath.Join(dir, "pids.current"))
	} else {
		s.CPUUsage = readUint(v1Path("cpuacct", c.ID, "cpuacct.usage"))
		usage := readUint(v1Path("memory", c.ID, "memory.usage_in_bytes"))
		mst := readKV(v1Path("memory", c.ID, "memory.stat"))
		s.MemUsage = withoutCache(usage, mst["total_inactive_file"])
		s.MemLimit = readUint(v1Path("memory", c.ID, "memory.limit_in_bytes"))
		s.BlockRead, s.BlockWrite = blkioV1(v1Path("blkio", c.ID, "blkio.throttle.io_service_bytes_recursive"))
		if r, w := blkioV1(v1Path("blkio", c.ID, "blkio.throttle.io_service_bytes")); r+w > s.BlockRead+s.BlockWrite {
			s.BlockRead, s.BlockWrite = r, w
		}
		s.Pids = readUint(v1Path("pids", c.ID, "pids.current"))
	}
	if total := hostMemory(); total > 0 && (s.MemLimit == 0 || s.MemLimit > total) {
		s.MemLimit = total
	}
	return s
}

func v1Path(ctrl, id, file string) string {
	p := filepath.Join(cgroupRoot, ctrl, "nerd", id, file)
	if _, err := os.Stat(p); err != nil && ctrl == "cpuacct" {
		// cpu and cpuacct are often co-mounted as cpu,cpuacct.
		return filepath.Join(cgroupRoot, "cpu,cpuacct", "nerd", id, file)
	}
	return p
}

func cgroup2() bool {
	var st unix.Statfs_t
	return unix.Statfs(cgroupRoot, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC
}

func withoutCache(usage, inactive uint64) uint64 {
	if inactive < usage {
		return usage - inactive
	}
	return usage
}

func readUint(p string) uint64 {
	b, err := os.ReadFile(p)
	if err != nil {
		return 0
	}
	n, _ := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	return n
}

// readKV reads a "key value" per line file (memory.stat, cpu.stat).
func readKV(p string) map[string]uint64 {
	out := map[string]uint64{}
	b, err := os.ReadFile(p)
	if err != nil {
		return out
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 {
			if n, err := strconv.ParseUint(f[1], 10, 64); err == nil {
				out[f[0]] = n
			}
		}
	}
	return out
}

// blkioV1 sums the Read and Write lines of a blkio io_service_bytes file
// ("8:0 Read 4096").
func blkioV1(p string) (read, write uint64) {
	b, err := os.ReadFile(p)
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		n, _ := strconv.ParseUint(f[2], 10, 64)
		switch f[1] {
		case "Read":
			read += n
		case "Write":
			write += n
		}
	}
	return read, write
}

// ioStatV2 sums rbytes and wbytes of io.stat ("8:0 rbytes=1 wbytes=2 …").
func ioStatV2(p string) (read, write uint64) {
	b, err := os.ReadFile(p)
	if err != nil {
		return 0, 0
	}
	for _, f := range strings.Fields(string(b)) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			continue
		}
		n, _ := strconv.ParseUint(v, 10, 64)
		switch k {
		case "rbytes":
			read += n
		case "wbytes":
			write += n
		}
	}
	return read, write
}

// hostCPU is the host's total CPU time in nanoseconds (the "cpu" line of
// /proc/stat) and its number of CPUs.
func hostCPU() (uint64, int) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	var total uint64
	cpus := 0
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || !strings.HasPrefix(f[0], "cpu") {
			continue
		}
		if f[0] != "cpu" {
			cpus++
			continue
		}
		// user nice system idle iowait irq softirq steal (guest time is
		// already counted in user).
		for i := 1; i < len(f) && i <= 8; i++ {
			n, _ := strconv.ParseUint(f[i], 10, 64)
			total += n
		}
	}
	const clockTicks = 100 // USER_HZ
	return total * (1e9 / clockTicks), cpus
}

func hostMemory() uint64 {
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) != nil {
		return 0
	}
	return uint64(si.Totalram) * uint64(si.Unit)
}
