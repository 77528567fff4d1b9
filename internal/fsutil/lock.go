package fsutil

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// ErrLocked is returned by TryLock when another process holds the lock.
var ErrLocked = errors.New("lock is held by another process")

// Lock is an flock(2) on a lock file. The kernel drops it when the holder
// dies, so a kill -9 never leaves a stale lock behind.
type Lock struct {
	f *os.File
}

func openLock(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening lock %s: %w", path, err)
	}
	return f, nil
}

func lock(path string, how int) (*Lock, error) {
	f, err := openLock(path)
	if err != nil {
		return nil, err
	}
	for {
		err = unix.Flock(int(f.Fd()), how)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, ErrLocked
		}
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return &Lock{f: f}, nil
}

// LockExclusive blocks until it holds path exclusively.
func LockExclusive(path string) (*Lock, error) { return lock(path, unix.LOCK_EX) }

// LockShared blocks until it holds path shared with other readers.
func LockShared(path string) (*Lock, error) { return lock(path, unix.LOCK_SH) }

// TryLockExclusive takes path exclusively or returns ErrLocked at once.
func TryLockExclusive(path string) (*Lock, error) { return lock(path, unix.LOCK_EX|unix.LOCK_NB) }

// Unlock releases the lock; it is safe on a nil Lock.
func (l *Lock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
