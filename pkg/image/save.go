package image

import (
	"fmt"
	"io"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Save writes the named images as a `docker save` archive (manifest.json,
// configs and layers), which `docker load` and `nerd load` both read.
func (s *Store) Save(names []string, w io.Writer) error {
	refs := map[name.Reference]v1.Image{}
	for _, n := range names {
		img, err := s.Get(n)
		if err != nil {
			return err
		}
		local, err := s.localImage(img)
		if err != nil {
			return err
		}
		// Saved by name: that name goes into the archive. Saved by ID: no
		// name at all, as with Docker, and load reports the ID.
		var tags []Reference
		if ref, err := ParseReference(n); err == nil && ref.Tag() != "" && hasName(img, ref) {
			tags = append(tags, ref)
		}
		if len(tags) == 0 {
			d, err := name.NewDigest("localhost/untagged@" + img.Target.Digest.String())
			if err != nil {
				return err
			}
			refs[d] = local
			continue
		}
		for _, t := range tags {
			tag, err := name.NewTag(t.Familiar(), name.WithDefaultRegistry(""))
			if err != nil {
				tag, err = name.NewTag(t.String())
				if err != nil {
					return fmt.Errorf("saving %s: %w", t, err)
				}
			}
			refs[tag] = local
		}
	}
	if err := tarball.MultiRefWrite(refs, w); err != nil {
		return fmt.Errorf("writing archive: %w", err)
	}
	return nil
}

func hasName(img *Image, ref Reference) bool {
	for _, n := range img.Names {
		if n.String() == ref.String() {
			return true
		}
	}
	return false
}
