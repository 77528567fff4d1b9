package snapshot

import (
	"archive/tar"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// setXattrs applies the PAX xattr records of hdr, through fd if >= 0.
func setXattrs(fd int, full string, hdr *tar.Header, regOrDir bool) error {
	for k, v := range hdr.PAXRecords {
		name, ok := strings.CutPrefix(k, paxXattrPrefix)
		if !ok || reservedXattr(name) {
			continue
		}
		var err error
		if fd >= 0 {
			err = unix.Fsetxattr(fd, name, []byte(v), 0)
		} else {
			err = unix.Lsetxattr(full, name, []byte(v), 0)
		}
		if err != nil && xattrFatal(name, err, regOrDir) {
			return fmt.Errorf("setting xattr %s: %w", name, err)
		}
	}
	return nil
}

// reservedXattr reports overlayfs's own control xattrs. A layer must not set
// them directly (redirect/metacopy/origin would steer the overlay mount);
// whiteouts and opaque markers are the only way in, via .wh. entries.
func reservedXattr(name string) bool {
	return strings.HasPrefix(name, "trusted.overlay.") || strings.HasPrefix(name, "user.overlay.")
}

// xattrFatal decides whether failing to set an xattr fails the layer.
// trusted.* and user.* are image content and must be kept. security.*
// (SELinux labels, capabilities under an LSM that refuses them) and system.*
// (ACLs) depend on the host, so, like Docker, they are best effort. The
// kernel refuses user.* on symlinks and special files (EPERM), which says
// nothing about the host, so that is skipped too.
func xattrFatal(name string, err error, regOrDir bool) bool {
	switch {
	case strings.HasPrefix(name, "trusted."):
		return true
	case strings.HasPrefix(name, "user."):
		return regOrDir || !errors.Is(err, unix.EPERM)
	default:
		return false
	}
}
