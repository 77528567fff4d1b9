package image

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/nerd-project/nerd/internal/fsutil"
	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Annotations on index.json entries. The name annotation is containerd's, so
// tools that read an OCI layout written by containerd read ours too.
const (
	// AnnotationImageName holds the fully qualified reference.
	AnnotationImageName = "io.containerd.image.name"
	// annotationRepoDigest is the digest the registry serves the name at (a
	// manifest list's digest for multi-platform images): RepoDigests.
	annotationRepoDigest = "io.nerd.image.repo-digest"
	// annotationSource is the repository an image was pulled from, so push
	// can ask the registry to mount its blobs instead of uploading them.
	annotationSource = "io.nerd.image.source"
)

// index is the name half of the OCI layout: content/index.json maps names to
// manifests. Every change happens under index.lock and replaces the file
// atomically; readers need no lock.
type index struct {
	root string
}

func (x index) path() string     { return filepath.Join(x.root, "index.json") }
func (x index) lockPath() string { return filepath.Join(x.root, "index.lock") }

func (x index) read() (ocispec.Index, error) {
	var idx ocispec.Index
	data, err := os.ReadFile(x.path())
	if errors.Is(err, os.ErrNotExist) {
		return newIndex(), nil
	}
	if err != nil {
		return idx, fmt.Errorf("reading image index: %w", err)
	}
	if err := json.Unmarshal(data, &idx); err != nil {
		return idx, fmt.Errorf("reading image index %s: %w", x.path(), err)
	}
	return idx, nil
}

func newIndex() ocispec.Index {
	return ocispec.Index{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageIndex,
		Manifests: []ocispec.Descriptor{},
	}
}

// update runs fn on the current index under the lock and writes the result.
func (x index) update(fn func(*ocispec.Index) error) error {
	l, err := fsutil.LockExclusive(x.lockPath())
	if err != nil {
		return err
	}
	defer l.Unlock()
	idx, err := x.read()
	if err != nil {
		return err
	}
	if err := fn(&idx); err != nil {
		return err
	}
	data, err := json.Marshal(idx)
	if err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(x.path(), data, 0o644)
}

func entryName(d ocispec.Descriptor) string { return d.Annotations[AnnotationImageName] }

// setName points name at target. An image that loses its last name stays as
// a dangling <none> entry, as Docker keeps an untagged image when a tag
// moves; prune removes those.
func setName(idx *ocispec.Index, name string, target ocispec.Descriptor, annotations map[string]string) {
	var previous []ocispec.Descriptor
	idx.Manifests = slices.DeleteFunc(idx.Manifests, func(d ocispec.Descriptor) bool {
		if entryName(d) == name {
			previous = append(previous, d)
			return true
		}
		// The target gains a name, so it is no longer dangling.
		return entryName(d) == "" && d.Digest == target.Digest
	})
	entry := target
	entry.Annotations = map[string]string{AnnotationImageName: name}
	for k, v := range annotations {
		entry.Annotations[k] = v
	}
	if tag := tagOf(name); tag != "" {
		entry.Annotations[ocispec.AnnotationRefName] = tag
	}
	idx.Manifests = append(idx.Manifests, entry)
	for _, old := range previous {
		if old.Digest != target.Digest && !referenced(idx, old.Digest) {
			addDangling(idx, old)
		}
	}
}

func referenced(idx *ocispec.Index, d digest.Digest) bool {
	return slices.ContainsFunc(idx.Manifests, func(e ocispec.Descriptor) bool { return e.Digest == d })
}

// removeName drops name; it reports whether it was there.
func removeName(idx *ocispec.Index, name string) bool {
	before := len(idx.Manifests)
	idx.Manifests = slices.DeleteFunc(idx.Manifests, func(d ocispec.Descriptor) bool { return entryName(d) == name })
	return len(idx.Manifests) != before
}

// removeTarget drops every entry (named or not) pointing at d.
func removeTarget(idx *ocispec.Index, d digest.Digest) {
	idx.Manifests = slices.DeleteFunc(idx.Manifests, func(e ocispec.Descriptor) bool { return e.Digest == d })
}

// addDangling records an image without a name (a load of an unnamed image).
func addDangling(idx *ocispec.Index, target ocispec.Descriptor) {
	if referenced(idx, target.Digest) {
		return
	}
	target.Annotations = nil
	idx.Manifests = append(idx.Manifests, target)
}

func tagOf(name string) string {
	ref, err := ParseReference(name)
	if err != nil {
		return ""
	}
	return ref.Tag()
}
