package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestBenchContainers measures the container commands of nerd against
// podman (`make bench`; skipped unless NERD_BENCH=1), in one run, engines
// alternating round by round (nerd, podman, nerd, podman …), NERD_BENCH_RUNS
// rounds (default 5) per engine, medians reported:
//
//  1. `run --rm --network none busybox true`, wall time of the command;
//  2. 20 × `run -d --network none busybox sleep 1000`, one after the other,
//     total wall time;
//  3. `ps -a` with those 20 containers;
//  4. `exec <first of them> true`;
//  5. the monitors' memory with the 20 idle containers: the sum of Pss
//     (/proc/<pid>/smaps_rollup) of every nerd-shim of the data root, or of
//     every conmon of the podman store, and that sum per container;
//  6. `rm -f` of the 20 running containers, one command, wall time;
//  7. logs: a container writes 200 MiB to stdout; wall time from `run -d`
//     through `wait` until `logs` has returned every byte, and the bytes
//     lost (the expected stream minus the longest correct prefix that
//     `logs` returned; must be 0), plus the size of the log file.
//
// Every command's result is checked (exit codes, 20 rows in ps, nothing
// left after rm -f …); a round that fails fails the test.
//
// podman runs as shipped (conmon, Debian's runtime) with everything of its
// own in private places, so that the host's podman is never touched: --root
// and --runroot, its tmp_dir (locks as files, not /dev/shm/libpod_lock; exit
// files; the events log), network config dir and HOME; the runtime's state
// root (through a two-line wrapper script: exec runtime --root DIR "$@",
// about 1 ms per runtime call) and a cgroup parent of its own
// (--cgroup-parent on run). It gets the test's own rlimits as its default
// ulimits (it would ask for more than the hard limit, which fails without
// CAP_SYS_RESOURCE), crun first and runc if crun cannot run containers here
// (crun refuses cgroup v1 hybrid hosts), `--network none` like nerd, the
// k8s-file log driver (its default without journald), and `rm -f -t 0`:
// Docker's `rm -f` kills at once, podman's waits for the stop timeout unless
// told -t 0. The image is pulled once, untimed, before the rounds (podman's
// pull in a mount namespace of its own where /var/lib/containers is a
// tmpfs: c/image writes its blob-info cache there whatever --root says).
// Docker is reported as skipped: its engine cannot be given a private data
// root by a test, and none runs here.
//
// NERD_BENCH_PODMAN (podman binary, or "none"), NERD_BENCH_DIR (where the
// stores live, default /var/tmp) and NERD_BENCH_RUNS work as for
// TestBenchPull; NERD_BENCH_PODMAN_RUNTIME forces podman's OCI runtime
// (crun, runc or a path).
func TestBenchContainers(t *testing.T) {
	skipUnlessBench(t)
	runs := benchRuns(t)
	dir := benchStoreDir(t, "nerd-cbench-")

	var notes []string
	engines := []*ctrEngine{newNerdCtrEngine(t, dir)}
	if p, skipped := benchPodman(); p == "" {
		notes = append(notes, skipped)
	} else {
		pe, note := newPodmanCtrEngine(t, dir, p)
		notes = append(notes, note)
		if pe != nil {
			engines = append(engines, pe)
		}
	}
	notes = append(notes, dockerNote(engines[0].e))
	for _, n := range notes {
		t.Log(n)
	}

	// One untimed warm-up per engine: binaries, image and overlay code in
	// the page cache, the stores' first-use work done.
	for _, b := range engines {
		b.ok(t, b.runArgs("--rm", b.image, "true")...)
		id := b.runD(t, b.image, "sleep", "1000")
		b.ok(t, b.rmArgs(id)...)
		b.assertNoContainers(t)
	}

	res := map[string]*ctrSeries{}
	for _, b := range engines {
		res[b.name] = &ctrSeries{}
	}
	for run := 1; run <= runs; run++ {
		for _, b := range engines {
			s := res[b.name]
			b.round(t, s)
			t.Logf("%-6s run %d/%d: %s", b.name, run, runs, s.last())
		}
	}

	table := ctrBenchTable(engines, res, runs, notes)
	fmt.Print("\n" + table + "\n")
	t.Log("\n" + table)
}

const (
	ctrBenchN       = 20        // containers for run -d, ps, exec, PSS, rm -f
	ctrBenchLogSize = 200 << 20 // bytes a container writes for the logs test
	// ctrBenchLine is what `yes` repeats (70 characters and a newline):
	// 200 MiB of it end in the middle of a line, so the last line has no
	// newline.
	ctrBenchLine = "0123456789012345678901234567890123456789012345678901234567890123456789"
)

// ctrEngine drives one engine's CLI.
type ctrEngine struct {
	name    string
	version string
	e       *env
	image   string
	// global is the engine's CLI with the options every command gets.
	global []string
	// runOpts go right after `run` (podman: its own cgroup parent).
	runOpts []string
	// rmOpts go right after `rm` (podman: -t 0).
	rmOpts []string
	// monitors lists the pids of the engine's per-container monitors.
	monitors func(t *testing.T) []int
	// logFile is where the container's log lands.
	logFile func(t *testing.T, id string) string
}

func (b *ctrEngine) argv(args ...string) []string {
	return append(slices.Clone(b.global), args...)
}

func (b *ctrEngine) runArgs(args ...string) []string {
	out := append([]string{"run"}, b.runOpts...)
	out = append(out, "--network", "none")
	return append(out, args...)
}

func (b *ctrEngine) rmArgs(ids ...string) []string {
	out := append([]string{"rm", "-f"}, b.rmOpts...)
	return append(out, ids...)
}

// cmd runs one command of the engine; Took is its wall time, process start
// to exit.
func (b *ctrEngine) cmd(args ...string) result {
	argv := b.argv(args...)
	r := b.e.run(nil, argv[0], argv[1:]...)
	r.Args[0] = b.name
	return r
}

// ok runs a command and fails the test unless it exits 0.
func (b *ctrEngine) ok(t *testing.T, args ...string) result {
	t.Helper()
	r := b.cmd(args...)
	if r.Code != 0 {
		t.Fatalf("%s: command failed:\n%s", b.name, r)
	}
	return r
}

// runD runs `run -d args…` and returns the container's full ID.
func (b *ctrEngine) runD(t *testing.T, args ...string) string {
	t.Helper()
	r := b.ok(t, b.runArgs(append([]string{"-d"}, args...)...)...)
	id := strings.TrimSpace(r.Stdout)
	if !fullIDRe.MatchString(id) {
		t.Fatalf("%s: run -d printed %q, want a 64-hex container ID:\n%s", b.name, r.Stdout, r)
	}
	return id
}

// assertNoContainers fails the test unless `ps -a -q` is empty.
func (b *ctrEngine) assertNoContainers(t *testing.T) {
	t.Helper()
	if r := b.ok(t, "ps", "-a", "-q"); len(r.Lines()) > 0 {
		t.Fatalf("%s: containers left over: %v", b.name, r.Lines())
	}
}

// ctrSeries is one engine's samples, one per round.
type ctrSeries struct {
	runRm, runD, ps, exec, rm, logs []time.Duration
	pss                             []int // kB, all monitors of the 20 idle containers
	rss                             []int // kB
	monitors                        []int // how many monitors were found
	lost, extra, logFile            []int64
}

func (s *ctrSeries) last() string {
	n := len(s.runRm) - 1
	return fmt.Sprintf("run --rm %.3fs, %d×run -d %.3fs, ps -a %.3fs, exec %.3fs, PSS %d kB (%d monitors), rm -f %.3fs, logs %.3fs (lost %d, extra %d, log file %.1f MB)",
		s.runRm[n].Seconds(), ctrBenchN, s.runD[n].Seconds(), s.ps[n].Seconds(), s.exec[n].Seconds(), s.pss[n], s.monitors[n],
		s.rm[n].Seconds(), s.logs[n].Seconds(), s.lost[n], s.extra[n], float64(s.logFile[n])/1e6)
}

// round is one sample of every benchmark.
func (b *ctrEngine) round(t *testing.T, s *ctrSeries) {
	t.Helper()
	// 1. run --rm true.
	r := b.ok(t, b.runArgs("--rm", b.image, "true")...)
	s.runRm = append(s.runRm, r.Took)
	b.assertNoContainers(t)

	// 2. 20 × run -d.
	var ids []string
	var total time.Duration
	for i := 0; i < ctrBenchN; i++ {
		r := b.ok(t, b.runArgs("-d", b.image, "sleep", "1000")...)
		id := strings.TrimSpace(r.Stdout)
		if !fullIDRe.MatchString(id) {
			t.Fatalf("%s: run -d printed %q, want a 64-hex container ID:\n%s", b.name, r.Stdout, r)
		}
		ids = append(ids, id)
		total += r.Took
	}
	s.runD = append(s.runD, total)

	// 3. ps -a.
	r = b.ok(t, "ps", "-a")
	if got := len(r.Lines()); got != ctrBenchN+1 {
		t.Fatalf("%s: ps -a printed %d lines, want a header and %d containers:\n%s", b.name, got, ctrBenchN, r)
	}
	s.ps = append(s.ps, r.Took)

	// 4. exec true.
	r = b.ok(t, "exec", ids[0], "true")
	s.exec = append(s.exec, r.Took)

	// 5. The monitors of the idle containers (the exec's has settled too).
	shortSleep(2 * time.Second)
	pids := b.monitors(t)
	if len(pids) != ctrBenchN {
		t.Errorf("%s: found %d monitor processes for %d containers: %v", b.name, len(pids), ctrBenchN, pids)
	}
	var pss, rss int
	for _, pid := range pids {
		r, p, err := readSmapsRollup(pid)
		if err != nil {
			t.Fatalf("%s: monitor %d: %v", b.name, pid, err)
		}
		rss += r
		pss += p
	}
	s.pss = append(s.pss, pss)
	s.rss = append(s.rss, rss)
	s.monitors = append(s.monitors, len(pids))

	// 6. rm -f of the 20 running containers.
	r = b.ok(t, b.rmArgs(ids...)...)
	s.rm = append(s.rm, r.Took)
	b.assertNoContainers(t)
	if pids := b.monitors(t); len(pids) > 0 {
		// Monitors may take a moment to go once their container is gone.
		eventually(t, 10*time.Second, b.name+" monitors gone after rm -f", func() (bool, string) {
			p := b.monitors(t)
			return len(p) == 0, fmt.Sprint(p)
		})
	}

	// 7. 200 MiB of logs.
	b.logsRound(t, s)
}

// logsRound times run -d → wait → logs of a container that writes
// ctrBenchLogSize bytes to stdout, and checks what logs returns.
func (b *ctrEngine) logsRound(t *testing.T, s *ctrSeries) {
	t.Helper()
	script := fmt.Sprintf("yes %s | head -c %d", ctrBenchLine, ctrBenchLogSize)
	t0 := time.Now()
	id := b.runD(t, b.image, "sh", "-c", script)
	if r := b.ok(t, "wait", id); strings.TrimSpace(r.Stdout) != "0" {
		t.Fatalf("%s: the log writer exited with %q, want 0:\n%s", b.name, r.Stdout, r)
	}
	// logs must have it all once wait returned; if it does not, poll a
	// little while (the bytes that never come are the ones lost).
	var got logCheck
	deadline := time.Now().Add(10 * time.Second)
	for {
		var err error
		got, err = b.readLogs(id)
		if err != nil {
			t.Fatalf("%s: logs %s: %v", b.name, id, err)
		}
		if got.correct == ctrBenchLogSize || time.Now().After(deadline) {
			break
		}
		shortSleep(200 * time.Millisecond)
	}
	s.logs = append(s.logs, time.Since(t0))
	s.lost = append(s.lost, ctrBenchLogSize-got.correct)
	s.extra = append(s.extra, got.total-got.correct)
	var size int64
	if p := b.logFile(t, id); p != "" {
		// The file and its rotations (<log>.1 …), if any.
		files, _ := filepath.Glob(p + "*")
		for _, f := range files {
			if fi, err := os.Stat(f); err == nil {
				size += fi.Size()
			}
		}
	}
	s.logFile = append(s.logFile, size)
	if got.correct != ctrBenchLogSize {
		t.Errorf("%s: logs returned %d bytes of which the first %d are right, want %d: %d bytes lost", b.name,
			got.total, got.correct, ctrBenchLogSize, ctrBenchLogSize-got.correct)
	}
	b.ok(t, b.rmArgs(id)...)
	b.assertNoContainers(t)
}

// logCheck is what one `logs` returned: total bytes on stdout, and the
// length of its prefix that matches the stream the container wrote.
type logCheck struct{ total, correct int64 }

// readLogs runs `logs id`, streaming stdout through a checker.
func (b *ctrEngine) readLogs(id string) (logCheck, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	argv := b.argv("logs", id)
	cmd := b.e.program(ctx, argv[0], argv[1:]...)
	w := &streamChecker{line: []byte(ctrBenchLine + "\n"), limit: ctrBenchLogSize}
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = w, &stderr
	if err := cmd.Run(); err != nil {
		return logCheck{}, fmt.Errorf("%v: %s", err, stderr.String())
	}
	return logCheck{total: w.total, correct: w.correct}, nil
}

// streamChecker counts the bytes written to it and how many of the first
// ones match `line` repeated, cut at limit.
type streamChecker struct {
	line           []byte
	limit          int64
	total, correct int64
	broken         bool
}

func (c *streamChecker) Write(p []byte) (int, error) {
	n := len(p)
	for !c.broken && len(p) > 0 && c.correct < c.limit {
		off := int(c.correct % int64(len(c.line)))
		want := c.line[off:]
		if rest := c.limit - c.correct; int64(len(want)) > rest {
			want = want[:rest]
		}
		k := min(len(want), len(p))
		if !bytes.Equal(p[:k], want[:k]) {
			for i := 0; i < k && p[i] == want[i]; i++ {
				c.correct++
			}
			c.broken = true
			break
		}
		c.correct += int64(k)
		p = p[k:]
	}
	c.total += int64(n)
	return n, nil
}

// readSmapsRollup returns Rss and Pss (kB) of pid.
func readSmapsRollup(pid int) (rss, pss int, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.Atoi(f[1])
		switch f[0] {
		case "Rss:":
			rss = v
		case "Pss:":
			pss = v
		}
	}
	return rss, pss, nil
}

// procExe is the base name of the executable of pid (/proc/<pid>/exe;
// unlike comm it survives nerd-shim's re-exec through /proc/self/exe).
func procExe(pid int) string {
	p, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		return ""
	}
	return filepath.Base(strings.TrimSuffix(p, " (deleted)"))
}

// procsOf lists the live processes running the executable named exe whose
// command line has sub.
func procsOf(exe, sub string) []int {
	var out []int
	for _, pid := range allPids() {
		if procExe(pid) == exe && procAlive(pid) && strings.Contains(procCmdline(pid), sub) {
			out = append(out, pid)
		}
	}
	return out
}

// newNerdCtrEngine is nerd with a data root of its own under dir; busybox
// comes by its short name through the test registry (the docker.io mirror).
func newNerdCtrEngine(t *testing.T, dir string) *ctrEngine {
	t.Helper()
	e := newEnv(t)
	e.Timeout = 5 * time.Minute
	e.Root = filepath.Join(dir, "nerd")
	e.writeConfig()
	// After newEnv's cleanup in order, so it runs before it: every
	// container removed and checked for leftovers, then the mounts under
	// the data root.
	t.Cleanup(func() {
		if err := unmountUnder(e.Root); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	t.Cleanup(func() { e.cleanupContainers(t) })
	b := &ctrEngine{name: "nerd", e: e, image: "busybox", global: []string{nerdBin}}
	if r := e.nerd("version", "--format", "{{.Client.Version}}"); r.Code == 0 {
		b.version = strings.TrimSpace(r.Stdout)
	}
	b.monitors = func(t *testing.T) []int {
		// Every nerd-shim serving a container of this data root.
		pids := procsOf("nerd-shim", "--dir "+filepath.Join(e.Root, "containers")+"/")
		// Each must be a container's recorded monitor.
		for _, pid := range pids {
			id := ""
			if f := strings.Fields(procCmdline(pid)); slices.Contains(f, "--id") {
				if i := slices.Index(f, "--id"); i+1 < len(f) {
					id = f[i+1]
				}
			}
			if !fullIDRe.MatchString(id) {
				t.Errorf("nerd-shim %d: no container id in %q", pid, procCmdline(pid))
				continue
			}
			var st stateFile
			if data, err := os.ReadFile(filepath.Join(e.Root, "containers", id, "state.json")); err == nil {
				_ = json.Unmarshal(data, &st)
			}
			if st.MonitorPid != pid && st.Status != "" {
				t.Errorf("nerd-shim %d serves %s, whose state.json names monitor %d", pid, id[:12], st.MonitorPid)
			}
		}
		return pids
	}
	b.logFile = func(t *testing.T, id string) string {
		r := e.nerdOK("container", "inspect", "--format", "{{.LogPath}}", id)
		return strings.TrimSpace(r.Stdout)
	}
	e.pullOK(b.image)
	return b
}

// newPodmanCtrEngine sets podman up with everything of its own under dir
// and /run/nerd-cbench-*, pulls busybox from the test registry, and finds
// an OCI runtime that works here. It returns nil (and why) if none does.
func newPodmanCtrEngine(t *testing.T, dir, bin string) (*ctrEngine, string) {
	t.Helper()
	e := newEnv(t)
	e.Timeout = 5 * time.Minute
	root := filepath.Join(dir, "podman")
	// podman wants a short runroot; it and the tmp dir are on tmpfs (/run)
	// as usual.
	runBase, err := os.MkdirTemp("/run", "nerd-cbench-")
	if err != nil {
		t.Fatal(err)
	}
	cgParent := "/" + filepath.Base(runBase)
	runroot, tmpDir := filepath.Join(runBase, "rr"), filepath.Join(runBase, "tmp")
	conf := filepath.Join(e.Dir, "containers")
	for _, d := range []string{conf, filepath.Join(e.Dir, "net")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	regConf, storConf, ctrConf := filepath.Join(conf, "registries.conf"), filepath.Join(conf, "storage.conf"), filepath.Join(conf, "containers.conf")
	if err := os.WriteFile(regConf, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// podman (unlike Docker and nerd) fails on a DOCKER_CONFIG without config.json.
	if err := os.WriteFile(filepath.Join(e.DockerConfig, "config.json"), []byte("{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	stor := "[storage]\ndriver = \"overlay\"\nrunroot = \"/run/containers/storage\"\ngraphroot = \"/var/lib/containers/storage\"\n"
	if err := os.WriteFile(storConf, []byte(stor), 0o644); err != nil {
		t.Fatal(err)
	}
	e.ExtraEnv = append(e.ExtraEnv, "CONTAINERS_CONF="+ctrConf, "CONTAINERS_REGISTRIES_CONF="+regConf, "CONTAINERS_STORAGE_CONF="+storConf)
	global := []string{bin, "--root", root, "--runroot", runroot, "--storage-driver", "overlay",
		"--cgroup-manager", "cgroupfs", "--events-backend", "file"}
	b := &ctrEngine{name: "podman", e: e, global: global, image: reg.ref("library/busybox:latest"),
		runOpts: []string{"--cgroup-parent", cgParent}, rmOpts: []string{"-t", "0"}}

	// Cleanup, registered before anything is made: every container
	// removed, the store reset, then whatever is left killed, unmounted
	// and removed, the cgroup parent last.
	t.Cleanup(func() {
		if exists(root) {
			if r := b.cmd("rm", "-a", "-f", "-t", "0"); r.Code != 0 {
				t.Errorf("cleanup: %s", r)
			}
			if r := b.cmd("system", "reset", "-f"); r.Code != 0 {
				t.Errorf("cleanup: %s", r)
			}
		}
		killUnder(t, root, runBase)
		for _, d := range []string{root, runBase} {
			if err := safeRemoveAll(d); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		}
		removeCgroupTree(t, cgParent)
	})

	// Default ulimits: the test's own (podman asks for 1048576 open files
	// and 4194304 processes, more than the hard limits here, and lowers
	// its own process limit to 32768 before it starts the runtime).
	var nofile, nproc unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &nofile); err != nil {
		t.Fatal(err)
	}
	if err := unix.Getrlimit(unix.RLIMIT_NPROC, &nproc); err != nil {
		t.Fatal(err)
	}
	nofileMax := min(nofile.Max, 1048576)
	nprocMax := min(nproc.Max, 32768)
	writeConf := func(runtime, wrapper string) {
		t.Helper()
		c := fmt.Sprintf(`[containers]
log_driver = "k8s-file"
default_ulimits = ["nofile=%d:%d", "nproc=%d:%d"]

[network]
network_config_dir = %q

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = %q
volume_path = %q
lock_type = "file"
runtime = %q

[engine.runtimes]
%s = [%q]
`, nofileMax, nofileMax, nprocMax, nprocMax, filepath.Join(e.Dir, "net"), tmpDir, filepath.Join(root, "volumes"), runtime, runtime, wrapper)
		if err := os.WriteFile(ctrConf, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeConf("crun", "/usr/bin/crun") // for the pull; the runtime is chosen below

	if r := b.cmd("version", "--format", "{{.Client.Version}}"); r.Code == 0 {
		b.version = strings.TrimSpace(r.Stdout)
	}
	if err := podmanPull(b, b.image); err != nil {
		t.Fatalf("podman: pulling %s: %v", b.image, err)
	}

	// The runtime: NERD_BENCH_PODMAN_RUNTIME, else crun, else runc — the
	// first that runs a container here.
	cands := []string{"crun", "runc"}
	if v := os.Getenv("NERD_BENCH_PODMAN_RUNTIME"); v != "" {
		cands = []string{v}
	}
	var tried []string
	for _, c := range cands {
		path, err := exec.LookPath(c)
		if err != nil {
			tried = append(tried, fmt.Sprintf("%s: %v", c, err))
			continue
		}
		name := filepath.Base(path)
		stateRoot := filepath.Join(runBase, name)
		wrapper := filepath.Join(e.Dir, "runtime-"+name)
		script := fmt.Sprintf("#!/bin/sh\nexec %s --root %s \"$@\"\n", path, stateRoot)
		if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		writeConf(name, wrapper)
		r := b.cmd(b.runArgs("--rm", b.image, "true")...)
		if r.Code != 0 {
			tried = append(tried, fmt.Sprintf("%s: %s", name, firstLine(r.Stderr)))
			b.cmd("rm", "-a", "-f", "-t", "0")
			continue
		}
		rtVersion := name
		if out, err := exec.Command(path, "--version").Output(); err == nil {
			rtVersion = firstLine(string(out))
		}
		conmon := "conmon"
		if out, err := exec.Command("conmon", "--version").Output(); err == nil {
			conmon = firstLine(string(out))
		}
		b.version += fmt.Sprintf(" (%s; %s)", rtVersion, conmon)
		b.monitors = func(t *testing.T) []int { return procsOf("conmon", root+"/") }
		b.logFile = func(t *testing.T, id string) string {
			r := b.ok(t, "container", "inspect", "--format", "{{.HostConfig.LogConfig.Path}}", id)
			return strings.TrimSpace(r.Stdout)
		}
		note := fmt.Sprintf("podman: runtime %s", name)
		if len(tried) > 0 {
			note += fmt.Sprintf(" (not usable here: %s)", strings.Join(tried, "; "))
		}
		return b, note
	}
	return nil, fmt.Sprintf("podman: skipped, no OCI runtime runs containers here (%s), nerd only", strings.Join(tried, "; "))
}

// podmanPull pulls ref (plain HTTP, the test registry) in a mount namespace
// of its own where the default containers dir is a fresh tmpfs, so that the
// blob-info cache c/image keeps there (whatever --root says) stays the
// host's untouched.
func podmanPull(b *ctrEngine, ref string) error {
	mp := "/var/lib"
	for _, d := range []string{"/var/lib/containers/cache", "/var/lib/containers"} {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			mp = d
			break
		}
	}
	argv := append([]string{"unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
		`mount -t tmpfs -o size=64m,mode=0700 nerd-cbench "$0" && exec "$@"`, mp},
		b.argv("pull", "--tls-verify=false", ref)...)
	r := b.e.run(nil, argv[0], argv[1:]...)
	if r.Code != 0 {
		return errors.New(r.String())
	}
	return nil
}

// killUnder SIGKILLs every process whose command line names one of dirs
// (conmon, containers' sleep are in the cgroups; this catches what the
// engine lost track of).
func killUnder(t *testing.T, dirs ...string) {
	for i := 0; i < 3; i++ {
		found := false
		for _, pid := range allPids() {
			if pid == os.Getpid() || !procAlive(pid) {
				continue
			}
			cl := procCmdline(pid)
			for _, d := range dirs {
				if strings.Contains(cl, d+"/") {
					t.Errorf("cleanup: killing leftover process %d (%s)", pid, cl)
					_ = syscall.Kill(pid, syscall.SIGKILL)
					found = true
					break
				}
			}
		}
		if !found {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// removeCgroupTree removes the cgroup directory rel (e.g. "/nerd-cbench-1")
// in every hierarchy, children first; what still has processes stays and is
// reported.
func removeCgroupTree(t *testing.T, rel string) {
	if rel == "" || rel == "/" {
		return
	}
	tops, _ := filepath.Glob("/sys/fs/cgroup/*" + rel)
	if m, _ := filepath.Glob("/sys/fs/cgroup" + rel); len(m) > 0 {
		tops = append(tops, m...)
	}
	for _, top := range tops {
		for _, err := range rmdirTree(top) {
			t.Errorf("cleanup: %v", err)
		}
	}
}

// dockerNote says why Docker is not in the table.
func dockerNote(e *env) string {
	p, err := exec.LookPath("docker")
	if err != nil {
		return "Docker: skipped (no docker CLI, no engine)"
	}
	// Through a symlink to nerd (the docker link of the e2e tests) it
	// would be nerd again.
	if real, err := filepath.EvalSymlinks(p); err == nil && real == nerdBin {
		return "Docker: skipped (docker on PATH is nerd)"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := e.program(ctx, p, "version", "--format", "{{.Server.Version}}")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Sprintf("Docker: skipped (client only, no engine running here: %s)", firstLine(string(out)))
	}
	return fmt.Sprintf("Docker: skipped (engine %s is running, but a test cannot give it a data root of its own)", strings.TrimSpace(string(out)))
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// medianDur is the median, min and max of v (through TestBenchPull's
// benchResult.stats, so both benchmarks compute them alike).
func medianDur(v []time.Duration) (median, lo, hi time.Duration) {
	r := benchResult{samples: make([]benchSample, len(v))}
	for i, d := range v {
		r.samples[i].wall = d
	}
	return r.stats(func(s benchSample) time.Duration { return s.wall })
}

// medianInt is the median, min and max of v.
func medianInt[T int | int64](v []T) (median, lo, hi T) {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	median = s[n/2]
	if n%2 == 0 {
		median = (s[n/2-1] + s[n/2]) / 2
	}
	return median, s[0], s[n-1]
}

// ctrBenchTable prints the medians side by side with the ratio nerd/podman
// and the goals.
func ctrBenchTable(engines []*ctrEngine, res map[string]*ctrSeries, runs int, notes []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "containers: busybox, --network none; %d rounds per engine (engines alternating), medians\n", runs)
	for _, e := range engines {
		fmt.Fprintf(&b, "  %s %s\n", e.name, e.version)
	}
	for _, n := range notes {
		fmt.Fprintf(&b, "  %s\n", n)
	}
	b.WriteString("\n")
	nerd, pod := res["nerd"], res["podman"]
	line := func(name, n, p, ratio, goal string) {
		l := fmt.Sprintf("%-36s %10s %10s %11s  %s", name, n, p, ratio, goal)
		b.WriteString(strings.TrimRight(l, " ") + "\n")
	}
	line("BENCHMARK", "NERD", "PODMAN", "NERD/PODMAN", "GOAL")
	timeRow := func(name string, f func(*ctrSeries) []time.Duration) {
		nm, _, _ := medianDur(f(nerd))
		ps, ratio, goal := "-", "-", "nerd/podman ≤ 0.50: no peer"
		if pod != nil {
			pm, _, _ := medianDur(f(pod))
			ps = fmt.Sprintf("%.3fs", pm.Seconds())
			r := nm.Seconds() / pm.Seconds()
			ratio = fmt.Sprintf("%.2f", r)
			goal = "≤ 0.50: met"
			if r > 0.5 {
				goal = "≤ 0.50: NOT met"
			}
		}
		line(name, fmt.Sprintf("%.3fs", nm.Seconds()), ps, ratio, goal)
	}
	timeRow("run --rm true", func(s *ctrSeries) []time.Duration { return s.runRm })
	timeRow(fmt.Sprintf("%d × run -d (total)", ctrBenchN), func(s *ctrSeries) []time.Duration { return s.runD })
	timeRow(fmt.Sprintf("ps -a (%d containers)", ctrBenchN), func(s *ctrSeries) []time.Duration { return s.ps })
	timeRow("exec true", func(s *ctrSeries) []time.Duration { return s.exec })
	timeRow(fmt.Sprintf("rm -f %d running (total)", ctrBenchN), func(s *ctrSeries) []time.Duration { return s.rm })
	timeRow("logs: 200 MiB run -d → all in logs", func(s *ctrSeries) []time.Duration { return s.logs })

	kb := func(s *ctrSeries, f func(*ctrSeries) []int) int { m, _, _ := medianInt(f(s)); return m }
	pssOf := func(s *ctrSeries) []int { return s.pss }
	nPss := kb(nerd, pssOf)
	pTot, pPer, pRatio := "-", "-", "-"
	if pod != nil {
		pp := kb(pod, pssOf)
		pTot = fmt.Sprintf("%d kB", pp)
		pPer = fmt.Sprintf("%d kB", pp/ctrBenchN)
		pRatio = fmt.Sprintf("%.2f", float64(nPss)/float64(pp))
	}
	line(fmt.Sprintf("monitor PSS, %d idle (total)", ctrBenchN), fmt.Sprintf("%d kB", nPss), pTot, pRatio, "")
	goal := "≤ 1024 kB: met"
	if nPss/ctrBenchN > 1024 {
		goal = "≤ 1024 kB: NOT met"
	}
	line("monitor PSS per container", fmt.Sprintf("%d kB", nPss/ctrBenchN), pPer, pRatio, goal)

	lostRow := func(name string, f func(*ctrSeries) []int64, goal bool) {
		worst := func(s *ctrSeries) int64 { _, _, hi := medianInt(f(s)); return hi }
		n := worst(nerd)
		p := "-"
		if pod != nil {
			p = strconv.FormatInt(worst(pod), 10)
		}
		g := ""
		if goal {
			g = "= 0: met"
			if n != 0 {
				g = "= 0: NOT met"
			}
		}
		line(name, strconv.FormatInt(n, 10), p, "", g)
	}
	lostRow("logs: bytes lost (worst round)", func(s *ctrSeries) []int64 { return s.lost }, true)
	lostRow("logs: extra bytes (worst round)", func(s *ctrSeries) []int64 { return s.extra }, false)
	size := func(s *ctrSeries) string {
		m, _, _ := medianInt(s.logFile)
		return fmt.Sprintf("%.1f MB", float64(m)/1e6)
	}
	ps := "-"
	if pod != nil {
		ps = size(pod)
	}
	line("logs: log file size", size(nerd), ps, "", "(json-file; podman: k8s-file)")

	b.WriteString("\nmin–max per engine:\n")
	for _, e := range engines {
		s := res[e.name]
		var parts []string
		for _, x := range []struct {
			name string
			v    []time.Duration
		}{{"run --rm", s.runRm}, {"run -d×20", s.runD}, {"ps", s.ps}, {"exec", s.exec}, {"rm -f×20", s.rm}, {"logs", s.logs}} {
			_, lo, hi := medianDur(x.v)
			parts = append(parts, fmt.Sprintf("%s %.3f–%.3fs", x.name, lo.Seconds(), hi.Seconds()))
		}
		_, plo, phi := medianInt(s.pss)
		rm, _, _ := medianInt(s.rss)
		parts = append(parts, fmt.Sprintf("PSS %d–%d kB (RSS median %d kB)", plo, phi, rm))
		fmt.Fprintf(&b, "  %-6s %s\n", e.name, strings.Join(parts, ", "))
	}
	b.WriteString("\nTimes are wall times of the commands, process start to exit. Goals (issue 3): each time ≤ 0.5× the fastest peer,\n")
	b.WriteString("monitor PSS ≤ 1 MB per idle container, no log bytes lost.\n")
	return b.String()
}
