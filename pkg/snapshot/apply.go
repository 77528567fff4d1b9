package snapshot

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"

	securejoin "github.com/cyphar/filepath-securejoin"
	"golang.org/x/sys/unix"
)

var (
	errEscape = errors.New("path escapes the layer root")
	errDevice = errors.New("device node not allowed in layer")
)

const (
	paxXattrPrefix = "SCHILY.xattr."
	maxID          = 1<<32 - 2 // (uid_t)-1 means "don't change" to chown
)

// applier unpacks one tar stream into root. Its safety rests on one invariant:
// every path it hands to a syscall is a parent directory resolved inside root
// (securejoin, or a cache of directories it verified) plus a final component
// that is created with O_EXCL/O_NOFOLLOW semantics or replaced, never followed.
// Only this process writes into the private staging dir, so a resolved parent
// stays symlink-free until the applier itself removes something — and every
// removal drops the cache.
type applier struct {
	root string // staging layer root: absolute, clean, symlink-free
	buf  []byte // reused copy buffer

	// dirs caches layer dir (cleaned, relative) -> resolved absolute path.
	dirs map[string]string
	// dirTimes holds directory times, set after all contents are written
	// because creating an entry changes its parent's mtime.
	dirTimes map[string][2]unix.Timespec
	// deferred holds hardlinks whose target is not in this layer (it lives in
	// a lower one): link name -> target, materialized by Commit.
	deferred map[string]deferredLink
	// removed records, per directory, the entry number at which it was last
	// removed, so a deferred link below it can be recognised as gone without
	// scanning all deferred links on every removal.
	removed map[string]int
	seq     int   // entry number
	size    int64 // bytes of regular file content
}

type deferredLink struct {
	target string
	seq    int
}

func newApplier(root string) *applier {
	return &applier{
		root:     root,
		buf:      make([]byte, copyBufSize),
		dirs:     make(map[string]string),
		dirTimes: make(map[string][2]unix.Timespec),
		deferred: make(map[string]deferredLink),
		removed:  make(map[string]int),
	}
}

func (a *applier) apply(ctx context.Context, r io.Reader) error {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			var de decompressError
			if errors.As(err, &de) {
				return err
			}
			return fmt.Errorf("reading layer tar: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		a.seq++
		if err := a.entry(hdr, tr); err != nil {
			return fmt.Errorf("layer entry %q: %w", hdr.Name, err)
		}
	}
	return a.applyDirTimes()
}

// cleanName turns a tar entry name into a clean path relative to the layer
// root. A leading "/" or "./" is normal in layers and stripped; anything that
// still climbs out after cleaning is refused rather than clamped, because a
// well-formed layer never contains it.
func cleanName(name string) (string, error) {
	n := path.Clean(strings.TrimLeft(name, "/"))
	if n == ".." || strings.HasPrefix(n, "../") {
		return "", errEscape
	}
	return n, nil
}

func (a *applier) entry(hdr *tar.Header, r io.Reader) error {
	if hdr.Typeflag == tar.TypeXGlobalHeader {
		return nil // e.g. git archive's comment; carries no file
	}
	name, err := cleanName(hdr.Name)
	if err != nil {
		return err
	}
	dirRel, base := path.Dir(name), path.Base(name)
	if name != "." && strings.HasPrefix(base, whiteoutPrefix) {
		return a.whiteout(dirRel, base)
	}
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeGNUSparse, tar.TypeCont, tar.TypeDir, tar.TypeSymlink, tar.TypeLink, tar.TypeFifo:
	case tar.TypeChar, tar.TypeBlock:
		return errDevice
	default:
		return fmt.Errorf("unsupported tar entry type %q", hdr.Typeflag)
	}
	if hdr.Uid < 0 || hdr.Uid > maxID || hdr.Gid < 0 || hdr.Gid > maxID {
		return fmt.Errorf("invalid owner %d:%d", hdr.Uid, hdr.Gid)
	}
	if name == "." {
		if hdr.Typeflag != tar.TypeDir {
			return errors.New("entry would replace the layer root")
		}
		return a.dirMeta(".", a.root, hdr)
	}
	delete(a.deferred, name) // a later entry of the same name wins
	parent, err := a.dirPath(dirRel, true)
	if err != nil {
		return err
	}
	full := parent + "/" + base
	switch hdr.Typeflag {
	case tar.TypeDir:
		return a.mkdir(name, full, hdr)
	case tar.TypeSymlink:
		return a.symlink(name, full, hdr)
	case tar.TypeLink:
		return a.hardlink(name, full, hdr)
	case tar.TypeFifo:
		return a.fifo(name, full, hdr)
	default:
		return a.regular(name, full, hdr, r)
	}
}

// dirPath returns the resolved absolute path of layer directory rel ("." is
// the root). Symlinks on the way are followed as if root were "/", so a
// hostile `a -> /etc` makes `a/passwd` land in root/etc. Missing directories
// are created (mode 0755, like Docker) if create is set; otherwise an error
// matching fs.ErrNotExist is returned.
func (a *applier) dirPath(rel string, create bool) (string, error) {
	if rel == "." {
		return a.root, nil
	}
	if p, ok := a.dirs[rel]; ok {
		return p, nil
	}
	// Fast path: the parent is known and rel itself is a plain directory
	// (or missing), which is what almost every layer looks like.
	parent := path.Dir(rel)
	pp, ok := a.dirs[parent]
	if parent == "." {
		pp, ok = a.root, true
	}
	if ok {
		p := pp + "/" + path.Base(rel)
		var st unix.Stat_t
		err := unix.Lstat(p, &st)
		if err == nil && isDir(&st) {
			a.dirs[rel] = p
			return p, nil
		}
		if errors.Is(err, unix.ENOENT) && create {
			if err := mkdirImplicit(p); err != nil {
				return "", fmt.Errorf("creating directory %q: %w", rel, err)
			}
			a.dirs[rel] = p
			return p, nil
		}
		// A symlink, whiteout or non-directory: take the careful path.
	}
	p, err := securejoin.SecureJoin(a.root, rel)
	if err != nil {
		return "", fmt.Errorf("resolving directory %q: %w", rel, err)
	}
	if p != a.root && !strings.HasPrefix(p, a.root+"/") {
		return "", errEscape // securejoin guarantees this; belt and braces
	}
	var st unix.Stat_t
	err = unix.Lstat(p, &st)
	switch {
	case err == nil && isDir(&st):
	case err == nil && !(create && isWhiteout(&st)):
		return "", fmt.Errorf("parent %q is not a directory", rel)
	case err != nil && !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.ENOTDIR):
		return "", fmt.Errorf("resolving directory %q: %w", rel, err)
	case !create:
		return "", fmt.Errorf("directory %q: %w", rel, fs.ErrNotExist)
	default:
		if err := a.mkdirAll(p); err != nil {
			return "", fmt.Errorf("creating directory %q: %w", rel, err)
		}
	}
	a.dirs[rel] = p
	return p, nil
}

// mkdirAll creates the missing directories of p, a path securejoin resolved
// inside root (so its existing components are real directories). A whiteout
// of this layer in the way is replaced by an opaque directory: the layer
// deleted the lower directory and then put new content at that path.
func (a *applier) mkdirAll(p string) error {
	cur := a.root
	for _, c := range strings.Split(strings.TrimPrefix(p, a.root+"/"), "/") {
		cur += "/" + c
		var st unix.Stat_t
		err := unix.Lstat(cur, &st)
		switch {
		case err == nil && isDir(&st):
			continue
		case err == nil && isWhiteout(&st):
			if err := unix.Unlink(cur); err != nil {
				return err
			}
			if err := mkdirImplicit(cur); err != nil {
				return err
			}
			if err := setOpaque(cur); err != nil {
				return err
			}
		case err == nil:
			return fmt.Errorf("%q is not a directory", strings.TrimPrefix(cur, a.root+"/"))
		case errors.Is(err, unix.ENOENT):
			if err := mkdirImplicit(cur); err != nil {
				return err
			}
		default:
			return err
		}
	}
	return nil
}

// mkdirImplicit creates a directory the tar did not list; chmod because the
// process umask must not leak into the image.
func mkdirImplicit(p string) error {
	if err := unix.Mkdir(p, 0o755); err != nil {
		return err
	}
	return unix.Fchmodat(unix.AT_FDCWD, p, 0o755, 0)
}

// create runs mk to create a new entry at full. If this layer already has
// something there it is removed (never followed) and mk retried, except that
// an existing directory is kept when a directory is wanted (tar merges them).
// wasWhiteout reports that a whiteout of this layer was replaced.
func (a *applier) create(rel, full string, wantDir bool, mk func() error) (wasWhiteout bool, err error) {
	err = mk()
	if !errors.Is(err, unix.EEXIST) {
		return false, err
	}
	var st unix.Stat_t
	if err := unix.Lstat(full, &st); err != nil {
		return false, err
	}
	if wantDir && isDir(&st) {
		return false, nil
	}
	wasWhiteout = isWhiteout(&st)
	if err := a.remove(rel, full, &st); err != nil {
		return false, err
	}
	return wasWhiteout, mk()
}

// remove deletes an entry this layer created earlier.
func (a *applier) remove(rel, full string, st *unix.Stat_t) error {
	var err error
	if isDir(st) {
		err = os.RemoveAll(full) // does not follow symlinks inside
		a.removed[rel] = a.seq
	} else {
		err = unix.Unlink(full)
		if err == nil && isReg(st) && st.Nlink == 1 {
			a.size -= st.Size // overwritten within the layer: count it once
		}
	}
	if err != nil {
		return fmt.Errorf("replacing existing entry: %w", err)
	}
	// A removed symlink or directory may be part of any cached resolution.
	a.dirs = make(map[string]string)
	return nil
}

func (a *applier) regular(rel, full string, hdr *tar.Header, r io.Reader) error {
	fd := -1
	_, err := a.create(rel, full, false, func() (err error) {
		fd, err = unix.Open(full, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		return err
	})
	if err != nil {
		return fmt.Errorf("creating file: %w", err)
	}
	err = a.writeFile(fd, hdr, r)
	if cerr := unix.Close(fd); err == nil && cerr != nil {
		err = fmt.Errorf("closing file: %w", cerr)
	}
	if err != nil {
		return err
	}
	a.size += hdr.Size
	return setTimes(full, hdr)
}

func (a *applier) writeFile(fd int, hdr *tar.Header, r io.Reader) error {
	if hdr.Size > 0 {
		// fdWriter has no ReadFrom, so CopyBuffer really uses our 1 MiB buffer.
		if _, err := io.CopyBuffer(fdWriter(fd), r, a.buf); err != nil {
			return fmt.Errorf("writing file: %w", err)
		}
	}
	// chown before chmod (chown clears setuid/setgid) and before xattrs
	// (chown clears security.capability).
	if err := unix.Fchown(fd, hdr.Uid, hdr.Gid); err != nil {
		return fmt.Errorf("chown: %w", err)
	}
	if err := unix.Fchmod(fd, mode(hdr)); err != nil {
		return fmt.Errorf("chmod: %w", err)
	}
	return setXattrs(fd, "", hdr, true)
}

func (a *applier) mkdir(rel, full string, hdr *tar.Header) error {
	wasWhiteout, err := a.create(rel, full, true, func() error { return unix.Mkdir(full, 0o700) })
	if err != nil {
		return fmt.Errorf("creating directory: %w", err)
	}
	a.dirs[rel] = full
	if wasWhiteout {
		// The layer deleted the lower directory and recreated it: the lower
		// contents must not show through the new one.
		if err := setOpaque(full); err != nil {
			return err
		}
	}
	return a.dirMeta(rel, full, hdr)
}

func (a *applier) dirMeta(rel, full string, hdr *tar.Header) error {
	if err := unix.Lchown(full, hdr.Uid, hdr.Gid); err != nil {
		return fmt.Errorf("chown: %w", err)
	}
	if err := unix.Fchmodat(unix.AT_FDCWD, full, mode(hdr), 0); err != nil {
		return fmt.Errorf("chmod: %w", err)
	}
	if err := setXattrs(-1, full, hdr, true); err != nil {
		return err
	}
	a.dirTimes[rel] = times(hdr)
	return nil
}

func (a *applier) symlink(rel, full string, hdr *tar.Header) error {
	// The target is stored verbatim: absolute and climbing symlinks are normal
	// in images, and nothing here ever follows one.
	if _, err := a.create(rel, full, false, func() error { return unix.Symlink(hdr.Linkname, full) }); err != nil {
		return fmt.Errorf("creating symlink: %w", err)
	}
	if err := unix.Lchown(full, hdr.Uid, hdr.Gid); err != nil {
		return fmt.Errorf("chown: %w", err)
	}
	if err := setXattrs(-1, full, hdr, false); err != nil {
		return err
	}
	return setTimes(full, hdr)
}

func (a *applier) fifo(rel, full string, hdr *tar.Header) error {
	if _, err := a.create(rel, full, false, func() error { return unix.Mknod(full, unix.S_IFIFO|0o600, 0) }); err != nil {
		return fmt.Errorf("creating fifo: %w", err)
	}
	if err := unix.Lchown(full, hdr.Uid, hdr.Gid); err != nil {
		return fmt.Errorf("chown: %w", err)
	}
	// full was just created as a fifo, so chmod cannot follow a symlink.
	if err := unix.Fchmodat(unix.AT_FDCWD, full, mode(hdr), 0); err != nil {
		return fmt.Errorf("chmod: %w", err)
	}
	if err := setXattrs(-1, full, hdr, false); err != nil {
		return err
	}
	return setTimes(full, hdr)
}

// applyDirTimes sets the recorded directory times. Directories are looked up
// again because later entries may have replaced them.
func (a *applier) applyDirTimes() error {
	for rel, ts := range a.dirTimes {
		full := a.root
		if rel != "." {
			p, err := a.dirPath(path.Dir(rel), false)
			if err != nil {
				continue // removed by a later entry
			}
			full = p + "/" + path.Base(rel)
		}
		var st unix.Stat_t
		if unix.Lstat(full, &st) != nil || !isDir(&st) {
			continue
		}
		if err := unix.UtimesNanoAt(unix.AT_FDCWD, full, ts[:], unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("setting times of %q: %w", rel, err)
		}
	}
	return nil
}

func mode(hdr *tar.Header) uint32 { return uint32(hdr.Mode & 0o7777) }

func timespec(t time.Time) unix.Timespec {
	return unix.Timespec{Sec: t.Unix(), Nsec: int64(t.Nanosecond())}
}

// times returns atime, mtime as Docker sets them: atime never before mtime.
func times(hdr *tar.Header) [2]unix.Timespec {
	at := hdr.AccessTime
	if at.Before(hdr.ModTime) {
		at = hdr.ModTime
	}
	return [2]unix.Timespec{timespec(at), timespec(hdr.ModTime)}
}

func setTimes(full string, hdr *tar.Header) error {
	ts := times(hdr)
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, full, ts[:], unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("setting times: %w", err)
	}
	return nil
}

func isDir(st *unix.Stat_t) bool { return st.Mode&unix.S_IFMT == unix.S_IFDIR }
func isReg(st *unix.Stat_t) bool { return st.Mode&unix.S_IFMT == unix.S_IFREG }

type fdWriter int

func (w fdWriter) Write(p []byte) (int, error) {
	written := 0
	for written < len(p) {
		n, err := unix.Write(int(w), p[written:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return written, err
		}
		written += n
	}
	return written, nil
}
