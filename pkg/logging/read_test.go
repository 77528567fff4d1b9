package logging

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// syncBuf is a bytes.Buffer safe to read while Read writes to it.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func read(t *testing.T, path string, opts ReadOptions) (string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	if err := Read(context.Background(), path, opts, &out, &errb, nil); err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String()
}

func lines(from, to int) string {
	var sb strings.Builder
	for i := from; i < to; i++ {
		fmt.Fprintf(&sb, "line %03d\n", i)
	}
	return sb.String()
}

// writeLines logs "line 000".."line n-1" to stdout, one per second from t0,
// and "err" to stderr after each tenth line.
func writeLines(t *testing.T, n int, opts Options) string {
	t.Helper()
	fakeClock(t)
	w, path := newWriter(t, opts)
	for i := 0; i < n; i++ {
		fmt.Fprintf(w.Stream("stdout"), "line %03d\n", i)
	}
	w.Close()
	return path
}

func TestReadAllAndStreams(t *testing.T) {
	fakeClock(t)
	w, path := newWriter(t, Options{})
	fmt.Fprint(w.Stream("stdout"), "out 1\n")
	fmt.Fprint(w.Stream("stderr"), "err 1\n")
	fmt.Fprint(w.Stream("stdout"), "out 2\nlast without newline")
	w.Close()
	out, errs := read(t, path, ReadOptions{Tail: -1})
	if out != "out 1\nout 2\nlast without newline" || errs != "err 1\n" {
		t.Fatalf("stdout %q stderr %q", out, errs)
	}
	// One writer for both: the order of the file is kept.
	var both bytes.Buffer
	if err := Read(context.Background(), path, ReadOptions{Tail: -1}, &both, &both, nil); err != nil {
		t.Fatal(err)
	}
	if both.String() != "out 1\nerr 1\nout 2\nlast without newline" {
		t.Fatalf("combined %q", both.String())
	}
}

func TestReadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "none-json.log")
	for _, follow := range []bool{false, true} {
		if out, _ := read(t, path, ReadOptions{Tail: -1, Follow: follow}); out != "" {
			t.Fatalf("got %q", out)
		}
	}
}

func TestReadTailAcrossRotatedFiles(t *testing.T) {
	path := writeLines(t, 100, Options{MaxSize: 500, MaxFiles: 20})
	if _, err := os.Stat(path + ".5"); err != nil {
		t.Fatal("expected several rotated files:", err)
	}
	for _, tc := range []struct{ tail, from int }{{-1, 0}, {0, 100}, {1, 99}, {7, 93}, {30, 70}, {100, 0}, {1000, 0}} {
		if out, _ := read(t, path, ReadOptions{Tail: tc.tail}); out != lines(tc.from, 100) {
			t.Errorf("tail %d: got %q", tc.tail, out)
		}
	}
}

func TestReadSinceUntilTimestampsDetails(t *testing.T) {
	path := writeLines(t, 10, Options{MaxSize: 200, MaxFiles: 10})
	sec := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }
	if out, _ := read(t, path, ReadOptions{Tail: -1, Since: sec(3), Until: sec(6)}); out != lines(3, 7) {
		t.Errorf("since/until: %q", out)
	}
	// As in Docker, the tail is cut before Since filters it.
	if out, _ := read(t, path, ReadOptions{Tail: 4, Since: sec(8)}); out != lines(8, 10) {
		t.Errorf("tail+since: %q", out)
	}
	out, _ := read(t, path, ReadOptions{Tail: 2, Timestamps: true})
	if want := "2024-01-02T03:04:13.123456789Z line 008\n2024-01-02T03:04:14.123456789Z line 009\n"; out != want {
		t.Errorf("timestamps: %q", out)
	}
	out, _ = read(t, path, ReadOptions{Tail: 1, Timestamps: true, Details: true})
	if want := "2024-01-02T03:04:14.123456789Z  line 009\n"; out != want {
		t.Errorf("details: %q", out)
	}
	// RFC3339NanoFixed keeps the trailing zeros.
	os.WriteFile(path, []byte(`{"log":"x\n","stream":"stdout","time":"2024-01-02T03:04:05.1Z"}`+"\n"), 0o600)
	if out, _ := read(t, path, ReadOptions{Tail: 1, Timestamps: true}); out != "2024-01-02T03:04:05.100000000Z x\n" {
		t.Errorf("fixed: %q", out)
	}
}

// A line the writer has not finished is not printed, not even in part,
// and a following reader prints it once complete.
func TestReadTornLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c-json.log")
	full := appendEntry(nil, []byte("one"), true, "stdout", rfc(t0))
	second := appendEntry(nil, []byte("two"), true, "stdout", rfc(t0))
	os.WriteFile(path, append(full, second[:20]...), 0o600)
	if out, _ := read(t, path, ReadOptions{Tail: -1}); out != "one\n" {
		t.Fatalf("got %q", out)
	}
	if out, _ := read(t, path, ReadOptions{Tail: 1}); out != "one\n" {
		t.Fatalf("tail: got %q", out)
	}
	var out syncBuf
	var running atomic.Bool
	running.Store(true)
	done := make(chan error)
	go func() {
		done <- Read(context.Background(), path, ReadOptions{Tail: 0, Follow: true}, &out, &out, running.Load)
	}()
	time.Sleep(50 * time.Millisecond)
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	f.Write(second[20:])
	f.Close()
	running.Store(false)
	if err := <-done; err != nil || out.String() != "two\n" {
		t.Fatalf("follow: %q %v", out.String(), err)
	}
}

// followWhileWriting starts a following Read, writes n lines through a
// Writer, closes it, then reports the container stopped: Read must end
// having printed everything. With lockstep, each line is written only once
// the previous one was printed: a reader that far behind a rotation with
// files deleted would lose data by design (as with Docker).
func followWhileWriting(t *testing.T, opts Options, n int, lockstep bool) {
	w, path := newWriter(t, opts)
	var out syncBuf
	var running atomic.Bool
	running.Store(true)
	done := make(chan error)
	go func() {
		done <- Read(context.Background(), path, ReadOptions{Tail: -1, Follow: true}, &out, &out, running.Load)
	}()
	for i := 0; i < n; i++ {
		fmt.Fprintf(w.Stream("stdout"), "line %03d\n", i)
		for deadline := time.Now().Add(5 * time.Second); lockstep && out.String() != lines(0, i+1); {
			if time.Now().After(deadline) {
				t.Fatalf("line %d not followed; got %q", i, out.String())
			}
			time.Sleep(time.Millisecond)
		}
	}
	w.Close()
	select {
	case err := <-done:
		t.Fatalf("follow ended while running: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	running.Store(false)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("follow did not end after the container stopped")
	}
	if got := out.String(); got != lines(0, n) {
		t.Fatalf("followed %d bytes, want %d:\n%s", len(got), len(lines(0, n)), got)
	}
}

func TestReadFollowEndsWhenStopped(t *testing.T) {
	followWhileWriting(t, Options{}, 200, false)
}

func TestReadFollowAcrossRotation(t *testing.T) {
	t.Run("renamed", func(t *testing.T) {
		followWhileWriting(t, Options{MaxSize: 300, MaxFiles: 3}, 60, true)
	})
	t.Run("unlinked", func(t *testing.T) {
		followWhileWriting(t, Options{MaxSize: 300, MaxFiles: 1}, 60, true)
	})
	// Many rotations between two polls: the reader walks the chain.
	t.Run("burst", func(t *testing.T) { followWhileWriting(t, Options{MaxSize: 300, MaxFiles: 200}, 700, false) })
}

// The file may not exist yet when `logs -f` starts.
func TestReadFollowWaitsForFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c-json.log")
	var out syncBuf
	var running atomic.Bool
	running.Store(true)
	done := make(chan error)
	go func() {
		done <- Read(context.Background(), path, ReadOptions{Tail: -1, Follow: true}, &out, &out, running.Load)
	}()
	time.Sleep(30 * time.Millisecond)
	w, _ := NewWriter(path, Options{})
	fmt.Fprint(w.Stream("stdout"), "hi\n")
	w.Close()
	running.Store(false)
	if err := <-done; err != nil || out.String() != "hi\n" {
		t.Fatalf("%q %v", out.String(), err)
	}
}

func TestReadFollowCancelAndUntil(t *testing.T) {
	path := writeLines(t, 3, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	var out bytes.Buffer
	running := func() bool { return true }
	err := Read(ctx, path, ReadOptions{Tail: -1, Follow: true}, &out, &out, running)
	if !errors.Is(err, context.DeadlineExceeded) || out.String() != lines(0, 3) {
		t.Fatalf("%q %v", out.String(), err)
	}
	// --until in the past: nothing newer can come, so follow ends.
	out.Reset()
	err = Read(context.Background(), path, ReadOptions{Tail: -1, Follow: true, Until: t0.Add(time.Second)}, &out, &out, running)
	if err != nil || out.String() != lines(0, 2) {
		t.Fatalf("until: %q %v", out.String(), err)
	}
}
