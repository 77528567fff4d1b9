package opts

import (
	"io"
	"reflect"
	"syscall"
	"testing"

	"github.com/nerd-project/nerd/pkg/container"
	"github.com/spf13/pflag"
)

// flagError parses args into a flag set holding the run/create flags this
// package provides and returns pflag's error, exactly what cobra prints.
func flagError(t *testing.T, args ...string) string {
	t.Helper()
	var (
		mem      MemBytes
		swap     MemSwapBytes
		shm      ShmSize
		cpus     NanoCPUs
		restart  RestartPolicy
		stopSig  StopSignal
		pids     PidsLimit
		ulimits  Ulimits
		devices  Devices
		tmpfs    Tmpfs
		sysctls  Sysctls
		env      = NewEnvList(func(string) (string, bool) { return "", false })
		labels   = NewLabelList()
		security = NewList(nil)
	)
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.VarP(&mem, "memory", "m", "")
	fs.Var(&swap, "memory-swap", "")
	fs.Var(&shm, "shm-size", "")
	fs.Var(&cpus, "cpus", "")
	fs.Var(&restart, "restart", "")
	fs.Var(&stopSig, "stop-signal", "")
	fs.Var(&pids, "pids-limit", "")
	fs.Var(&ulimits, "ulimit", "")
	fs.Var(&devices, "device", "")
	fs.Var(&tmpfs, "tmpfs", "")
	fs.Var(&sysctls, "sysctl", "")
	fs.VarP(env, "env", "e", "")
	fs.VarP(labels, "label", "l", "")
	fs.Var(security, "security-opt", "")
	if err := fs.Parse(args); err != nil {
		return err.Error()
	}
	return ""
}

func TestFlagErrors(t *testing.T) {
	numCPU = func() int { return 2 }
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--memory", "foo"}, `invalid argument "foo" for "-m, --memory" flag: invalid size: 'foo'`},
		{[]string{"-m", "-1"}, `invalid argument "-1" for "-m, --memory" flag: invalid size: '-1'`},
		{[]string{"--memory-swap", "x"}, `invalid argument "x" for "--memory-swap" flag: invalid size: 'x'`},
		{[]string{"--shm-size", "1q"}, `invalid argument "1q" for "--shm-size" flag: invalid suffix: 'q'`},
		{[]string{"--cpus", "-1"}, `invalid argument "-1" for "--cpus" flag: range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available`},
		{[]string{"--cpus", "3"}, `invalid argument "3" for "--cpus" flag: range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available`},
		{[]string{"--cpus", "0.001"}, `invalid argument "0.001" for "--cpus" flag: range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available`},
		{[]string{"--cpus", "abc"}, `invalid argument "abc" for "--cpus" flag: failed to parse abc as a rational number`},
		{[]string{"--cpus", "0.0000000001"}, `invalid argument "0.0000000001" for "--cpus" flag: value is too precise`},
		{[]string{"--restart", "bogus"}, `invalid argument "bogus" for "--restart" flag: invalid restart policy: unknown policy 'bogus'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`},
		{[]string{"--stop-signal", "SIGFOO"}, `invalid argument "SIGFOO" for "--stop-signal" flag: invalid signal: SIGFOO`},
		{[]string{"--pids-limit", "x"}, `invalid argument "x" for "--pids-limit" flag: strconv.ParseInt: parsing "x": invalid syntax`},
		{[]string{"--ulimit", "nofile"}, `invalid argument "nofile" for "--ulimit" flag: invalid ulimit argument: nofile`},
		{[]string{"--ulimit", "foo=1"}, `invalid argument "foo=1" for "--ulimit" flag: invalid ulimit type: foo`},
		{[]string{"--ulimit", "nofile=2:1"}, `invalid argument "nofile=2:1" for "--ulimit" flag: ulimit soft limit must be less than or equal to hard limit: 2 > 1`},
		{[]string{"--device", "/dev/a:/dev/b:rwx"}, `invalid argument "/dev/a:/dev/b:rwx" for "--device" flag: bad mode specified: rwx`},
		{[]string{"--tmpfs", "run"}, `invalid argument "run" for "--tmpfs" flag: invalid mount path: 'run' mount path must be absolute`},
		{[]string{"--sysctl", "kernel.hostname=x"}, `invalid argument "kernel.hostname=x" for "--sysctl" flag: sysctl 'kernel.hostname=x' is not allowed`},
		{[]string{"-e", "=x"}, `invalid argument "=x" for "-e, --env" flag: invalid environment variable: =x`},
		{[]string{"-l", "=x"}, `invalid argument "=x" for "-l, --label" flag: invalid label '=x': empty name`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := flagError(t, tt.args...); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
	if got := flagError(t, "-m", "512m", "--memory-swap", "-1", "--cpus", "1.5", "--restart", "on-failure:3",
		"--ulimit", "nofile=1024:2048", "--device", "/dev/null", "--tmpfs", "/run:size=1m",
		"--sysctl", "net.ipv4.ip_forward=1", "-e", "A=b", "-l", "x=y", "--stop-signal", "9"); got != "" {
		t.Errorf("valid flags rejected: %s", got)
	}
}

func TestMemory(t *testing.T) {
	tests := map[string]int64{"512m": 512 << 20, "1g": 1 << 30, "1024": 1024, "1.5k": 1536, "2MB": 2 << 20, "0": 0}
	for in, want := range tests {
		var m MemBytes
		if err := m.Set(in); err != nil || m.Value() != want {
			t.Errorf("MemBytes(%q) = %d, %v; want %d", in, m.Value(), err, want)
		}
		if n, err := ParseMemory(in); err != nil || n != want {
			t.Errorf("ParseMemory(%q) = %d, %v", in, n, err)
		}
	}
	var m MemBytes
	if m.String() != "0" {
		t.Errorf("zero String = %q", m.String())
	}
	_ = m.Set("512m")
	if m.String() != "512MiB" || m.Type() != "bytes" {
		t.Errorf("String = %q, Type = %q", m.String(), m.Type())
	}
	var s MemSwapBytes
	if err := s.Set("-1"); err != nil || s.Value() != -1 || s.String() != "-1" {
		t.Errorf("swap -1: %d %v %q", s.Value(), err, s.String())
	}
	if err := s.Set("1g"); err != nil || s.Value() != 1<<30 {
		t.Errorf("swap 1g: %d %v", s.Value(), err)
	}
	var shm ShmSize
	if err := shm.Set("64m"); err != nil || shm.Value() != 64<<20 {
		t.Errorf("shm: %d %v", shm.Value(), err)
	}
}

func TestCPUs(t *testing.T) {
	numCPU = func() int { return 4 }
	for in, want := range map[string]int64{"1.5": 1_500_000_000, "0.01": 10_000_000, "4": 4e9, "0": 0, "1/2": 5e8} {
		var c NanoCPUs
		if err := c.Set(in); err != nil || c.Value() != want {
			t.Errorf("--cpus %s = %d, %v; want %d", in, c.Value(), err, want)
		}
	}
	c := NanoCPUs(1_500_000_000)
	if c.String() != "1.500" || c.Type() != "decimal" {
		t.Errorf("String = %q", c.String())
	}
}

func TestRestartPolicy(t *testing.T) {
	tests := []struct {
		in      string
		want    container.RestartPolicy
		wantErr string
	}{
		{"", container.RestartPolicy{Name: "no"}, ""},
		{"no", container.RestartPolicy{Name: "no"}, ""},
		{"always", container.RestartPolicy{Name: "always"}, ""},
		{"unless-stopped", container.RestartPolicy{Name: "unless-stopped"}, ""},
		{"on-failure", container.RestartPolicy{Name: "on-failure"}, ""},
		{"on-failure:5", container.RestartPolicy{Name: "on-failure", MaximumRetryCount: 5}, ""},
		{"bogus", container.RestartPolicy{}, "invalid restart policy: unknown policy 'bogus'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"},
		{":3", container.RestartPolicy{}, "invalid restart policy format: no policy provided before colon"},
		{"on-failure:x", container.RestartPolicy{}, "invalid restart policy format: maximum retry count must be an integer"},
		{"on-failure:-1", container.RestartPolicy{}, "invalid restart policy: maximum retry count cannot be negative"},
		{"always:3", container.RestartPolicy{}, "invalid restart policy: maximum retry count can only be used with 'on-failure'"},
		{"always:-3", container.RestartPolicy{}, "invalid restart policy: maximum retry count can only be used with 'on-failure' and cannot be negative"},
	}
	for _, tt := range tests {
		got, err := ParseRestartPolicy(tt.in)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("%q: err = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
	var r RestartPolicy
	if r.Value().Name != "no" || r.String() != "no" {
		t.Errorf("zero value = %+v", r.Value())
	}
	_ = r.Set("on-failure:2")
	if r.String() != "on-failure:2" {
		t.Errorf("String = %q", r.String())
	}
	if err := ValidateAutoRemove(true, r.Value()); err == nil || err.Error() != "conflicting options: cannot specify both --restart and --rm" {
		t.Errorf("--rm with restart: %v", err)
	}
	if err := ValidateAutoRemove(true, container.RestartPolicy{Name: "no"}); err != nil {
		t.Errorf("--rm with no: %v", err)
	}
}

func TestParseSignal(t *testing.T) {
	ok := map[string]syscall.Signal{
		"TERM": syscall.SIGTERM, "SIGTERM": syscall.SIGTERM, "sigkill": syscall.SIGKILL, "hup": syscall.SIGHUP,
		"9": syscall.SIGKILL, "15": syscall.SIGTERM, "SIGUSR1": syscall.SIGUSR1, "WINCH": syscall.SIGWINCH,
		"RTMIN": 34, "RTMIN+3": 37, "SIGRTMAX": 64, "RTMAX-1": 63, "IOT": syscall.SIGABRT, "CLD": syscall.SIGCHLD,
	}
	for in, want := range ok {
		if got, err := ParseSignal(in); err != nil || got != want {
			t.Errorf("ParseSignal(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1", "65", "FOO", "SIG", "RTMIN-1", "RTMAX+1", "RTMIN+40"} {
		if _, err := ParseSignal(in); err == nil || err.Error() != "invalid signal: "+in {
			t.Errorf("ParseSignal(%q): err = %v", in, err)
		}
	}
	var s StopSignal
	if err := s.Set("SIGINT"); err != nil || s.String() != "SIGINT" {
		t.Errorf("StopSignal = %q, %v", s, err)
	}
}

func TestPidsLimit(t *testing.T) {
	var p PidsLimit
	if p.Value() != nil {
		t.Error("unset PidsLimit has a value")
	}
	for in, want := range map[string]int64{"100": 100, "-1": -1, "0": 0} {
		if err := p.Set(in); err != nil || p.Value() == nil || *p.Value() != want {
			t.Errorf("--pids-limit %s: %v %v", in, p.Value(), err)
		}
	}
}

func TestUlimits(t *testing.T) {
	var u Ulimits
	for _, v := range []string{"nofile=1024:2048", "nproc=10", "nofile=4096", "core=-1"} {
		if err := u.Set(v); err != nil {
			t.Fatalf("%s: %v", v, err)
		}
	}
	want := []container.Ulimit{{Name: "core", Soft: -1, Hard: -1}, {Name: "nofile", Soft: 4096, Hard: 4096}, {Name: "nproc", Soft: 10, Hard: 10}}
	if got := u.Values(); !reflect.DeepEqual(got, want) {
		t.Errorf("ulimits = %+v, want %+v", got, want)
	}
	if u.String() != "[core=-1:-1 nofile=4096:4096 nproc=10:10]" {
		t.Errorf("String = %q", u.String())
	}
}

func TestDevice(t *testing.T) {
	tests := []struct {
		in      string
		want    container.DeviceMapping
		wantErr string
	}{
		{"/dev/sda", container.DeviceMapping{PathOnHost: "/dev/sda", PathInContainer: "/dev/sda", CgroupPermissions: "rwm"}, ""},
		{"/dev/sda:/dev/xvda", container.DeviceMapping{PathOnHost: "/dev/sda", PathInContainer: "/dev/xvda", CgroupPermissions: "rwm"}, ""},
		{"/dev/sda:r", container.DeviceMapping{PathOnHost: "/dev/sda", PathInContainer: "/dev/sda", CgroupPermissions: "r"}, ""},
		{"/dev/sda:/dev/xvda:rw", container.DeviceMapping{PathOnHost: "/dev/sda", PathInContainer: "/dev/xvda", CgroupPermissions: "rw"}, ""},
		{"/dev/sda:/dev/x/../xvda/", container.DeviceMapping{PathOnHost: "/dev/sda", PathInContainer: "/dev/xvda", CgroupPermissions: "rwm"}, ""},
		{"/dev/sda:/dev/xvda:rwx", container.DeviceMapping{}, "bad mode specified: rwx"},
		{"/dev/sda:/dev/xvda:rr", container.DeviceMapping{}, "bad mode specified: rr"},
		{"a:b:c:d", container.DeviceMapping{}, "bad format for path: a:b:c:d"},
		{":/dev/x", container.DeviceMapping{}, "bad format for path: :/dev/x"},
		{"/dev/sda:xvda", container.DeviceMapping{}, "xvda is not an absolute path"},
		{"sda", container.DeviceMapping{}, "sda is not an absolute path"},
	}
	for _, tt := range tests {
		got, err := ParseDevice(tt.in)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("%q: err = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
	var d Devices
	_ = d.Set("/dev/null")
	_ = d.Set("/dev/zero:/dev/z:r")
	if len(d.Values()) != 2 || d.Values()[1].CgroupPermissions != "r" {
		t.Errorf("devices = %+v", d.Values())
	}
}

func TestTmpfsAndSysctls(t *testing.T) {
	var tm Tmpfs
	for _, v := range []string{"/run", "/tmp:size=1m,exec", "/run:size=2m"} {
		if err := tm.Set(v); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := tm.Value(), map[string]string{"/run": "size=2m", "/tmp": "size=1m,exec"}; !reflect.DeepEqual(got, want) {
		t.Errorf("tmpfs = %v", got)
	}
	if err := tm.Set("/"); err == nil || err.Error() != "invalid specification: destination can't be '/'" {
		t.Errorf("tmpfs /: %v", err)
	}

	var s Sysctls
	for _, v := range []string{"net.ipv4.ip_forward=1", "kernel.shmmax=65536", "fs.mqueue.msg_max=20", "kernel.sem=1 2 3 4"} {
		if err := s.Set(v); err != nil {
			t.Errorf("%s: %v", v, err)
		}
	}
	if s.Value()["kernel.sem"] != "1 2 3 4" || len(s.Value()) != 4 {
		t.Errorf("sysctls = %v", s.Value())
	}
	for _, v := range []string{"kernel.domainname=x", "vm.swappiness=1", "net.ipv4.ip_forward", "=1"} {
		if err := s.Set(v); err == nil || err.Error() != "sysctl '"+v+"' is not allowed" {
			t.Errorf("%s: err = %v", v, err)
		}
	}
}

func TestParseLists(t *testing.T) {
	if n, err := ParseShmSize("128m"); err != nil || n != 128<<20 {
		t.Errorf("ParseShmSize = %d, %v", n, err)
	}
	if _, err := ParseShmSize("x"); err == nil || err.Error() != "invalid size: 'x'" {
		t.Errorf("ParseShmSize(x): %v", err)
	}
	if u, err := ParseUlimits([]string{"nproc=1", "core=2:3"}); err != nil || len(u) != 2 || u[0].Name != "core" {
		t.Errorf("ParseUlimits = %+v, %v", u, err)
	}
	if _, err := ParseUlimits([]string{"nofile=1", "bad"}); err == nil || err.Error() != "invalid ulimit argument: bad" {
		t.Errorf("ParseUlimits(bad): %v", err)
	}
	if d, err := ParseDevices([]string{"/dev/fuse"}); err != nil || len(d) != 1 || d[0].PathInContainer != "/dev/fuse" {
		t.Errorf("ParseDevices = %+v, %v", d, err)
	}
	if _, err := ParseDevices([]string{"fuse"}); err == nil || err.Error() != "fuse is not an absolute path" {
		t.Errorf("ParseDevices(fuse): %v", err)
	}
	if m, err := ParseTmpfs([]string{"/run:size=1m"}); err != nil || m["/run"] != "size=1m" {
		t.Errorf("ParseTmpfs = %v, %v", m, err)
	}
	if m, err := ParseTmpfs(nil); err != nil || m != nil {
		t.Errorf("ParseTmpfs(nil) = %v, %v", m, err)
	}
	if m, err := ParseSysctls([]string{"net.core.somaxconn=1024"}); err != nil || m["net.core.somaxconn"] != "1024" {
		t.Errorf("ParseSysctls = %v, %v", m, err)
	}
	if _, err := ParseSysctls([]string{"vm.overcommit_memory=1"}); err == nil || err.Error() != "sysctl 'vm.overcommit_memory=1' is not allowed" {
		t.Errorf("ParseSysctls(vm): %v", err)
	}
}
