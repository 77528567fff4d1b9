package volume

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// CopyDir copies the tree at src into the existing directory dst, keeping
// ownership, modes, times, symlinks, hard links, device nodes and extended
// attributes (where the file systems support them), and gives dst the
// owner and mode of src: Docker's copy-up of an image directory into a new
// volume. src is trusted to stay put (a read-only view of the image).
func CopyDir(src, dst string) error {
	type dirTimes struct {
		path string
		st   *unix.Stat_t
	}
	var dirs []dirTimes
	links := map[[2]uint64]string{}
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
			if rel != "." {
				if err := os.Mkdir(target, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
					return err
				}
			}
			dirs = append(dirs, dirTimes{target, &st})
			// Directory owner, mode and times are set after its content.
			return nil
		case unix.S_IFREG:
			key := [2]uint64{st.Dev, st.Ino}
			if st.Nlink > 1 {
				if first, ok := links[key]; ok {
					return os.Link(first, target)
				}
				links[key] = target
			}
			if err := copyFile(p, target); err != nil {
				return err
			}
		case unix.S_IFLNK:
			dest, err := os.Readlink(p)
			if err != nil {
				return err
			}
			if err := os.Symlink(dest, target); err != nil {
				return err
			}
		default: // devices, fifos, sockets
			if err := unix.Mknod(target, st.Mode, int(st.Rdev)); err != nil {
				return fmt.Errorf("mknod %s: %w", target, err)
			}
		}
		return applyMeta(p, target, &st)
	})
	if err != nil {
		return fmt.Errorf("copying %s: %w", src, err)
	}
	// Deepest first, so setting a parent's times is the last touch.
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := applyMeta(srcOf(src, dst, dirs[i].path), dirs[i].path, dirs[i].st); err != nil {
			return fmt.Errorf("copying %s: %w", src, err)
		}
	}
	return nil
}

// srcOf maps a path under dst back to src.
func srcOf(src, dst, p string) string {
	rel, err := filepath.Rel(dst, p)
	if err != nil {
		return src
	}
	return filepath.Join(src, rel)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	// *os.File to *os.File: copy_file_range where the kernel can.
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// applyMeta gives dst the owner, mode, xattrs and times of src (st).
// chown comes before chmod: it clears setuid/setgid bits.
func applyMeta(src, dst string, st *unix.Stat_t) error {
	if err := unix.Lchown(dst, int(st.Uid), int(st.Gid)); err != nil {
		return fmt.Errorf("chown %s: %w", dst, err)
	}
	isLink := st.Mode&unix.S_IFMT == unix.S_IFLNK
	if !isLink {
		if err := unix.Chmod(dst, st.Mode&07777); err != nil {
			return fmt.Errorf("chmod %s: %w", dst, err)
		}
	}
	copyXattrs(src, dst)
	ts := []unix.Timespec{st.Atim, st.Mtim}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, dst, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("setting times of %s: %w", dst, err)
	}
	return nil
}

// copyXattrs copies what extended attributes it can: a file system
// without them (or a namespace we may not write) is not an error, the
// data matters more.
func copyXattrs(src, dst string) {
	size, err := unix.Llistxattr(src, nil)
	if err != nil || size <= 0 {
		return
	}
	buf := make([]byte, size)
	size, err = unix.Llistxattr(src, buf)
	if err != nil {
		return
	}
	start := 0
	for i := 0; i < size; i++ {
		if buf[i] != 0 {
			continue
		}
		name := string(buf[start:i])
		start = i + 1
		if name == "" {
			continue
		}
		vsize, err := unix.Lgetxattr(src, name, nil)
		if err != nil || vsize < 0 {
			continue
		}
		val := make([]byte, vsize)
		if vsize, err = unix.Lgetxattr(src, name, val); err != nil {
			continue
		}
		_ = unix.Lsetxattr(dst, name, val[:vsize], 0)
	}
}

// IsEmptyDir reports whether dir has no entries (a missing dir is empty).
func IsEmptyDir(dir string) (bool, error) {
	f, err := os.Open(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return true, nil
		}
		return false, err
	}
	defer f.Close()
	names, err := f.Readdirnames(1)
	if errors.Is(err, io.EOF) {
		return true, nil
	}
	return len(names) == 0, err
}

// DirSize is the apparent size of the regular files under dir, counting
// each hard-linked inode once (what `system df` reports).
func DirSize(dir string) int64 {
	var n int64
	seen := map[[2]uint64]bool{}
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		var st unix.Stat_t
		if unix.Lstat(p, &st) != nil {
			return nil
		}
		if st.Nlink > 1 {
			key := [2]uint64{st.Dev, st.Ino}
			if seen[key] {
				return nil
			}
			seen[key] = true
		}
		n += st.Size
		return nil
	})
	return n
}
