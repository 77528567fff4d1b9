package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// create, start, stop, restart, kill, rm, prune, wait, rename, pause,
// unpause, update and the `container …` forms.

func TestCreateStart(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)

	r := e.nerdOK("create", "--name", "c1", "busybox", "echo", "hello")
	if !regexp.MustCompile(`^[0-9a-f]{64}\n$`).MatchString(r.Stdout) {
		t.Fatalf("create must print the full ID:\n%s", r)
	}
	id := strings.TrimSpace(r.Stdout)
	if s := e.psStatus("c1"); s != "Created" {
		t.Errorf("ps -a STATUS %q, want Created", s)
	}
	if names := e.psNames(); slices.Contains(names, "c1") {
		t.Errorf("ps without -a lists a created container: %v", names)
	}
	got := e.inspectC("c1")
	if got.ID != id || got.State.Status != "created" || got.State.Running || got.State.Pid != 0 || got.State.StartedAt != "0001-01-01T00:00:00Z" {
		t.Errorf("inspect of a created container: Id %q Status %q Running %v Pid %d StartedAt %q", got.ID, got.State.Status, got.State.Running, got.State.Pid, got.State.StartedAt)
	}

	if r := e.nerdOK("start", "c1"); r.Stdout != "c1\n" {
		t.Errorf("start prints what the user typed:\n%s", r)
	}
	if r := e.within(30*time.Second).nerdOK("wait", "c1"); r.Stdout != "0\n" {
		t.Errorf("wait c1:\n%s", r)
	}
	if r := e.nerdOK("logs", "c1"); r.Stdout != "hello\n" {
		t.Errorf("logs c1:\n%s", r)
	}
	if s := e.psStatus("c1"); !exitedRe(0).MatchString(s) {
		t.Errorf("ps -a STATUS %q, want Exited (0) … ago", s)
	}

	// start -a attaches and returns the container's code.
	if r := e.nerdOK("start", "-a", "c1"); r.Stdout != "hello\n" {
		t.Errorf("start -a c1:\n%s", r)
	}
	if r := e.nerdOK("logs", "c1"); r.Stdout != "hello\nhello\n" {
		t.Errorf("logs after two runs:\n%s", r)
	}
	e.nerdOK("create", "--name", "c2", "busybox", "sh", "-c", "echo x; echo y >&2; exit 4")
	r = e.nerd("start", "-a", "c2")
	if r.Code != 4 || r.Stdout != "x\n" || r.Stderr != "y\n" {
		t.Errorf("start -a c2: want exit 4, x on stdout, y on stderr:\n%s", r)
	}
	// start -a -i passes stdin.
	e.nerdOK("create", "-i", "--name", "c3", "busybox", "cat")
	if r := e.nerdIn(strings.NewReader("data\n"), "start", "-a", "-i", "c3"); r.Code != 0 || r.Stdout != "data\n" {
		t.Errorf("start -a -i c3:\n%s", r)
	}

	// The `container …` forms, and start of a running container (a no-op).
	e.nerdOK(append([]string{"container", "create", "--name", "c4", "busybox"}, sleeper...)...)
	if r := e.nerdOK("container", "start", "c4"); r.Stdout != "c4\n" {
		t.Errorf("container start c4:\n%s", r)
	}
	pid := e.inspectC("c4").State.Pid
	if r := e.nerdOK("start", "c4"); r.Stdout != "c4\n" {
		t.Errorf("start of a running container:\n%s", r)
	}
	if got := e.inspectC("c4"); got.State.Pid != pid || !got.State.Running {
		t.Errorf("start of a running container restarted it: pid %d → %d", pid, got.State.Pid)
	}
}

func TestStopRestartKill(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)

	t.Run("stop", func(t *testing.T) {
		e := e.sub(t)
		e.runD(withSleeper("--name", "stopme", "busybox")...)
		r := e.nerdOK("stop", "stopme")
		if r.Stdout != "stopme\n" {
			t.Errorf("stop prints the name:\n%s", r)
		}
		if r.Took > 5*time.Second {
			t.Errorf("stop of a container that exits on SIGTERM took %v", r.Took)
		}
		got := e.inspectC("stopme")
		if got.State.Status != "exited" || got.State.Running || got.State.ExitCode != 0 || got.State.Pid != 0 {
			t.Errorf("after stop: Status %q Running %v ExitCode %d Pid %d", got.State.Status, got.State.Running, got.State.ExitCode, got.State.Pid)
		}
		started, err1 := time.Parse(time.RFC3339Nano, got.State.StartedAt)
		finished, err2 := time.Parse(time.RFC3339Nano, got.State.FinishedAt)
		if err1 != nil || err2 != nil || !finished.After(started) {
			t.Errorf("StartedAt %q FinishedAt %q", got.State.StartedAt, got.State.FinishedAt)
		}
		if s := e.psStatus("stopme"); !exitedRe(0).MatchString(s) {
			t.Errorf("ps -a STATUS %q", s)
		}
		// Stopping a stopped container is fine.
		if r := e.nerdOK("stop", "stopme"); r.Stdout != "stopme\n" {
			t.Errorf("stop of a stopped container:\n%s", r)
		}
	})
	t.Run("stop-timeout", func(t *testing.T) {
		e := e.sub(t)
		// sleep as PID 1 ignores SIGTERM: stop kills it after -t seconds.
		e.runD("--name", "s2", "busybox", "sleep", "1000")
		r := e.nerdOK("stop", "-t", "1", "s2")
		if r.Took < 900*time.Millisecond || r.Took > 8*time.Second {
			t.Errorf("stop -t 1 took %v, want about 1 s", r.Took)
		}
		if got := e.inspectC("s2"); got.State.ExitCode != 137 {
			t.Errorf("ExitCode %d, want 137 (SIGKILL)", got.State.ExitCode)
		}
		if s := e.psStatus("s2"); !exitedRe(137).MatchString(s) {
			t.Errorf("ps -a STATUS %q", s)
		}
	})
	t.Run("restart", func(t *testing.T) {
		e := e.sub(t)
		e.runD(withSleeper("--name", "rs", "busybox")...)
		before := e.inspectC("rs")
		if r := e.nerdOK("restart", "rs"); r.Stdout != "rs\n" {
			t.Errorf("restart prints the name:\n%s", r)
		}
		after := e.inspectC("rs")
		if !after.State.Running || after.State.Pid == before.State.Pid || after.State.StartedAt == before.State.StartedAt {
			t.Errorf("restart of a running container: Running %v, Pid %d → %d, StartedAt %s → %s",
				after.State.Running, before.State.Pid, after.State.Pid, before.State.StartedAt, after.State.StartedAt)
		}
		// restart of a stopped container starts it.
		e.nerdOK("stop", "rs")
		e.nerdOK("restart", "-t", "1", "rs")
		if s := e.psStatus("rs"); !upRe.MatchString(s) {
			t.Errorf("after restart of a stopped container: STATUS %q", s)
		}
	})
	t.Run("kill", func(t *testing.T) {
		e := e.sub(t)
		e.runD(withSleeper("--name", "killme", "busybox")...)
		if r := e.nerdOK("kill", "killme"); r.Stdout != "killme\n" {
			t.Errorf("kill prints the name:\n%s", r)
		}
		// Docker's kill (SIGKILL) returns once the container has stopped
		// (daemon.Kill waits for it), so a following rm needs no -f.
		if got := e.inspectC("killme"); got.State.Status != "exited" || got.State.ExitCode != 137 {
			t.Errorf("right after kill: Status %q ExitCode %d, want exited and 137", got.State.Status, got.State.ExitCode)
		}
		e.nerdFail(1, []string{"kill", "killme"}, `is not running`)
	})
	t.Run("kill-signal", func(t *testing.T) {
		e := e.sub(t)
		e.runD("--name", "ks", "busybox", "sh", "-c",
			`trap 'echo got-usr1' USR1; trap 'echo got-hup; exit 3' HUP; echo ready; while :; do sleep 1 & wait $!; done`)
		eventually(t, 10*time.Second, "ks ready", func() (bool, string) {
			r := e.nerd("logs", "ks")
			return strings.Contains(r.Stdout, "ready"), r.Stdout
		})
		e.nerdOK("kill", "-s", "USR1", "ks")
		eventually(t, 10*time.Second, "USR1 trapped", func() (bool, string) {
			r := e.nerd("logs", "ks")
			return strings.Contains(r.Stdout, "got-usr1"), r.Stdout
		})
		// A bad signal is refused (the daemon parses it in Docker: exit 1).
		e.nerdFail(1, []string{"kill", "-s", "NOPE", "ks"}, `signal`)
		if s := e.status("ks"); s != "running" {
			t.Errorf("after a trapped USR1 and a bad signal the container must still run: %q", s)
		}
		e.nerdOK("kill", "--signal=SIGHUP", "ks")
		e.waitStatus("ks", "exited", 10*time.Second)
		if got := e.inspectC("ks"); got.State.ExitCode != 3 {
			t.Errorf("after HUP: ExitCode %d, want 3", got.State.ExitCode)
		}
	})
}

func TestRm(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	id := e.runD(withSleeper("--name", "running1", "busybox")...)
	e.nerdFail(1, []string{"rm", "running1"}, `container is running|cannot remove a running container`)
	if s := e.status("running1"); s != "running" {
		t.Fatalf("a refused rm changed the container: %q", s)
	}
	r := e.nerdOK("rm", "-f", "running1")
	if r.Stdout != "running1\n" {
		t.Errorf("rm -f prints the name:\n%s", r)
	}
	e.assertGone(id)

	// rm of a stopped container, and the `container rm` form.
	e.nerdOK("run", "--name", "st", "busybox", "true")
	id2 := e.inspectC("st").ID
	if r := e.nerdOK("container", "rm", "st"); r.Stdout != "st\n" {
		t.Errorf("container rm:\n%s", r)
	}
	e.assertGone(id2)
	// rm by ID prefix.
	id3 := strings.TrimSpace(e.nerdOK("create", "busybox").Stdout)
	if r := e.nerdOK("rm", id3[:12]); r.Stdout != id3[:12]+"\n" {
		t.Errorf("rm by short ID:\n%s", r)
	}
	e.assertGone(id3)
}

func TestContainerPrune(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	e.nerdOK("run", "--name", "ex", "busybox", "true")
	e.nerdOK("create", "--name", "cr", "busybox")
	up := e.runD(withSleeper("--name", "up", "busybox")...)
	ex, cr := e.inspectC("ex").ID, e.inspectC("cr").ID
	r := e.nerdOK("container", "prune", "-f")
	if !strings.HasPrefix(r.Stdout, "Deleted Containers:\n") || !regexp.MustCompile(`(?m)^Total reclaimed space: \S+B$`).MatchString(r.Stdout) {
		t.Errorf("prune output is not Docker's:\n%s", r)
	}
	for _, id := range []string{ex, cr} {
		if !strings.Contains(r.Stdout, id+"\n") {
			t.Errorf("prune output lacks %s:\n%s", id, r)
		}
	}
	if strings.Contains(r.Stdout, up) {
		t.Errorf("prune removed a running container:\n%s", r)
	}
	if ids := e.nerdOK("ps", "-a", "-q", "--no-trunc").Lines(); !slices.Equal(ids, []string{up}) {
		t.Errorf("after prune: %v, want only the running container", ids)
	}
	e.assertGone(ex)
	e.assertGone(cr)
	// Nothing to prune.
	if r := e.nerdOK("container", "prune", "--force"); !strings.Contains(r.Stdout, "Total reclaimed space: 0B") {
		t.Errorf("empty prune:\n%s", r)
	}
}

func TestWait(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	e.runD("--name", "w1", "busybox", "sh", "-c", "sleep 1; exit 7")
	e.runD("--name", "w2", "busybox", "sh", "-c", "exit 3")
	r := e.within(30*time.Second).nerdOK("wait", "w1", "w2")
	if r.Stdout != "7\n3\n" {
		t.Errorf("wait w1 w2: want one exit code per line:\n%s", r)
	}
	if r.Took < 500*time.Millisecond {
		t.Errorf("wait returned after %v, before w1 could exit", r.Took)
	}
	// wait of an exited container returns at once.
	if r := e.within(10*time.Second).nerdOK("container", "wait", "w2"); r.Stdout != "3\n" {
		t.Errorf("container wait w2:\n%s", r)
	}
}

func TestRename(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	id := e.runD(withSleeper("--name", "alpha", "busybox")...)
	if r := e.nerdOK("rename", "alpha", "beta"); r.Stdout != "" {
		t.Errorf("rename prints nothing in Docker:\n%s", r)
	}
	if got := e.inspectC("beta"); got.ID != id || got.Name != "/beta" {
		t.Errorf("inspect b: Id %q Name %q", got.ID, got.Name)
	}
	e.nerdFail(1, []string{"container", "inspect", "alpha"}, `No such container: alpha`)
	if names := e.psNames(); !slices.Equal(names, []string{"beta"}) {
		t.Errorf("ps names %v, want [b]", names)
	}
	// The old name is free again, and the renamed container still works.
	e.nerdOK("run", "--name", "alpha", "busybox", "true")
	if r := e.nerdOK("exec", "beta", "echo", "ok"); r.Stdout != "ok\n" {
		t.Errorf("exec in the renamed container:\n%s", r)
	}
	e.nerdOK("container", "rename", "beta", "gamma")
	e.nerdOK("stop", "gamma")
}

func TestPauseUnpause(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	e.runD(withSleeper("--name", "paused1", "busybox")...)
	pid := e.inspectC("paused1").State.Pid
	if r := e.nerdOK("pause", "paused1"); r.Stdout != "paused1\n" {
		t.Errorf("pause prints the name:\n%s", r)
	}
	if s := e.psStatus("paused1"); !regexp.MustCompile(`^Up .* \(Paused\)$`).MatchString(s) {
		t.Errorf("ps STATUS of a paused container %q, want \"Up … (Paused)\"", s)
	}
	got := e.inspectC("paused1")
	if got.State.Status != "paused" || !got.State.Paused || !got.State.Running {
		t.Errorf("inspect: Status %q Paused %v Running %v", got.State.Status, got.State.Paused, got.State.Running)
	}
	if v := cgroupFile(t, pid, "freezer", "freezer.state"); v != "FROZEN" {
		t.Errorf("freezer.state %q", v)
	}
	if names := e.psNames("--filter", "status=paused"); !slices.Equal(names, []string{"paused1"}) {
		t.Errorf("ps --filter status=paused: %v", names)
	}
	e.nerdFail(1, []string{"pause", "paused1"}, `already paused`)
	if r := e.nerdOK("unpause", "paused1"); r.Stdout != "paused1\n" {
		t.Errorf("unpause prints the name:\n%s", r)
	}
	if s := e.psStatus("paused1"); !upRe.MatchString(s) {
		t.Errorf("after unpause STATUS %q", s)
	}
	if v := cgroupFile(t, pid, "freezer", "freezer.state"); v != "THAWED" {
		t.Errorf("freezer.state %q", v)
	}
	if r := e.nerdOK("exec", "paused1", "echo", "alive"); r.Stdout != "alive\n" {
		t.Errorf("exec after unpause:\n%s", r)
	}
	e.nerdFail(1, []string{"unpause", "paused1"}, `not paused`)
	// A paused container can be removed with -f.
	e.nerdOK("container", "pause", "paused1")
	id := e.inspectC("paused1").ID
	e.nerdOK("rm", "-f", "paused1")
	e.assertGone(id)
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	e.runD(withSleeper("--name", "upd", "--pids-limit", "50", "busybox")...)
	if r := e.nerdOK("update", "--restart", "on-failure:2", "upd"); r.Stdout != "upd\n" {
		t.Errorf("update prints the name:\n%s", r)
	}
	rp := e.inspectC("upd").HostConfig.RestartPolicy
	if rp.Name != "on-failure" || rp.MaximumRetryCount != 2 {
		t.Errorf("RestartPolicy after update: %+v", rp)
	}
	e.nerdOK("container", "update", "--pids-limit", "30", "upd")
	got := e.inspectC("upd")
	if got.HostConfig.PidsLimit == nil || *got.HostConfig.PidsLimit != 30 {
		t.Errorf("PidsLimit after update: %v", got.HostConfig.PidsLimit)
	}
	if v := cgroupFile(t, got.State.Pid, "pids", "pids.max"); v != "30" {
		t.Errorf("pids.max after update: %q", v)
	}
	r := e.nerd("update", "--restart", "bogus", "upd")
	if r.Code == 0 {
		t.Errorf("update --restart bogus succeeded:\n%s", r)
	}
	if rp := e.inspectC("upd").HostConfig.RestartPolicy; rp.Name != "on-failure" {
		t.Errorf("a refused update changed the policy: %+v", rp)
	}
}

// The `container …` management forms are the same commands.
func TestContainerForms(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	if r := e.nerdOK("container", "run", "--name", "f1", "busybox", "echo", "hi"); r.Stdout != "hi\n" {
		t.Errorf("container run:\n%s", r)
	}
	e.nerdOK(append([]string{"container", "run", "-d", "--name", "f2", "busybox"}, sleeper...)...)
	for _, ls := range [][]string{{"container", "ls"}, {"container", "list"}, {"container", "ps"}} {
		r := e.nerdOK(append(ls, "-a", "--format", "{{.Names}}")...)
		if !slices.Equal(r.Lines(), []string{"f2", "f1"}) {
			t.Errorf("%v: %v, want [f2 f1] (newest first)", ls, r.Lines())
		}
	}
	if r := e.nerdOK("container", "logs", "f1"); r.Stdout != "hi\n" {
		t.Errorf("container logs:\n%s", r)
	}
	if r := e.nerdOK("container", "exec", "f2", "echo", "x"); r.Stdout != "x\n" {
		t.Errorf("container exec:\n%s", r)
	}
	e.nerdOK("container", "stop", "f2")
	e.nerdOK("container", "start", "f2")
	e.nerdOK("container", "restart", "f2")
	e.nerdOK("container", "kill", "f2")
	if r := e.nerdOK("container", "remove", "f1", "f2"); r.Stdout != "f1\nf2\n" {
		t.Errorf("container remove:\n%s", r)
	}
	if ids := e.nerdOK("ps", "-a", "-q").Lines(); len(ids) != 0 {
		t.Errorf("left: %v", ids)
	}
}

// The log file of a removed container goes with it.
func TestRmRemovesLogs(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	e.nerdOK("run", "--name", "lg", "busybox", "echo", "x")
	got := e.inspectC("lg")
	if _, err := os.Stat(got.LogPath); err != nil {
		t.Fatalf("LogPath %q: %v", got.LogPath, err)
	}
	e.nerdOK("rm", "lg")
	if _, err := os.Stat(filepath.Dir(got.LogPath)); !os.IsNotExist(err) {
		t.Errorf("container directory still there after rm: %v", err)
	}
}
