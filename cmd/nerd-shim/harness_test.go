package main

// Test harness: real containers from a busybox-static layer, driven
// through the built nerd-shim and nerd-shim-runc binaries exactly as the
// engine drives them. Needs root (and /bin/busybox); skipped otherwise.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/nerd-project/nerd/pkg/container"
)

const cgroupParent = "nerd-test"

var (
	shimBin    string // built nerd-shim ("" when the tests cannot run)
	skipReason string
	snapRoot   string // snapshot root holding the busybox layer "busybox"
	testRoot   string
)

func TestMain(m *testing.M) {
	code := func() int {
		if os.Geteuid() != 0 {
			skipReason = "needs root"
			return m.Run()
		}
		if _, err := os.Stat("/bin/busybox"); err != nil {
			skipReason = "needs /bin/busybox (busybox-static)"
			return m.Run()
		}
		var err error
		// Short: the socket path must stay readable in error messages.
		if testRoot, err = os.MkdirTemp("/tmp", "nst-"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(testRoot)
		defer sweep()
		if err := build(testRoot); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if err := busyboxLayer(filepath.Join(testRoot, "snapshots")); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}

func build(dir string) error {
	bin := filepath.Join(dir, "bin")
	for _, b := range [][]string{
		{"build", "-o", filepath.Join(bin, "nerd-shim"), "."},
		{"build", "-tags", "seccomp", "-o", filepath.Join(bin, "nerd-shim-runc"), "./nerd-shim-runc"},
	} {
		out, err := exec.Command("go", b...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("go %s: %v\n%s", strings.Join(b, " "), err, out)
		}
	}
	shimBin = filepath.Join(bin, "nerd-shim")
	return nil
}

// busyboxLayer makes the snapshot <root>/busybox/fs: busybox and its
// applet links.
func busyboxLayer(root string) error {
	snapRoot = root
	fs := filepath.Join(root, "busybox", "fs")
	for _, d := range []string{"bin", "proc", "dev", "sys", "tmp", "etc", "root"} {
		if err := os.MkdirAll(filepath.Join(fs, d), 0o755); err != nil {
			return err
		}
	}
	data, err := os.ReadFile("/bin/busybox")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(fs, "bin", "busybox"), data, 0o755); err != nil {
		return err
	}
	out, err := exec.Command("/bin/busybox", "--list").Output()
	if err != nil {
		return err
	}
	for _, a := range strings.Fields(string(out)) {
		if a != "busybox" {
			_ = os.Symlink("busybox", filepath.Join(fs, "bin", a))
		}
	}
	return os.WriteFile(filepath.Join(fs, "etc", "passwd"), []byte("root:x:0:0:root:/root:/bin/sh\n"), 0o644)
}

// sweep is the last line of cleanup, for whatever a failed test left:
// monitors (found by their command line), container processes (by cgroup)
// and mounts under the test root.
func sweep() {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		if b, err := os.ReadFile(p); err == nil && bytes.Contains(b, []byte(testRoot+"/")) {
			if pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p))); pid > 0 && pid != os.Getpid() {
				_ = unix.Kill(pid, unix.SIGKILL)
			}
		}
	}
	cgs, _ := filepath.Glob("/sys/fs/cgroup/*/" + cgroupParent + "/*/cgroup.procs")
	for _, f := range cgs {
		if b, err := os.ReadFile(f); err == nil {
			for _, s := range strings.Fields(string(b)) {
				if pid, _ := strconv.Atoi(s); pid > 0 {
					_ = unix.Kill(pid, unix.SIGKILL)
				}
			}
		}
	}
	if b, err := os.ReadFile("/proc/self/mountinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) > 4 && strings.HasPrefix(f[4], testRoot+"/") {
				_ = unix.Unmount(f[4], unix.MNT_DETACH)
			}
		}
	}
	time.Sleep(100 * time.Millisecond)
	for _, f := range cgs {
		_ = os.Remove(filepath.Dir(f))
	}
	removeCgroupParent()
}

func removeCgroupParent() {
	dirs, _ := filepath.Glob("/sys/fs/cgroup/*/" + cgroupParent)
	dirs = append(dirs, "/sys/fs/cgroup/"+cgroupParent)
	for _, d := range dirs {
		_ = os.Remove(d)
	}
}

// ctr is one test container.
type ctr struct {
	t     *testing.T
	id    string
	p     container.Paths
	rec   *container.Record
	spec  *specs.Spec
	shim  *exec.Cmd
	waitC chan struct{} // closed when the shim process is reaped
}

// newCtr writes a container (record, spec, dirs) running args; edit
// adjusts record and spec.
func newCtr(t *testing.T, args []string, edit func(*container.Record, *specs.Spec)) *ctr {
	t.Helper()
	if shimBin == "" {
		t.Skip(skipReason)
	}
	id := fmt.Sprintf("t%d%s", time.Now().UnixNano()%1e9, strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")))
	if len(id) > 40 {
		id = id[:40]
	}
	dir := filepath.Join(testRoot, "containers", id)
	c := &ctr{t: t, id: id, p: container.Paths{Dir: dir, RunDir: filepath.Join(testRoot, "run"), ID: id}}
	for _, d := range []string{c.p.Upper(), c.p.Work()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	c.rec = &container.Record{
		ID: id, Name: id, Created: time.Now().UTC(), Image: "busybox", Path: args[0], Args: args[1:],
		Config:       container.Config{Cmd: args, Image: "busybox"},
		HostConfig:   container.HostConfig{LogConfig: container.LogConfig{Type: "json-file"}, RestartPolicy: container.RestartPolicy{Name: "no"}},
		Snapshots:    []string{"busybox"},
		SnapshotRoot: snapRoot,
	}
	c.spec = testSpec(c.p, args)
	if edit != nil {
		edit(c.rec, c.spec)
	}
	c.spec.Process.Terminal = c.rec.Config.Tty
	if err := container.WriteRecord(c.p, c.rec); err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(c.spec)
	if err := os.WriteFile(c.p.Spec(), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := container.WriteState(c.p, &container.State{Status: container.StatusCreated}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.cleanup)
	return c
}

func testSpec(p container.Paths, args []string) *specs.Spec {
	return &specs.Spec{
		Version: specs.Version,
		Root:    &specs.Root{Path: p.Rootfs()},
		Process: &specs.Process{
			Args: args, Cwd: "/",
			Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"},
			Capabilities: &specs.LinuxCapabilities{
				Bounding:  []string{"CAP_KILL", "CAP_SETUID", "CAP_SETGID", "CAP_CHOWN", "CAP_DAC_OVERRIDE"},
				Permitted: []string{"CAP_KILL", "CAP_SETUID", "CAP_SETGID", "CAP_CHOWN", "CAP_DAC_OVERRIDE"},
				Effective: []string{"CAP_KILL", "CAP_SETUID", "CAP_SETGID", "CAP_CHOWN", "CAP_DAC_OVERRIDE"},
			},
			Rlimits: []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 1024, Soft: 1024}},
		},
		Hostname: "shimtest",
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
			{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}},
			{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
			{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		},
		Linux: &specs.Linux{
			CgroupsPath:   "/" + cgroupParent + "/" + p.ID,
			MaskedPaths:   []string{"/proc/kcore", "/proc/keys", "/sys/firmware"},
			ReadonlyPaths: []string{"/proc/sys", "/proc/sysrq-trigger"},
			Resources:     &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}},
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace}, {Type: specs.NetworkNamespace}, {Type: specs.IPCNamespace},
				{Type: specs.UTSNamespace}, {Type: specs.MountNamespace},
			},
		},
	}
}

// noPidNS makes the init an ordinary process (a signal without a handler
// kills it, unlike a pid namespace's init).
func noPidNS(_ *container.Record, s *specs.Spec) {
	var ns []specs.LinuxNamespace
	for _, n := range s.Linux.Namespaces {
		if n.Type != specs.PIDNamespace {
			ns = append(ns, n)
		}
	}
	s.Linux.Namespaces = ns
}

// start runs the shim and returns its start result.
func (c *ctr) start(extra ...string) container.StartResult {
	c.t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		c.t.Fatal(err)
	}
	defer r.Close()
	args := append([]string{"--id", c.id, "--dir", c.p.Dir, "--run-dir", c.p.RunDir}, extra...)
	cmd := exec.Command(shimBin, args...)
	cmd.ExtraFiles = []*os.File{w}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	// The monitor's own complaints: shown when the test fails.
	if f, err := os.OpenFile(c.shimLog(), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644); err == nil {
		cmd.Stderr = f
		defer f.Close()
	}
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	w.Close()
	c.shim = cmd
	c.waitC = make(chan struct{})
	go func() { _ = cmd.Wait(); close(c.waitC) }()
	line, err := bufio.NewReader(r).ReadBytes('\n')
	if err != nil {
		c.t.Fatalf("no start result: %v (%q)", err, line)
	}
	var res container.StartResult
	if err := json.Unmarshal(line, &res); err != nil {
		c.t.Fatalf("bad start result %q: %v", line, err)
	}
	return res
}

func (c *ctr) mustStart(extra ...string) int {
	c.t.Helper()
	res := c.start(extra...)
	if res.Error != "" || res.Pid <= 0 {
		c.t.Fatalf("start failed: %+v", res)
	}
	return res.Pid
}

func (c *ctr) client() *container.Client {
	c.t.Helper()
	cl, err := container.Dial(c.p)
	if err != nil {
		c.t.Fatal(err)
	}
	return cl
}

func (c *ctr) wait() int {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := container.Dial(c.p)
	code := 0
	if err == nil {
		code, err = cl.Wait(ctx)
	}
	if errors.Is(err, container.ErrNoMonitor) {
		// It ended before we asked (as the engine does: read the state).
		c.waitShim()
		return c.state().ExitCode
	}
	if err != nil {
		c.t.Fatal(err)
	}
	c.waitShim()
	return code
}

// waitShim waits for the monitor process to exit.
func (c *ctr) waitShim() {
	c.t.Helper()
	select {
	case <-c.waitC:
	case <-time.After(10 * time.Second):
		c.t.Fatal("monitor did not exit")
	}
}

func (c *ctr) state() *container.State {
	c.t.Helper()
	st, err := container.ReadState(c.p)
	if err != nil {
		c.t.Fatal(err)
	}
	return st
}

// logEntry is one json-file line.
type logEntry struct {
	Log    string `json:"log"`
	Stream string `json:"stream"`
	Time   string `json:"time"`
}

func (c *ctr) logs() []logEntry {
	c.t.Helper()
	data, err := os.ReadFile(c.p.Log())
	if err != nil {
		c.t.Fatal(err)
	}
	var out []logEntry
	for _, l := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if l == "" {
			continue
		}
		var e logEntry
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			c.t.Fatalf("bad log line %q: %v", l, err)
		}
		if _, err := time.Parse(time.RFC3339Nano, e.Time); err != nil {
			c.t.Fatalf("bad time in %q", l)
		}
		out = append(out, e)
	}
	return out
}

// cleanup kills whatever is left (monitor, container processes), unmounts
// and removes the cgroups, even when the test failed half way.
func (c *ctr) shimLog() string { return filepath.Join(testRoot, c.id+".shim.log") }

func (c *ctr) cleanup() {
	if b, _ := os.ReadFile(c.shimLog()); c.t.Failed() && len(b) > 0 {
		c.t.Logf("monitor stderr:\n%s", b)
	}
	_ = os.Remove(c.shimLog())
	if c.shim != nil && c.shim.Process != nil {
		select {
		case <-c.waitC:
		default:
			_ = c.shim.Process.Kill()
			<-c.waitC
		}
	}
	cgs, _ := filepath.Glob("/sys/fs/cgroup/*/" + cgroupParent + "/" + c.id)
	for _, cg := range cgs {
		if strings.Contains(cg, "/freezer/") {
			_ = os.WriteFile(filepath.Join(cg, "freezer.state"), []byte("THAWED"), 0)
		}
		if data, err := os.ReadFile(filepath.Join(cg, "cgroup.procs")); err == nil {
			for _, f := range strings.Fields(string(data)) {
				if pid, _ := strconv.Atoi(f); pid > 0 {
					_ = unix.Kill(pid, unix.SIGKILL)
				}
			}
		}
	}
	_ = unix.Unmount(c.p.Rootfs(), unix.MNT_DETACH)
	deadline := time.Now().Add(5 * time.Second)
	for _, cg := range cgs {
		for os.Remove(cg) != nil && time.Now().Before(deadline) {
			if _, err := os.Stat(cg); err != nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	_ = os.RemoveAll(filepath.Join(c.p.RuncRoot(), c.id))
	_ = os.Remove(c.p.Socket())
	_ = os.RemoveAll(c.p.Dir)
}

// eventually polls cond for up to d.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func alive(pid int) bool {
	return unix.Kill(pid, 0) == nil
}
