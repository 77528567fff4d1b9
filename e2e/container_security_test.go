package e2e

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// --security-opt of issue 3: Docker's default seccomp profile, unconfined,
// a profile from a file, no-new-privileges; exec runs under the
// container's profile. Compiled filters are cached per profile (see
// cmd/nerd-shim/nerd-shim-runc/seccomp_compiled.go): runs with different
// profiles in a row must each get their own.
func TestRunSecurityOpt(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)

	// status reads fields of /proc/self/status in a container run with args.
	status := func(t *testing.T, args ...string) map[string]string {
		t.Helper()
		r := e.sub(t).nerdOK(append(append([]string{"run", "--rm"}, args...), "busybox", "cat", "/proc/self/status")...)
		out := map[string]string{}
		for _, l := range strings.Split(r.Stdout, "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok {
				out[k] = strings.TrimSpace(v)
			}
		}
		return out
	}
	// unshareDenied: Docker's profile refuses unshare(CLONE_NEWUSER)
	// without CAP_SYS_ADMIN, while the capabilities alone would allow it.
	unshareDenied := func(t *testing.T, r result) {
		t.Helper()
		if r.Code == 0 || !strings.Contains(r.Stderr, "Operation not permitted") {
			t.Errorf("unshare -U must be refused by the seccomp profile:\n%s", r)
		}
	}

	t.Run("default profile", func(t *testing.T) {
		e := e.sub(t)
		if st := status(t); st["Seccomp"] != "2" || st["NoNewPrivs"] != "0" {
			t.Errorf("default: Seccomp %q NoNewPrivs %q, want 2 (filter) and 0", st["Seccomp"], st["NoNewPrivs"])
		}
		// Twice: the second run loads the cached program.
		for i := 0; i < 2; i++ {
			unshareDenied(t, e.nerd("run", "--rm", "busybox", "unshare", "-U", "true"))
		}
		e.runD(withSleeper("--name", "sc", "busybox")...)
		unshareDenied(t, e.nerd("exec", "sc", "unshare", "-U", "true"))
		if r := e.nerdOK("exec", "sc", "grep", "^Seccomp:", "/proc/self/status"); !strings.Contains(r.Stdout, "2") {
			t.Errorf("exec: %q, want Seccomp: 2", r.Stdout)
		}
	})

	t.Run("unconfined", func(t *testing.T) {
		e := e.sub(t)
		if st := status(t, "--security-opt", "seccomp=unconfined"); st["Seccomp"] != "0" {
			t.Errorf("seccomp=unconfined: Seccomp %q, want 0", st["Seccomp"])
		}
		e.nerdOK("run", "--rm", "--security-opt", "seccomp=unconfined", "busybox", "unshare", "-U", "true")
		if st := status(t, "--privileged"); st["Seccomp"] != "0" {
			t.Errorf("--privileged: Seccomp %q, want 0 (Docker runs privileged containers unconfined)", st["Seccomp"])
		}
	})

	t.Run("profile file", func(t *testing.T) {
		e := e.sub(t)
		denyMkdir := filepath.Join(e.Dir, "deny-mkdir.json")
		writeFile(t, denyMkdir, `{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}`)
		denyChmod := filepath.Join(e.Dir, "deny-chmod.json")
		writeFile(t, denyChmod, `{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["chmod","fchmod","fchmodat","fchmodat2"],"action":"SCMP_ACT_ERRNO"}]}`)
		script := "mkdir /d 2>/dev/null && echo mkdir-ok || echo mkdir-denied; chmod 600 /etc/passwd 2>/dev/null && echo chmod-ok || echo chmod-denied"
		for _, tc := range []struct{ profile, want string }{
			{denyMkdir, "mkdir-denied\nchmod-ok\n"},
			{denyChmod, "mkdir-ok\nchmod-denied\n"},
			{denyMkdir, "mkdir-denied\nchmod-ok\n"},
		} {
			r := e.nerdOK("run", "--rm", "--security-opt", "seccomp="+tc.profile, "busybox", "sh", "-c", script)
			if r.Stdout != tc.want {
				t.Errorf("seccomp=%s: %q, want %q", filepath.Base(tc.profile), r.Stdout, tc.want)
			}
		}
		// Allow-by-default profile: unshare works (the default profile's
		// refusal is gone).
		e.nerdOK("run", "--rm", "--security-opt", "seccomp="+denyMkdir, "busybox", "unshare", "-U", "true")
	})

	t.Run("no-new-privileges", func(t *testing.T) {
		for _, opt := range []string{"no-new-privileges", "no-new-privileges:true", "no-new-privileges=true"} {
			if st := status(t, "--security-opt", opt); st["NoNewPrivs"] != "1" || st["Seccomp"] != "2" {
				t.Errorf("%s: NoNewPrivs %q Seccomp %q, want 1 and 2", opt, st["NoNewPrivs"], st["Seccomp"])
			}
		}
	})

	t.Run("bad input", func(t *testing.T) {
		e := e.sub(t)
		before := e.nerdOK("ps", "-aq").Stdout
		bad := filepath.Join(e.Dir, "bad.json")
		writeFile(t, bad, `{"defaultAction":`)
		for _, tc := range []struct {
			opt, pattern string
		}{
			{"seccomp=" + filepath.Join(e.Dir, "missing.json"), `opening seccomp profile|no such file`},
			{"seccomp=" + bad, `compacting json for seccomp profile`},
			{"bogus", `invalid --security-opt`},
		} {
			e.nerdFail(125, []string{"run", "--rm", "--security-opt", tc.opt, "busybox", "true"}, tc.pattern)
		}
		if after := e.nerdOK("ps", "-aq").Stdout; after != before {
			t.Errorf("a refused --security-opt left a container:\n%s", after)
		}
		if regexp.MustCompile(`\S`).MatchString(before) {
			t.Logf("containers before: %s", before)
		}
	})
}
