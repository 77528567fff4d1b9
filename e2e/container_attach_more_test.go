package e2e

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// attach's flags (--no-stdin --sig-proxy --detach-keys), --sig-proxy=false
// on run, and the raw terminal of run -it.

// lockedBuffer is a bytes.Buffer safe to read while a command writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// bgNerd is a nerd command running in the background.
type bgNerd struct {
	t              testing.TB
	cmd            *exec.Cmd
	stdout, stderr lockedBuffer
	done           chan struct{}
	err            error
}

// startNerd starts `nerd args…` with stdin (nil: none) in its own process
// group; the test's cleanup kills it if it still runs.
func (e *env) startNerd(stdin io.Reader, args ...string) *bgNerd {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), e.Timeout)
	b := &bgNerd{t: e.t, cmd: e.command(ctx, args...), done: make(chan struct{})}
	b.cmd.Stdin, b.cmd.Stdout, b.cmd.Stderr = stdin, &b.stdout, &b.stderr
	if err := b.cmd.Start(); err != nil {
		cancel()
		e.t.Fatalf("starting nerd %v: %v", args, err)
	}
	go func() {
		b.err = b.cmd.Wait()
		cancel()
		close(b.done)
	}()
	e.t.Cleanup(func() {
		select {
		case <-b.done:
		default:
			_ = syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
			<-b.done
		}
	})
	return b
}

func (b *bgNerd) running() bool {
	select {
	case <-b.done:
		return false
	default:
		return true
	}
}

// wait waits for the command's end and returns its exit code (-1 when it
// was killed by a signal).
func (b *bgNerd) wait(timeout time.Duration) int {
	b.t.Helper()
	select {
	case <-b.done:
	case <-time.After(timeout):
		b.t.Fatalf("nerd %v still runs after %v; stdout %q stderr %q", b.cmd.Args[1:], timeout, b.stdout.String(), b.stderr.String())
	}
	var ee *exec.ExitError
	switch {
	case b.err == nil:
		return 0
	case errors.As(b.err, &ee):
		return ee.ExitCode()
	}
	b.t.Fatalf("nerd %v: %v", b.cmd.Args[1:], b.err)
	return -1
}

// waitLogs waits until `logs name` prints want.
func (e *env) waitLogs(name, want string) {
	e.t.Helper()
	eventually(e.t, 15*time.Second, name+" logging "+want, func() (bool, string) {
		r := e.nerd("logs", name)
		return r.Stdout == want, r.Stdout
	})
}

// A detached -i container keeps its stdin open across attaches (Docker
// sets StdinOnce only for an attached run): one attach's EOF does not end
// the container. --no-stdin attaches the output only.
func TestAttachStdin(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	e.runD("-i", "--name", "cat", "busybox", "cat")
	if r := e.nerdOK("inspect", "-f", "{{.Config.OpenStdin}} {{.Config.StdinOnce}}", "cat"); r.Stdout != "true false\n" {
		t.Errorf("run -d -i: OpenStdin StdinOnce = %q, want true false (Docker)", r.Stdout)
	}
	noIn := e.startNerd(strings.NewReader("pong\n"), "attach", "--no-stdin", "cat")
	shortSleep(500 * time.Millisecond)
	in := e.startNerd(strings.NewReader("ping\n"), "attach", "cat")
	e.waitLogs("cat", "ping\n")
	eventually(t, 10*time.Second, "ping echoed to the attached client", func() (bool, string) {
		return in.stdout.String() == "ping\n", in.stdout.String()
	})
	// The attach's input has ended; the container's stdin stays open.
	shortSleep(1 * time.Second)
	if s := e.status("cat"); s != "running" {
		t.Fatalf("an attach's EOF ended a detached -i container: %q", s)
	}
	if !in.running() || !noIn.running() {
		t.Errorf("attach ended at the end of its input (Docker waits for the container): %v %v", in.running(), noIn.running())
	}
	if r := e.nerdOK("logs", "cat"); strings.Contains(r.Stdout, "pong") {
		t.Errorf("attach --no-stdin passed its input on:\n%s", r)
	}
	// cat as PID 1 ignores SIGTERM: killed after 1 s, both attaches end
	// with its code.
	e.nerdOK("stop", "-t", "1", "cat")
	for _, a := range []*bgNerd{in, noIn} {
		if code := a.wait(20 * time.Second); code != 137 {
			t.Errorf("attach %v exited %d, want the container's 137; stderr %q", a.cmd.Args[1:], code, a.stderr.String())
		}
	}
	if got := noIn.stdout.String(); got != "" && got != "ping\n" {
		t.Errorf("attach --no-stdin printed %q", got)
	}
	e.nerdFail(1, []string{"attach", "cat"}, `You cannot attach to a stopped container, start it first`)
}

// With --sig-proxy=false a signal to the client ends the client (128+n,
// as a process killed by it) and not the container; by default attach and
// run pass it to the container.
func TestSigProxyOff(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	script := `trap 'echo got-term; exit 9' TERM; echo ready; while :; do sleep 1 & wait $!; done`
	run := e.startNerd(nil, "run", "--sig-proxy=false", "--name", "sp", "busybox", "sh", "-c", script)
	e.waitLogs("sp", "ready\n")
	_ = run.cmd.Process.Signal(syscall.SIGTERM)
	if code := run.wait(20 * time.Second); code != 143 {
		t.Errorf("run --sig-proxy=false after SIGTERM: exit %d, want 143; stderr %q", code, run.stderr.String())
	}
	if s := run.stderr.String(); strings.Contains(s, "Error") || strings.Contains(s, "context canceled") {
		t.Errorf("a client ended by a signal prints no error: %q", s)
	}
	shortSleep(500 * time.Millisecond)
	if s := e.status("sp"); s != "running" {
		t.Errorf("run --sig-proxy=false: the signal reached the container (%q)", s)
	}

	a := e.startNerd(nil, "attach", "--sig-proxy=false", "sp")
	shortSleep(1 * time.Second) // attached
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	if code := a.wait(20 * time.Second); code != 143 {
		t.Errorf("attach --sig-proxy=false after SIGTERM: exit %d, want 143; stderr %q", code, a.stderr.String())
	}
	shortSleep(500 * time.Millisecond)
	if s := e.status("sp"); s != "running" {
		t.Errorf("attach --sig-proxy=false: the signal reached the container (%q)", s)
	}
	if r := e.nerdOK("logs", "sp"); r.Stdout != "ready\n" {
		t.Errorf("logs %q: no TERM may have reached the container", r.Stdout)
	}

	a = e.startNerd(nil, "attach", "sp")
	shortSleep(1 * time.Second)
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	if code := a.wait(20 * time.Second); code != 9 {
		t.Errorf("attach (signals proxied) after SIGTERM: exit %d, want 9 from the container's trap; stderr %q", code, a.stderr.String())
	}
	if got := a.stdout.String(); got != "got-term\n" {
		t.Errorf("attach stdout %q, want got-term", got)
	}
}

// attach --detach-keys on a -t container; the default ctrl-p ctrl-q.
func TestAttachDetachKeys(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	e.runD("-it", "--name", "dk", "busybox", "sh")
	p := e.startPty("attach", "--detach-keys", "ctrl-x,x", "dk")
	p.send("echo a-$((1+1))\r")
	p.expect(`a-2`, 20*time.Second)
	p.send("\x10\x11") // the default keys go to the container now
	p.send("echo still-$((2+1))\r")
	p.expect(`still-3`, 10*time.Second)
	e.detach(t, p, "\x18x", "ctrl-x,x", "dk")
	p = e.startPty("attach", "dk")
	p.send("echo b-$((3+4))\r")
	p.expect(`b-7`, 20*time.Second)
	e.detach(t, p, "\x10\x11", "ctrl-p ctrl-q", "dk")
}

// run -it puts the user's terminal in raw mode: ctrl-c is a byte for the
// container's terminal (it interrupts the foreground job inside, not
// nerd), and the terminal is restored when run ends.
func TestRunRawTerminal(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	p := e.startPty("run", "-it", "--name", "raw", "busybox", "sh")
	lflag := func() uint32 {
		tio, err := unix.IoctlGetTermios(int(p.master.Fd()), unix.TCGETS)
		if err != nil {
			t.Fatalf("TCGETS: %v", err)
		}
		return tio.Lflag
	}
	p.send("echo go-$((1+1)); sleep 30\r")
	p.expect(`go-2`, 20*time.Second)
	if l := lflag(); l&(unix.ICANON|unix.ECHO|unix.ISIG) != 0 {
		t.Errorf("run -it: the user's terminal is not raw (lflag %#x)", l)
	}
	p.send("\x03")
	p.send("echo alive-$((2+2))\r")
	p.expect(`alive-4`, 10*time.Second) // sleep 30 was interrupted
	select {
	case <-p.done:
		t.Fatalf("ctrl-c ended nerd run instead of reaching the container")
	default:
	}
	p.send("exit 3\r")
	if code := p.wait(20 * time.Second); code != 3 {
		t.Errorf("run -it exited %d, want the shell's 3", code)
	}
	if l := lflag(); l&(unix.ICANON|unix.ECHO|unix.ISIG) != unix.ICANON|unix.ECHO|unix.ISIG {
		t.Errorf("the user's terminal was not restored after run -it (lflag %#x)", l)
	}
}
