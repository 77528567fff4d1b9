// Package engine is nerd's in-process container engine: container records,
// state transitions, locking and OCI spec generation. Every running
// container is owned by its monitor (cmd/nerd-shim); the engine starts
// monitors, talks to them over their sockets, and reconciles records whose
// monitor is gone (crash, kill -9, reboot) so they read as exited.
package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/nerd-project/nerd/internal/fsutil"
	"github.com/nerd-project/nerd/pkg/container"
	"github.com/nerd-project/nerd/pkg/image"
	"github.com/nerd-project/nerd/pkg/network"
	"github.com/nerd-project/nerd/pkg/volume"
)

// Sentinel errors; the CLI maps them to Docker's messages.
var (
	ErrNotFound = errors.New("no such container")
	ErrConflict = errors.New("conflict")
)

// Options configure an Engine.
type Options struct {
	// DataRoot is nerd's data root (containers live in DataRoot/containers).
	DataRoot string
	// RunDir overrides the runtime directory (sockets, libcontainer state).
	RunDir string
	// Images is the image store containers are created from.
	Images *image.Store
	// ShimPath overrides where the nerd-shim monitor binary is.
	ShimPath string
	// Network configures container networking.
	Network NetworkOptions
}

// Engine manages the containers of one data root.
type Engine struct {
	dataRoot string
	runDir   string
	images   *image.Store
	shimPath string
	volumes  *volume.Store
	netOpts  NetworkOptions
	networks *network.Manager // opened on first use (see Networks)
}

// New opens the engine for a data root.
func New(opts Options) (*Engine, error) {
	e := &Engine{dataRoot: opts.DataRoot, runDir: opts.RunDir, images: opts.Images, shimPath: opts.ShimPath, netOpts: opts.Network}
	if e.runDir == "" {
		e.runDir = RuntimeDir(opts.DataRoot)
	}
	for _, d := range []string{e.containersDir(), e.locksDir()} {
		if err := os.MkdirAll(d, 0o711); err != nil {
			return nil, fmt.Errorf("creating %s: %w", d, err)
		}
	}
	if err := os.MkdirAll(e.runDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating %s: %w", e.runDir, err)
	}
	if e.images != nil {
		e.images.SetUsage(e.imageUsage)
	}
	vols, err := volume.Open(filepath.Join(opts.DataRoot, "volumes"), e.volumeUsers)
	if err != nil {
		return nil, err
	}
	e.volumes = vols
	return e, nil
}

// imageUsage tells the image store which images and snapshots containers
// use, so rmi refuses (or keeps the content) and GC never frees them.
func (e *Engine) imageUsage() image.Usage {
	u := image.Usage{Images: map[string]string{}, Snapshots: map[string]bool{}}
	entries, err := os.ReadDir(e.containersDir())
	if err != nil {
		return u
	}
	for _, ent := range entries {
		rec, err := container.ReadRecord(e.Paths(ent.Name()))
		if err != nil {
			// A container being created (".tmp-…") has no record yet but
			// its image is held by the pull/create writer lock.
			continue
		}
		u.Images[rec.ImageID] = rec.ID
		for _, k := range rec.Snapshots {
			u.Snapshots[k] = true
		}
	}
	return u
}

// RuntimeDir is /run/nerd/<hash of the data root> for root and
// $XDG_RUNTIME_DIR/nerd/<hash> otherwise: short enough for unix socket
// paths whatever the data root, and distinct per data root.
func RuntimeDir(dataRoot string) string {
	abs, err := filepath.Abs(dataRoot)
	if err != nil {
		abs = dataRoot
	}
	sum := sha256.Sum256([]byte(abs))
	base := "/run/nerd"
	if os.Geteuid() != 0 {
		if x := os.Getenv("XDG_RUNTIME_DIR"); x != "" {
			base = filepath.Join(x, "nerd")
		} else {
			base = filepath.Join(os.TempDir(), fmt.Sprintf("nerd-%d", os.Geteuid()))
		}
	}
	return filepath.Join(base, hex.EncodeToString(sum[:4]))
}

func (e *Engine) containersDir() string { return filepath.Join(e.dataRoot, "containers") }
func (e *Engine) locksDir() string      { return filepath.Join(e.dataRoot, "locks") }

// namesLock serialises name checks with record creation and renames, so
// two concurrent `run --name x` cannot both win.
func (e *Engine) namesLock() (*fsutil.Lock, error) {
	return fsutil.LockExclusive(filepath.Join(e.locksDir(), "names.lock"))
}

// Paths are the files of container id.
func (e *Engine) Paths(id string) container.Paths {
	return container.Paths{Dir: filepath.Join(e.containersDir(), id), RunDir: e.runDir, ID: id}
}

// Images is the image store.
func (e *Engine) Images() *image.Store { return e.images }

// shim finds the nerd-shim binary: $NERD_SHIM, beside the running
// executable, in ../libexec/nerd/, then on PATH.
func (e *Engine) shim() (string, error) {
	if e.shimPath != "" {
		return e.shimPath, nil
	}
	if p := os.Getenv("NERD_SHIM"); p != "" {
		return p, nil
	}
	if p := libexecBinary("nerd-shim"); p != "" {
		return p, nil
	}
	return "", errors.New("nerd-shim not found: install it beside nerd (make install)")
}

// initBinary finds the static init that --init mounts into containers:
// nerd-init installed beside nerd (make install ships Debian's tini-static
// as it), else Docker's docker-init or tini-static on PATH; "" if none.
func initBinary() string {
	if p := libexecBinary("nerd-init"); p != "" {
		return p
	}
	for _, name := range []string{"docker-init", "tini-static"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// libexecBinary finds one of nerd's helper programs: beside the running
// executable, in ../libexec/nerd/, then on PATH; "" if none.
func libexecBinary(name string) string {
	if exe, err := os.Executable(); err == nil {
		dir := filepath.Dir(exe)
		for _, c := range []string{filepath.Join(dir, name), filepath.Join(dir, "..", "libexec", "nerd", name)} {
			if _, err := os.Stat(c); err == nil {
				return c
			}
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	return ""
}
