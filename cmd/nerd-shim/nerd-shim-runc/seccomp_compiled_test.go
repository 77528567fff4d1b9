//go:build nerd_compiled_seccomp

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/seccomp"
	"golang.org/x/sys/unix"
)

// denyMkdir is a small profile: everything allowed but mkdir/mkdirat (EPERM).
func denyMkdir() *configs.Config {
	return &configs.Config{Seccomp: &configs.Seccomp{
		DefaultAction: configs.Allow,
		Architectures: []string{"amd64"},
		Syscalls: []*configs.Syscall{
			{Name: "mkdir", Action: configs.Errno},
			{Name: "mkdirat", Action: configs.Errno},
		},
	}}
}

func TestPrecompileSeccompCachesByProfile(t *testing.T) {
	dir := t.TempDir()
	a := denyMkdir()
	precompileSeccomp(a, dir)
	if len(a.Seccomp.Compiled) == 0 || len(a.Seccomp.Compiled)%8 != 0 {
		t.Fatalf("compiled program of %d bytes", len(a.Seccomp.Compiled))
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) != 1 {
		t.Fatalf("cache holds %v, want one file", files)
	}

	// A second start reads the cache: prove it by planting another valid
	// program under the same key.
	planted := append([]byte(nil), a.Seccomp.Compiled...)
	planted[0] ^= 0xff
	if err := writeCompiled(dir, files[0], planted, a.Seccomp.CompiledFlags); err != nil {
		t.Fatal(err)
	}
	b := denyMkdir()
	precompileSeccomp(b, dir)
	if string(b.Seccomp.Compiled) != string(planted) {
		t.Fatal("second start compiled again instead of reading the cache")
	}

	// A damaged file is not loaded: the program is compiled again.
	data, _ := os.ReadFile(files[0])
	data[len(data)-1] ^= 1
	if err := os.WriteFile(files[0], data, 0o600); err != nil {
		t.Fatal(err)
	}
	c := denyMkdir()
	precompileSeccomp(c, dir)
	if string(c.Seccomp.Compiled) != string(a.Seccomp.Compiled) {
		t.Fatal("a damaged cache file was used")
	}

	// Another profile has another key.
	d := denyMkdir()
	d.Seccomp.Syscalls = d.Seccomp.Syscalls[:1]
	precompileSeccomp(d, dir)
	if files, _ := filepath.Glob(filepath.Join(dir, "*")); len(files) != 2 {
		t.Fatalf("cache holds %v, want two files", files)
	}
}

// TestCompiledFilterEnforced loads a compiled program the way the
// container's init does (InitSeccomp with Compiled set), in a child
// process, and checks that it denies what the profile denies.
func TestCompiledFilterEnforced(t *testing.T) {
	if os.Getenv("NERD_SECCOMP_CHILD") == "1" {
		cfg := denyMkdir()
		prog, flags, err := seccomp.Compile(cfg.Seccomp)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Seccomp.Compiled, cfg.Seccomp.CompiledFlags = prog, flags
		runtime.LockOSThread()
		if _, err := seccomp.InitSeccomp(cfg.Seccomp); err != nil {
			t.Fatal(err)
		}
		err = unix.Mkdirat(unix.AT_FDCWD, filepath.Join(os.Getenv("NERD_SECCOMP_DIR"), "x"), 0o755)
		if err != unix.EPERM {
			t.Fatalf("mkdirat under the filter: %v, want EPERM", err)
		}
		if _, err := unix.Getcwd(make([]byte, 256)); err != nil {
			t.Fatalf("getcwd under the filter: %v", err)
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCompiledFilterEnforced$", "-test.v")
	cmd.Env = append(os.Environ(), "NERD_SECCOMP_CHILD=1", "NERD_SECCOMP_DIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
}
