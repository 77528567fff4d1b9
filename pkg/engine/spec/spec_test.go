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
	"golang.org/x/sys/unix"
)

const testID = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

var testHost = Host{Hostname: "testhost", NumCPU: 2, SwapLimit: true, CPUs: "0-1", Mems: "0"}

// newInput is a container running "sh" from an image with no files.
func newInput(t *testing.T) Input {
	t.Helper()
	h := testHost
	return Input{
		Record: &container.Record{
			ID:     testID,
			Config: container.Config{Cmd: []string{"sh"}},
		},
		Rootfs:      t.TempDir(),
		Host:        &h,
		HostRlimits: func(int) (uint64, uint64) { return 1024, 20000 },
	}
}

func mustGenerate(t *testing.T, in Input) *specs.Spec {
	t.Helper()
	s, err := Generate(in)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return s
}

func mountDests(s *specs.Spec) []string {
	var d []string
	for _, m := range s.Mounts {
		d = append(d, m.Destination)
	}
	return d
}

func findMount(s *specs.Spec, dest string) *specs.Mount {
	for i := range s.Mounts {
		if s.Mounts[i].Destination == dest {
			return &s.Mounts[i]
		}
	}
	return nil
}

func nsTypes(s *specs.Spec) []specs.LinuxNamespaceType {
	var out []specs.LinuxNamespaceType
	for _, n := range s.Linux.Namespaces {
		out = append(out, n.Type)
	}
	return out
}

func TestDefaultSpec(t *testing.T) {
	in := newInput(t)
	s := mustGenerate(t, in)

	if got, want := s.Process.Args, []string{"sh"}; !reflect.DeepEqual(got, want) {
		t.Errorf("args = %q, want %q", got, want)
	}
	wantEnv := []string{"PATH=" + DefaultPathEnv, "HOSTNAME=0123456789ab", "HOME=/root"}
	if !reflect.DeepEqual(s.Process.Env, wantEnv) {
		t.Errorf("env = %q, want %q", s.Process.Env, wantEnv)
	}
	if s.Process.Cwd != "/" || s.Process.Terminal || s.Process.NoNewPrivileges {
		t.Errorf("cwd=%q terminal=%v nnp=%v", s.Process.Cwd, s.Process.Terminal, s.Process.NoNewPrivileges)
	}
	if s.Process.OOMScoreAdj == nil || *s.Process.OOMScoreAdj != 0 {
		t.Errorf("oomScoreAdj = %v, want 0", s.Process.OOMScoreAdj)
	}
	if u := s.Process.User; u.UID != 0 || u.GID != 0 || !reflect.DeepEqual(u.AdditionalGids, []uint32{0}) {
		t.Errorf("user = %+v", u)
	}
	if s.Hostname != "0123456789ab" {
		t.Errorf("hostname = %q", s.Hostname)
	}
	if s.Root.Path != in.Rootfs || s.Root.Readonly {
		t.Errorf("root = %+v", s.Root)
	}

	caps := s.Process.Capabilities
	for name, set := range map[string][]string{"bounding": caps.Bounding, "effective": caps.Effective, "permitted": caps.Permitted} {
		if !reflect.DeepEqual(set, DefaultCapabilities()) {
			t.Errorf("%s caps = %v", name, set)
		}
	}
	if caps.Inheritable != nil || caps.Ambient != nil {
		t.Errorf("inheritable/ambient caps set: %+v", caps)
	}

	if s.Linux.Seccomp == nil || s.Linux.Seccomp.DefaultAction != specs.ActErrno || len(s.Linux.Seccomp.Syscalls) == 0 {
		t.Errorf("seccomp = %+v, want Docker's default profile", s.Linux.Seccomp)
	}

	wantMounts := []string{"/proc", "/dev", "/dev/pts", "/sys", "/sys/fs/cgroup", "/dev/mqueue", "/dev/shm"}
	if got := mountDests(s); !reflect.DeepEqual(got, wantMounts) {
		t.Errorf("mounts = %v, want %v", got, wantMounts)
	}
	if m := findMount(s, "/dev/shm"); !slices.Contains(m.Options, "size=67108864") || !slices.Contains(m.Options, "noexec") {
		t.Errorf("/dev/shm options = %v", m.Options)
	}
	if m := findMount(s, "/sys"); !slices.Contains(m.Options, "ro") {
		t.Errorf("/sys options = %v, want ro", m.Options)
	}
	for _, p := range []string{"/proc/kcore", "/proc/keys", "/sys/firmware", "/sys/devices/virtual/powercap", "/proc/interrupts"} {
		if !slices.Contains(s.Linux.MaskedPaths, p) {
			t.Errorf("masked paths lack %s", p)
		}
	}
	if !reflect.DeepEqual(s.Linux.ReadonlyPaths, []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}) {
		t.Errorf("readonly paths = %v", s.Linux.ReadonlyPaths)
	}

	wantNS := []specs.LinuxNamespaceType{specs.MountNamespace, specs.NetworkNamespace, specs.UTSNamespace, specs.PIDNamespace, specs.IPCNamespace}
	if got := nsTypes(s); !reflect.DeepEqual(got, wantNS) {
		t.Errorf("namespaces = %v, want %v", got, wantNS)
	}
	if s.Linux.CgroupsPath != "/nerd/"+testID {
		t.Errorf("cgroupsPath = %q", s.Linux.CgroupsPath)
	}
	if !reflect.DeepEqual(s.Linux.Resources.Devices, defaultDeviceRules()) {
		t.Errorf("device rules = %+v", s.Linux.Resources.Devices)
	}
	if r := s.Linux.Resources; r.Memory != nil || r.CPU != nil || r.Pids != nil {
		t.Errorf("unexpected limits: %+v", r)
	}
	if len(s.Linux.Devices) != 0 || len(s.Process.Rlimits) != 0 {
		t.Errorf("devices=%v rlimits=%v", s.Linux.Devices, s.Process.Rlimits)
	}
	if s.Linux.Sysctl["net.ipv4.ip_unprivileged_port_start"] != "0" || s.Linux.Sysctl["net.ipv4.ping_group_range"] != "0 2147483647" {
		t.Errorf("sysctls = %v", s.Linux.Sysctl)
	}
}

func TestGenerateDoesNotChangeRecord(t *testing.T) {
	in := newInput(t)
	in.Record.HostConfig.Memory = 64 << 20
	mustGenerate(t, in)
	if hc := in.Record.HostConfig; hc.MemorySwap != 0 || hc.ShmSize != 0 {
		t.Errorf("record changed: swap=%d shm=%d", hc.MemorySwap, hc.ShmSize)
	}
}

func TestProcess(t *testing.T) {
	yes := true
	tests := []struct {
		name  string
		setup func(in *Input)
		check func(t *testing.T, s *specs.Spec)
	}{
		{"entrypoint+cmd", func(in *Input) {
			in.Record.Config.Entrypoint = []string{"/bin/echo", "a"}
			in.Record.Config.Cmd = []string{"b"}
		}, func(t *testing.T, s *specs.Spec) {
			wantArgs(t, s, "/bin/echo", "a", "b")
		}},
		{"empty entrypoint resets", func(in *Input) {
			in.Record.Config.Entrypoint = []string{""}
			in.Record.Config.Cmd = []string{"ls"}
		}, func(t *testing.T, s *specs.Spec) {
			wantArgs(t, s, "ls")
		}},
		{"init", func(in *Input) {
			in.Record.HostConfig.Init = &yes
			in.InitPath = "/bin/true"
		}, func(t *testing.T, s *specs.Spec) {
			wantArgs(t, s, "/sbin/docker-init", "--", "sh")
			m := findMount(s, "/sbin/docker-init")
			if m == nil || m.Source != "/bin/true" || !reflect.DeepEqual(m.Options, []string{"bind", "ro"}) {
				t.Errorf("init mount = %+v", m)
			}
		}},
		{"init with pid host is not added", func(in *Input) {
			in.Record.HostConfig.Init = &yes
			in.Record.HostConfig.PidMode = "host"
		}, func(t *testing.T, s *specs.Spec) {
			wantArgs(t, s, "sh")
		}},
		{"tty, workdir, env", func(in *Input) {
			c := &in.Record.Config
			c.Tty = true
			c.WorkingDir = "/srv"
			c.Env = []string{"PATH=/bin", "FOO=bar", "HOME=/home/x"}
		}, func(t *testing.T, s *specs.Spec) {
			want := []string{"PATH=/bin", "HOSTNAME=0123456789ab", "TERM=xterm", "FOO=bar", "HOME=/home/x"}
			if !reflect.DeepEqual(s.Process.Env, want) {
				t.Errorf("env = %q, want %q", s.Process.Env, want)
			}
			if !s.Process.Terminal || s.Process.Cwd != "/srv" {
				t.Errorf("terminal=%v cwd=%q", s.Process.Terminal, s.Process.Cwd)
			}
		}},
		{"bare KEY unsets", func(in *Input) {
			in.Record.Config.Env = []string{"TERM", "HOSTNAME=other"}
			in.Record.Config.Tty = true
		}, func(t *testing.T, s *specs.Spec) {
			want := []string{"PATH=" + DefaultPathEnv, "HOSTNAME=other", "HOME=/root"}
			if !reflect.DeepEqual(s.Process.Env, want) {
				t.Errorf("env = %q, want %q", s.Process.Env, want)
			}
		}},
		{"hostname and domainname", func(in *Input) {
			in.Record.Config.Hostname = "web"
			in.Record.Config.Domainname = "example.org"
		}, func(t *testing.T, s *specs.Spec) {
			if s.Hostname != "web" || s.Domainname != "example.org" || !slices.Contains(s.Process.Env, "HOSTNAME=web") {
				t.Errorf("hostname=%q domain=%q env=%q", s.Hostname, s.Domainname, s.Process.Env)
			}
		}},
		{"no-new-privileges", func(in *Input) {
			in.Record.HostConfig.SecurityOpt = []string{"no-new-privileges"}
		}, func(t *testing.T, s *specs.Spec) {
			if !s.Process.NoNewPrivileges {
				t.Error("NoNewPrivileges not set")
			}
		}},
		{"no-new-privileges:true", func(in *Input) {
			in.Record.HostConfig.SecurityOpt = []string{"no-new-privileges:true"}
		}, func(t *testing.T, s *specs.Spec) {
			if !s.Process.NoNewPrivileges {
				t.Error("NoNewPrivileges not set")
			}
		}},
		{"no-new-privileges=false", func(in *Input) {
			in.Record.HostConfig.SecurityOpt = []string{"no-new-privileges=false"}
		}, func(t *testing.T, s *specs.Spec) {
			if s.Process.NoNewPrivileges {
				t.Error("NoNewPrivileges set")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := newInput(t)
			tt.setup(&in)
			tt.check(t, mustGenerate(t, in))
		})
	}
}

func wantArgs(t *testing.T, s *specs.Spec, args ...string) {
	t.Helper()
	if !reflect.DeepEqual(s.Process.Args, args) {
		t.Errorf("args = %q, want %q", s.Process.Args, args)
	}
}

func TestNamespaces(t *testing.T) {
	m, n, u, p, i, c := specs.MountNamespace, specs.NetworkNamespace, specs.UTSNamespace, specs.PIDNamespace, specs.IPCNamespace, specs.CgroupNamespace
	tests := []struct {
		name     string
		hc       container.HostConfig
		v2       bool
		want     []specs.LinuxNamespaceType
		hostname string
	}{
		{"default", container.HostConfig{}, false, []specs.LinuxNamespaceType{m, n, u, p, i}, "0123456789ab"},
		{"cgroup v2", container.HostConfig{}, true, []specs.LinuxNamespaceType{m, n, u, p, i, c}, "0123456789ab"},
		{"network none", container.HostConfig{NetworkMode: "none"}, false, []specs.LinuxNamespaceType{m, n, u, p, i}, "0123456789ab"},
		{"network host", container.HostConfig{NetworkMode: "host"}, false, []specs.LinuxNamespaceType{m, u, p, i}, "testhost"},
		{"pid host", container.HostConfig{PidMode: "host"}, false, []specs.LinuxNamespaceType{m, n, u, i}, "0123456789ab"},
		{"ipc host", container.HostConfig{IpcMode: "host"}, false, []specs.LinuxNamespaceType{m, n, u, p}, "0123456789ab"},
		{"ipc shareable", container.HostConfig{IpcMode: "shareable"}, false, []specs.LinuxNamespaceType{m, n, u, p, i}, "0123456789ab"},
		{"uts host", container.HostConfig{UTSMode: "host"}, false, []specs.LinuxNamespaceType{m, n, p, i}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := newInput(t)
			in.Record.HostConfig = tt.hc
			in.Host.CgroupV2 = tt.v2
			s := mustGenerate(t, in)
			if got := nsTypes(s); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("namespaces = %v, want %v", got, tt.want)
			}
			if s.Hostname != tt.hostname {
				t.Errorf("hostname = %q, want %q", s.Hostname, tt.hostname)
			}
		})
	}

	t.Run("host network: no net sysctls", func(t *testing.T) {
		in := newInput(t)
		in.Record.HostConfig.NetworkMode = "host"
		if s := mustGenerate(t, in); len(s.Linux.Sysctl) != 0 {
			t.Errorf("sysctls = %v", s.Linux.Sysctl)
		}
	})
	t.Run("ipc host binds /dev/shm", func(t *testing.T) {
		in := newInput(t)
		in.Record.HostConfig.IpcMode = "host"
		m := findMount(mustGenerate(t, in), "/dev/shm")
		if m == nil || m.Type != "bind" || m.Source != "/dev/shm" {
			t.Errorf("/dev/shm = %+v", m)
		}
	})
	t.Run("ipc none has no /dev/shm", func(t *testing.T) {
		in := newInput(t)
		in.Record.HostConfig.IpcMode = "none"
		if m := findMount(mustGenerate(t, in), "/dev/shm"); m != nil {
			t.Errorf("/dev/shm = %+v", m)
		}
	})
}

// TestErrors checks that bad input fails with Docker's message.
func TestErrors(t *testing.T) {
	yes := true
	tests := []struct {
		name  string
		setup func(in *Input)
		want  string
	}{
		{"no command", func(in *Input) { in.Record.Config.Cmd = nil }, "no command specified"},
		{"init without binary", func(in *Input) { in.Record.HostConfig.Init = &yes }, "--init: no init binary available"},
		{"init binary missing", func(in *Input) {
			in.Record.HostConfig.Init = &yes
			in.InitPath = "/nonexistent/init"
		}, "--init: no init binary available at /nonexistent/init"},
		{"relative workdir", func(in *Input) { in.Record.Config.WorkingDir = "srv" }, "the working directory 'srv' is invalid, it needs to be an absolute path"},
		{"unknown user", func(in *Input) { in.Record.Config.User = "nobody" }, "unable to find user nobody: no matching entries in passwd file"},
		{"unknown cap", func(in *Input) { in.Record.HostConfig.CapAdd = []string{"foo"} }, `unknown capability: "CAP_FOO"`},
		{"unknown cap drop", func(in *Input) { in.Record.HostConfig.CapDrop = []string{"CAP_BAR"} }, `unknown capability: "CAP_BAR"`},
		{"bad security opt", func(in *Input) { in.Record.HostConfig.SecurityOpt = []string{"x"} }, `invalid --security-opt: "x"`},
		{"unknown security opt", func(in *Input) { in.Record.HostConfig.SecurityOpt = []string{"foo=bar"} }, `invalid --security-opt: "foo=bar"`},
		{"bad nnp value", func(in *Input) { in.Record.HostConfig.SecurityOpt = []string{"no-new-privileges=maybe"} }, `invalid --security-opt: "no-new-privileges=maybe"`},
		{"missing seccomp file", func(in *Input) { in.Record.HostConfig.SecurityOpt = []string{"seccomp=/nonexistent.json"} }, "opening seccomp profile (/nonexistent.json) failed: open /nonexistent.json: no such file or directory"},
		{"bad seccomp json", func(in *Input) { in.Record.HostConfig.SecurityOpt = []string{`seccomp={"defaultAction":1}`} }, "loading seccomp profile: Decoding seccomp profile failed"},
		{"sysctl", func(in *Input) { in.Record.HostConfig.Sysctls = map[string]string{"kernel.domainname": "x"} }, `sysctl "kernel.domainname" is not allowed`},
		{"net sysctl, host network", func(in *Input) {
			in.Record.HostConfig.NetworkMode = "host"
			in.Record.HostConfig.Sysctls = map[string]string{"net.ipv4.ip_forward": "1"}
		}, `sysctl "net.ipv4.ip_forward" is not allowed in host network namespace`},
		{"ipc sysctl, host ipc", func(in *Input) {
			in.Record.HostConfig.IpcMode = "host"
			in.Record.HostConfig.Sysctls = map[string]string{"kernel.shmmax": "1"}
		}, `sysctl "kernel.shmmax" is not allowed in host IPC namespace`},
		{"ipc container", func(in *Input) { in.Record.HostConfig.IpcMode = "container:db" }, "not supported yet"},
		{"pid container", func(in *Input) { in.Record.HostConfig.PidMode = "container:db" }, "not supported yet"},
		{"network container without a name", func(in *Input) { in.Record.HostConfig.NetworkMode = "container:" }, "invalid network mode"},
		{"bad ipc", func(in *Input) { in.Record.HostConfig.IpcMode = "bogus" }, "invalid IPC mode: bogus"},
		{"bad pid", func(in *Input) { in.Record.HostConfig.PidMode = "bogus" }, "invalid PID mode: bogus"},
		{"bad uts", func(in *Input) { in.Record.HostConfig.UTSMode = "bogus" }, "invalid UTS mode: bogus"},
		{"tmpfs relative", func(in *Input) { in.Record.HostConfig.Tmpfs = map[string]string{"run": ""} }, "invalid mount path: 'run' mount path must be absolute"},
		{"tmpfs root", func(in *Input) { in.Record.HostConfig.Tmpfs = map[string]string{"/": ""} }, "invalid specification: destination can't be '/'"},
		{"tmpfs option", func(in *Input) { in.Record.HostConfig.Tmpfs = map[string]string{"/run": "bogus"} }, `invalid tmpfs option "bogus"`},
		{"ulimit type", func(in *Input) { in.Record.HostConfig.Ulimits = []container.Ulimit{{Name: "as", Soft: 1, Hard: 1}} }, "invalid ulimit type: as"},
		{"device", func(in *Input) {
			in.Record.HostConfig.Devices = []container.DeviceMapping{{PathOnHost: "/dev/nonexistent", PathInContainer: "/dev/x", CgroupPermissions: "rwm"}}
		}, `error gathering device information while adding custom device "/dev/nonexistent": no such file or directory`},
		{"relative rootfs", func(in *Input) { in.Rootfs = "rootfs" }, `rootfs "rootfs" is not an absolute path`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := newInput(t)
			tt.setup(&in)
			_, err := Generate(in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestReplaceOrAppendEnv(t *testing.T) {
	got := ReplaceOrAppendEnv([]string{"A=1", "B=2", "C=3"}, []string{"B=x", "D=4", "A", "E", "D=5", "A=again"})
	want := []string{"A=again", "B=x", "C=3", "D=5"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestMergeImageEnv(t *testing.T) {
	image := []string{"PATH=/usr/bin", "LANG=C"}
	if got := MergeImageEnv(image, nil); !reflect.DeepEqual(got, image) {
		t.Errorf("no user env: %q", got)
	}
	got := MergeImageEnv(image, []string{"LANG=fr", "X=1"})
	if want := []string{"LANG=fr", "X=1", "PATH=/usr/bin"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestContainerFiles(t *testing.T) {
	in := newInput(t)
	in.ContainerDir = t.TempDir()
	for _, f := range []string{"hostname", "hosts"} { // no resolv.conf: not mounted
		if err := os.WriteFile(filepath.Join(in.ContainerDir, f), []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := mustGenerate(t, in)
	m := findMount(s, "/etc/hostname")
	if m == nil || m.Type != "bind" || m.Source != filepath.Join(in.ContainerDir, "hostname") || !reflect.DeepEqual(m.Options, []string{"rbind", "rprivate"}) {
		t.Errorf("/etc/hostname mount = %+v", m)
	}
	if findMount(s, "/etc/hosts") == nil || findMount(s, "/etc/resolv.conf") != nil {
		t.Errorf("mounts = %v", mountDests(s))
	}

	in.Record.HostConfig.ReadonlyRootfs = true
	s = mustGenerate(t, in)
	if m := findMount(s, "/etc/hosts"); !slices.Contains(m.Options, "ro") {
		t.Errorf("read-only rootfs: /etc/hosts options = %v", m.Options)
	}
	if !s.Root.Readonly {
		t.Error("root not read-only")
	}
	if m := findMount(s, "/dev/shm"); slices.Contains(m.Options, "ro") {
		t.Errorf("/dev/shm made read-only: %v", m.Options)
	}
}

func TestHostRlimitsDefault(t *testing.T) {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
	if soft, hard := getrlimit(unix.RLIMIT_NOFILE); soft != rl.Cur || hard != rl.Max {
		t.Errorf("getrlimit = %d/%d, want %d/%d", soft, hard, rl.Cur, rl.Max)
	}
}

func ExampleReplaceOrAppendEnv() {
	fmt.Println(ReplaceOrAppendEnv([]string{"PATH=/bin", "TERM=xterm"}, []string{"TERM", "A=b"}))
	// Output: [PATH=/bin A=b]
}
