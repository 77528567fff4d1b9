package snapshot

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestCommitStatListRemove(t *testing.T) {
	s, _ := newStore(t)
	layer := mkTar(t, file("a", "hello", 0o644))
	st, res, err := applyBlob(t, s, layer)
	if err != nil {
		t.Fatal(err)
	}
	stagingDir := st.dir
	if err := st.Commit(context.Background(), key(1), sha([]byte("other")), nil); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("wrong DiffID: err = %v", err)
	}
	if s.Exists(key(1)) {
		t.Fatal("committed with a wrong DiffID")
	}
	for _, bad := range []string{"", "../x", "ABCD", "a/b", key(1) + "/..", strings.Repeat("a", 129)} {
		if err := st.Commit(context.Background(), bad, res.DiffID, nil); err == nil {
			t.Errorf("key %q accepted", bad)
		}
		if s.Path(bad) != "" {
			t.Errorf("Path(%q) = %q", bad, s.Path(bad))
		}
	}
	if err := st.Commit(context.Background(), key(2), res.DiffID, []string{key(1)}); err != nil {
		t.Fatal(err)
	}
	if exists(stagingDir) {
		t.Error("staging dir still there after commit")
	}
	if !s.Exists(key(2)) || readFile(t, filepath.Join(s.Path(key(2)), "a")) != "hello" {
		t.Fatal("snapshot missing")
	}
	info, err := s.Stat(key(2))
	if err != nil {
		t.Fatal(err)
	}
	if info.Key != key(2) || info.DiffID != sha(layer) || info.Size != 5 || info.Parent != key(1) || info.Created.IsZero() {
		t.Errorf("Info = %+v", info)
	}
	if l, err := s.List(); err != nil || len(l) != 1 || l[0] != info {
		t.Errorf("List = %v, %v", l, err)
	}
	if err := st.Abort(); err != nil {
		t.Errorf("Abort after Commit: %v", err)
	}
	if !s.Exists(key(2)) {
		t.Fatal("Abort after Commit removed the snapshot")
	}
	if err := s.Remove(key(2)); err != nil {
		t.Fatal(err)
	}
	if s.Exists(key(2)) || exists(filepath.Join(s.Root(), key(2))) {
		t.Error("snapshot still there after Remove")
	}
	if _, err := s.Stat(key(2)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat after Remove: %v", err)
	}
	if err := s.Remove(key(2)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Remove missing: %v", err)
	}
	if ents, _ := os.ReadDir(filepath.Join(s.Root(), stagingName)); len(ents) != 1 {
		t.Errorf("staging not empty after Remove: %v", ents)
	}
}

func TestCommitExistingKey(t *testing.T) {
	s, _ := newStore(t)
	commitLayer(t, s, key(1), nil, file("a", "first", 0o644))
	st, res, err := applyBlob(t, s, mkTar(t, file("a", "second", 0o644)))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(context.Background(), key(1), res.DiffID, nil); err != nil {
		t.Fatalf("Commit of an existing key: %v", err)
	}
	if exists(st.dir) {
		t.Error("losing staging dir not removed")
	}
	if got := readFile(t, filepath.Join(s.Path(key(1)), "a")); got != "first" {
		t.Errorf("existing snapshot changed: %q", got)
	}
	// The rename itself must never replace: an existing root/<key> wins even
	// when the Exists check was passed (the concurrent-pull race).
	st2, _, err := applyBlob(t, s, mkTar(t, file("a", "third", 0o644)))
	if err != nil {
		t.Fatal(err)
	}
	if err := renameNoReplace(st2.dir, filepath.Join(s.Root(), key(1))); !errors.Is(err, unix.EEXIST) && !errors.Is(err, unix.ENOTEMPTY) {
		t.Fatalf("renameNoReplace over existing: %v", err)
	}
}

func TestCleanStaging(t *testing.T) {
	s, _ := newStore(t)
	live, err := s.Prepare()
	if err != nil {
		t.Fatal(err)
	}
	defer live.Abort()
	dead, _, err := applyBlob(t, s, mkTar(t, dir("d/", 0o555), file("d/f", "f", 0o444)))
	if err != nil {
		t.Fatal(err)
	}
	dead.release() // what a crash does: the flock goes away, the dir stays
	junk := filepath.Join(s.Root(), stagingName, "rm-leftover")
	if err := os.MkdirAll(filepath.Join(junk, "fs/x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := s.CleanStaging(); err != nil {
		t.Fatal(err)
	}
	if exists(dead.dir) || exists(junk) {
		t.Error("abandoned staging dirs not removed")
	}
	if !exists(live.dir) || !exists(live.Path()) {
		t.Fatal("live staging dir removed")
	}
	if !exists(filepath.Join(s.Root(), stagingName, stagingLockName)) {
		t.Error("staging lock removed")
	}
	// The live one still works.
	layer := mkTar(t, file("a", "a", 0o644))
	if _, err := live.Apply(context.Background(), strings.NewReader(string(layer))); err != nil {
		t.Fatal(err)
	}
	if err := live.Commit(context.Background(), key(9), sha(layer), nil); err != nil {
		t.Fatal(err)
	}
}

func TestWhiteouts(t *testing.T) {
	s, _ := newStore(t)
	commitLayer(t, s, key(1), nil,
		file("a/file", "gone", 0o644), file("a/keep", "keep", 0o644),
		file("d/old", "old", 0o644))
	commitLayer(t, s, key(2), []string{key(1)},
		dir("a/", 0o755), whiteout("a/.wh.file"),
		dir("d/", 0o755), whiteout("d/.wh..wh..opq"), file("d/new", "new", 0o644),
		whiteout(".wh..wh.plnk"), whiteout("a/.wh..wh.aufs"),
	)
	root := s.Path(key(2))
	sx := lstat(t, filepath.Join(root, "a/file"))
	if sx.Mode&unix.S_IFMT != unix.S_IFCHR || sx.Rdev != 0 || sx.Uid != 0 || sx.Gid != 0 {
		t.Errorf("whiteout: mode %o rdev %d owner %d:%d", sx.Mode, sx.Rdev, sx.Uid, sx.Gid)
	}
	if v, _ := getxattr(filepath.Join(root, "d"), opaqueXattr); v != "y" {
		t.Errorf("opaque xattr = %q", v)
	}
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".wh.") {
			t.Errorf("whiteout file left in snapshot: %s", p)
		}
		return err
	})
	if readFile(t, filepath.Join(root, "d/new")) != "new" || exists(filepath.Join(root, "a/keep")) {
		t.Error("unexpected content")
	}
}

// Whiteouts delete only from lower layers (OCI spec); same-layer entries stay.
func TestWhiteoutSameLayer(t *testing.T) {
	s, _ := newStore(t)
	st, _, err := applyBlob(t, s, mkTar(t,
		dir("x/", 0o755), file("x/f", "f", 0o644), whiteout(".wh.x"), // x stays, lower x hidden
		whiteout(".wh.y"), dir("y/", 0o755), // recreated after delete
		whiteout(".wh.z"), file("z/w", "w", 0o644), // recreated implicitly
		file("k", "k", 0o644), whiteout(".wh.k"),
	))
	if err != nil {
		t.Fatal(err)
	}
	root := st.Path()
	for _, d := range []string{"x", "y", "z"} {
		if sx := lstat(t, filepath.Join(root, d)); !isDir(&sx) {
			t.Errorf("%s not a dir", d)
		}
		if v, _ := getxattr(filepath.Join(root, d), opaqueXattr); v != "y" {
			t.Errorf("%s not opaque", d)
		}
	}
	if readFile(t, filepath.Join(root, "x/f")) != "f" || readFile(t, filepath.Join(root, "z/w")) != "w" || readFile(t, filepath.Join(root, "k")) != "k" {
		t.Error("same-layer content lost")
	}
}

func TestDeferredHardlink(t *testing.T) {
	s, _ := newStore(t)
	commitLayer(t, s, key(1), nil,
		file("usr/bin/x", "lower", 0o4750).owner(5, 6).mtime(t1).pax(map[string]string{"SCHILY.xattr.user.nerd": "v"}),
		file("usr/bin/gone", "gone", 0o644))
	commitLayer(t, s, key(2), []string{key(1)}, whiteout("usr/bin/.wh.gone"), file("other", "o", 0o644))
	commitLayer(t, s, key(3), []string{key(2), key(1)},
		dir("usr/", 0o755), dir("usr/bin/", 0o755).mtime(t2),
		hardlink("usr/bin/y", "usr/bin/x"),
		hardlink("usr/bin/z", "usr/bin/y"), // chain to a deferred link
		hardlink("w", "/usr/bin/x"),
		hardlink("overwritten", "usr/bin/x"), file("overwritten", "mine", 0o600),
	)
	root := s.Path(key(3))
	lower := lstat(t, filepath.Join(s.Path(key(1)), "usr/bin/x"))
	y := lstat(t, filepath.Join(root, "usr/bin/y"))
	if !isReg(&y) || y.Mode&0o7777 != 0o4750 || y.Uid != 5 || y.Gid != 6 || y.Mtim.Sec != t1.Unix() || y.Ino == lower.Ino {
		t.Errorf("copied link: mode %o owner %d:%d mtime %d ino %d (lower %d)", y.Mode, y.Uid, y.Gid, y.Mtim.Sec, y.Ino, lower.Ino)
	}
	if got := readFile(t, filepath.Join(root, "usr/bin/y")); got != "lower" {
		t.Errorf("content %q", got)
	}
	if v, _ := getxattr(filepath.Join(root, "usr/bin/y"), "user.nerd"); v != "v" {
		t.Errorf("xattr not copied: %q", v)
	}
	for _, n := range []string{"usr/bin/z", "w"} {
		if sx := lstat(t, filepath.Join(root, n)); sx.Ino != y.Ino {
			t.Errorf("%s not linked to usr/bin/y", n)
		}
	}
	if y.Nlink != 3 {
		t.Errorf("nlink %d, want 3", y.Nlink)
	}
	if readFile(t, filepath.Join(root, "overwritten")) != "mine" {
		t.Error("later entry lost to a deferred link")
	}
	if sx := lstat(t, filepath.Join(root, "usr/bin")); sx.Mtim.Sec != t2.Unix() {
		t.Errorf("dir mtime %d not restored after links were added", sx.Mtim.Sec)
	}
	if info, _ := s.Stat(key(3)); info.Size != int64(len("mine")+len("lower")) {
		t.Errorf("size %d", info.Size)
	}

	// Deleted in a nearer parent: not found.
	st, res, err := applyBlob(t, s, mkTar(t, hardlink("l", "usr/bin/gone")))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(context.Background(), key(4), res.DiffID, []string{key(2), key(1)}); err == nil || !strings.Contains(err.Error(), `hardlink "l" to "usr/bin/gone"`) {
		t.Fatalf("err = %v", err)
	}
	if s.Exists(key(4)) {
		t.Fatal("committed")
	}
	// Missing parent snapshot.
	st, res, err = applyBlob(t, s, mkTar(t, hardlink("l", "usr/bin/x")))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(context.Background(), key(5), res.DiffID, []string{key(77)}); err == nil {
		t.Fatal("missing parent accepted")
	}
}
