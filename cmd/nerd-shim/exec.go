package main

import (
	"bufio"
	"encoding/json"
	"os"

	"golang.org/x/sys/unix"

	"github.com/nerd-project/nerd/pkg/container"
)

// serveExec runs req.Process in the container and, unless detached,
// streams its stdio over c until it exits. Its output is not logged (as in
// Docker).
func (m *monitor) serveExec(c *os.File, br *bufio.Reader, req *request) {
	var proc execProcess
	if err := json.Unmarshal(req.Process, &proc); err != nil || len(proc.Args) == 0 {
		_ = respond(c, errorResponse("exec: no command"))
		c.Close()
		return
	}
	m.mu.Lock()
	running, paused := m.running && !m.restarting, m.st.Status == container.StatusPaused
	m.mu.Unlock()
	if !running {
		_ = respond(c, notRunning)
		c.Close()
		return
	}
	if paused {
		_ = respond(c, errorResponse("Container "+m.p.ID+" is paused, unpause the container before exec"))
		c.Close()
		return
	}
	// A detached exec has nobody to hold a terminal for it.
	tty := proc.Terminal && !req.Detach
	call := helperCall{op: opExec, process: req.Process, noTTY: !tty}
	var ours, theirs []*os.File
	var stdinW, outR, errR, consoleR *os.File
	closeAll := func(fs []*os.File) {
		for _, f := range fs {
			f.Close()
		}
	}
	fail := func(err error) {
		closeAll(ours)
		closeAll(theirs)
		_ = respond(c, errorResponse(err.Error()))
		c.Close()
	}
	switch {
	case req.Detach:
	case tty:
		o, t, err := socketpair()
		if err != nil {
			fail(err)
			return
		}
		consoleR, call.console = o, t
		ours, theirs = append(ours, o), append(theirs, t)
	default:
		if req.Stdin {
			r, w, err := os.Pipe()
			if err != nil {
				fail(err)
				return
			}
			stdinW, call.stdio[0] = w, r
			ours, theirs = append(ours, w), append(theirs, r)
		}
		for i, dst := range []**os.File{&outR, &errR} {
			r, w, err := os.Pipe()
			if err != nil {
				fail(err)
				return
			}
			*dst, call.stdio[i+1] = r, w
			ours, theirs = append(ours, r), append(theirs, w)
		}
	}
	res, err := m.helper(call)
	closeAll(theirs)
	theirs = nil
	if err != nil {
		fail(err)
		return
	}
	if res.Error != "" {
		closeAll(ours)
		if res.Code != exitNotFound && res.Code != exitNoExec {
			_ = respond(c, container.Response{Error: res.Error, NotRunning: res.NotRunning})
		} else if req.Detach {
			_ = respond(c, container.Response{Error: res.Error, Code: res.Code})
		} else {
			// Like Docker: the message on stderr, the code as exit status.
			cl := &client{f: c, stdout: true, stderr: true}
			if respond(c, container.Response{OK: true}) == nil {
				cl.send(container.StreamStderr, []byte(res.Error+"\n"))
				cl.exit(res.Code)
			}
		}
		c.Close()
		return
	}
	if req.Detach {
		// Nobody waits for it: the reaper drops its status.
		_ = respond(c, container.Response{Pid: res.Pid})
		c.Close()
		return
	}
	exited := m.reaper.expect(res.Pid)
	if tty {
		master, err := recvFd(consoleR)
		consoleR.Close()
		if err != nil {
			_ = m.reaper.kill(res.Pid, unix.SIGKILL)
			<-exited
			_ = respond(c, errorResponse("exec: receiving the terminal: "+err.Error()))
			c.Close()
			return
		}
		stdinW, outR = master, master
	}
	cl := &client{f: c, stdout: true, stderr: true}
	if err := respond(c, container.Response{OK: true, Pid: res.Pid}); err != nil {
		cl.dead = true // keep draining the output so the process never blocks on it
	}
	pumps := []*pump{startPump(outR, nil, func(p []byte) { cl.send(container.StreamStdout, p) })}
	if errR != nil {
		pumps = append(pumps, startPump(errR, nil, func(p []byte) { cl.send(container.StreamStderr, p) }))
	}
	go func() {
		ws := <-exited
		for _, p := range pumps {
			p.drain()
		}
		if stdinW != nil && stdinW != outR {
			stdinW.Close()
		}
		cl.exit(exitStatus(ws))
	}()
	// Input from the client until it leaves (or the exit closes c).
	buf := make([]byte, 4096)
	for {
		id, p, err := container.ReadFrame(br, buf)
		if err != nil {
			// A client gone for good ends the process's input, as in
			// Docker (a terminal stays: its output still flows).
			if stdinW != nil && stdinW != outR {
				stdinW.Close()
			}
			return
		}
		switch id {
		case container.StreamStdin:
			if stdinW == nil || !req.Stdin {
				continue
			}
			if len(p) == 0 {
				if stdinW != outR { // a terminal cannot be half-closed
					stdinW.Close()
				}
				continue
			}
			_, _ = stdinW.Write(p)
		case container.StreamResize:
			var r container.Resize
			if tty && json.Unmarshal(p, &r) == nil {
				resizeTTY(outR, r)
			}
		}
	}
}
