package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/nerd-project/nerd/pkg/container"
)

func TestExitCodeAndLog(t *testing.T) {
	c := newCtr(t, []string{"sh", "-c", "echo hi; echo err >&2; exit 3"}, nil)
	pid := c.mustStart()
	st := c.state()
	if st.Status != container.StatusRunning && st.Status != container.StatusExited {
		t.Errorf("state after start = %q", st.Status)
	}
	if st.Pid != pid && st.Status == container.StatusRunning {
		t.Errorf("state pid %d, started %d", st.Pid, pid)
	}
	if code := c.wait(); code != 3 {
		t.Errorf("wait = %d, want 3", code)
	}
	st = c.state()
	if st.Status != container.StatusExited || st.ExitCode != 3 || st.FinishedAt.IsZero() || st.StartedAt.IsZero() {
		t.Errorf("state = %+v", st)
	}
	logs := c.logs()
	want := map[string]string{"stdout": "hi\n", "stderr": "err\n"}
	if len(logs) != 2 {
		t.Fatalf("logs = %+v", logs)
	}
	for _, e := range logs {
		if want[e.Stream] != e.Log {
			t.Errorf("log entry %+v", e)
		}
	}
	if _, err := os.Stat(c.p.Socket()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket left behind: %v", err)
	}
	if mounted, _ := isMountPoint(c.p.Rootfs()); mounted {
		t.Error("rootfs still mounted")
	}
	if _, err := os.Stat(filepath.Join(c.p.RuncRoot(), c.id)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("libcontainer state left behind: %v", err)
	}
}

func TestLastLineWithoutNewline(t *testing.T) {
	c := newCtr(t, []string{"sh", "-c", "printf 'first\\nlast words'"}, nil)
	c.mustStart()
	if code := c.wait(); code != 0 {
		t.Errorf("exit %d", code)
	}
	logs := c.logs()
	if len(logs) != 2 || logs[0].Log != "first\n" || logs[1].Log != "last words" {
		t.Errorf("logs = %+v", logs)
	}
}

func TestStartFailures(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"nosuchcmd"}, 127, `exec: "nosuchcmd": executable file not found in $PATH`},
		{[]string{"/nosuch"}, 127, `exec: "/nosuch": stat /nosuch: no such file or directory`},
		{[]string{"/etc/passwd"}, 126, `exec: "/etc/passwd": permission denied`},
		{[]string{"/etc"}, 126, `exec: "/etc": is a directory`},
	} {
		t.Run(tc.args[0], func(t *testing.T) {
			c := newCtr(t, tc.args, nil)
			res := c.start()
			if res.Code != tc.code || res.Error != tc.msg {
				t.Errorf("result = %+v, want %d %q", res, tc.code, tc.msg)
			}
			c.waitShim()
			st := c.state()
			if st.Status != container.StatusCreated || st.ExitCode != tc.code || st.Error != tc.msg {
				t.Errorf("state = %+v", st)
			}
			if mounted, _ := isMountPoint(c.p.Rootfs()); mounted {
				t.Error("rootfs still mounted")
			}
		})
	}
}

func TestAttach(t *testing.T) {
	c := newCtr(t, []string{"sh", "-c", "echo hello; echo oops >&2; exit 5"}, nil)
	c.mustStart("--wait-attach")
	s, err := c.client().Attach(context.Background(), container.AttachOptions{Stdout: true, Stderr: true})
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code, err := s.Copy(&out, &errb)
	if err != nil || code != 5 || out.String() != "hello\n" || errb.String() != "oops\n" {
		t.Errorf("copy = %d %v, out %q err %q", code, err, out.String(), errb.String())
	}
	c.waitShim()
	// After the end an attach is refused (no monitor).
	if _, err := container.Dial(c.p); !errors.Is(err, container.ErrNoMonitor) {
		t.Errorf("dial after exit: %v", err)
	}
}

func TestAttachStdin(t *testing.T) {
	c := newCtr(t, []string{"cat"}, func(r *container.Record, _ *specs.Spec) {
		r.Config.OpenStdin, r.Config.StdinOnce = true, true
	})
	c.mustStart("--wait-attach")
	s, err := c.client().Attach(context.Background(), container.AttachOptions{Stdin: true, Stdout: true, Stderr: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stdin().Write([]byte("ping\npong")); err != nil {
		t.Fatal(err)
	}
	if err := s.CloseStdin(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	code, err := s.Copy(&out, &out)
	if err != nil || code != 0 || out.String() != "ping\npong" {
		t.Errorf("copy = %d %v %q", code, err, out.String())
	}
	c.waitShim()
	logs := c.logs()
	if len(logs) != 2 || logs[1].Log != "pong" {
		t.Errorf("logs = %+v", logs)
	}
}

func TestTTY(t *testing.T) {
	c := newCtr(t, []string{"sh", "-c", "tty; echo out; echo err >&2"}, func(r *container.Record, _ *specs.Spec) {
		r.Config.Tty = true
	})
	c.mustStart("--wait-attach")
	s, err := c.client().Attach(context.Background(), container.AttachOptions{Stdout: true, Stderr: true})
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code, err := s.Copy(&out, &errb)
	if err != nil || code != 0 || errb.Len() != 0 {
		t.Errorf("copy = %d %v err %q", code, err, errb.String())
	}
	if got := out.String(); got != "/dev/pts/0\r\nout\r\nerr\r\n" {
		t.Errorf("tty output %q", got)
	}
	c.waitShim()
	for _, e := range c.logs() {
		if e.Stream != "stdout" {
			t.Errorf("tty log entry on %s", e.Stream)
		}
	}
}

func TestKillManual(t *testing.T) {
	c := newCtr(t, []string{"sleep", "1000"}, noPidNS)
	pid := c.mustStart()
	if err := c.client().Kill(context.Background(), int(syscall.SIGTERM), true); err != nil {
		t.Fatal(err)
	}
	if code := c.wait(); code != 143 {
		t.Errorf("exit %d, want 143", code)
	}
	st := c.state()
	if !st.ManuallyStopped || st.ExitCode != 143 || st.Status != container.StatusExited {
		t.Errorf("state = %+v", st)
	}
	if alive(pid) {
		t.Error("container process still alive")
	}
}

func TestRestartOnFailure(t *testing.T) {
	c := newCtr(t, []string{"sh", "-c", "echo run; exit 1"}, func(r *container.Record, _ *specs.Spec) {
		r.HostConfig.RestartPolicy = container.RestartPolicy{Name: "on-failure", MaximumRetryCount: 2}
	})
	c.mustStart()
	if code := c.wait(); code != 1 {
		t.Errorf("exit %d", code)
	}
	st := c.state()
	if st.RestartCount != 2 || st.Status != container.StatusExited || st.ExitCode != 1 {
		t.Errorf("state = %+v", st)
	}
	if logs := c.logs(); len(logs) != 3 {
		t.Errorf("logs of 3 runs: %+v", logs)
	}
}

func TestRestartAlwaysManualKill(t *testing.T) {
	c := newCtr(t, []string{"sleep", "1000"}, func(r *container.Record, _ *specs.Spec) {
		r.HostConfig.RestartPolicy = container.RestartPolicy{Name: "always"}
	})
	c.mustStart()
	if err := c.client().Kill(context.Background(), int(syscall.SIGKILL), true); err != nil {
		t.Fatal(err)
	}
	if code := c.wait(); code != 137 {
		t.Errorf("exit %d", code)
	}
	if st := c.state(); st.RestartCount != 0 || !st.ManuallyStopped {
		t.Errorf("state = %+v", st)
	}
}

func TestKillCancelsRestart(t *testing.T) {
	c := newCtr(t, []string{"sh", "-c", "exit 2"}, func(r *container.Record, _ *specs.Spec) {
		r.HostConfig.RestartPolicy = container.RestartPolicy{Name: "unless-stopped"}
	})
	c.mustStart()
	// The backoff doubles: after three restarts the wait is 800 ms.
	eventually(t, 10*time.Second, "restarting", func() bool {
		st, err := container.ReadState(c.p)
		return err == nil && st.Status == container.StatusRestarting && st.RestartCount >= 3
	})
	if err := c.client().Kill(context.Background(), int(syscall.SIGTERM), true); err != nil {
		t.Fatal(err)
	}
	if code := c.wait(); code != 2 {
		t.Errorf("exit %d", code)
	}
	if st := c.state(); st.Status != container.StatusExited || !st.ManuallyStopped {
		t.Errorf("state = %+v", st)
	}
}

func TestExec(t *testing.T) {
	c := newCtr(t, []string{"sleep", "1000"}, nil)
	c.mustStart()
	cl := c.client()
	run := func(args []string, stdin string) (int, string, string) {
		t.Helper()
		s, err := cl.Exec(context.Background(), &specs.Process{Args: args, Cwd: "/"}, container.ExecOptions{Stdin: stdin != ""})
		if err != nil {
			t.Fatalf("exec %v: %v", args, err)
		}
		if stdin != "" {
			go func() {
				_, _ = s.Stdin().Write([]byte(stdin))
				_ = s.CloseStdin()
			}()
		}
		var out, errb bytes.Buffer
		code, err := s.Copy(&out, &errb)
		if err != nil {
			t.Fatalf("exec %v: %v", args, err)
		}
		return code, out.String(), errb.String()
	}
	if code, out, _ := run([]string{"echo", "hi"}, ""); code != 0 || out != "hi\n" {
		t.Errorf("echo: %d %q", code, out)
	}
	if code, _, _ := run([]string{"sh", "-c", "exit 7"}, ""); code != 7 {
		t.Errorf("exit 7: %d", code)
	}
	if code, out, _ := run([]string{"cat"}, "in\nput"); code != 0 || out != "in\nput" {
		t.Errorf("cat: %d %q", code, out)
	}
	if code, _, errs := run([]string{"nosuchcmd"}, ""); code != 127 || errs != "exec: \"nosuchcmd\": executable file not found in $PATH\n" {
		t.Errorf("not found: %d %q", code, errs)
	}
	// A background child holding stdout does not hang the exec.
	if code, out, _ := run([]string{"sh", "-c", "sleep 100 & echo bg"}, ""); code != 0 || out != "bg\n" {
		t.Errorf("background: %d %q", code, out)
	}
	s, err := cl.Exec(context.Background(), &specs.Process{Args: []string{"sleep", "5"}}, container.ExecOptions{Detach: true})
	if err != nil || s.Pid() <= 0 {
		t.Errorf("detached exec: %v", err)
	}
	_, err = cl.Exec(context.Background(), &specs.Process{Args: []string{"nosuchcmd"}}, container.ExecOptions{Detach: true})
	var re *container.RequestError
	if !errors.As(err, &re) || re.Code != 127 {
		t.Errorf("detached not found: %v", err)
	}
	// Exec output is not logged.
	if logs := c.logs(); len(logs) != 0 {
		t.Errorf("logs = %+v", logs)
	}
	if err := cl.Kill(context.Background(), int(syscall.SIGKILL), true); err != nil {
		t.Fatal(err)
	}
	c.wait()
}

func TestPauseResumeUpdate(t *testing.T) {
	c := newCtr(t, []string{"sleep", "1000"}, nil)
	c.mustStart()
	cl := c.client()
	ctx := context.Background()
	if err := cl.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	if st := c.state(); st.Status != container.StatusPaused {
		t.Errorf("status %q", st.Status)
	}
	freezer := "/sys/fs/cgroup/freezer/" + cgroupParent + "/" + c.id + "/freezer.state"
	if b, _ := os.ReadFile(freezer); strings.TrimSpace(string(b)) != "FROZEN" {
		t.Errorf("freezer %q", b)
	}
	if err := cl.Pause(ctx); err == nil {
		t.Error("second pause succeeded")
	}
	if err := cl.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	if st := c.state(); st.Status != container.StatusRunning {
		t.Errorf("status %q", st.Status)
	}
	limit := int64(64 << 20)
	if err := cl.Update(ctx, &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit}}); err != nil {
		t.Fatal(err)
	}
	mem := "/sys/fs/cgroup/memory/" + cgroupParent + "/" + c.id + "/memory.limit_in_bytes"
	if b, _ := os.ReadFile(mem); strings.TrimSpace(string(b)) != "67108864" {
		t.Errorf("memory limit %q", b)
	}
	// Killing a paused container works (it is thawed).
	if err := cl.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	if err := cl.Kill(ctx, int(syscall.SIGKILL), true); err != nil {
		t.Fatal(err)
	}
	if code := c.wait(); code != 137 {
		t.Errorf("exit %d", code)
	}
}

func TestAutoRemove(t *testing.T) {
	c := newCtr(t, []string{"true"}, func(r *container.Record, _ *specs.Spec) {
		r.HostConfig.AutoRemove = true
	})
	c.mustStart()
	if code := c.wait(); code != 0 {
		t.Errorf("exit %d", code)
	}
	if _, err := os.Stat(c.p.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("container dir: %v", err)
	}
}

func TestMonitorKilled(t *testing.T) {
	c := newCtr(t, []string{"sleep", "1000"}, nil)
	pid := c.mustStart()
	st := c.state()
	if !container.MonitorAlive(st) || st.MonitorPid != c.shim.Process.Pid {
		t.Fatalf("monitor not alive in %+v", st)
	}
	_ = c.shim.Process.Kill()
	c.waitShim()
	st = c.state()
	if st.Status != container.StatusRunning || container.MonitorAlive(st) {
		t.Errorf("after kill -9: %+v alive=%v", st, container.MonitorAlive(st))
	}
	if !alive(pid) {
		t.Error("the container died with its monitor")
	}
	if _, err := c.client().Wait(context.Background()); !errors.Is(err, container.ErrNoMonitor) {
		t.Errorf("wait without monitor: %v", err)
	}
}
