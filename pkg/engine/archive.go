package engine

// Tar streams of container files, for cp, export and commit. Everything
// here works on directory file descriptors: a tree is walked with
// openat(O_NOFOLLOW) one component at a time and written with *at calls
// relative to a directory that was resolved inside its root, so a symlink
// planted by a (running, hostile) container is never followed out of it.

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/bzip2"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"golang.org/x/sys/unix"
)

// Overlay's on-disk forms of deletions, and their OCI layer forms.
const (
	whiteoutPrefix = ".wh."
	opaqueWhiteout = ".wh..wh..opq"
	opaqueXattr    = "trusted.overlay.opaque"
	copyBufSize    = 1 << 20
)

// xattrPolicy selects the extended attributes a tar stream carries.
type xattrPolicy int

const (
	// xattrsCapability keeps security.capability only, as docker cp and
	// export do.
	xattrsCapability xattrPolicy = iota
	// xattrsLayer keeps everything but overlayfs' own bookkeeping (commit).
	xattrsLayer
)

type fileID struct{ dev, ino uint64 }

// tarWriter writes trees into a tar stream.
type tarWriter struct {
	tw     *tar.Writer
	xattrs xattrPolicy
	// layer turns overlay whiteouts (0/0 character devices) into .wh.
	// entries and opaque directories into .wh..wh..opq entries (commit).
	layer bool
	// skip leaves out the entry base of directory dirfd, named name (and
	// what is below it).
	skip  func(dirfd int, base, name string, st *unix.Stat_t) bool
	links map[fileID]string
	buf   []byte
	// content counts the bytes of regular files written.
	content int64
}

func newTarWriter(w io.Writer) *tarWriter {
	return &tarWriter{tw: tar.NewWriter(w), links: map[fileID]string{}}
}

func (w *tarWriter) Close() error { return w.tw.Close() }

// addAt writes the entry base of directory dirfd as name, directories
// with everything below them. The entry is never followed if it is a
// symlink.
func (w *tarWriter) addAt(dirfd int, base, name string) error {
	var st unix.Stat_t
	if err := unix.Fstatat(dirfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &os.PathError{Op: "lstat", Path: name, Err: err}
	}
	if w.skip != nil && w.skip(dirfd, base, name, &st) {
		return nil
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		fd, err := unix.Openat(dirfd, base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return &os.PathError{Op: "open", Path: name, Err: err}
		}
		f := os.NewFile(uintptr(fd), name)
		defer f.Close()
		return w.addDir(f, name, true)
	}
	return w.addNonDir(dirfd, base, name, &st)
}

// addDir writes the open directory f as name (its own entry only when
// withSelf) and then its entries, sorted by name.
func (w *tarWriter) addDir(f *os.File, name string, withSelf bool) error {
	fd := int(f.Fd())
	if withSelf {
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			return &os.PathError{Op: "stat", Path: name, Err: err}
		}
		hdr := w.header(&st, dirName(name), tar.TypeDir)
		w.addXattrs(hdr, fd)
		if err := w.tw.WriteHeader(hdr); err != nil {
			return err
		}
		if w.layer && fdOpaque(fd) {
			opq := &tar.Header{Typeflag: tar.TypeReg, Name: path.Join(name, opaqueWhiteout), Mode: 0o600,
				ModTime: hdr.ModTime, Format: tar.FormatPAX}
			if err := w.tw.WriteHeader(opq); err != nil {
				return err
			}
		}
	}
	names, err := f.Readdirnames(-1)
	if err != nil {
		return &os.PathError{Op: "readdir", Path: name, Err: err}
	}
	sort.Strings(names)
	for _, n := range names {
		if err := w.addAt(fd, n, path.Join(name, n)); err != nil {
			return err
		}
	}
	return nil
}

func dirName(name string) string {
	if name == "" || name == "." {
		return "./"
	}
	return name + "/"
}

func (w *tarWriter) addNonDir(dirfd int, base, name string, st *unix.Stat_t) error {
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		return w.addRegular(dirfd, base, name)
	case unix.S_IFLNK:
		target, err := readlinkat(dirfd, base)
		if err != nil {
			return &os.PathError{Op: "readlink", Path: name, Err: err}
		}
		hdr := w.header(st, name, tar.TypeSymlink)
		hdr.Linkname = target
		return w.tw.WriteHeader(hdr)
	case unix.S_IFCHR:
		if w.layer && st.Rdev == 0 {
			dir, file := path.Split(name)
			hdr := &tar.Header{Typeflag: tar.TypeReg, Name: path.Join(dir, whiteoutPrefix+file), Mode: 0o600,
				ModTime: time.Unix(st.Mtim.Sec, 0), Format: tar.FormatPAX}
			return w.tw.WriteHeader(hdr)
		}
		hdr := w.header(st, name, tar.TypeChar)
		hdr.Devmajor, hdr.Devminor = int64(unix.Major(st.Rdev)), int64(unix.Minor(st.Rdev))
		return w.tw.WriteHeader(hdr)
	case unix.S_IFBLK:
		hdr := w.header(st, name, tar.TypeBlock)
		hdr.Devmajor, hdr.Devminor = int64(unix.Major(st.Rdev)), int64(unix.Minor(st.Rdev))
		return w.tw.WriteHeader(hdr)
	case unix.S_IFIFO:
		return w.tw.WriteHeader(w.header(st, name, tar.TypeFifo))
	}
	// Sockets have no tar form; Docker leaves them out too.
	return nil
}

func (w *tarWriter) addRegular(dirfd int, base, name string) error {
	// O_NONBLOCK: should the file have become a FIFO since the stat, the
	// open must not hang (and the fstat below catches it).
	fd, err := unix.Openat(dirfd, base, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: name, Err: err}
	}
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return &os.PathError{Op: "stat", Path: name, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return w.addNonDir(dirfd, base, name, &st)
	}
	if st.Nlink > 1 {
		id := fileID{st.Dev, st.Ino}
		if first, ok := w.links[id]; ok {
			hdr := w.header(&st, name, tar.TypeLink)
			hdr.Linkname = first
			return w.tw.WriteHeader(hdr)
		}
		w.links[id] = name
	}
	hdr := w.header(&st, name, tar.TypeReg)
	hdr.Size = st.Size
	w.addXattrs(hdr, fd)
	if err := w.tw.WriteHeader(hdr); err != nil {
		return err
	}
	if w.buf == nil {
		w.buf = make([]byte, copyBufSize)
	}
	// A running container may change the file meanwhile: the entry keeps
	// the size it was announced with (cut, or padded with zeros).
	n, err := io.CopyBuffer(w.tw, io.LimitReader(f, st.Size), w.buf)
	if err != nil {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	if n < st.Size {
		if _, err := io.CopyBuffer(w.tw, io.LimitReader(zeroReader{}, st.Size-n), w.buf); err != nil {
			return err
		}
	}
	w.content += st.Size
	return nil
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// header is Docker's header for a file: PAX format, mtime in whole
// seconds, no user or group names.
func (w *tarWriter) header(st *unix.Stat_t, name string, typ byte) *tar.Header {
	return &tar.Header{
		Typeflag: typ,
		Name:     name,
		Mode:     int64(st.Mode & 0o7777),
		Uid:      int(st.Uid),
		Gid:      int(st.Gid),
		ModTime:  time.Unix(st.Mtim.Sec, 0),
		Format:   tar.FormatPAX,
	}
}

func (w *tarWriter) addXattrs(hdr *tar.Header, fd int) {
	switch w.xattrs {
	case xattrsCapability:
		if v, ok := fgetxattr(fd, "security.capability"); ok {
			setPAX(hdr, "SCHILY.xattr.security.capability", string(v))
		}
	case xattrsLayer:
		for _, name := range flistxattr(fd) {
			if overlayXattr(name) {
				continue
			}
			if v, ok := fgetxattr(fd, name); ok {
				setPAX(hdr, "SCHILY.xattr."+name, string(v))
			}
		}
	}
}

func setPAX(hdr *tar.Header, k, v string) {
	if hdr.PAXRecords == nil {
		hdr.PAXRecords = map[string]string{}
	}
	hdr.PAXRecords[k] = v
}

// overlayXattr reports overlayfs' control attributes, which must never
// travel: they would change what an overlay mount shows.
func overlayXattr(name string) bool {
	return strings.HasPrefix(name, "trusted.overlay.") || strings.HasPrefix(name, "user.overlay.")
}

func fgetxattr(fd int, name string) ([]byte, bool) {
	buf := make([]byte, 256)
	for {
		n, err := unix.Fgetxattr(fd, name, buf)
		if errors.Is(err, unix.ERANGE) {
			sz, err := unix.Fgetxattr(fd, name, nil)
			if err != nil {
				return nil, false
			}
			buf = make([]byte, sz)
			continue
		}
		if err != nil {
			return nil, false
		}
		return buf[:n], true
	}
}

func flistxattr(fd int) []string {
	sz, err := unix.Flistxattr(fd, nil)
	if err != nil || sz == 0 {
		return nil
	}
	buf := make([]byte, sz)
	n, err := unix.Flistxattr(fd, buf)
	if err != nil {
		return nil
	}
	var out []string
	for _, b := range bytes.Split(buf[:n], []byte{0}) {
		if len(b) > 0 {
			out = append(out, string(b))
		}
	}
	sort.Strings(out)
	return out
}

func fdOpaque(fd int) bool {
	v, ok := fgetxattr(fd, opaqueXattr)
	return ok && string(v) == "y"
}

func readlinkat(dirfd int, name string) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(dirfd, name, buf)
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
	}
}

// procFd names the file open as fd through /proc, for the calls that have
// no fd form (chmod and utimes of O_PATH handles): the magic link leads to
// the file itself, never through a symlink.
func procFd(fd int) string { return "/proc/self/fd/" + strconv.Itoa(fd) }

// ownerFunc decides the owner of an extracted entry; ok false keeps the
// extracting process's own.
type ownerFunc func(hdr *tar.Header) (uid, gid int, ok bool)

func ownerFromHeader(hdr *tar.Header) (int, int, bool) { return hdr.Uid, hdr.Gid, true }
func ownerRoot(*tar.Header) (int, int, bool)           { return 0, 0, true }
func ownerKeep(*tar.Header) (int, int, bool)           { return 0, 0, false }

// extractor unpacks a tar stream into dir, a directory inside root. Every
// parent directory is resolved inside root (symlinks followed as if root
// were "/"); the final component of an entry is never followed.
type extractor struct {
	root  *os.File
	dir   string
	owner ownerFunc
	// bestEffortOwner ignores chown failures (a non-root user copying to
	// the host with -a).
	bestEffortOwner bool
	// noOverwriteDirNonDir refuses to replace a directory by something
	// else or the other way round (docker cp's default).
	noOverwriteDirNonDir bool

	cachePath string
	cacheFd   int
	dirTimes  []dirTime
	buf       []byte
	content   int64
}

type dirTime struct {
	parent, base string
	times        [2]unix.Timespec
}

func newExtractor(root *os.File, dir string, owner ownerFunc) *extractor {
	return &extractor{root: root, dir: dir, owner: owner, cacheFd: -1}
}

func (x *extractor) close() {
	x.dropCache()
}

func (x *extractor) dropCache() {
	if x.cacheFd >= 0 {
		unix.Close(x.cacheFd)
	}
	x.cacheFd, x.cachePath = -1, ""
}

// extract reads the whole stream (which may be compressed: gzip, zstd,
// bzip2) and applies directory times last.
func (x *extractor) extract(ctx context.Context, r io.Reader) error {
	defer x.close()
	dr, closeDec, err := decompress(r)
	if err != nil {
		return err
	}
	defer closeDec()
	tr := tar.NewReader(dr)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("reading tar stream: %w", err)
		}
		if err := x.entry(hdr, tr); err != nil {
			return err
		}
	}
	// Drain the end of the stream, so a writer on the other side of a
	// pipe is never left blocked.
	_, _ = io.Copy(io.Discard, dr)
	x.dropCache()
	for i := len(x.dirTimes) - 1; i >= 0; i-- {
		d := x.dirTimes[i]
		pfd, err := x.openDir(d.parent, false)
		if err != nil {
			continue
		}
		fd, err := unix.Openat(pfd, d.base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		unix.Close(pfd)
		if err != nil {
			continue
		}
		_ = unix.UtimesNano(procFd(fd), d.times[:])
		unix.Close(fd)
	}
	return nil
}

// decompress detects gzip, zstd and bzip2 by their magic bytes, as the
// Docker daemon does for archives it extracts.
func decompress(r io.Reader) (io.Reader, func(), error) {
	br := bufio.NewReaderSize(r, 1<<16)
	magic, _ := br.Peek(6)
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("decompressing archive: %w", err)
		}
		return zr, func() { zr.Close() }, nil
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("decompressing archive: %w", err)
		}
		return zr, zr.Close, nil
	case bytes.HasPrefix(magic, []byte("BZh")):
		return bzip2.NewReader(br), func() {}, nil
	case bytes.HasPrefix(magic, []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}):
		return nil, nil, errors.New("unsupported archive compression: xz")
	}
	return br, func() {}, nil
}

// cleanEntryName makes a tar name relative to the extraction directory:
// "" is the directory itself; a name that climbs out of it is refused.
func cleanEntryName(name string) (string, error) {
	clean := path.Clean("/" + name)
	rel := strings.TrimPrefix(clean, "/")
	// path.Clean("/"+x) drops leading "..": compare with a relative clean.
	if c := path.Clean(name); c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("invalid tar entry %q: path escapes the destination", name)
	}
	return rel, nil
}

// openDir returns a directory fd for p (a path inside root), creating the
// missing directories when create is set.
func (x *extractor) openDir(p string, create bool) (int, error) {
	var h *os.File
	var err error
	if create {
		h, err = pathrs.MkdirAllHandle(x.root, p, 0o755)
	} else {
		h, err = pathrs.OpenatInRoot(x.root, p)
	}
	if err != nil {
		return -1, err
	}
	defer h.Close()
	return unix.Openat(int(h.Fd()), ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
}

// parent returns the (cached) directory fd that holds entry rel.
func (x *extractor) parent(rel string) (int, error) {
	p := path.Join(x.dir, path.Dir(rel))
	if x.cacheFd >= 0 && x.cachePath == p {
		return x.cacheFd, nil
	}
	x.dropCache()
	fd, err := x.openDir(p, true)
	if err != nil {
		return -1, err
	}
	x.cacheFd, x.cachePath = fd, p
	return fd, nil
}

func (x *extractor) entry(hdr *tar.Header, r io.Reader) error {
	rel, err := cleanEntryName(hdr.Name)
	if err != nil {
		return err
	}
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeRegA, tar.TypeDir, tar.TypeSymlink, tar.TypeLink, tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
	default:
		return nil // PAX global headers and the like: nothing to create
	}
	if rel == "" {
		// The destination directory itself: it exists already.
		if hdr.Typeflag == tar.TypeDir {
			return nil
		}
		return fmt.Errorf("cannot overwrite directory %q with non-directory %q", x.dir, hdr.Name)
	}
	pfd, err := x.parent(rel)
	if err != nil {
		return fmt.Errorf("extracting %s: %w", hdr.Name, err)
	}
	base := path.Base(rel)
	full := path.Join(x.dir, rel)
	isDirHdr := hdr.Typeflag == tar.TypeDir
	var st unix.Stat_t
	if err := unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err == nil {
		exDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
		if !(exDir && isDirHdr) {
			if x.noOverwriteDirNonDir && exDir {
				return fmt.Errorf("cannot overwrite directory %q with non-directory %q", full, hdr.Name)
			}
			if x.noOverwriteDirNonDir && isDirHdr {
				return fmt.Errorf("cannot overwrite non-directory %q with directory %q", full, hdr.Name)
			}
			if err := removeAllAt(pfd, base); err != nil {
				return fmt.Errorf("replacing %s: %w", full, err)
			}
			// What was removed may have been a directory or symlink on the
			// way to a cached parent.
			if exDir || st.Mode&unix.S_IFMT == unix.S_IFLNK {
				if pfd, err = x.reopenParent(rel); err != nil {
					return err
				}
			}
		}
	} else if !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("extracting %s: %w", full, err)
	}
	mode := uint32(hdr.Mode & 0o7777)
	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := unix.Mkdirat(pfd, base, 0o700); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("mkdir %s: %w", full, err)
		}
		fd, err := unix.Openat(pfd, base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open %s: %w", full, err)
		}
		err = x.setMetaFd(fd, hdr, mode, false)
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("%s: %w", full, err)
		}
		x.dirTimes = append(x.dirTimes, dirTime{parent: path.Join(x.dir, path.Dir(rel)), base: base, times: tarTimes(hdr)})
	case tar.TypeReg, tar.TypeRegA:
		fd, err := unix.Openat(pfd, base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if err != nil {
			return fmt.Errorf("create %s: %w", full, err)
		}
		f := os.NewFile(uintptr(fd), full)
		if x.buf == nil {
			x.buf = make([]byte, copyBufSize)
		}
		n, err := io.CopyBuffer(fdWriter{fd}, r, x.buf)
		x.content += n
		if err == nil {
			err = x.setMetaFd(fd, hdr, mode, true)
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("writing %s: %w", full, err)
		}
	case tar.TypeSymlink:
		if err := unix.Symlinkat(hdr.Linkname, pfd, base); err != nil {
			return fmt.Errorf("symlink %s: %w", full, err)
		}
		if uid, gid, ok := x.owner(hdr); ok {
			if err := unix.Fchownat(pfd, base, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil && !x.bestEffortOwner {
				return fmt.Errorf("chown %s: %w", full, err)
			}
		}
		ts := tarTimes(hdr)
		_ = unix.UtimesNanoAt(pfd, base, ts[:], unix.AT_SYMLINK_NOFOLLOW)
		// A new symlink may lie on the way of later entries.
		x.dropCache()
	case tar.TypeLink:
		target, err := cleanEntryName(hdr.Linkname)
		if err != nil || target == "" {
			return fmt.Errorf("invalid hard link %q -> %q", hdr.Name, hdr.Linkname)
		}
		tfd, err := x.openDir(path.Join(x.dir, path.Dir(target)), false)
		if err != nil {
			return fmt.Errorf("hard link %s -> %s: %w", hdr.Name, hdr.Linkname, err)
		}
		err = unix.Linkat(tfd, path.Base(target), pfd, base, 0)
		unix.Close(tfd)
		if err != nil {
			return fmt.Errorf("hard link %s -> %s: %w", hdr.Name, hdr.Linkname, err)
		}
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		kind := uint32(unix.S_IFIFO)
		switch hdr.Typeflag {
		case tar.TypeChar:
			kind = unix.S_IFCHR
		case tar.TypeBlock:
			kind = unix.S_IFBLK
		}
		dev := int(unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor)))
		if err := unix.Mknodat(pfd, base, kind|0o600, dev); err != nil {
			return fmt.Errorf("mknod %s: %w", full, err)
		}
		fd, err := unix.Openat(pfd, base, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open %s: %w", full, err)
		}
		err = x.setMetaPath(fd, hdr, mode)
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("%s: %w", full, err)
		}
	}
	return nil
}

// reopenParent drops the cache and resolves rel's parent again.
func (x *extractor) reopenParent(rel string) (int, error) {
	x.dropCache()
	return x.parent(rel)
}

// setMetaFd sets owner, mode, xattrs (and for files, times) through an
// open fd.
func (x *extractor) setMetaFd(fd int, hdr *tar.Header, mode uint32, times bool) error {
	if uid, gid, ok := x.owner(hdr); ok {
		if err := unix.Fchown(fd, uid, gid); err != nil && !x.bestEffortOwner {
			return fmt.Errorf("chown: %w", err)
		}
	}
	if err := unix.Fchmod(fd, mode); err != nil {
		return fmt.Errorf("chmod: %w", err)
	}
	for k, v := range hdr.PAXRecords {
		name, ok := strings.CutPrefix(k, "SCHILY.xattr.")
		if !ok || overlayXattr(name) {
			continue
		}
		// Best effort, as Docker: the filesystem or LSM may refuse some.
		_ = unix.Fsetxattr(fd, name, []byte(v), 0)
	}
	if times {
		ts := tarTimes(hdr)
		_ = unix.UtimesNano(procFd(fd), ts[:])
	}
	return nil
}

// setMetaPath is setMetaFd for an O_PATH handle (devices and FIFOs, which
// must not be opened for real).
func (x *extractor) setMetaPath(fd int, hdr *tar.Header, mode uint32) error {
	if uid, gid, ok := x.owner(hdr); ok {
		if err := unix.Fchownat(fd, "", uid, gid, unix.AT_EMPTY_PATH); err != nil && !x.bestEffortOwner {
			return fmt.Errorf("chown: %w", err)
		}
	}
	if err := unix.Chmod(procFd(fd), mode); err != nil {
		return fmt.Errorf("chmod: %w", err)
	}
	ts := tarTimes(hdr)
	_ = unix.UtimesNano(procFd(fd), ts[:])
	return nil
}

func tarTimes(hdr *tar.Header) [2]unix.Timespec {
	at := hdr.AccessTime
	if at.IsZero() {
		at = hdr.ModTime
	}
	return [2]unix.Timespec{unix.NsecToTimespec(at.UnixNano()), unix.NsecToTimespec(hdr.ModTime.UnixNano())}
}

type fdWriter struct{ fd int }

func (w fdWriter) Write(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := unix.Write(w.fd, p[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return n, err
		}
		n += m
	}
	return n, nil
}

// removeAllAt removes name in dirfd and, for a directory, everything in
// it, without following symlinks.
func removeAllAt(dirfd int, name string) error {
	err := unix.Unlinkat(dirfd, name, 0)
	if err == nil || errors.Is(err, unix.ENOENT) {
		return nil
	}
	if !errors.Is(err, unix.EISDIR) && !errors.Is(err, unix.EPERM) {
		return err
	}
	fd, oerr := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if oerr != nil {
		return err
	}
	f := os.NewFile(uintptr(fd), name)
	names, rerr := f.Readdirnames(-1)
	if rerr == nil {
		for _, n := range names {
			if rerr = removeAllAt(fd, n); rerr != nil {
				break
			}
		}
	}
	f.Close()
	if rerr != nil {
		return rerr
	}
	return unix.Unlinkat(dirfd, name, unix.AT_REMOVEDIR)
}
