package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// `nerd logs` over Docker's json-file format.

// The log file is Docker's, line for line; a last line without a newline
// is kept; stdout and stderr keep their streams.
func TestLogsJSONFile(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	start := time.Now()
	r := e.nerdOK("run", "--name", "logs1", "busybox", "sh", "-c", "echo out; echo err >&2; printf last")
	if r.Stdout != "out\nlast" || r.Stderr != "err\n" {
		t.Errorf("attached output:\n%s", r)
	}
	got := e.inspectC("logs1")
	wantPath := filepath.Join(e.Root, "containers", got.ID, got.ID+"-json.log")
	if got.LogPath != wantPath {
		t.Errorf("LogPath %q, want %q", got.LogPath, wantPath)
	}
	if got.HostConfig.LogConfig.Type != "json-file" {
		t.Errorf("LogConfig.Type %q, want json-file", got.HostConfig.LogConfig.Type)
	}
	b, err := os.ReadFile(wantPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) == 0 || b[len(b)-1] != '\n' {
		t.Errorf("log file must end with a newline: %q", b)
	}
	entries, raw := readLogFile(t, wantPath)
	var stdout, stderr []string
	timeRe := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$`)
	for i, le := range entries {
		if !strings.HasPrefix(raw[i], `{"log":`) || !regexp.MustCompile(`^\{"log":".*","stream":"(stdout|stderr)","time":"[^"]+"\}$`).MatchString(raw[i]) {
			t.Errorf("line %q is not Docker's {\"log\",\"stream\",\"time\"}", raw[i])
		}
		ts, err := time.Parse(time.RFC3339Nano, le.Time)
		if err != nil || !timeRe.MatchString(le.Time) || ts.Before(start.Add(-time.Minute)) || ts.After(time.Now().Add(time.Minute)) {
			t.Errorf("time %q: want RFC3339Nano UTC of now (%v)", le.Time, err)
		}
		switch le.Stream {
		case "stdout":
			stdout = append(stdout, le.Log)
		case "stderr":
			stderr = append(stderr, le.Log)
		}
	}
	if !slices.Equal(stdout, []string{"out\n", "last"}) || !slices.Equal(stderr, []string{"err\n"}) {
		t.Errorf("log entries: stdout %q stderr %q, want [out\\n last] and [err\\n]", stdout, stderr)
	}
	r = e.nerdOK("logs", "logs1")
	if r.Stdout != "out\nlast" || r.Stderr != "err\n" {
		t.Errorf("logs: stdout must be \"out\\nlast\" (no newline added), stderr \"err\\n\":\n%s", r)
	}
}

// Output of a process that exits at once is never lost, and a long line
// (Docker splits lines at 16 KiB in the file) comes back whole.
func TestLogsNothingLost(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	var names []string
	for i := 0; i < 5; i++ {
		n := fmt.Sprintf("fast%d", i)
		e.runD("--name", n, "busybox", "echo", "quick")
		names = append(names, n)
	}
	e.within(30 * time.Second).nerdOK(append([]string{"wait"}, names...)...)
	for _, n := range names {
		if r := e.nerdOK("logs", n); r.Stdout != "quick\n" {
			t.Errorf("logs %s of a container that exited at once:\n%s", n, r)
		}
	}
	r := e.nerdOK("run", "--name", "long", "busybox", "sh", "-c", `head -c 40000 /dev/zero | tr '\0' a; echo; echo next`)
	want := strings.Repeat("a", 40000) + "\nnext\n"
	if r.Stdout != want {
		t.Errorf("attached long line: got %d bytes, want %d", len(r.Stdout), len(want))
	}
	if r := e.nerdOK("logs", "long"); r.Stdout != want {
		t.Errorf("logs of a 40000-byte line: got %d bytes (%.40q…), want %d", len(r.Stdout), r.Stdout, len(want))
	}
	entries, _ := readLogFile(t, e.inspectC("long").LogPath)
	var joined strings.Builder
	for _, le := range entries {
		joined.WriteString(le.Log)
		if len(le.Log) > 16*1024 {
			t.Errorf("a log entry of %d bytes: Docker splits at 16 KiB", len(le.Log))
		}
	}
	if joined.String() != want {
		t.Errorf("log entries joined: %d bytes, want %d", joined.Len(), len(want))
	}
}

func TestLogsOptions(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	e.nerdOK("run", "--name", "opts", "busybox", "sh", "-c", "echo 1; echo 2; echo 3; sleep 1.2; echo 4; echo 5")
	entries, _ := readLogFile(t, e.inspectC("opts").LogPath)
	if len(entries) != 5 {
		t.Fatalf("%d log entries, want 5: %v", len(entries), entries)
	}
	times := make([]time.Time, len(entries))
	for i, le := range entries {
		times[i], _ = time.Parse(time.RFC3339Nano, le.Time)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--tail", "2"}, "4\n5\n"},
		{[]string{"-n", "1"}, "5\n"},
		{[]string{"--tail", "0"}, ""},
		{[]string{"--tail", "all"}, "1\n2\n3\n4\n5\n"},
		{[]string{"--tail", "10"}, "1\n2\n3\n4\n5\n"},
		{[]string{"--since", "1h"}, "1\n2\n3\n4\n5\n"},
		{[]string{"--since", time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}, ""},
		{[]string{"--since", times[2].Add(times[3].Sub(times[2]) / 2).Format(time.RFC3339Nano)}, "4\n5\n"},
		{[]string{"--until", times[2].Add(times[3].Sub(times[2]) / 2).Format(time.RFC3339Nano)}, "1\n2\n3\n"},
		{[]string{"--since", strconv.FormatInt(times[3].Unix()-3600, 10)}, "1\n2\n3\n4\n5\n"},
	} {
		r := e.nerdOK(append(append([]string{"logs"}, c.args...), "opts")...)
		if r.Stdout != c.want {
			t.Errorf("logs %s o: %q, want %q", strings.Join(c.args, " "), r.Stdout, c.want)
		}
	}

	// -t prefixes each line with its time, RFC3339Nano with 9 digits.
	r := e.nerdOK("logs", "-t", "opts")
	lines := r.Lines()
	if len(lines) != 5 {
		t.Fatalf("logs -t:\n%s", r)
	}
	for i, l := range lines {
		ts, msg, _ := strings.Cut(l, " ")
		if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$`).MatchString(ts) || msg != strconv.Itoa(i+1) {
			t.Errorf("logs -t line %q, want \"<RFC3339Nano fixed> %d\"", l, i+1)
			continue
		}
		if p, _ := time.Parse(time.RFC3339Nano, ts); !p.Equal(times[i]) {
			t.Errorf("logs -t time %s differs from the file's %s", ts, entries[i].Time)
		}
	}
	if r := e.nerdOK("logs", "--timestamps", "--tail", "1", "opts"); !strings.HasSuffix(r.Stdout, " 5\n") || len(r.Lines()) != 1 {
		t.Errorf("logs --timestamps --tail 1:\n%s", r)
	}
}

// logs -f follows until the container stops, then ends.
func TestLogsFollow(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	e.runD("--name", "follow", "busybox", "sh", "-c", "echo one; sleep 1.5; echo two >&2; echo three")
	r := e.within(30*time.Second).nerd("logs", "-f", "follow")
	if r.Code != 0 || r.Stdout != "one\nthree\n" || r.Stderr != "two\n" {
		t.Errorf("logs -f:\n%s", r)
	}
	if r.Took < 700*time.Millisecond {
		t.Errorf("logs -f ended after %v, before the container did", r.Took)
	}
	if s := e.status("follow"); s != "exited" {
		t.Errorf("logs -f ended while the container is %q", s)
	}
	// Following a stopped container prints its logs and returns at once.
	r = e.within(10*time.Second).nerdOK("logs", "--follow", "follow")
	if r.Stdout != "one\nthree\n" || r.Stderr != "two\n" || r.Took > 5*time.Second {
		t.Errorf("logs -f of an exited container:\n%s", r)
	}
	// A running container stopped by the user ends the follow too.
	e.runD(withSleeper("--name", "follow2", "busybox")...)
	stopped := make(chan result, 1)
	go func() {
		shortSleep(700 * time.Millisecond)
		stopped <- e.nerd("stop", "follow2")
	}()
	r = e.within(20*time.Second).nerd("logs", "-f", "follow2")
	if rs := <-stopped; rs.Code != 0 {
		t.Errorf("stop:\n%s", rs)
	}
	if r.Code != 0 || r.Took < 500*time.Millisecond {
		t.Errorf("logs -f of a container stopped after 0.7 s:\n%s", r)
	}
}

func TestLogDriverNone(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	// Attached output still works.
	if r := e.nerdOK("run", "--name", "nolog", "--log-driver", "none", "busybox", "echo", "hi"); r.Stdout != "hi\n" {
		t.Errorf("run --log-driver none:\n%s", r)
	}
	e.nerdFail(1, []string{"logs", "nolog"}, `configured logging driver does not support reading`)
	got := e.inspectC("nolog")
	if got.HostConfig.LogConfig.Type != "none" {
		t.Errorf("LogConfig.Type %q", got.HostConfig.LogConfig.Type)
	}
	if m, _ := filepath.Glob(filepath.Join(e.Root, "containers", got.ID, "*-json.log*")); len(m) > 0 {
		t.Errorf("--log-driver none wrote %v", m)
	}
}

// --log-opt max-size=1k --log-opt max-file=2: the file rotates, at most
// two files exist, and logs reads the newest lines in order.
func TestLogRotation(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	e.nerdOK("run", "--name", "rot", "--log-opt", "max-size=1k", "--log-opt", "max-file=2", "busybox", "sh", "-c",
		`i=0; while [ $i -lt 300 ]; do echo "line-$i-padding"; i=$((i+1)); done`)
	got := e.inspectC("rot")
	if c := got.HostConfig.LogConfig.Config; c["max-size"] != "1k" || c["max-file"] != "2" {
		t.Errorf("LogConfig.Config %v", c)
	}
	files, _ := filepath.Glob(got.LogPath + "*")
	slices.Sort(files)
	if want := []string{got.LogPath, got.LogPath + ".1"}; !slices.Equal(files, want) {
		t.Errorf("log files %v, want %v", files, want)
	}
	for _, f := range files {
		if fi, err := os.Stat(f); err != nil || fi.Size() > 1024+200 {
			t.Errorf("%s: %v bytes (max-size 1k)", f, fi.Size())
		}
	}
	r := e.nerdOK("logs", "rot")
	lines := r.Lines()
	if len(lines) == 0 || len(lines) >= 300 || lines[len(lines)-1] != "line-299-padding" {
		t.Fatalf("logs after rotation: %d lines, last %q", len(lines), r.lastLine())
	}
	first, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(lines[0], "line-"), "-padding"))
	if err != nil {
		t.Fatalf("first line %q", lines[0])
	}
	for i, l := range lines {
		if want := fmt.Sprintf("line-%d-padding", first+i); l != want {
			t.Fatalf("line %d is %q, want %q: lines lost or out of order across files", i, l, want)
		}
	}
}
