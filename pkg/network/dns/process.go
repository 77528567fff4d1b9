package dns

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nerd-project/nerd/internal/fsutil"
)

const (
	// readyTimeout bounds Start when ctx has no earlier deadline: binding
	// two sockets and reading a small file takes milliseconds.
	readyTimeout = 10 * time.Second
	// termGrace is how long Stop waits after SIGTERM before SIGKILL.
	termGrace = 5 * time.Second
	// maxLogSize: past it, Start truncates the log before appending.
	maxLogSize = 1 << 20
	// readyMsg is what the binary writes on its ready fd once listening;
	// anything else is an error message.
	readyMsg = "ok"
)

// pidRecord is the pid file: the start time (clock ticks since boot, from
// /proc/<pid>/stat) makes it name one process, not whatever reuses the pid.
type pidRecord struct {
	Pid       int    `json:"pid"`
	StartTime uint64 `json:"start_time"`
}

// Start launches bin (the nerd-dns binary) detached (setsid, stdio to /dev/null or a log file next to the pid file — it is started from an OCI hook whose stdout/stderr libcontainer captures, so it must NOT inherit them, or the hook never returns) serving DNS on listen (e.g. "10.78.3.1:53") from recordsFile; records pid + process start time in pidFile (atomic); idempotent: nil if a live responder from pidFile already runs. Returns only once the responder is listening (so the first query from a container cannot race it) — e.g. the child signals readiness on a pipe, or Start polls.
//
// The child reports readiness (or the reason it could not listen) on a
// pipe passed as fd 3. Its log is pidFile with ".log" in place of its
// extension. recordsFile must exist before Start. Callers serialise Start
// and Stop of one pidFile (the network's lock).
func Start(ctx context.Context, bin, listen, recordsFile, pidFile string) error {
	if rec, err := readPidFile(pidFile); err == nil && rec.alive() {
		return nil
	}
	log, err := openLog(logPath(pidFile))
	if err != nil {
		return err
	}
	defer log.Close()
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("starting DNS responder: %w", err)
	}
	defer r.Close()
	cmd := exec.Command(bin, "--listen", listen, "--records", recordsFile, "--ready-fd", "3")
	cmd.Stdout, cmd.Stderr = log, log // stdin stays nil: /dev/null
	cmd.ExtraFiles = []*os.File{w}
	// Its own session: no terminal signals, and not part of the hook's
	// process group. Dir "/" so it never pins the bundle directory.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Dir = "/"
	err = cmd.Start()
	w.Close() // ours must go, or the child exiting early would not show as EOF
	if err != nil {
		return fmt.Errorf("starting DNS responder %s: %w", bin, err)
	}
	if err := recordAndAwait(ctx, cmd, r, pidFile); err != nil {
		_ = cmd.Process.Kill() // still our unreaped child: the pid cannot be recycled
		_ = cmd.Wait()
		_ = os.Remove(pidFile)
		return fmt.Errorf("starting DNS responder on %s: %w (log: %s)", listen, err, logPath(pidFile))
	}
	// Reap it if this process outlives it; a hook process exits long
	// before and the responder is re-parented.
	go func() { _ = cmd.Wait() }()
	return nil
}

// recordAndAwait writes the pid file before waiting, so that a Start that
// dies while waiting still leaves a responder Stop can find.
func recordAndAwait(ctx context.Context, cmd *exec.Cmd, ready *os.File, pidFile string) error {
	st, _, err := procStat(cmd.Process.Pid)
	if err != nil {
		return err
	}
	if err := writePidFile(pidFile, pidRecord{Pid: cmd.Process.Pid, StartTime: st}); err != nil {
		return err
	}
	return awaitReady(ctx, ready)
}

// awaitReady reads the child's one message from the ready pipe.
func awaitReady(ctx context.Context, r *os.File) error {
	deadline := time.Now().Add(readyTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := r.SetReadDeadline(deadline); err != nil {
		return fmt.Errorf("waiting for readiness: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { _ = r.SetReadDeadline(time.Now()) })
	defer stop()
	msg, err := io.ReadAll(io.LimitReader(r, 4096))
	switch text := strings.TrimSpace(string(msg)); {
	case text == readyMsg:
		return nil
	case err != nil && ctx.Err() != nil:
		return fmt.Errorf("waiting for readiness: %w", ctx.Err())
	case err != nil:
		return fmt.Errorf("not ready in time: %w", err)
	case text == "":
		return errors.New("exited before listening")
	default:
		return errors.New(text)
	}
}

// SignalReady is the binary's side of the ready pipe: it writes readyMsg
// (err == nil) or the error text to fd and closes it. A negative fd (no
// --ready-fd) is a no-op.
func SignalReady(fd int, err error) error {
	if fd < 0 {
		return nil
	}
	f := os.NewFile(uintptr(fd), "ready")
	if f == nil {
		return fmt.Errorf("ready fd %d is not open", fd)
	}
	defer f.Close()
	msg := readyMsg
	if err != nil {
		msg = err.Error()
	}
	if _, werr := io.WriteString(f, msg+"\n"); werr != nil {
		return fmt.Errorf("signalling readiness: %w", werr)
	}
	return nil
}

// Stop ends the responder recorded in pidFile if alive and really it (pid + start time match, so a recycled pid is never killed), waits for it to exit, removes pidFile; idempotent.
//
// It signals through a pidfd, opened before the start time is checked, so
// the process checked is the process signalled. SIGTERM first, SIGKILL if
// it has not exited after a grace period or when ctx ends.
func Stop(ctx context.Context, pidFile string) error {
	rec, err := readPidFile(pidFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	// A pid file that does not parse names no process we could safely
	// signal; dropping it is all that can be done.
	if err == nil {
		if err := rec.terminate(ctx); err != nil {
			return err
		}
	}
	if err := os.Remove(pidFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing %s: %w", pidFile, err)
	}
	return nil
}

func (p pidRecord) terminate(ctx context.Context) error {
	fd, err := unix.PidfdOpen(p.Pid, 0)
	if errors.Is(err, unix.ESRCH) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stopping DNS responder %d: %w", p.Pid, err)
	}
	defer unix.Close(fd)
	if !p.alive() {
		return nil // exited, or the pid now belongs to someone else
	}
	if err := signalPidfd(fd, unix.SIGTERM); err != nil {
		return fmt.Errorf("stopping DNS responder %d: %w", p.Pid, err)
	}
	graceCtx, cancel := context.WithTimeout(ctx, termGrace)
	defer cancel()
	if waitPidfd(graceCtx, fd) {
		return nil
	}
	if err := signalPidfd(fd, unix.SIGKILL); err != nil {
		return fmt.Errorf("killing DNS responder %d: %w", p.Pid, err)
	}
	killCtx, cancel2 := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel2()
	if !waitPidfd(killCtx, fd) {
		return fmt.Errorf("DNS responder %d did not exit after SIGKILL", p.Pid)
	}
	return nil
}

func signalPidfd(fd int, sig unix.Signal) error {
	err := unix.PidfdSendSignal(fd, sig, nil, 0)
	if errors.Is(err, unix.ESRCH) {
		return nil // already exited
	}
	return err
}

// waitPidfd reports whether the process exited before ctx ended. A pidfd
// becomes readable on exit even for a process that is not our child (and
// so may stay a zombie until its parent reaps it).
func waitPidfd(ctx context.Context, fd int) bool {
	for {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, 50)
		if err == nil && n > 0 {
			return true
		}
		if err != nil && !errors.Is(err, unix.EINTR) {
			return false
		}
		if ctx.Err() != nil {
			return false
		}
	}
}

// alive reports whether the recorded process still runs: same pid, same
// start time, and not a zombie (a dead responder whose parent has not
// reaped it yet must be restarted, not trusted).
func (p pidRecord) alive() bool {
	if p.Pid <= 0 {
		return false
	}
	st, zombie, err := procStat(p.Pid)
	return err == nil && !zombie && st == p.StartTime
}

// procStat reads a process's start time and whether it is a zombie from
// /proc/<pid>/stat. The command name (field 2) may hold spaces and
// parentheses, so fields are counted from the last ')'.
func procStat(pid int) (startTime uint64, zombie bool, err error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false, fmt.Errorf("reading process %d: %w", pid, err)
	}
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return 0, false, fmt.Errorf("bad /proc/%d/stat", pid)
	}
	// After ')': field 3 (state) is [0], field 22 (starttime) is [19].
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 20 {
		return 0, false, fmt.Errorf("bad /proc/%d/stat", pid)
	}
	startTime, err = strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("bad /proc/%d/stat: %w", pid, err)
	}
	return startTime, f[0] == "Z" || f[0] == "X", nil
}

func readPidFile(path string) (pidRecord, error) {
	var rec pidRecord
	data, err := os.ReadFile(path)
	if err != nil {
		return rec, fmt.Errorf("reading pid file: %w", err)
	}
	if err := json.Unmarshal(data, &rec); err != nil {
		return rec, fmt.Errorf("decoding pid file %s: %w", path, err)
	}
	return rec, nil
}

func writePidFile(path string, rec pidRecord) error {
	data, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encoding pid file: %w", err)
	}
	return fsutil.WriteFileAtomic(path, append(data, '\n'), 0o644)
}

// logPath is the responder's log beside its pid file: dns.pid → dns.log.
func logPath(pidFile string) string {
	return strings.TrimSuffix(pidFile, filepath.Ext(pidFile)) + ".log"
}

// openLog opens the log for appending; a log past maxLogSize is emptied
// first, so that a network living for months keeps a bounded file.
func openLog(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening DNS responder log: %w", err)
	}
	if fi, err := f.Stat(); err == nil && fi.Size() > maxLogSize {
		_ = f.Truncate(0)
	}
	return f, nil
}
