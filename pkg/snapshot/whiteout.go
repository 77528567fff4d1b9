package snapshot

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// OCI/AUFS whiteout names, converted to overlayfs form while unpacking.
const (
	whiteoutPrefix     = ".wh."
	whiteoutMetaPrefix = ".wh..wh."
	opaqueWhiteout     = ".wh..wh..opq"
	// opaqueXattr marks a directory whose lower layers' contents are hidden.
	// Rootless overlay (mounted with -o userxattr) reads user.overlay.opaque
	// instead; that is where rootless support hooks in.
	opaqueXattr = "trusted.overlay.opaque"
)

// whiteout converts dir/.wh.name into a 0/0 character device at dir/name and
// dir/.wh..wh..opq into the opaque xattr on dir. The .wh. file itself is
// never created.
//
// Per the OCI spec a whiteout only deletes from lower layers; an entry of the
// same name in this layer survives. So an existing entry of this layer is
// kept (a directory additionally becomes opaque, so the lower one does not
// merge into it), and a whiteout replaced later by a directory makes that
// directory opaque (see applier.mkdir).
func (a *applier) whiteout(dirRel, base string) error {
	if base == opaqueWhiteout {
		p, err := a.dirPath(dirRel, true)
		if err != nil {
			return err
		}
		return setOpaque(p)
	}
	if strings.HasPrefix(base, whiteoutMetaPrefix) {
		return nil // AUFS bookkeeping such as .wh..wh.plnk: nothing to unpack
	}
	orig := strings.TrimPrefix(base, whiteoutPrefix)
	if orig == "" || orig == "." || orig == ".." {
		return fmt.Errorf("invalid whiteout name %q", base)
	}
	p, err := a.dirPath(dirRel, true)
	if err != nil {
		return err
	}
	if _, ok := a.deferredLive(path.Join(dirRel, orig)); ok {
		return nil // a hardlink of this layer lives there
	}
	full := p + "/" + orig
	err = unix.Mknod(full, unix.S_IFCHR, 0)
	if errors.Is(err, unix.EEXIST) {
		var st unix.Stat_t
		if err := unix.Lstat(full, &st); err != nil {
			return fmt.Errorf("whiteout: %w", err)
		}
		if isDir(&st) {
			return setOpaque(full)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("creating whiteout: %w", err)
	}
	// 0:0 explicitly: in a setgid directory mknod would inherit its group.
	// Rootless: a whiteout device is creatable in a user namespace since
	// Linux 5.11 when the store sits on a filesystem mounted in it.
	if err := unix.Lchown(full, 0, 0); err != nil {
		return fmt.Errorf("whiteout: chown: %w", err)
	}
	return nil
}

// isWhiteout reports an overlay whiteout. Device entries are refused, so a
// 0/0 character device in a staging dir is always one this layer created.
func isWhiteout(st *unix.Stat_t) bool {
	return st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == 0
}

func setOpaque(dir string) error {
	if err := unix.Lsetxattr(dir, opaqueXattr, []byte("y"), 0); err != nil {
		return fmt.Errorf("marking directory opaque: %w", err)
	}
	return nil
}

func isOpaque(dir string) bool {
	var b [1]byte
	n, err := unix.Lgetxattr(dir, opaqueXattr, b[:])
	return err == nil && n == 1 && b[0] == 'y'
}
