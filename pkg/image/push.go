package image

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/nerd-project/nerd/pkg/image/registry"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// PushOptions tune a push.
type PushOptions struct {
	Progress func(jsonstream.Message)
}

// PushResult is what the registry now holds.
type PushResult struct {
	Digest digest.Digest
	Size   int64
}

// localImage opens a stored image as a go-containerregistry image, reading
// blobs straight from the layout.
func (s *Store) localImage(img *Image) (v1.Image, error) {
	p, err := layout.FromPath(s.content.root)
	if err != nil {
		return nil, err
	}
	h, err := v1.NewHash(img.Target.Digest.String())
	if err != nil {
		return nil, err
	}
	return p.Image(h)
}

// Push uploads the image named ref. Blobs the registry already has are not
// sent again, and blobs of an image pulled from another repository of the
// same registry are mounted from there instead of uploaded.
func (s *Store) Push(ctx context.Context, ref Reference, opts PushOptions) (*PushResult, error) {
	progress := opts.Progress
	if progress == nil {
		progress = func(jsonstream.Message) {}
	}
	img, err := s.Get(ref.String())
	if err != nil {
		return nil, fmt.Errorf("%w: An image does not exist locally with the tag: %s", ErrNotFound, ref.FamiliarName())
	}
	local, err := s.localImage(img)
	if err != nil {
		return nil, err
	}
	gref, err := ref.GGCR()
	if err != nil {
		return nil, err
	}
	eps, err := s.hosts.Endpoints(gref.Context().RegistryStr(), registry.CapabilityPush)
	if err != nil {
		return nil, err
	}
	res, err := registry.Try(ctx, eps, func(ep registry.Endpoint) (*PushResult, error) {
		eref, err := ep.Rebase(gref)
		if err != nil {
			return nil, err
		}
		return s.pushTo(ctx, eref, img, local, s.remoteOptions(ctx, ep), progress)
	})
	if err != nil {
		return nil, err
	}
	// Like Docker, the pushed name now has a RepoDigest.
	err = s.index.update(func(idx *ocispec.Index) error {
		for i, e := range idx.Manifests {
			if entryName(e) == ref.String() {
				idx.Manifests[i].Annotations[annotationRepoDigest] = res.Digest.String()
			}
		}
		return nil
	})
	return res, err
}

func (s *Store) pushTo(ctx context.Context, ref name.Reference, img *Image, local v1.Image, ropts []remote.Option, progress func(jsonstream.Message)) (*PushResult, error) {
	pusher, err := remote.NewPusher(ropts...)
	if err != nil {
		return nil, err
	}
	layers, err := local.Layers()
	if err != nil {
		return nil, err
	}
	repo := ref.Context()
	// Blobs of an image pulled from another repository of this registry
	// can be mounted from there instead of uploaded.
	var mountFrom *name.Repository
	if img.source != "" {
		if src, err := name.NewRepository(img.source); err == nil &&
			src.RegistryStr() == repo.RegistryStr() && src.RepositoryStr() != repo.RepositoryStr() {
			mountFrom = &src
		}
	}
	for _, l := range layers {
		h, err := l.Digest()
		if err != nil {
			return nil, err
		}
		progress(jsonstream.Message{ID: shortID(digest.Digest(h.String())), Status: "Preparing"})
	}
	for _, l := range layers {
		h, err := l.Digest()
		if err != nil {
			return nil, err
		}
		id := shortID(digest.Digest(h.String()))
		if blobExists(repo, h, ropts) {
			progress(jsonstream.Message{ID: id, Status: "Layer already exists"})
			continue
		}
		if mountFrom != nil && blobExists(*mountFrom, h, ropts) {
			ml := &remote.MountableLayer{Layer: l, Reference: mountFrom.Digest(h.String())}
			if err := pusher.Upload(ctx, repo, ml); err != nil {
				return nil, fmt.Errorf("mounting layer %s from %s: %w", h, mountFrom.RepositoryStr(), err)
			}
			progress(jsonstream.Message{ID: id, Status: "Mounted from " + mountFrom.RepositoryStr()})
			continue
		}
		progress(jsonstream.Message{ID: id, Status: "Pushing"})
		if err := pusher.Upload(ctx, repo, l); err != nil {
			return nil, fmt.Errorf("pushing layer %s: %w", h, err)
		}
		progress(jsonstream.Message{ID: id, Status: "Pushed"})
	}
	if err := pusher.Push(ctx, ref, local); err != nil {
		return nil, fmt.Errorf("pushing manifest for %s: %w", ref, err)
	}
	return &PushResult{Digest: img.Target.Digest, Size: img.Target.Size}, nil
}

// blobExists asks the registry (HEAD) whether repo has blob h.
func blobExists(repo name.Repository, h v1.Hash, ropts []remote.Option) bool {
	l, err := remote.Layer(repo.Digest(h.String()), ropts...)
	if err != nil {
		return false
	}
	ex, ok := l.(interface{ Exists() (bool, error) })
	if !ok {
		return false
	}
	exists, err := ex.Exists()
	return err == nil && exists
}
