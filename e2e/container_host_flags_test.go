package e2e

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// The run/create flags of issue 3 that reach the kernel: namespaces
// (--ipc --pid --uts --network host), limits (--ulimit --shm-size
// --memory-swap --cpuset-cpus --sysctl), --group-add, --device; the
// defaults every container gets (masked and read-only /proc paths,
// /dev/shm); --stop-timeout, --platform and -q.

// hostConfigJSON decodes `inspect -f '{{json .HostConfig}}'` into a map.
func (e *env) hostConfigJSON(name string) map[string]any {
	e.t.Helper()
	r := e.nerdOK("container", "inspect", "-f", "{{json .HostConfig}}", name)
	var hc map[string]any
	if err := json.Unmarshal([]byte(r.Stdout), &hc); err != nil {
		e.t.Fatalf("HostConfig of %s: %v\n%s", name, err, r)
	}
	return hc
}

// jsonOf is v marshalled, for comparing decoded JSON with a literal.
func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// --ipc, --pid, --uts and --network host share the host's namespace;
// without them each container gets its own. --ipc none has no /dev/shm.
func TestRunNamespaceModes(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	hostNS := func(kind string) string {
		l, err := os.Readlink("/proc/self/ns/" + kind)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	ctrNS := func(kind string, args ...string) string {
		r := e.nerdOK(append(append([]string{"run", "--rm"}, args...), "busybox", "readlink", "/proc/self/ns/"+kind)...)
		return strings.TrimSpace(r.Stdout)
	}
	for _, c := range []struct{ kind, flag string }{
		{"ipc", "--ipc"}, {"pid", "--pid"}, {"uts", "--uts"}, {"net", "--network"},
	} {
		if got := ctrNS(c.kind); got == hostNS(c.kind) {
			t.Errorf("without %s the container shares the host's %s namespace (%s)", c.flag, c.kind, got)
		}
		if got := ctrNS(c.kind, c.flag, "host"); got != hostNS(c.kind) {
			t.Errorf("%s host: %s namespace %s, want the host's %s", c.flag, c.kind, got, hostNS(c.kind))
		}
	}
	// What each mode means inside.
	if r := e.nerdOK("run", "--rm", "busybox", "sh", "-c", "echo $$"); r.Stdout != "1\n" {
		t.Errorf("own PID namespace: the command is pid %q, want 1", r.Stdout)
	}
	if r := e.nerdOK("run", "--rm", "--pid", "host", "busybox", "sh", "-c", "echo $$"); r.Stdout == "1\n" {
		t.Errorf("--pid host: the command is pid 1")
	}
	host, _ := os.Hostname()
	if r := e.nerdOK("run", "--rm", "--uts", "host", "busybox", "hostname"); r.Stdout != host+"\n" {
		t.Errorf("--uts host: hostname %q, want the host's %q", r.Stdout, host)
	}
	r := e.nerd("run", "--rm", "--ipc", "none", "busybox", "sh", "-c", "grep ' /dev/shm ' /proc/mounts || echo no-shm")
	if r.Code != 0 || r.Stdout != "no-shm\n" {
		t.Errorf("--ipc none: want no /dev/shm mount:\n%s", r)
	}
	for _, m := range []string{"private", "shareable"} {
		if got := ctrNS("ipc", "--ipc", m); got == hostNS("ipc") {
			t.Errorf("--ipc %s shares the host's IPC namespace", m)
		}
	}
	// inspect records the modes.
	e.nerdOK("create", "--name", "modes", "--ipc", "host", "--pid", "host", "--uts", "host", "--network", "host", "busybox")
	hc := e.hostConfigJSON("modes")
	for k, want := range map[string]string{"IpcMode": "host", "PidMode": "host", "UTSMode": "host", "NetworkMode": "host"} {
		if hc[k] != want {
			t.Errorf("HostConfig.%s = %v, want %q", k, hc[k], want)
		}
	}
	// Bad modes: 125, nothing created.
	before := e.containerIDs()
	for _, c := range []struct{ flag, val, pattern string }{
		{"--ipc", "bogus", `invalid IPC mode: bogus`},
		{"--pid", "bogus", `invalid PID mode: bogus`},
		{"--uts", "bogus", `invalid UTS mode: bogus`},
	} {
		e.nerdFail(125, []string{"run", "--rm", c.flag, c.val, "busybox", "true"}, c.pattern)
	}
	if after := e.containerIDs(); !sameSet(before, after) {
		t.Errorf("refused modes left containers: before %v, after %v", before, after)
	}
}

// --ulimit, --shm-size, --memory-swap, --cpuset-cpus, --sysctl,
// --group-add and --device, each seen from inside and in inspect.
func TestRunLimitsAndDevices(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	runOut := e.runRmOut

	t.Run("ulimit", func(t *testing.T) {
		out := runOut(t, "--ulimit", "nofile=1024:2048", "--ulimit", "nproc=50", "busybox", "sh", "-c", "ulimit -n; ulimit -Hn; ulimit -u")
		if out != "1024\n2048\n50\n" {
			t.Errorf("--ulimit nofile=1024:2048 nproc=50: %q", out)
		}
		e := e.sub(t)
		e.nerdOK("create", "--name", "ul", "--ulimit", "nofile=1024:2048", "busybox")
		if got := jsonOf(e.hostConfigJSON("ul")["Ulimits"]); got != `[{"Hard":2048,"Name":"nofile","Soft":1024}]` {
			t.Errorf("HostConfig.Ulimits %s", got)
		}
	})
	t.Run("shm-size", func(t *testing.T) {
		if out := runOut(t, "--shm-size", "32m", "busybox", "grep", " /dev/shm ", "/proc/mounts"); !strings.Contains(out, "size=32768k") {
			t.Errorf("--shm-size 32m: %q", out)
		}
		// Docker's default is 64 MiB, nosuid,nodev,noexec.
		out := runOut(t, "busybox", "grep", " /dev/shm ", "/proc/mounts")
		for _, want := range []string{"tmpfs", "size=65536k", "nosuid", "nodev", "noexec"} {
			if !strings.Contains(out, want) {
				t.Errorf("default /dev/shm lacks %s: %q", want, out)
			}
		}
		e := e.sub(t)
		e.nerdOK("create", "--name", "shm", "--shm-size", "32m", "busybox")
		e.nerdOK("create", "--name", "shmdef", "busybox")
		if a, b := e.hostConfigJSON("shm")["ShmSize"], e.hostConfigJSON("shmdef")["ShmSize"]; a != float64(32<<20) || b != float64(64<<20) {
			t.Errorf("HostConfig.ShmSize %v and %v, want %d and %d", a, b, 32<<20, 64<<20)
		}
	})
	t.Run("memory-swap", func(t *testing.T) {
		e := e.sub(t)
		e.runD(withSleeper("--name", "swap", "--memory", "64m", "--memory-swap", "128m", "busybox")...)
		e.runD(withSleeper("--name", "swapdef", "--memory", "64m", "busybox")...)
		for name, want := range map[string]string{"swap": "134217728", "swapdef": "134217728"} {
			got := e.inspectC(name)
			if v := cgroupFile(t, got.State.Pid, "memory", "memory.memsw.limit_in_bytes"); v != want {
				t.Errorf("%s: memory.memsw.limit_in_bytes %q, want %s", name, v, want)
			}
		}
		e.runD(withSleeper("--name", "swap2", "--memory", "64m", "--memory-swap", "96m", "busybox")...)
		if v := cgroupFile(t, e.inspectC("swap2").State.Pid, "memory", "memory.memsw.limit_in_bytes"); v != "100663296" {
			t.Errorf("--memory-swap 96m: memsw %q", v)
		}
		if v := e.hostConfigJSON("swap2")["MemorySwap"]; v != float64(96<<20) {
			t.Errorf("HostConfig.MemorySwap %v", v)
		}
	})
	t.Run("cpuset-cpus", func(t *testing.T) {
		if out := runOut(t, "--cpuset-cpus", "0", "busybox", "grep", "Cpus_allowed_list", "/proc/self/status"); !regexp.MustCompile(`:\s*0\n$`).MatchString(out) {
			t.Errorf("--cpuset-cpus 0: %q", out)
		}
		e := e.sub(t)
		e.runD(withSleeper("--name", "cpuset", "--cpuset-cpus", "0", "busybox")...)
		if v := cgroupFile(t, e.inspectC("cpuset").State.Pid, "cpuset", "cpuset.cpus"); v != "0" {
			t.Errorf("cpuset.cpus %q", v)
		}
		if v := e.hostConfigJSON("cpuset")["CpusetCpus"]; v != "0" {
			t.Errorf("HostConfig.CpusetCpus %v", v)
		}
	})
	t.Run("sysctl", func(t *testing.T) {
		out := runOut(t, "--sysctl", "net.ipv4.ip_forward=1", "--sysctl", "kernel.shm_rmid_forced=1", "busybox",
			"cat", "/proc/sys/net/ipv4/ip_forward", "/proc/sys/kernel/shm_rmid_forced")
		if out != "1\n1\n" {
			t.Errorf("--sysctl: %q", out)
		}
		e := e.sub(t)
		e.nerdOK("create", "--name", "sc", "--sysctl", "net.ipv4.ip_forward=1", "busybox")
		if got := jsonOf(e.hostConfigJSON("sc")["Sysctls"]); got != `{"net.ipv4.ip_forward":"1"}` {
			t.Errorf("HostConfig.Sysctls %s", got)
		}
	})
	t.Run("group-add", func(t *testing.T) {
		out := runOut(t, "--group-add", "1234", "--group-add", "nogroup", "busybox", "id")
		if !regexp.MustCompile(`groups=.*\b1234\b`).MatchString(out) || !strings.Contains(out, "65534(nogroup)") {
			t.Errorf("--group-add 1234 --group-add nogroup: %q", out)
		}
		if out := runOut(t, "-u", "nobody", "--group-add", "1234", "busybox", "id", "-G"); !regexp.MustCompile(`\b1234\b`).MatchString(out) {
			t.Errorf("-u nobody --group-add 1234: id -G %q", out)
		}
		e := e.sub(t)
		e.nerdFail(125, []string{"run", "--rm", "--group-add", "nosuchgroup", "busybox", "true"}, `Unable to find group nosuchgroup`)
	})
	t.Run("device", func(t *testing.T) {
		if !exists("/dev/loop-control") {
			t.Skip("no /dev/loop-control on this host")
		}
		// The node is there, with the host's numbers, and the device cgroup
		// enforces the permissions: :r allows reading, not writing.
		open := `ls -l /dev/lc; exec 3</dev/lc && echo read-ok; exec 4>/dev/lc && echo write-ok`
		out := runOut(t, "--device", "/dev/loop-control:/dev/lc", "busybox", "sh", "-c", open)
		if !regexp.MustCompile(`^c.* 10,\s+237 .*/dev/lc\nread-ok\nwrite-ok\n$`).MatchString(out) {
			t.Errorf("--device /dev/loop-control:/dev/lc: %q", out)
		}
		e := e.sub(t)
		r := e.nerd("run", "--rm", "--device", "/dev/loop-control:/dev/lc:r", "busybox", "sh", "-c", open)
		if !strings.Contains(r.Stdout, "read-ok") || strings.Contains(r.Stdout, "write-ok") || !strings.Contains(r.Stderr, "Operation not permitted") {
			t.Errorf("--device …:r must allow reading only:\n%s", r)
		}
		// Without --device, a node made with mknod cannot be opened.
		r = e.nerd("run", "--rm", "busybox", "sh", "-c", "mknod /dev/lc c 10 237 && exec 3</dev/lc && echo opened")
		if strings.Contains(r.Stdout, "opened") {
			t.Errorf("a device not given with --device could be opened:\n%s", r)
		}
		e.nerdOK("create", "--name", "dev", "--device", "/dev/loop-control:/dev/lc:r", "busybox")
		if got := jsonOf(e.hostConfigJSON("dev")["Devices"]); got != `[{"CgroupPermissions":"r","PathInContainer":"/dev/lc","PathOnHost":"/dev/loop-control"}]` {
			t.Errorf("HostConfig.Devices %s", got)
		}
		e.nerdFail(125, []string{"run", "--rm", "--device", "/dev/nosuch-e2e", "busybox", "true"}, `error gathering device information while adding custom device "/dev/nosuch-e2e": no such file or directory`)
	})
	t.Run("bad values", func(t *testing.T) {
		e := e.sub(t)
		before := e.containerIDs()
		for _, c := range []struct {
			args    []string
			pattern string
		}{
			{[]string{"--ulimit", "bogus=1"}, `invalid ulimit type: bogus`},
			{[]string{"--ulimit", "nofile=20:10"}, `ulimit soft limit must be less than or equal to hard limit`},
			{[]string{"--shm-size", "foo"}, `invalid size: 'foo'`},
			{[]string{"--memory", "64m", "--memory-swap", "32m"}, `Minimum memoryswap limit should be larger than memory limit`},
			{[]string{"--memory-swap", "32m"}, `You should always set the Memory limit when using Memoryswap limit`},
			{[]string{"--cpuset-cpus", "x"}, `Invalid value x for cpuset cpus`},
			{[]string{"--cpuset-cpus", "99"}, `Requested CPUs are not available`},
			{[]string{"--sysctl", "kernel.hostname=x"}, `sysctl 'kernel.hostname=x' is not allowed`},
			{[]string{"--network", "host", "--sysctl", "net.ipv4.ip_forward=1"}, `not allowed in host network namespace`},
			{[]string{"--device", "/dev/null:relative"}, `relative is not an absolute path`},
			{[]string{"--stop-timeout", "x"}, `invalid argument "x" for "--stop-timeout" flag`},
			{[]string{"--rm", "--restart", "always"}, `conflicting options: cannot specify both --restart and --rm`},
			{[]string{"-d", "-a", "stdout"}, `conflicting options: cannot specify both --attach and --detach`},
		} {
			e.nerdFail(125, append(append([]string{"run"}, c.args...), "busybox", "true"), c.pattern)
		}
		if after := e.containerIDs(); !sameSet(before, after) {
			t.Errorf("refused runs left containers: before %v, after %v", before, after)
		}
	})
}

// Every container gets Docker's masked and read-only /proc and /sys
// paths; --privileged gets none of them.
func TestRunProcDefaults(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	mountPoints := func(args ...string) map[string]string {
		r := e.nerdOK(append(append([]string{"run", "--rm"}, args...), "busybox", "cat", "/proc/self/mountinfo")...)
		out := map[string]string{}
		for _, l := range r.Lines() {
			f := strings.Fields(l)
			if len(f) > 5 {
				out[f[4]] = f[5] // mount point → its options
			}
		}
		return out
	}
	mps := mountPoints()
	var masked []string
	for _, p := range []string{"/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
		"/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/proc/interrupts", "/proc/asound"} {
		if !exists(p) {
			continue // nothing to mask on this host
		}
		masked = append(masked, p)
		if _, ok := mps[p]; !ok {
			t.Errorf("%s is not masked (no mount over it)", p)
		}
	}
	for _, p := range []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys"} {
		if opts, ok := mps[p]; !ok || !slices.Contains(strings.Split(opts, ","), "ro") {
			t.Errorf("%s must be mounted read-only, got %q", p, opts)
		}
	}
	if opts := mps["/sys"]; !slices.Contains(strings.Split(opts, ","), "ro") {
		t.Errorf("/sys must be read-only, got %q", opts)
	}
	if r := e.nerd("run", "--rm", "busybox", "sh", "-c", "cat /proc/keys /proc/timer_list 2>/dev/null | wc -c"); strings.TrimSpace(r.Stdout) != "0" {
		t.Errorf("masked /proc files must read empty:\n%s", r)
	}
	r := e.nerd("run", "--rm", "busybox", "sh", "-c", "echo 1 > /proc/sys/kernel/shm_rmid_forced")
	if r.Code == 0 || !strings.Contains(r.Stderr, "Read-only file system") {
		t.Errorf("writing /proc/sys must fail with EROFS:\n%s", r)
	}
	// --privileged: nothing masked, /proc/sys writable (its own namespaces).
	pm := mountPoints("--privileged")
	for _, p := range masked {
		if _, ok := pm[p]; ok {
			t.Errorf("--privileged: %s is masked", p)
		}
	}
	if opts := pm["/proc/sys"]; slices.Contains(strings.Split(opts, ","), "ro") {
		t.Errorf("--privileged: /proc/sys is read-only")
	}
}

// --stop-timeout is the time stop gives a container when -t is not given
// (-t wins over it), and it is in inspect.
func TestRunStopTimeout(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	// The trap keeps it running after SIGTERM: only SIGKILL ends it.
	script := `trap 'echo got-term' TERM; echo ready; while :; do sleep 1 & wait $!; done`
	e.runD("--name", "st3", "--stop-timeout", "3", "busybox", "sh", "-c", script)
	e.runD("--name", "st30", "--stop-timeout", "30", "busybox", "sh", "-c", script)
	if r := e.nerdOK("inspect", "-f", "{{json .Config.StopTimeout}}", "st3"); r.Stdout != "3\n" {
		t.Errorf("Config.StopTimeout:\n%s", r)
	}
	e.nerdOK("create", "--name", "nost", "busybox")
	if r := e.nerdOK("inspect", "-f", "{{json .Config.StopTimeout}}", "nost"); r.Stdout != "null\n" {
		t.Errorf("Config.StopTimeout without the flag (Docker: null):\n%s", r)
	}
	for _, n := range []string{"st3", "st30"} {
		eventually(t, 10*time.Second, n+" ready", func() (bool, string) {
			r := e.nerd("logs", n)
			return r.Stdout == "ready\n", r.Stdout
		})
	}
	// The bounds are generous: they tell 3 s from the default 10 s, and 1 s
	// from 30 s, on a loaded machine.
	r := e.within(60*time.Second).nerdOK("stop", "st3")
	if r.Took < 2800*time.Millisecond || r.Took > 9500*time.Millisecond {
		t.Errorf("stop of a container with --stop-timeout 3 took %v, want about 3 s (the default is 10 s)", r.Took)
	}
	r = e.within(60*time.Second).nerdOK("stop", "-t", "1", "st30")
	if r.Took < 900*time.Millisecond || r.Took > 20*time.Second {
		t.Errorf("stop -t 1 of a container with --stop-timeout 30 took %v: -t must win", r.Took)
	}
	for _, n := range []string{"st3", "st30"} {
		if got := e.inspectC(n); got.State.ExitCode != 137 {
			t.Errorf("%s: ExitCode %d, want 137 (killed after the timeout)", n, got.State.ExitCode)
		}
		if logs := e.nerdOK("logs", n).Stdout; logs != "ready\ngot-term\n" {
			t.Errorf("%s: logs %q: SIGTERM first, then SIGKILL", n, logs)
		}
	}
}

// --platform picks the image variant: a local image of another platform
// does not do (Docker pulls the right one, or fails with --pull never), a
// bad value is refused. -q silences everything about the pull.
func TestRunPlatformAndQuiet(t *testing.T) {
	t.Parallel()
	e := newBareContainerEnv(t)
	r := e.nerd("run", "--rm", "-q", "busybox", "echo", "hi")
	if r.Code != 0 || r.Stdout != "hi\n" || r.Stderr != "" {
		t.Errorf("run -q of an image to pull: want only the container's output (Docker prints nothing else):\n%s", r)
	}
	if id := e.inspect("busybox").Id; id != busybox.ID {
		t.Fatalf("busybox is %s, want the host platform's %s", id, busybox.ID)
	}

	e.nerdFail(125, []string{"run", "--rm", "--platform", "bogus", "busybox", "true"}, `platform`)
	e.nerdFail(1, []string{"create", "--platform", "bogus", "busybox"}, `platform`)
	e.nerdFail(125, []string{"run", "--rm", "--pull", "never", "--platform", "linux/arm64", "busybox", "true"},
		`image with reference busybox was found but does not match the specified platform: wanted linux/arm64, actual: linux/amd64`)
	if ids := e.containerIDs(); len(ids) != 0 {
		t.Errorf("refused runs left containers: %v", ids)
	}

	// The arm64 variant of the e2e busybox carries the same (amd64) binary,
	// so it runs here; its config says arm64.
	r = e.nerd("run", "--name", "arm", "--platform", "linux/arm64", "busybox", "echo", "arm")
	if r.Code != 0 || r.Stdout != "arm\n" || !strings.Contains(r.Stderr, "Unable to find image 'busybox:latest' locally") {
		t.Fatalf("run --platform linux/arm64 with only the amd64 image local: want the arm64 image pulled:\n%s", r)
	}
	if got := e.inspectC("arm").Image; got != busyboxARM.ID {
		t.Errorf("the container's image is %s, want the arm64 one %s", got, busyboxARM.ID)
	}
	r = e.nerdOK("run", "--rm", "--platform", "linux/arm64", "busybox", "true")
	if strings.Contains(r.Stderr, "Unable to find") {
		t.Errorf("the arm64 image is local now; nothing to pull:\n%s", r)
	}
	e.nerdOK("create", "--name", "amd", "--platform", "linux/amd64", "busybox")
	if got := e.inspectC("amd").Image; got != busybox.ID {
		t.Errorf("create --platform linux/amd64: image %s, want %s", got, busybox.ID)
	}
}
