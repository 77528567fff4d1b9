// Package image is nerd's local image store and registry client: a
// content-addressed OCI image layout (blobs + index.json with names) under
// <data-root>/content, whose layers are unpacked into committed snapshots
// (pkg/snapshot) as they download. Every change is flock-guarded and written
// temp-then-rename, so concurrent nerd processes and kill -9 are safe.
package image

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/nerd-project/nerd/internal/fsutil"
	"github.com/nerd-project/nerd/pkg/image/registry"
	"github.com/nerd-project/nerd/pkg/snapshot"
)

// Sentinel errors the CLI maps to Docker's messages.
var (
	ErrNotFound = errors.New("no such image")
	ErrConflict = errors.New("conflict")
)

// Store is the image store of one data root.
type Store struct {
	dataRoot  string
	content   content
	index     index
	snaps     *snapshot.Store
	hosts     *registry.Hosts
	keychain  authn.Keychain
	userAgent string
	transport http.RoundTripper
	// usage reports what containers use (nil: nothing).
	usage func() Usage
}

// Usage is what containers hold on to: image IDs (config digests) mapped
// to one container using each, and snapshot keys. Images in use cannot be
// deleted without force, and their snapshots are never collected.
type Usage struct {
	Images    map[string]string
	Snapshots map[string]bool
}

// SetUsage installs the function the store asks what containers use; the
// container engine sets it when it opens.
func (s *Store) SetUsage(fn func() Usage) { s.usage = fn }

func (s *Store) currentUsage() Usage {
	if s.usage == nil {
		return Usage{}
	}
	return s.usage()
}

// Option configures a Store.
type Option func(*Store)

// WithHosts sets the registry hosts configuration (mirrors, insecure).
func WithHosts(h *registry.Hosts) Option { return func(s *Store) { s.hosts = h } }

// WithKeychain sets where registry credentials come from.
func WithKeychain(k authn.Keychain) Option { return func(s *Store) { s.keychain = k } }

// WithUserAgent sets the User-Agent sent to registries.
func WithUserAgent(ua string) Option { return func(s *Store) { s.userAgent = ua } }

// Open opens (creating if needed) the image store under dataRoot.
func Open(dataRoot string, opts ...Option) (*Store, error) {
	s := &Store{
		dataRoot: dataRoot,
		content:  content{root: filepath.Join(dataRoot, "content")},
		index:    index{root: filepath.Join(dataRoot, "content")},
		keychain: authn.NewMultiKeychain(),
	}
	for _, o := range opts {
		o(s)
	}
	if s.hosts == nil {
		s.hosts = &registry.Hosts{}
	}
	if err := os.MkdirAll(filepath.Join(s.content.root, "blobs", "sha256"), 0o755); err != nil {
		return nil, fmt.Errorf("creating image store in %s: %w", dataRoot, err)
	}
	layout := filepath.Join(s.content.root, "oci-layout")
	if _, err := os.Stat(layout); errors.Is(err, os.ErrNotExist) {
		if err := fsutil.WriteFileAtomic(layout, []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644); err != nil {
			return nil, err
		}
	}
	snaps, err := snapshot.Open(filepath.Join(dataRoot, "snapshots"))
	if err != nil {
		return nil, err
	}
	s.snaps = snaps
	return s, nil
}

// Snapshots exposes the snapshot store (containers build their rootfs on it).
func (s *Store) Snapshots() *snapshot.Store { return s.snaps }

// ContentDir is the OCI image layout directory (for BuildKit and friends).
func (s *Store) ContentDir() string { return s.content.root }

func (s *Store) locksDir() string { return filepath.Join(s.dataRoot, "locks") }

// gcLockPath is held shared by every operation that writes blobs or
// snapshots not yet referenced by the index (pull, load, commit), and
// exclusively by garbage collection, which therefore never deletes what an
// operation in flight is about to reference.
func (s *Store) gcLockPath() string { return filepath.Join(s.locksDir(), "gc.lock") }

func (s *Store) holdWriters() (*fsutil.Lock, error) {
	if err := os.MkdirAll(s.locksDir(), 0o700); err != nil {
		return nil, err
	}
	return fsutil.LockShared(s.gcLockPath())
}

// ingestSpool holds the writers' side of the GC lock (nothing written is
// referenced by the index until the caller is done) and opens a temporary
// file in the ingest directory; release closes and removes it and lets GC
// run again.
func (s *Store) ingestSpool(pattern string) (spool *os.File, release func(), err error) {
	if err := os.MkdirAll(s.content.ingestDir(), 0o700); err != nil {
		return nil, nil, err
	}
	writers, err := s.holdWriters()
	if err != nil {
		return nil, nil, err
	}
	spool, err = os.CreateTemp(s.content.ingestDir(), pattern)
	if err != nil {
		writers.Unlock()
		return nil, nil, err
	}
	return spool, func() {
		spool.Close()
		os.Remove(spool.Name())
		writers.Unlock()
	}, nil
}
