package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// env is one isolated nerd installation as a user would have it: its own
// data root, config file (NERD_CONFIG), DOCKER_CONFIG and HOME. Commands run
// with exactly the arguments a user types.
type env struct {
	t            testing.TB
	Dir          string // the test's scratch dir (t.TempDir())
	Root         string // data_root
	HostsDir     string // hosts_dir ("" = none)
	Insecure     []string
	ConfigFile   string // NERD_CONFIG
	DockerConfig string // DOCKER_CONFIG
	Home         string
	ExtraEnv     []string      // appended to every command's environment
	Timeout      time.Duration // per command
	// Net is the env's own default bridge and subnets (see netSlot): two
	// data roots must never share a bridge or a subnet.
	Net netSlot
}

// newEnv makes a fresh env whose docker.io mirror is the test registry.
// Cleanup unmounts anything under the data root before t.TempDir removes it.
func newEnv(t testing.TB) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{
		t:            t,
		Dir:          dir,
		Root:         filepath.Join(dir, "root"),
		HostsDir:     mirrorHostsDir,
		ConfigFile:   filepath.Join(dir, "nerd.toml"),
		DockerConfig: filepath.Join(dir, "docker-config"),
		Home:         filepath.Join(dir, "home"),
		Timeout:      5 * time.Minute,
		Net:          newNetSlot(),
	}
	for _, d := range []string{e.DockerConfig, e.Home} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	e.writeConfig()
	t.Cleanup(func() {
		if err := unmountUnder(dir); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		// The engine's runtime dir (/run/nerd/<hash>: network markers, the
		// seccomp cache) goes with the data root.
		if err := safeRemoveAll(e.runtimeDir()); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return e
}

// writeConfig (re)writes the nerd config file from the env's fields.
func (e *env) writeConfig() {
	e.t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "data_root = %q\n", e.Root)
	if e.HostsDir != "" {
		fmt.Fprintf(&b, "hosts_dir = %q\n", e.HostsDir)
	}
	if len(e.Insecure) > 0 {
		b.WriteString("insecure_registries = [")
		for i, r := range e.Insecure {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%q", r)
		}
		b.WriteString("]\n")
	}
	e.Net.writeConfig(&b)
	if err := os.WriteFile(e.ConfigFile, []byte(b.String()), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// environ is the environment of every command run in the env.
func (e *env) environ() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "NERD_CONFIG", "DOCKER_CONFIG", "HOME", "DOCKER_HOST", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_RUNTIME_DIR":
			continue
		}
		out = append(out, kv)
	}
	out = append(out, "NERD_CONFIG="+e.ConfigFile, "DOCKER_CONFIG="+e.DockerConfig, "HOME="+e.Home)
	return append(out, e.ExtraEnv...)
}

// result of one command.
type result struct {
	Args           []string
	Stdout, Stderr string
	Code           int // exit code; -1 if killed or not started
	Took           time.Duration
}

func (r result) String() string {
	return fmt.Sprintf("$ %s\n[exit %d after %v]\n--- stdout:\n%s\n--- stderr:\n%s", shellJoin(r.Args), r.Code, r.Took.Round(time.Millisecond), r.Stdout, r.Stderr)
}

// Lines are stdout's non-empty lines.
func (r result) Lines() []string {
	var out []string
	for _, l := range strings.Split(r.Stdout, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// command prepares `nerd args…` in the env (not started). The process gets
// its own process group, killed when ctx ends.
func (e *env) command(ctx context.Context, args ...string) *exec.Cmd {
	return e.program(ctx, nerdBin, args...)
}

// program prepares any program (the docker link, skopeo …) in the env.
func (e *env) program(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = e.environ()
	cmd.Dir = e.Dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	return cmd
}

// run runs a prepared command to completion with the env's timeout.
func (e *env) run(stdin io.Reader, name string, args ...string) result {
	ctx, cancel := context.WithTimeout(context.Background(), e.Timeout)
	defer cancel()
	cmd := e.program(ctx, name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := result{Args: append([]string{filepath.Base(name)}, args...), Took: time.Since(start), Code: -1}
	var ee *exec.ExitError
	switch {
	case err == nil:
		r.Code = 0
	case errors.As(err, &ee) && ee.Exited():
		r.Code = ee.ExitCode()
	case ctx.Err() != nil:
		stderr.WriteString(fmt.Sprintf("\n[e2e: killed after timeout %v]", e.Timeout))
	default:
		stderr.WriteString(fmt.Sprintf("\n[e2e: %v]", err))
	}
	r.Stdout, r.Stderr = stdout.String(), stderr.String()
	return r
}

// nerd runs `nerd args…` with no stdin.
func (e *env) nerd(args ...string) result { return e.run(nil, nerdBin, args...) }

// nerdIn runs `nerd args…` with stdin.
func (e *env) nerdIn(stdin io.Reader, args ...string) result {
	return e.run(stdin, nerdBin, args...)
}

// nerdOK runs `nerd args…` and fails the test unless it exits 0.
func (e *env) nerdOK(args ...string) result {
	e.t.Helper()
	r := e.nerd(args...)
	if r.Code != 0 {
		e.t.Fatalf("command failed:\n%s", r)
	}
	return r
}

// nerdFail runs `nerd args…`, and fails the test unless it exits with code
// and stderr matches every pattern (case-insensitive regexps).
func (e *env) nerdFail(code int, args []string, patterns ...string) result {
	e.t.Helper()
	r := e.nerd(args...)
	r.wantFailure(e.t, code, patterns...)
	return r
}

// wantFailure checks the exit code, that stderr has an error matching the
// patterns, and that nothing looks like a Go panic. It reports with Errorf
// so that one test can check several bad inputs in a row.
func (r result) wantFailure(t testing.TB, code int, patterns ...string) {
	t.Helper()
	if strings.Contains(r.Stderr, "goroutine ") || strings.Contains(r.Stderr, "panic:") {
		t.Errorf("command panicked:\n%s", r)
		return
	}
	if r.Code != code {
		t.Errorf("want exit code %d:\n%s", code, r)
		return
	}
	if strings.TrimSpace(r.Stderr) == "" {
		t.Errorf("want an error message on stderr:\n%s", r)
		return
	}
	for _, p := range patterns {
		if !matchCI(p, r.Stderr) {
			t.Errorf("stderr does not match %q:\n%s", p, r)
			return
		}
	}
}

// pullOK pulls ref and returns the result.
func (e *env) pullOK(ref string) result {
	e.t.Helper()
	return e.nerdOK("pull", ref)
}

func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"$`\\{}|&;<>()*?!") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}
