package engine

// Access to a container's root filesystem for cp and export, running or
// not. A running container's overlay is mounted by its monitor at
// <dir>/rootfs: it is pinned with an O_PATH handle (a concurrent unmount
// then only detaches it). A stopped container's overlay is mounted here,
// detached from every mount namespace (fsopen/fsmount), so nothing is left
// mounted when nerd exits or is killed; the container's lock is held
// meanwhile so that it is not started underneath. Paths are always
// resolved inside the rootfs (filepath-securejoin's pathrs-lite, openat2
// RESOLVE_IN_ROOT where the kernel has it): a symlink in the container
// never leads out of it.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	securejoin "github.com/cyphar/filepath-securejoin"
	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"golang.org/x/sys/unix"

	"github.com/nerd-project/nerd/internal/fsutil"
	"github.com/nerd-project/nerd/pkg/container"
)

// Errors of cp and export; the CLI words them as Docker does.
var (
	// ErrCannotCopyDir: a directory cannot replace an existing file.
	ErrCannotCopyDir = errors.New("cannot copy directory")
	// ErrDirNotExists: the destination, which must be a directory (it
	// ends in "/"), does not exist.
	ErrDirNotExists = errors.New("no such directory")
	// ErrNotDirectory: the destination's parent is not a directory.
	ErrNotDirectory = errors.New("not a directory")
	// ErrReadonlyRootfs: the container was created with --read-only.
	ErrReadonlyRootfs = errors.New("container rootfs is marked read-only")
	// ErrExtractPoint: what a tar stream would be extracted into is not a
	// directory.
	ErrExtractPoint = errors.New("extraction point is not a directory")
)

// PathNotFoundError is a path missing in a container (Docker's "Could not
// find the file … in container …", which the CLI completes with the
// container's name as typed).
type PathNotFoundError struct {
	Path string
}

func (e *PathNotFoundError) Error() string { return "no such file in container: " + e.Path }

// PathStat is Docker's ContainerPathStat of a path in a container.
type PathStat struct {
	Name       string
	Size       int64
	Mode       os.FileMode
	Mtime      time.Time
	LinkTarget string
}

// rootFS is a container's root filesystem held open for one operation.
type rootFS struct {
	root   *os.File // O_PATH handle on the overlay's root directory
	unlock func()
}

func (r *rootFS) Close() error {
	err := r.root.Close()
	if r.unlock != nil {
		r.unlock()
		r.unlock = nil
	}
	return err
}

// openRootFS gives access to c's root filesystem (see the top of this
// file).
func (e *Engine) openRootFS(c *Container) (*rootFS, error) {
	l, err := fsutil.LockExclusive(c.Paths.Lock())
	if err != nil {
		return nil, err
	}
	st, err := container.ReadState(c.Paths)
	if err != nil {
		l.Unlock()
		return nil, err
	}
	if st.Running() && container.MonitorAlive(st) {
		if f := openMountedRootfs(c.Paths); f != nil {
			// The monitor records state changes under the lock: never
			// keep it longer than needed while it runs the container.
			l.Unlock()
			return &rootFS{root: f}, nil
		}
	}
	f, err := mountOverlay(c.Record, c.Paths)
	if err != nil {
		l.Unlock()
		return nil, fmt.Errorf("mounting the filesystem of %s: %w", c.ID[:12], err)
	}
	return &rootFS{root: f, unlock: func() { _ = l.Unlock() }}, nil
}

// openMountedRootfs pins the monitor's overlay at <dir>/rootfs, or returns
// nil when none is mounted there.
func openMountedRootfs(p container.Paths) *os.File {
	fd, err := unix.Open(p.Rootfs(), unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	var sfs unix.Statfs_t
	var st, parent unix.Stat_t
	if unix.Fstatfs(fd, &sfs) != nil || sfs.Type != unix.OVERLAYFS_SUPER_MAGIC ||
		unix.Fstat(fd, &st) != nil || unix.Stat(p.Dir, &parent) != nil || st.Dev == parent.Dev {
		unix.Close(fd)
		return nil
	}
	return os.NewFile(uintptr(fd), p.Rootfs())
}

// overlayLowers are the snapshot directories of rec, top layer first (an
// empty directory for an image without layers).
func overlayLowers(rec *container.Record, p container.Paths) ([]string, error) {
	var lowers []string
	for i := len(rec.Snapshots) - 1; i >= 0; i-- {
		lowers = append(lowers, filepath.Join(rec.SnapshotRoot, rec.Snapshots[i], "fs"))
	}
	if len(lowers) == 0 {
		empty := filepath.Join(p.Dir, "empty-lower")
		if err := os.MkdirAll(empty, 0o755); err != nil {
			return nil, err
		}
		lowers = append(lowers, empty)
	}
	return lowers, nil
}

// mountOverlay mounts the container's overlay detached from any mount
// namespace and returns an O_PATH handle on its root; closing the handle
// (or exiting) releases the mount.
func mountOverlay(rec *container.Record, p container.Paths) (*os.File, error) {
	lowers, err := overlayLowers(rec, p)
	if err != nil {
		return nil, err
	}
	f, err := fsmountOverlay(lowers, p.Upper(), p.Work())
	if err == nil {
		return f, nil
	}
	// Kernels before 6.8 have no "lowerdir+": mount(2) on a private
	// temporary directory and detach the mount at once.
	f, lerr := legacyMountOverlay(lowers, p)
	if lerr != nil {
		return nil, errors.Join(err, lerr)
	}
	return f, nil
}

func fsmountOverlay(lowers []string, upper, work string) (*os.File, error) {
	fsfd, err := unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("fsopen overlay: %w", err)
	}
	defer unix.Close(fsfd)
	for _, l := range lowers {
		if err := unix.FsconfigSetString(fsfd, "lowerdir+", l); err != nil {
			return nil, fmt.Errorf("overlay lowerdir+ %s: %w", l, err)
		}
	}
	if err := unix.FsconfigSetString(fsfd, "upperdir", upper); err != nil {
		return nil, fmt.Errorf("overlay upperdir: %w", err)
	}
	if err := unix.FsconfigSetString(fsfd, "workdir", work); err != nil {
		return nil, fmt.Errorf("overlay workdir: %w", err)
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return nil, fmt.Errorf("creating overlay: %w", err)
	}
	mfd, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("fsmount overlay: %w", err)
	}
	return os.NewFile(uintptr(mfd), "rootfs"), nil
}

func legacyMountOverlay(lowers []string, p container.Paths) (*os.File, error) {
	data := "lowerdir=" + strings.Join(lowers, ":") + ",upperdir=" + p.Upper() + ",workdir=" + p.Work()
	if len(data) >= unix.Getpagesize() {
		return nil, fmt.Errorf("too many layers (%d) for one overlay mount", len(lowers))
	}
	dir, err := os.MkdirTemp(p.Dir, ".mnt-")
	if err != nil {
		return nil, err
	}
	defer os.Remove(dir)
	if err := unix.Mount("overlay", dir, "overlay", 0, data); err != nil {
		return nil, fmt.Errorf("mount overlay: %w", err)
	}
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	_ = unix.Unmount(dir, unix.MNT_DETACH)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), "rootfs"), nil
}

// Docker's path conventions: a trailing "/." copies a directory's contents,
// a trailing "/" asserts a directory.

func hasTrailingSlash(p string) bool { return len(p) > 0 && p[len(p)-1] == '/' }

func specifiesCurrentDir(p string) bool { return filepath.Base(p) == "." }

func assertsDirectory(p string) bool { return hasTrailingSlash(p) || specifiesCurrentDir(p) }

// preserveTrailingDotOrSlash re-appends to cleaned the "/." or "/" that
// original ended with.
func preserveTrailingDotOrSlash(cleaned, original string) string {
	if !specifiesCurrentDir(cleaned) && specifiesCurrentDir(original) {
		if !hasTrailingSlash(cleaned) {
			cleaned += "/"
		}
		cleaned += "."
	}
	if !hasTrailingSlash(cleaned) && hasTrailingSlash(original) {
		cleaned += "/"
	}
	return cleaned
}

// splitPathDirEntry is (dir, base) of p, base "." for a trailing "/.".
func splitPathDirEntry(p string) (string, string) {
	cleaned := filepath.Clean(p)
	if specifiesCurrentDir(p) {
		cleaned += "/."
	}
	return filepath.Dir(cleaned), filepath.Base(cleaned)
}

// containerPath is p as an absolute container path, keeping a trailing
// "/." or "/".
func containerPath(p string) string {
	return preserveTrailingDotOrSlash(path.Join("/", p), p)
}

// ctrEntry is a resolved entry of a container's filesystem: its parent
// directory (an fd) and name, or for a path that names a directory's
// contents ("dir/." or "dir/"), the directory itself.
type ctrEntry struct {
	parent int // directory fd, -1 when dir is set
	base   string
	dir    *os.File // the entry itself when it had to be followed
	st     unix.Stat_t
}

func (ent *ctrEntry) Close() {
	if ent.parent >= 0 {
		unix.Close(ent.parent)
	}
	if ent.dir != nil {
		ent.dir.Close()
	}
}

func (ent *ctrEntry) isDir() bool { return ent.st.Mode&unix.S_IFMT == unix.S_IFDIR }

// lookup resolves p (a container path) inside the rootfs: symlinks before
// the last component are followed within the root, the last one is not,
// unless p ends in "/" or "/.".
func (r *rootFS) lookup(p string) (*ctrEntry, error) {
	abs := containerPath(p)
	cleaned := path.Clean(abs)
	if cleaned == "/" || assertsDirectory(abs) {
		h, err := pathrs.OpenatInRoot(r.root, cleaned)
		if err != nil {
			return nil, notFound(p, err)
		}
		ent := &ctrEntry{parent: -1, base: path.Base(cleaned)}
		if err := unix.Fstat(int(h.Fd()), &ent.st); err != nil {
			h.Close()
			return nil, err
		}
		if ent.st.Mode&unix.S_IFMT != unix.S_IFDIR {
			h.Close()
			return nil, notFound(p, unix.ENOTDIR)
		}
		// A readable fd for walking.
		fd, err := unix.Openat(int(h.Fd()), ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		h.Close()
		if err != nil {
			return nil, err
		}
		ent.dir = os.NewFile(uintptr(fd), cleaned)
		return ent, nil
	}
	h, err := pathrs.OpenatInRoot(r.root, path.Dir(cleaned))
	if err != nil {
		return nil, notFound(p, err)
	}
	pfd, err := unix.Openat(int(h.Fd()), ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	h.Close()
	if err != nil {
		return nil, notFound(p, err)
	}
	ent := &ctrEntry{parent: pfd, base: path.Base(cleaned)}
	if err := unix.Fstatat(pfd, ent.base, &ent.st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		unix.Close(pfd)
		return nil, notFound(p, err)
	}
	return ent, nil
}

func notFound(p string, err error) error {
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) || errors.Is(err, os.ErrNotExist) {
		return &PathNotFoundError{Path: p}
	}
	return err
}

// stat is Docker's ContainerStatPath: the entry itself (not followed),
// with its target fully resolved inside the container when it is a
// symlink.
func (r *rootFS) stat(p string) (PathStat, error) {
	ent, err := r.lookup(p)
	if err != nil {
		return PathStat{}, err
	}
	defer ent.Close()
	ps := PathStat{
		Name:  ent.base,
		Size:  ent.st.Size,
		Mode:  fileMode(ent.st.Mode),
		Mtime: time.Unix(ent.st.Mtim.Sec, ent.st.Mtim.Nsec).UTC(),
	}
	if ps.Mode&os.ModeSymlink != 0 {
		// Resolve through the pinned root, scoped to it (the kernel path
		// /proc/self/fd/N leads into the mount whatever namespace it is in).
		rootPath := procFd(int(r.root.Fd()))
		resolved, err := securejoin.SecureJoin(rootPath, containerPath(p))
		if err != nil {
			return PathStat{}, err
		}
		ps.LinkTarget = path.Join("/", strings.TrimPrefix(resolved, rootPath))
	}
	return ps, nil
}

// fileMode converts a stat mode to Go's.
func fileMode(m uint32) os.FileMode {
	mode := os.FileMode(m & 0o777)
	switch m & unix.S_IFMT {
	case unix.S_IFDIR:
		mode |= os.ModeDir
	case unix.S_IFLNK:
		mode |= os.ModeSymlink
	case unix.S_IFCHR:
		mode |= os.ModeDevice | os.ModeCharDevice
	case unix.S_IFBLK:
		mode |= os.ModeDevice
	case unix.S_IFIFO:
		mode |= os.ModeNamedPipe
	case unix.S_IFSOCK:
		mode |= os.ModeSocket
	}
	if m&unix.S_ISUID != 0 {
		mode |= os.ModeSetuid
	}
	if m&unix.S_ISGID != 0 {
		mode |= os.ModeSetgid
	}
	if m&unix.S_ISVTX != 0 {
		mode |= os.ModeSticky
	}
	return mode
}

// writeEntry writes ent to tw named top (for a directory's contents, top
// "." writes the directory as "./" and its entries by their own names).
func writeEntry(tw *tarWriter, ent *ctrEntry, top string) error {
	if ent.dir != nil {
		return tw.addDir(ent.dir, top, true)
	}
	return tw.addAt(ent.parent, ent.base, top)
}

// CopyOptions are docker cp's -L and -a.
type CopyOptions struct {
	// FollowLink copies what a symlink source points to (-L).
	FollowLink bool
	// Archive keeps the source's uid/gid (-a): without it, files copied
	// into a container belong to root and files copied out belong to the
	// user running nerd.
	Archive bool
}

// resolveSource applies -L to a container source: the path to copy and
// the name the copy gets.
func (r *rootFS) resolveSource(src string, follow bool) (string, string, error) {
	if !follow {
		return src, "", nil
	}
	st, err := r.stat(src)
	if err != nil || st.Mode&os.ModeSymlink == 0 {
		return src, "", nil
	}
	p, rebase := rebaseName(src, st.LinkTarget)
	return p, rebase, nil
}

// rebaseName is Docker's GetRebaseName: a symlink's target, keeping the
// "/." or "/" the link path ended with, and the link's name when it
// differs from the target's.
func rebaseName(p, resolved string) (string, string) {
	if specifiesCurrentDir(p) && !specifiesCurrentDir(resolved) {
		resolved += "/."
	}
	if hasTrailingSlash(p) && !hasTrailingSlash(resolved) {
		resolved += "/"
	}
	var rebase string
	if filepath.Base(p) != filepath.Base(resolved) {
		rebase = filepath.Base(p)
	}
	return resolved, rebase
}

// ArchivePath writes a tar stream of src in c to w (docker cp CTR:SRC -).
func (e *Engine) ArchivePath(ctx context.Context, c *Container, src string, opts CopyOptions, w io.Writer) error {
	r, err := e.openRootFS(c)
	if err != nil {
		return err
	}
	defer r.Close()
	src, _, err = r.resolveSource(src, opts.FollowLink)
	if err != nil {
		return err
	}
	ent, err := r.lookup(src)
	if err != nil {
		return err
	}
	defer ent.Close()
	_, top := splitPathDirEntry(containerPath(src))
	if top == "/" {
		top = "."
	}
	tw := newTarWriter(w)
	if err := writeEntry(tw, ent, top); err != nil {
		return err
	}
	return tw.Close()
}

// CopyFromContainer copies src in c to dst on the host with docker cp's
// rules (see docs/containers.md) and returns the bytes of file content
// copied.
func (e *Engine) CopyFromContainer(ctx context.Context, c *Container, src, dst string, opts CopyOptions) (int64, error) {
	dstInfo, err := hostDestination(dst)
	if err != nil {
		return 0, err
	}
	r, err := e.openRootFS(c)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	srcPath, rebase, err := r.resolveSource(src, opts.FollowLink)
	if err != nil {
		return 0, err
	}
	ent, err := r.lookup(srcPath)
	if err != nil {
		return 0, err
	}
	defer ent.Close()
	_, srcBase := splitPathDirEntry(containerPath(srcPath))
	if rebase != "" {
		srcBase = rebase
	}
	extractDir, top, err := prepareCopy(srcBase, ent.isDir(), dstInfo)
	if err != nil {
		return 0, err
	}
	root, err := os.OpenFile(extractDir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	defer root.Close()
	owner := ownerKeep
	if opts.Archive {
		owner = ownerFromHeader
	}
	x := newExtractor(root, "/", owner)
	x.bestEffortOwner = os.Geteuid() != 0
	x.noOverwriteDirNonDir = true
	err = pipeTar(ctx, func(tw *tarWriter) error { return writeEntry(tw, ent, top) }, x)
	return x.content, err
}

// copyInfo is what Docker's CopyInfo says of a copy's end.
type copyInfo struct {
	path   string
	exists bool
	isDir  bool
}

// hostDestination is Docker's CopyInfoDestinationPath for a host path:
// symlinks are followed; a missing destination needs an existing parent
// directory.
func hostDestination(dst string) (copyInfo, error) {
	abs, err := filepath.Abs(dst)
	if err != nil {
		return copyInfo{}, err
	}
	p := preserveTrailingDotOrSlash(abs, dst)
	if dir := filepath.Dir(filepath.Clean(p)); dir != "" {
		if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
			return copyInfo{}, fmt.Errorf("invalid output path: directory %q does not exist", dir)
		}
	}
	for n := 0; ; n++ {
		fi, err := os.Lstat(p)
		if err == nil && fi.Mode()&os.ModeSymlink == 0 {
			if fi.Mode()&os.ModeDevice != 0 {
				return copyInfo{}, fmt.Errorf("invalid output path: %q must be a directory or a regular file: got a device", dst)
			}
			return copyInfo{path: p, exists: true, isDir: fi.IsDir()}, nil
		}
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				return copyInfo{}, err
			}
			parent, _ := splitPathDirEntry(p)
			pfi, err := os.Stat(parent)
			if err != nil {
				return copyInfo{}, err
			}
			if !pfi.IsDir() {
				return copyInfo{}, ErrNotDirectory
			}
			return copyInfo{path: p}, nil
		}
		if n > 10 {
			return copyInfo{}, errors.New("too many symlinks in " + dst)
		}
		target, err := os.Readlink(p)
		if err != nil {
			return copyInfo{}, err
		}
		if !filepath.IsAbs(target) {
			parent, _ := splitPathDirEntry(p)
			target = filepath.Join(parent, target)
		}
		p = target
	}
}

// prepareCopy is Docker's PrepareArchiveCopy: the directory to extract
// into and the name the source gets there.
func prepareCopy(srcBase string, srcIsDir bool, dst copyInfo) (string, string, error) {
	dstDir, dstBase := splitPathDirEntry(dst.path)
	if srcBase == "/" {
		srcBase = "."
	}
	switch {
	case dst.exists && dst.isDir:
		return dst.path, srcBase, nil
	case dst.exists && srcIsDir:
		return "", "", ErrCannotCopyDir
	case dst.exists, srcIsDir:
		return dstDir, dstBase, nil
	case assertsDirectory(dst.path):
		return "", "", ErrDirNotExists
	}
	return dstDir, dstBase, nil
}

// pipeTar streams what write produces into x.
func pipeTar(ctx context.Context, write func(*tarWriter) error, x *extractor) error {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		tw := newTarWriter(pw)
		err := write(tw)
		if err == nil {
			err = tw.Close()
		}
		pw.CloseWithError(err)
		done <- err
	}()
	err := x.extract(ctx, pr)
	pr.CloseWithError(errors.New("extraction stopped"))
	werr := <-done
	if werr != nil && (err == nil || errors.Is(err, werr)) {
		// The extraction failed because the source could not be read.
		return werr
	}
	return err
}

// ctrDestination is the container half of Docker's copyToContainer: the
// destination's stat, following a final symlink once.
func (r *rootFS) destination(ref, dst string) (copyInfo, error) {
	info := copyInfo{path: dst}
	st, err := r.stat(dst)
	if err == nil && st.Mode&os.ModeSymlink != 0 {
		info.path = st.LinkTarget
		st, err = r.stat(st.LinkTarget)
	}
	if err == nil {
		switch {
		case st.Mode&os.ModeDevice != 0:
			return info, fmt.Errorf("destination \"%s:%s\" must be a directory or a regular file: got a device", ref, dst)
		case st.Mode&os.ModeIrregular != 0:
			return info, fmt.Errorf("destination \"%s:%s\" must be a directory or a regular file: got an irregular file", ref, dst)
		}
		info.exists, info.isDir = true, st.Mode.IsDir()
	}
	return info, nil
}

// extractInto extracts a tar stream into dir of the container (which
// must exist and be a directory), as the Docker daemon does.
func (r *rootFS) extractInto(ctx context.Context, c *Container, dir string, owner ownerFunc, write func(*tarWriter) error, stream io.Reader) (int64, error) {
	abs := path.Clean(containerPath(dir))
	h, err := pathrs.OpenatInRoot(r.root, abs)
	if err != nil {
		return 0, notFound(dir, err)
	}
	var st unix.Stat_t
	err = unix.Fstat(int(h.Fd()), &st)
	h.Close()
	if err != nil {
		return 0, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return 0, ErrExtractPoint
	}
	if c.HostConfig.ReadonlyRootfs {
		return 0, ErrReadonlyRootfs
	}
	x := newExtractor(r.root, abs, owner)
	x.noOverwriteDirNonDir = true
	if stream != nil {
		err = x.extract(ctx, stream)
	} else {
		err = pipeTar(ctx, write, x)
	}
	return x.content, err
}

// CopyToContainer copies src on the host to dst in c with docker cp's
// rules and returns the bytes of file content copied and the destination
// as Docker reports it.
func (e *Engine) CopyToContainer(ctx context.Context, c *Container, ref, src, dst string, opts CopyOptions) (int64, string, error) {
	abs, err := filepath.Abs(src)
	if err != nil {
		return 0, "", err
	}
	srcPath := preserveTrailingDotOrSlash(abs, src)
	var rebase string
	if opts.FollowLink {
		resolved, err := filepath.EvalSymlinks(srcPath)
		if err != nil {
			return 0, "", err
		}
		srcPath, rebase = rebaseName(srcPath, resolved)
	} else {
		// Symlinks before the last component are followed (host paths).
		dir, base := splitPathDirEntry(srcPath)
		rdir, err := filepath.EvalSymlinks(dir)
		if err != nil {
			return 0, "", err
		}
		srcPath = preserveTrailingDotOrSlash(filepath.Join(rdir, base), srcPath)
	}
	fi, err := os.Lstat(srcPath)
	if err != nil {
		return 0, "", err
	}
	srcDir, srcBase := splitPathDirEntry(srcPath)
	if rebase != "" {
		srcBase = rebase
	}

	r, err := e.openRootFS(c)
	if err != nil {
		return 0, "", err
	}
	defer r.Close()
	dstInfo, err := r.destination(ref, dst)
	if err != nil {
		return 0, "", err
	}
	extractDir, top, err := prepareCopy(srcBase, fi.IsDir(), dstInfo)
	if err != nil {
		return 0, "", err
	}
	owner := ownerRoot
	if opts.Archive {
		owner = ownerFromHeader
	}
	write := func(tw *tarWriter) error {
		if specifiesCurrentDir(srcPath) || hasTrailingSlash(srcPath) {
			d, err := os.Open(filepath.Clean(srcPath))
			if err != nil {
				return err
			}
			defer d.Close()
			return tw.addDir(d, top, true)
		}
		d, err := os.Open(srcDir)
		if err != nil {
			return err
		}
		defer d.Close()
		return tw.addAt(int(d.Fd()), filepath.Base(srcPath), top)
	}
	n, err := r.extractInto(ctx, c, extractDir, owner, write, nil)
	return n, dstInfo.path, err
}

// ExtractToContainer extracts a tar stream (possibly compressed) into the
// directory dst of c (docker cp - CTR:DST). Owners come from the archive.
func (e *Engine) ExtractToContainer(ctx context.Context, c *Container, ref string, stream io.Reader, dst string) error {
	r, err := e.openRootFS(c)
	if err != nil {
		return err
	}
	defer r.Close()
	dstInfo, err := r.destination(ref, dst)
	if err != nil {
		return err
	}
	if !dstInfo.isDir {
		return fmt.Errorf("destination \"%s:%s\" must be a directory", ref, dst)
	}
	_, err = r.extractInto(ctx, c, dstInfo.path, ownerFromHeader, nil, stream)
	return err
}

// Export writes c's whole filesystem as a tar stream to w.
func (e *Engine) Export(ctx context.Context, c *Container, w io.Writer) error {
	r, err := e.openRootFS(c)
	if err != nil {
		return err
	}
	defer r.Close()
	fd, err := unix.Openat(int(r.root.Fd()), ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	d := os.NewFile(uintptr(fd), "/")
	defer d.Close()
	tw := newTarWriter(w)
	if err := tw.addDir(d, "", false); err != nil {
		return err
	}
	return tw.Close()
}
