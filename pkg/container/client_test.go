package container

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeMonitor serves one connection with fn on a socket at p.Socket().
func fakeMonitor(t *testing.T, p Paths, fn func(req Request, c net.Conn, r *bufio.Reader)) {
	t.Helper()
	l, err := net.Listen("unix", p.Socket())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				line, err := r.ReadBytes('\n')
				if err != nil {
					return
				}
				var req Request
				if err := json.Unmarshal(line, &req); err != nil {
					t.Errorf("bad request %q", line)
					return
				}
				fn(req, c, r)
			}()
		}
	}()
}

func answer(c net.Conn, r Response) {
	b, _ := json.Marshal(r)
	c.Write(append(b, '\n'))
}

func testPaths(t *testing.T) Paths {
	dir := t.TempDir()
	return Paths{Dir: dir, RunDir: dir, ID: "c1"}
}

func TestNoMonitor(t *testing.T) {
	p := testPaths(t)
	if _, err := Dial(p); !errors.Is(err, ErrNoMonitor) {
		t.Errorf("no socket: %v", err)
	}
	// A stale socket: nobody listens.
	l, err := net.Listen("unix", p.Socket())
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	c, err := Dial(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Kill(context.Background(), 15, true); !errors.Is(err, ErrNoMonitor) {
		t.Errorf("stale socket: %v", err)
	}
}

func TestRequests(t *testing.T) {
	p := testPaths(t)
	got := make(chan Request, 10)
	fakeMonitor(t, p, func(req Request, c net.Conn, r *bufio.Reader) {
		got <- req
		switch req.Op {
		case OpKill:
			if req.Signal == 9 {
				answer(c, Response{Error: "container is not running", NotRunning: true})
				return
			}
			answer(c, Response{OK: true})
		case OpWait:
			code := 42
			answer(c, Response{ExitCode: &code})
		case OpPause:
			// Hang up without answering.
		}
	})
	c, err := Dial(p)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Kill(ctx, 15, true); err != nil {
		t.Error(err)
	}
	if req := <-got; req.Op != OpKill || req.Signal != 15 || !req.Manual {
		t.Errorf("request %+v", req)
	}
	if err := c.Kill(ctx, 9, false); !errors.Is(err, ErrNotRunning) {
		t.Errorf("kill of a stopped container: %v", err)
	}
	<-got
	if code, err := c.Wait(ctx); code != 42 || err != nil {
		t.Errorf("wait: %d %v", code, err)
	}
	<-got
	if err := c.Pause(ctx); !errors.Is(err, ErrNoMonitor) {
		t.Errorf("no answer: %v", err)
	}
}

func TestWaitCancel(t *testing.T) {
	p := testPaths(t)
	fakeMonitor(t, p, func(req Request, c net.Conn, r *bufio.Reader) {
		time.Sleep(2 * time.Second)
	})
	c, _ := Dial(p)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := c.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > time.Second {
		t.Errorf("wait: %v after %v", err, time.Since(start))
	}
}

func TestAttachStream(t *testing.T) {
	// A socket path longer than a sockaddr_un holds.
	p := testPaths(t)
	p.RunDir = filepath.Join(p.RunDir, strings.Repeat("d", 100))
	if err := os.MkdirAll(p.RunDir, 0o700); err != nil {
		t.Fatal(err)
	}
	stdin := make(chan string, 1)
	var resize Resize
	listenDir := p
	// net.Listen cannot bind such a path either: bind through a short link.
	short := filepath.Join(t.TempDir(), "s")
	if err := os.Symlink(p.RunDir, short); err != nil {
		t.Fatal(err)
	}
	listenDir.RunDir = short
	fakeMonitor(t, listenDir, func(req Request, c net.Conn, r *bufio.Reader) {
		if !req.Stdin || !req.Stdout || req.Stderr {
			t.Errorf("attach request %+v", req)
		}
		answer(c, Response{OK: true})
		var in bytes.Buffer
		for {
			id, p, err := ReadFrame(r, nil)
			if err != nil {
				t.Error(err)
				return
			}
			if id == StreamResize {
				json.Unmarshal(p, &resize)
				continue
			}
			if len(p) == 0 {
				break
			}
			in.Write(p)
		}
		stdin <- in.String()
		WriteFrame(c, StreamStdout, []byte("out"))
		WriteFrame(c, StreamStderr, []byte("err"))
		WriteFrame(c, StreamExit, ExitFrame(7))
	})
	c, err := Dial(p)
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.Attach(context.Background(), AttachOptions{Stdin: true, Stdout: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Resize(24, 80)
	big := strings.Repeat("x", 100<<10) // several frames
	if _, err := s.Stdin().Write([]byte(big)); err != nil {
		t.Fatal(err)
	}
	s.CloseStdin()
	var out, errb bytes.Buffer
	code, err := s.Copy(&out, &errb)
	if code != 7 || err != nil || out.String() != "out" || errb.String() != "err" {
		t.Errorf("copy: %d %v %q %q", code, err, out.String(), errb.String())
	}
	if got := <-stdin; got != big {
		t.Errorf("stdin: %d bytes", len(got))
	}
	if resize != (Resize{Height: 24, Width: 80}) {
		t.Errorf("resize %+v", resize)
	}
}

func TestMonitorAlive(t *testing.T) {
	self, err := ProcStartTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	boot, err := BootID()
	if err != nil || boot == "" {
		t.Fatal(err)
	}
	alive := State{MonitorPid: os.Getpid(), MonitorStartTime: self, BootID: boot}
	if !MonitorAlive(&alive) {
		t.Error("self is not alive")
	}
	for name, s := range map[string]State{
		"none":        {},
		"other start": {MonitorPid: os.Getpid(), MonitorStartTime: self + 1, BootID: boot},
		"other boot":  {MonitorPid: os.Getpid(), MonitorStartTime: self, BootID: "00000000-0000-0000-0000-000000000000"},
		"no process":  {MonitorPid: 1 << 22, MonitorStartTime: self, BootID: boot},
	} {
		if MonitorAlive(&s) {
			t.Errorf("%s: alive", name)
		}
	}
	// A dead, unreaped monitor (zombie) is not alive.
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	start, _ := ProcStartTime(cmd.Process.Pid)
	zombie := State{MonitorPid: cmd.Process.Pid, MonitorStartTime: start, BootID: boot}
	deadline := time.Now().Add(5 * time.Second)
	for MonitorAlive(&zombie) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if MonitorAlive(&zombie) {
		t.Error("zombie is alive")
	}
}
