package snapshot

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// hostileEnv is a store plus a "host" directory beside it holding a victim
// file, the thing a hostile layer tries to reach.
type hostileEnv struct {
	s        *Store
	tmp      string
	sentinel string // absolute host dir
	victim   string // sentinel/victim
}

func newHostileEnv(t *testing.T) *hostileEnv {
	s, tmp := newStore(t)
	e := &hostileEnv{s: s, tmp: tmp, sentinel: filepath.Join(tmp, "sentinel")}
	e.victim = filepath.Join(e.sentinel, "victim")
	if err := os.Mkdir(e.sentinel, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.victim, []byte("host data"), 0o640); err != nil {
		t.Fatal(err)
	}
	return e
}

// apply unpacks ents and checks that nothing outside the staging layer root
// changed and nothing was committed, whatever the outcome.
func (e *hostileEnv) apply(t *testing.T, ents ...entry) (*Staging, error) {
	t.Helper()
	st, err := e.s.Prepare()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Abort() })
	before := treeState(t, e.tmp, st.Path())
	_, err = st.Apply(context.Background(), bytes.NewReader(mkTar(t, ents...)))
	after := treeState(t, e.tmp, st.Path())
	for p, d := range after {
		if before[p] != d {
			t.Errorf("outside the layer root: %s changed: %q -> %q", p, before[p], d)
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			t.Errorf("outside the layer root: %s vanished", p)
		}
	}
	if l, _ := e.s.List(); len(l) != 0 {
		t.Errorf("something got committed: %v", l)
	}
	return st, err
}

func TestHostileErrors(t *testing.T) {
	e := newHostileEnv(t)
	rel := func(p string) string { r, _ := filepath.Rel("/", p); return r }
	cases := []struct {
		name string
		ents []entry
		want string
	}{
		{"dotdot", []entry{file("../x", "x", 0o644)}, `layer entry "../x": path escapes the layer root`},
		{"inner dotdot", []entry{file("a/../../x", "x", 0o644)}, `layer entry "a/../../x": path escapes the layer root`},
		{"deep dotdot", []entry{file("../../../../sentinel/victim", "x", 0o644)}, "path escapes the layer root"},
		{"abs dotdot", []entry{file("/../x", "x", 0o644)}, "path escapes the layer root"},
		{"dotdot dir", []entry{dir("../d/", 0o777)}, "path escapes the layer root"},
		{"dotdot whiteout", []entry{whiteout("../.wh.victim")}, "path escapes the layer root"},
		{"dotdot symlink", []entry{symlink("../l", "/")}, "path escapes the layer root"},
		{"hardlink escape", []entry{hardlink("l", "../../etc/passwd")}, `layer entry "l": hardlink target "../../etc/passwd": path escapes the layer root`},
		{"hardlink to symlink", []entry{symlink("s", e.victim), hardlink("l", "s")}, "not a regular file"},
		{"hardlink to dir", []entry{dir("d/", 0o755), hardlink("l", "d")}, "not a regular file"},
		{"hardlink through symlink to symlink", []entry{symlink("d", e.sentinel), symlink("d/victim", "/"), hardlink("l", "d/victim")}, "not a regular file"},
		{"hardlink to root", []entry{hardlink("l", "./")}, "layer root"},
		{"char device", []entry{file("dev/null", "", 0o666).typ(tar.TypeChar)}, `layer entry "dev/null": device node not allowed in layer`},
		{"block device", []entry{file("dev/sda", "", 0o660).typ(tar.TypeBlock)}, "device node not allowed in layer"},
		{"unknown type", []entry{file("weird", "", 0o644).typ('Z')}, "unsupported tar entry type"},
		{"empty whiteout", []entry{whiteout("a/.wh.")}, "invalid whiteout name"},
		{"dotdot whiteout name", []entry{whiteout("a/.wh..")}, "invalid whiteout name"},
		{"root replaced", []entry{file(".", "", 0o644)}, "replace the layer root"},
		{"file as parent", []entry{file("f", "f", 0o644), file("f/x", "x", 0o644)}, "not a directory"},
		{"huge uid", []entry{file("f", "f", 0o644).owner(1<<33, 0)}, "invalid owner"},
		{"through symlink then escape", []entry{symlink("a", e.sentinel), file("a/../../x", "x", 0o644)}, "path escapes"},
		{"symlink loop", []entry{symlink("a", "b"), symlink("b", "a"), file("a/x", "x", 0o644)}, "resolving directory"},
		{"long name escape", []entry{file(strings.Repeat("a/", 200)+strings.Repeat("../", 201)+rel(e.victim), "x", 0o644)}, "path escapes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.apply(t, c.ents...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want containing %q", err, c.want)
			}
		})
	}
	if got := readFile(t, e.victim); got != "host data" {
		t.Fatalf("victim = %q", got)
	}
}

// Layers whose symlinks point at the host must be contained: symlinks resolve
// as if the layer root were "/", and the final component is never followed.
func TestHostileContained(t *testing.T) {
	e := newHostileEnv(t)
	abs := e.sentinel // the host path a layer points at
	climb := strings.Repeat("../", 20) + strings.TrimPrefix(abs, "/")
	hostOnly := "/nerd-snapshot-test-" + randomSuffix()
	t.Cleanup(func() { os.Remove(hostOnly) }) // only exists if the test failed
	cases := []struct {
		name string
		ents []entry
		want map[string]string // path in layer -> content ("" = must exist)
	}{
		{"write through absolute symlink", []entry{symlink("a", abs), file("a/pwned", "x", 0o644)},
			map[string]string{abs + "/pwned": "x"}},
		{"write through climbing symlink", []entry{symlink("a", climb), file("a/pwned", "x", 0o644)},
			map[string]string{abs + "/pwned": "x"}},
		{"write through symlink to /", []entry{symlink("a", "/"), file("a"+hostOnly, "x", 0o644)},
			map[string]string{hostOnly: "x"}},
		{"overwrite host file via final symlink", []entry{symlink("f", e.victim), file("f", "evil", 0o644)},
			map[string]string{"f": "evil"}},
		{"replace symlink to host dir with dir", []entry{symlink("d", abs), dir("d/", 0o777), file("d/x", "x", 0o644)},
			map[string]string{"d/x": "x"}},
		{"whiteout through symlink", []entry{symlink("d", abs), whiteout("d/.wh.victim")},
			map[string]string{abs + "/victim": ""}},
		{"opaque through symlink", []entry{symlink("d", abs), whiteout("d/.wh..wh..opq")},
			map[string]string{abs: ""}},
		{"cached dir replaced by symlink", []entry{dir("c/", 0o755), file("c/1", "1", 0o644), symlink("c", abs), file("c/2", "2", 0o644)},
			map[string]string{abs + "/2": "2"}},
		{"nested symlink chain", []entry{symlink("a", "/b"), symlink("b", "../../c/.."), dir("c/", 0o755), symlink("c/up", "../../../.."), file("a/c/up/a/z", "z", 0o644)},
			map[string]string{"z": "z"}},
		{"symlink created via symlinked parent", []entry{symlink("a", abs), symlink("a/victim", "/"), file("a/victim"+hostOnly, "x", 0o644)},
			map[string]string{abs + "/victim": "", hostOnly: "x"}},
		{"hardlink created via symlinked parent", []entry{symlink("d", abs), file("t", "t", 0o644), hardlink("d/h", "t")},
			map[string]string{abs + "/h": "t"}},
		{"fifo via symlinked parent", []entry{symlink("d", abs), entry{hdr: tar.Header{Typeflag: tar.TypeFifo, Name: "d/fifo", Mode: 0o777}}},
			map[string]string{abs + "/fifo": ""}},
		{"chmod via dir entry on symlinked parent", []entry{symlink("d", abs), dir("d/", 0o777), dir("d/", 0o700)},
			map[string]string{"d": ""}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, err := e.apply(t, c.ents...)
			if err != nil {
				t.Fatal(err)
			}
			for p, want := range c.want {
				full := filepath.Join(st.Path(), p)
				if !exists(full) {
					t.Errorf("%s missing inside the layer", p)
				} else if want != "" {
					if got := readFile(t, full); got != want {
						t.Errorf("%s = %q, want %q", p, got, want)
					}
				}
			}
		})
	}
	if exists(hostOnly) {
		t.Fatalf("%s was created on the host", hostOnly)
	}
	if sx := lstat(t, e.victim); sx.Nlink != 1 || readFile(t, e.victim) != "host data" {
		t.Fatalf("victim touched: nlink %d", sx.Nlink)
	}
}

// A hardlink whose target only resolves (through a symlink) to a host path
// is looked up inside the layer and its parents, never on the host.
func TestHostileHardlinkToHostFile(t *testing.T) {
	e := newHostileEnv(t)
	st, err := e.apply(t, symlink("d", e.sentinel), hardlink("h", "d/victim"), hardlink("h2", e.victim))
	if err != nil {
		t.Fatal(err) // deferred: the target may be in a parent layer
	}
	if exists(filepath.Join(st.Path(), "h")) {
		t.Fatal("deferred hardlink materialized during Apply")
	}
	res := st.result
	if err := st.Commit(context.Background(), key(1), res.DiffID, nil); err == nil || !strings.Contains(err.Error(), "neither this layer nor any parent") {
		t.Fatalf("Commit err = %v", err)
	}
	if e.s.Exists(key(1)) {
		t.Fatal("committed despite error")
	}
	if sx := lstat(t, e.victim); sx.Nlink != 1 {
		t.Fatalf("host victim got linked: nlink %d", sx.Nlink)
	}
	var stx unix.Stat_t
	if unix.Lstat(filepath.Join(e.s.Root(), key(1)), &stx) == nil {
		t.Fatal("snapshot dir exists")
	}
}
