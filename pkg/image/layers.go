package image

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/moby/moby/api/types/jsonstream"
	"github.com/nerd-project/nerd/internal/fsutil"
	"github.com/nerd-project/nerd/pkg/snapshot"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"
)

// layerSource is one layer to store: its descriptor, the DiffID the config
// promises, and how to open its (possibly compressed) bytes.
type layerSource struct {
	desc   ocispec.Descriptor
	diffID digest.Digest
	open   func() (io.ReadCloser, error)
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

func syncfs(path string) error { return fsutil.Syncfs(path) }

func shortID(d digest.Digest) string {
	e := d.Encoded()
	if len(e) > 12 {
		return e[:12]
	}
	return e
}

// unpackLayers downloads up to jobs layers at once; each stream is hashed
// into the blob store and unpacked into a staging snapshot at the same time,
// so nothing is read twice. Snapshots are committed bottom-up, because a
// hardlink may point into a lower layer. It reports whether anything had to
// be fetched.
func (s *Store) unpackLayers(ctx context.Context, layers []layerSource, jobs int, progress func(jsonstream.Message)) (bool, error) {
	keys := make([]digest.Digest, len(layers))
	var parent digest.Digest
	for i, l := range layers {
		if i == 0 {
			parent = l.diffID
		} else {
			parent = digest.FromString(parent.String() + " " + l.diffID.String())
		}
		keys[i] = parent
	}
	needed := make([]bool, len(layers))
	var fetched bool
	for i, l := range layers {
		id := shortID(l.desc.Digest)
		if s.snaps.Exists(keys[i].Encoded()) && s.content.has(l.desc.Digest) {
			progress(jsonstream.Message{ID: id, Status: "Already exists"})
			continue
		}
		needed[i], fetched = true, true
		progress(jsonstream.Message{ID: id, Status: "Pulling fs layer"})
	}
	committed := make([]chan struct{}, len(layers))
	for i := range committed {
		committed[i] = make(chan struct{})
	}
	g, gctx := errgroup.WithContext(ctx)
	sem := make(chan struct{}, jobs)
	for i := range layers {
		if !needed[i] {
			close(committed[i])
			continue
		}
		if i >= jobs {
			progress(jsonstream.Message{ID: shortID(layers[i].desc.Digest), Status: "Waiting"})
		}
		g.Go(func() error {
			select {
			case sem <- struct{}{}:
			case <-gctx.Done():
				return gctx.Err()
			}
			released := false
			release := func() {
				if !released {
					<-sem
					released = true
				}
			}
			defer release()
			var parents []string
			for j := i - 1; j >= 0; j-- {
				parents = append(parents, keys[j].Encoded())
			}
			var wait <-chan struct{}
			if i > 0 {
				wait = committed[i-1]
			}
			err := s.fetchLayer(gctx, layers[i], keys[i].Encoded(), parents, wait, release, progress)
			if err != nil {
				return fmt.Errorf("layer %s: %w", layers[i].desc.Digest, err)
			}
			close(committed[i])
			return nil
		})
	}
	return fetched, g.Wait()
}

// fetchLayer streams one layer into the blob store and a snapshot. It waits
// for the layer below (wait) before committing, and gives its download slot
// back (release) as soon as the bytes are in.
func (s *Store) fetchLayer(ctx context.Context, l layerSource, key string, parents []string, wait <-chan struct{}, release func(), progress func(jsonstream.Message)) error {
	id := shortID(l.desc.Digest)
	rc, err := l.open()
	if err != nil {
		return err
	}
	defer rc.Close()

	var blob *blobWriter
	var sink io.Writer = io.Discard
	if !s.content.has(l.desc.Digest) {
		blob, err = s.content.writer(l.desc.Digest)
		if err != nil {
			return err
		}
		defer blob.Abort()
		sink = blob
	}
	counter := &progressReader{r: rc, total: l.desc.Size, report: func(cur, total int64) {
		progress(jsonstream.Message{ID: id, Status: "Downloading", Progress: &jsonstream.Progress{Current: cur, Total: total}})
	}}
	// Three stages run in parallel: this goroutine reads the network,
	// hashes and writes the blob; the unpacker's read-ahead inflates and
	// hashes the tar; the unpacker writes files. On a big gzip layer the
	// inflate is the floor, so nothing else may wait behind it.
	pr, pw := io.Pipe()
	copied := make(chan error, 1)
	go func() {
		buf := make([]byte, 1<<20)
		_, err := io.CopyBuffer(io.MultiWriter(sink, pw), counter, buf)
		pw.CloseWithError(err)
		copied <- err
	}()
	var stream io.Reader = pr
	defer func() {
		// Unblock and wait for the copier before the deferred blob abort.
		pr.CloseWithError(errors.New("layer fetch ended"))
		<-copied
	}()

	unpack := !s.snaps.Exists(key)
	var diffID digest.Digest
	var staging *snapshot.Staging
	if unpack {
		st, err := s.snaps.Prepare()
		if err != nil {
			return err
		}
		staging = st
		defer st.Abort()
		res, err := st.Apply(ctx, stream)
		if err != nil {
			return err
		}
		diffID = res.DiffID
	}
	// Drain whatever the unpacker did not need (or everything, when only
	// the blob was missing) so the digest covers every byte.
	if _, err := io.Copy(io.Discard, stream); err != nil {
		return err
	}
	if err := <-copied; err != nil {
		return err
	}
	copied <- nil // for the deferred wait
	counter.flush()
	if blob != nil {
		if err := blob.Commit(); err != nil {
			return err
		}
	}
	progress(jsonstream.Message{ID: id, Status: "Download complete"})
	release()
	if unpack {
		if diffID != l.diffID {
			return fmt.Errorf("%w: layer content %s does not match the config's diff ID %s", ErrDigestMismatch, diffID, l.diffID)
		}
		if wait != nil {
			select {
			case <-wait:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		progress(jsonstream.Message{ID: id, Status: "Extracting"})
		if err := staging.Commit(ctx, key, diffID, parents); err != nil {
			return err
		}
	}
	progress(jsonstream.Message{ID: id, Status: "Pull complete"})
	return nil
}

// progressReader counts bytes and reports at most every 100 ms.
type progressReader struct {
	r      io.Reader
	n      atomic.Int64
	total  int64
	last   time.Time
	report func(cur, total int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	cur := p.n.Add(int64(n))
	if now := time.Now(); now.Sub(p.last) > 100*time.Millisecond {
		p.last = now
		p.report(cur, p.total)
	}
	return n, err
}

func (p *progressReader) flush() { p.report(p.n.Load(), p.total) }
