package e2e

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// Usage errors of every container command (125 for a bad flag, 1 for
// missing arguments, with Docker's texts), the `container …` forms the
// other tests do not use, start -a of several containers, and update of
// CPU and memory limits.

func TestContainerCommandsBadUsage(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	e.runD(withSleeper("--name", "u1", "busybox")...)
	for _, cmd := range [][]string{
		{"run"}, {"create"}, {"start"}, {"stop"}, {"restart"}, {"kill"}, {"rm"}, {"wait"}, {"rename"},
		{"pause"}, {"unpause"}, {"update"}, {"ps"}, {"logs"}, {"exec"}, {"attach"}, {"top"}, {"stats"},
		{"port"}, {"cp"}, {"diff"}, {"export"}, {"commit"}, {"inspect"}, {"container", "prune"},
		{"container", "inspect"}, {"container", "run"}, {"system", "boot"},
	} {
		args := append(append([]string{}, cmd...), "--bogus-flag", "u1", "x")
		e.nerdFail(125, args, `unknown flag: --bogus-flag`, regexp.QuoteMeta("See 'nerd "+strings.Join(cmd, " ")+" --help'"))
	}
	e.nerdFail(125, []string{"container", "ls", "--bogus-flag"}, `unknown flag: --bogus-flag`)
	e.nerdFail(125, []string{"ps", "-Z"}, `unknown shorthand flag: 'Z' in -Z`)
	e.nerdFail(125, []string{"stop", "-t", "x", "u1"}, `invalid argument "x" for "-t, --timeout" flag`)
	e.nerdFail(125, []string{"logs", "--tail", "x", "u1"}, `invalid argument|tail`)
	for _, c := range []struct {
		args    []string
		pattern string
	}{
		{[]string{"rm"}, `"nerd rm" requires at least 1 argument`},
		{[]string{"start"}, `"nerd start" requires at least 1 argument`},
		{[]string{"rename", "u1"}, `"nerd rename" requires exactly 2 arguments`},
		{[]string{"exec", "u1"}, `"nerd exec" requires at least 2 arguments`},
		{[]string{"run"}, `"nerd run" requires at least 1 argument`},
		{[]string{"logs"}, `"nerd logs" requires exactly 1 argument`},
		{[]string{"container", "wait"}, `"nerd container wait" requires at least 1 argument`},
	} {
		e.nerdFail(1, c.args, c.pattern)
	}
	if s := e.status("u1"); s != "running" {
		t.Errorf("usage errors touched the container: %q", s)
	}
	// start -a of several containers is refused before anything starts.
	e.nerdOK("create", "--name", "s1", "busybox", "true")
	e.nerdOK("create", "--name", "s2", "busybox", "true")
	e.nerdFail(1, []string{"start", "-a", "s1", "s2"}, `you cannot start and attach multiple containers at once`)
	for _, n := range []string{"s1", "s2"} {
		if s := e.status(n); s != "created" {
			t.Errorf("%s is %q after a refused start -a", n, s)
		}
	}
}

// The `container …` forms not exercised elsewhere: top, unpause, attach,
// commit.
func TestContainerFormsMore(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	e.runD(withSleeper("--name", "cf", "busybox")...)
	if r := e.nerdOK("container", "top", "cf"); !strings.Contains(r.Stdout, "PID") || !strings.Contains(r.Stdout, "sleep") {
		t.Errorf("container top:\n%s", r)
	}
	e.nerdOK("container", "pause", "cf")
	if r := e.nerdOK("container", "unpause", "cf"); r.Stdout != "cf\n" {
		t.Errorf("container unpause:\n%s", r)
	}
	e.nerdOK("exec", "cf", "sh", "-c", "echo committed > /c")
	r := e.nerdOK("container", "commit", "cf", "cf-image:v1")
	if !regexp.MustCompile(`^sha256:[0-9a-f]{64}\n$`).MatchString(r.Stdout) {
		t.Errorf("container commit:\n%s", r)
	}
	if r := e.nerdOK("run", "--rm", "cf-image:v1", "cat", "/c"); r.Stdout != "committed\n" {
		t.Errorf("the committed image:\n%s", r)
	}
	e.runD("--name", "ca", "busybox", "sh", "-c", "sleep 1; echo late")
	if r := e.within(30*time.Second).nerdOK("container", "attach", "ca"); r.Stdout != "late\n" {
		t.Errorf("container attach:\n%s", r)
	}
	e.nerdFail(1, []string{"container", "attach", "ca"}, `You cannot attach to a stopped container, start it first`)
}

// update --cpus/--cpu-shares reach a running container's cgroup; limits
// updated on a stopped container apply when it starts.
func TestUpdateResources(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	e.runD(withSleeper("--name", "ur", "busybox")...)
	if r := e.nerdOK("update", "--cpus", "0.25", "--cpu-shares", "256", "ur"); r.Stdout != "ur\n" {
		t.Errorf("update:\n%s", r)
	}
	got := e.inspectC("ur")
	if got.HostConfig.NanoCpus != 25e7 || got.HostConfig.CpuShares != 256 {
		t.Errorf("inspect after update: NanoCpus %d CpuShares %d", got.HostConfig.NanoCpus, got.HostConfig.CpuShares)
	}
	for file, want := range map[string]string{"cpu.cfs_quota_us": "25000", "cpu.shares": "256"} {
		if v := cgroupFile(t, got.State.Pid, "cpu", file); v != want {
			t.Errorf("%s after update: %q, want %s", file, v, want)
		}
	}
	e.nerdOK("create", "--name", "us", "--memory", "64m", "busybox", "sleep", "600")
	e.nerdOK("update", "--memory", "48m", "--memory-swap", "96m", "us")
	e.nerdOK("start", "us")
	got = e.inspectC("us")
	if got.HostConfig.Memory != 48<<20 {
		t.Errorf("HostConfig.Memory %d after update", got.HostConfig.Memory)
	}
	for file, want := range map[string]string{"memory.limit_in_bytes": "50331648", "memory.memsw.limit_in_bytes": "100663296"} {
		if v := cgroupFile(t, got.State.Pid, "memory", file); v != want {
			t.Errorf("%s of a container updated while stopped: %q, want %s", file, v, want)
		}
	}
	e.nerdFail(125, []string{"update", "--cpus", "x", "ur"}, `invalid argument "x" for "--cpus" flag`)
	e.nerdFail(1, []string{"update", "--memory", "64m", "--memory-swap", "32m", "ur"}, `Minimum memoryswap limit should be larger than memory limit`)
}
