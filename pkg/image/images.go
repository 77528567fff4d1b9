package image

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Image is one image of the store: a manifest, its config, and the names
// that point at it.
type Image struct {
	// Target is the manifest descriptor index.json points at.
	Target ocispec.Descriptor
	// ID is the config digest, Docker's image ID.
	ID digest.Digest
	// Names are the fully qualified references, sorted.
	Names []Reference
	// RepoDigests are familiar name@digest forms, sorted.
	RepoDigests []string
	Manifest    ocispec.Manifest
	Config      v1.ConfigFile
	// ConfigRaw is the config blob as stored (inspect shows it faithfully).
	ConfigRaw []byte
	// Size is the unpacked size of all layers, as `docker images` shows.
	Size int64
	// source is the repository the image was pulled from (for push mounts).
	source string
}

// Created is the config's creation time.
func (img *Image) Created() time.Time { return img.Config.Created.Time }

// ChainIDs are the snapshot keys of the image's layers, bottom first.
func (img *Image) ChainIDs() []digest.Digest {
	return chainIDs(img.Config.RootFS.DiffIDs)
}

// Dangling reports an image without any tag (Docker's <none>:<none>).
func (img *Image) Dangling() bool {
	for _, n := range img.Names {
		if n.Tag() != "" {
			return false
		}
	}
	return true
}

func chainIDs(diffIDs []v1.Hash) []digest.Digest {
	out := make([]digest.Digest, 0, len(diffIDs))
	var parent digest.Digest
	for i, d := range diffIDs {
		if i == 0 {
			parent = digest.Digest(d.String())
		} else {
			parent = digest.FromString(parent.String() + " " + d.String())
		}
		out = append(out, parent)
	}
	return out
}

// List returns every image, newest first (Docker's order).
func (s *Store) List() ([]*Image, error) {
	idx, err := s.index.read()
	if err != nil {
		return nil, err
	}
	return s.images(&idx), nil
}

// images loads every image idx names, newest first.
func (s *Store) images(idx *ocispec.Index) []*Image {
	byTarget := map[digest.Digest][]ocispec.Descriptor{}
	var order []digest.Digest
	for _, d := range idx.Manifests {
		if _, ok := byTarget[d.Digest]; !ok {
			order = append(order, d.Digest)
		}
		byTarget[d.Digest] = append(byTarget[d.Digest], d)
	}
	images := make([]*Image, 0, len(order))
	for _, t := range order {
		img, err := s.load(byTarget[t])
		if err != nil {
			// A damaged entry must not hide every other image.
			continue
		}
		images = append(images, img)
	}
	sort.SliceStable(images, func(i, j int) bool { return images[i].Created().After(images[j].Created()) })
	return images
}

// load builds an Image from the index entries sharing one target.
func (s *Store) load(entries []ocispec.Descriptor) (*Image, error) {
	target := entries[0]
	raw, err := s.content.read(target.Digest)
	if err != nil {
		return nil, err
	}
	img := &Image{Target: target}
	if err := json.Unmarshal(raw, &img.Manifest); err != nil {
		return nil, fmt.Errorf("manifest %s: %w", target.Digest, err)
	}
	img.Target.MediaType = manifestMediaType(raw, img.Manifest)
	img.Target.Size = int64(len(raw))
	img.ID = img.Manifest.Config.Digest
	img.ConfigRaw, err = s.content.read(img.ID)
	if err != nil {
		return nil, err
	}
	cfg, err := v1.ParseConfigFile(bytes.NewReader(img.ConfigRaw))
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", img.ID, err)
	}
	img.Config = *cfg
	repoDigests := map[string]bool{}
	for _, e := range entries {
		name := entryName(e)
		if name == "" {
			continue
		}
		ref, err := ParseReference(name)
		if err != nil {
			continue
		}
		img.Names = append(img.Names, ref)
		if d := ref.Digest(); d != "" {
			repoDigests[ref.FamiliarWithDigest(d)] = true
		}
		if d := e.Annotations[annotationRepoDigest]; d != "" {
			repoDigests[ref.FamiliarWithDigest(d)] = true
		}
		if src := e.Annotations[annotationSource]; src != "" {
			img.source = src
		}
	}
	sort.Slice(img.Names, func(i, j int) bool { return img.Names[i].String() < img.Names[j].String() })
	for d := range repoDigests {
		img.RepoDigests = append(img.RepoDigests, d)
	}
	sort.Strings(img.RepoDigests)
	for i, key := range img.ChainIDs() {
		if info, err := s.snaps.Stat(key.Encoded()); err == nil {
			img.Size += info.Size
		} else if i < len(img.Manifest.Layers) {
			img.Size += img.Manifest.Layers[i].Size
		}
	}
	return img, nil
}

func manifestMediaType(raw []byte, m ocispec.Manifest) string {
	if m.MediaType != "" {
		return m.MediaType
	}
	var probe struct {
		MediaType string `json:"mediaType"`
	}
	_ = json.Unmarshal(raw, &probe)
	if probe.MediaType != "" {
		return probe.MediaType
	}
	return ocispec.MediaTypeImageManifest
}

// Get finds an image the way `docker image inspect` does: by reference
// (nginx = docker.io/library/nginx:latest), by full ID, or by an
// unambiguous ID prefix.
func (s *Store) Get(nameOrID string) (*Image, error) {
	idx, err := s.index.read()
	if err != nil {
		return nil, err
	}
	// By name, load only the image the index names (names are unique in
	// it): run and create look their image up every time, and loading
	// every image of a big store costs two reads and a parse each.
	if img := s.byName(&idx, nameOrID); img != nil {
		return img, nil
	}
	return find(s.images(&idx), nameOrID)
}

// byName is Get's fast path for a tag: the image, or nil when the index
// has no such name (Get then tries IDs and digests).
func (s *Store) byName(idx *ocispec.Index, nameOrID string) *Image {
	ref, err := ParseReference(nameOrID)
	if err != nil || ref.Digest() != "" {
		return nil
	}
	var target digest.Digest
	for _, d := range idx.Manifests {
		if entryName(d) == ref.String() {
			target = d.Digest
			break
		}
	}
	if target == "" {
		return nil
	}
	var entries []ocispec.Descriptor
	for _, d := range idx.Manifests {
		if d.Digest == target {
			entries = append(entries, d)
		}
	}
	img, err := s.load(entries)
	if err != nil {
		return nil // a damaged entry: let the full lookup decide
	}
	return img
}

func find(images []*Image, nameOrID string) (*Image, error) {
	if ref, err := ParseReference(nameOrID); err == nil {
		for _, img := range images {
			for _, n := range img.Names {
				if n.String() == ref.String() {
					return img, nil
				}
			}
			// name@digest also matches the digest the registry serves.
			if d := ref.Digest(); d != "" {
				for _, rd := range img.RepoDigests {
					if rd == ref.FamiliarWithDigest(d) {
						return img, nil
					}
				}
			}
		}
	}
	id := strings.TrimPrefix(nameOrID, "sha256:")
	if len(id) >= 1 && isHex(id) && len(id) <= 64 {
		var match *Image
		for _, img := range images {
			if strings.HasPrefix(img.ID.Encoded(), id) {
				if match != nil && match.ID != img.ID {
					return nil, fmt.Errorf("%w: %s: ambiguous image ID prefix", ErrNotFound, nameOrID)
				}
				match = img
			}
		}
		if match != nil {
			return match, nil
		}
	}
	return nil, fmt.Errorf("%w: %s", ErrNotFound, nameOrID)
}

func isHex(s string) bool {
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return true
}
