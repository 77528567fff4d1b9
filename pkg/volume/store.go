// Package volume is nerd's volume store: named and anonymous volumes of
// the local driver under <data-root>/volumes/<name>/_data, each with a
// small metadata file beside its data, plus the copy-up that fills a new
// volume from the image.
//
// Every change happens under one flock (volumes/.lock). The engine holds
// the same lock while it resolves a new container's mounts and writes its
// record (see Tx), and in-use checks read the container records, so a
// `volume rm` racing a `run -v` either removes the volume first (and the
// run creates it afresh) or sees the new container and refuses.
package volume

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nerd-project/nerd/internal/fsutil"
	"github.com/nerd-project/nerd/internal/names"
)

// DefaultDriver is the only driver: a directory on the host, or the
// file system its options describe.
const DefaultDriver = "local"

// AnonymousLabel marks volumes created without a name (Docker's label);
// rm -v, --rm and `volume prune` without -a remove only those.
const AnonymousLabel = "com.docker.volume.anonymous"

// Errors the CLI maps to Docker's messages.
var (
	ErrNotFound = errors.New("no such volume")
	ErrInUse    = errors.New("volume is in use")
	ErrInvalid  = errors.New("invalid volume")
)

// Volume is one volume's metadata (volume.json): Docker's inspect fields
// and the copy-up mark.
type Volume struct {
	InspectVolume
	// Populated records that the volume received a copy-up (or was found
	// holding data when one was due): it is never filled again.
	Populated bool `json:"Populated,omitempty"`
}

// Anonymous reports whether v was created without a name.
func (v *Volume) Anonymous() bool {
	_, ok := v.Labels[AnonymousLabel]
	return ok
}

// HasMountOptions reports whether the local driver mounts a file system
// (type/device/o) rather than binding the volume's directory.
func (v *Volume) HasMountOptions() bool {
	return v.Options["type"] != "" || v.Options["device"] != ""
}

// UsersFunc maps volume names to the containers using them.
type UsersFunc func() (map[string][]string, error)

// Store is the volumes of one data root.
type Store struct {
	root  string
	users UsersFunc
}

// Open opens (creating it) the store at root (<data-root>/volumes). users
// tells which containers use which volume; nil means none.
func Open(root string, users UsersFunc) (*Store, error) {
	if err := os.MkdirAll(root, 0o701); err != nil {
		return nil, fmt.Errorf("creating %s: %w", root, err)
	}
	if users == nil {
		users = func() (map[string][]string, error) { return map[string][]string{}, nil }
	}
	return &Store{root: root, users: users}, nil
}

// Root is the store's directory.
func (s *Store) Root() string { return s.root }

// DataDir is where volume name keeps its data.
func (s *Store) DataDir(name string) string { return filepath.Join(s.root, name, "_data") }

func (s *Store) metaPath(name string) string { return filepath.Join(s.root, name, "volume.json") }

// Tx is the store held under its lock. The engine keeps one open across
// "resolve mounts + write the container record".
type Tx struct {
	s    *Store
	lock *fsutil.Lock
}

// Lock takes the store's lock.
func (s *Store) Lock() (*Tx, error) {
	l, err := fsutil.LockExclusive(filepath.Join(s.root, ".lock"))
	if err != nil {
		return nil, err
	}
	return &Tx{s: s, lock: l}, nil
}

// Unlock releases the lock.
func (tx *Tx) Unlock() { _ = tx.lock.Unlock() }

// ValidateName checks name with Docker's rule and message.
func ValidateName(name string) error {
	if len(name) == 1 {
		return fmt.Errorf("%w: volume name is too short, names should be at least two alphanumeric characters", ErrInvalid)
	}
	if !names.Valid(name, 2) {
		return fmt.Errorf("%w: %q includes invalid characters for a local volume name, only %q are allowed. If you intended to pass a host directory, use absolute path",
			ErrInvalid, name, names.Allowed)
	}
	return nil
}

// CreateOptions describe a new volume.
type CreateOptions struct {
	Name string // "" makes a random 64-hex name
	// Anonymous adds Docker's anonymous label (a volume the user did not
	// name: -v /path, an image VOLUME).
	Anonymous bool
	Driver    string
	Labels    map[string]string
	// Options are the local driver's: type, device, o.
	Options map[string]string
}

// Create makes a volume, or returns the existing one of that name (as
// Docker does). created tells which.
func (s *Store) Create(opts CreateOptions) (v *Volume, created bool, err error) {
	tx, err := s.Lock()
	if err != nil {
		return nil, false, err
	}
	defer tx.Unlock()
	return tx.Create(opts)
}

// Create is Store.Create under the lock.
func (tx *Tx) Create(opts CreateOptions) (*Volume, bool, error) {
	s := tx.s
	if opts.Driver == "" {
		opts.Driver = DefaultDriver
	}
	if opts.Driver != DefaultDriver {
		return nil, false, fmt.Errorf("%w: create %s: volume driver %q is not supported: only %q is", ErrInvalid, opts.Name, opts.Driver, DefaultDriver)
	}
	labels := maps.Clone(opts.Labels)
	if opts.Name == "" {
		id, err := randomHex(32)
		if err != nil {
			return nil, false, err
		}
		opts.Name = id
	}
	if opts.Anonymous {
		if labels == nil {
			labels = map[string]string{}
		}
		labels[AnonymousLabel] = ""
	}
	if err := ValidateName(opts.Name); err != nil {
		return nil, false, fmt.Errorf("create %s: %w", opts.Name, err)
	}
	if err := validateOptions(opts.Options); err != nil {
		return nil, false, fmt.Errorf("create %s: %w", opts.Name, err)
	}
	if v, err := tx.Get(opts.Name); err == nil {
		return v, false, nil
	} else if !errors.Is(err, ErrNotFound) {
		return nil, false, err
	}
	v := &Volume{InspectVolume: InspectVolume{
		CreatedAt:  time.Now().Truncate(time.Second).Format(time.RFC3339),
		Driver:     opts.Driver,
		Labels:     labels,
		Mountpoint: s.DataDir(opts.Name),
		Name:       opts.Name,
		Options:    maps.Clone(opts.Options),
		Scope:      "local",
	}}
	// Assembled under a hidden name and renamed into place: a crash
	// leaves no half volume.
	suffix, err := randomHex(6)
	if err != nil {
		return nil, false, err
	}
	tmp := filepath.Join(s.root, ".tmp-"+suffix)
	if err := os.MkdirAll(filepath.Join(tmp, "_data"), 0o755); err != nil {
		return nil, false, fmt.Errorf("create %s: %w", opts.Name, err)
	}
	// MkdirAll obeys the umask; a volume's root is 0755 like Docker's.
	_ = os.Chmod(filepath.Join(tmp, "_data"), 0o755)
	if err := writeMeta(filepath.Join(tmp, "volume.json"), v); err != nil {
		os.RemoveAll(tmp)
		return nil, false, fmt.Errorf("create %s: %w", opts.Name, err)
	}
	if err := os.Rename(tmp, filepath.Join(s.root, opts.Name)); err != nil {
		os.RemoveAll(tmp)
		return nil, false, fmt.Errorf("create %s: %w", opts.Name, err)
	}
	return v, true, nil
}

// validateOptions accepts the local driver's options (Docker's set).
func validateOptions(o map[string]string) error {
	for k := range o {
		switch k {
		case "type", "device", "o", "size":
		default:
			return fmt.Errorf("%w: invalid option: %q", ErrInvalid, k)
		}
	}
	if o["type"] == "" && o["device"] == "" && o["o"] != "" {
		return fmt.Errorf("%w: missing required option: \"type\"", ErrInvalid)
	}
	if o["type"] != "" && o["type"] != "tmpfs" && o["device"] == "" {
		return fmt.Errorf("%w: missing required option: \"device\"", ErrInvalid)
	}
	return nil
}

// Get reads volume name.
func (s *Store) Get(name string) (*Volume, error) {
	if !names.Valid(name, 2) {
		return nil, fmt.Errorf("get %s: %w", name, ErrNotFound)
	}
	var v Volume
	data, err := os.ReadFile(s.metaPath(name))
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("get %s: %w", name, ErrNotFound)
		}
		return nil, fmt.Errorf("get %s: %w", name, err)
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("get %s: reading volume.json: %w", name, err)
	}
	return &v, nil
}

// Get is Store.Get (the lock changes nothing for a read).
func (tx *Tx) Get(name string) (*Volume, error) { return tx.s.Get(name) }

// MarkPopulated records that v got its copy-up.
func (tx *Tx) MarkPopulated(v *Volume) error {
	v.Populated = true
	return writeMeta(tx.s.metaPath(v.Name), v)
}

// List returns every volume, sorted by name.
func (s *Store) List() ([]*Volume, error) {
	entries, err := os.ReadDir(s.root)
	if err != nil {
		return nil, err
	}
	var out []*Volume
	for _, ent := range entries {
		if !ent.IsDir() || strings.HasPrefix(ent.Name(), ".") {
			continue
		}
		v, err := s.Get(ent.Name())
		if err != nil {
			continue // removed meanwhile
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Users maps volume names to the containers using them.
func (s *Store) Users() (map[string][]string, error) { return s.users() }

// Remove deletes volume name; one in use is refused with Docker's message
// even with force, which (as in Docker) only makes a missing volume no
// error.
func (s *Store) Remove(name string, force bool) error {
	tx, err := s.Lock()
	if err != nil {
		return err
	}
	defer tx.Unlock()
	if _, err := tx.Get(name); err != nil {
		if force && errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	}
	users, err := tx.s.users()
	if err != nil {
		return fmt.Errorf("remove %s: %w", name, err)
	}
	if ids := users[name]; len(ids) > 0 {
		return fmt.Errorf("remove %s: %w - [%s]", name, ErrInUse, strings.Join(ids, ", "))
	}
	return tx.remove(name)
}

// RemoveUnused removes those of names that are anonymous volumes no
// container uses (rm -v, --rm); named volumes and volumes still mounted
// by another container (--volumes-from) stay, as with Docker. Container
// except (the one being removed) does not count as a user.
func (s *Store) RemoveUnused(names []string, except string) error {
	if len(names) == 0 {
		return nil
	}
	tx, err := s.Lock()
	if err != nil {
		return err
	}
	defer tx.Unlock()
	return tx.RemoveUnused(names, except)
}

// RemoveUnused is Store.RemoveUnused under the lock.
func (tx *Tx) RemoveUnused(names []string, except string) error {
	users, err := tx.s.users()
	if err != nil {
		return err
	}
	var errs []error
	for _, n := range names {
		v, err := tx.Get(n)
		if err != nil || !v.Anonymous() || usedBeyond(users[n], except) {
			continue
		}
		errs = append(errs, tx.remove(n))
	}
	return errors.Join(errs...)
}

func usedBeyond(ids []string, except string) bool {
	for _, id := range ids {
		if id != except {
			return true
		}
	}
	return false
}

// Remove deletes name without any check (the caller holds the lock and
// decided).
func (tx *Tx) Remove(name string) error { return tx.remove(name) }

// remove renames the volume to a hidden name first, so a crash mid-delete
// never leaves a volume that lists but has lost part of its data.
func (tx *Tx) remove(name string) error {
	suffix, err := randomHex(6)
	if err != nil {
		return err
	}
	trash := filepath.Join(tx.s.root, ".rm-"+name+"-"+suffix)
	if err := os.Rename(filepath.Join(tx.s.root, name), trash); err != nil {
		if os.IsNotExist(err) {
			return fmt.Errorf("get %s: %w", name, ErrNotFound)
		}
		return fmt.Errorf("remove %s: %w", name, err)
	}
	if err := os.RemoveAll(trash); err != nil {
		return fmt.Errorf("remove %s: %w", name, err)
	}
	return nil
}

// PruneOptions select what Prune removes.
type PruneOptions struct {
	// All removes unused named volumes too; without it only anonymous
	// ones go (Docker ≥ 23).
	All bool
	// Filter keeps a volume out of the prune when it returns false.
	Filter func(*Volume) bool
}

// PruneReport lists what Prune removed.
type PruneReport struct {
	Deleted   []string
	Reclaimed int64
}

// Prune removes the volumes no container uses.
func (s *Store) Prune(opts PruneOptions) (PruneReport, error) {
	var rep PruneReport
	tx, err := s.Lock()
	if err != nil {
		return rep, err
	}
	defer tx.Unlock()
	users, err := s.users()
	if err != nil {
		return rep, err
	}
	all, err := s.List()
	if err != nil {
		return rep, err
	}
	var errs []error
	for _, v := range all {
		if len(users[v.Name]) > 0 || (!opts.All && !v.Anonymous()) {
			continue
		}
		if opts.Filter != nil && !opts.Filter(v) {
			continue
		}
		size := DirSize(s.DataDir(v.Name))
		if err := tx.remove(v.Name); err != nil {
			errs = append(errs, err)
			continue
		}
		rep.Deleted = append(rep.Deleted, v.Name)
		rep.Reclaimed += size
	}
	return rep, errors.Join(errs...)
}

// CleanupTrash removes what a crash left: half-created and half-removed
// volume directories (hidden, never listed).
func (tx *Tx) CleanupTrash() {
	entries, _ := os.ReadDir(tx.s.root)
	for _, ent := range entries {
		if n := ent.Name(); strings.HasPrefix(n, ".tmp-") || strings.HasPrefix(n, ".rm-") {
			_ = os.RemoveAll(filepath.Join(tx.s.root, n))
		}
	}
}

func writeMeta(path string, v *Volume) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(path, data, 0o600)
}

// randomHex reads the kernel's random source directly: crypto/rand would
// pull its FIPS module (and its init work) into every monitor.
func randomHex(n int) (string, error) {
	b := make([]byte, n)
	for got := 0; got < n; {
		m, err := unix.Getrandom(b[got:], 0)
		if err != nil {
			if err == unix.EINTR {
				continue
			}
			return "", fmt.Errorf("reading random bytes: %w", err)
		}
		got += m
	}
	return hex.EncodeToString(b), nil
}

// InspectVolume is `volume inspect`'s object (Docker's shape).
type InspectVolume struct {
	CreatedAt  string            `json:"CreatedAt"`
	Driver     string            `json:"Driver"`
	Labels     map[string]string `json:"Labels"`
	Mountpoint string            `json:"Mountpoint"`
	Name       string            `json:"Name"`
	Options    map[string]string `json:"Options"`
	Scope      string            `json:"Scope"`
}

// Inspect is v as `volume inspect` prints it.
func (v *Volume) Inspect() InspectVolume { return v.InspectVolume }
