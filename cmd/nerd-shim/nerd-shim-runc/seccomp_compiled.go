//go:build nerd_compiled_seccomp

package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/seccomp"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// Compiling Docker's default profile with libseccomp is ~20 ms of CPU, a
// quarter of a container's start, and the same profile is compiled again
// for every start and exec. libcontainer as nerd builds it (see
// third_party/runc/compiled-seccomp.patch) lets the init process load a
// program compiled beforehand; the helper keeps each compiled program in a
// cache on tmpfs, keyed by everything the program depends on.

// cacheMagic starts every cache file; bump it when the format changes.
const cacheMagic = "nerd-seccomp-v1\n"

// precompileSeccomp sets cfg.Seccomp.Compiled from the cache in dir, or
// compiles it there. It never fails a start: on any trouble the init
// process compiles the profile itself, as runc does.
func precompileSeccomp(cfg *configs.Config, dir string) {
	sc := cfg.Seccomp
	if sc == nil || len(sc.Compiled) > 0 || sc.ListenerPath != "" || usesNotify(sc) {
		return
	}
	key, err := seccompCacheKey(sc)
	if err != nil {
		return
	}
	file := filepath.Join(dir, key)
	if prog, flags, err := readCompiled(file); err == nil {
		sc.Compiled, sc.CompiledFlags = prog, flags
		return
	}
	prog, flags, err := seccomp.Compile(sc)
	if err != nil {
		return // the init process reports the error
	}
	sc.Compiled, sc.CompiledFlags = prog, flags
	_ = writeCompiled(dir, file, prog, flags)
}

// usesNotify: a listener fd is made at load time; never cache those.
func usesNotify(sc *configs.Seccomp) bool {
	for _, c := range sc.Syscalls {
		if c != nil && c.Action == configs.Notify {
			return true
		}
	}
	return false
}

// seccompCacheKey hashes the profile with what else shapes the program:
// libseccomp's version and API level (which the kernel's features decide),
// the kernel, and this very helper (libcontainer and its patch are linked
// in: a reinstalled helper, even of the same runc version, gets new keys).
func seccompCacheKey(sc *configs.Seccomp) (string, error) {
	profile, err := json.Marshal(sc)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	maj, min, mic := libseccomp.GetLibraryVersion()
	api, _ := libseccomp.GetAPI()
	var uts unix.Utsname
	_ = unix.Uname(&uts)
	fmt.Fprintf(h, "%s%d.%d.%d api %d\n%s %s\n%s\n", cacheMagic, maj, min, mic, api,
		unix.ByteSliceToString(uts.Release[:]), unix.ByteSliceToString(uts.Machine[:]), helperIdentity())
	h.Write(profile)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// helperIdentity is this executable's size and modification time.
func helperIdentity() string {
	fi, err := os.Stat("/proc/self/exe")
	if err != nil {
		return "unknown"
	}
	return fmt.Sprintf("%d %d", fi.Size(), fi.ModTime().UnixNano())
}

// A cache file is cacheMagic, the load flags (8 bytes), the SHA-256 of the
// program, and the program; a file that does not check out is ignored.
func readCompiled(file string) ([]byte, uint, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, 0, err
	}
	head := len(cacheMagic) + 8 + sha256.Size
	if len(data) <= head || !bytes.HasPrefix(data, []byte(cacheMagic)) {
		return nil, 0, errors.New("not a compiled seccomp filter")
	}
	flags := binary.LittleEndian.Uint64(data[len(cacheMagic):])
	sum := data[len(cacheMagic)+8 : head]
	prog := data[head:]
	if got := sha256.Sum256(prog); !bytes.Equal(got[:], sum) {
		return nil, 0, errors.New("compiled seccomp filter is damaged")
	}
	return prog, uint(flags), nil
}

func writeCompiled(dir, file string, prog []byte, flags uint) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	sum := sha256.Sum256(prog)
	data := make([]byte, 0, len(cacheMagic)+8+len(sum)+len(prog))
	data = append(data, cacheMagic...)
	data = binary.LittleEndian.AppendUint64(data, uint64(flags))
	data = append(append(data, sum[:]...), prog...)
	tmp, err := os.CreateTemp(dir, ".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	// tmpfs: a rename is enough, nothing to fsync.
	return os.Rename(tmp.Name(), file)
}
