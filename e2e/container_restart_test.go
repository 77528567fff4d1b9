package e2e

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Restart policies (the monitor's restart-watcher) and `nerd system boot`.

// on-failure:2 restarts a failing container twice, then leaves it exited;
// its logs keep all three runs. on-failure does not restart a success.
func TestRestartOnFailure(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	e.runD("--name", "of", "--restart", "on-failure:2", "busybox", "sh", "-c", "echo run; exit 1")
	e.runD("--name", "ok", "--restart", "on-failure", "busybox", "true")
	eventually(t, 20*time.Second, "of exited after 2 restarts", func() (bool, string) {
		got := e.inspectC("of")
		return got.State.Status == "exited" && got.RestartCount == 2, fmt.Sprintf("status %s, RestartCount %d", got.State.Status, got.RestartCount)
	})
	shortSleep(1500 * time.Millisecond) // no third restart
	got := e.inspectC("of")
	if got.State.Status != "exited" || got.RestartCount != 2 || got.State.ExitCode != 1 {
		t.Errorf("on-failure:2: Status %q RestartCount %d ExitCode %d, want exited, 2, 1", got.State.Status, got.RestartCount, got.State.ExitCode)
	}
	if s := e.psStatus("of"); !exitedRe(1).MatchString(s) {
		t.Errorf("ps -a STATUS %q", s)
	}
	if r := e.nerdOK("logs", "of"); r.Stdout != "run\nrun\nrun\n" {
		t.Errorf("logs must keep every run:\n%s", r)
	}
	if got := e.inspectC("ok"); got.State.Status != "exited" || got.RestartCount != 0 {
		t.Errorf("on-failure with exit 0: Status %q RestartCount %d, want exited and 0", got.State.Status, got.RestartCount)
	}
}

// always brings back a container that exits, again and again; a user's
// stop keeps it down, and a user's start resets RestartCount.
func TestRestartAlways(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	e.runD("--name", "al", "--restart", "always", "busybox", "sh", "-c", "echo up; sleep 0.3")
	seen := map[string]bool{}
	eventually(t, 20*time.Second, "al restarted at least 3 times", func() (bool, string) {
		got := e.inspectC("al")
		seen[strings.Fields(e.psStatus("al") + " ?")[0]] = true
		return got.RestartCount >= 3, fmt.Sprintf("RestartCount %d, status %s", got.RestartCount, got.State.Status)
	})
	t.Logf("ps STATUS words seen while restarting: %v", seen)
	if seen["Exited"] {
		t.Errorf("an always container showed as Exited between restarts (Docker: Up or Restarting)")
	}

	r := e.nerdOK("stop", "al")
	if r.Stdout != "al\n" {
		t.Errorf("stop:\n%s", r)
	}
	count := e.inspectC("al").RestartCount
	shortSleep(1500 * time.Millisecond)
	got := e.inspectC("al")
	if got.State.Status != "exited" || got.State.Running || got.RestartCount != count {
		t.Errorf("after stop: Status %q RestartCount %d (was %d): a stopped always container came back", got.State.Status, got.RestartCount, count)
	}
	if s := e.psStatus("al"); !strings.HasPrefix(s, "Exited (") {
		t.Errorf("ps -a STATUS after stop %q", s)
	}
	if n := strings.Count(e.nerdOK("logs", "al").Stdout, "up\n"); n < count {
		t.Errorf("logs hold %d runs, want at least one per restart (%d)", n, count)
	}

	e.nerdOK("start", "al")
	got = e.inspectC("al")
	if got.RestartCount != 0 || (got.State.Status != "running" && got.State.Status != "restarting") {
		t.Errorf("after a user start: Status %q RestartCount %d, want running and 0", got.State.Status, got.RestartCount)
	}
}

// A user's kill is a manual stop: unless-stopped and always stay down. A
// process killed behind nerd's back is a failure: the policy restarts it.
func TestRestartManualKill(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	for _, p := range []string{"unless-stopped", "always"} {
		e.runD(withSleeper("--name", p, "--restart", p, "busybox")...)
		e.nerdOK("kill", p)
	}
	shortSleep(1500 * time.Millisecond)
	for _, p := range []string{"unless-stopped", "always"} {
		got := e.inspectC(p)
		if got.State.Status != "exited" || got.State.ExitCode != 137 || got.RestartCount != 0 {
			t.Errorf("--restart %s after kill: Status %q ExitCode %d RestartCount %d, want exited, 137, 0", p, got.State.Status, got.State.ExitCode, got.RestartCount)
		}
	}

	e.runD(withSleeper("--name", "crash", "--restart", "unless-stopped", "busybox")...)
	pid := e.inspectC("crash").State.Pid
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "crash restarted", func() (bool, string) {
		got := e.inspectC("crash")
		return got.RestartCount == 1 && got.State.Running && got.State.Pid != pid, fmt.Sprintf("%+v RestartCount %d", got.State, got.RestartCount)
	})
}

// update --restart changes the policy the running container's monitor
// applies when it exits.
func TestUpdateRestartPolicy(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	e.runD("--name", "upd", "busybox", "sh", "-c", "echo run; sleep 2; exit 1")
	e.nerdOK("update", "--restart", "on-failure:1", "upd")
	eventually(t, 20*time.Second, "u restarted once by the updated policy, then exited", func() (bool, string) {
		got := e.inspectC("upd")
		return got.RestartCount == 1 && got.State.Status == "exited", fmt.Sprintf("status %s RestartCount %d", got.State.Status, got.RestartCount)
	})
	if r := e.nerdOK("logs", "upd"); r.Stdout != "run\nrun\n" {
		t.Errorf("logs:\n%s", r)
	}
}

// After a reboot nothing runs and no monitor remembers anything: a record
// whose monitor is gone reads as Exited (255), never Up, and `nerd system
// boot` starts what the policy says (always; unless-stopped unless the
// user stopped it; never a "no" container).
func TestSystemBoot(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	ids := map[string]string{}
	for _, c := range [][]string{
		{"--name", "al", "--restart", "always"},
		{"--name", "us", "--restart", "unless-stopped"},
		{"--name", "usstopped", "--restart", "unless-stopped"},
		{"--name", "no"},
	} {
		ids[c[1]] = e.runD(withSleeper(append(c, "busybox")...)...)
	}
	e.nerdOK("stop", "usstopped")

	// The "reboot": the monitors and the containers' processes die at once.
	for _, n := range []string{"al", "us", "no"} {
		id := ids[n]
		st := e.readState(id)
		if st.MonitorPid <= 0 || !procAlive(st.MonitorPid) {
			t.Fatalf("%s: state.json MonitorPid %d is not a live process", n, st.MonitorPid)
		}
		_ = syscall.Kill(st.MonitorPid, syscall.SIGKILL)
		for _, pid := range containerProcs(id) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	for _, n := range []string{"al", "us", "no"} {
		id := ids[n]
		eventually(t, 5*time.Second, n+"'s processes gone", func() (bool, string) {
			return len(containerProcs(id)) == 0, fmt.Sprint(containerProcs(id))
		})
	}
	for _, n := range []string{"al", "us", "no"} {
		if s := e.psStatus(n); !exitedRe(255).MatchString(s) {
			t.Errorf("%s after its monitor died: ps -a STATUS %q, want Exited (255) … ago", n, s)
		}
		if got := e.inspectC(n); got.State.Running || got.State.Status != "exited" {
			t.Errorf("%s after its monitor died: State %+v", n, got.State)
		}
	}
	if names := e.psNames(); len(names) != 0 {
		t.Errorf("ps shows %v as running after the reboot", names)
	}

	r := e.within(60*time.Second).nerdOK("system", "boot")
	t.Logf("system boot:\n%s", r)
	for n, want := range map[string]string{"al": "running", "us": "running", "usstopped": "exited", "no": "exited"} {
		if s := e.status(n); s != want {
			t.Errorf("after system boot %s is %q, want %q", n, s, want)
		}
	}
	if s := e.psStatus("al"); !upRe.MatchString(s) {
		t.Errorf("al after boot: STATUS %q", s)
	}
	// Each container runs once: one init process, not a stale one beside it.
	if got := e.inspectC("al"); !procAlive(got.State.Pid) || !inContainerCgroup(got.State.Pid, ids["al"]) {
		t.Errorf("al's State.Pid %d is not its live init", got.State.Pid)
	}
	if r := e.nerdOK("exec", "al", "echo", "ok"); r.Stdout != "ok\n" {
		t.Errorf("exec after boot:\n%s", r)
	}
	// A second boot changes nothing.
	pid := e.inspectC("al").State.Pid
	e.within(60*time.Second).nerdOK("system", "boot")
	if got := e.inspectC("al"); got.State.Pid != pid {
		t.Errorf("a second system boot restarted a running container: pid %d → %d", pid, got.State.Pid)
	}
}
