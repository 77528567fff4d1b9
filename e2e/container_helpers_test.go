package e2e

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Helpers for the container tests (issue 3). Every container test starts
// from newContainerEnv, whose cleanup removes every container of the env
// with `nerd rm -f` and then checks, as a user would with ps(1),
// mountinfo and /sys/fs/cgroup, that nothing was left behind: no process
// in a container cgroup or naming the data root, no cgroup directory
// /sys/fs/cgroup/*/nerd/<id>, no mount under the data root. What is left
// is reported as a test error and then removed by force, so that a broken
// nerd never leaks into the next test.

// sleeper runs until it is stopped, and exits 0 at once on SIGTERM (sh as
// PID 1 ignores signals it has no trap for, so a plain `sleep` would make
// every stop wait for the timeout).
var sleeper = []string{"sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1 & wait $!; done"}

var (
	fullIDRe = regexp.MustCompile(`^[0-9a-f]{64}$`)
	// upRe is a STATUS of a running container as Docker prints it.
	upRe = regexp.MustCompile(`^Up (Less than a second|\d+ seconds?|About a minute|\d+ minutes)$`)
)

// exitedRe is Docker's STATUS of a container that exited with code.
func exitedRe(code int) *regexp.Regexp {
	return regexp.MustCompile(fmt.Sprintf(`^Exited \(%d\) (Less than a second|\d+ seconds?|About a minute|\d+ minutes) ago$`, code))
}

// newContainerEnv is newEnv for tests that make containers: a shorter
// per-command timeout (a hung attach must not eat five minutes), busybox
// pulled, and the cleanup described above.
func newContainerEnv(t *testing.T) *env {
	t.Helper()
	e := newBareContainerEnv(t)
	e.pullOK("busybox")
	return e
}

// newBareContainerEnv is newContainerEnv with an empty image store.
func newBareContainerEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t)
	e.Timeout = 90 * time.Second
	// Registered after newEnv's cleanup, so it runs before the unmount
	// and the removal of the data root.
	t.Cleanup(func() { e.cleanupContainers(t) })
	return e
}

// sub is the env seen from subtest t: its helpers report to t (calling
// the parent's FailNow from a subtest is not allowed).
func (e *env) sub(t testing.TB) *env {
	c := *e
	c.t = t
	return &c
}

// within returns a copy of the env whose commands time out after d.
func (e *env) within(d time.Duration) *env {
	c := *e
	c.Timeout = d
	return &c
}

// runD runs `run -d args…` and returns the container's full ID.
func (e *env) runD(args ...string) string {
	e.t.Helper()
	r := e.nerdOK(append([]string{"run", "-d"}, args...)...)
	id := strings.TrimSpace(r.Stdout)
	if !fullIDRe.MatchString(id) {
		e.t.Fatalf("run -d printed %q, want a 64-hex container ID:\n%s", r.Stdout, r)
	}
	return id
}

// runRmOut runs `run --rm args…` as seen from subtest t and returns its
// stdout; a failure is reported to t without stopping it.
func (e *env) runRmOut(t *testing.T, args ...string) string {
	t.Helper()
	r := e.sub(t).nerd(append([]string{"run", "--rm"}, args...)...)
	if r.Code != 0 {
		t.Errorf("command failed:\n%s", r)
	}
	return r.Stdout
}

// withSleeper is args followed by the sleeper command.
func withSleeper(args ...string) []string { return append(args, sleeper...) }

// ctrInspect is the part of Docker's container inspect JSON the tests read.
type ctrInspect struct {
	ID      string   `json:"Id"`
	Name    string   `json:"Name"`
	Created string   `json:"Created"`
	Path    string   `json:"Path"`
	Args    []string `json:"Args"`
	Image   string   `json:"Image"`
	State   struct {
		Status     string `json:"Status"`
		Running    bool   `json:"Running"`
		Paused     bool   `json:"Paused"`
		Restarting bool   `json:"Restarting"`
		OOMKilled  bool   `json:"OOMKilled"`
		Dead       bool   `json:"Dead"`
		Pid        int    `json:"Pid"`
		ExitCode   int    `json:"ExitCode"`
		Error      string `json:"Error"`
		StartedAt  string `json:"StartedAt"`
		FinishedAt string `json:"FinishedAt"`
	} `json:"State"`
	LogPath      string `json:"LogPath"`
	RestartCount int    `json:"RestartCount"`
	Config       struct {
		Hostname   string            `json:"Hostname"`
		User       string            `json:"User"`
		Tty        bool              `json:"Tty"`
		OpenStdin  bool              `json:"OpenStdin"`
		Env        []string          `json:"Env"`
		Cmd        []string          `json:"Cmd"`
		Image      string            `json:"Image"`
		WorkingDir string            `json:"WorkingDir"`
		Entrypoint []string          `json:"Entrypoint"`
		Labels     map[string]string `json:"Labels"`
		StopSignal string            `json:"StopSignal"`
	} `json:"Config"`
	HostConfig struct {
		RestartPolicy struct {
			Name              string `json:"Name"`
			MaximumRetryCount int    `json:"MaximumRetryCount"`
		} `json:"RestartPolicy"`
		AutoRemove bool `json:"AutoRemove"`
		LogConfig  struct {
			Type   string            `json:"Type"`
			Config map[string]string `json:"Config"`
		} `json:"LogConfig"`
		NetworkMode    string   `json:"NetworkMode"`
		Privileged     bool     `json:"Privileged"`
		ReadonlyRootfs bool     `json:"ReadonlyRootfs"`
		CapAdd         []string `json:"CapAdd"`
		CapDrop        []string `json:"CapDrop"`
		Memory         int64    `json:"Memory"`
		NanoCpus       int64    `json:"NanoCpus"`
		CpuShares      int64    `json:"CpuShares"`
		PidsLimit      *int64   `json:"PidsLimit"`
	} `json:"HostConfig"`
}

// inspectC runs `container inspect name` and decodes the one object.
func (e *env) inspectC(name string) ctrInspect {
	e.t.Helper()
	r := e.nerdOK("container", "inspect", name)
	var out []ctrInspect
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil || len(out) != 1 {
		e.t.Fatalf("container inspect %s: want a JSON array of one object (%v):\n%s", name, err, r)
	}
	return out[0]
}

// status is .State.Status, or "" when inspect fails (the container is gone).
func (e *env) status(name string) string {
	r := e.nerd("container", "inspect", "--format", "{{.State.Status}}", name)
	if r.Code != 0 {
		return ""
	}
	return strings.TrimSpace(r.Stdout)
}

// psStatus is the STATUS column of name in `ps -a` ("" if not listed).
func (e *env) psStatus(name string) string {
	e.t.Helper()
	r := e.nerdOK("ps", "-a", "--format", "{{.Names}}\t{{.Status}}")
	for _, l := range r.Lines() {
		n, s, _ := strings.Cut(l, "\t")
		if n == name {
			return s
		}
	}
	return ""
}

// psNames lists the NAMES of `ps args…` in order.
func (e *env) psNames(args ...string) []string {
	e.t.Helper()
	r := e.nerdOK(append([]string{"ps", "--format", "{{.Names}}"}, args...)...)
	return r.Lines()
}

// eventually polls cond every 50 ms until it holds or timeout passes;
// cond's string says what it saw last. It reports failure with Errorf and
// returns false.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() (bool, string)) bool {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, saw := cond()
		if ok {
			return true
		}
		if time.Now().After(deadline) {
			t.Errorf("after %v, still not %s; last saw: %s", timeout, what, saw)
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitStatus waits until the container's .State.Status is want.
func (e *env) waitStatus(name, want string, timeout time.Duration) bool {
	e.t.Helper()
	return eventually(e.t, timeout, fmt.Sprintf("%s %s", name, want), func() (bool, string) {
		s := e.status(name)
		return s == want, fmt.Sprintf("status %q", s)
	})
}

// psTable parses a Docker table whose cells may be empty (ps's PORTS) by
// the column offsets of the header. tabwriter pads in runes, so offsets
// are counted in runes (COMMAND may hold "…").
func psTable(t testing.TB, out string) (header []string, rows []map[string]string) {
	t.Helper()
	var lines [][]rune
	for _, l := range strings.Split(out, "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, []rune(l))
		}
	}
	if len(lines) == 0 {
		t.Fatalf("no table header in %q", out)
	}
	hl := string(lines[0])
	var starts []int
	for _, loc := range regexp.MustCompile(`\S+( \S+)*`).FindAllStringIndex(hl, -1) {
		header = append(header, hl[loc[0]:loc[1]])
		starts = append(starts, len([]rune(hl[:loc[0]])))
	}
	for _, l := range lines[1:] {
		row := map[string]string{}
		for i, h := range header {
			from, to := starts[i], len(l)
			if i+1 < len(starts) {
				to = starts[i+1]
			}
			if from > len(l) {
				from = len(l)
			}
			if to > len(l) {
				to = len(l)
			}
			row[h] = strings.TrimSpace(string(l[from:to]))
		}
		rows = append(rows, row)
	}
	return header, rows
}

// psJSON runs `ps --format json args…`: one object per line.
func (e *env) psJSON(args ...string) []map[string]any {
	e.t.Helper()
	r := e.nerdOK(append([]string{"ps", "--format", "json"}, args...)...)
	var out []map[string]any
	for _, l := range r.Lines() {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			e.t.Fatalf("ps --format json line %q: %v\n%s", l, err, r)
		}
		out = append(out, m)
	}
	return out
}

// stateFile reads the fields of <data_root>/containers/<id>/state.json the
// fault tests need (the documented on-disk state, DESIGN.md).
type stateFile struct {
	Status     string `json:"Status"`
	Pid        int    `json:"Pid"`
	MonitorPid int    `json:"MonitorPid"`
}

func (e *env) readState(id string) stateFile {
	e.t.Helper()
	var s stateFile
	b, err := os.ReadFile(filepath.Join(e.Root, "containers", id, "state.json"))
	if err != nil {
		e.t.Fatalf("state.json of %s: %v", id, err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		e.t.Fatalf("state.json of %s: %v: %s", id, err, b)
	}
	return s
}

// procCgroupPath is the path of pid's cgroup in the v1 controller ctrl
// (e.g. "memory" → "/nerd/<id>"), or "".
func procCgroupPath(pid int, ctrl string) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(string(b), "\n") {
		parts := strings.SplitN(l, ":", 3)
		if len(parts) == 3 && slices.Contains(strings.Split(parts[1], ","), ctrl) {
			return parts[2]
		}
	}
	return ""
}

// cgroupFile reads a file of the cgroup of pid in v1 controller ctrl.
func cgroupFile(t testing.TB, pid int, ctrl, file string) string {
	t.Helper()
	p := procCgroupPath(pid, ctrl)
	if p == "" {
		t.Errorf("pid %d has no %s cgroup", pid, ctrl)
		return ""
	}
	b, err := os.ReadFile(filepath.Join("/sys/fs/cgroup", ctrl, p, file))
	if err != nil {
		t.Errorf("reading %s of pid %d: %v", file, pid, err)
		return ""
	}
	return strings.TrimSpace(string(b))
}

// inContainerCgroup tells whether pid sits in a cgroup of container id.
func inContainerCgroup(pid int, id string) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return false
	}
	for _, l := range strings.Split(string(b), "\n") {
		parts := strings.SplitN(l, ":", 3)
		if len(parts) == 3 && (strings.HasSuffix(parts[2], "/"+id) || strings.Contains(parts[2], "/"+id+"/")) {
			return true
		}
	}
	return false
}

// allPids lists the pids in /proc.
func allPids() []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			out = append(out, pid)
		}
	}
	return out
}

func procCmdline(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return string(bytes.ReplaceAll(bytes.TrimRight(b, "\x00"), []byte{0}, []byte{' '}))
}

func procAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// state is the field after "(comm)".
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z' && s[i+2] != 'X'
	}
	return true
}

// containerProcs lists the live processes in the cgroups of container id.
func containerProcs(id string) []int {
	var out []int
	for _, pid := range allPids() {
		if inContainerCgroup(pid, id) && procAlive(pid) {
			out = append(out, pid)
		}
	}
	return out
}

// cgroupDirs lists the cgroup directories of container id (any controller,
// including the v2 hierarchy of a hybrid host).
func cgroupDirs(id string) []string {
	var out []string
	for _, pat := range []string{"/sys/fs/cgroup/*/nerd/" + id, "/sys/fs/cgroup/*/*/nerd/" + id} {
		m, _ := filepath.Glob(pat)
		out = append(out, m...)
	}
	return out
}

// runtimeDir is the engine's runtime directory for this data root
// (/run/nerd/<first 4 bytes of sha256(abs data root)>, DESIGN.md "State on
// disk"); tests use it only to check for and remove leftovers.
func (e *env) runtimeDir() string { return runtimeDirFor(e.Root) }

// runtimeDirFor is the engine's runtime directory for data root root.
func runtimeDirFor(root string) string {
	abs, err := filepath.Abs(root)
	if err != nil {
		abs = root
	}
	sum := sha256.Sum256([]byte(abs))
	return filepath.Join("/run/nerd", hex.EncodeToString(sum[:4]))
}

// containerIDs lists the container directories in the data root.
func (e *env) containerIDs() []string {
	ents, _ := os.ReadDir(filepath.Join(e.Root, "containers"))
	var out []string
	for _, ent := range ents {
		if ent.IsDir() && fullIDRe.MatchString(ent.Name()) {
			out = append(out, ent.Name())
		}
	}
	return out
}

// leftovers says what container id (removed, or about to be) still holds
// on the host: live processes in its cgroups, processes naming its
// directory (the monitor), its cgroup directories, mounts under its
// directory.
func (e *env) leftovers(id string) []string {
	var out []string
	dir := filepath.Join(e.Root, "containers", id)
	for _, pid := range allPids() {
		if !procAlive(pid) {
			continue
		}
		if inContainerCgroup(pid, id) {
			out = append(out, fmt.Sprintf("process %d (%s) in the container's cgroup", pid, procCmdline(pid)))
		} else if strings.Contains(procCmdline(pid), dir) {
			out = append(out, fmt.Sprintf("process %d (%s)", pid, procCmdline(pid)))
		}
	}
	for _, d := range cgroupDirs(id) {
		out = append(out, "cgroup "+d)
	}
	if mps, _ := mountsUnder(dir); len(mps) > 0 {
		out = append(out, fmt.Sprintf("mounts %v", mps))
	}
	return out
}

// assertGone checks that container id was removed completely: not in
// `ps -a`, no directory in the data root, nothing left on the host
// (processes may take a moment to be reaped).
func (e *env) assertGone(id string) {
	e.t.Helper()
	if slices.Contains(e.nerdOK("ps", "-a", "-q", "--no-trunc").Lines(), id) {
		e.t.Errorf("%s still listed by ps -a", id)
	}
	if exists(filepath.Join(e.Root, "containers", id)) {
		e.t.Errorf("container directory %s still exists", id)
	}
	eventually(e.t, 5*time.Second, "free of leftovers of "+id[:12], func() (bool, string) {
		l := e.leftovers(id)
		return len(l) == 0, strings.Join(l, "; ")
	})
}

// cleanupContainers removes every container of the env and checks that
// nothing is left; whatever is, is reported and removed by force.
func (e *env) cleanupContainers(t *testing.T) {
	ids := e.containerIDs()
	if len(ids) > 0 {
		r := e.within(60 * time.Second).nerd(append([]string{"rm", "-f"}, ids...)...)
		if r.Code != 0 {
			t.Errorf("cleanup: rm -f of the test's containers failed:\n%s", r)
		}
	}
	e.cleanupNetworks(t)
	var left []string
	deadline := time.Now().Add(5 * time.Second)
	for {
		left = left[:0]
		for _, id := range ids {
			left = append(left, e.leftovers(id)...)
		}
		// Any process naming the data root (a monitor of a container
		// whose directory is already gone, a hung nerd hook …).
		for _, pid := range allPids() {
			if pid != os.Getpid() && procAlive(pid) && strings.Contains(procCmdline(pid), e.Root+"/") {
				l := fmt.Sprintf("process %d (%s)", pid, procCmdline(pid))
				if !slices.Contains(left, l) {
					left = append(left, l)
				}
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(left) > 0 {
		t.Errorf("cleanup: left behind after rm -f:\n  %s", strings.Join(left, "\n  "))
		e.forceClean(ids)
	}
	rd := e.runtimeDir()
	if ents, err := os.ReadDir(rd); err == nil {
		var names []string
		for _, ent := range ents {
			if strings.HasSuffix(ent.Name(), ".sock") {
				names = append(names, ent.Name())
			}
		}
		if len(names) > 0 {
			t.Errorf("cleanup: sockets left in %s: %v", rd, names)
		}
		if err := safeRemoveAll(rd); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	}
}

// forceClean kills what containers ids left running and removes their
// cgroups, so that a broken nerd does not leak into other tests.
func (e *env) forceClean(ids []string) {
	for i := 0; i < 3; i++ {
		for _, pid := range allPids() {
			if pid == os.Getpid() {
				continue
			}
			kill := strings.Contains(procCmdline(pid), e.Root+"/")
			for _, id := range ids {
				kill = kill || inContainerCgroup(pid, id)
			}
			if kill {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, id := range ids {
		for _, d := range cgroupDirs(id) {
			for _, err := range rmdirTree(d) {
				e.t.Logf("cleanup: %v", err)
			}
		}
	}
}

// rmdirTree removes the cgroup directory dir, children first (libcontainer
// may nest), and returns what could not be removed.
func rmdirTree(dir string) []error {
	var dirs []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	slices.Reverse(dirs)
	var errs []error
	for _, d := range dirs {
		if err := os.Remove(d); err != nil {
			errs = append(errs, fmt.Errorf("rmdir %s: %w", d, err))
		}
	}
	return errs
}

// logEntry is one line of a json-file log.
type logEntry struct {
	Log    string `json:"log"`
	Stream string `json:"stream"`
	Time   string `json:"time"`
}

// readLogFile decodes a json-file log; raw are its lines.
func readLogFile(t testing.TB, path string) (entries []logEntry, raw []string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("log file: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var le logEntry
		if err := json.Unmarshal(sc.Bytes(), &le); err != nil {
			t.Errorf("log line %q is not JSON: %v", sc.Text(), err)
			continue
		}
		entries = append(entries, le)
		raw = append(raw, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return entries, raw
}

// shortSleep pauses a test for d (named so that every wall-clock wait in
// the container tests is easy to find and keep short).
func shortSleep(d time.Duration) { time.Sleep(d) }
