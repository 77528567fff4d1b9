package logging

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
)

// chunk is what a container writing 100-byte lines hands the monitor in
// 4 KiB reads; lines straddle the chunks like they do in a pipe.
func benchChunk() []byte {
	var lines bytes.Buffer
	for lines.Len() < 2*4096 {
		lines.WriteString(strings.Repeat("0123456789", 9) + "abcdefghi\n")
	}
	return lines.Bytes()[:4096]
}

// BenchmarkWriter measures the monitor's logging throughput in input bytes
// per second. For the 200 MB log test: go test -run '^$'
// -bench Writer -benchtime 48828x ./pkg/logging (longer runs write GBs and
// end up measuring the disk's writeback instead).
func BenchmarkWriter(b *testing.B) {
	w, err := NewWriter(filepath.Join(b.TempDir(), "c-json.log"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	out, chunk := w.Stream("stdout"), benchChunk()
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	for b.Loop() {
		out.Write(chunk)
	}
}

// BenchmarkWriterRotating is BenchmarkWriter with Docker-like rotation
// (max-size=10m, max-file=3).
func BenchmarkWriterRotating(b *testing.B) {
	w, err := NewWriter(filepath.Join(b.TempDir(), "c-json.log"), Options{MaxSize: 10_000_000, MaxFiles: 3})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	out, chunk := w.Stream("stdout"), benchChunk()
	b.SetBytes(int64(len(chunk)))
	for b.Loop() {
		out.Write(chunk)
	}
}

// BenchmarkRead measures `logs` over a 64 MiB log, in logged bytes per
// second.
func BenchmarkRead(b *testing.B) {
	path := filepath.Join(b.TempDir(), "c-json.log")
	w, err := NewWriter(path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	out, chunk := w.Stream("stdout"), benchChunk()
	const total = 64 << 20
	for n := 0; n < total; n += len(chunk) {
		out.Write(chunk)
	}
	w.Close()
	b.SetBytes(total)
	for b.Loop() {
		if err := Read(context.Background(), path, ReadOptions{Tail: -1}, io.Discard, io.Discard, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncode is the CPU part of BenchmarkWriter: splitting and
// encoding without the write system call.
func BenchmarkEncode(b *testing.B) {
	chunk := benchChunk()
	var buf []byte
	b.SetBytes(int64(len(chunk)))
	ts := []byte("2024-01-02T03:04:05.123456789Z")
	for b.Loop() {
		buf = buf[:0]
		for p := chunk; len(p) > 0; {
			i := bytes.IndexByte(p, '\n')
			if i < 0 {
				break
			}
			buf = appendEntry(buf, p[:i], true, "stdout", ts)
			p = p[i+1:]
		}
	}
}
