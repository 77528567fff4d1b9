package snapshot

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"
)

var (
	t0 = time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	t1 = time.Date(2021, 6, 7, 8, 9, 10, 0, time.UTC)
	t2 = time.Date(2022, 11, 12, 13, 14, 15, 0, time.UTC)
)

type entry struct {
	hdr  tar.Header
	body string
}

func file(name, body string, mode int64) entry {
	return entry{hdr: tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, ModTime: t0}, body: body}
}

func dir(name string, mode int64) entry {
	return entry{hdr: tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: mode, ModTime: t0}}
}

func symlink(name, target string) entry {
	return entry{hdr: tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777, ModTime: t0}}
}

func hardlink(name, target string) entry {
	return entry{hdr: tar.Header{Typeflag: tar.TypeLink, Name: name, Linkname: target, Mode: 0o644, ModTime: t0}}
}

func whiteout(name string) entry { return file(name, "", 0o644) }

func (e entry) owner(uid, gid int) entry { e.hdr.Uid, e.hdr.Gid = uid, gid; return e }
func (e entry) mtime(t time.Time) entry  { e.hdr.ModTime = t; return e }
func (e entry) typ(flag byte) entry      { e.hdr.Typeflag = flag; return e }
func (e entry) pax(rec map[string]string) entry {
	e.hdr.PAXRecords = rec
	e.hdr.Format = tar.FormatPAX
	return e
}

// mkTar builds an uncompressed tar stream.
func mkTar(t *testing.T, ents ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range ents {
		h := e.hdr
		h.Size = int64(len(e.body))
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatalf("tar header %q: %v", h.Name, err)
		}
		if _, err := io.WriteString(tw, e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zst(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := zstd.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sha(b []byte) digest.Digest {
	return digest.NewDigestFromBytes(digest.SHA256, func() []byte { s := sha256.Sum256(b); return s[:] }())
}

func key(n int) string { return fmt.Sprintf("%064x", n) }

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (chown, mknod, trusted xattrs)")
	}
}

func newStore(t *testing.T) (*Store, string) {
	t.Helper()
	requireRoot(t)
	tmp := t.TempDir()
	s, err := Open(filepath.Join(tmp, "store"))
	if err != nil {
		t.Fatal(err)
	}
	return s, tmp
}

// applyBlob prepares a staging dir and applies blob; the staging dir is
// aborted at cleanup unless committed.
func applyBlob(t *testing.T, s *Store, blob []byte) (*Staging, ApplyResult, error) {
	t.Helper()
	st, err := s.Prepare()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Abort() })
	res, err := st.Apply(context.Background(), bytes.NewReader(blob))
	return st, res, err
}

// commitLayer unpacks and commits ents as snapshot k with the given parents.
func commitLayer(t *testing.T, s *Store, k string, parents []string, ents ...entry) {
	t.Helper()
	st, res, err := applyBlob(t, s, mkTar(t, ents...))
	if err != nil {
		t.Fatalf("apply %s: %v", k, err)
	}
	if err := st.Commit(context.Background(), k, res.DiffID, parents); err != nil {
		t.Fatalf("commit %s: %v", k, err)
	}
}

func lstat(t *testing.T, p string) unix.Stat_t {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		t.Fatalf("lstat %s: %v", p, err)
	}
	return st
}

func exists(p string) bool {
	var st unix.Stat_t
	return unix.Lstat(p, &st) == nil
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func getxattr(p, name string) (string, bool) {
	buf := make([]byte, 256)
	n, err := unix.Lgetxattr(p, name, buf)
	if err != nil {
		return "", false
	}
	return string(buf[:n]), true
}

// treeState records everything under root except the subtree skip, so a test
// can prove a hostile layer changed nothing outside its staging dir.
func treeState(t *testing.T, root, skip string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == skip {
			return filepath.SkipDir
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		desc := fmt.Sprintf("mode=%o uid=%d gid=%d size=%d nlink=%d mtime=%d", st.Mode, st.Uid, st.Gid, st.Size, st.Nlink, st.Mtim.Nano())
		if d.Type()&fs.ModeSymlink != 0 {
			l, _ := os.Readlink(p)
			desc += " -> " + l
		} else if d.Type().IsRegular() {
			b, _ := os.ReadFile(p)
			desc += " " + string(b)
		}
		for _, x := range []string{opaqueXattr, "user.nerd"} {
			if v, ok := getxattr(p, x); ok {
				desc += " " + x + "=" + v
			}
		}
		out[p] = desc
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
