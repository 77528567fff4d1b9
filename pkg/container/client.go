package container

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The client side of the monitor protocol (see protocol.go). It uses raw
// unix sockets wrapped in *os.File rather than package net: the monitor
// links this package, and net would pull cgo and its resolver into the
// monitor, whose memory is a benchmarked figure.

var (
	// ErrNoMonitor means no monitor answers on the container's socket
	// (none was started, or it died): the caller reconciles the state.
	ErrNoMonitor = errors.New("container monitor is not running")
	// ErrNotRunning is wrapped by the monitor's answer when the request
	// needs a running container.
	ErrNotRunning = errors.New("container is not running")
)

// RequestError is a failure reported by the monitor. Code is 126 or 127
// when an exec'd process could not be invoked or was not found.
type RequestError struct {
	Msg        string
	Code       int
	notRunning bool
}

func (e *RequestError) Error() string { return e.Msg }

// Unwrap makes errors.Is(err, ErrNotRunning) work.
func (e *RequestError) Unwrap() error {
	if e.notRunning {
		return ErrNotRunning
	}
	return nil
}

// Client talks to one container's monitor. It holds no connection: every
// request opens its own, so a Client needs no Close (Close exists for
// symmetry).
type Client struct {
	path string
}

// Dial returns a client for the monitor of the container at p, or
// ErrNoMonitor when its socket does not exist. A stale socket (a killed
// monitor) is reported as ErrNoMonitor by the first request.
func Dial(p Paths) (*Client, error) {
	path := p.Socket()
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, ErrNoMonitor
		}
		return nil, err
	}
	return &Client{path: path}, nil
}

// Close does nothing; see Client.
func (c *Client) Close() error { return nil }

// AttachOptions select the streams of Attach.
type AttachOptions struct {
	Stdin, Stdout, Stderr bool
}

// ExecOptions tune Exec.
type ExecOptions struct {
	// Detach starts the process and returns at once (exec -d).
	Detach bool
	// Stdin connects the stream's stdin to the process (exec -i).
	Stdin bool
}

// Kill sends signal sig to the container's init. manual marks the
// container manually stopped (user stop/kill) so the restart policy does
// not bring it back; a kill while the container waits to be restarted
// cancels the restart.
func (c *Client) Kill(ctx context.Context, sig int, manual bool) error {
	return c.simple(ctx, &Request{Op: OpKill, Signal: sig, Manual: manual})
}

// Wait blocks until the container has exited for good and returns its exit
// code.
func (c *Client) Wait(ctx context.Context) (int, error) {
	resp, err := c.call(ctx, &Request{Op: OpWait})
	if err != nil {
		return 0, err
	}
	if resp.ExitCode == nil {
		return 0, fmt.Errorf("monitor answered wait without an exit code")
	}
	return *resp.ExitCode, nil
}

// Pause freezes the container.
func (c *Client) Pause(ctx context.Context) error {
	return c.simple(ctx, &Request{Op: OpPause})
}

// Resume thaws it.
func (c *Client) Resume(ctx context.Context) error {
	return c.simple(ctx, &Request{Op: OpResume})
}

// Update applies new cgroup limits to the running container. The engine
// also rewrites config.json, which a restart by the policy reads again.
func (c *Client) Update(ctx context.Context, r *specs.LinuxResources) error {
	return c.simple(ctx, &Request{Op: OpUpdate, Resources: r})
}

// SetRestartPolicy replaces the policy the monitor applies when the
// container exits (update --restart).
func (c *Client) SetRestartPolicy(ctx context.Context, p RestartPolicy) error {
	return c.simple(ctx, &Request{Op: OpRestartPolicy, RestartPolicy: &p})
}

// Attach connects to the container's stdio. ctx bounds the handshake only;
// the stream lives until Close or the container's exit.
func (c *Client) Attach(ctx context.Context, opts AttachOptions) (*Stream, error) {
	s, _, err := c.open(ctx, &Request{Op: OpAttach, Stdin: opts.Stdin, Stdout: opts.Stdout, Stderr: opts.Stderr})
	return s, err
}

// Exec runs proc in the container. Without Detach the stream carries its
// stdio and ends with its exit code (127/126 with Docker's message on
// stderr when it cannot be run). With Detach the returned stream carries
// nothing: only Pid is set. A detached process that cannot be run returns
// a *RequestError with Code 127 or 126.
func (c *Client) Exec(ctx context.Context, proc *specs.Process, opts ExecOptions) (*Stream, error) {
	s, resp, err := c.open(ctx, &Request{Op: OpExec, Process: proc, Detach: opts.Detach, Stdin: opts.Stdin})
	if err != nil {
		return nil, err
	}
	s.pid = resp.Pid
	if opts.Detach {
		s.Close()
	}
	return s, nil
}

func (c *Client) simple(ctx context.Context, req *Request) error {
	_, err := c.call(ctx, req)
	return err
}

func (c *Client) call(ctx context.Context, req *Request) (*Response, error) {
	s, resp, err := c.open(ctx, req)
	if err != nil {
		return nil, err
	}
	s.Close()
	return resp, nil
}

// open sends req and reads the answer; on success the connection stays
// open in the returned Stream.
func (c *Client) open(ctx context.Context, req *Request) (*Stream, *Response, error) {
	f, err := dialUnix(c.path)
	if err != nil {
		return nil, nil, err
	}
	// A cancelled context expires the deadline, which unblocks a pending
	// read or write (closing could race with a reuse of the fd).
	stop := context.AfterFunc(ctx, func() { f.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	line, err := json.Marshal(req)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	br := bufio.NewReader(f)
	var resp Response
	if _, err = f.Write(append(line, '\n')); err == nil {
		var ans []byte
		if ans, err = br.ReadSlice('\n'); err == nil {
			err = json.Unmarshal(ans, &resp)
		}
	}
	if err != nil {
		f.Close()
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		if errors.Is(err, io.EOF) || errors.Is(err, unix.ECONNRESET) || errors.Is(err, unix.EPIPE) {
			// The monitor went away without answering.
			return nil, nil, fmt.Errorf("%w (connection closed)", ErrNoMonitor)
		}
		return nil, nil, fmt.Errorf("container monitor: %w", err)
	}
	if resp.Error != "" {
		f.Close()
		return nil, nil, &RequestError{Msg: resp.Error, Code: resp.Code, notRunning: resp.NotRunning}
	}
	return &Stream{f: f, br: br}, &resp, nil
}

// Stream is an attach or exec session: stdin goes out through Write (or
// Stdin()), output comes in through Copy.
type Stream struct {
	f   *os.File
	br  *bufio.Reader
	pid int

	wmu  sync.Mutex
	wbuf []byte
}

// Pid is the exec'd process's pid (0 for attach).
func (s *Stream) Pid() int { return s.pid }

// Stdin is the stream's stdin writer (the Stream itself).
func (s *Stream) Stdin() io.Writer { return s }

// Write sends p to the process's stdin.
func (s *Stream) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		chunk := p
		if len(chunk) > 32<<10 {
			chunk = chunk[:32<<10]
		}
		if err := s.send(StreamStdin, chunk); err != nil {
			return n, err
		}
		n += len(chunk)
		p = p[len(chunk):]
	}
	return n, nil
}

// CloseStdin tells the monitor the input is over. For attach it closes the
// container's stdin only if the container was created with StdinOnce (as
// Docker); for exec it always closes the process's stdin.
func (s *Stream) CloseStdin() error { return s.send(StreamStdin, nil) }

// Resize sets the terminal size of a container or exec with a TTY.
func (s *Stream) Resize(height, width int) error {
	b, _ := json.Marshal(Resize{Height: uint16(height), Width: uint16(width)})
	return s.send(StreamResize, b)
}

func (s *Stream) send(id byte, p []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.f == nil {
		return os.ErrClosed
	}
	s.wbuf = AppendFrame(s.wbuf[:0], id, p)
	_, err := s.f.Write(s.wbuf)
	return err
}

// Copy writes the output to stdout and stderr (either may be nil to drop
// it) until the exit frame, and returns the exit code. A stream that ends
// without one (the monitor died, or Close was called) is an error.
func (s *Stream) Copy(stdout, stderr io.Writer) (int, error) {
	if s.f == nil {
		return 0, os.ErrClosed
	}
	buf := make([]byte, 32<<10)
	for {
		id, p, err := ReadFrame(s.br, buf)
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, unix.ECONNRESET) {
				return 0, fmt.Errorf("%w (stream ended without an exit status)", ErrNoMonitor)
			}
			return 0, err
		}
		var w io.Writer
		switch id {
		case StreamStdout:
			w = stdout
		case StreamStderr:
			w = stderr
		case StreamExit:
			var st ExitStatus
			if err := json.Unmarshal(p, &st); err != nil {
				return 0, fmt.Errorf("monitor sent a bad exit frame: %w", err)
			}
			return st.ExitCode, nil
		}
		if w != nil {
			if _, err := w.Write(p); err != nil {
				return 0, err
			}
		}
	}
}

// Close ends the session (detaches); the container or exec'd process
// keeps running.
func (s *Stream) Close() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}

// dialUnix connects to a unix stream socket and returns it as a pollable
// *os.File (deadlines work, so contexts can cancel it).
func dialUnix(path string) (*os.File, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	err = withSocketPath(path, func(p string) error {
		for {
			err := unix.Connect(fd, &unix.SockaddrUnix{Name: p})
			if err != unix.EINTR {
				return err
			}
		}
	})
	if err != nil {
		unix.Close(fd)
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ECONNREFUSED) {
			return nil, ErrNoMonitor
		}
		return nil, fmt.Errorf("connecting to container monitor: %w", err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), path), nil
}

// withSocketPath calls fn with a name for path that fits in a sockaddr_un
// (108 bytes): a longer path is reached through /proc/self/fd/N/<base> of
// its directory.
func withSocketPath(path string, fn func(string) error) error {
	if len(path) < 100 {
		return fn(path)
	}
	dir, err := unix.Open(filepath.Dir(path), unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(dir)
	return fn("/proc/self/fd/" + strconv.Itoa(dir) + "/" + filepath.Base(path))
}

// MonitorAlive reports whether the monitor recorded in s still runs: the
// same boot, and a live process with that pid and the recorded start time
// (so a reused pid does not count). The engine reconciles a running state
// whose monitor is not alive to exited.
func MonitorAlive(s *State) bool {
	if s == nil || s.MonitorPid <= 0 {
		return false
	}
	if s.BootID != "" {
		if id, err := BootID(); err == nil && id != s.BootID {
			return false
		}
	}
	start, state, err := procStat(s.MonitorPid)
	if err != nil || state == 'Z' || state == 'X' {
		return false
	}
	return start == s.MonitorStartTime
}

// ProcStartTime is a process's start time in clock ticks since boot
// (field 22 of /proc/<pid>/stat).
func ProcStartTime(pid int) (uint64, error) {
	start, _, err := procStat(pid)
	return start, err
}

func procStat(pid int) (start uint64, state byte, err error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, err
	}
	// The command name (field 2) may hold spaces and parentheses: the
	// fields that follow start after its last ')'.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("bad /proc/%d/stat", pid)
	}
	fields := strings.Fields(string(data[i+1:]))
	// fields[0] is field 3 (state), so field 22 is fields[19].
	if len(fields) < 20 || len(fields[0]) != 1 {
		return 0, 0, fmt.Errorf("bad /proc/%d/stat", pid)
	}
	start, err = strconv.ParseUint(fields[19], 10, 64)
	return start, fields[0][0], err
}

// BootID identifies the current boot (/proc/sys/kernel/random/boot_id).
func BootID() (string, error) {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	return strings.TrimSpace(string(b)), err
}
