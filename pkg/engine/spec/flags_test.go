package spec

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/nerd-project/nerd/pkg/container"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestCapabilities(t *testing.T) {
	without := func(drop ...string) []string {
		return slices.DeleteFunc(DefaultCapabilities(), func(c string) bool { return slices.Contains(drop, c) })
	}
	tests := []struct {
		name       string
		add, drop  []string
		privileged bool
		want       []string
	}{
		{"default", nil, nil, false, DefaultCapabilities()},
		{"add, any spelling", []string{"sys_admin", "CAP_NET_ADMIN", "Sys_Ptrace"}, nil, false,
			append(DefaultCapabilities(), "CAP_SYS_ADMIN", "CAP_NET_ADMIN", "CAP_SYS_PTRACE")},
		{"drop", nil, []string{"chown", "CAP_NET_RAW"}, false, without("CAP_CHOWN", "CAP_NET_RAW")},
		{"add a default twice", []string{"CHOWN"}, nil, false, DefaultCapabilities()},
		{"drop all, add one", []string{"NET_BIND_SERVICE"}, []string{"all"}, false, []string{"CAP_NET_BIND_SERVICE"}},
		{"drop all", nil, []string{"ALL"}, false, []string{}},
		{"add all minus one", []string{"ALL"}, []string{"SYS_ADMIN"}, false,
			slices.DeleteFunc(allCapabilities(), func(c string) bool { return c == "CAP_SYS_ADMIN" })},
		{"privileged", nil, []string{"CHOWN"}, true, allCapabilities()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := newInput(t)
			in.Record.HostConfig.CapAdd = tt.add
			in.Record.HostConfig.CapDrop = tt.drop
			in.Record.HostConfig.Privileged = tt.privileged
			c := mustGenerate(t, in).Process.Capabilities
			if !reflect.DeepEqual(c.Bounding, tt.want) || !reflect.DeepEqual(c.Effective, tt.want) || !reflect.DeepEqual(c.Permitted, tt.want) {
				t.Errorf("caps = %v, want %v", c.Bounding, tt.want)
			}
		})
	}
	if all := allCapabilities(); !slices.Contains(all, "CAP_SYS_ADMIN") || !slices.Contains(all, "CAP_CHOWN") || len(all) < 38 {
		t.Errorf("allCapabilities = %v", all)
	}
}

func TestSeccomp(t *testing.T) {
	profile := `{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]}`
	file := filepath.Join(t.TempDir(), "p.json")
	if err := os.WriteFile(file, []byte(profile), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		opts       []string
		privileged bool
		want       specs.LinuxSeccompAction // "" = no seccomp
	}{
		{"default", nil, false, specs.ActErrno},
		{"builtin", []string{"seccomp=builtin"}, false, specs.ActErrno},
		{"unconfined", []string{"seccomp=unconfined"}, false, ""},
		{"deprecated colon form", []string{"seccomp:unconfined"}, false, ""},
		{"privileged", nil, true, ""},
		{"privileged ignores file", []string{"seccomp=" + file}, true, ""},
		{"file", []string{"seccomp=" + file}, false, specs.ActAllow},
		{"inline json (what the CLI stores)", []string{"seccomp=" + profile}, false, specs.ActAllow},
		{"label and apparmor ignored", []string{"label=disable", "apparmor=unconfined"}, false, specs.ActErrno},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := newInput(t)
			in.Record.HostConfig.SecurityOpt = tt.opts
			in.Record.HostConfig.Privileged = tt.privileged
			var warnings []string
			in.Warnf = func(f string, a ...any) { warnings = append(warnings, fmt.Sprintf(f, a...)) }
			sc := mustGenerate(t, in).Linux.Seccomp
			switch {
			case tt.want == "" && sc != nil:
				t.Errorf("seccomp = %+v, want none", sc.DefaultAction)
			case tt.want != "" && (sc == nil || sc.DefaultAction != tt.want):
				t.Errorf("seccomp = %+v, want default action %s", sc, tt.want)
			}
			if strings.HasPrefix(tt.name, "label") && len(warnings) != 2 {
				t.Errorf("warnings = %q", warnings)
			}
		})
	}

	// The default profile follows the capabilities: CAP_SYS_ADMIN opens
	// up mount(2) and friends.
	count := func(add ...string) int {
		in := newInput(t)
		in.Record.HostConfig.CapAdd = add
		n := 0
		for _, sc := range mustGenerate(t, in).Linux.Seccomp.Syscalls {
			n += len(sc.Names)
		}
		return n
	}
	if base, admin := count(), count("SYS_ADMIN"); admin <= base {
		t.Errorf("SYS_ADMIN allows %d syscalls, default %d", admin, base)
	}
}

func TestPrivileged(t *testing.T) {
	in := newInput(t)
	in.Record.HostConfig.Privileged = true
	s := mustGenerate(t, in)
	if s.Linux.MaskedPaths != nil || s.Linux.ReadonlyPaths != nil {
		t.Errorf("masked=%v readonly=%v", s.Linux.MaskedPaths, s.Linux.ReadonlyPaths)
	}
	for _, d := range []string{"/sys", "/sys/fs/cgroup"} {
		if m := findMount(s, d); slices.Contains(m.Options, "ro") {
			t.Errorf("%s options = %v, want rw", d, m.Options)
		}
	}
	if want := []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}; !reflect.DeepEqual(s.Linux.Resources.Devices, want) {
		t.Errorf("device rules = %+v", s.Linux.Resources.Devices)
	}
	if !slices.ContainsFunc(s.Linux.Devices, func(d specs.LinuxDevice) bool { return d.Path == "/dev/null" && d.Major == 1 && d.Minor == 3 }) {
		t.Errorf("host devices lack /dev/null: %d devices", len(s.Linux.Devices))
	}
	if slices.ContainsFunc(s.Linux.Devices, func(d specs.LinuxDevice) bool {
		return strings.HasPrefix(d.Path, "/dev/pts/") || d.Path == "/dev/console"
	}) {
		t.Error("host devices include /dev/pts or /dev/console")
	}

	in.Record.HostConfig.SecurityOpt = []string{"systempaths=unconfined"}
	in.Record.HostConfig.Privileged = false
	if s := mustGenerate(t, in); s.Linux.MaskedPaths != nil || s.Linux.ReadonlyPaths != nil {
		t.Errorf("systempaths=unconfined: masked=%v", s.Linux.MaskedPaths)
	}
}

func TestDevices(t *testing.T) {
	in := newInput(t)
	in.Record.HostConfig.Devices = []container.DeviceMapping{
		{PathOnHost: "/dev/null", PathInContainer: "/dev/mynull", CgroupPermissions: "rw"},
		{PathOnHost: "/dev/zero", PathInContainer: "/dev/zero", CgroupPermissions: "rwm"},
	}
	s := mustGenerate(t, in)
	if len(s.Linux.Devices) != 2 {
		t.Fatalf("devices = %+v", s.Linux.Devices)
	}
	d := s.Linux.Devices[0]
	if d.Path != "/dev/mynull" || d.Type != "c" || d.Major != 1 || d.Minor != 3 || d.FileMode == nil || *d.FileMode != 0o666 {
		t.Errorf("device = %+v", d)
	}
	rules := s.Linux.Resources.Devices
	last := rules[len(rules)-2]
	if !last.Allow || last.Type != "c" || *last.Major != 1 || *last.Minor != 3 || last.Access != "rw" {
		t.Errorf("rule = %+v", last)
	}
	if len(rules) != len(defaultDeviceRules())+2 {
		t.Errorf("rules = %d", len(rules))
	}

	// A directory adds the devices under it.
	devs, _, err := DevicesFromPath("/dev", "/hostdev", "r")
	if err != nil || !slices.ContainsFunc(devs, func(d specs.LinuxDevice) bool { return d.Path == "/hostdev/null" }) {
		t.Errorf("directory: %d devices, %v", len(devs), err)
	}
	if _, _, err := DevicesFromPath("/etc/hostname", "/x", "rwm"); err == nil || !strings.Contains(err.Error(), "not a device node") {
		t.Errorf("regular file: err = %v", err)
	}
}

func TestResources(t *testing.T) {
	i64 := func(v int64) *int64 { return &v }
	u64 := func(v uint64) *uint64 { return &v }
	tests := []struct {
		name    string
		r       container.Resources
		noSwap  bool
		mem     *specs.LinuxMemory
		cpu     *specs.LinuxCPU
		pids    *specs.LinuxPids
		warning string
	}{
		{name: "memory only: swap 2x", r: container.Resources{Memory: 64 << 20},
			mem: &specs.LinuxMemory{Limit: i64(64 << 20), Swap: i64(128 << 20)}},
		{name: "memory and swap", r: container.Resources{Memory: 64 << 20, MemorySwap: 100 << 20, MemoryReservation: 32 << 20},
			mem: &specs.LinuxMemory{Limit: i64(64 << 20), Swap: i64(100 << 20), Reservation: i64(32 << 20)}},
		{name: "unlimited swap", r: container.Resources{Memory: 64 << 20, MemorySwap: -1},
			mem: &specs.LinuxMemory{Limit: i64(64 << 20)}},
		{name: "no swap accounting", r: container.Resources{Memory: 64 << 20}, noSwap: true,
			mem: &specs.LinuxMemory{Limit: i64(64 << 20)}, warning: "swap limit"},
		{name: "cpus", r: container.Resources{NanoCPUs: 1_500_000_000},
			cpu: &specs.LinuxCPU{Period: u64(100000), Quota: i64(150000)}},
		{name: "shares, period, quota, cpuset", r: container.Resources{CPUShares: 512, CPUPeriod: 50000, CPUQuota: 25000, CpusetCpus: "0-1", CpusetMems: "0"},
			cpu: &specs.LinuxCPU{Shares: u64(512), Period: u64(50000), Quota: i64(25000), Cpus: "0-1", Mems: "0"}},
		{name: "shares clamped", r: container.Resources{CPUShares: 1 << 20},
			cpu: &specs.LinuxCPU{Shares: u64(262144)}},
		{name: "pids", r: container.Resources{PidsLimit: i64(20)}, pids: &specs.LinuxPids{Limit: i64(20)}},
		{name: "pids unlimited", r: container.Resources{PidsLimit: i64(0)}, pids: &specs.LinuxPids{Limit: i64(-1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := newInput(t)
			in.Host.SwapLimit = !tt.noSwap
			in.Record.HostConfig.Resources = tt.r
			var warnings []string
			in.Warnf = func(f string, a ...any) { warnings = append(warnings, fmt.Sprintf(f, a...)) }
			res := mustGenerate(t, in).Linux.Resources
			if !reflect.DeepEqual(res.Memory, tt.mem) {
				t.Errorf("memory = %s, want %s", dump(res.Memory), dump(tt.mem))
			}
			if !reflect.DeepEqual(res.CPU, tt.cpu) {
				t.Errorf("cpu = %s, want %s", dump(res.CPU), dump(tt.cpu))
			}
			if !reflect.DeepEqual(res.Pids, tt.pids) {
				t.Errorf("pids = %s, want %s", dump(res.Pids), dump(tt.pids))
			}
			if tt.warning != "" && (len(warnings) != 1 || !strings.Contains(warnings[0], tt.warning)) {
				t.Errorf("warnings = %q", warnings)
			}
		})
	}
}

func dump(v any) string { return fmt.Sprintf("%+v", reflect.Indirect(reflect.ValueOf(v))) }

func TestResourceErrors(t *testing.T) {
	tests := []struct {
		r    container.Resources
		want string
	}{
		{container.Resources{Memory: 1 << 20}, "Minimum memory limit allowed is 6MB"},
		{container.Resources{Memory: 64 << 20, MemorySwap: 32 << 20}, "Minimum memoryswap limit should be larger than memory limit, see usage"},
		{container.Resources{MemorySwap: 32 << 20}, "You should always set the Memory limit when using Memoryswap limit, see usage"},
		{container.Resources{MemoryReservation: 1 << 20}, "Minimum memory reservation allowed is 6MB"},
		{container.Resources{Memory: 16 << 20, MemoryReservation: 32 << 20}, "Minimum memory limit can not be less than memory reservation limit, see usage"},
		{container.Resources{NanoCPUs: 3e9}, "Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available"},
		{container.Resources{NanoCPUs: -1e9}, "Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available"},
		{container.Resources{NanoCPUs: 1e9, CPUPeriod: 1000}, "Conflicting options: Nano CPUs and CPU Period cannot both be set"},
		{container.Resources{NanoCPUs: 1e9, CPUQuota: 1000}, "Conflicting options: Nano CPUs and CPU Quota cannot both be set"},
		{container.Resources{CPUPeriod: 10}, "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)"},
		{container.Resources{CPUQuota: 10}, "CPU cfs quota can not be less than 1ms (i.e. 1000)"},
		{container.Resources{CpusetCpus: "0-7"}, "Requested CPUs are not available - requested 0-7, available: 0-1"},
		{container.Resources{CpusetCpus: "a"}, "Invalid value a for cpuset cpus"},
		{container.Resources{CpusetMems: "1"}, "Requested memory nodes are not available - requested 1, available: 0"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			in := newInput(t)
			in.Record.HostConfig.Resources = tt.r
			if _, err := Generate(in); err == nil || err.Error() != tt.want {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestRlimits(t *testing.T) {
	in := newInput(t)
	in.Record.HostConfig.Ulimits = []container.Ulimit{
		{Name: "nproc", Soft: 100, Hard: 200},
		{Name: "nofile", Soft: 1024, Hard: 2048},
		{Name: "nofile", Soft: 30000, Hard: 40000}, // later wins; above host hard 20000
		{Name: "core", Soft: -1, Hard: -1},
	}
	var warnings []string
	in.Warnf = func(f string, a ...any) { warnings = append(warnings, fmt.Sprintf(f, a...)) }
	got := mustGenerate(t, in).Process.Rlimits
	want := []specs.POSIXRlimit{
		{Type: "RLIMIT_CORE", Soft: 20000, Hard: 20000},
		{Type: "RLIMIT_NOFILE", Soft: 20000, Hard: 20000},
		{Type: "RLIMIT_NPROC", Soft: 100, Hard: 200},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rlimits = %+v, want %+v", got, want)
	}
	if len(warnings) != 2 || !strings.Contains(warnings[1], "nofile=30000:40000 exceeds the host's hard limit 20000") {
		t.Errorf("warnings = %q", warnings)
	}
}

func TestSysctlsAndTmpfs(t *testing.T) {
	in := newInput(t)
	in.Record.HostConfig.Sysctls = map[string]string{"net.ipv4.ip_forward": "1", "kernel.shmmax": "65536", "fs.mqueue.msg_max": "20", "net.ipv4.ping_group_range": "1 1"}
	in.Record.HostConfig.Tmpfs = map[string]string{"/run": "", "/run/lock": "size=1m,exec", "/dev/shm": "size=1g"}
	in.Record.HostConfig.ShmSize = 1 << 30
	s := mustGenerate(t, in)
	for k, v := range in.Record.HostConfig.Sysctls {
		if s.Linux.Sysctl[k] != v {
			t.Errorf("sysctl %s = %q, want %q", k, s.Linux.Sysctl[k], v)
		}
	}
	dests := mountDests(s)
	if i, j := slices.Index(dests, "/run"), slices.Index(dests, "/run/lock"); i < 0 || j < i {
		t.Errorf("mount order = %v", dests)
	}
	if got, want := findMount(s, "/run/lock").Options, []string{"nosuid", "nodev", "rprivate", "size=1m", "exec"}; !reflect.DeepEqual(got, want) {
		t.Errorf("/run/lock options = %v, want %v", got, want)
	}
	if got, want := findMount(s, "/run").Options, []string{"noexec", "nosuid", "nodev", "rprivate"}; !reflect.DeepEqual(got, want) {
		t.Errorf("/run options = %v, want %v", got, want)
	}
	if m := findMount(s, "/dev/shm"); m.Source != "tmpfs" || !slices.Contains(m.Options, "size=1g") {
		t.Errorf("/dev/shm = %+v (the --tmpfs should replace the default)", m)
	}
	if n := strings.Count(strings.Join(dests, " "), "/dev/shm"); n != 1 {
		t.Errorf("/dev/shm mounted %d times", n)
	}

	in.Record.HostConfig.Tmpfs = map[string]string{"/dev": ""}
	if dests := mountDests(mustGenerate(t, in)); slices.Contains(dests, "/dev/pts") || slices.Contains(dests, "/dev/shm") {
		t.Errorf("--tmpfs /dev kept the /dev/* defaults: %v", dests)
	}

	in.Record.HostConfig.Tmpfs = nil
	in.Record.HostConfig.ShmSize = 128 << 20
	if m := findMount(mustGenerate(t, in), "/dev/shm"); !slices.Contains(m.Options, "size=134217728") {
		t.Errorf("--shm-size: %v", m.Options)
	}
}

func TestMergeTmpfsOptions(t *testing.T) {
	got, err := MergeTmpfsOptions([]string{"noexec", "nosuid", "nodev", "rprivate", "size=1m", "exec", "shared", "size=2m", "mode=1777", "defaults"})
	want := []string{"nosuid", "nodev", "exec", "shared", "size=2m", "mode=1777"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, %v; want %v", got, err, want)
	}
}

func TestResourcesForUpdate(t *testing.T) {
	host := DetectHost()
	if !host.SwapLimit || host.NumCPU < 1 {
		t.Skip("needs swap accounting")
	}
	zero := int64(0)
	r := container.Resources{Memory: 64 << 20, MemorySwap: -1, PidsLimit: &zero, CPUShares: 100}
	res, err := Resources(&r)
	if err != nil {
		t.Fatal(err)
	}
	if *res.Memory.Limit != 64<<20 || *res.Memory.Swap != -1 || *res.Pids.Limit != -1 || *res.CPU.Shares != 100 {
		t.Errorf("resources = %s %s %s", dump(res.Memory), dump(res.Pids), dump(res.CPU))
	}
	if res.Devices != nil {
		t.Errorf("update touches devices: %+v", res.Devices)
	}
	r = container.Resources{Memory: 64 << 20}
	if res, err := Resources(&r); err != nil || *res.Memory.Swap != 128<<20 || r.MemorySwap != 0 {
		t.Errorf("swap default: %v %s, record swap %d", err, dump(res.Memory), r.MemorySwap)
	}
	if _, err := Resources(&container.Resources{Memory: 1 << 20}); err == nil || err.Error() != "Minimum memory limit allowed is 6MB" {
		t.Errorf("err = %v", err)
	}
}
