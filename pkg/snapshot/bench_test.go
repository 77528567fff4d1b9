package snapshot

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkApplyCommit unpacks and commits a real layer blob named by
// $NERD_SNAPSHOT_BENCH_LAYER (gzip, zstd or plain tar), e.g. one exported
// from an image, to compare against `tar -x` and podman on the same machine.
func BenchmarkApplyCommit(b *testing.B) {
	blob := os.Getenv("NERD_SNAPSHOT_BENCH_LAYER")
	if blob == "" {
		b.Skip("set NERD_SNAPSHOT_BENCH_LAYER to a layer blob")
	}
	fi, err := os.Stat(blob)
	if err != nil {
		b.Fatal(err)
	}
	s, err := Open(filepath.Join(b.TempDir(), "store"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(fi.Size())
	for i := 0; b.Loop(); i++ {
		f, err := os.Open(blob)
		if err != nil {
			b.Fatal(err)
		}
		st, err := s.Prepare()
		if err != nil {
			b.Fatal(err)
		}
		res, err := st.Apply(context.Background(), bufio.NewReader(f))
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		if err := st.Commit(context.Background(), key(i+1), res.DiffID, nil); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := s.Remove(key(i + 1)); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
