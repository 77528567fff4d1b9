package snapshot

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	mrand "math/rand/v2"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestApplyBasic(t *testing.T) {
	s, _ := newStore(t)
	layer := mkTar(t,
		dir("./", 0o755),
		dir("etc/", 0o755).mtime(t1),
		file("etc/passwd", "root:x:0:0\n", 0o644),
		symlink("etc/abs", "/etc/passwd").owner(7, 8).mtime(t2),
		dir("usr/", 0o755),
		dir("usr/bin/", 0o755),
		file("usr/bin/su", "su", 0o4755),
		file("usr/bin/sg", "sg", 0o2755).owner(0, 42),
		hardlink("usr/bin/newgrp", "usr/bin/sg"),
		symlink("bin", "usr/bin"),
		dir("tmp/", 0o1777),
		dir("home/user/", 0o700).owner(1000, 1001).mtime(t2),
		file("home/user/.profile", "PS1=$\n", 0o600).owner(1000, 1001).mtime(t1),
		file("/abs/y", "abs", 0o644),
		file("./dot/x", "dot", 0o644),
		entry{hdr: tar.Header{Typeflag: tar.TypeFifo, Name: "run/fifo", Mode: 0o640, ModTime: t0, Uid: 3, Gid: 4}},
		file("usr/bin/ping", "ping", 0o755).pax(map[string]string{
			"SCHILY.xattr.user.nerd":                "bar",
			"SCHILY.xattr.trusted.nerd":             "baz",
			"SCHILY.xattr.security.nerd-bogus":      "ignored if refused",
			"SCHILY.xattr.trusted.overlay.redirect": "/elsewhere",
		}),
		file("late/file", "x", 0o644), // implicit parent
	)
	st, res, err := applyBlob(t, s, layer)
	if err != nil {
		t.Fatal(err)
	}
	if want := sha(layer); res.DiffID != want {
		t.Errorf("DiffID = %s, want %s", res.DiffID, want)
	}
	wantSize := int64(len("root:x:0:0\n") + len("su") + len("sg") + len("PS1=$\n") + len("abs") + len("dot") + len("ping") + len("x"))
	if res.Size != wantSize {
		t.Errorf("Size = %d, want %d", res.Size, wantSize)
	}
	root := st.Path()
	p := func(n string) string { return filepath.Join(root, n) }

	checkStat := func(name string, typ, perm uint32, uid, gid uint32) unix.Stat_t {
		t.Helper()
		sx := lstat(t, p(name))
		if sx.Mode&unix.S_IFMT != typ || sx.Mode&0o7777 != perm || sx.Uid != uid || sx.Gid != gid {
			t.Errorf("%s: mode %o uid %d gid %d, want type %o perm %o owner %d:%d", name, sx.Mode, sx.Uid, sx.Gid, typ, perm, uid, gid)
		}
		return sx
	}
	checkStat(".", unix.S_IFDIR, 0o755, 0, 0)
	checkStat("usr/bin/su", unix.S_IFREG, 0o4755, 0, 0)
	sg := checkStat("usr/bin/sg", unix.S_IFREG, 0o2755, 0, 42)
	ng := checkStat("usr/bin/newgrp", unix.S_IFREG, 0o2755, 0, 42)
	if sg.Ino != ng.Ino || sg.Nlink != 2 {
		t.Errorf("hardlink: ino %d vs %d, nlink %d", sg.Ino, ng.Ino, sg.Nlink)
	}
	checkStat("tmp", unix.S_IFDIR, 0o1777, 0, 0)
	home := checkStat("home/user", unix.S_IFDIR, 0o700, 1000, 1001)
	if home.Mtim.Sec != t2.Unix() {
		t.Errorf("dir mtime %d, want %d (must be set after its contents)", home.Mtim.Sec, t2.Unix())
	}
	if sx := checkStat("etc", unix.S_IFDIR, 0o755, 0, 0); sx.Mtim.Sec != t1.Unix() {
		t.Errorf("etc mtime %d, want %d", sx.Mtim.Sec, t1.Unix())
	}
	if sx := checkStat("home/user/.profile", unix.S_IFREG, 0o600, 1000, 1001); sx.Mtim.Sec != t1.Unix() {
		t.Errorf("file mtime %d, want %d", sx.Mtim.Sec, t1.Unix())
	}
	checkStat("home", unix.S_IFDIR, 0o755, 0, 0) // implicit
	checkStat("late", unix.S_IFDIR, 0o755, 0, 0) // implicit
	if sx := checkStat("etc/abs", unix.S_IFLNK, 0o777, 7, 8); sx.Mtim.Sec != t2.Unix() {
		t.Errorf("symlink mtime %d, want %d", sx.Mtim.Sec, t2.Unix())
	}
	checkStat("run/fifo", unix.S_IFIFO, 0o640, 3, 4)
	if l, _ := readlink(p("bin")); l != "usr/bin" {
		t.Errorf("bin -> %q", l)
	}
	if l, _ := readlink(p("etc/abs")); l != "/etc/passwd" {
		t.Errorf("etc/abs -> %q", l)
	}
	for name, want := range map[string]string{"etc/passwd": "root:x:0:0\n", "abs/y": "abs", "dot/x": "dot", "late/file": "x"} {
		if got := readFile(t, p(name)); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if v, _ := getxattr(p("usr/bin/ping"), "user.nerd"); v != "bar" {
		t.Errorf("user.nerd = %q", v)
	}
	if v, _ := getxattr(p("usr/bin/ping"), "trusted.nerd"); v != "baz" {
		t.Errorf("trusted.nerd = %q", v)
	}
	if _, ok := getxattr(p("usr/bin/ping"), "trusted.overlay.redirect"); ok {
		t.Error("trusted.overlay.redirect from the layer must be dropped")
	}
}

func readlink(p string) (string, error) {
	buf := make([]byte, 4096)
	n, err := unix.Readlink(p, buf)
	return string(buf[:n:n]), err
}

// countingReader proves Apply consumed the blob to EOF.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestCompressionDetectionAndDiffID(t *testing.T) {
	s, _ := newStore(t)
	layer := mkTar(t, dir("a/", 0o755), file("a/b", strings.Repeat("nerd", 100000), 0o644))
	layer = append(layer, make([]byte, 9*512)...) // extra record padding, as tar(1) writes
	want := sha(layer)
	for name, blob := range map[string][]byte{"plain": layer, "gzip": gz(t, layer), "zstd": zst(t, layer)} {
		t.Run(name, func(t *testing.T) {
			st, err := s.Prepare()
			if err != nil {
				t.Fatal(err)
			}
			defer st.Abort()
			cr := &countingReader{r: bytes.NewReader(blob)}
			res, err := st.Apply(context.Background(), cr)
			if err != nil {
				t.Fatal(err)
			}
			if res.DiffID != want {
				t.Errorf("DiffID %s, want %s", res.DiffID, want)
			}
			if cr.n != len(blob) {
				t.Errorf("read %d of %d bytes: Apply must read the blob to EOF", cr.n, len(blob))
			}
			if got := readFile(t, filepath.Join(st.Path(), "a/b")); len(got) != 400000 {
				t.Errorf("content length %d", len(got))
			}
		})
	}
}

func TestCorruptStreams(t *testing.T) {
	s, _ := newStore(t)
	layer := mkTar(t, file("a", strings.Repeat("x", 100000), 0o644), file("b", "b", 0o644))
	g, z := gz(t, layer), zst(t, layer)
	flipped := bytes.Clone(g)
	flipped[len(flipped)/2] ^= 0xff
	badCRC := bytes.Clone(g)
	badCRC[len(badCRC)-8] ^= 0xff
	cases := map[string]struct {
		blob []byte
		want string
	}{
		"truncated gzip":  {g[:len(g)-20], "decompressing layer: unexpected EOF"},
		"truncated zstd":  {z[:len(z)/2], "decompressing layer"},
		"corrupt gzip":    {flipped, ""}, // garbage may inflate; any error will do
		"gzip bad crc":    {badCRC, "decompressing layer: gzip: invalid checksum"},
		"truncated tar":   {layer[:1000], "unexpected EOF"},
		"garbage":         {bytes.Repeat([]byte("not a tar "), 100), "reading layer tar"},
		"xz":              {[]byte{0xfd, '7', 'z', 'X', 'Z', 0, 1, 2}, "unsupported layer compression: xz"},
		"gzip header cut": {g[:5], "decompressing layer"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, _, err := applyBlob(t, s, c.blob)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want containing %q", err, c.want)
			}
		})
	}
}

func TestApplyContextCancelled(t *testing.T) {
	s, _ := newStore(t)
	st, err := s.Prepare()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Abort()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := st.Apply(ctx, bytes.NewReader(mkTar(t, file("a", "a", 0o644)))); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestApplyOnce(t *testing.T) {
	s, _ := newStore(t)
	st, _, err := applyBlob(t, s, mkTar(t, file("a", "a", 0o644)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Apply(context.Background(), bytes.NewReader(nil)); err == nil {
		t.Fatal("second Apply succeeded")
	}
	st2, err := s.Prepare()
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Abort()
	if err := st2.Commit(context.Background(), key(1), sha(nil), nil); err == nil {
		t.Fatal("Commit without Apply succeeded")
	}
}

func TestEmptyLayer(t *testing.T) {
	s, _ := newStore(t)
	for _, blob := range [][]byte{nil, mkTar(t)} {
		if _, res, err := applyBlob(t, s, blob); err != nil || res.DiffID != sha(blob) {
			t.Fatalf("empty layer: %v %v", res, err)
		}
	}
}

func TestReplaceEntries(t *testing.T) {
	s, _ := newStore(t)
	st, _, err := applyBlob(t, s, mkTar(t,
		dir("d/", 0o755), file("d/f", "1", 0o644),
		file("d", "now a file", 0o600), // directory replaced by a file
		file("x", "old", 0o644),
		dir("x/", 0o711), // file replaced by a directory
		file("x/y", "y", 0o644),
		symlink("s", "x"),
		file("s", "not through the link", 0o644),
	))
	if err != nil {
		t.Fatal(err)
	}
	root := st.Path()
	if got := readFile(t, filepath.Join(root, "d")); got != "now a file" {
		t.Errorf("d = %q", got)
	}
	if sx := lstat(t, filepath.Join(root, "x")); !isDir(&sx) || sx.Mode&0o777 != 0o711 {
		t.Errorf("x mode %o", sx.Mode)
	}
	if got := readFile(t, filepath.Join(root, "s")); got != "not through the link" {
		t.Errorf("s = %q", got)
	}
	if got := readFile(t, filepath.Join(root, "x/y")); got != "y" {
		t.Errorf("x/y = %q", got)
	}
}

// watchReader serves a blob and flags any read after Apply returned.
type watchReader struct {
	r        io.Reader
	n        atomic.Int64
	returned atomic.Bool
	late     atomic.Bool
}

func (w *watchReader) Read(p []byte) (int, error) {
	if w.returned.Load() {
		w.late.Store(true)
	}
	n, err := w.r.Read(p)
	w.n.Add(int64(n))
	return n, err
}

// A hostile entry must stop the unpack promptly: Apply neither keeps reading
// a (possibly endless) stream nor leaves a goroutine reading it afterwards.
func TestApplyStopsReadingOnError(t *testing.T) {
	s, _ := newStore(t)
	rnd := make([]byte, 32<<20) // incompressible, so the blob is big too
	mrand.NewChaCha8([32]byte{1}).Read(rnd)
	big := string(rnd)
	blob := gz(t, mkTar(t, file("../evil", "x", 0o644), file("big", big, 0o644)))
	st, err := s.Prepare()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Abort()
	w := &watchReader{r: bytes.NewReader(blob)}
	_, err = st.Apply(context.Background(), w)
	w.returned.Store(true)
	if err == nil || !strings.Contains(err.Error(), "escapes") {
		t.Fatalf("err = %v", err)
	}
	time.Sleep(50 * time.Millisecond)
	if w.late.Load() {
		t.Error("layer stream read after Apply returned")
	}
	if w.n.Load() == int64(len(blob)) {
		t.Error("read the whole stream despite an early error")
	}
}
