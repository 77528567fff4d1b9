package snapshot

import (
	"io"
	"sync"
)

// readAhead runs decompression (and DiffID hashing) in one goroutine per
// layer, a few buffers ahead of the unpacker, so inflating overlaps with the
// file-creation syscalls that dominate unpacking — the overlap `tar -xz` gets
// from its separate gzip process.
//
// The producer owns src and everything behind it (decompressor, hasher,
// the caller's reader). Close waits for it, so once Apply returns nothing
// reads the caller's stream any more.
type readAhead struct {
	chunks chan chunk
	free   chan []byte
	done   chan struct{}
	wg     sync.WaitGroup
	once   sync.Once

	cur    []byte // unread part of the current chunk
	curBuf []byte // whole buffer of the current chunk, returned to free when used up
	err    error  // sticky error from the producer, returned after the data before it
}

type chunk struct {
	buf []byte
	n   int
	err error
}

// newReadAhead starts reading src with n buffers of size bytes. finish runs
// in the producer once src is done with, before the final error is handed
// over, so after reading an error or EOF the consumer may use whatever src
// fed (e.g. the hash). eof tells whether src ended cleanly; an error finish
// returns then replaces io.EOF.
func newReadAhead(src io.Reader, n, size int, finish func(eof bool) error) *readAhead {
	ra := &readAhead{
		chunks: make(chan chunk, n),
		free:   make(chan []byte, n),
		done:   make(chan struct{}),
	}
	for i := 0; i < n; i++ {
		ra.free <- make([]byte, size)
	}
	ra.wg.Add(1)
	go ra.run(src, finish)
	return ra
}

func (ra *readAhead) run(src io.Reader, finish func(eof bool) error) {
	defer ra.wg.Done()
	finished := false
	defer func() {
		if !finished {
			finish(false)
		}
	}()
	for {
		var buf []byte
		select {
		case buf = <-ra.free:
		case <-ra.done:
			return
		}
		// Fill the whole buffer so the consumer gets few, large chunks.
		n := 0
		var err error
		for n < len(buf) && err == nil {
			var m int
			m, err = src.Read(buf[n:])
			n += m
		}
		if err != nil {
			finished = true
			if ferr := finish(err == io.EOF); ferr != nil && err == io.EOF {
				err = ferr
			}
		}
		select {
		case ra.chunks <- chunk{buf, n, err}:
		case <-ra.done:
			return
		}
		if err != nil {
			return
		}
	}
}

func (ra *readAhead) Read(p []byte) (int, error) {
	for len(ra.cur) == 0 {
		if ra.curBuf != nil {
			ra.free <- ra.curBuf // capacity n: never blocks
			ra.curBuf = nil
		}
		if ra.err != nil {
			return 0, ra.err
		}
		c := <-ra.chunks
		ra.curBuf, ra.cur, ra.err = c.buf, c.buf[:c.n], c.err
	}
	n := copy(p, ra.cur)
	ra.cur = ra.cur[n:]
	return n, nil
}

// Close stops the producer and waits for it to let go of src.
func (ra *readAhead) Close() {
	ra.once.Do(func() { close(ra.done) })
	ra.wg.Wait()
}
