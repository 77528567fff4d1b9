package image

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// CommitLayer makes a new image of parent plus one layer (docker commit).
// layer is an uncompressed OCI layer tar (deletions as .wh. entries); it
// is gzip-compressed into a blob and unpacked into a snapshot through the
// same path as a pulled layer. The new config is parent's with cfg as its
// runtime config, history appended (its Created and Author also date and
// sign the image) and the layer's diff ID added. The image gets name, or
// stays a dangling <none> when name is nil.
func (s *Store) CommitLayer(ctx context.Context, parent *Image, layer io.Reader, cfg v1.Config, history v1.History, name *Reference) (*Image, error) {
	if parent == nil {
		return nil, errors.New("commit: no parent image")
	}
	if len(parent.Config.RootFS.DiffIDs) != len(parent.Manifest.Layers) {
		return nil, fmt.Errorf("image %s lists %d layers in its config and %d in its manifest", shortID(parent.ID), len(parent.Config.RootFS.DiffIDs), len(parent.Manifest.Layers))
	}
	spool, release, err := s.ingestSpool("commit-*.tar.gz")
	if err != nil {
		return nil, err
	}
	defer release()
	diffID, blobDigest, size, err := compressLayer(spool, layer)
	if err != nil {
		return nil, err
	}

	// The new manifest keeps the parent's flavour: a registry may refuse
	// Docker and OCI media types mixed in one manifest.
	docker := parent.Target.MediaType == string(types.DockerManifestSchema2)
	layerType, configType, manifestType := string(types.OCILayer), string(types.OCIConfigJSON), string(types.OCIManifestSchema1)
	if docker {
		layerType, configType, manifestType = string(types.DockerLayer), string(types.DockerConfigJSON), string(types.DockerManifestSchema2)
	}
	newLayer := ocispec.Descriptor{MediaType: layerType, Digest: blobDigest, Size: size}

	sources := make([]layerSource, 0, len(parent.Manifest.Layers)+1)
	for i, l := range parent.Manifest.Layers {
		l := l
		sources = append(sources, layerSource{desc: l, diffID: digest.Digest(parent.Config.RootFS.DiffIDs[i].String()),
			open: func() (io.ReadCloser, error) {
				return nil, fmt.Errorf("layer %s of image %s is missing from the store", l.Digest, shortID(parent.ID))
			}})
	}
	sources = append(sources, layerSource{desc: newLayer, diffID: diffID, open: func() (io.ReadCloser, error) {
		return os.Open(spool.Name())
	}})
	if _, err := s.unpackLayers(ctx, sources, 1, func(jsonstream.Message) {}); err != nil {
		return nil, err
	}

	var cf v1.ConfigFile
	if err := json.Unmarshal(parent.ConfigRaw, &cf); err != nil {
		return nil, fmt.Errorf("config %s: %w", parent.ID, err)
	}
	if history.Created.IsZero() {
		history.Created = v1.Time{Time: time.Now().UTC()}
	}
	cf.Config = cfg
	cf.Created = history.Created
	cf.Author = history.Author
	cf.History = append(cf.History, history)
	h, err := v1.NewHash(diffID.String())
	if err != nil {
		return nil, err
	}
	if cf.RootFS.Type == "" {
		cf.RootFS.Type = "layers"
	}
	cf.RootFS.DiffIDs = append(cf.RootFS.DiffIDs, h)
	rawConfig, err := json.Marshal(cf)
	if err != nil {
		return nil, err
	}
	configDigest, err := s.content.put(rawConfig)
	if err != nil {
		return nil, err
	}
	manifest := ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: manifestType,
		Config:    ocispec.Descriptor{MediaType: configType, Digest: configDigest, Size: int64(len(rawConfig))},
		Layers:    append(append([]ocispec.Descriptor{}, parent.Manifest.Layers...), newLayer),
	}
	rawManifest, err := json.Marshal(manifest)
	if err != nil {
		return nil, err
	}
	manifestDigest, err := s.content.put(rawManifest)
	if err != nil {
		return nil, err
	}
	if err := syncfs(s.content.root); err != nil {
		return nil, err
	}
	target := ocispec.Descriptor{
		MediaType: manifestType, Digest: manifestDigest, Size: int64(len(rawManifest)),
		Platform: &ocispec.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant},
	}
	err = s.index.update(func(idx *ocispec.Index) error {
		if name == nil {
			addDangling(idx, target)
			return nil
		}
		setName(idx, name.String(), target, nil)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.Get(configDigest.String())
}

// compressLayer gzips the tar stream r into f and returns the digest of
// the tar (the diff ID), the digest and the size of the compressed blob.
func compressLayer(f *os.File, r io.Reader) (diffID, blob digest.Digest, size int64, err error) {
	blobHash := sha256.New()
	bw := bufio.NewWriterSize(f, 1<<20)
	counter := &countWriter{w: io.MultiWriter(bw, blobHash)}
	zw, err := gzip.NewWriterLevel(counter, gzip.DefaultCompression)
	if err != nil {
		return "", "", 0, err
	}
	diffHash := sha256.New()
	if _, err := io.CopyBuffer(io.MultiWriter(zw, diffHash), r, make([]byte, 1<<20)); err != nil {
		return "", "", 0, fmt.Errorf("writing layer: %w", err)
	}
	if err := zw.Close(); err != nil {
		return "", "", 0, err
	}
	if err := bw.Flush(); err != nil {
		return "", "", 0, err
	}
	diffID = digest.NewDigestFromEncoded(digest.SHA256, hex.EncodeToString(diffHash.Sum(nil)))
	blob = digest.NewDigestFromEncoded(digest.SHA256, hex.EncodeToString(blobHash.Sum(nil)))
	return diffID, blob, counter.n, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
