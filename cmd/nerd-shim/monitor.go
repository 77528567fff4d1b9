package main

import (
	"fmt"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nerd-project/nerd/internal/fsutil"
	"github.com/nerd-project/nerd/pkg/container"
	"github.com/nerd-project/nerd/pkg/logging"
)

// gateTimeout bounds --wait-attach: if the CLI that asked for it dies
// before attaching, the output flows into the log anyway.
const gateTimeout = 10 * time.Second

type monitor struct {
	p      container.Paths
	rec    *record
	runc   string   // nerd-shim-runc
	result *os.File // fd 3 until the start is reported

	reaper   *reaper
	logw     *logging.Writer // nil with --log-driver none
	listener *os.File
	mounted  bool

	// gate holds the output (and the exit) until the first attach
	// (--wait-attach), so a foreground run sees every byte.
	gate      chan struct{}
	gateOnce  sync.Once
	gateUntil time.Time

	// saveMu orders state writes: each writes the snapshot it took.
	saveMu sync.Mutex
	// startLock is the container lock, held from the monitor's start until
	// the start's outcome is recorded (see run).
	startLock *fsutil.Lock

	mu         sync.Mutex
	st         container.State
	policy     container.RestartPolicy
	initPid    int
	initExit   <-chan unix.WaitStatus
	running    bool          // the init is alive (not yet reaped)
	restarting bool          // waiting for the restart backoff
	cancel     chan struct{} // closed by a manual kill during that wait
	lcExists   bool          // a libcontainer container exists to destroy
	finished   bool          // the final state is written
	exitCode   int
	stdin      *os.File // the container's stdin (pipe, or pty master)
	tty        *os.File // the pty master
	outR, errR *os.File // the init's output, until the pumps take it
	pumps      []*pump
	cgroups    map[string]string
	startedAt  time.Time

	// done is closed once the container exited for good and everything is
	// torn down; pending waits answer then.
	done chan struct{}
	// conns counts the connections being served, so that the process does
	// not exit before they got their answers; serveDone is closed when the
	// accept loop has ended (no more conns.Add after it).
	conns     sync.WaitGroup
	serveDone chan struct{}

	cmu          sync.Mutex
	clients      map[*client]struct{}
	clientsEnded bool // exit frames sent; late attaches get one at once
}

func newMonitor(o options, result *os.File) *monitor {
	m := &monitor{
		p:       container.Paths{Dir: o.dir, RunDir: o.runDir, ID: o.id},
		runc:    helperPath(o),
		result:  result,
		gate:    make(chan struct{}),
		done:    make(chan struct{}),
		clients: make(map[*client]struct{}),
	}
	m.reaper = newReaper()
	switch {
	case o.resume != "": // resume sets the gate
	case o.waitAttach:
		m.gateUntil = time.Now().Add(gateTimeout)
		time.AfterFunc(gateTimeout, m.openGate)
	default:
		m.openGate()
	}
	return m
}

// initExited reports (without consuming it) whether the init has exited.
func (m *monitor) initExited() bool {
	select {
	case ws := <-m.initExit:
		ch := make(chan unix.WaitStatus, 1)
		ch <- ws
		m.initExit = ch
		return true
	default:
		return false
	}
}

func (m *monitor) openGate() { m.gateOnce.Do(func() { close(m.gate) }) }

// setup reads the record and state, mounts the rootfs, opens the log and
// the socket.
func (m *monitor) setup() error {
	if err := m.load(); err != nil {
		return err
	}
	m.st.MonitorPid = os.Getpid()
	m.st.MonitorStartTime, _ = container.ProcStartTime(os.Getpid())
	m.st.BootID, _ = container.BootID()
	if err := mountRootfs(m.p, m.rec.Snapshots, m.rec.SnapshotRoot); err != nil {
		return err
	}
	m.mounted = true
	if err := m.openLog(); err != nil {
		return err
	}
	if err := os.MkdirAll(m.p.RunDir, 0o700); err != nil {
		return err
	}
	l, err := listenUnix(m.p.Socket())
	if err != nil {
		return fmt.Errorf("listening on %s: %w", m.p.Socket(), err)
	}
	m.listener = l
	return nil
}

// openLog opens the json-file log (appending: restarts and re-execs keep
// adding to the same file).
func (m *monitor) openLog() error {
	lc := m.rec.HostConfig.LogConfig
	if lc.Type == "none" {
		return nil
	}
	if lc.Type != "" && lc.Type != "json-file" {
		return fmt.Errorf("unsupported log driver %q", lc.Type)
	}
	opts, err := logging.ParseOptions(lc.Config)
	if err != nil {
		return err
	}
	if m.logw, err = logging.NewWriter(m.p.Log(), opts); err != nil {
		return fmt.Errorf("opening log: %w", err)
	}
	return nil
}

// save writes the current state under the container lock. The engine never
// holds that lock while it waits for an answer from the monitor.
func (m *monitor) save() error {
	m.saveMu.Lock()
	defer m.saveMu.Unlock()
	m.mu.Lock()
	st := m.st
	m.mu.Unlock()
	unlock, err := m.lock()
	if err != nil {
		return err
	}
	defer unlock()
	return container.WriteState(m.p, &st)
}

// lock takes the container lock, unless the start holds it already (a
// second flock on another descriptor would wait for ourselves).
func (m *monitor) lock() (unlock func(), err error) {
	if m.startLock != nil {
		return func() {}, nil
	}
	l, err := fsutil.LockExclusive(m.p.Lock())
	if err != nil {
		return nil, err
	}
	return func() { l.Unlock() }, nil
}

// setRunning records a (re)started init. A user start (first) clears the
// previous run's outcome, as Docker's SetRunning does.
func (m *monitor) setRunning(first bool) error {
	m.mu.Lock()
	m.st.Status = container.StatusRunning
	m.st.Pid = m.initPid
	m.st.StartedAt = m.startedAt
	m.st.ExitCode = 0
	m.st.Error = ""
	m.st.OOMKilled = false
	if first {
		m.st.ManuallyStopped = false
	}
	m.mu.Unlock()
	return m.save()
}

// supervise waits for the init to exit and applies the restart policy
// until the container is done for good.
func (m *monitor) supervise() {
	var bo backoff
	restarts := 0
	for {
		ws := <-m.initExit
		code := exitStatus(ws)
		<-m.gate
		m.endRun()
		oom := m.oomKilled()

		m.mu.Lock()
		m.running = false
		ran := time.Since(m.startedAt)
		restart := shouldRestart(m.policy, code, m.st.ManuallyStopped, restarts)
		m.st.ExitCode = code
		m.st.OOMKilled = oom
		m.st.FinishedAt = time.Now().UTC()
		m.st.Pid = 0
		if !restart {
			m.mu.Unlock()
			m.finish(code)
			return
		}
		restarts++
		m.restarting = true
		cancel := make(chan struct{})
		m.cancel = cancel
		m.st.Status = container.StatusRestarting
		m.st.RestartCount++
		m.mu.Unlock()
		if err := m.save(); err != nil {
			logf("recording restarting state: %v", err)
		}
		delay := bo.next(ran)
		m.destroy()
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-cancel:
			t.Stop()
			m.mu.Lock()
			m.restarting = false
			m.mu.Unlock()
			m.finish(code)
			return
		}
		m.mu.Lock()
		m.restarting = false
		m.cancel = nil
		m.mu.Unlock()
		if err := m.startInit(); err != nil {
			m.mu.Lock()
			m.st.Error = err.Error()
			m.mu.Unlock()
			exit := exitUnknown
			if se, ok := err.(*startError); ok && (se.code == exitNotFound || se.code == exitNoExec) {
				exit = se.code
			}
			m.finish(exit)
			return
		}
		if err := m.setRunning(false); err != nil {
			logf("recording running state: %v", err)
		}
		m.startPumps()
		// A stop that came while the helper was starting it found nothing
		// to signal: it must not leave the new run up.
		m.mu.Lock()
		stopped := m.st.ManuallyStopped
		m.mu.Unlock()
		if stopped {
			_ = m.reaper.kill(m.initPid, unix.SIGKILL)
		}
	}
}

// exitStatus is Docker's exit code: the status, or 128+signal.
func exitStatus(ws unix.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// finish ends the container for good with exit code code.
func (m *monitor) finish(code int) {
	m.mu.Lock()
	m.st.Status = container.StatusExited
	m.st.ExitCode = code
	m.st.Pid = 0
	if m.st.FinishedAt.IsZero() || m.st.FinishedAt.Before(m.startedAt) {
		m.st.FinishedAt = time.Now().UTC()
	}
	m.mu.Unlock()
	m.teardown(code)
	m.notifyDone(code)
}

// teardown releases everything, then records the final state (or, for
// --rm, removes the container), so that when the state says "exited" the
// rootfs is unmounted and the cgroups are gone.
func (m *monitor) teardown(code int) {
	if m.logw != nil {
		if err := m.logw.Close(); err != nil {
			logf("closing log: %v", err)
		}
	}
	m.destroy()
	if m.mounted {
		if err := unmountRootfs(m.p); err != nil {
			logf("%v", err)
		}
		m.mounted = false
	}
	if m.rec != nil && m.rec.HostConfig.AutoRemove {
		m.autoRemove()
	} else if err := m.save(); err != nil {
		logf("recording exited state: %v", err)
	}
	m.mu.Lock()
	m.finished = true
	m.exitCode = code
	m.mu.Unlock()
	if m.listener != nil {
		m.stopServing()
	}
}

// notifyDone answers the waits and attached clients, giving them a moment
// to get their answers out before the process exits.
func (m *monitor) notifyDone(code int) {
	close(m.done)
	m.cmu.Lock()
	m.clientsEnded = true
	clients := m.clients
	m.clients = nil
	m.cmu.Unlock()
	for c := range clients {
		c.exit(code)
	}
	ch := make(chan struct{})
	go func() { m.conns.Wait(); close(ch) }()
	select {
	case <-ch:
	case <-time.After(2 * time.Second):
	}
}

// destroy removes the libcontainer container (cgroups, state; runs the
// poststop hooks).
func (m *monitor) destroy() {
	m.mu.Lock()
	exists := m.lcExists
	m.lcExists = false
	m.mu.Unlock()
	if !exists {
		return
	}
	if _, err := m.helper(helperCall{op: opDestroy}); err != nil {
		logf("destroying container: %v", err)
	}
}
