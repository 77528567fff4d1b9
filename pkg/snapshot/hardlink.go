package snapshot

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"

	securejoin "github.com/cyphar/filepath-securejoin"
	"golang.org/x/sys/unix"
)

// hardlink handles a tar hardlink entry. The target is a name in the layer
// (never a host path). If this layer has it, it must be a regular file and is
// linked; if not, the OCI spec allows it to live in a lower layer, so the link
// is deferred to Commit, which knows the parents.
func (a *applier) hardlink(rel, full string, hdr *tar.Header) error {
	target, err := cleanName(hdr.Linkname)
	if err != nil {
		return fmt.Errorf("hardlink target %q: %w", hdr.Linkname, err)
	}
	if target == "." {
		return fmt.Errorf("hardlink target %q is the layer root", hdr.Linkname)
	}
	if target == rel {
		return errors.New("hardlink to itself")
	}
	if d, ok := a.deferredLive(target); ok {
		// Linking to a deferred link: same lower file, same inode at Commit.
		return a.deferLink(rel, full, d.target)
	}
	tdir, err := a.dirPath(path.Dir(target), false)
	if errors.Is(err, fs.ErrNotExist) {
		return a.deferLink(rel, full, target)
	}
	if err != nil {
		return fmt.Errorf("hardlink target %q: %w", hdr.Linkname, err)
	}
	tfull := tdir + "/" + path.Base(target)
	var tst unix.Stat_t
	if err := unix.Lstat(tfull, &tst); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return a.deferLink(rel, full, target)
		}
		return fmt.Errorf("hardlink target %q: %w", hdr.Linkname, err)
	}
	if !isReg(&tst) {
		return fmt.Errorf("hardlink target %q is not a regular file", hdr.Linkname)
	}
	// Through a symlinked parent, rel may already be the target itself;
	// replacing it would delete the file we want to link to.
	var st unix.Stat_t
	if unix.Lstat(full, &st) == nil && st.Dev == tst.Dev && st.Ino == tst.Ino {
		return nil
	}
	// linkat without AT_SYMLINK_FOLLOW: tfull is a regular file we just
	// lstat'ed, and full is created, never followed.
	if _, err := a.create(rel, full, false, func() error {
		return unix.Linkat(unix.AT_FDCWD, tfull, unix.AT_FDCWD, full, 0)
	}); err != nil {
		return fmt.Errorf("creating hardlink: %w", err)
	}
	return nil
}

func (a *applier) deferLink(rel, full, target string) error {
	var st unix.Stat_t
	err := unix.Lstat(full, &st)
	if err == nil {
		err = a.remove(rel, full, &st)
	} else if errors.Is(err, unix.ENOENT) {
		err = nil
	}
	if err != nil {
		return fmt.Errorf("hardlink: %w", err)
	}
	a.deferred[rel] = deferredLink{target: target, seq: a.seq}
	return nil
}

// deferredLive returns the deferred link at name unless a later entry removed
// a directory above it.
func (a *applier) deferredLive(name string) (deferredLink, bool) {
	d, ok := a.deferred[name]
	if !ok {
		return d, false
	}
	for p := path.Dir(name); p != "."; p = path.Dir(p) {
		if a.removed[p] > d.seq {
			return d, false
		}
	}
	return d, true
}

// resolveDeferred materializes hardlinks into lower layers: each target is
// copied (content and metadata) from the nearest parent that has it, once;
// further links to the same target become hardlinks to that copy, preserving
// the layer's link structure within itself.
func (st *Staging) resolveDeferred(parents []string) error {
	a := st.a
	names := make([]string, 0, len(a.deferred))
	for n := range a.deferred {
		if _, ok := a.deferredLive(n); ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	first := make(map[string]string)
	for _, name := range names {
		target := a.deferred[name].target
		p, err := a.dirPath(path.Dir(name), true)
		if err != nil {
			return fmt.Errorf("hardlink %q: %w", name, err)
		}
		full := p + "/" + path.Base(name)
		if f, ok := first[target]; ok {
			if err := unix.Linkat(unix.AT_FDCWD, f, unix.AT_FDCWD, full, 0); err != nil {
				return fmt.Errorf("hardlink %q: %w", name, err)
			}
			continue
		}
		src, err := st.s.findInParents(parents, target)
		if err != nil {
			return fmt.Errorf("hardlink %q to %q: %w", name, target, err)
		}
		n, err := copyFile(src, full)
		if err != nil {
			return fmt.Errorf("hardlink %q: copying %q from parent: %w", name, target, err)
		}
		a.size += n
		first[target] = full
	}
	return nil
}

// findInParents finds the regular file target as the merged lower layers
// would show it: the nearest parent that has the path decides, and a
// whiteout or opaque directory in a parent hides everything further down.
// Symlinks are resolved within each parent's own tree (securejoin), which
// cannot escape it; cross-layer symlink chains are not followed.
func (s *Store) findInParents(parents []string, target string) (string, error) {
	for _, key := range parents {
		root := s.Path(key)
		var st unix.Stat_t
		if err := unix.Lstat(root, &st); err != nil {
			return "", fmt.Errorf("parent snapshot %s: %w", key, err)
		}
		found, hidden, err := lookupInLayer(root, target)
		if err != nil {
			return "", fmt.Errorf("parent snapshot %s: %w", key, err)
		}
		if found != "" {
			return found, nil
		}
		if hidden {
			break
		}
	}
	return "", errors.New("target is in neither this layer nor any parent layer")
}

func lookupInLayer(root, target string) (found string, hidden bool, err error) {
	p, err := securejoin.SecureJoin(root, target)
	if err != nil {
		return "", false, err
	}
	var st unix.Stat_t
	err = unix.Lstat(p, &st)
	switch {
	case err == nil && isReg(&st):
		return p, false, nil
	case err == nil && isWhiteout(&st):
		return "", true, nil
	case err == nil:
		return "", false, fmt.Errorf("%q is not a regular file", target)
	case !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.ENOTDIR):
		return "", false, err
	}
	// Absent here: does this layer hide the lower layers' copy?
	for dir := path.Dir(target); ; dir = path.Dir(dir) {
		dp := root
		if dir != "." {
			if dp, err = securejoin.SecureJoin(root, dir); err != nil {
				return "", false, err
			}
		}
		if unix.Lstat(dp, &st) == nil && (isWhiteout(&st) || isDir(&st) && isOpaque(dp)) {
			return "", true, nil
		}
		if dir == "." {
			return "", false, nil
		}
	}
}

// copyFile copies a regular file from a parent snapshot with its owner, mode,
// xattrs and times, returning its size. io.Copy between two files uses
// copy_file_range, which reflinks on filesystems that can.
func copyFile(src, dst string) (int64, error) {
	sfd, err := unix.Open(src, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	sf := os.NewFile(uintptr(sfd), src)
	defer sf.Close()
	var st unix.Stat_t
	if err := unix.Fstat(sfd, &st); err != nil {
		return 0, err
	}
	if !isReg(&st) {
		return 0, fmt.Errorf("%s is not a regular file", src)
	}
	dfd, err := unix.Open(dst, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return 0, err
	}
	df := os.NewFile(uintptr(dfd), dst)
	n, err := io.Copy(df, sf)
	if err == nil {
		err = unix.Fchown(dfd, int(st.Uid), int(st.Gid))
	}
	if err == nil {
		err = unix.Fchmod(dfd, st.Mode&0o7777)
	}
	if err == nil {
		err = copyXattrs(sfd, dfd)
	}
	if err == nil {
		ts := []unix.Timespec{st.Atim, st.Mtim}
		err = unix.UtimesNanoAt(unix.AT_FDCWD, dst, ts, unix.AT_SYMLINK_NOFOLLOW)
	}
	if cerr := df.Close(); err == nil {
		err = cerr
	}
	return n, err
}

func copyXattrs(sfd, dfd int) error {
	sz, err := unix.Flistxattr(sfd, nil)
	if err != nil || sz == 0 {
		return nil // no xattr support on the source: nothing to copy
	}
	list := make([]byte, sz)
	if sz, err = unix.Flistxattr(sfd, list); err != nil {
		return fmt.Errorf("listing xattrs: %w", err)
	}
	for _, nb := range bytes.Split(list[:sz], []byte{0}) {
		name := string(nb)
		if name == "" || reservedXattr(name) {
			continue
		}
		vsz, err := unix.Fgetxattr(sfd, name, nil)
		if err != nil {
			continue // raced away or unreadable (security.*): best effort
		}
		val := make([]byte, vsz)
		if vsz, err = unix.Fgetxattr(sfd, name, val); err != nil {
			continue
		}
		if err := unix.Fsetxattr(dfd, name, val[:vsz], 0); err != nil && xattrFatal(name, err, true) {
			return fmt.Errorf("setting xattr %s: %w", name, err)
		}
	}
	return nil
}
