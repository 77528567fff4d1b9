package container

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

func TestFrames(t *testing.T) {
	var b bytes.Buffer
	for _, f := range []struct {
		id byte
		p  string
	}{{StreamStdout, "hello"}, {StreamStdin, ""}, {StreamExit, string(ExitFrame(3))}} {
		if err := WriteFrame(&b, f.id, []byte(f.p)); err != nil {
			t.Fatal(err)
		}
	}
	buf := make([]byte, 2)
	for _, want := range []struct {
		id byte
		p  string
	}{{StreamStdout, "hello"}, {StreamStdin, ""}, {StreamExit, `{"exitCode":3}`}} {
		id, p, err := ReadFrame(&b, buf)
		if err != nil || id != want.id || string(p) != want.p {
			t.Errorf("frame %d %q %v, want %d %q", id, p, err, want.id, want.p)
		}
	}
	if _, _, err := ReadFrame(&b, buf); err != io.EOF {
		t.Errorf("at the end: %v", err)
	}
	// A truncated payload and an absurd length are errors.
	trunc := AppendFrame(nil, StreamStdout, []byte("abcdef"))[:8]
	if _, _, err := ReadFrame(bytes.NewReader(trunc), nil); err != io.ErrUnexpectedEOF {
		t.Errorf("truncated: %v", err)
	}
	if _, _, err := ReadFrame(bytes.NewReader([]byte{1, 0xff, 0xff, 0xff, 0xff}), nil); !errors.Is(err, ErrFrameTooLarge) {
		t.Errorf("huge: %v", err)
	}
}
