package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nerd-project/nerd/pkg/container"
)

// The socket is served with raw syscalls on *os.File (pollable, so it
// shares the runtime's poller) instead of package net, which would link
// cgo's resolver and grow the monitor.

// listenUnix listens on a fresh socket at path, mode 0600.
func listenUnix(path string) (*os.File, error) {
	_ = os.Remove(path) // stale, from a monitor that was killed
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	name := path
	if len(path) >= 100 { // sockaddr_un holds 108 bytes: go through the directory's fd
		dir, err := unix.Open(filepath.Dir(path), unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			unix.Close(fd)
			return nil, err
		}
		defer unix.Close(dir)
		name = "/proc/self/fd/" + strconv.Itoa(dir) + "/" + filepath.Base(path)
	}
	// The umask makes the socket 0600 from the start (no window between
	// bind and chmod); nothing else creates files concurrently yet.
	old := unix.Umask(0o177)
	err = unix.Bind(fd, &unix.SockaddrUnix{Name: name})
	unix.Umask(old)
	if err == nil {
		err = unix.Listen(fd, 64)
	}
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), path), nil
}

func (m *monitor) startServing() {
	m.serveDone = make(chan struct{})
	go m.serve(m.listener)
}

// serve accepts connections until the listener is closed.
func (m *monitor) serve(l *os.File) {
	defer close(m.serveDone)
	rc, err := l.SyscallConn()
	if err != nil {
		return
	}
	for {
		var nfd int
		var aerr error
		err := rc.Read(func(fd uintptr) bool {
			nfd, _, aerr = unix.Accept4(int(fd), unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
			return aerr != unix.EAGAIN
		})
		if err != nil {
			return // closed
		}
		if aerr != nil {
			if aerr == unix.EMFILE || aerr == unix.ENFILE {
				time.Sleep(100 * time.Millisecond)
			}
			continue
		}
		m.conns.Add(1)
		go m.handle(os.NewFile(uintptr(nfd), "conn"))
	}
}

// stopServing removes the socket, then serves the connections that made it
// into the backlog before (a client that connected must get its answer,
// not a reset), and closes the listener.
func (m *monitor) stopServing() {
	_ = os.Remove(m.p.Socket())
	if rc, err := m.listener.SyscallConn(); err == nil {
		for {
			nfd := -1
			_ = rc.Control(func(fd uintptr) {
				nfd, _, _ = unix.Accept4(int(fd), unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
			})
			if nfd < 0 {
				break
			}
			m.conns.Add(1)
			go m.handle(os.NewFile(uintptr(nfd), "conn"))
		}
	}
	m.listener.Close()
	if m.serveDone != nil {
		<-m.serveDone
	}
}

func respond(c *os.File, r container.Response) error {
	b, _ := json.Marshal(r)
	_, err := c.Write(append(b, '\n'))
	return err
}

func errorResponse(msg string) container.Response { return container.Response{Error: msg} }

var notRunning = container.Response{Error: "container is not running", NotRunning: true}

// handle serves one connection: one request line, one answer (and frames
// for attach and exec).
func (m *monitor) handle(c *os.File) {
	defer m.conns.Done()
	// A client that connects and says nothing must not pin a goroutine.
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReaderSize(c, 4096)
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		if err == bufio.ErrBufferFull && len(line) < container.MaxFrame {
			continue
		}
		if err != nil {
			c.Close()
			return
		}
		break
	}
	_ = c.SetReadDeadline(time.Time{})
	var req request
	if err := json.Unmarshal(line, &req); err != nil {
		_ = respond(c, errorResponse("bad request: "+err.Error()))
		c.Close()
		return
	}
	switch req.Op {
	case container.OpAttach:
		m.serveAttach(c, br, &req)
		return
	case container.OpExec:
		m.serveExec(c, br, &req)
		return
	case container.OpWait:
		m.serveWait(c)
	case container.OpKill:
		_ = respond(c, m.kill(unix.Signal(req.Signal), req.Manual))
	case container.OpPause:
		_ = respond(c, m.pause(true))
	case container.OpResume:
		_ = respond(c, m.pause(false))
	case container.OpUpdate:
		_ = respond(c, m.update(&req))
	case container.OpRestartPolicy:
		_ = respond(c, m.setPolicy(&req))
	default:
		_ = respond(c, errorResponse("unknown op "+strconv.Quote(req.Op)))
	}
	c.Close()
}

func (m *monitor) serveWait(c *os.File) {
	<-m.done
	m.mu.Lock()
	code := m.exitCode
	m.mu.Unlock()
	_ = respond(c, container.Response{ExitCode: &code})
}

// kill signals the init. A manual kill marks the container manually
// stopped, and one that arrives while a restart is pending cancels it.
func (m *monitor) kill(sig unix.Signal, manual bool) container.Response {
	if sig <= 0 || sig > 64 {
		return errorResponse("invalid signal " + strconv.Itoa(int(sig)))
	}
	m.mu.Lock()
	if m.finished {
		m.mu.Unlock()
		return notRunning
	}
	changed := manual && !m.st.ManuallyStopped
	if manual {
		m.st.ManuallyStopped = true
		if m.cancel != nil {
			close(m.cancel)
			m.cancel = nil
		}
	}
	pid, alive := m.initPid, m.running
	paused := m.st.Status == container.StatusPaused
	m.mu.Unlock()
	if manual {
		// A user stopping a --wait-attach container whose client never
		// came (it was killed) must not wait for the gate's timeout.
		m.openGate()
	}
	if alive {
		// Reaped meanwhile: it is exiting anyway.
		if err := m.reaper.kill(pid, sig); err != nil && !errors.Is(err, errReaped) {
			return errorResponse("killing container: " + err.Error())
		}
		if paused && sig == unix.SIGKILL {
			// A frozen process does not die until thawed.
			_, _ = m.pauseOp(false)
		}
	}
	if changed {
		if err := m.save(); err != nil {
			logf("recording manual stop: %v", err)
		}
	}
	return container.Response{OK: true}
}

func (m *monitor) pause(pause bool) container.Response {
	m.mu.Lock()
	running, status := m.running && !m.restarting, m.st.Status
	m.mu.Unlock()
	if !running {
		return notRunning
	}
	if pause && status == container.StatusPaused {
		return errorResponse("container is already paused")
	}
	if !pause && status != container.StatusPaused {
		return errorResponse("container is not paused")
	}
	if resp, err := m.pauseOp(pause); err != nil || resp.Error != "" {
		return resp
	}
	if err := m.save(); err != nil {
		logf("recording pause state: %v", err)
	}
	return container.Response{OK: true}
}

// pauseOp freezes or thaws through the helper and records the status in
// memory (if the init still runs).
func (m *monitor) pauseOp(pause bool) (container.Response, error) {
	op, status := opResume, container.StatusRunning
	if pause {
		op, status = opPause, container.StatusPaused
	}
	res, err := m.helper(helperCall{op: op})
	if err != nil {
		return errorResponse(err.Error()), err
	}
	if res.Error != "" {
		return container.Response{Error: res.Error, NotRunning: res.NotRunning}, nil
	}
	m.mu.Lock()
	if m.running {
		m.st.Status = status
	}
	m.mu.Unlock()
	return container.Response{OK: true}, nil
}

func (m *monitor) update(req *request) container.Response {
	if len(req.Resources) == 0 {
		return errorResponse("update: no resources")
	}
	m.mu.Lock()
	running := m.running && !m.restarting
	m.mu.Unlock()
	if !running {
		return notRunning
	}
	res, err := m.helper(helperCall{op: opUpdate, resources: req.Resources})
	if err != nil {
		return errorResponse(err.Error())
	}
	if res.Error != "" {
		return container.Response{Error: res.Error, NotRunning: res.NotRunning}
	}
	return container.Response{OK: true}
}

func (m *monitor) setPolicy(req *request) container.Response {
	if req.RestartPolicy == nil {
		return errorResponse("restartpolicy: no policy")
	}
	m.mu.Lock()
	m.policy = *req.RestartPolicy
	m.mu.Unlock()
	return container.Response{OK: true}
}

// serveAttach streams the container's output to c and its input from c
// until the container ends for good or the client leaves.
func (m *monitor) serveAttach(c *os.File, br *bufio.Reader, req *request) {
	cl := &client{f: c, stdout: req.Stdout, stderr: req.Stderr}
	if m.rec.Config.Tty {
		cl.stderr = false // a terminal has one output stream
	}
	if err := respond(c, container.Response{OK: true}); err != nil {
		c.Close()
		return
	}
	if !m.addClient(cl) {
		m.mu.Lock()
		code := m.exitCode
		m.mu.Unlock()
		cl.exit(code)
		return
	}
	m.openGate()
	buf := make([]byte, 4096)
	for {
		id, p, err := container.ReadFrame(br, buf)
		if err != nil {
			break
		}
		switch id {
		case container.StreamStdin:
			if !req.Stdin {
				continue
			}
			if len(p) == 0 {
				m.closeStdin()
			} else {
				m.writeStdin(p)
			}
		case container.StreamResize:
			var r container.Resize
			if json.Unmarshal(p, &r) == nil {
				m.mu.Lock()
				tty := m.tty
				m.mu.Unlock()
				resizeTTY(tty, r)
			}
		}
	}
	m.removeClient(cl)
}
