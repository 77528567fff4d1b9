package e2e

import (
	"archive/tar"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Layer tarballs are hostile input. Each layer below tries to write outside
// the snapshot directory (or holds a device node): the pull must fail with
// exit 1, write nothing outside the data root, and leave no image, no blob
// and no snapshot behind.

// hostileTarget is a directory outside the data root that a broken
// extractor would write into, with a victim file it could clobber or delete.
type hostileTarget struct {
	Dir, Victim string
}

const victimContent = "victim: must stay as it is\n"

func newHostileTarget(t *testing.T) hostileTarget {
	dir := filepath.Join(t.TempDir(), "outside")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	h := hostileTarget{Dir: dir, Victim: filepath.Join(dir, "victim")}
	if err := os.WriteFile(h.Victim, []byte(victimContent), 0o644); err != nil {
		t.Fatal(err)
	}
	return h
}

// check fails the test if anything in the target dir changed.
func (h hostileTarget) check(t *testing.T) {
	t.Helper()
	entries, err := os.ReadDir(h.Dir)
	if err != nil {
		t.Fatalf("outside dir: %v", err)
	}
	for _, e := range entries {
		if e.Name() != "victim" {
			t.Errorf("pull wrote %s outside the data root", filepath.Join(h.Dir, e.Name()))
		}
	}
	b, err := os.ReadFile(h.Victim)
	if err != nil || string(b) != victimContent {
		t.Errorf("victim file outside the data root changed: %q %v", b, err)
	}
	if fi, err := os.Stat(h.Victim); err == nil && fi.Sys().(*syscall.Stat_t).Nlink != 1 {
		t.Errorf("victim file outside the data root got %d links", fi.Sys().(*syscall.Stat_t).Nlink)
	}
}

// up climbs far enough from any snapshot directory to reach "/".
var up = strings.Repeat("../", 40)

func TestPullHostileLayers(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		entries func(h hostileTarget) []tarEntry
	}{
		{"dotdot path", func(h hostileTarget) []tarEntry {
			return []tarEntry{tFile(up+strings.TrimPrefix(h.Dir, "/")+"/pwned", "pwned\n", 0o644)}
		}},
		{"dotdot inside path", func(h hostileTarget) []tarEntry {
			return []tarEntry{tDir("a/", 0o755), tFile("a/"+up+strings.TrimPrefix(h.Dir, "/")+"/pwned", "pwned\n", 0o644)}
		}},
		{"dotdot whiteout", func(h hostileTarget) []tarEntry {
			return []tarEntry{tFile(up+strings.TrimPrefix(h.Dir, "/")+"/.wh.victim", "", 0o644)}
		}},
		// Docker: "invalid hardlink".
		{"relative hardlink escaping", func(h hostileTarget) []tarEntry {
			return []tarEntry{tHardlink("evil", up+strings.TrimPrefix(h.Victim, "/")), tFile("evil", "pwned\n", 0o644)}
		}},
		// The target is resolved in the layer, where it does not exist.
		{"absolute hardlink to a host file", func(h hostileTarget) []tarEntry {
			return []tarEntry{tHardlink("evil", h.Victim)}
		}},
		{"hardlink through an absolute symlink", func(h hostileTarget) []tarEntry {
			return []tarEntry{tSymlink("out", h.Dir), tHardlink("evil", "out/victim")}
		}},
		{"device node", func(h hostileTarget) []tarEntry {
			return []tarEntry{tDir("dev/", 0o755), tCharDev("dev/evil", 1, 3)}
		}},
		{"block device node", func(h hostileTarget) []tarEntry {
			b := tCharDev("sda", 8, 0)
			b.Header.Typeflag = tar.TypeBlock
			return []tarEntry{b}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := newHostileTarget(t)
			img := pushImage(t, reg, uniqueRepo(t)+":latest", v1.Config{}, tarLayer(c.entries(h)...))
			e := newEnv(t)
			r := e.nerd("pull", img.Ref)
			h.check(t)
			r.wantFailure(t, 1)
			e.assertEmptyStore()
			h.check(t)
		})
	}
}

// Symlinks pointing out of the layer: absolute ones are legal (they mean
// the container's root) and containerd clamps relative ones to the root too,
// while Docker's classic unpacker refuses relative ones ("invalid symlink").
// Writing through one lands inside the layer, or the pull refuses it; either
// way nothing outside the data root changes.
func TestPullSymlinksStayInside(t *testing.T) {
	t.Parallel()
	cases := map[string]func(h hostileTarget) []tarEntry{
		"write through absolute": func(h hostileTarget) []tarEntry {
			return []tarEntry{tSymlink("evil", h.Dir), tFile("evil/pwned", "pwned\n", 0o644)}
		},
		"write through relative escaping": func(h hostileTarget) []tarEntry {
			return []tarEntry{tSymlink("evil", up+strings.TrimPrefix(h.Dir, "/")), tFile("evil/pwned", "pwned\n", 0o644)}
		},
		"write through symlinked parent dir": func(h hostileTarget) []tarEntry {
			return []tarEntry{tDir("a/", 0o755), tSymlink("a/b", "../"+up+strings.TrimPrefix(h.Dir, "/")), tDir("a/b/c/", 0o755), tFile("a/b/c/pwned", "pwned\n", 0o644)}
		},
		"relative escaping alone": func(h hostileTarget) []tarEntry {
			return []tarEntry{tSymlink("evil", up+strings.TrimPrefix(h.Dir, "/"))}
		},
		"hardlink then file over it": func(h hostileTarget) []tarEntry {
			return []tarEntry{tHardlink("evil", h.Victim), tFile("evil", "pwned\n", 0o644)}
		},
	}
	for name, entries := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := newHostileTarget(t)
			img := pushImage(t, reg, uniqueRepo(t)+":latest", v1.Config{}, tarLayer(entries(h)...))
			e := newEnv(t)
			r := e.nerd("pull", img.Ref)
			h.check(t)
			if r.Code != 0 {
				r.wantFailure(t, 1)
				e.assertEmptyStore()
				return
			}
			snaps := e.committedSnapshots()
			if len(snaps) != 1 {
				t.Fatalf("want 1 snapshot, have %v", snaps)
			}
			fs := filepath.Join(e.Root, "snapshots", snaps[0], "fs")
			if strings.HasPrefix(name, "write through") {
				if !exists(filepath.Join(fs, h.Dir, "pwned")) && !exists(filepath.Join(fs, h.Dir, "c", "pwned")) {
					t.Errorf("the write through the symlink did not land inside the layer at %s", h.Dir)
				}
			}
		})
	}
}

// A later entry replacing a symlink must replace the link, not write
// through it: legal input, but the file outside must stay untouched.
func TestPullLayerReplacingSymlinkStaysInside(t *testing.T) {
	t.Parallel()
	h := newHostileTarget(t)
	img := pushImage(t, reg, uniqueRepo(t)+":latest", v1.Config{},
		tarLayer(tSymlink("evil", h.Victim)),
		tarLayer(tFile("evil", "replaced\n", 0o644)),
	)
	img2 := pushImage(t, reg, uniqueRepo(t)+":latest", v1.Config{},
		tarLayer(tSymlink("evil", h.Victim), tFile("evil", "replaced\n", 0o644)),
	)
	e := newEnv(t)
	e.nerd("pull", img.Ref)
	h.check(t)
	e.nerd("pull", img2.Ref)
	h.check(t)
}
