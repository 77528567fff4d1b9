package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// exec --env-file and --privileged, exec's 126 (a command that cannot be
// invoked: not executable, a directory, a working directory or user that
// does not exist), exec in a paused container; logs --details.

func TestExecMoreFlags(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	e.runD(withSleeper("--name", "ctr", "busybox")...)

	t.Run("env-file", func(t *testing.T) {
		e := e.sub(t)
		f := filepath.Join(e.Dir, "exec.env")
		if err := os.WriteFile(f, []byte("# comment\nA=1\nB=two words\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if r := e.nerdOK("exec", "--env-file", f, "ctr", "sh", "-c", `echo "$A|$B"`); r.Stdout != "1|two words\n" {
			t.Errorf("exec --env-file:\n%s", r)
		}
		// -e wins over the file, as in Docker.
		if r := e.nerdOK("exec", "--env-file", f, "-e", "A=9", "ctr", "sh", "-c", `echo "$A|$B"`); r.Stdout != "9|two words\n" {
			t.Errorf("exec --env-file -e A=9:\n%s", r)
		}
		// Only that exec: the container and the next exec lack them.
		if r := e.nerdOK("exec", "ctr", "sh", "-c", `echo "[$A]"`); r.Stdout != "[]\n" {
			t.Errorf("a later exec sees the file's variables:\n%s", r)
		}
		e.nerdFail(125, []string{"exec", "--env-file", filepath.Join(e.Dir, "missing.env"), "ctr", "true"}, `missing.env`)
	})
	t.Run("privileged", func(t *testing.T) {
		e := e.sub(t)
		self, _ := os.ReadFile("/proc/self/status")
		bnd := regexp.MustCompile(`CapBnd:\s*([0-9a-f]+)`).FindSubmatch(self)
		if bnd == nil {
			t.Fatalf("no CapBnd in /proc/self/status")
		}
		r := e.nerdOK("exec", "--privileged", "ctr", "grep", "CapEff", "/proc/self/status")
		if !strings.Contains(r.Stdout, string(bnd[1])) {
			t.Errorf("exec --privileged: want every capability (%s):\n%s", bnd[1], r)
		}
		if r := e.nerdOK("exec", "ctr", "grep", "CapEff", "/proc/self/status"); !strings.Contains(r.Stdout, "00000000a80425fb") {
			t.Errorf("exec without --privileged: want the container's capabilities:\n%s", r)
		}
	})
	t.Run("cannot invoke", func(t *testing.T) {
		e := e.sub(t)
		for _, c := range []struct {
			args    []string
			pattern string
		}{
			{[]string{"ctr", "/etc/passwd"}, `permission denied`},
			{[]string{"ctr", "/tmp"}, `permission denied|is a directory`},
			{[]string{"-w", "/nonexistent", "ctr", "pwd"}, `/nonexistent`},
			{[]string{"-u", "nosuchuser", "ctr", "true"}, `unable to find user nosuchuser: no matching entries in passwd file`},
		} {
			r := e.nerdFail(126, append([]string{"exec"}, c.args...), c.pattern)
			if r.Stdout != "" {
				t.Errorf("nothing belongs on stdout:\n%s", r)
			}
		}
		if s := e.status("ctr"); s != "running" {
			t.Errorf("failed execs changed the container: %q", s)
		}
	})
	t.Run("paused", func(t *testing.T) {
		e := e.sub(t)
		e.runD(withSleeper("--name", "pz", "busybox")...)
		e.nerdOK("pause", "pz")
		e.nerdFail(1, []string{"exec", "pz", "true"}, `container [0-9a-f]{64} is paused, unpause the container before exec`)
		e.nerdOK("unpause", "pz")
		e.nerdOK("exec", "pz", "true")
	})
}

// logs --details prefixes each line with its attributes and a space (a
// lone space: nerd writes none), after the -t timestamp, as dockerd does.
func TestLogsDetails(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	e.nerdOK("run", "--name", "det", "busybox", "sh", "-c", "echo one; echo two >&2; printf three")
	r := e.nerdOK("logs", "--details", "det")
	if r.Stdout != " one\n three" || r.Stderr != " two\n" {
		t.Errorf("logs --details: want \" one\\n three\" and \" two\\n\":\n%s", r)
	}
	r = e.nerdOK("logs", "--details", "-t", "det")
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z  one\n\S+  three$`).MatchString(r.Stdout) ||
		!regexp.MustCompile(`^\S+Z  two\n$`).MatchString(r.Stderr) {
		t.Errorf("logs --details -t: want \"<time>  line\" (time, space, no attributes, space):\n%s", r)
	}
	if r := e.nerdOK("logs", "--details", "--tail", "1", "det"); r.Stdout != " three" {
		t.Errorf("logs --details --tail 1:\n%s", r)
	}
}
