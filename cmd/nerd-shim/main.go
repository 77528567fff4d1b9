// Command nerd-shim is the per-container monitor (see docs/architecture
// and DESIGN.md, "Process model"). The engine starts one per container
// start:
//
//	nerd-shim --id ID --dir <data-root>/containers/<id> --run-dir <runtime dir> [--wait-attach]
//
// with stdio on /dev/null, in its own session, and fd 3 a pipe on which the
// monitor writes one container.StartResult line once the container runs
// (or failed to start). It then stays the parent (and child subreaper) of
// the container's processes: it pumps their output into the json-file log
// and to attached clients, serves the socket protocol of
// pkg/container/protocol.go, records every state transition in state.json,
// applies the restart policy, and tears everything down when the container
// is done for good.
//
// Everything that needs libcontainer runs in nerd-shim-runc, a short-lived
// helper next to this binary (see internal/runcapi for why).
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nerd-project/nerd/cmd/nerd-shim/internal/cgroupwarm"
	"github.com/nerd-project/nerd/internal/fsutil"
	"github.com/nerd-project/nerd/pkg/container"
)

// Exit codes that Docker records for a container that could not start.
const (
	exitNotFound = 127
	exitNoExec   = 126
	exitUnknown  = 128 // Docker's exitUnknown for other start failures
)

func init() {
	// Keep main on the process's main thread until the re-exec
	// (resume.go): an execve from another thread makes the kernel swap
	// the thread group leader, and meanwhile /proc/<pid>/stat shows a
	// zombie, which MonitorAlive would read as a dead monitor. The resumed
	// image does not exec again: locking would only cost it a thread.
	if !resuming() {
		runtime.LockOSThread()
	}
}

// resuming says this is the re-executed image (resume.go).
func resuming() bool {
	for _, a := range os.Args {
		if a == "--resume" {
			return true
		}
	}
	return false
}

func main() {
	// The monitor's resident memory is what an idle container costs (a
	// benchmarked figure): one P keeps the runtime from spinning up a
	// thread and a GC worker per CPU, and a modest GOGC keeps the heap
	// near its small live size. Throughput needs are modest: one log
	// stream per container.
	runtime.GOMAXPROCS(1)
	debug.SetGCPercent(50)

	// fd 3 is the start-result pipe; take it before anything else may open
	// a file on that number. (The resumed image has none: its fd 3 is
	// whatever the runtime or the first image left there.)
	var result *os.File
	if !resuming() {
		result = resultPipe()
	}

	var o options
	fs := flag.NewFlagSet("nerd-shim", flag.ContinueOnError)
	fs.StringVar(&o.id, "id", "", "container id")
	fs.StringVar(&o.dir, "dir", "", "container directory")
	fs.StringVar(&o.runDir, "run-dir", "", "runtime directory (socket, libcontainer state)")
	fs.BoolVar(&o.waitAttach, "wait-attach", false, "hold the output until the first attach")
	fs.StringVar(&o.runc, "runc", "", "path of nerd-shim-runc (default: beside this binary)")
	fs.StringVar(&o.resume, "resume", "", "internal: adopt a running container (see resume.go)")
	if err := fs.Parse(os.Args[1:]); err != nil || o.id == "" || o.dir == "" || o.runDir == "" {
		report(result, container.StartResult{Error: "nerd-shim: usage: nerd-shim --id ID --dir DIR --run-dir DIR", Code: 125})
		os.Exit(2)
	}
	if o.resume == "" {
		cgroupwarm.Start()
	}
	m := newMonitor(o, result)
	if o.resume != "" {
		os.Exit(m.resume(o.resume))
	}
	os.Exit(m.run(o))
}

type options struct {
	id, dir, runDir, runc, resume string
	waitAttach                    bool
}

// resultPipe returns fd 3 if the engine passed one (a pipe or socket);
// started by hand without it, the result is just not reported.
func resultPipe() *os.File {
	var st unix.Stat_t
	if err := unix.Fstat(3, &st); err != nil {
		return nil
	}
	if t := st.Mode & unix.S_IFMT; t != unix.S_IFIFO && t != unix.S_IFSOCK {
		return nil
	}
	unix.CloseOnExec(3)
	return os.NewFile(3, "start-result")
}

func report(f *os.File, r container.StartResult) {
	if f == nil {
		return
	}
	b, _ := json.Marshal(r)
	_, _ = f.Write(append(b, '\n'))
	f.Close()
}

// logf notes what the monitor cannot report anywhere else. Its stderr is
// /dev/null unless the engine redirects it.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "nerd-shim: "+format+"\n", args...)
}

func helperPath(o options) string {
	if o.runc != "" {
		return o.runc
	}
	if exe, err := os.Executable(); err == nil {
		return filepath.Join(filepath.Dir(exe), "nerd-shim-runc")
	}
	return "nerd-shim-runc"
}

// run is the whole life of the monitor; it returns the process exit code.
func (m *monitor) run(o options) int {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return m.fail(fmt.Errorf("becoming subreaper: %w", err), 125)
	}
	// Do not pin whatever directory (or mount) the engine ran in.
	_ = os.Chdir("/")
	// Hold the container lock until the start's outcome is in state.json,
	// so a concurrent engine command (rm -f of the still "created"
	// container) waits for it, then finds a running container with its
	// monitor, or an exited one.
	l, err := fsutil.LockExclusive(m.p.Lock())
	if err != nil {
		return m.fail(fmt.Errorf("locking container: %w", err), 125)
	}
	defer l.Unlock() // no-op once released
	// An rm that got the lock first has moved the directory away.
	if _, err := os.Stat(m.p.Record()); err != nil {
		l.Unlock()
		report(m.result, container.StartResult{Error: "container " + m.p.ID + " was removed", Code: 125})
		return 1
	}
	m.startLock = l
	if err := m.setup(); err != nil {
		return m.fail(err, 125)
	}
	if err := m.startInit(); err != nil {
		code := 125
		var se *startError
		if errors.As(err, &se) {
			code = se.code
		}
		return m.fail(err, code)
	}
	if err := m.setRunning(true); err != nil {
		logf("recording running state: %v", err)
	}
	m.startLock = nil
	l.Unlock()
	report(m.result, container.StartResult{Pid: m.initPid})
	m.result = nil
	// Idle in a fresh image (resume.go), unless the container is already
	// done: then this image just finishes the job. The reaper is held so
	// that no exit status is reaped into this image and lost with it.
	m.reaper.mu.Lock()
	if !m.initExited() {
		gateUntil := time.Time{}
		select {
		case <-m.gate:
		default:
			gateUntil = m.gateUntil
		}
		err := m.reexec(o, gateUntil)
		logf("re-executing: %v", err)
	}
	m.reaper.mu.Unlock()
	runtime.UnlockOSThread()
	m.startPumps()
	m.startServing()
	m.supervise()
	return 0
}

// fail ends a monitor whose container never started: the state records
// the error with Docker's exit code, the engine gets the error on fd 3, and
// whatever was set up is undone.
func (m *monitor) fail(err error, code int) int {
	exit := exitUnknown
	if code == exitNotFound || code == exitNoExec {
		exit = code
	}
	m.mu.Lock()
	// Docker keeps the status a failed start found: a container that never
	// ran still reads "Created" (with the exit code and error), one that
	// ran before keeps its last exit time.
	if m.st.Status != container.StatusCreated {
		m.st.Status = container.StatusExited
		m.st.FinishedAt = time.Now().UTC()
	}
	m.st.ExitCode = exit
	m.st.Error = err.Error()
	m.st.Pid = 0
	m.mu.Unlock()
	m.teardown(exit)
	if m.startLock != nil {
		m.startLock.Unlock()
		m.startLock = nil
	}
	report(m.result, container.StartResult{Error: err.Error(), Code: code})
	m.notifyDone(exit)
	return 1
}
