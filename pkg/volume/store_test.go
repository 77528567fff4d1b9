package volume

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

func newStore(t *testing.T, users map[string][]string) *Store {
	t.Helper()
	var mu sync.Mutex
	s, err := Open(filepath.Join(t.TempDir(), "volumes"), func() (map[string][]string, error) {
		mu.Lock()
		defer mu.Unlock()
		return users, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestValidateName(t *testing.T) {
	for _, ok := range []string{"ab", "a1", "my_vol.1-x", "0abc"} {
		if err := ValidateName(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for name, want := range map[string]string{
		"a":    "too short",
		"-ab":  `"-ab" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed`,
		"a/b":  "includes invalid characters",
		"..":   "includes invalid characters",
		".x":   "includes invalid characters",
		"a b":  "includes invalid characters",
		"ab$":  "includes invalid characters",
		"":     "includes invalid characters",
		"a:/b": "includes invalid characters",
	} {
		err := ValidateName(name)
		if err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, ErrInvalid) {
			t.Errorf("%q: %v, want %q", name, err, want)
		}
	}
}

func TestCreateGetListRemove(t *testing.T) {
	users := map[string][]string{}
	s := newStore(t, users)
	v, created, err := s.Create(CreateOptions{Name: "data", Labels: map[string]string{"a": "b"}})
	if err != nil || !created {
		t.Fatalf("create: %v %v", created, err)
	}
	if v.Mountpoint != s.DataDir("data") || v.Driver != "local" || v.Scope != "local" || v.Labels["a"] != "b" || v.Anonymous() {
		t.Errorf("%+v", v)
	}
	if fi, err := os.Stat(v.Mountpoint); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("data dir: %v %v", fi, err)
	}
	if _, created, err := s.Create(CreateOptions{Name: "data"}); err != nil || created {
		t.Errorf("second create: created=%v err=%v", created, err)
	}
	anon, _, err := s.Create(CreateOptions{Anonymous: true})
	if err != nil || len(anon.Name) != 64 || !anon.Anonymous() {
		t.Fatalf("anonymous: %+v %v", anon, err)
	}
	list, err := s.List()
	if err != nil || len(list) != 2 {
		t.Fatalf("list: %v %v", list, err)
	}
	if _, err := s.Get("nosuch"); !errors.Is(err, ErrNotFound) || err.Error() != "get nosuch: no such volume" {
		t.Errorf("get missing: %v", err)
	}
	if _, err := s.Get("../etc"); !errors.Is(err, ErrNotFound) {
		t.Errorf("get ../etc: %v", err)
	}
	users["data"] = []string{"c1", "c2"}
	if err := s.Remove("data", true); !errors.Is(err, ErrInUse) || err.Error() != "remove data: volume is in use - [c1, c2]" {
		t.Errorf("remove in use: %v", err)
	}
	delete(users, "data")
	if err := s.Remove("data", false); err != nil {
		t.Errorf("remove: %v", err)
	}
	if err := s.Remove("data", false); !errors.Is(err, ErrNotFound) {
		t.Errorf("remove again: %v", err)
	}
	if err := s.Remove("data", true); err != nil {
		t.Errorf("remove -f of a missing volume: %v", err)
	}
	ents, _ := os.ReadDir(s.Root())
	for _, e := range ents {
		if e.Name() != ".lock" && e.Name() != anon.Name {
			t.Errorf("left in the store: %s", e.Name())
		}
	}
}

func TestCreateOptionsChecked(t *testing.T) {
	s := newStore(t, nil)
	for _, c := range []struct {
		opts CreateOptions
		want string
	}{
		{CreateOptions{Name: "x1", Driver: "other"}, `volume driver "other" is not supported`},
		{CreateOptions{Name: "x2", Options: map[string]string{"bogus": "1"}}, `invalid option: "bogus"`},
		{CreateOptions{Name: "x3", Options: map[string]string{"o": "size=1m"}}, `missing required option: "type"`},
		{CreateOptions{Name: "x4", Options: map[string]string{"type": "ext4"}}, `missing required option: "device"`},
		{CreateOptions{Name: "a/b"}, `create a/b: invalid volume: "a/b" includes invalid characters`},
	} {
		if _, _, err := s.Create(c.opts); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.opts, err, c.want)
		}
	}
	if list, _ := s.List(); len(list) != 0 {
		t.Errorf("failed creates left %v", list)
	}
	v, _, err := s.Create(CreateOptions{Name: "tv", Options: map[string]string{"type": "tmpfs", "device": "tmpfs", "o": "size=1m"}})
	if err != nil || !v.HasMountOptions() {
		t.Errorf("tmpfs volume: %+v %v", v, err)
	}
}

func TestPruneAndRemoveUnused(t *testing.T) {
	users := map[string][]string{}
	s := newStore(t, users)
	mk := func(name string, anon bool) string {
		v, _, err := s.Create(CreateOptions{Name: name, Anonymous: anon})
		if err != nil {
			t.Fatal(err)
		}
		return v.Name
	}
	named := mk("named", false)
	usedNamed := mk("usednamed", false)
	a1 := mk("", true)
	a2 := mk("", true)
	a3 := mk("", true)
	os.WriteFile(filepath.Join(s.DataDir(a1), "f"), []byte("12345"), 0o644)
	users[usedNamed] = []string{"c"}
	users[a2] = []string{"c"}
	users[a3] = []string{"me"}

	// RemoveUnused: only anonymous, not used by others than "me".
	if err := s.RemoveUnused([]string{named, a2, a3}, "me"); err != nil {
		t.Fatal(err)
	}
	for n, want := range map[string]bool{named: true, a2: true, a3: false} {
		if _, err := s.Get(n); (err == nil) != want {
			t.Errorf("%s exists=%v, want %v", n, err == nil, want)
		}
	}
	rep, err := s.Prune(PruneOptions{})
	if err != nil || len(rep.Deleted) != 1 || rep.Deleted[0] != a1 || rep.Reclaimed != 5 {
		t.Errorf("prune: %+v %v", rep, err)
	}
	rep, err = s.Prune(PruneOptions{All: true, Filter: func(v *Volume) bool { return v.Name != named }})
	if err != nil || len(rep.Deleted) != 0 {
		t.Errorf("prune -a filtered: %+v %v", rep, err)
	}
	rep, err = s.Prune(PruneOptions{All: true})
	if err != nil || len(rep.Deleted) != 1 || rep.Deleted[0] != named {
		t.Errorf("prune -a: %+v %v", rep, err)
	}
	list, _ := s.List()
	if len(list) != 2 {
		t.Errorf("left %d volumes, want the 2 in use", len(list))
	}
}

func TestCopyDir(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(src, "sub", "deep"), 0o750))
	must(os.WriteFile(filepath.Join(src, "sub", "f"), []byte("data"), 0o640))
	must(os.Link(filepath.Join(src, "sub", "f"), filepath.Join(src, "hard")))
	must(os.Symlink("sub/f", filepath.Join(src, "sym")))
	must(unix.Mkfifo(filepath.Join(src, "fifo"), 0o600))
	must(os.Chown(filepath.Join(src, "sub", "f"), 1000, 2000))
	must(unix.Chmod(filepath.Join(src, "sub", "deep"), 0o1777))
	must(os.Chmod(src, 0o711))
	must(os.Chown(src, 33, 33))
	_ = unix.Lsetxattr(filepath.Join(src, "sub", "f"), "user.test", []byte("v"), 0)

	must(CopyDir(src, dst))
	var st unix.Stat_t
	must(unix.Lstat(filepath.Join(dst, "sub", "f"), &st))
	if st.Uid != 1000 || st.Gid != 2000 || st.Mode&0o7777 != 0o640 || st.Nlink != 2 {
		t.Errorf("sub/f: uid %d gid %d mode %o nlink %d", st.Uid, st.Gid, st.Mode&0o7777, st.Nlink)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "hard")); string(b) != "data" {
		t.Errorf("hard link content %q", b)
	}
	if l, _ := os.Readlink(filepath.Join(dst, "sym")); l != "sub/f" {
		t.Errorf("symlink -> %q", l)
	}
	must(unix.Lstat(filepath.Join(dst, "fifo"), &st))
	if st.Mode&unix.S_IFMT != unix.S_IFIFO {
		t.Errorf("fifo not copied as a fifo")
	}
	must(unix.Lstat(filepath.Join(dst, "sub", "deep"), &st))
	if st.Mode&0o7777 != 0o1777 {
		t.Errorf("sub/deep mode %o", st.Mode&0o7777)
	}
	must(unix.Lstat(dst, &st))
	if st.Uid != 33 || st.Mode&0o7777 != 0o711 {
		t.Errorf("root: uid %d mode %o, want the source's", st.Uid, st.Mode&0o7777)
	}
	buf := make([]byte, 8)
	if n, err := unix.Lgetxattr(filepath.Join(dst, "sub", "f"), "user.test", buf); err == nil && string(buf[:n]) != "v" {
		t.Errorf("xattr %q", buf[:n])
	}
	if empty, _ := IsEmptyDir(dst); empty {
		t.Errorf("IsEmptyDir of a full dir")
	}
	if empty, _ := IsEmptyDir(t.TempDir()); !empty {
		t.Errorf("IsEmptyDir of an empty dir")
	}
	if DirSize(dst) != 4 {
		t.Errorf("DirSize %d, want 4 (hard link counted once)", DirSize(dst))
	}
}
