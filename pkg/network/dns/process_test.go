package dns

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

// buildBinary builds cmd/nerd-dns into the test's temp dir.
func buildBinary(t testing.TB) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool to build nerd-dns with")
	}
	bin := filepath.Join(t.TempDir(), "nerd-dns")
	cmd := exec.Command(goBin, "build", "-o", bin, "github.com/nerd-project/nerd/cmd/nerd-dns")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building nerd-dns: %v\n%s", err, out)
	}
	return bin
}

// freeAddr returns a loopback address whose port was just free for both
// UDP and TCP.
func freeAddr(t *testing.T) string {
	t.Helper()
	udp, tcp, err := listenBoth("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := udp.LocalAddr().String()
	udp.Close()
	tcp.Close()
	return addr
}

type responder struct {
	bin, addr, records, pidFile string
}

// newResponder prepares the files of one responder and makes sure, whatever
// the test does, that the process it starts is gone at the end: Stop first,
// then SIGKILL to the recorded process should Stop have failed.
func newResponder(t *testing.T, bin string) *responder {
	t.Helper()
	dir := t.TempDir()
	r := &responder{bin: bin, addr: freeAddr(t), records: filepath.Join(dir, "records.json"), pidFile: filepath.Join(dir, "dns.pid")}
	if err := WriteRecords(r.records, &Records{Names: map[string][]string{"web": {"10.78.3.2"}}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		rec, recErr := readPidFile(r.pidFile)
		if err := Stop(context.Background(), r.pidFile); err != nil {
			t.Errorf("cleanup Stop: %v", err)
		}
		if recErr == nil && rec.alive() {
			_ = syscall.Kill(rec.Pid, syscall.SIGKILL)
		}
	})
	return r
}

func (r *responder) start(t *testing.T) pidRecord {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := Start(ctx, r.bin, r.addr, r.records, r.pidFile); err != nil {
		t.Fatalf("Start: %v", err)
	}
	rec, err := readPidFile(r.pidFile)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func waitDead(t *testing.T, rec pidRecord, within time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(within); rec.alive(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still alive after %v", rec.Pid, within)
		}
	}
}

func TestStartStopBinary(t *testing.T) {
	r := newResponder(t, buildBinary(t))
	rec := r.start(t)
	if !rec.alive() {
		t.Fatal("Start returned but the recorded process is not alive")
	}
	// No retry and no sleep: Start returning means listening.
	if ips := answerIPs(t, query(t, "udp", r.addr, "web.", mdns.TypeA, nil)); len(ips) != 1 || ips[0] != "10.78.3.2" {
		t.Fatalf("got %v, want [10.78.3.2]", ips)
	}
	checkDetached(t, rec.Pid, logPath(r.pidFile))

	if again := r.start(t); again != rec {
		t.Fatalf("second Start: pid file now %+v, want the running %+v", again, rec)
	}
	start := time.Now()
	if err := Stop(context.Background(), r.pidFile); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > termGrace/2 {
		t.Errorf("Stop took %v: SIGTERM was not handled", d)
	}
	if rec.alive() {
		t.Fatal("responder alive after Stop")
	}
	if _, err := os.Stat(r.pidFile); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("pid file left after Stop: %v", err)
	}
	if err := Stop(context.Background(), r.pidFile); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
}

// checkDetached verifies that the responder leads its own session, has
// /dev/null as stdin and the log as stdout/stderr (not the caller's, which
// an OCI hook's caller waits on), and does not sit in the caller's cwd.
func checkDetached(t *testing.T, pid int, log string) {
	t.Helper()
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	if sid := f[3]; sid != strconv.Itoa(pid) { // field 6: session
		t.Errorf("session %s, want its own (%d)", sid, pid)
	}
	want := map[string]string{"fd/0": os.DevNull, "fd/1": log, "fd/2": log, "cwd": "/"}
	for link, target := range want {
		got, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/" + link)
		if err != nil || got != target {
			t.Errorf("%s -> %q (%v), want %q", link, got, err, target)
		}
	}
}

func TestStartReportsListenError(t *testing.T) {
	r := newResponder(t, buildBinary(t))
	udp, tcp, err := listenBoth(r.addr) // someone else holds the port
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	defer tcp.Close()
	err = Start(context.Background(), r.bin, r.addr, r.records, r.pidFile)
	if err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("got %v, want the child's bind error", err)
	}
	if _, err := os.Stat(r.pidFile); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("pid file left after a failed Start: %v", err)
	}
}

func TestStartReplacesDeadResponder(t *testing.T) {
	r := newResponder(t, buildBinary(t))
	first := r.start(t)
	if err := syscall.Kill(first.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitDead(t, first, 5*time.Second)
	second := r.start(t)
	if second == first || !second.alive() {
		t.Fatalf("Start after a crash: got %+v, want a new live responder", second)
	}
	if ips := answerIPs(t, query(t, "tcp", r.addr, "web.", mdns.TypeA, nil)); len(ips) != 1 {
		t.Fatalf("got %v from the new responder", ips)
	}
}

func TestBinaryExitsWhenRecordsFileRemoved(t *testing.T) {
	r := newResponder(t, buildBinary(t))
	rec := r.start(t)
	if err := os.Remove(r.records); err != nil {
		t.Fatal(err)
	}
	waitDead(t, rec, DefaultWatchInterval+3*time.Second)
}

func TestStopSparesProcessWithOtherStartTime(t *testing.T) {
	sleeper := exec.Command("sleep", "60")
	if err := sleeper.Start(); err != nil {
		t.Skipf("no sleep: %v", err)
	}
	t.Cleanup(func() {
		_ = sleeper.Process.Kill()
		_ = sleeper.Wait()
	})
	st, _, err := procStat(sleeper.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	pidFile := filepath.Join(t.TempDir(), "dns.pid")
	// The pid is right but the start time is not: the pid was recycled.
	if err := writePidFile(pidFile, pidRecord{Pid: sleeper.Process.Pid, StartTime: st + 1}); err != nil {
		t.Fatal(err)
	}
	if err := Stop(context.Background(), pidFile); err != nil {
		t.Fatal(err)
	}
	if now, zombie, err := procStat(sleeper.Process.Pid); err != nil || zombie || now != st {
		t.Fatalf("Stop touched a process that was not the responder (%v, zombie %v)", err, zombie)
	}
	if _, err := os.Stat(pidFile); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("stale pid file kept: %v", err)
	}
}

func TestStopWithoutPidFile(t *testing.T) {
	if err := Stop(context.Background(), filepath.Join(t.TempDir(), "none.pid")); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkStart measures Start until the responder is listening (fork,
// exec, runtime init, bind, ready pipe), then stops it outside the timer.
func BenchmarkStart(b *testing.B) {
	bin := buildBinary(b)
	dir := b.TempDir()
	records, pidFile := filepath.Join(dir, "records.json"), filepath.Join(dir, "dns.pid")
	if err := WriteRecords(records, &Records{Names: map[string][]string{"web": {"10.78.3.2"}}}); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = Stop(context.Background(), pidFile) })
	b.ResetTimer()
	for range b.N {
		if err := Start(context.Background(), bin, "127.0.0.1:0", records, pidFile); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := Stop(context.Background(), pidFile); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
