package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// `nerd run` as a user types it: output, exit codes, and each run flag of
// issue 3, against Docker's behaviour.

// A first run pulls the image (progress on stderr, never on stdout);
// --pull never and an image no registry has fail with 125 and leave no
// container.
func TestRunPullsMissingImage(t *testing.T) {
	t.Parallel()
	e := newBareContainerEnv(t)
	r := e.nerd("run", "busybox", "echo", "hi")
	if r.Code != 0 || r.Stdout != "hi\n" {
		t.Fatalf("want exactly \"hi\\n\" on stdout (pull progress belongs on stderr):\n%s", r)
	}
	if !strings.Contains(r.Stderr, "Unable to find image 'busybox:latest' locally") {
		t.Errorf("stderr lacks Docker's \"Unable to find image 'busybox:latest' locally\":\n%s", r)
	}
	if ids := e.imageIDs(); !slices.Contains(ids, busybox.ID) {
		t.Errorf("busybox not in the store after run: %v", ids)
	}
	r = e.nerdOK("run", "busybox", "echo", "again")
	if r.Stdout != "again\n" || strings.Contains(r.Stderr, "Unable to find") {
		t.Errorf("second run must not pull:\n%s", r)
	}
	if r := e.nerdOK("run", "--pull", "always", "busybox", "echo", "x"); r.Stdout != "x\n" {
		t.Errorf("run --pull always:\n%s", r)
	}

	e.nerdFail(125, []string{"run", "--pull", "never", "debian:bookworm-slim", "true"}, `No such image`)
	e.nerdFail(125, []string{"run", "nosuchrepo-e2e", "true"}, `Unable to find image 'nosuchrepo-e2e:latest' locally`)
	e.nerdFail(125, []string{"run", "--pull", "sometimes", "busybox", "true"}, `pull`)
	if ids := e.nerdOK("ps", "-a", "-q").Lines(); len(ids) != 3 {
		t.Errorf("ps -a -q after 3 runs and 3 failures: %v, want 3 containers", ids)
	}
}

func TestRunBasics(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)

	t.Run("echo", func(t *testing.T) {
		e := e.sub(t)
		r := e.nerdOK("run", "busybox", "echo", "hi")
		if r.Stdout != "hi\n" || r.Stderr != "" {
			t.Errorf("want stdout \"hi\\n\" and an empty stderr:\n%s", r)
		}
	})
	t.Run("exit-code", func(t *testing.T) {
		e := e.sub(t)
		for _, code := range []int{3, 1, 255} {
			r := e.nerd("run", "busybox", "sh", "-c", fmt.Sprintf("exit %d", code))
			if r.Code != code {
				t.Errorf("want exit %d:\n%s", code, r)
			}
		}
	})
	t.Run("streams", func(t *testing.T) {
		e := e.sub(t)
		r := e.nerdOK("run", "busybox", "sh", "-c", "echo out; echo err >&2")
		if r.Stdout != "out\n" || r.Stderr != "err\n" {
			t.Errorf("stdout and stderr must stay separate:\n%s", r)
		}
	})
	t.Run("stdin", func(t *testing.T) {
		e := e.sub(t)
		r := e.nerdIn(strings.NewReader("hi\n"), "run", "-i", "busybox", "cat")
		if r.Code != 0 || r.Stdout != "hi\n" {
			t.Errorf("echo hi | nerd run -i busybox cat:\n%s", r)
		}
		// A megabyte through stdin and back, and EOF reaches the container.
		in := bytes.Repeat([]byte("0123456789abcdef\n"), 1<<16)
		r = e.nerdIn(bytes.NewReader(in), "run", "-i", "busybox", "cat")
		if r.Code != 0 || r.Stdout != string(in) {
			t.Errorf("run -i cat of %d bytes: exit %d, got %d bytes back, stderr %q", len(in), r.Code, len(r.Stdout), r.Stderr)
		}
		// Without -i the container's stdin is not the user's.
		r = e.nerdIn(strings.NewReader("hi\n"), "run", "busybox", "cat")
		if r.Code != 0 || r.Stdout != "" {
			t.Errorf("without -i, cat must read nothing:\n%s", r)
		}
	})
	t.Run("rm", func(t *testing.T) {
		e := e.sub(t)
		before := e.nerdOK("ps", "-a", "-q", "--no-trunc").Lines()
		for i := 0; i < 2; i++ { // the second run needs the name free again
			if r := e.nerdOK("run", "--rm", "--name", "rmme", "busybox", "echo", "x"); r.Stdout != "x\n" {
				t.Errorf("run --rm:\n%s", r)
			}
		}
		r := e.nerd("run", "--rm", "--name", "rmme", "busybox", "sh", "-c", "exit 2")
		if r.Code != 2 {
			t.Errorf("run --rm keeps the exit code:\n%s", r)
		}
		if after := e.nerdOK("ps", "-a", "-q", "--no-trunc").Lines(); !sameSet(before, after) {
			t.Errorf("run --rm left containers: before %v, after %v", before, after)
		}
	})
	t.Run("detach-rm", func(t *testing.T) {
		e := e.sub(t)
		id := e.runD("--rm", "--name", "drm", "busybox", "sleep", "0.3")
		eventually(t, 15*time.Second, "drm removed", func() (bool, string) {
			s := e.status("drm")
			return s == "", "status " + s
		})
		e.assertGone(id)
	})
	t.Run("detach", func(t *testing.T) {
		e := e.sub(t)
		r := e.nerdOK(withSleeper("run", "-d", "busybox")...)
		if !regexp.MustCompile(`^[0-9a-f]{64}\n$`).MatchString(r.Stdout) {
			t.Fatalf("run -d must print the 64-hex ID and nothing else:\n%s", r)
		}
		id := strings.TrimSpace(r.Stdout)
		_, rows := psTable(t, e.nerdOK("ps").Stdout)
		var row map[string]string
		for _, rw := range rows {
			if rw["CONTAINER ID"] == id[:12] {
				row = rw
			}
		}
		if row == nil {
			t.Fatalf("ps does not list %s: %v", id[:12], rows)
		}
		if !upRe.MatchString(row["STATUS"]) {
			t.Errorf("STATUS %q, want Docker's \"Up …\"", row["STATUS"])
		}
		if row["IMAGE"] != "busybox" {
			t.Errorf("IMAGE %q, want busybox (what the user typed)", row["IMAGE"])
		}
		if !regexp.MustCompile(`^[a-z]+_[a-z]+$`).MatchString(row["NAMES"]) {
			t.Errorf("generated name %q, want Docker's adjective_surname", row["NAMES"])
		}
	})
	t.Run("name", func(t *testing.T) {
		e := e.sub(t)
		id := e.runD(withSleeper("--name", "web", "busybox")...)
		got := e.inspectC("web")
		if got.ID != id || got.Name != "/web" {
			t.Errorf("inspect web: Id %q Name %q, want %q and \"/web\"", got.ID, got.Name, id)
		}
		if names := e.psNames(); !slices.Contains(names, "web") {
			t.Errorf("ps names %v lack web", names)
		}
	})
}

// The configuration flags of run, each checked from inside the container.
func TestRunConfigFlags(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	e.ExtraEnv = append(e.ExtraEnv, "NERD_E2E_PASS=passed")

	runOut := e.runRmOut

	t.Run("env", func(t *testing.T) {
		out := runOut(t, "-e", "FOO=bar", "-e", "EMPTY=", "-e", "NERD_E2E_PASS", "-e", "NERD_E2E_UNSET_XYZ", "busybox", "env")
		lines := strings.Split(out, "\n")
		for _, want := range []string{"FOO=bar", "EMPTY=", "NERD_E2E_PASS=passed", "HOME=/root"} {
			if !slices.Contains(lines, want) {
				t.Errorf("env lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, "NERD_E2E_UNSET_XYZ") {
			t.Errorf("-e of a variable unset on the host must not appear (Docker drops it):\n%s", out)
		}
		if !regexp.MustCompile(`(?m)^PATH=.*/bin`).MatchString(out) {
			t.Errorf("no PATH in the environment:\n%s", out)
		}
	})
	t.Run("env-file", func(t *testing.T) {
		f := filepath.Join(e.Dir, "env.list")
		if err := os.WriteFile(f, []byte("# a comment\nA=1\n\nB=two words\nNERD_E2E_PASS\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		out := runOut(t, "--env-file", f, "busybox", "env")
		lines := strings.Split(out, "\n")
		for _, want := range []string{"A=1", "B=two words", "NERD_E2E_PASS=passed"} {
			if !slices.Contains(lines, want) {
				t.Errorf("env lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, "comment") {
			t.Errorf("comment line became a variable:\n%s", out)
		}
	})
	t.Run("workdir", func(t *testing.T) {
		if out := runOut(t, "-w", "/tmp", "busybox", "pwd"); out != "/tmp\n" {
			t.Errorf("-w /tmp: pwd %q", out)
		}
		// Docker creates a missing working directory.
		if out := runOut(t, "--workdir", "/new/dir", "busybox", "pwd"); out != "/new/dir\n" {
			t.Errorf("-w /new/dir: pwd %q", out)
		}
	})
	t.Run("user", func(t *testing.T) {
		if out := runOut(t, "-u", "1000:1000", "busybox", "id"); !strings.HasPrefix(out, "uid=1000 gid=1000") {
			t.Errorf("-u 1000:1000: id %q", out)
		}
		if out := runOut(t, "--user", "nobody", "busybox", "id"); !strings.HasPrefix(out, "uid=65534(nobody) gid=65534(nogroup)") {
			t.Errorf("-u nobody: id %q", out)
		}
		if out := runOut(t, "busybox", "id", "-u"); out != "0\n" {
			t.Errorf("default user: id -u %q, want 0", out)
		}
	})
	t.Run("entrypoint", func(t *testing.T) {
		if out := runOut(t, "--entrypoint", "echo", "busybox", "hi", "there"); out != "hi there\n" {
			t.Errorf("--entrypoint echo: %q", out)
		}
		e := e.sub(t)
		e.nerdOK("create", "--name", "ep", "--entrypoint", "echo", "busybox", "a", "b")
		got := e.inspectC("ep")
		if !slices.Equal(got.Config.Entrypoint, []string{"echo"}) || !slices.Equal(got.Config.Cmd, []string{"a", "b"}) {
			t.Errorf("inspect: Entrypoint %q Cmd %q", got.Config.Entrypoint, got.Config.Cmd)
		}
		if got.Path != "echo" || !slices.Equal(got.Args, []string{"a", "b"}) {
			t.Errorf("inspect: Path %q Args %q", got.Path, got.Args)
		}
	})
	t.Run("hostname", func(t *testing.T) {
		if out := runOut(t, "-h", "myhost", "busybox", "hostname"); out != "myhost\n" {
			t.Errorf("-h myhost: hostname %q", out)
		}
		// By default the hostname is the short ID.
		e := e.sub(t)
		r := e.nerdOK("run", "--name", "hn", "busybox", "hostname")
		if id := e.inspectC("hn").ID; r.Stdout != id[:12]+"\n" {
			t.Errorf("default hostname %q, want %q", r.Stdout, id[:12])
		}
	})
	t.Run("labels", func(t *testing.T) {
		e := e.sub(t)
		lf := filepath.Join(e.Dir, "labels")
		if err := os.WriteFile(lf, []byte("team=e2e\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		id := e.runD(withSleeper("--name", "lab", "-l", "app=web", "--label", "tier=front", "--label-file", lf, "busybox")...)
		e.runD(withSleeper("--name", "nolab", "-l", "app=db", "busybox")...)
		labels := e.inspectC("lab").Config.Labels
		for k, v := range map[string]string{"app": "web", "tier": "front", "team": "e2e"} {
			if labels[k] != v {
				t.Errorf("label %s=%q, want %q (all: %v)", k, labels[k], v, labels)
			}
		}
		for _, f := range []string{"label=app=web", "label=team=e2e", "label=tier"} {
			if got := e.nerdOK("ps", "-q", "--no-trunc", "--filter", f).Lines(); !slices.Equal(got, []string{id}) {
				t.Errorf("ps --filter %s: %v, want only lab", f, got)
			}
		}
		if got := e.psNames("--filter", "label=app"); !sameSet(got, []string{"lab", "nolab"}) {
			t.Errorf("ps --filter label=app: %v", got)
		}
	})
	t.Run("read-only", func(t *testing.T) {
		e := e.sub(t)
		r := e.nerd("run", "--name", "ro", "--read-only", "busybox", "touch", "/x")
		if r.Code != 1 || !strings.Contains(r.Stderr, "Read-only file system") {
			t.Errorf("--read-only: touch /x must fail with EROFS:\n%s", r)
		}
		if !e.inspectC("ro").HostConfig.ReadonlyRootfs {
			t.Errorf("inspect: HostConfig.ReadonlyRootfs false")
		}
		if out := runOut(t, "--read-only", "--tmpfs", "/x", "busybox", "sh", "-c", "touch /x/y && echo ok"); out != "ok\n" {
			t.Errorf("--read-only --tmpfs /x: %q", out)
		}
	})
	t.Run("tmpfs", func(t *testing.T) {
		out := runOut(t, "--tmpfs", "/x", "busybox", "sh", "-c", "echo data > /x/f && cat /x/f && grep ' /x ' /proc/mounts")
		if !strings.HasPrefix(out, "data\ntmpfs /x tmpfs ") {
			t.Fatalf("--tmpfs /x: %q", out)
		}
		for _, opt := range []string{"nosuid", "nodev", "noexec"} {
			if !strings.Contains(out, opt) {
				t.Errorf("--tmpfs /x lacks Docker's default option %s: %q", opt, out)
			}
		}
		if out := runOut(t, "--tmpfs", "/y:size=1m", "busybox", "grep", " /y ", "/proc/mounts"); !strings.Contains(out, "size=1024k") {
			t.Errorf("--tmpfs /y:size=1m: %q", out)
		}
	})
	t.Run("capabilities", func(t *testing.T) {
		capEff := func(args ...string) string {
			out := runOut(t, append(args, "busybox", "grep", "CapEff", "/proc/self/status")...)
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(out), "CapEff:"))
		}
		if got := capEff(); got != "00000000a80425fb" {
			t.Errorf("default CapEff %s, want Docker's 00000000a80425fb", got)
		}
		if got := capEff("--cap-drop", "ALL"); got != "0000000000000000" {
			t.Errorf("--cap-drop ALL: CapEff %s", got)
		}
		if got := capEff("--cap-drop", "ALL", "--cap-add", "NET_RAW"); got != "0000000000002000" {
			t.Errorf("--cap-drop ALL --cap-add NET_RAW: CapEff %s", got)
		}
		if got := capEff("--cap-add", "SYS_ADMIN"); got != "00000000a82425fb" {
			t.Errorf("--cap-add SYS_ADMIN: CapEff %s", got)
		}
		// And they bite: chown needs CAP_CHOWN.
		e := e.sub(t)
		r := e.nerd("run", "--rm", "--cap-drop", "CHOWN", "busybox", "sh", "-c", "touch /f && chown 65534 /f")
		if r.Code == 0 || !strings.Contains(r.Stderr, "Operation not permitted") {
			t.Errorf("--cap-drop CHOWN: chown must fail:\n%s", r)
		}
		runOut(t, "busybox", "sh", "-c", "touch /f && chown 65534 /f")
	})
	t.Run("privileged", func(t *testing.T) {
		e := e.sub(t)
		self, _ := os.ReadFile("/proc/self/status")
		bnd := regexp.MustCompile(`CapBnd:\s*([0-9a-f]+)`).FindSubmatch(self)
		out := runOut(t, "--privileged", "busybox", "sh", "-c", "grep CapEff /proc/self/status; mkdir /m && mount -t tmpfs none /m && echo mounted")
		if bnd != nil && !strings.Contains(out, string(bnd[1])) {
			t.Errorf("--privileged: want every capability (%s):\n%s", bnd[1], out)
		}
		if !strings.Contains(out, "mounted") {
			t.Errorf("--privileged: mount failed:\n%s", out)
		}
		if r := e.nerd("run", "--rm", "busybox", "sh", "-c", "mkdir /m && mount -t tmpfs none /m"); r.Code == 0 {
			t.Errorf("mount works without --privileged:\n%s", r)
		}
	})
	t.Run("tty", func(t *testing.T) {
		if out := runOut(t, "-t", "busybox", "tty"); !regexp.MustCompile(`^/dev/pts/\d+\r?\n$`).MatchString(out) {
			t.Errorf("run -t busybox tty: %q, want /dev/pts/N", out)
		}
		if out := runOut(t, "-t", "busybox", "sh", "-c", "test -t 0 && test -t 1 && test -t 2 && echo tty"); !regexp.MustCompile(`^tty\r?\n$`).MatchString(out) {
			t.Errorf("run -t: stdio are not a terminal: %q", out)
		}
		if out := runOut(t, "busybox", "sh", "-c", "test -t 1 || echo notty"); out != "notty\n" {
			t.Errorf("run without -t: %q", out)
		}
		// With a TTY, stderr comes through the terminal, on stdout.
		e := e.sub(t)
		r := e.nerdOK("run", "--rm", "-t", "busybox", "sh", "-c", "echo err >&2")
		if !strings.Contains(r.Stdout, "err") || r.Stderr != "" {
			t.Errorf("run -t: stderr must arrive on stdout:\n%s", r)
		}
		e.nerdOK("create", "-t", "--name", "ttyc", "busybox")
		if !e.inspectC("ttyc").Config.Tty {
			t.Errorf("create -t: Config.Tty false")
		}
	})
	t.Run("init", func(t *testing.T) {
		e := e.sub(t)
		// make install ships an init (Debian's tini-static as nerd-init).
		r := e.nerdOK("run", "--rm", "--init", "busybox", "ps", "-o", "pid,comm")
		m := regexp.MustCompile(`(?m)^\s*1\s+(\S+)`).FindStringSubmatch(r.Stdout)
		if m == nil || m[1] != "docker-init" {
			t.Errorf("with --init, PID 1 must be the init (docker-init), not the command:\n%s", r)
		}
		// The init forwards stop's SIGTERM to a shell that, as pid 1,
		// would ignore it: stop returns long before its 10 s timeout.
		e.runD("--init", "--name", "initstop", "busybox", "sh", "-c", "sleep 600")
		start := time.Now()
		e.nerdOK("stop", "initstop")
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("stop of an --init container took %v: SIGTERM did not reach the command", d)
		}
		if got := e.inspectC("initstop").State.ExitCode; got != 143 {
			t.Errorf("exit code after stop = %d, want 143 (SIGTERM via the init)", got)
		}
	})
	t.Run("cidfile", func(t *testing.T) {
		e := e.sub(t)
		p := filepath.Join(e.Dir, "cid")
		id := e.runD(withSleeper("--cidfile", p, "busybox")...)
		b, err := os.ReadFile(p)
		if err != nil || string(b) != id {
			t.Errorf("cidfile holds %q (%v), want %q", b, err, id)
		}
		e.nerdFail(125, []string{"run", "--cidfile", p, "busybox", "true"}, `Container ID file found`)
	})
	t.Run("stop-signal", func(t *testing.T) {
		e := e.sub(t)
		e.runD("--name", "ss", "--stop-signal", "SIGUSR1", "busybox", "sh", "-c",
			`trap 'echo got-usr1; exit 5' USR1; echo ready; while :; do sleep 1 & wait $!; done`)
		if got := e.inspectC("ss").Config.StopSignal; got != "SIGUSR1" {
			t.Errorf("Config.StopSignal %q", got)
		}
		eventually(t, 10*time.Second, "the trap set", func() (bool, string) {
			r := e.nerd("logs", "ss")
			return r.Stdout == "ready\n", r.Stdout
		})
		r := e.nerdOK("stop", "-t", "10", "ss")
		if r.Took > 5*time.Second {
			t.Errorf("stop took %v: the stop signal did not reach the container", r.Took)
		}
		got := e.inspectC("ss")
		if got.State.ExitCode != 5 {
			t.Errorf("ExitCode %d, want 5 (the USR1 trap's)", got.State.ExitCode)
		}
		if logs := e.nerdOK("logs", "ss").Stdout; logs != "ready\ngot-usr1\n" {
			t.Errorf("logs %q", logs)
		}
	})
}

// Memory, pids and CPU limits land in the container's cgroup (cgroup v1
// here) and in inspect.
func TestRunResources(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	e.runD(withSleeper("--name", "res", "--memory", "64m", "--pids-limit", "20", "--cpus", "0.5", "--cpu-shares", "512", "busybox")...)
	got := e.inspectC("res")
	hc := got.HostConfig
	if hc.Memory != 64<<20 || hc.PidsLimit == nil || *hc.PidsLimit != 20 || hc.NanoCpus != 5e8 || hc.CpuShares != 512 {
		t.Errorf("inspect HostConfig: Memory %d PidsLimit %v NanoCpus %d CpuShares %d", hc.Memory, hc.PidsLimit, hc.NanoCpus, hc.CpuShares)
	}
	pid := got.State.Pid
	if pid <= 0 {
		t.Fatalf("State.Pid %d", pid)
	}
	for _, c := range []struct{ ctrl, file, want string }{
		{"memory", "memory.limit_in_bytes", "67108864"},
		{"pids", "pids.max", "20"},
		{"cpu", "cpu.cfs_quota_us", "50000"},
		{"cpu", "cpu.shares", "512"},
	} {
		if v := cgroupFile(t, pid, c.ctrl, c.file); v != c.want {
			t.Errorf("%s of the container's cgroup (%s): %q, want %q", c.file, procCgroupPath(pid, c.ctrl), v, c.want)
		}
	}
	if p := procCgroupPath(pid, "memory"); !strings.HasSuffix(p, got.ID) {
		t.Errorf("memory cgroup %q: want nerd's own parent and the container ID (/nerd/<id>)", p)
	}
	// Seen from inside, as Docker shows it on cgroup v1.
	r := e.nerd("exec", "res", "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes")
	if strings.TrimSpace(r.Stdout) != "67108864" {
		t.Errorf("memory.limit_in_bytes inside the container:\n%s", r)
	}
	// The pids limit bites.
	r = e.nerd("run", "--rm", "--pids-limit", "5", "busybox", "sh", "-c", "for i in 1 2 3 4 5 6 7 8; do sleep 1 & done; wait")
	if !strings.Contains(r.Stderr, "can't fork") {
		t.Errorf("--pids-limit 5: 8 background sleeps must hit the limit:\n%s", r)
	}
}

// Signals sent to an attached `nerd run` reach the container (--sig-proxy
// defaults to true), and run exits with the container's code.
func TestRunSigProxy(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := e.command(ctx, "run", "--name", "sp", "busybox", "sh", "-c",
		`trap 'echo got-term; exit 9' TERM; echo ready; while :; do sleep 1 & wait $!; done`)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	ended := false
	ok := eventually(t, 30*time.Second, "sp logging ready", func() (bool, string) {
		select {
		case err := <-done:
			ended = true
			return true, fmt.Sprintf("nerd run ended: %v", err)
		default:
		}
		r := e.nerd("logs", "sp")
		return strings.Contains(r.Stdout, "ready"), r.String()
	})
	if !ok || ended {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		if !ended {
			<-done
		}
		t.Fatalf("nerd run ended early or never got ready: stdout %q stderr %q", stdout.String(), stderr.String())
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	var err error
	select {
	case err = <-done:
	case <-time.After(20 * time.Second):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		err = <-done
		t.Errorf("nerd run did not end after SIGTERM")
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 9 {
		t.Errorf("nerd run: %v, want exit 9 from the container's TERM trap; stdout %q stderr %q", err, stdout.String(), stderr.String())
	}
	if stdout.String() != "ready\ngot-term\n" {
		t.Errorf("stdout %q, want ready and got-term", stdout.String())
	}
}
