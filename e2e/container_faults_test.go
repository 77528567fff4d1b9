package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Faults: kill -9 of a monitor or of the CLI, concurrent runs, a process
// that dies at once. After each, the records are consistent and `rm -f`
// leaves nothing behind.

// kill -9 of a monitor: the record reads as exited (never a phantom Up),
// rm -f removes the container and what its orphaned process held, and a
// start brings it back cleanly.
func TestKillMonitor(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	ids := map[string]string{}
	for _, n := range []string{"m1", "m2"} {
		ids[n] = e.runD(withSleeper("--name", n, "busybox")...)
		st := e.readState(ids[n])
		if st.MonitorPid <= 0 || !procAlive(st.MonitorPid) {
			t.Fatalf("%s: state.json MonitorPid %d is not a live process", n, st.MonitorPid)
		}
		if err := syscall.Kill(st.MonitorPid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"m1", "m2"} {
		eventually(t, 10*time.Second, n+" not Up", func() (bool, string) {
			s := e.psStatus(n)
			return s != "" && !strings.HasPrefix(s, "Up"), s
		})
		if got := e.inspectC(n); got.State.Running {
			t.Errorf("%s: inspect says running after its monitor died: %+v", n, got.State)
		}
	}
	if names := e.psNames(); len(names) != 0 {
		t.Errorf("ps lists %v as running", names)
	}

	r := e.nerdOK("rm", "-f", "m1")
	if r.Stdout != "m1\n" {
		t.Errorf("rm -f:\n%s", r)
	}
	e.assertGone(ids["m1"])

	// start after a monitor crash: one init, the old processes gone.
	old := containerProcs(ids["m2"])
	e.nerdOK("start", "m2")
	got := e.inspectC("m2")
	if !got.State.Running || slices.Contains(old, got.State.Pid) {
		t.Errorf("start after a monitor crash: State %+v (old processes %v)", got.State, old)
	}
	for _, pid := range old {
		if procAlive(pid) {
			t.Errorf("process %d of the crashed run still lives beside the new one", pid)
		}
	}
	if r := e.nerdOK("exec", "m2", "echo", "ok"); r.Stdout != "ok\n" {
		t.Errorf("exec after restart:\n%s", r)
	}
	e.nerdOK("rm", "-f", "m2")
	e.assertGone(ids["m2"])
}

// kill -9 of an attached `nerd run`: once the container runs, it keeps
// running (as with Docker's client), and rm -f removes it.
func TestKillRunCLIAttached(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := e.command(ctx, "run", "--name", "att", "busybox", "sh", "-c", "echo started; sleep 30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	defer func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); <-done }()
	ok := eventually(t, 30*time.Second, "att running", func() (bool, string) {
		select {
		case <-done:
			return true, "nerd run ended"
		default:
		}
		s := e.status("att")
		return s == "running", "status " + s
	})
	select {
	case <-done:
		t.Fatalf("nerd run ended before it could be killed (%v)", cmd.ProcessState)
	default:
	}
	if !ok {
		t.FailNow()
	}
	_ = syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
	<-done
	shortSleep(300 * time.Millisecond)
	if s := e.psStatus("att"); !upRe.MatchString(s) {
		t.Errorf("after the CLI was killed: STATUS %q, want Up (the container outlives its client)", s)
	}
	if r := e.nerdOK("logs", "att"); r.Stdout != "started\n" {
		t.Errorf("logs:\n%s", r)
	}
	id := e.inspectC("att").ID
	e.nerdOK("rm", "-f", "att")
	e.assertGone(id)
}

// kill -9 of `nerd run` at instants all along its way: afterwards ps works,
// there is no container or a consistent one, rm -f removes it, the name is
// free again, and no directory or mount is left that ps does not show.
func TestKillRunCLIAnyTime(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	// Most instants fall where the monitor is being started (≈40–120 ms
	// here), the window where a half-made record is most likely.
	ms := []int{0, 25, 40, 50, 60, 65, 70, 75, 80, 90, 100, 120, 200, 400}
	for i, m := range ms {
		delay := time.Duration(m) * time.Millisecond
		name := fmt.Sprintf("k%d", i)
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		cmd := e.command(ctx, "run", "--name", name, "busybox", "sleep", "30")
		if err := cmd.Start(); err != nil {
			cancel()
			t.Fatal(err)
		}
		time.Sleep(delay)
		_ = syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		cancel()

		r := e.nerd("ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Names}} {{.Status}}")
		if r.Code != 0 {
			t.Errorf("killed after %v: ps -a fails:\n%s", delay, r)
			continue
		}
		t.Logf("killed after %v: %q", delay, r.Stdout)
		id := ""
		for _, l := range r.Lines() {
			if f := strings.Fields(l); len(f) > 1 && f[1] == name {
				id = f[0]
			}
		}
		if rm := e.nerd("rm", "-f", name); rm.Code != 0 {
			t.Errorf("killed after %v: rm -f %s:\n%s", delay, name, rm)
			continue
		}
		if id != "" {
			e.assertGone(id)
		}
		// The name is not held by a half-made record.
		if r := e.nerd("run", "--rm", "--name", name, "busybox", "true"); r.Code != 0 {
			t.Errorf("killed after %v: the name %s is not free again:\n%s", delay, name, r)
		}
	}
	// Nothing half-made that ps does not show.
	eventually(t, 5*time.Second, "no container directory or mount left", func() (bool, string) {
		mps, _ := mountsUnder(e.Root)
		ids := e.containerIDs()
		return len(mps) == 0 && len(ids) == 0, fmt.Sprintf("dirs %v, mounts %v", ids, mps)
	})
}

// Concurrent `run -d --name same`: exactly one wins, the others get
// Docker's conflict message; concurrent runs with distinct names all work.
func TestConcurrentRuns(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	for round := 0; round < 2; round++ {
		name := fmt.Sprintf("same%d", round)
		results := make([]result, 3)
		var wg sync.WaitGroup
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = e.nerd(withSleeper("run", "-d", "--name", name, "busybox")...)
			}()
		}
		wg.Wait()
		var won int
		for _, r := range results {
			switch {
			case r.Code == 0:
				won++
			case r.Code == 125 && strings.Contains(r.Stderr, `The container name "/`+name+`" is already in use`):
			default:
				t.Errorf("a loser must fail with 125 and the conflict message:\n%s", r)
			}
		}
		if won != 1 {
			t.Errorf("round %d: %d of 3 concurrent runs won", round, won)
		}
		var n int
		for _, got := range e.psNames("-a") {
			if got == name {
				n++
			}
		}
		if n != 1 {
			t.Errorf("ps -a lists %s %d times", name, n)
		}
	}
	if n := len(e.containerIDs()); n != 2 {
		t.Errorf("%d container directories, want 2", n)
	}

	var wg sync.WaitGroup
	results := make([]result, 4)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = e.nerd(withSleeper("run", "-d", "--name", fmt.Sprintf("par%d", i), "busybox")...)
		}()
	}
	wg.Wait()
	for _, r := range results {
		if r.Code != 0 {
			t.Errorf("concurrent run with its own name failed:\n%s", r)
		}
	}
	if got := e.psNames("--filter", "name=par"); len(got) != 4 {
		t.Errorf("running par*: %v", got)
	}
	// And concurrent rm -f of them all.
	var rms []result
	var mu sync.Mutex
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := e.nerd("rm", "-f", fmt.Sprintf("par%d", i))
			mu.Lock()
			rms = append(rms, r)
			mu.Unlock()
		}()
	}
	wg.Wait()
	for _, r := range rms {
		if r.Code != 0 {
			t.Errorf("concurrent rm -f:\n%s", r)
		}
	}
}

// A process that dies at once is Exited with its code, its output kept.
func TestDiesAtOnce(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	e.runD("--name", "quick", "busybox", "sh", "-c", "echo bye; echo oops >&2; exit 5")
	if r := e.within(30*time.Second).nerdOK("wait", "quick"); r.Stdout != "5\n" {
		t.Errorf("wait q:\n%s", r)
	}
	if s := e.psStatus("quick"); !exitedRe(5).MatchString(s) {
		t.Errorf("ps -a STATUS %q", s)
	}
	got := e.inspectC("quick")
	if got.State.ExitCode != 5 || got.State.Status != "exited" || got.State.Pid != 0 {
		t.Errorf("State %+v", got.State)
	}
	r := e.nerdOK("logs", "quick")
	if r.Stdout != "bye\n" || r.Stderr != "oops\n" {
		t.Errorf("logs of a container that died at once:\n%s", r)
	}
	e.nerdOK("rm", "quick")
	e.assertGone(got.ID)
}
