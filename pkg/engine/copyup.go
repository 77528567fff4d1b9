package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	"golang.org/x/sys/unix"

	"github.com/nerd-project/nerd/pkg/volume"
)

// copyUp fills the session's new volumes from the image (Docker's
// copy-up): a volume mounted over a directory the image has content in
// starts with a copy of it, owners, modes and links kept. It happens once:
// a volume that got a copy, or already held data, is marked populated and
// never filled again. scratch is a private directory of the create.
func (s *volumeSession) copyUp(lowers []string, scratch string) error {
	if len(s.copyUps) == 0 || len(lowers) == 0 {
		return nil
	}
	return withImageView(lowers, scratch, func(root string) error {
		done := map[string]bool{}
		for _, cu := range s.copyUps {
			if done[cu.vol.Name] {
				continue
			}
			done[cu.vol.Name] = true
			if err := populate(s.tx, cu, root); err != nil {
				return fmt.Errorf("copying image content to volume %s: %w", cu.vol.Name, err)
			}
		}
		return nil
	})
}

func populate(tx *volume.Tx, cu copyUp, root string) error {
	// The image's own symlinks resolve inside the image, never on the host.
	src, err := securejoin.SecureJoin(root, cu.dest)
	if err != nil {
		return err
	}
	fi, err := os.Stat(src)
	if err != nil || !fi.IsDir() {
		return nil // nothing in the image there: nothing to copy
	}
	data := cu.vol.Mountpoint
	empty, err := volume.IsEmptyDir(data)
	if err != nil {
		return err
	}
	if empty {
		if err := volume.CopyDir(src, data); err != nil {
			return err
		}
	}
	return tx.MarkPopulated(cu.vol)
}

// withImageView runs fn with a read-only overlay of the image's layers
// (lowers, topmost first) mounted at a directory under scratch.
//
// The mount lives in a private mount namespace of one OS thread, which
// ends with the goroutine: whatever happens to this process (an error, a
// panic, kill -9), the kernel drops the mount with the namespace, so the
// copy-up can never leak a mount on the host. fn runs on that thread and
// must not start goroutines that touch the view.
func withImageView(lowers []string, scratch string, fn func(root string) error) error {
	view := filepath.Join(scratch, "view")
	empty := filepath.Join(scratch, "empty")
	for _, d := range []string{view, empty} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	defer os.RemoveAll(scratch)
	// Overlay without an upper directory needs two lower ones at least.
	data := "lowerdir=" + strings.Join(append(append([]string{}, lowers...), empty), ":")
	if len(data) >= unix.Getpagesize() {
		return fmt.Errorf("copy-up: the image has too many layers (%d) for one overlay mount", len(lowers))
	}
	errc := make(chan error, 1)
	go func() {
		// Never unlocked: the Go runtime ends a thread whose goroutine
		// exits locked, and the namespace goes with it.
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
			errc <- fmt.Errorf("copy-up: unshare: %w", err)
			return
		}
		// Private, so nothing mounted here propagates to the host.
		if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
			errc <- fmt.Errorf("copy-up: making mounts private: %w", err)
			return
		}
		if err := unix.Mount("overlay", view, "overlay", unix.MS_RDONLY, data); err != nil {
			errc <- fmt.Errorf("copy-up: mounting the image: %w", err)
			return
		}
		errc <- fn(view)
	}()
	return <-errc
}
