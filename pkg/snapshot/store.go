package snapshot

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"
)

const (
	stagingName     = "staging"   // root/staging: private work dirs and snapshots being deleted
	stagingLockName = ".lock"     // root/staging/.lock: orders Prepare against CleanStaging
	fsName          = "fs"        // root/<key>/fs: the overlay lowerdir
	metaName        = "meta.json" // root/<key>/meta.json: Info, written before the commit rename
	maxKeyLen       = 128
)

// Info describes a committed snapshot. It is read from the small metadata file
// written at commit, so Stat and List never walk a snapshot's tree.
type Info struct {
	Key     string        `json:"key"`
	DiffID  digest.Digest `json:"diffID"`
	Size    int64         `json:"size"`             // unpacked bytes: sum of regular file sizes, each inode once
	Parent  string        `json:"parent,omitempty"` // nearest parent key, "" for a base layer
	Created time.Time     `json:"created"`
}

// Store manages committed snapshots under one root directory.
// It holds no open files and no in-memory state besides its paths, so many
// processes may use the same root at once; all coordination is on disk.
type Store struct {
	root    string // absolute, cleaned, symlink-free
	staging string // root/staging
}

// Open opens (creating if needed) a snapshot store rooted at root.
func Open(root string) (*Store, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("creating snapshot root: %w", err)
	}
	// securejoin and the "parents contain no symlinks" invariant both need a
	// clean, fully resolved root.
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("resolving snapshot root: %w", err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("resolving snapshot root: %w", err)
	}
	s := &Store{root: real, staging: filepath.Join(real, stagingName)}
	if err := os.MkdirAll(s.staging, 0o700); err != nil {
		return nil, fmt.Errorf("creating staging dir: %w", err)
	}
	fd, err := s.openStagingLock()
	if err != nil {
		return nil, err
	}
	unix.Close(fd)
	return s, nil
}

// Root returns the store's resolved root directory.
func (s *Store) Root() string { return s.root }

// ValidKey reports whether key is acceptable as a snapshot key: 1 to 128
// lowercase hex digits. Uppercase is refused so one layer cannot have two names.
func ValidKey(key string) bool {
	if len(key) == 0 || len(key) > maxKeyLen {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func checkKey(key string) error {
	if !ValidKey(key) {
		return fmt.Errorf("invalid snapshot key %q: want lowercase hex", key)
	}
	return nil
}

// Path returns the directory of a committed snapshot that becomes an overlay
// lowerdir (root/<key>/fs). It returns "" for an invalid key, so a hostile key
// can never turn into a path outside the store.
func (s *Store) Path(key string) string {
	if !ValidKey(key) {
		return ""
	}
	return filepath.Join(s.root, key, fsName)
}

// Exists reports whether key is committed. The metadata file is written
// before the atomic rename, so root/<key>/meta.json exists iff the commit happened.
func (s *Store) Exists(key string) bool {
	if !ValidKey(key) {
		return false
	}
	var st unix.Stat_t
	return unix.Lstat(filepath.Join(s.root, key, metaName), &st) == nil
}

// Stat returns the metadata of a committed snapshot. A missing snapshot gives
// an error matching fs.ErrNotExist.
func (s *Store) Stat(key string) (Info, error) {
	if err := checkKey(key); err != nil {
		return Info{}, err
	}
	b, err := os.ReadFile(filepath.Join(s.root, key, metaName))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Info{}, fmt.Errorf("snapshot %s: %w", key, fs.ErrNotExist)
		}
		return Info{}, fmt.Errorf("reading snapshot %s metadata: %w", key, err)
	}
	var info Info
	if err := json.Unmarshal(b, &info); err != nil {
		return Info{}, fmt.Errorf("parsing snapshot %s metadata: %w", key, err)
	}
	return info, nil
}

// List returns all committed snapshots, sorted by key.
func (s *Store) List() ([]Info, error) {
	ents, err := os.ReadDir(s.root)
	if err != nil {
		return nil, fmt.Errorf("listing snapshots: %w", err)
	}
	var out []Info
	for _, e := range ents {
		if !e.IsDir() || !ValidKey(e.Name()) {
			continue
		}
		info, err := s.Stat(e.Name())
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed concurrently
		}
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// Remove deletes a committed snapshot. The caller must make sure nothing uses
// it (references, mounts). The snapshot is first renamed into staging/ — one
// atomic step after which it is no longer committed — and only then deleted, so
// a crash mid-delete leaves an unlocked staging dir for CleanStaging instead of
// a half-deleted snapshot that still looks committed.
// A missing snapshot gives an error matching fs.ErrNotExist.
func (s *Store) Remove(key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	dir := filepath.Join(s.root, key)
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("removing snapshot %s: %w", key, fs.ErrNotExist)
		}
		return fmt.Errorf("removing snapshot %s: %w", key, err)
	}
	defer unix.Close(fd)
	// Lock it before it enters staging/ so a concurrent CleanStaging sees a
	// live dir and leaves our deletion alone.
	if err := flock(fd, unix.LOCK_EX); err != nil {
		return fmt.Errorf("removing snapshot %s: locking: %w", key, err)
	}
	tmp := filepath.Join(s.staging, "rm-"+key+"-"+randomSuffix())
	if err := os.Rename(dir, tmp); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing snapshot %s: %w", key, fs.ErrNotExist)
		}
		return fmt.Errorf("removing snapshot %s: %w", key, err)
	}
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("removing snapshot %s: %w", key, err)
	}
	return nil
}

// CleanStaging removes staging dirs left behind by crashed processes. A live
// staging dir is flock'd by its owner for its whole life, so only dirs whose
// lock can be taken are removed.
func (s *Store) CleanStaging() error {
	lk, err := s.openStagingLock()
	if err != nil {
		return err
	}
	// Exclusive: no Prepare is between creating a dir and locking it.
	if err := flock(lk, unix.LOCK_EX); err != nil {
		unix.Close(lk)
		return fmt.Errorf("locking staging: %w", err)
	}
	ents, err := os.ReadDir(s.staging)
	if err != nil {
		unix.Close(lk)
		return fmt.Errorf("listing staging: %w", err)
	}
	type victim struct {
		path string
		fd   int
	}
	var victims []victim
	var errs []error
	for _, e := range ents {
		if e.Name() == stagingLockName {
			continue
		}
		p := filepath.Join(s.staging, e.Name())
		fd, err := unix.Open(p, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		switch {
		case errors.Is(err, unix.ENOENT):
			continue
		case errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ELOOP):
			// Stray non-directory: nobody owns it.
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
			continue
		case err != nil:
			errs = append(errs, fmt.Errorf("opening %s: %w", p, err))
			continue
		}
		if err := flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
			unix.Close(fd)
			if !errors.Is(err, unix.EWOULDBLOCK) {
				errs = append(errs, fmt.Errorf("locking %s: %w", p, err))
			}
			continue // live
		}
		victims = append(victims, victim{p, fd})
	}
	// Deleting can take long; hold only the victims' own locks meanwhile so
	// Prepare is not blocked.
	unix.Close(lk)
	for _, v := range victims {
		if err := os.RemoveAll(v.path); err != nil {
			errs = append(errs, fmt.Errorf("removing %s: %w", v.path, err))
		}
		unix.Close(v.fd)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("cleaning staging: %w", err)
	}
	return nil
}

func (s *Store) openStagingLock() (int, error) {
	p := filepath.Join(s.staging, stagingLockName)
	fd, err := unix.Open(p, unix.O_RDWR|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return -1, fmt.Errorf("opening staging lock: %w", err)
	}
	return fd, nil
}

func flock(fd, how int) error {
	for {
		err := unix.Flock(fd, how)
		if err != unix.EINTR {
			return err
		}
	}
}

func randomSuffix() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Linux
	return hex.EncodeToString(b[:])
}

// fsyncDir makes a rename inside dir durable.
func fsyncDir(dir string) error {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return unix.Fsync(fd)
}
