package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nerd-project/nerd/pkg/container"
)

// Once the container runs, the monitor re-executes itself (same pid, so it
// stays the parent and subreaper of the container) and idles in a fresh
// process image. The start (record and spec handling, the overlay mount,
// the helper run, the state writes) leaves the Go heap fragmented over
// dozens of size classes and several idle OS threads with their stacks;
// nothing of that can be handed back to the kernel, and it would be most of
// what an idle container costs. The fresh image holds only what serving
// needs. The handover happens after the start result is reported, so it is
// not on the start's critical path; connections made meanwhile wait in the
// listener's backlog.

// resumeState is what the first image hands to the second (--resume).
type resumeState struct {
	Runc      string            `json:"runc"`
	Pid       int               `json:"pid"`
	StartedAt time.Time         `json:"startedAt"`
	Cgroups   map[string]string `json:"cgroups,omitempty"`
	// File descriptors, kept open across the exec; -1 when absent.
	Listener int  `json:"listener"`
	Stdin    int  `json:"stdin"`
	Stdout   int  `json:"stdout"` // the pty master when TTY
	Stderr   int  `json:"stderr"`
	TTY      bool `json:"tty,omitempty"`
	// GateUntil is when --wait-attach gives up waiting (zero: open).
	GateUntil time.Time `json:"gateUntil,omitempty"`
}

// reexec replaces the process image with a fresh monitor serving the
// running container. It returns only if the exec failed (the caller then
// carries on in this image).
func (m *monitor) reexec(o options, gateUntil time.Time) error {
	rs := resumeState{
		Runc: m.runc, Pid: m.initPid, StartedAt: m.startedAt, Cgroups: m.cgroups,
		Listener: -1, Stdin: -1, Stdout: -1, Stderr: -1, TTY: m.tty != nil, GateUntil: gateUntil,
	}
	stdin := m.stdin
	if stdin == m.tty {
		stdin = nil // the pty master is passed as stdout
	}
	var inherited []int
	for _, x := range []struct {
		f   *os.File
		dst *int
	}{{m.listener, &rs.Listener}, {stdin, &rs.Stdin}, {m.outR, &rs.Stdout}, {m.errR, &rs.Stderr}} {
		if x.f == nil {
			continue
		}
		fd, err := rawFd(x.f)
		if err != nil {
			return err
		}
		*x.dst = fd
		inherited = append(inherited, fd)
	}
	blob, err := json.Marshal(rs)
	if err != nil {
		return err
	}
	for _, fd := range inherited {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0); err != nil {
			return err
		}
	}
	args := []string{os.Args[0], "--id", o.id, "--dir", o.dir, "--run-dir", o.runDir, "--resume", string(blob)}
	// GOMAXPROCS from the environment applies before the runtime starts
	// its first threads; main's runtime.GOMAXPROCS(1) comes too late to
	// keep the startup from spinning up one per CPU.
	env := []string{"GOMAXPROCS=1"}
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "GOMAXPROCS=") {
			env = append(env, e)
		}
	}
	err = syscall.Exec("/proc/self/exe", args, env)
	for _, fd := range inherited {
		unix.CloseOnExec(fd)
	}
	return err
}

// rawFd is f's descriptor without f.Fd(), which would switch a pollable
// file to blocking mode (and the flag would survive the exec).
func rawFd(f *os.File) (int, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	if err := rc.Control(func(u uintptr) { fd = int(u) }); err != nil {
		return -1, err
	}
	return fd, nil
}

// resume is the second image: adopt the running container and serve it.
func (m *monitor) resume(blob string) int {
	// exec of /proc/self/exe named the process "exe"; /proc/<pid>/comm
	// is the main thread's name.
	_ = os.WriteFile("/proc/self/comm", []byte("nerd-shim"), 0)
	var rs resumeState
	if err := json.Unmarshal([]byte(blob), &rs); err != nil {
		logf("bad --resume: %v", err)
		return 2
	}
	file := func(fd int, name string) *os.File {
		if fd < 0 {
			return nil
		}
		unix.CloseOnExec(fd)
		return os.NewFile(uintptr(fd), name)
	}
	m.runc = rs.Runc
	m.listener = file(rs.Listener, "listener")
	m.outR = file(rs.Stdout, "stdout")
	m.errR = file(rs.Stderr, "stderr")
	m.stdin = file(rs.Stdin, "stdin")
	if rs.TTY {
		m.tty, m.stdin = m.outR, m.outR
	}
	m.initPid, m.startedAt, m.cgroups = rs.Pid, rs.StartedAt, rs.Cgroups
	m.initExit = m.reaper.expect(rs.Pid)
	m.running, m.lcExists, m.mounted = true, true, true
	// The init may have exited during the exec: its zombie waits for us.
	m.reaper.reap()
	if rs.GateUntil.IsZero() {
		m.openGate()
	} else {
		time.AfterFunc(time.Until(rs.GateUntil), m.openGate)
	}
	err := m.load()
	if err == nil {
		err = m.openLog()
	}
	if err != nil {
		// The container runs: keep serving it without what failed.
		logf("resuming: %v", err)
		if m.rec == nil {
			m.rec = &record{}
		}
	}
	if m.st.MonitorPid != os.Getpid() {
		m.st.Status, m.st.Pid, m.st.StartedAt = container.StatusRunning, rs.Pid, rs.StartedAt
		m.st.MonitorPid = os.Getpid()
		m.st.MonitorStartTime, _ = container.ProcStartTime(os.Getpid())
		m.st.BootID, _ = container.BootID()
	}
	if m.listener == nil {
		return m.abandon(errors.New("no listener"))
	}
	m.startPumps()
	m.startServing()
	m.supervise()
	return 0
}

// load reads the record and the state the first image wrote.
func (m *monitor) load() error {
	rec, err := readRecord(m.p)
	if err != nil {
		return fmt.Errorf("reading container record: %w", err)
	}
	m.rec = rec
	m.policy = rec.HostConfig.RestartPolicy
	st, err := container.ReadState(m.p)
	if err != nil {
		return err
	}
	m.st = *st
	return nil
}

// abandon gives up on a container it cannot serve: it kills the init and
// records the failure.
func (m *monitor) abandon(err error) int {
	logf("%v", err)
	m.st.ManuallyStopped = true // no restart either
	_ = m.reaper.kill(m.initPid, unix.SIGKILL)
	m.supervise()
	return 1
}
