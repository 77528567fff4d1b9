// Package e2e drives the built nerd binary exactly as a user types it.
//
// TestMain finds the binary ($NERD_BIN, else `nerd` on PATH), builds (or takes
// from the on-disk cache) the test images busybox, debian:bookworm-slim and
// nginx:latest, starts Debian's docker-registry twice on loopback (an open one
// that serves as the docker.io mirror, and one with htpasswd auth), pushes the
// images, and writes a hosts dir that makes the open registry the docker.io
// mirror. Every test then gets its own data root, config file, DOCKER_CONFIG
// and HOME from newEnv(t).
package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

var (
	// nerdBin is the absolute path of the binary under test.
	nerdBin string
	// workDir holds everything the harness creates for one `go test` run.
	workDir string
	// reg is the open registry; it is also the docker.io mirror.
	reg *registry
	// authReg requires basic auth (authUser / authPassword).
	authReg *registry
	// mirrorHostsDir makes reg the docker.io mirror (the default for newEnv).
	mirrorHostsDir string

	// The test images as pushed at startup. busybox is the linux/amd64
	// member of the busybox:latest index; busyboxARM the linux/arm64 one.
	busybox, busyboxARM, debian, nginx imageInfo
	// privateImage is busybox pushed to authReg as private/busybox:latest.
	privateImage imageInfo
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) (code int) {
	fail := func(format string, args ...any) int {
		fmt.Fprintf(os.Stderr, "e2e: "+format+"\n", args...)
		return 1
	}
	bin, err := findNerd()
	if err != nil {
		return fail("%v", err)
	}
	nerdBin = bin

	removeStaleWorkDirs()
	workDir, err = os.MkdirTemp("", "nerd-e2e-")
	if err != nil {
		return fail("%v", err)
	}
	if err := os.WriteFile(filepath.Join(workDir, "pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return fail("%v", err)
	}
	defer func() {
		if err := safeRemoveAll(workDir); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: cleanup: %v\n", err)
		}
	}()

	built, err := loadTestImages()
	if err != nil {
		return fail("building test images: %v", err)
	}

	reg, err = startRegistry(filepath.Join(workDir, "registry"), false)
	if err != nil {
		return fail("starting registry: %v", err)
	}
	defer reg.stop()
	authReg, err = startRegistry(filepath.Join(workDir, "auth-registry"), true)
	if err != nil {
		return fail("starting auth registry: %v", err)
	}
	defer authReg.stop()

	start := time.Now()
	if err := pushTestImages(built); err != nil {
		return fail("pushing test images: %v", err)
	}
	logf("pushed test images in %v", time.Since(start).Round(time.Millisecond))

	mirrorHostsDir, err = writeMirrorHostsDir(filepath.Join(workDir, "hosts"), reg.Host)
	if err != nil {
		return fail("%v", err)
	}
	return m.Run()
}

// removeStaleWorkDirs removes the work dirs of earlier runs whose test
// binary died without cleaning up (a -timeout panic, a kill).
func removeStaleWorkDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "nerd-e2e-*"))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "pid"))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(string(b))
		if err != nil || pid <= 0 {
			continue
		}
		if err := syscall.Kill(pid, 0); err == nil || err == syscall.EPERM {
			continue // still running
		}
		if err := safeRemoveAll(d); err != nil {
			logf("removing stale %s: %v", d, err)
		}
	}
}

// findNerd returns $NERD_BIN or `nerd` from PATH as an absolute path.
func findNerd() (string, error) {
	if b := os.Getenv("NERD_BIN"); b != "" {
		abs, err := filepath.Abs(b)
		if err != nil {
			return "", err
		}
		if fi, err := os.Stat(abs); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return "", fmt.Errorf("NERD_BIN=%s is not an executable file (build it with `make build`)", b)
		}
		return abs, nil
	}
	p, err := exec.LookPath("nerd")
	if err != nil {
		return "", fmt.Errorf("no nerd binary: set NERD_BIN to the built binary (e.g. NERD_BIN=$PWD/_output/bin/nerd after `make build`) or put nerd on PATH")
	}
	return filepath.Abs(p)
}

// writeMirrorHostsDir writes a containerd-style hosts dir that serves
// docker.io from the given plain-HTTP registry, and returns the dir.
func writeMirrorHostsDir(dir, mirrorHost string) (string, error) {
	d := filepath.Join(dir, "docker.io")
	if err := os.MkdirAll(d, 0o755); err != nil {
		return "", err
	}
	toml := fmt.Sprintf("server = \"https://registry-1.docker.io\"\n\n[host.\"http://%s\"]\n  capabilities = [\"pull\", \"resolve\"]\n", mirrorHost)
	return dir, os.WriteFile(filepath.Join(d, "hosts.toml"), []byte(toml), 0o644)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "e2e: "+format+"\n", args...)
}
