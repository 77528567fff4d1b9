package main

import (
	"errors"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nerd-project/nerd/pkg/container"
)

// Read buffers are taken only while data is ready and given back at once:
// an idle container's pumps hold no buffer, and the pool is emptied by the
// GC, so a container that printed a burst long ago does not keep 32 KiB
// per stream resident.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// pump copies one output fd (pipe or pty master) to emit until EOF, or
// until drain: the process exited, so it reads what is left without
// waiting for writers that may never close (processes of a shared pid
// namespace, background children of an exec).
type pump struct {
	f    *os.File
	done chan struct{}
}

func startPump(f *os.File, gate <-chan struct{}, emit func([]byte)) *pump {
	p := &pump{f: f, done: make(chan struct{})}
	go p.run(gate, emit)
	return p
}

func (p *pump) run(gate <-chan struct{}, emit func([]byte)) {
	defer close(p.done)
	defer p.f.Close()
	if gate != nil {
		<-gate
	}
	rc, err := p.f.SyscallConn()
	if err != nil {
		return
	}
	draining := false
	for {
		var buf *[]byte
		var n int
		var rerr error
		read := func(fd uintptr) bool {
			buf = bufPool.Get().(*[]byte)
			n, rerr = unix.Read(int(fd), *buf)
			if rerr == unix.EAGAIN {
				// Nothing yet: do not hold the buffer while waiting.
				bufPool.Put(buf)
				buf = nil
				return false
			}
			return true
		}
		if draining {
			err = rc.Control(func(fd uintptr) { read(fd) })
		} else {
			err = rc.Read(read)
		}
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) && !draining {
				draining = true
				continue
			}
			return
		}
		if buf == nil { // drained: nothing left
			return
		}
		if n > 0 {
			emit((*buf)[:n])
		}
		bufPool.Put(buf)
		// n == 0 is EOF; a pty master reads EIO once the terminal is
		// closed; EINTR just retries.
		if rerr == unix.EINTR {
			continue
		}
		if n == 0 || rerr != nil {
			return
		}
	}
}

// drain makes the pump read what is buffered and stop.
func (p *pump) drain() {
	_ = p.f.SetReadDeadline(time.Now())
	<-p.done
}

// client is one connection receiving frames (an attach, or an exec).
type client struct {
	f              *os.File
	stdout, stderr bool

	mu   sync.Mutex
	buf  []byte
	dead bool
}

func (c *client) wants(id byte) bool {
	return id == container.StreamStdout && c.stdout || id == container.StreamStderr && c.stderr
}

// send writes one frame. A failed write (the client went away) closes the
// connection, which also ends the client's reader.
func (c *client) send(id byte, p []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		return
	}
	c.buf = container.AppendFrame(c.buf[:0], id, p)
	if _, err := c.f.Write(c.buf); err != nil {
		c.dead = true
		c.f.Close()
	}
	if cap(c.buf) > 64<<10 {
		c.buf = nil
	}
}

// exit sends the exit frame and closes the connection.
func (c *client) exit(code int) {
	c.send(container.StreamExit, container.ExitFrame(code))
	c.close()
}

func (c *client) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.dead {
		c.dead = true
		c.f.Close()
	}
}

// output is the container's output: log it, then hand it to the attached
// clients. A stalled client stalls the container, as in Docker.
func (m *monitor) output(id byte, log io.Writer, p []byte) {
	if log != nil {
		_, _ = log.Write(p)
	}
	m.cmu.Lock()
	defer m.cmu.Unlock()
	for c := range m.clients {
		if c.wants(id) {
			c.send(id, p)
		}
	}
}

// addClient registers an attach; false means the container already ended
// (the caller sends the exit frame itself).
func (m *monitor) addClient(c *client) bool {
	m.cmu.Lock()
	defer m.cmu.Unlock()
	if m.clientsEnded {
		return false
	}
	m.clients[c] = struct{}{}
	return true
}

func (m *monitor) removeClient(c *client) {
	m.cmu.Lock()
	delete(m.clients, c)
	m.cmu.Unlock()
	c.close()
}

// startPumps starts copying the init's output: stdout and stderr, or the
// pty master as stdout.
func (m *monitor) startPumps() {
	stdout, stderr := m.outR, m.errR
	m.outR, m.errR = nil, nil
	var logOut, logErr io.Writer
	if m.logw != nil {
		logOut, logErr = m.logw.Stream("stdout"), m.logw.Stream("stderr")
	}
	m.pumps = m.pumps[:0]
	m.pumps = append(m.pumps, startPump(stdout, m.gate, func(p []byte) { m.output(container.StreamStdout, logOut, p) }))
	if stderr != nil {
		m.pumps = append(m.pumps, startPump(stderr, m.gate, func(p []byte) { m.output(container.StreamStderr, logErr, p) }))
	}
}

// endRun drains the init's output after it exited and closes its stdin.
func (m *monitor) endRun() {
	for _, p := range m.pumps {
		p.drain()
	}
	m.pumps = m.pumps[:0]
	m.mu.Lock()
	if m.stdin != nil && m.stdin != m.tty {
		m.stdin.Close()
	}
	m.stdin, m.tty = nil, nil // the pump closed the pty master
	m.mu.Unlock()
}

// writeStdin feeds the container's stdin.
func (m *monitor) writeStdin(p []byte) {
	m.mu.Lock()
	w := m.stdin
	m.mu.Unlock()
	if w != nil {
		_, _ = w.Write(p)
	}
}

// closeStdin ends the container's stdin when an attached client's input
// ends, if the container was created with StdinOnce (docker run -i): a
// later attach of a container with an open stdin keeps it open, as in
// Docker. A terminal has no half-close: it stays open.
func (m *monitor) closeStdin() {
	if !m.rec.Config.StdinOnce {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stdin != nil && m.stdin != m.tty {
		m.stdin.Close()
		m.stdin = nil
	}
}

// resizeTTY sets the window size of a pty master.
func resizeTTY(master *os.File, r container.Resize) {
	if master == nil {
		return
	}
	rc, err := master.SyscallConn()
	if err != nil {
		return
	}
	// Through Control, not Fd(): Fd would switch the pollable file to
	// blocking mode.
	_ = rc.Control(func(fd uintptr) {
		_ = unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, &unix.Winsize{Row: r.Height, Col: r.Width})
	})
}
