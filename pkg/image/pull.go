package image

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/nerd-project/nerd/pkg/image/registry"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// PullOptions tune a pull.
type PullOptions struct {
	// Platform selects from a multi-platform image; nil means this host.
	Platform *v1.Platform
	// Progress receives Docker-style progress messages (may be nil).
	Progress func(jsonstream.Message)
	// Jobs is how many layers download at once (default 4).
	Jobs int
}

// PullResult says what a pull did.
type PullResult struct {
	Image *Image
	// Digest is the digest the registry serves the reference at.
	Digest digest.Digest
	// UpToDate is true when nothing new had to be stored.
	UpToDate bool
}

// HostPlatform is the platform images are pulled for by default.
func HostPlatform() v1.Platform {
	p := v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
	if p.Architecture == "arm64" {
		p.Variant = "v8"
	}
	return p
}

// Pull fetches ref into the store, unpacking layers while they download.
func (s *Store) Pull(ctx context.Context, ref Reference, opts PullOptions) (*PullResult, error) {
	if opts.Jobs <= 0 {
		opts.Jobs = 4
	}
	progress := opts.Progress
	if progress == nil {
		progress = func(jsonstream.Message) {}
	}
	platform := HostPlatform()
	if opts.Platform != nil {
		platform = *opts.Platform
	}
	gref, err := ref.GGCR()
	if err != nil {
		return nil, err
	}
	remoteImg, topDigest, source, err := s.resolve(ctx, ref, gref, platform)
	if err != nil {
		return nil, err
	}
	id := ref.Tag()
	if id == "" {
		id = ref.Digest()
	}
	progress(jsonstream.Message{ID: id, Status: "Pulling from " + ref.Path()})

	writers, err := s.holdWriters()
	if err != nil {
		return nil, err
	}
	defer writers.Unlock()
	_ = s.snaps.CleanStaging()

	stored, err := s.storeImage(ctx, remoteImg, opts.Jobs, progress)
	if err != nil {
		// Leave nothing of a failed pull behind: drop our writer lock and
		// collect (a no-op while another pull is in flight).
		writers.Unlock()
		_, _ = s.GC()
		return nil, err
	}
	progress(jsonstream.Message{Status: "Digest: " + topDigest.String()})

	var upToDate bool
	err = s.index.update(func(idx *ocispec.Index) error {
		for _, e := range idx.Manifests {
			if entryName(e) == ref.String() && e.Digest == stored.target.Digest {
				upToDate = !stored.fetchedLayers
			}
		}
		setName(idx, ref.String(), stored.target, map[string]string{
			annotationRepoDigest: topDigest.String(),
			annotationSource:     source,
		})
		return nil
	})
	if err != nil {
		return nil, err
	}
	img, err := s.Get(ref.String())
	if err != nil {
		return nil, err
	}
	return &PullResult{Image: img, Digest: topDigest, UpToDate: upToDate}, nil
}

// resolve finds ref on its registry's endpoints (mirrors first) and picks
// the platform's manifest. It returns the image, the digest the reference
// resolves to, and the repository it came from.
func (s *Store) resolve(ctx context.Context, ref Reference, gref name.Reference, platform v1.Platform) (v1.Image, digest.Digest, string, error) {
	want := registry.CapabilityPull
	if ref.Digest() == "" {
		// A tag must be resolved to a digest by a host allowed to.
		want |= registry.CapabilityResolve
	}
	eps, err := s.hosts.Endpoints(gref.Context().RegistryStr(), want)
	if err != nil {
		return nil, "", "", err
	}
	type resolved struct {
		img    v1.Image
		digest digest.Digest
		source string
	}
	r, err := registry.Try(ctx, eps, func(ep registry.Endpoint) (resolved, error) {
		eref, err := ep.Rebase(gref)
		if err != nil {
			return resolved{}, err
		}
		ropts := s.remoteOptions(ctx, ep)
		desc, err := remote.Get(eref, ropts...)
		if err != nil {
			return resolved{}, err
		}
		res := resolved{digest: digest.Digest(desc.Digest.String()), source: eref.Context().String()}
		if desc.MediaType.IsIndex() {
			idx, err := desc.ImageIndex()
			if err != nil {
				return resolved{}, err
			}
			child, err := pickPlatform(idx, platform)
			if err != nil {
				return resolved{}, registry.Permanent(err)
			}
			res.img, err = remote.Image(eref.Context().Digest(child.String()), ropts...)
			return res, err
		}
		res.img, err = desc.Image()
		return res, err
	})
	if err != nil {
		return nil, "", "", pullError(ref, err)
	}
	return r.img, r.digest, r.source, nil
}

func (s *Store) remoteOptions(ctx context.Context, ep registry.Endpoint) []remote.Option {
	o := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(s.keychain)}
	if ep.Transport != nil {
		o = append(o, remote.WithTransport(ep.Transport))
	}
	if s.userAgent != "" {
		o = append(o, remote.WithUserAgent(s.userAgent))
	}
	return o
}

// ErrNoMatchingPlatform is wrapped when a manifest list has no entry for the
// requested platform.
var ErrNoMatchingPlatform = errors.New("no matching manifest")

func pickPlatform(idx v1.ImageIndex, want v1.Platform) (v1.Hash, error) {
	im, err := idx.IndexManifest()
	if err != nil {
		return v1.Hash{}, err
	}
	for _, m := range im.Manifests {
		if m.Platform == nil || !m.MediaType.IsImage() {
			continue
		}
		p := *m.Platform
		if p.OS == want.OS && p.Architecture == want.Architecture &&
			(want.Variant == "" || p.Variant == want.Variant || (p.Variant == "" && want.Variant == "v8")) {
			return m.Digest, nil
		}
	}
	return v1.Hash{}, fmt.Errorf("%w for %s in the manifest list entries", ErrNoMatchingPlatform, platformString(want))
}

func platformString(p v1.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// pullError words registry failures the way Docker does.
func pullError(ref Reference, err error) error {
	var terr *transport.Error
	if errors.As(err, &terr) {
		switch terr.StatusCode {
		case 404:
			return fmt.Errorf("%w: manifest for %s not found: %v", ErrNotFound, ref.Familiar(), terr)
		case 401, 403:
			return fmt.Errorf("pull access denied for %s, repository does not exist or may require 'docker login': %v", ref.FamiliarName(), terr)
		}
	}
	return err
}

// storedImage is what storeImage wrote.
type storedImage struct {
	target        ocispec.Descriptor
	fetchedLayers bool
}

// storeImage writes img's layers (downloading and unpacking them in
// parallel), config and manifest into the store. Names are the caller's job.
func (s *Store) storeImage(ctx context.Context, img v1.Image, jobs int, progress func(jsonstream.Message)) (*storedImage, error) {
	rawManifest, err := img.RawManifest()
	if err != nil {
		return nil, err
	}
	var manifest ocispec.Manifest
	if err := json.Unmarshal(rawManifest, &manifest); err != nil {
		return nil, fmt.Errorf("parsing manifest: %w", err)
	}
	rawConfig, err := img.RawConfigFile()
	if err != nil {
		return nil, err
	}
	if digest.FromBytes(rawConfig) != manifest.Config.Digest {
		return nil, fmt.Errorf("%w: config %s", ErrDigestMismatch, manifest.Config.Digest)
	}
	cfg, err := v1.ParseConfigFile(bytesReader(rawConfig))
	if err != nil {
		return nil, fmt.Errorf("parsing image config %s: %w", manifest.Config.Digest, err)
	}
	if len(cfg.RootFS.DiffIDs) != len(manifest.Layers) {
		return nil, fmt.Errorf("image config %s lists %d layers, manifest %d", manifest.Config.Digest, len(cfg.RootFS.DiffIDs), len(manifest.Layers))
	}
	sources := make([]layerSource, len(manifest.Layers))
	for i, l := range manifest.Layers {
		l := l
		sources[i] = layerSource{desc: l, diffID: digest.Digest(cfg.RootFS.DiffIDs[i].String()), open: func() (io.ReadCloser, error) {
			h, err := v1.NewHash(l.Digest.String())
			if err != nil {
				return nil, err
			}
			layer, err := img.LayerByDigest(h)
			if err != nil {
				return nil, err
			}
			return layer.Compressed()
		}}
	}
	fetched, err := s.unpackLayers(ctx, sources, jobs, progress)
	if err != nil {
		return nil, err
	}
	if _, err := s.content.put(rawConfig); err != nil {
		return nil, err
	}
	mdgst, err := s.content.put(rawManifest)
	if err != nil {
		return nil, err
	}
	if err := syncfs(s.content.root); err != nil {
		return nil, err
	}
	target := ocispec.Descriptor{
		MediaType: manifestMediaType(rawManifest, manifest),
		Digest:    mdgst,
		Size:      int64(len(rawManifest)),
		Platform: &ocispec.Platform{
			OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant,
		},
	}
	return &storedImage{target: target, fetchedLayers: fetched}, nil
}
