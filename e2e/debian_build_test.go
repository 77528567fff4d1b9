package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// debianMirror is where debootstrap and apt fetch packages.
func debianMirror() string {
	if m := os.Getenv("NERD_E2E_DEBIAN_MIRROR"); m != "" {
		return m
	}
	return "http://deb.debian.org/debian"
}

// buildDebianNginx builds debian:bookworm-slim (one layer: debootstrap
// minbase, slimmed) and nginx:latest (a second layer: nginx-light installed
// with apt in a chroot, /etc/motd removed so the layer has a whiteout) into
// an OCI layout in dir, with ref names "debian" and "nginx".
func buildDebianNginx(dir string) error {
	work := filepath.Join(dir, "work")
	base, top := filepath.Join(work, "base"), filepath.Join(work, "top")
	defer safeRemoveAll(work) //nolint:errcheck
	debs := filepath.Join(cacheRoot(), "debootstrap-debs")
	if err := os.MkdirAll(debs, 0o755); err != nil {
		return err
	}
	logFile := filepath.Join(dir, "build.log")

	t0 := time.Now()
	err := runLogged(logFile, "debootstrap", "--variant=minbase", "--cache-dir="+debs, "bookworm", base, debianMirror())
	if uerr := unmountUnder(base); err == nil {
		err = uerr
	}
	if err != nil {
		return err
	}
	logf("  debootstrap took %v", time.Since(t0).Round(time.Second))
	// Host-specific files debootstrap copied in: keep them, empty.
	for _, f := range []string{"etc/resolv.conf", "etc/hostname"} {
		if err := os.WriteFile(filepath.Join(base, f), nil, 0o644); err != nil {
			return err
		}
	}
	if err := slimTree(base); err != nil {
		return err
	}
	// Fixed creation times: CREATED columns must not tick between two
	// commands of one test (and nginx stays newer than debian).
	debCreated := time.Date(2025, 5, 20, 0, 0, 0, 0, time.UTC)
	debLayerFile := filepath.Join(dir, "debian.tar.gz")
	if err := writeTreeLayer(base, debLayerFile); err != nil {
		return fmt.Errorf("debian layer: %w", err)
	}

	t1 := time.Now()
	if err := runLogged(logFile, "cp", "-a", base, top); err != nil {
		return err
	}
	if err := chrootInstall(base, top, logFile, "nginx-light"); err != nil {
		return err
	}
	// The second layer removes a file of the first: a whiteout.
	if err := os.Remove(filepath.Join(top, "etc/motd")); err != nil {
		return err
	}
	if err := slimTree(top); err != nil {
		return err
	}
	// As in the official image: nginx logs to the container's stdout and
	// stderr (slimTree emptied /var/log, and nginx will not start without
	// its log directory).
	if err := os.MkdirAll(filepath.Join(top, "var/log/nginx"), 0o755); err != nil {
		return err
	}
	for name, target := range map[string]string{"access.log": "/dev/stdout", "error.log": "/dev/stderr"} {
		if err := os.Symlink(target, filepath.Join(top, "var/log/nginx", name)); err != nil {
			return err
		}
	}
	logf("  nginx install took %v", time.Since(t1).Round(time.Second))
	nginxCreated := debCreated.Add(time.Hour)
	nginxLayerFile := filepath.Join(dir, "nginx.tar.gz")
	diff, err := writeDiffLayer(base, top, nginxLayerFile)
	if err != nil {
		return fmt.Errorf("nginx layer: %w", err)
	}
	if !slices.Contains(diff.Whiteouts, "etc/.wh.motd") || !slices.Contains(diff.Changed, "usr/sbin/nginx") {
		return fmt.Errorf("nginx layer lacks etc/.wh.motd or usr/sbin/nginx (whiteouts %v)", diff.Whiteouts)
	}

	debLayer, err := tarballLayer(debLayerFile)
	if err != nil {
		return err
	}
	nginxLayer, err := tarballLayer(nginxLayerFile)
	if err != nil {
		return err
	}
	deb, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{
		Architecture: "amd64", OS: "linux", Created: v1.Time{Time: debCreated},
		Config: v1.Config{Cmd: []string{"bash"}, Env: []string{defaultPath}},
		RootFS: v1.RootFS{Type: "layers"},
	})
	if err != nil {
		return err
	}
	deb, err = mutate.Append(deb, mutate.Addendum{Layer: debLayer, History: v1.History{
		Created: v1.Time{Time: debCreated}, CreatedBy: "debootstrap --variant=minbase bookworm # nerd e2e",
	}})
	if err != nil {
		return err
	}
	if deb, err = addEmptyHistory(deb, debCreated, `CMD ["bash"]`); err != nil {
		return err
	}

	cf, err := deb.ConfigFile()
	if err != nil {
		return err
	}
	cf = cf.DeepCopy()
	cf.Created = v1.Time{Time: nginxCreated}
	cf.Config.Cmd = []string{"nginx", "-g", "daemon off;"}
	cf.Config.ExposedPorts = map[string]struct{}{"80/tcp": {}}
	cf.Config.StopSignal = "SIGQUIT"
	cf.Config.Labels = map[string]string{"maintainer": "nerd e2e"}
	ngx, err := mutate.ConfigFile(deb, cf)
	if err != nil {
		return err
	}
	ngx, err = mutate.Append(ngx, mutate.Addendum{Layer: nginxLayer, History: v1.History{
		Created: v1.Time{Time: nginxCreated}, CreatedBy: "RUN apt-get install -y nginx-light && rm /etc/motd # nerd e2e",
	}})
	if err != nil {
		return err
	}
	ngx, err = addEmptyHistory(ngx, nginxCreated, `LABEL maintainer=nerd e2e`, `EXPOSE map[80/tcp:{}]`,
		`STOPSIGNAL SIGQUIT`, `CMD ["nginx" "-g" "daemon off;"]`)
	if err != nil {
		return err
	}

	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	if err := p.AppendImage(deb, layout.WithAnnotations(map[string]string{refNameAnn: "debian"})); err != nil {
		return err
	}
	if err := p.AppendImage(ngx, layout.WithAnnotations(map[string]string{refNameAnn: "nginx"})); err != nil {
		return err
	}
	// The layer files are in the layout's blobs now.
	_ = os.Remove(debLayerFile)
	_ = os.Remove(nginxLayerFile)
	return nil
}

// chrootInstall installs packages with apt inside top (a copy of base).
// Services are kept from starting by a policy-rc.d; /dev gets the few nodes
// maintainer scripts use, removed afterwards (with the /dev mtime restored),
// and resolv.conf is restored from base, so none of it shows in the diff.
func chrootInstall(base, top, logFile string, pkgs ...string) (err error) {
	resolv, err := os.ReadFile("/etc/resolv.conf")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(top, "etc/resolv.conf"), resolv, 0o644); err != nil {
		return err
	}
	policy := filepath.Join(top, "usr/sbin/policy-rc.d")
	if err := os.WriteFile(policy, []byte("#!/bin/sh\nexit 101\n"), 0o755); err != nil {
		return err
	}
	devs := map[string]int{"null": 3, "zero": 5, "random": 8, "urandom": 9}
	for n, minor := range devs {
		p := filepath.Join(top, "dev", n)
		if err := syscall.Mknod(p, syscall.S_IFCHR|0o666, int(1<<8|minor)); err != nil {
			return fmt.Errorf("mknod %s: %w", p, err)
		}
		_ = os.Chmod(p, 0o666)
	}
	defer func() {
		for n := range devs {
			_ = os.Remove(filepath.Join(top, "dev", n))
		}
		_ = os.Remove(policy)
		if uerr := unmountUnder(top); err == nil {
			err = uerr
		}
		if fi, serr := os.Stat(filepath.Join(base, "dev")); serr == nil {
			_ = os.Chtimes(filepath.Join(top, "dev"), fi.ModTime(), fi.ModTime())
		}
		if cerr := runLogged(logFile, "cp", "-a", filepath.Join(base, "etc/resolv.conf"), filepath.Join(top, "etc/resolv.conf")); err == nil {
			err = cerr
		}
	}()
	script := "apt-get update -q && apt-get install -y -q --no-install-recommends"
	for _, p := range pkgs {
		script += " " + p
	}
	script += " && apt-get clean"
	return runLogged(logFile, "chroot", top, "/usr/bin/env", "-i",
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"DEBIAN_FRONTEND=noninteractive", "LANG=C.UTF-8", "HOME=/root",
		"sh", "-c", script)
}

// slimTree removes what a -slim image does not carry (docs, man pages,
// translations, apt lists and caches, logs) and every /dev entry.
func slimTree(root string) error {
	if mps, err := mountsUnder(root); err != nil || len(mps) > 0 {
		return fmt.Errorf("refusing to slim %s with mounts %v: %v", root, mps, err)
	}
	globs := []string{
		"usr/share/doc/*", "usr/share/man/*", "usr/share/info/*", "usr/share/locale/*",
		"usr/share/lintian/*", "usr/share/linda/*",
		"var/lib/apt/lists/*", "var/cache/apt/*.bin", "var/cache/apt/archives/*.deb", "var/cache/debconf/*-old", "var/lib/dpkg/*-old",
		"var/log/*", "dev/*", "tmp/*", "var/tmp/*", "root/.bash_history",
	}
	for _, g := range globs {
		matches, err := filepath.Glob(filepath.Join(root, g))
		if err != nil {
			return err
		}
		for _, m := range matches {
			if err := os.RemoveAll(m); err != nil {
				return err
			}
		}
	}
	return nil
}

// runLogged runs a command, appending its output to logFile; on failure the
// error carries the log's tail.
func runLogged(logFile, name string, args ...string) error {
	f, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	fmt.Fprintf(f, "+ %s %v\n", name, args)
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive", "LANG=C.UTF-8",
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %v: %w\n%s", name, args, err, tail(logFile))
	}
	return nil
}
