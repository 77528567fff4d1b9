package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nerd-project/nerd/cmd/nerd-shim/internal/runcapi"
)

const (
	opStart   = runcapi.OpStart
	opExec    = runcapi.OpExec
	opPause   = runcapi.OpPause
	opResume  = runcapi.OpResume
	opUpdate  = runcapi.OpUpdate
	opDestroy = runcapi.OpDestroy
)

// startError is a failed start with Docker's exit code (127, 126 or 125).
type startError struct {
	msg  string
	code int
}

func (e *startError) Error() string { return e.msg }

// helperCall is one run of nerd-shim-runc.
type helperCall struct {
	op        string
	stdio     [3]*os.File     // nil: /dev/null
	console   *os.File        // the helper's end of the console socket
	process   json.RawMessage // specs.Process
	resources json.RawMessage // specs.LinuxResources
	noTTY     bool            // run process without its terminal
}

// helper runs nerd-shim-runc and returns its result. The error is for the
// helper itself failing; a failed operation is in Result.Error.
func (m *monitor) helper(call helperCall) (runcapi.Result, error) {
	var res runcapi.Result
	req, err := json.Marshal(runcapi.Request{
		Root: m.p.RuncRoot(), ID: m.p.ID, Bundle: m.p.Dir,
		Console: call.console != nil, Process: call.process, Resources: call.resources, NoTerminal: call.noTTY,
	})
	if err != nil {
		return res, err
	}
	reqR, reqW, err := os.Pipe()
	if err != nil {
		return res, err
	}
	defer reqW.Close()
	resR, resW, err := os.Pipe()
	if err != nil {
		reqR.Close()
		return res, err
	}
	defer resR.Close()
	files := []*os.File{call.stdio[0], call.stdio[1], call.stdio[2], reqR, resW}
	if call.console != nil {
		files = append(files, call.console)
	}
	var devnull *os.File
	for i := 0; i < 3; i++ {
		if files[i] == nil {
			if devnull == nil {
				if devnull, err = os.OpenFile(os.DevNull, os.O_RDWR, 0); err != nil {
					reqR.Close()
					resW.Close()
					return res, err
				}
				defer devnull.Close()
			}
			files[i] = devnull
		}
	}
	proc, err := os.StartProcess(m.runc, []string{"nerd-shim-runc", call.op}, &os.ProcAttr{Dir: "/", Files: files})
	reqR.Close()
	resW.Close()
	if err != nil {
		return res, fmt.Errorf("running nerd-shim-runc: %w", err)
	}
	exited := m.reaper.expect(proc.Pid)
	_ = proc.Release()
	// The request is a few KiB at most: it fits in the pipe.
	_, _ = reqW.Write(req)
	reqW.Close()
	out, _ := io.ReadAll(resR)
	ws := <-exited
	if len(bytes.TrimSpace(out)) == 0 {
		return res, fmt.Errorf("nerd-shim-runc %s failed (exit code %d)", call.op, exitStatus(ws))
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return res, fmt.Errorf("nerd-shim-runc %s: bad result: %w", call.op, err)
	}
	return res, nil
}

// startInit creates the container and runs its init, with its stdio
// connected to the monitor (the caller starts the pumps).
func (m *monitor) startInit() error {
	tty := m.rec.Config.Tty
	var call helperCall
	var ours []*os.File // our ends, closed on failure
	var theirs []*os.File
	var stdinW, outR, errR, consoleR *os.File
	closeAll := func(fs []*os.File) {
		for _, f := range fs {
			f.Close()
		}
	}
	if tty {
		ours1, theirs1, err := socketpair()
		if err != nil {
			return err
		}
		consoleR, call.console = ours1, theirs1
		ours, theirs = append(ours, ours1), append(theirs, theirs1)
	} else {
		if m.rec.Config.OpenStdin {
			r, w, err := os.Pipe()
			if err != nil {
				return err
			}
			stdinW, call.stdio[0] = w, r
			ours, theirs = append(ours, w), append(theirs, r)
		}
		for i, dst := range []**os.File{&outR, &errR} {
			r, w, err := os.Pipe()
			if err != nil {
				closeAll(ours)
				closeAll(theirs)
				return err
			}
			*dst, call.stdio[i+1] = r, w
			ours, theirs = append(ours, r), append(theirs, w)
		}
	}
	call.op = opStart
	res, err := m.helper(call)
	// The container holds its ends now (or failed to start).
	closeAll(theirs)
	if err == nil && res.Error != "" {
		err = &startError{msg: res.Error, code: res.Code}
	}
	if err != nil {
		closeAll(ours)
		return err
	}
	if tty {
		master, err := recvFd(consoleR)
		consoleR.Close()
		if err != nil {
			m.killOrphan(res.Pid)
			return fmt.Errorf("receiving the container's terminal: %w", err)
		}
		stdinW, outR = master, master
	}
	exited := m.reaper.expect(res.Pid)
	m.mu.Lock()
	m.initPid, m.initExit, m.running, m.lcExists = res.Pid, exited, true, true
	m.stdin = stdinW
	if tty {
		m.tty = outR
	}
	m.outR, m.errR = outR, errR
	m.cgroups = res.CgroupPaths
	m.startedAt = time.Now().UTC()
	m.mu.Unlock()
	waitExec(res.Pid)
	return nil
}

// initComm is the name libcontainer gives the container's init until it
// executes the command.
const initComm = "runc:[2:INIT]"

// waitExec waits (briefly) until the container's init has executed the
// command. libcontainer's start returns once the init is released, a
// moment before its execve: a `top` or `exec` right after `run -d` must
// already see the command, not libcontainer's init. It gives up after
// 100 ms or when the process is gone.
func waitExec(pid int) {
	comm := "/proc/" + strconv.Itoa(pid) + "/comm"
	for i := 0; i < 1000; i++ {
		b, err := os.ReadFile(comm)
		if err != nil || strings.TrimSpace(string(b)) != initComm {
			return
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// killOrphan kills an init we cannot serve and lets destroy clean up.
func (m *monitor) killOrphan(pid int) {
	exited := m.reaper.expect(pid)
	_ = m.reaper.kill(pid, unix.SIGKILL)
	<-exited
	m.mu.Lock()
	m.lcExists = true
	m.mu.Unlock()
	m.destroy()
}

func socketpair() (ours, theirs *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	return os.NewFile(uintptr(fds[0]), "console"), os.NewFile(uintptr(fds[1]), "console"), nil
}

// recvFd receives the pty master that the container's init sent on the
// console socket (before libcontainer's start returned, so it is already
// queued) and returns it as a pollable file.
func recvFd(sock *os.File) (*os.File, error) {
	rc, err := sock.SyscallConn()
	if err != nil {
		return nil, err
	}
	var fd = -1
	var rerr error
	err = rc.Control(func(s uintptr) {
		buf := make([]byte, 512)
		oob := make([]byte, unix.CmsgSpace(4))
		_, oobn, _, _, err := unix.Recvmsg(int(s), buf, oob, unix.MSG_DONTWAIT|unix.MSG_CMSG_CLOEXEC)
		if err != nil {
			rerr = err
			return
		}
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil || len(msgs) != 1 {
			rerr = fmt.Errorf("no file descriptor received")
			return
		}
		fds, err := unix.ParseUnixRights(&msgs[0])
		if err != nil || len(fds) != 1 {
			rerr = fmt.Errorf("no file descriptor received")
			return
		}
		fd = fds[0]
	})
	if err == nil {
		err = rerr
	}
	if err != nil {
		return nil, err
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), "pty-master"), nil
}

// oomKilled reports whether the OOM killer struck in the container's
// memory cgroup during this run (the cgroup is new for each run).
func (m *monitor) oomKilled() bool {
	m.mu.Lock()
	paths := m.cgroups
	m.mu.Unlock()
	if dir, ok := paths["memory"]; ok {
		return counter(filepath.Join(dir, "memory.oom_control"), "oom_kill") > 0
	}
	if dir, ok := paths[""]; ok {
		return counter(filepath.Join(dir, "memory.events"), "oom_kill") > 0
	}
	return false
}

// counter reads "name value" from a cgroup key-value file.
func counter(path, name string) int64 {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range bytes.Split(data, []byte("\n")) {
		k, v, ok := bytes.Cut(line, []byte(" "))
		if ok && string(k) == name {
			n, _ := strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64)
			return n
		}
	}
	return 0
}
