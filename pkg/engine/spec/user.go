package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/moby/sys/user"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// resolveUser turns --user and --group-add into the process user the way
// dockerd's getUser does (runc's user parser over the image's passwd and
// group files): primary gid first in the additional gids, then the user's
// group memberships, then --group-add. It also returns HOME.
func resolveUser(rootfs string, layers []string, spec string, groupAdd []string) (specs.User, string, error) {
	passwd, err := findImageFile(rootfs, layers, "etc/passwd")
	if err != nil {
		return specs.User{}, "", err
	}
	group, err := findImageFile(rootfs, layers, "etc/group")
	if err != nil {
		return specs.User{}, "", err
	}

	eu, err := user.GetExecUser(spec, nil, readerOrNil(passwd), readerOrNil(group))
	if err != nil {
		return specs.User{}, "", err
	}
	u := specs.User{
		UID:            uint32(eu.Uid),
		GID:            uint32(eu.Gid),
		AdditionalGids: []uint32{uint32(eu.Gid)},
	}
	// One lookup per --group-add keeps the user's order (the library
	// returns a set).
	var added []int
	for _, name := range groupAdd {
		gids, err := user.GetAdditionalGroups([]string{name}, readerOrNil(group))
		if err != nil {
			return specs.User{}, "", err
		}
		added = append(added, gids...)
	}
	seen := map[uint32]bool{u.GID: true}
	for _, g := range append(eu.Sgids, added...) {
		if !seen[uint32(g)] {
			seen[uint32(g)] = true
			u.AdditionalGids = append(u.AdditionalGids, uint32(g))
		}
	}

	home := eu.Home
	if home == "" {
		// runc falls back to "/"; root without a passwd entry (scratch
		// images) gets the conventional /root.
		home = "/"
		if eu.Uid == 0 {
			home = "/root"
		}
	}
	return u, home, nil
}

// imageFile is a file's content, or nil when the image has none (so that
// numeric ids still resolve, as with runc).
type imageFile []byte

func readerOrNil(f imageFile) io.Reader {
	if f == nil {
		return nil
	}
	return bytes.NewReader(f)
}

// findImageFile returns rel ("etc/passwd") as the container will see it:
// from the rootfs if it is already mounted, else from the topmost layer
// that has it, honouring overlay whiteouts and opaque directories so a file
// deleted in a higher layer is not resurrected from a lower one.
func findImageFile(rootfs string, layers []string, rel string) (imageFile, error) {
	if rootfs != "" {
		// Symlinks in the merged view resolve inside it, never on the host.
		p, err := securejoin.SecureJoin(rootfs, rel)
		if err != nil {
			return nil, fmt.Errorf("resolve /%s in %s: %w", rel, rootfs, err)
		}
		if b, err := readRegular(p); b != nil || err != nil {
			return b, err
		}
	}
	parts := strings.Split(rel, "/")
	for _, layer := range layers {
		b, stop, err := lookupInLayer(layer, parts)
		if b != nil || stop || err != nil {
			return b, err
		}
	}
	return nil, nil
}

// lookupInLayer looks for parts in one overlay layer. stop reports that
// this layer hides the file from the layers below (a whiteout or an opaque
// directory on the way).
func lookupInLayer(layer string, parts []string) (b imageFile, stop bool, err error) {
	p := layer
	for i, name := range parts {
		p = filepath.Join(p, name)
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
				return nil, false, nil
			}
			return nil, false, fmt.Errorf("read image /%s: %w", strings.Join(parts, "/"), err)
		}
		if st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == 0 {
			return nil, true, nil // whiteout
		}
		if i == len(parts)-1 {
			if st.Mode&unix.S_IFMT != unix.S_IFREG {
				// A symlinked /etc/passwd would need resolving across
				// layers; treat it as absent like a missing file.
				return nil, true, nil
			}
			b, err := readRegular(p)
			return b, true, err
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			return nil, true, nil
		}
		if isOpaque(p) {
			// Lower layers' entries under this directory are hidden.
			b, err := lookupRest(p, parts[i+1:])
			return b, true, err
		}
	}
	return nil, false, nil
}

// lookupRest reads the remaining path below an opaque directory: whatever
// this layer has there is all there is.
func lookupRest(dir string, rest []string) (imageFile, error) {
	return readRegular(filepath.Join(append([]string{dir}, rest...)...))
}

func readRegular(p string) (imageFile, error) {
	fi, err := os.Lstat(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, unix.ENOTDIR) {
			return nil, nil
		}
		return nil, fmt.Errorf("read image file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, nil
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("read image file: %w", err)
	}
	if b == nil {
		b = []byte{}
	}
	return b, nil
}

func isOpaque(dir string) bool {
	buf := make([]byte, 1)
	for _, attr := range []string{"trusted.overlay.opaque", "user.overlay.opaque"} {
		if n, err := unix.Lgetxattr(dir, attr, buf); err == nil && n == 1 && buf[0] == 'y' {
			return true
		}
	}
	return false
}
