package engine

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/nerd-project/nerd/pkg/container"
)

func newTestEngine(t *testing.T) *Engine {
	t.Helper()
	root := t.TempDir()
	e, err := New(Options{DataRoot: root, RunDir: filepath.Join(root, "run")})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// writeTestRecord makes a container directory with just a record, as
// Create leaves it.
func writeTestRecord(t *testing.T, e *Engine, id, name string) {
	t.Helper()
	p := e.Paths(id)
	if err := os.MkdirAll(p.Dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := container.WriteRecord(p, &container.Record{ID: id, Name: name}); err != nil {
		t.Fatal(err)
	}
}

func TestNameIndexBuiltFromRecordsOfAnOlderDataRoot(t *testing.T) {
	e := newTestEngine(t)
	writeTestRecord(t, e, "aaaa", "web")
	writeTestRecord(t, e, "bbbb", "db")
	if got := e.nameOwner("web"); got != "aaaa" {
		t.Fatalf("without an index: owner of web = %q, want aaaa", got)
	}
	// The first claim builds the index from the records.
	if err := e.claimName("cache", "cccc"); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"web": "aaaa", "db": "bbbb"} {
		if target, err := os.Readlink(filepath.Join(e.namesDir(), name)); err != nil || target != want {
			t.Errorf("index entry %s -> %q (%v), want %s", name, target, err, want)
		}
	}
	// cccc has no record (a create that died before its rename): free.
	if got := e.nameOwner("cache"); got != "" {
		t.Errorf("a link to a missing record owns the name: %q", got)
	}
}

func TestNameIndexIgnoresStaleLinks(t *testing.T) {
	e := newTestEngine(t)
	writeTestRecord(t, e, "aaaa", "old")
	if err := e.claimName("old", "aaaa"); err != nil {
		t.Fatal(err)
	}
	// A rename that died after writing the record but before dropping the
	// old link: the record is the truth.
	writeTestRecord(t, e, "aaaa", "new")
	if err := e.claimName("new", "aaaa"); err != nil {
		t.Fatal(err)
	}
	if got := e.nameOwner("old"); got != "" {
		t.Errorf("stale link: old is owned by %q", got)
	}
	if got := e.nameOwner("new"); got != "aaaa" {
		t.Errorf("owner of new = %q", got)
	}
	// A stale link is replaced by the next claim.
	if err := e.claimName("old", "dddd"); err != nil {
		t.Fatalf("claiming a stale name: %v", err)
	}
	e.releaseName("old", "aaaa") // not aaaa's any more: kept
	if target, _ := os.Readlink(filepath.Join(e.namesDir(), "old")); target != "dddd" {
		t.Errorf("release by a former owner removed the link (now %q)", target)
	}
}

func TestNameOwnerRefusesPaths(t *testing.T) {
	e := newTestEngine(t)
	if err := e.claimName("x1", "aaaa"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"../containers", "a/b", "..", ""} {
		if got := e.nameOwner(bad); got != "" {
			t.Errorf("nameOwner(%q) = %q", bad, got)
		}
	}
}
