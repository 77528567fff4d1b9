package e2e

import (
	"regexp"
	"strings"
	"testing"
)

// Bad input to the container commands: Docker's exit codes and messages,
// and nothing half-made left behind.

// run returns the container's code, 127 when the command is not found and
// 126 when it cannot be invoked.
func TestRunExitCodes(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	for _, c := range []struct {
		code    int
		args    []string
		pattern string
	}{
		{127, []string{"run", "busybox", "nosuchcmd"}, `nosuchcmd.*executable file not found`},
		{127, []string{"run", "busybox", "/no/such/file"}, `no such file or directory`},
		{127, []string{"run", "-d", "busybox", "nosuchcmd"}, `executable file not found`},
		{126, []string{"run", "busybox", "/etc/passwd"}, `permission denied`},
		{126, []string{"run", "busybox", "/tmp"}, `permission denied|is a directory`},
	} {
		r := e.nerd(c.args...)
		r.wantFailure(t, c.code, c.pattern)
		if strings.TrimSpace(r.Stdout) != "" && c.args[1] != "-d" {
			t.Errorf("nothing belongs on stdout:\n%s", r)
		}
	}
}

// Bad values are refused with 125 before anything is created.
func TestRunBadValues(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	for _, c := range []struct {
		args    []string
		pattern string
	}{
		{[]string{"--memory", "foo"}, `invalid argument "foo" for "-m, --memory" flag`},
		{[]string{"--memory", "1k"}, `Minimum memory limit`},
		{[]string{"--restart", "bogus"}, `restart policy`},
		{[]string{"--restart", "on-failure:x"}, `restart`},
		{[]string{"--restart", "always:3"}, `restart`},
		{[]string{"--cpus", "-1"}, `cpu`},
		{[]string{"--cpus", "foo"}, `invalid argument "foo" for "--cpus" flag`},
		{[]string{"--pids-limit", "abc"}, `invalid argument "abc" for "--pids-limit" flag`},
		{[]string{"--log-driver", "bogus"}, `bogus`},
		{[]string{"--log-opt", "nosuchopt=1"}, `nosuchopt`},
		{[]string{"--stop-signal", "NOPE"}, `signal`},
		{[]string{"--name", "bad/name"}, `Invalid container name`},
		{[]string{"--tmpfs", "relative"}, `absolute`},
		{[]string{"-e", "=x"}, `invalid environment variable`},
		{[]string{"--bogus-flag"}, `unknown flag: --bogus-flag`},
	} {
		args := append(append([]string{"run"}, c.args...), "busybox", "true")
		e.nerdFail(125, args, c.pattern)
	}
	if ids := e.nerdOK("ps", "-a", "-q").Lines(); len(ids) > 0 {
		t.Errorf("failed runs left containers: %v", ids)
	}
	if ids := e.containerIDs(); len(ids) > 0 {
		t.Errorf("failed runs left container directories: %v", ids)
	}
	if mps, _ := mountsUnder(e.Root); len(mps) > 0 {
		t.Errorf("failed runs left mounts: %v", mps)
	}
	// Docker's json-file driver checks max-size only when the container
	// starts, so this one may leave a container behind, as in Docker.
	e.nerdFail(125, []string{"run", "--log-opt", "max-size=abc", "busybox", "true"}, `invalid size|max-size`)
}

// A name in use: 125 and Docker's conflict message, for run and create;
// 1 for rename.
func TestNameConflict(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	id := strings.TrimSpace(e.nerdOK("create", "--name", "dup", "busybox").Stdout)
	msg := regexp.QuoteMeta(`Conflict. The container name "/dup" is already in use by container "` + id + `"`)
	e.nerdFail(125, []string{"run", "--name", "dup", "busybox", "true"}, msg)
	e.nerdFail(125, []string{"run", "-d", "--name", "dup", "busybox", "true"}, msg)
	// docker/cli create.go returns the daemon's error as is: exit 1.
	e.nerdFail(1, []string{"create", "--name", "dup", "busybox"}, msg)
	e.nerdOK("create", "--name", "other", "busybox")
	e.nerdFail(1, []string{"rename", "other", "dup"}, `is already in use`)
	if names := e.psNames("-a"); !sameSet(names, []string{"dup", "other"}) {
		t.Errorf("ps -a: %v, want dup and other only", names)
	}
	// Once removed, the name is free.
	e.nerdOK("rm", "dup")
	e.nerdOK("run", "--name", "dup", "busybox", "true")
}

// Commands on a container that does not exist exit 1 with Docker's text;
// rm -f of a missing container is not an error (docker/cli rm.go).
func TestMissingContainer(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	for _, args := range [][]string{
		{"rm", "nosuch"}, {"container", "rm", "nosuch"}, {"start", "nosuch"}, {"stop", "nosuch"},
		{"kill", "nosuch"}, {"restart", "nosuch"}, {"logs", "nosuch"}, {"wait", "nosuch"},
		{"pause", "nosuch"}, {"unpause", "nosuch"}, {"rename", "nosuch", "x"}, {"top", "nosuch"},
		{"update", "--restart", "always", "nosuch"}, {"exec", "nosuch", "true"},
		{"container", "inspect", "nosuch"}, {"attach", "nosuch"},
	} {
		e.nerdFail(1, args, `No such container: nosuch`)
	}
	e.nerdFail(1, []string{"inspect", "nosuch"}, `No such object: nosuch`)
	if r := e.nerd("rm", "-f", "nosuch"); r.Code != 0 || r.Stdout != "" {
		t.Errorf("rm -f of a missing container: Docker exits 0 silently:\n%s", r)
	}
	// One missing among several: the others are still handled, exit 1.
	e.nerdOK("create", "--name", "real", "busybox")
	r := e.nerd("rm", "nosuch", "real")
	r.wantFailure(t, 1, `No such container: nosuch`)
	if r.Stdout != "real\n" {
		t.Errorf("rm nosuch real: stdout %q, want real", r.Stdout)
	}
	if e.status("real") != "" {
		t.Errorf("rm nosuch real did not remove real")
	}
}

// A created container whose command does not exist: start fails with
// Docker's message, the record stays "Created" with exit code 127, and rm
// removes it completely.
func TestStartFailure(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	id := strings.TrimSpace(e.nerdOK("create", "--name", "bad", "busybox", "nosuchcmd").Stdout)
	e.nerdFail(1, []string{"start", "bad"}, `executable file not found`)
	got := e.inspectC("bad")
	if got.State.ExitCode != 127 || got.State.Running || got.State.Error == "" {
		t.Errorf("after a failed start: ExitCode %d Running %v Error %q, want 127, false and the error", got.State.ExitCode, got.State.Running, got.State.Error)
	}
	// Docker: a container whose first start failed is still "Created".
	if got.State.Status != "created" {
		t.Errorf("State.Status after a failed first start = %q, want created", got.State.Status)
	}
	if s := e.psStatus("bad"); s != "Created" {
		t.Errorf("ps -a STATUS = %q, want Created", s)
	}
	e.nerdOK("rm", "bad")
	e.assertGone(id)
}
