package engine

// What a container changed in its filesystem: its overlay upper
// directory, read directly (docker diff; commit makes a layer of it). A
// deletion is a 0/0 character device (a whiteout), a directory whose lower
// contents are hidden carries trusted.overlay.opaque=y; whether an entry
// is new or changed is decided by looking it up in the image's layers.

import (
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nerd-project/nerd/pkg/container"
)

// ChangeKind is docker diff's A, C or D.
type ChangeKind int

const (
	ChangeModify ChangeKind = iota
	ChangeAdd
	ChangeDelete
)

func (k ChangeKind) String() string {
	switch k {
	case ChangeAdd:
		return "A"
	case ChangeDelete:
		return "D"
	}
	return "C"
}

// Change is one line of docker diff.
type Change struct {
	Kind ChangeKind
	Path string
}

// runtimePaths are the mount points the runtime creates in a rootfs that
// lacks them. Docker keeps them in a hidden "init" layer; nerd has none, so
// when they are empty and absent from the image they are left out of diff
// and commit, as they are in Docker.
var runtimePaths = map[string]bool{
	"/dev": true, "/proc": true, "/sys": true,
	"/dev/pts": true, "/dev/shm": true, "/dev/mqueue": true, "/dev/console": true,
	"/etc/hostname": true, "/etc/hosts": true, "/etc/resolv.conf": true, "/etc/mtab": true,
	"/.dockerenv": true,
}

// lowerView looks paths up in an image's layers (top first) as overlayfs
// would merge them.
type lowerView struct {
	layers []string
}

func containerLowers(rec *container.Record) lowerView {
	var v lowerView
	for i := len(rec.Snapshots) - 1; i >= 0; i-- {
		v.layers = append(v.layers, filepath.Join(rec.SnapshotRoot, rec.Snapshots[i], "fs"))
	}
	return v
}

// lstat returns the lower entry at p (absolute), if any.
func (v lowerView) lstat(p string) (unix.Stat_t, bool) {
	parts := strings.Split(strings.TrimPrefix(path.Clean(p), "/"), "/")
	for _, layer := range v.layers {
		st, found, stop := lookupLayer(layer, parts)
		if found {
			return st, true
		}
		if stop {
			break
		}
	}
	return unix.Stat_t{}, false
}

// lookupLayer looks parts up in one layer, one component at a time (a
// symlink on the way is not followed: it hides the path). stop reports
// that this layer hides the path from the layers below.
func lookupLayer(layer string, parts []string) (st unix.Stat_t, found, stop bool) {
	p := layer
	opaque := false
	for i, name := range parts {
		p += "/" + name
		if err := unix.Lstat(p, &st); err != nil {
			return st, false, opaque
		}
		if st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == 0 {
			return st, false, true // whiteout
		}
		if i == len(parts)-1 {
			return st, true, true
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			return st, false, true
		}
		if !opaque {
			var b [1]byte
			if n, err := unix.Lgetxattr(p, opaqueXattr, b[:]); err == nil && n == 1 && b[0] == 'y' {
				opaque = true
			}
		}
	}
	return st, false, opaque
}

// runtimeCreated reports an entry the runtime made as a mount point: one
// of runtimePaths, absent from the image, and empty.
func runtimeCreated(lower lowerView, dirfd int, base, p string, st *unix.Stat_t) bool {
	if !runtimePaths[p] {
		return false
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		if st.Size != 0 {
			return false
		}
	case unix.S_IFDIR:
		if !dirEmptyAt(dirfd, base) {
			return false
		}
	default:
		return false
	}
	_, inLower := lower.lstat(p)
	return !inLower
}

func dirEmptyAt(dirfd int, base string) bool {
	fd, err := unix.Openat(dirfd, base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	f := os.NewFile(uintptr(fd), base)
	defer f.Close()
	names, err := f.Readdirnames(1)
	return err == io.EOF || (err == nil && len(names) == 0)
}

func openUpper(p container.Paths) (*os.File, error) {
	fd, err := unix.Open(p.Upper(), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: p.Upper(), Err: err}
	}
	return os.NewFile(uintptr(fd), p.Upper()), nil
}

// Changes lists what c changed in its filesystem, in Docker's order (a
// walk of the tree, names sorted; the parent of an added or deleted entry
// shows as changed just before it).
func (e *Engine) Changes(c *Container) ([]Change, error) {
	upper, err := openUpper(c.Paths)
	if err != nil {
		return nil, err
	}
	defer upper.Close()
	d := &differ{lower: containerLowers(c.Record), changed: map[string]bool{}}
	names, err := upper.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	if err := d.walk(upper, "/", names, false); err != nil {
		return nil, err
	}
	return d.out, nil
}

type differ struct {
	lower   lowerView
	changed map[string]bool
	out     []Change
}

func (d *differ) add(kind ChangeKind, p string) {
	if kind != ChangeModify {
		if parent := path.Dir(p); parent != "/" && !d.changed[parent] {
			d.out = append(d.out, Change{ChangeModify, parent})
			d.changed[parent] = true
		}
	}
	d.out = append(d.out, Change{kind, p})
	d.changed[p] = true
}

// walk visits the entries names of the upper directory f (path dir).
// hidden means the lower layers have nothing below dir (a new or opaque
// directory).
func (d *differ) walk(f *os.File, dir string, names []string, hidden bool) error {
	sort.Strings(names)
	fd := int(f.Fd())
	for _, n := range names {
		p := path.Join(dir, n)
		var st unix.Stat_t
		if err := unix.Fstatat(fd, n, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return &os.PathError{Op: "lstat", Path: p, Err: err}
		}
		if st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == 0 {
			d.add(ChangeDelete, p)
			continue
		}
		if !hidden && runtimeCreated(d.lower, fd, n, p, &st) {
			continue
		}
		var lst unix.Stat_t
		inLower := false
		if !hidden {
			lst, inLower = d.lower.lstat(p)
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			if inLower {
				d.add(ChangeModify, p)
			} else {
				d.add(ChangeAdd, p)
			}
			continue
		}
		cfd, err := unix.Openat(fd, n, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return &os.PathError{Op: "open", Path: p, Err: err}
		}
		child := os.NewFile(uintptr(cfd), p)
		err = d.dir(child, p, &st, &lst, inLower, hidden)
		child.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func (d *differ) dir(f *os.File, p string, st, lst *unix.Stat_t, inLower, hidden bool) error {
	names, err := f.Readdirnames(-1)
	if err != nil {
		return &os.PathError{Op: "readdir", Path: p, Err: err}
	}
	opaque := fdOpaque(int(f.Fd()))
	switch {
	case !inLower:
		d.add(ChangeAdd, p)
	case opaque || lst.Mode&unix.S_IFMT != unix.S_IFDIR:
		d.add(ChangeModify, p)
	default:
		// Creating the runtime's mount points touched the directory's
		// times: only its own metadata counts then.
		ignoreTimes := false
		for _, n := range names {
			var cst unix.Stat_t
			if unix.Fstatat(int(f.Fd()), n, &cst, unix.AT_SYMLINK_NOFOLLOW) == nil &&
				runtimeCreated(d.lower, int(f.Fd()), n, path.Join(p, n), &cst) {
				ignoreTimes = true
			}
		}
		if st.Mode != lst.Mode || st.Uid != lst.Uid || st.Gid != lst.Gid ||
			(!ignoreTimes && (st.Mtim.Sec != lst.Mtim.Sec || st.Mtim.Nsec != lst.Mtim.Nsec)) {
			d.add(ChangeModify, p)
		}
	}
	return d.walk(f, p, names, hidden || !inLower || opaque)
}

// writeUpperLayer writes c's changes as an OCI layer: the upper directory
// with whiteouts as .wh. entries and opaque directories marked with
// .wh..wh..opq, without the runtime's mount points.
func writeUpperLayer(w io.Writer, c *Container) error {
	upper, err := openUpper(c.Paths)
	if err != nil {
		return err
	}
	defer upper.Close()
	lower := containerLowers(c.Record)
	tw := newTarWriter(w)
	tw.layer = true
	tw.xattrs = xattrsLayer
	tw.skip = func(dirfd int, base, name string, st *unix.Stat_t) bool {
		return runtimeCreated(lower, dirfd, base, "/"+name, st)
	}
	if err := tw.addDir(upper, "", false); err != nil {
		return err
	}
	return tw.Close()
}
