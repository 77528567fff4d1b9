package image

import (
	"errors"
	"fmt"
	"os"

	"github.com/nerd-project/nerd/internal/fsutil"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Tag gives the image found by source the name target.
func (s *Store) Tag(source string, target Reference) error {
	writers, err := s.holdWriters()
	if err != nil {
		return err
	}
	defer writers.Unlock()
	img, err := s.Get(source)
	if err != nil {
		return err
	}
	annotations := map[string]string{}
	if img.source != "" {
		annotations[annotationSource] = img.source
	}
	return s.index.update(func(idx *ocispec.Index) error {
		if !referenced(idx, img.Target.Digest) {
			return fmt.Errorf("%w: %s", ErrNotFound, source)
		}
		setName(idx, target.String(), img.Target, annotations)
		return nil
	})
}

// DeleteItem is one line of rmi/prune output: Untagged or Deleted.
type DeleteItem struct {
	Untagged string `json:"Untagged,omitempty"`
	Deleted  string `json:"Deleted,omitempty"`
}

// RemoveOptions tune Remove.
type RemoveOptions struct {
	Force bool
}

// Remove is `docker rmi`: a reference that is one of several names only
// untags; the last name (or an ID) deletes the image, and garbage
// collection frees what no other image shares.
func (s *Store) Remove(nameOrID string, opts RemoveOptions) ([]DeleteItem, error) {
	img, err := s.Get(nameOrID)
	if err != nil {
		return nil, err
	}
	byName := false
	var named Reference
	if ref, err := ParseReference(nameOrID); err == nil {
		for _, n := range img.Names {
			if n.String() == ref.String() {
				byName, named = true, n
			}
		}
	}
	var items []DeleteItem
	if byName && len(img.Names) > 1 {
		err := s.index.update(func(idx *ocispec.Index) error {
			removeName(idx, named.String())
			return nil
		})
		if err != nil {
			return nil, err
		}
		return []DeleteItem{{Untagged: named.Familiar()}}, nil
	}
	if !byName && !opts.Force && repositories(img) > 1 {
		return nil, fmt.Errorf("%w: unable to delete %s (must be forced) - image is referenced in multiple repositories",
			ErrConflict, shortID(img.ID))
	}
	user := s.currentUsage().Images[img.ID.String()]
	if user != "" && !opts.Force {
		if byName {
			return nil, fmt.Errorf("%w: unable to remove repository reference %q (must force) - container %s is using its referenced image %s",
				ErrConflict, nameOrID, user[:12], shortID(img.ID))
		}
		return nil, fmt.Errorf("%w: unable to delete %s (must be forced) - image is being used by stopped container %s",
			ErrConflict, shortID(img.ID), user[:12])
	}
	err = s.index.update(func(idx *ocispec.Index) error {
		removeTarget(idx, img.Target.Digest)
		if user != "" {
			// Forced: the names go, the image stays (as <none>) while a
			// container uses it, as in Docker.
			addDangling(idx, img.Target)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, n := range img.Names {
		items = append(items, DeleteItem{Untagged: n.Familiar()})
	}
	for _, d := range img.RepoDigests {
		items = append(items, DeleteItem{Untagged: d})
	}
	if user != "" {
		return items, nil
	}
	items = append(items, DeleteItem{Deleted: img.ID.String()})
	if _, err := s.GC(); err != nil && !errors.Is(err, fsutil.ErrLocked) {
		return items, err
	}
	return items, nil
}

func repositories(img *Image) int {
	repos := map[string]bool{}
	for _, n := range img.Names {
		repos[n.Name()] = true
	}
	return len(repos)
}

// PruneOptions tune Prune.
type PruneOptions struct {
	// All removes every image, not only dangling ones.
	All bool
	// Keep reports images that must stay (e.g. used by containers).
	Keep func(*Image) bool
	// Filter reports images eligible for pruning (nil: all).
	Filter func(*Image) bool
}

// Prune removes dangling images (all unused ones with All) and returns what
// it deleted and the bytes reclaimed.
func (s *Store) Prune(opts PruneOptions) ([]DeleteItem, int64, error) {
	images, err := s.List()
	if err != nil {
		return nil, 0, err
	}
	var items []DeleteItem
	var victims []*Image
	inUse := s.currentUsage().Images
	for _, img := range images {
		if inUse[img.ID.String()] != "" {
			continue
		}
		if !opts.All && !img.Dangling() {
			continue
		}
		if opts.Keep != nil && opts.Keep(img) {
			continue
		}
		if opts.Filter != nil && !opts.Filter(img) {
			continue
		}
		victims = append(victims, img)
	}
	if len(victims) == 0 {
		return nil, 0, nil
	}
	err = s.index.update(func(idx *ocispec.Index) error {
		for _, img := range victims {
			removeTarget(idx, img.Target.Digest)
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	for _, img := range victims {
		for _, n := range img.Names {
			items = append(items, DeleteItem{Untagged: n.Familiar()})
		}
		items = append(items, DeleteItem{Deleted: img.ID.String()})
	}
	reclaimed, err := s.GC()
	if err != nil && !errors.Is(err, fsutil.ErrLocked) {
		return items, reclaimed, err
	}
	return items, reclaimed, nil
}

// GC deletes blobs and snapshots that no image references. It runs only
// when no pull/load is in flight (they hold the writers lock shared) and
// returns fsutil.ErrLocked otherwise; the next GC catches up.
func (s *Store) GC() (int64, error) {
	if err := os.MkdirAll(s.locksDir(), 0o700); err != nil {
		return 0, err
	}
	l, err := fsutil.TryLockExclusive(s.gcLockPath())
	if err != nil {
		return 0, err
	}
	defer l.Unlock()

	idx, err := s.index.read()
	if err != nil {
		return 0, err
	}
	blobs := map[digest.Digest]bool{}
	snaps := map[string]bool{}
	for k := range s.currentUsage().Snapshots {
		snaps[k] = true
	}
	for _, e := range idx.Manifests {
		img, err := s.load([]ocispec.Descriptor{e})
		if err != nil {
			// Keep what we cannot read rather than guess.
			blobs[e.Digest] = true
			continue
		}
		blobs[e.Digest], blobs[img.ID] = true, true
		for _, l := range img.Manifest.Layers {
			blobs[l.Digest] = true
		}
		for _, k := range img.ChainIDs() {
			snaps[k.Encoded()] = true
		}
	}
	var reclaimed int64
	all, err := s.content.listBlobs()
	if err != nil {
		return 0, err
	}
	for _, d := range all {
		if !blobs[d] {
			reclaimed += s.content.size(d)
			if err := s.content.remove(d); err != nil {
				return reclaimed, fmt.Errorf("removing blob %s: %w", d, err)
			}
		}
	}
	infos, err := s.snaps.List()
	if err != nil {
		return reclaimed, err
	}
	for _, info := range infos {
		if !snaps[info.Key] {
			reclaimed += info.Size
			if err := s.snaps.Remove(info.Key); err != nil {
				return reclaimed, err
			}
		}
	}
	// Nothing is writing (we hold the lock exclusively), so leftovers of
	// killed downloads can go.
	_ = os.RemoveAll(s.content.ingestDir())
	_ = s.snaps.CleanStaging()
	return reclaimed, nil
}
