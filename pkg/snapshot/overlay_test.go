package snapshot

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestOverlayMount checks the snapshots really work as overlay lowerdirs:
// whiteouts hide lower files, opaque dirs hide lower contents.
func TestOverlayMount(t *testing.T) {
	s, tmp := newStore(t)
	commitLayer(t, s, key(1), nil,
		file("a/file", "gone", 0o644), file("a/keep", "keep", 0o644),
		file("d/old", "old", 0o644), file("top", "lower", 0o644))
	commitLayer(t, s, key(2), []string{key(1)},
		dir("a/", 0o755), whiteout("a/.wh.file"),
		dir("d/", 0o755), whiteout("d/.wh..wh..opq"), file("d/new", "new", 0o644),
		file("top", "upper", 0o644), whiteout(".wh.nonexistent"))

	target := filepath.Join(tmp, "merged")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	opts := "lowerdir=" + s.Path(key(2)) + ":" + s.Path(key(1))
	if err := unix.Mount("overlay", target, "overlay", unix.MS_RDONLY, opts); err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.ENODEV) {
			t.Skipf("cannot mount overlay here: %v", err)
		}
		t.Fatalf("mount overlay: %v", err)
	}
	defer unix.Unmount(target, unix.MNT_DETACH)

	if exists(filepath.Join(target, "a/file")) {
		t.Error("whiteout did not hide a/file")
	}
	if exists(filepath.Join(target, "d/old")) {
		t.Error("opaque dir did not hide d/old")
	}
	if exists(filepath.Join(target, "nonexistent")) {
		t.Error("whiteout of nothing is visible")
	}
	for p, want := range map[string]string{"a/keep": "keep", "d/new": "new", "top": "upper"} {
		if got := readFile(t, filepath.Join(target, p)); got != want {
			t.Errorf("%s = %q, want %q", p, got, want)
		}
	}
	ents, err := os.ReadDir(filepath.Join(target, "a"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if strings.Join(names, ",") != "keep" {
		t.Errorf("a/ lists %v", names)
	}
}
