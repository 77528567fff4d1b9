package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nerd-project/nerd/pkg/container"
)

// mountRootfs mounts the container's overlay: the image's snapshots (top
// layer first in lowerdir) under the container's upper and work dirs.
// --read-only is the spec's business (a read-only root mount), not ours.
func mountRootfs(p container.Paths, snapshots []string, snapshotRoot string) error {
	target := p.Rootfs()
	if err := os.MkdirAll(target, 0o755); err != nil {
		return err
	}
	// A monitor killed with -9 leaves its mount behind: start afresh.
	if mounted, _ := isMountPoint(target); mounted {
		if err := unix.Unmount(target, unix.MNT_DETACH); err != nil {
			return fmt.Errorf("unmounting stale rootfs: %w", err)
		}
	}
	keys := make([]string, 0, len(snapshots))
	for i := len(snapshots) - 1; i >= 0; i-- {
		keys = append(keys, filepath.Join(snapshots[i], "fs"))
	}
	if len(keys) == 0 {
		// An image without layers: overlay needs a lower directory.
		empty := filepath.Join(p.Dir, "empty-lower")
		if err := os.MkdirAll(empty, 0o755); err != nil {
			return err
		}
		return overlay(target, []string{empty}, p)
	}
	lowers := make([]string, len(keys))
	for i, k := range keys {
		lowers[i] = filepath.Join(snapshotRoot, k)
	}
	if len(overlayData(lowers, p)) < unix.Getpagesize()-1 {
		return overlay(target, lowers, p)
	}
	// The mount data must fit in a page. As containerd does, shorten the
	// lower dirs to paths relative to the snapshot root and mount from
	// there. The process's cwd is shared by all its threads, but nothing
	// else of the monitor runs yet.
	dir, rel := snapshotRoot, keys
	if len(overlayData(rel, p)) >= unix.Getpagesize()-1 {
		// Still too long (some 60 layers and more): as Docker's overlay2
		// does, go through short symlinks, <dir>/layers/<n>.
		var err error
		if dir, rel, err = layerLinks(p, lowers); err != nil {
			return err
		}
	}
	if err := os.Chdir(dir); err != nil {
		return err
	}
	defer os.Chdir("/")
	return overlay(target, rel, p)
}

// layerLinks makes <container>/layers/<i> point to the i-th lower dir.
func layerLinks(p container.Paths, lowers []string) (string, []string, error) {
	dir := filepath.Join(p.Dir, "layers")
	if err := os.RemoveAll(dir); err != nil {
		return "", nil, err
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		return "", nil, err
	}
	names := make([]string, len(lowers))
	for i, l := range lowers {
		names[i] = strconv.Itoa(i)
		if err := os.Symlink(l, filepath.Join(dir, names[i])); err != nil {
			return "", nil, err
		}
	}
	return dir, names, nil
}

func overlayData(lowers []string, p container.Paths) string {
	return "lowerdir=" + strings.Join(lowers, ":") + ",upperdir=" + p.Upper() + ",workdir=" + p.Work()
}

func overlay(target string, lowers []string, p container.Paths) error {
	data := overlayData(lowers, p)
	if len(data) >= unix.Getpagesize() {
		return fmt.Errorf("mounting rootfs: too many layers (%d) for one overlay mount", len(lowers))
	}
	if err := unix.Mount("overlay", target, "overlay", 0, data); err != nil {
		return fmt.Errorf("mounting rootfs: %w", err)
	}
	return nil
}

// unmountRootfs unmounts the overlay; one still busy (a process of a
// shared mount namespace holding it) is detached.
func unmountRootfs(p container.Paths) error {
	err := unix.Unmount(p.Rootfs(), 0)
	if errors.Is(err, unix.EBUSY) {
		err = unix.Unmount(p.Rootfs(), unix.MNT_DETACH)
	}
	if err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmounting rootfs: %w", err)
	}
	_ = os.RemoveAll(filepath.Join(p.Dir, "layers"))
	return nil
}

// isMountPoint compares the device of dir with its parent's.
func isMountPoint(dir string) (bool, error) {
	var st, parent unix.Stat_t
	if err := unix.Lstat(dir, &st); err != nil {
		return false, err
	}
	if err := unix.Lstat(filepath.Dir(dir), &parent); err != nil {
		return false, err
	}
	return st.Dev != parent.Dev || st.Ino == parent.Ino, nil
}
