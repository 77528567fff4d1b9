package e2e

import (
	"encoding/json"
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

// The restart-watcher's backoff (100 ms doubling, reset after 10 s of
// running) and what a container shows while it waits (Docker's
// "Restarting (N) … ago"); --restart no and unlimited on-failure; rm of a
// paused or restarting container; a monitor pid reused by another process.

var restartingRe = regexp.MustCompile(`^Restarting \(3\) (Less than a second|\d+ seconds?) ago$`)

// logTimes returns the times of the lines of `logs -t name`, by text.
func (e *env) logTimes(name string) map[string]time.Time {
	e.t.Helper()
	out := map[string]time.Time{}
	for _, l := range e.nerdOK("logs", "-t", name).Lines() {
		ts, msg, _ := strings.Cut(l, " ")
		tm, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			e.t.Fatalf("logs -t line %q: %v", l, err)
		}
		out[msg] = tm
	}
	return out
}

// A container that keeps failing is restarted after 100 ms, then 200 ms,
// 400 ms …; while it waits it is "restarting": Docker's STATUS, State
// (Restarting and Running true, Pid 0, the last exit code), listed by ps
// without -a and by status=restarting, and rm without -f refuses it.
func TestRestartBackoff(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	script := `n=$(cat /n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /n; echo run-$n; exit 3`
	e.runD("--name", "bo", "--restart", "always", "busybox", "sh", "-c", script)
	eventually(t, 60*time.Second, "bo's 6th run", func() (bool, string) {
		r := e.nerd("logs", "bo")
		return strings.Contains(r.Stdout, "run-6\n"), r.Stdout
	})
	// Each run starts at least the backoff after the one before: 100 ms
	// doubling (lower bounds only, with a margin: a loaded machine is
	// slower, never faster).
	times := e.logTimes("bo")
	for i := 1; i <= 5; i++ {
		a, b := times[fmt.Sprintf("run-%d", i)], times[fmt.Sprintf("run-%d", i+1)]
		if a.IsZero() || b.IsZero() {
			t.Fatalf("logs lack run-%d or run-%d: %v", i, i+1, times)
		}
		min := time.Duration(float64(100*time.Millisecond<<(i-1)) * 0.8)
		if gap := b.Sub(a); gap < min {
			t.Errorf("run-%d started %v after run-%d, want at least the backoff (%v)", i+1, gap, i, min)
		}
	}

	// From the 6th restart on the wait is ≥ 3.2 s: the container is seen
	// restarting. It briefly runs between waits, hence the retries.
	eventually(t, 30*time.Second, "inspect showing bo restarting", func() (bool, string) {
		got := e.inspectC("bo")
		if got.State.Status != "restarting" {
			return false, "status " + got.State.Status
		}
		st := got.State
		if !st.Restarting || !st.Running || st.Pid != 0 || st.ExitCode != 3 || st.Paused {
			t.Errorf("State while restarting: %+v, want Restarting and Running true (Docker), Pid 0, ExitCode 3", st)
		}
		return true, ""
	})
	eventually(t, 30*time.Second, "ps STATUS Restarting (3) … ago", func() (bool, string) {
		s := e.psStatus("bo")
		return restartingRe.MatchString(s), s
	})
	eventually(t, 30*time.Second, "ps without -a listing bo as restarting", func() (bool, string) {
		r := e.nerdOK("ps", "--format", "{{.Names}}|{{.Status}}|{{.State}}")
		for _, l := range r.Lines() {
			f := strings.Split(l, "|")
			if f[0] == "bo" && restartingRe.MatchString(f[1]) && f[2] == "restarting" {
				return true, l
			}
		}
		return false, r.Stdout
	})
	eventually(t, 30*time.Second, "ps --filter status=restarting listing bo", func() (bool, string) {
		got := e.psNames("--filter", "status=restarting")
		return slices.Equal(got, []string{"bo"}), fmt.Sprint(got)
	})
	eventually(t, 30*time.Second, "rm refusing a restarting container", func() (bool, string) {
		r := e.nerd("rm", "bo")
		if r.Code == 0 {
			t.Fatalf("rm without -f removed a restarting container:\n%s", r)
		}
		return strings.Contains(r.Stderr, `cannot remove container "/bo": container is restarting: stop the container before removing or force remove`), r.Stderr
	})
	// stop ends the waiting: exited, and no restart after it.
	e.nerdOK("stop", "bo")
	count := e.inspectC("bo").RestartCount
	shortSleep(1500 * time.Millisecond)
	if got := e.inspectC("bo"); got.State.Status != "exited" || got.State.Running || got.RestartCount != count {
		t.Errorf("after stop: Status %q Running %v RestartCount %d (was %d)", got.State.Status, got.State.Running, got.RestartCount, count)
	}
	if s := e.psStatus("bo"); !exitedRe(3).MatchString(s) {
		t.Errorf("after stop: ps STATUS %q", s)
	}
}

// A run of 10 s or more resets the backoff: after seven quick failures
// the next wait would be 12.8 s, but after a long run it is 100 ms again.
func TestRestartBackoffReset(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	script := `n=$(cat /n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /n; echo run-$n; ` +
		`if [ $n -eq 8 ]; then sleep 11; echo long-$n; fi; exit 1`
	e.runD("--name", "rr", "--restart", "on-failure", "busybox", "sh", "-c", script)
	eventually(t, 120*time.Second, "rr's 10th run", func() (bool, string) {
		r := e.nerd("logs", "rr")
		return strings.Contains(r.Stdout, "run-10\n"), r.Stdout
	})
	e.nerdOK("stop", "rr")
	times := e.logTimes("rr")
	gap := func(a, b string) time.Duration {
		if times[a].IsZero() || times[b].IsZero() {
			t.Fatalf("logs lack %s or %s: %v", a, b, times)
		}
		return times[b].Sub(times[a])
	}
	if g := gap("run-7", "run-8"); g < 5*time.Second {
		t.Errorf("run-8 came %v after run-7, want the 6.4 s backoff of the 7th restart", g)
	}
	// 100 ms plus a start; without the reset it would be 12.8 s. The bound
	// leaves seconds for a slow start.
	if g := gap("long-8", "run-9"); g > 6*time.Second {
		t.Errorf("run-9 came %v after the 11 s run ended: the backoff was not reset (would be 12.8 s)", g)
	}
	if g := gap("run-9", "run-10"); g < 160*time.Millisecond {
		t.Errorf("run-10 came %v after run-9, want at least the 200 ms of the doubled backoff", g)
	}
}

// --restart no (and no flag) never restarts; on-failure without a count
// has no limit; unless-stopped restarts a success too.
func TestRestartPolicyNoAndUnlimited(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	e.runD("--name", "no", "--restart", "no", "busybox", "sh", "-c", "exit 1")
	e.runD("--name", "default", "busybox", "sh", "-c", "exit 1")
	e.runD("--name", "onf", "--restart", "on-failure", "busybox", "sh", "-c", "exit 1")
	e.runD("--name", "us", "--restart", "unless-stopped", "busybox", "true")
	e.within(30*time.Second).nerdOK("wait", "no", "default")
	for n, want := range map[string]string{"no": `{"Name":"no","MaximumRetryCount":0}`, "default": `{"Name":"no","MaximumRetryCount":0}`,
		"onf": `{"Name":"on-failure","MaximumRetryCount":0}`, "us": `{"Name":"unless-stopped","MaximumRetryCount":0}`} {
		if r := e.nerdOK("inspect", "-f", "{{json .HostConfig.RestartPolicy}}", n); r.Stdout != want+"\n" {
			t.Errorf("%s: RestartPolicy %s, want %s", n, strings.TrimSpace(r.Stdout), want)
		}
	}
	for _, n := range []string{"onf", "us"} {
		eventually(t, 60*time.Second, n+" restarted 3 times", func() (bool, string) {
			got := e.inspectC(n)
			return got.RestartCount >= 3, fmt.Sprintf("RestartCount %d", got.RestartCount)
		})
		e.nerdOK("stop", n)
	}
	for _, n := range []string{"no", "default"} {
		if got := e.inspectC(n); got.State.Status != "exited" || got.RestartCount != 0 || got.State.ExitCode != 1 {
			t.Errorf("%s: Status %q RestartCount %d ExitCode %d, want exited, 0, 1", n, got.State.Status, got.RestartCount, got.State.ExitCode)
		}
	}
}

// rm without -f of a paused container: Docker's own refusal.
func TestRmPausedRefused(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	e.runD(withSleeper("--name", "pz", "busybox")...)
	e.nerdOK("pause", "pz")
	e.nerdFail(1, []string{"rm", "pz"}, `cannot remove container "/pz": container is paused and must be unpaused first`)
	if s := e.status("pz"); s != "paused" {
		t.Errorf("a refused rm changed the container: %q", s)
	}
	e.nerdOK("unpause", "pz")
	e.nerdFail(1, []string{"rm", "pz"}, `cannot remove container "/pz": container is running: stop the container before removing or force remove`)
}

// A monitor that died and whose pid now belongs to another process: the
// record reads as not running (pid and start time must both match), and
// rm -f removes the container without touching that process.
func TestMonitorPidReused(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	id := e.runD(withSleeper("--name", "pr", "busybox")...)
	st := e.readState(id)
	if err := syscall.Kill(st.MonitorPid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the monitor gone", func() (bool, string) {
		return !procAlive(st.MonitorPid), fmt.Sprint(st.MonitorPid)
	})
	// The stand-in for a process that got the monitor's pid (a live pid
	// with another start time; state.json is the documented record).
	decoy := exec.Command("sleep", "120")
	if err := decoy.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = decoy.Process.Kill(); _ = decoy.Wait() })
	e.editState(id, func(m map[string]any) { m["MonitorPid"] = decoy.Process.Pid })

	if s := e.psStatus("pr"); s == "" || strings.HasPrefix(s, "Up") {
		t.Errorf("a record whose monitor pid was reused: ps -a STATUS %q, want not Up", s)
	}
	if got := e.inspectC("pr"); got.State.Running || got.State.Status == "running" {
		t.Errorf("inspect: State %+v, want not running", got.State)
	}
	e.nerdOK("rm", "-f", "pr")
	e.assertGone(id)
	if !procAlive(decoy.Process.Pid) {
		t.Errorf("rm -f killed the process that reused the monitor's pid")
	}
}

// editState changes fields of the container's state.json (the documented
// record, DESIGN.md) the way an atomic writer would: for the situations a
// test cannot wait for (a reused pid, hours gone by).
func (e *env) editState(id string, edit func(map[string]any)) {
	e.t.Helper()
	path := filepath.Join(e.Root, "containers", id, "state.json")
	b, err := os.ReadFile(path)
	if err != nil {
		e.t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		e.t.Fatal(err)
	}
	edit(m)
	b, _ = json.Marshal(m)
	if err := os.WriteFile(path+".e2e", b, 0o644); err != nil {
		e.t.Fatal(err)
	}
	if err := os.Rename(path+".e2e", path); err != nil {
		e.t.Fatal(err)
	}
}

// Docker's STATUS strings for times a test cannot wait for: "Up 3
// minutes", "Exited (0) 2 hours ago" (the state's times moved back).
func TestPsStatusTimes(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	ex := e.runD("--name", "old", "busybox", "true")
	e.within(30*time.Second).nerdOK("wait", "old")
	e.editState(ex, func(m map[string]any) {
		m["StartedAt"] = time.Now().Add(-3 * time.Hour).UTC().Format(time.RFC3339Nano)
		m["FinishedAt"] = time.Now().Add(-2*time.Hour - time.Minute).UTC().Format(time.RFC3339Nano)
	})
	if s := e.psStatus("old"); s != "Exited (0) 2 hours ago" {
		t.Errorf("STATUS %q, want \"Exited (0) 2 hours ago\"", s)
	}
	up := e.runD(withSleeper("--name", "up", "busybox")...)
	e.editState(up, func(m map[string]any) {
		m["StartedAt"] = time.Now().Add(-3*time.Minute - 10*time.Second).UTC().Format(time.RFC3339Nano)
	})
	if s := e.psStatus("up"); s != "Up 3 minutes" {
		t.Errorf("STATUS %q, want \"Up 3 minutes\"", s)
	}
	e.nerdOK("create", "--name", "cr", "busybox")
	if s := e.psStatus("cr"); s != "Created" {
		t.Errorf("STATUS %q, want Created", s)
	}
}
