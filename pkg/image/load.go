package image

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ErrNotArchive is wrapped when load's input is not an image archive.
var ErrNotArchive = errors.New("not an image archive")

// Loaded is one image a load stored: its names, or its ID when it had none.
type Loaded struct {
	Names []Reference
	ID    digest.Digest
}

// Load reads a `docker save` archive or an OCI image-layout archive.
func (s *Store) Load(ctx context.Context, r io.Reader, progress func(jsonstream.Message)) ([]Loaded, error) {
	if progress == nil {
		progress = func(jsonstream.Message) {}
	}
	// The archive is spooled to disk: tar members are not in an order that
	// allows a single streaming pass (manifest.json usually comes last).
	spool, release, err := s.ingestSpool("load-*.tar")
	if err != nil {
		return nil, err
	}
	defer release()
	if _, err := io.Copy(spool, r); err != nil {
		return nil, fmt.Errorf("reading archive: %w", err)
	}
	members, err := tarMembers(spool)
	if err != nil {
		return nil, err
	}
	switch {
	case members["manifest.json"]:
		return s.loadDocker(ctx, spool, progress)
	case members["oci-layout"] && members["index.json"]:
		return s.loadOCI(ctx, spool, progress)
	}
	return nil, fmt.Errorf("%w: no manifest.json or oci-layout found", ErrNotArchive)
}

// tarMembers lists the regular files of a tar archive.
func tarMembers(f *os.File) (map[string]bool, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	out := map[string]bool{}
	tr := tar.NewReader(bufio.NewReader(f))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrNotArchive, err)
		}
		out[path.Clean(h.Name)] = true
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: empty archive", ErrNotArchive)
	}
	return out, nil
}

// openMember returns a reader positioned at member name of the tar file.
func openMember(f *os.File, name string) (io.Reader, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	tr := tar.NewReader(bufio.NewReaderSize(f, 1<<20))
	want := path.Clean(name)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, fmt.Errorf("%w: %s missing from archive", ErrNotArchive, name)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrNotArchive, err)
		}
		if path.Clean(h.Name) == want {
			return tr, nil
		}
	}
}

// dockerArchiveEntry is one element of a docker save manifest.json.
type dockerArchiveEntry struct {
	Config   string
	RepoTags []string
	Layers   []string
}

func (s *Store) loadDocker(ctx context.Context, f *os.File, progress func(jsonstream.Message)) ([]Loaded, error) {
	mr, err := openMember(f, "manifest.json")
	if err != nil {
		return nil, err
	}
	var entries []dockerArchiveEntry
	if err := json.NewDecoder(mr).Decode(&entries); err != nil {
		return nil, fmt.Errorf("%w: manifest.json: %v", ErrNotArchive, err)
	}
	var out []Loaded
	for _, e := range entries {
		target, err := s.loadDockerEntry(ctx, f, e, progress)
		if err != nil {
			return out, err
		}
		var names []Reference
		for _, t := range e.RepoTags {
			ref, err := ParseReference(t)
			if err != nil {
				return out, fmt.Errorf("archive tag %q: %w", t, err)
			}
			names = append(names, ref)
		}
		loaded, err := s.nameLoaded(target, names)
		if err != nil {
			return out, err
		}
		out = append(out, loaded)
	}
	return out, nil
}

// blobInfo hashes a member once to learn its digest, size and compression.
func blobInfo(f *os.File, name string) (digest.Digest, int64, string, error) {
	r, err := openMember(f, name)
	if err != nil {
		return "", 0, "", err
	}
	h := sha256.New()
	br := bufio.NewReader(r)
	magic, _ := br.Peek(4)
	n, err := io.Copy(h, br)
	if err != nil {
		return "", 0, "", err
	}
	mt := string(types.DockerUncompressedLayer)
	switch {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		mt = string(types.DockerLayer)
	case len(magic) >= 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd:
		mt = string(types.OCILayerZStd)
	}
	return digest.NewDigestFromEncoded(digest.SHA256, hex.EncodeToString(h.Sum(nil))), n, mt, nil
}

func (s *Store) loadDockerEntry(ctx context.Context, f *os.File, e dockerArchiveEntry, progress func(jsonstream.Message)) (ocispec.Descriptor, error) {
	cr, err := openMember(f, e.Config)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	rawConfig, err := io.ReadAll(cr)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	var cfg struct {
		RootFS struct {
			DiffIDs []digest.Digest `json:"diff_ids"`
		} `json:"rootfs"`
		OS           string `json:"os"`
		Architecture string `json:"architecture"`
		Variant      string `json:"variant"`
	}
	if err := json.Unmarshal(rawConfig, &cfg); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("%w: config %s: %v", ErrNotArchive, e.Config, err)
	}
	if len(cfg.RootFS.DiffIDs) != len(e.Layers) {
		return ocispec.Descriptor{}, fmt.Errorf("%w: config lists %d layers, manifest.json %d", ErrNotArchive, len(cfg.RootFS.DiffIDs), len(e.Layers))
	}
	manifest := ocispec.Manifest{
		MediaType: string(types.DockerManifestSchema2),
		Config:    ocispec.Descriptor{MediaType: string(types.DockerConfigJSON), Digest: digest.FromBytes(rawConfig), Size: int64(len(rawConfig))},
	}
	manifest.SchemaVersion = 2
	sources := make([]layerSource, len(e.Layers))
	for i, member := range e.Layers {
		d, size, mt, err := blobInfo(f, member)
		if err != nil {
			return ocispec.Descriptor{}, err
		}
		desc := ocispec.Descriptor{MediaType: mt, Digest: d, Size: size}
		manifest.Layers = append(manifest.Layers, desc)
		member := member
		sources[i] = layerSource{desc: desc, diffID: cfg.RootFS.DiffIDs[i], open: func() (io.ReadCloser, error) {
			r, err := openMember(f, member)
			return io.NopCloser(r), err
		}}
	}
	// Layers of one archive share the spool file, so they go one at a time.
	if _, err := s.unpackLayers(ctx, sources, 1, progress); err != nil {
		return ocispec.Descriptor{}, err
	}
	if _, err := s.content.put(rawConfig); err != nil {
		return ocispec.Descriptor{}, err
	}
	rawManifest, err := json.Marshal(manifest)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	md, err := s.content.put(rawManifest)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if err := syncfs(s.content.root); err != nil {
		return ocispec.Descriptor{}, err
	}
	return ocispec.Descriptor{
		MediaType: manifest.MediaType, Digest: md, Size: int64(len(rawManifest)),
		Platform: &ocispec.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant},
	}, nil
}

// nameLoaded records a loaded image under its names (or as dangling).
func (s *Store) nameLoaded(target ocispec.Descriptor, names []Reference) (Loaded, error) {
	err := s.index.update(func(idx *ocispec.Index) error {
		if len(names) == 0 {
			addDangling(idx, target)
		}
		for _, n := range names {
			setName(idx, n.String(), target, nil)
		}
		return nil
	})
	if err != nil {
		return Loaded{}, err
	}
	raw, err := s.content.read(target.Digest)
	if err != nil {
		return Loaded{}, err
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return Loaded{}, err
	}
	return Loaded{Names: names, ID: m.Config.Digest}, nil
}

// loadOCI imports every image of an OCI image-layout archive.
func (s *Store) loadOCI(ctx context.Context, f *os.File, progress func(jsonstream.Message)) ([]Loaded, error) {
	dir, err := os.MkdirTemp(s.content.ingestDir(), "oci-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := extractPlain(f, dir); err != nil {
		return nil, err
	}
	lp, err := layout.FromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotArchive, err)
	}
	ii, err := lp.ImageIndex()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotArchive, err)
	}
	im, err := ii.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotArchive, err)
	}
	var out []Loaded
	for _, desc := range im.Manifests {
		img, err := ii.Image(desc.Digest)
		if desc.MediaType.IsIndex() {
			child, cerr := ii.ImageIndex(desc.Digest)
			if cerr != nil {
				return out, cerr
			}
			h, perr := pickPlatform(child, HostPlatform())
			if perr != nil {
				return out, perr
			}
			img, err = child.Image(h)
		}
		if err != nil {
			return out, fmt.Errorf("%w: %v", ErrNotArchive, err)
		}
		stored, err := s.storeImage(ctx, img, 1, progress)
		if err != nil {
			return out, err
		}
		var names []Reference
		for _, key := range []string{AnnotationImageName, ocispec.AnnotationRefName} {
			if v := desc.Annotations[key]; v != "" {
				if ref, err := ParseReference(v); err == nil && strings.Contains(v, ":") {
					names = append(names, ref)
					break
				}
			}
		}
		loaded, err := s.nameLoaded(stored.target, names)
		if err != nil {
			return out, err
		}
		out = append(out, loaded)
	}
	return out, nil
}

// extractPlain unpacks an OCI layout archive: only directories and regular
// files, and nothing outside dir.
func extractPlain(f *os.File, dir string) error {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	tr := tar.NewReader(bufio.NewReaderSize(f, 1<<20))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: %v", ErrNotArchive, err)
		}
		clean := path.Clean("/" + h.Name)
		if clean == "/" {
			continue
		}
		target := filepath.Join(dir, filepath.FromSlash(clean))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			out, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
			if err != nil {
				return err
			}
			_, err = io.Copy(out, tr)
			out.Close()
			if err != nil {
				return err
			}
		default:
			return fmt.Errorf("%w: unexpected entry %q in OCI archive", ErrNotArchive, h.Name)
		}
	}
}
