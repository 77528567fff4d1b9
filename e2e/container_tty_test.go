package e2e

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/console"
)

// ptyCmd is a nerd command whose stdin, stdout and stderr are the slave of
// a real pseudo-terminal, with that terminal as its controlling terminal:
// what a user's shell gives `nerd run -it`. The test types into the master
// and reads what the user would see.
type ptyCmd struct {
	t      testing.TB
	cmd    *exec.Cmd
	master console.Console
	mu     sync.Mutex
	out    strings.Builder
	done   chan struct{} // closed when the command has exited
	err    error
}

// detach sends the detach keys on p's terminal (named what for messages):
// the client must exit 0 and leave container name running.
func (e *env) detach(t *testing.T, p *ptyCmd, keys, what, name string) {
	t.Helper()
	p.send(keys)
	if code := p.wait(20 * time.Second); code != 0 {
		t.Fatalf("detach with %s exited %d, want 0", what, code)
	}
	if s := e.status(name); s != "running" {
		t.Fatalf("after detach the container is %q, want running", s)
	}
}

func (e *env) startPty(args ...string) *ptyCmd {
	e.t.Helper()
	master, slavePath, err := console.NewPty()
	if err != nil {
		e.t.Fatalf("opening a pty: %v", err)
	}
	// A terminal that is 100 columns by 30 rows before the command starts.
	if err := master.Resize(console.WinSize{Width: 100, Height: 30}); err != nil {
		e.t.Fatal(err)
	}
	slave, err := os.OpenFile(slavePath, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		e.t.Fatalf("opening %s: %v", slavePath, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), e.Timeout)
	cmd := e.command(ctx, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	// Its own session with the pty as controlling terminal, so a resize of
	// the master sends it SIGWINCH like a terminal emulator does.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	cmd.Cancel = func() error { return cmd.Process.Kill() }
	if err := cmd.Start(); err != nil {
		cancel()
		slave.Close()
		master.Close()
		e.t.Fatalf("starting %v: %v", args, err)
	}
	slave.Close()
	p := &ptyCmd{t: e.t, cmd: cmd, master: master, done: make(chan struct{})}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			p.mu.Lock()
			p.out.Write(buf[:n])
			p.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	go func() {
		p.err = cmd.Wait()
		cancel()
		close(p.done)
	}()
	e.t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
		master.Close()
	})
	return p
}

// send types s into the terminal.
func (p *ptyCmd) send(s string) {
	p.t.Helper()
	if _, err := p.master.Write([]byte(s)); err != nil {
		p.t.Fatalf("typing %q: %v", s, err)
	}
}

// expect waits until the screen output matches re and returns the match.
func (p *ptyCmd) expect(re string, timeout time.Duration) []string {
	p.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(timeout)
	for {
		p.mu.Lock()
		out := p.out.String()
		p.mu.Unlock()
		if m := rx.FindStringSubmatch(out); m != nil {
			return m
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("the terminal never showed %q; it shows:\n%q", re, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// wait waits for the command to exit and returns its exit code.
func (p *ptyCmd) wait(timeout time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.mu.Lock()
		out := p.out.String()
		p.mu.Unlock()
		p.t.Fatalf("the command did not exit within %v; terminal:\n%q", timeout, out)
	}
	if p.err == nil {
		return 0
	}
	if ee, ok := p.err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	p.t.Fatalf("waiting: %v", p.err)
	return -1
}

// `run -it` on a real terminal: the shell inside gets a terminal of the
// user's size, follows a resize, echoes typed input, ctrl-p ctrl-q detaches
// with exit 0 leaving the container running, `attach` reattaches, and the
// shell's exit ends attach with the container's code.
func TestRunInteractiveTerminal(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	p := e.startPty("run", "-it", "--name", "tty", "busybox", "sh")
	p.send("stty size; tty\r")
	p.expect(`30 100\r?\n/dev/pts/0`, 20*time.Second)

	// A resize of the user's terminal reaches the container's.
	if err := p.master.Resize(console.WinSize{Width: 120, Height: 40}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; ; i++ {
		marker := "size" + string(rune('a'+i%26))
		p.send("echo " + marker + " $(stty size)\r")
		m := p.expect(marker+` (\d+ \d+)\r?\n`, 10*time.Second)
		if m[1] == "40 120" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the container's terminal stayed %s after a resize to 40x120", m[1])
		}
		time.Sleep(100 * time.Millisecond)
	}

	// ctrl-p ctrl-q: the client detaches with 0, the shell runs on.
	p.send("\x10\x11")
	if code := p.wait(20 * time.Second); code != 0 {
		t.Fatalf("detach exited %d, want 0", code)
	}
	if s := e.status("tty"); s != "running" {
		t.Fatalf("after detach the container is %q, want running", s)
	}

	// attach brings the same shell back; its exit code ends attach.
	a := e.startPty("attach", "tty")
	a.send("echo back-$((40+2))\r")
	a.expect(`back-42`, 20*time.Second)
	a.send("exit 7\r")
	if code := a.wait(20 * time.Second); code != 7 {
		t.Errorf("attach exited %d when the shell exited 7", code)
	}
	e.waitStatus("tty", "exited", 10*time.Second)
}

// Custom --detach-keys on run: the default sequence is then passed to the
// container, the custom one detaches.
func TestRunDetachKeys(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	p := e.startPty("run", "-it", "--detach-keys", "ctrl-x,x", "--name", "dk", "busybox", "sh")
	p.send("echo ready-$((1+1))\r")
	p.expect(`ready-2`, 20*time.Second)
	p.send("\x10\x11")
	p.send("echo still-$((2+1))\r")
	p.expect(`still-3`, 10*time.Second)
	e.detach(t, p, "\x18x", "ctrl-x,x", "dk")
}
