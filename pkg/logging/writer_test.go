package logging

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock makes the writer's clock return t0, t0+1s, t0+2s, ...
func fakeClock(t *testing.T) {
	t.Helper()
	var mu sync.Mutex
	i := 0
	now = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		i++
		return t0.Add(time.Duration(i-1) * time.Second)
	}
	t.Cleanup(func() { now = time.Now })
}

type rec struct {
	Log    string    `json:"log"`
	Stream string    `json:"stream"`
	Time   time.Time `json:"time"`
}

func records(t *testing.T, paths ...string) []rec {
	t.Helper()
	var out []rec
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var r rec
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("%s: bad line %q: %v", p, sc.Text(), err)
			}
			out = append(out, r)
		}
	}
	return out
}

func newWriter(t *testing.T, opts Options) (*Writer, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "c-json.log")
	w, err := NewWriter(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	return w, path
}

func TestWriterBytes(t *testing.T) {
	fakeClock(t)
	w, path := newWriter(t, Options{})
	out, errw := w.Stream("stdout"), w.Stream("stderr")
	fmt.Fprint(out, "hello <world>\nsecond ")
	fmt.Fprint(errw, "oops\n")
	fmt.Fprint(out, "half\nno newline")
	data, _ := os.ReadFile(path)
	want := `{"log":"hello \u003cworld\u003e\n","stream":"stdout","time":"2024-01-02T03:04:05.123456789Z"}` + "\n" +
		`{"log":"oops\n","stream":"stderr","time":"2024-01-02T03:04:06.123456789Z"}` + "\n" +
		`{"log":"second half\n","stream":"stdout","time":"2024-01-02T03:04:07.123456789Z"}` + "\n"
	if string(data) != want {
		t.Fatalf("before Close (each Write is flushed):\n%s\nwant\n%s", data, want)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	data, _ = os.ReadFile(path)
	want += `{"log":"no newline","stream":"stdout","time":"2024-01-02T03:04:08.123456789Z"}` + "\n"
	if string(data) != want {
		t.Fatalf("after Close:\n%s\nwant\n%s", data, want)
	}
	if _, err := out.Write([]byte("late\n")); err == nil {
		t.Fatal("write after Close succeeded")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// Flush ends a run's output (Docker's copier at EOF): the held partial
// line is logged, not glued to the next run's first line.
func TestWriterFlushBetweenRuns(t *testing.T) {
	w, path := newWriter(t, Options{})
	fmt.Fprint(w.Stream("stdout"), "run 1 ends without newline")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(w.Stream("stdout"), "run 2\n")
	w.Close()
	if r := records(t, path); len(r) != 2 || r[0].Log != "run 1 ends without newline" || r[1].Log != "run 2\n" {
		t.Fatalf("got %+v", r)
	}
	if err := w.Flush(); err == nil {
		t.Fatal("Flush after Close succeeded")
	}
}

func TestWriterAppendsToExistingFile(t *testing.T) {
	w, path := newWriter(t, Options{})
	fmt.Fprintln(w.Stream("stdout"), "first run")
	w.Close()
	w, err := NewWriter(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(w.Stream("stdout"), "second run")
	w.Close()
	if r := records(t, path); len(r) != 2 || r[0].Log != "first run\n" || r[1].Log != "second run\n" {
		t.Fatalf("got %+v", r)
	}
}

// Docker's copier cuts a line at its 16 KiB buffer: every piece but the
// last goes without "\n", and all pieces carry the time of the first.
func TestWriterSplitsLongLines(t *testing.T) {
	fakeClock(t)
	w, path := newWriter(t, Options{})
	out := w.Stream("stdout")
	long := strings.Repeat("x", 2*maxLine+100)
	for i := 0; i < len(long); i += 1000 { // arrives in small pieces
		out.Write([]byte(long[i:min(i+1000, len(long))]))
	}
	out.Write([]byte("\n" + strings.Repeat("y", maxLine) + "\n" + strings.Repeat("z", maxLine+5)))
	fmt.Fprint(w.Stream("stderr"), "short\n")
	w.Close()
	r := records(t, path)
	want := []struct {
		log string
		sec int
	}{
		{strings.Repeat("x", maxLine), 0}, {strings.Repeat("x", maxLine), 0}, {strings.Repeat("x", 100) + "\n", 0},
		// exactly 16 KiB: the newline doesn't fit, so an empty final piece
		{strings.Repeat("y", maxLine), 1}, {"\n", 1},
		{strings.Repeat("z", maxLine), 1}, // one time per Write call
		{"short\n", 2},
		{"zzzzz", 1}, // flushed by Close, still with its line's time
	}
	if len(r) != len(want) {
		t.Fatalf("got %d entries, want %d", len(r), len(want))
	}
	for i, wt := range want {
		if r[i].Log != wt.log || !r[i].Time.Equal(t0.Add(time.Duration(wt.sec)*time.Second)) {
			t.Errorf("entry %d: %d bytes at %v, want %d bytes at +%ds", i, len(r[i].Log), r[i].Time, len(wt.log), wt.sec)
		}
	}
}

// Two goroutines write stdout and stderr in random pieces: every file line
// must be a whole entry and each stream must read back exactly.
func TestWriterConcurrentStreams(t *testing.T) {
	w, path := newWriter(t, Options{})
	inputs := map[string]string{}
	var wg sync.WaitGroup
	for s, name := range []string{"stdout", "stderr"} {
		var sb strings.Builder
		rng := rand.New(rand.NewSource(int64(s)))
		for i := 0; i < 5000; i++ {
			fmt.Fprintf(&sb, "%s line %d %s\n", name, i, strings.Repeat("<&>", rng.Intn(50)))
		}
		data := sb.String()
		inputs[name] = data
		wg.Add(1)
		go func(st, data string) {
			defer wg.Done()
			out := w.Stream(st)
			for len(data) > 0 {
				n := min(len(data), 1+rng.Intn(300))
				out.Write([]byte(data[:n]))
				data = data[n:]
			}
		}(name, data)
	}
	wg.Wait()
	w.Close()
	got := map[string]string{}
	for _, r := range records(t, path) {
		got[r.Stream] += r.Log
	}
	for name, in := range inputs {
		if got[name] != in {
			t.Errorf("%s: read back %d bytes, wrote %d", name, len(got[name]), len(in))
		}
	}
}

func TestWriterRotation(t *testing.T) {
	for _, maxFiles := range []int{1, 2, 3} {
		t.Run(fmt.Sprint("max-file=", maxFiles), func(t *testing.T) {
			const maxSize = 1000
			w, path := newWriter(t, Options{MaxSize: maxSize, MaxFiles: maxFiles})
			out := w.Stream("stdout")
			for i := 0; i < 300; i++ {
				fmt.Fprintf(out, "line %03d\n", i)
			}
			w.Close()
			var files []string
			for i := maxFiles - 1; i >= 1; i-- {
				files = append(files, fmt.Sprintf("%s.%d", path, i))
			}
			files = append(files, path)
			for i, f := range files {
				fi, err := os.Stat(f)
				if err != nil {
					t.Fatal(err)
				}
				// Docker rotates once a file has reached max-size.
				if i < len(files)-1 && (fi.Size() < maxSize || fi.Size() > maxSize+100) {
					t.Errorf("%s: size %d", f, fi.Size())
				}
			}
			if _, err := os.Stat(fmt.Sprintf("%s.%d", path, maxFiles)); err == nil {
				t.Errorf("more than %d files kept", maxFiles)
			}
			r := records(t, files...)
			last := 299
			for i := len(r) - 1; i >= 0; i-- {
				if want := fmt.Sprintf("line %03d\n", last); r[i].Log != want {
					t.Fatalf("entry %d: %q, want %q", i, r[i].Log, want)
				}
				last--
			}
			if kept := 300 - last - 1; kept < (maxFiles-1)*maxSize/100 {
				t.Errorf("only %d entries kept", kept)
			}
		})
	}
}

func TestParseOptions(t *testing.T) {
	o, err := ParseOptions(map[string]string{"max-size": "10m", "max-file": "3", "tag": "x", "labels": "a", "env": "B", "compress": "false"})
	if err != nil || o != (Options{MaxSize: 10_000_000, MaxFiles: 3}) {
		t.Fatalf("got %+v %v", o, err)
	}
	if o, err := ParseOptions(nil); err != nil || o != (Options{MaxFiles: 1}) {
		t.Fatalf("defaults: %+v %v", o, err)
	}
	for opts, want := range map[string]string{
		"max-size=0":         "max-size must be a positive number",
		"max-size=big":       "invalid size: 'big'",
		"max-file=0":         "max-file cannot be less than 1",
		"max-file=x":         `strconv.Atoi: parsing "x": invalid syntax`,
		"bogus=1":            "unknown log opt 'bogus' for json-file log driver",
		"compress=true":      "compress cannot be true when max-file is less than 2 or max-size is not set",
		"compress=maybe":     `strconv.ParseBool: parsing "maybe": invalid syntax`,
		"max-file=2,zz=1,aa": "unknown log opt 'aa' for json-file log driver",
	} {
		m := map[string]string{}
		for _, kv := range strings.Split(opts, ",") {
			k, v, _ := strings.Cut(kv, "=")
			m[k] = v
		}
		if _, err := ParseOptions(m); err == nil || err.Error() != want {
			t.Errorf("%s: got %v, want %s", opts, err, want)
		}
	}
}
