package e2e

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const authErrPattern = `unauthorized|authentication required|no basic auth credentials|denied|401`

func TestLoginWrongPassword(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.nerdFail(1, []string{"login", "-u", authUser, "-p", "wrong", authReg.Host}, authErrPattern)
	if _, ok := e.hasAuth(authReg.Host); ok {
		t.Errorf("failed login stored credentials: %v", e.readDockerConfig())
	}
	// No password at all, and no terminal to ask on.
	e.nerdFail(1, []string{"login", "-u", authUser, authReg.Host})
	if _, ok := e.hasAuth(authReg.Host); ok {
		t.Errorf("failed login stored credentials: %v", e.readDockerConfig())
	}
}

func TestLoginPullPushLogout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// Without credentials the private image is refused, and nothing is stored.
	e.nerdFail(1, []string{"pull", privateImage.Ref}, authErrPattern)
	e.assertEmptyStore()

	r := e.nerdOK("login", "-u", authUser, "-p", authPassword, authReg.Host)
	r.wantStdout(t, "Login Succeeded")
	a, ok := e.hasAuth(authReg.Host)
	if !ok {
		t.Fatalf("no auths[%q] in config.json: %v", authReg.Host, e.readDockerConfig())
	}
	if want := base64.StdEncoding.EncodeToString([]byte(authUser + ":" + authPassword)); a["auth"] != want {
		t.Errorf("auths[%s].auth = %v, want %s", authReg.Host, a["auth"], want)
	}
	if fi, err := os.Stat(filepath.Join(e.DockerConfig, "config.json")); err != nil || fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("config.json must not be readable by others: %v %v", fi.Mode(), err)
	}

	e.pullOK(privateImage.Ref)
	if got := e.inspect(privateImage.Ref).Id; got != privateImage.ID {
		t.Errorf("private image Id %s, want %s", got, privateImage.ID)
	}
	dst := authReg.ref(uniqueRepo(t) + ":v1")
	e.nerdOK("tag", privateImage.Ref, dst)
	e.nerdOK("push", dst)

	r = e.nerdOK("logout", authReg.Host)
	r.wantStdout(t, "Removing login credentials for "+authReg.Host)
	if _, ok := e.hasAuth(authReg.Host); ok {
		t.Errorf("logout left credentials: %v", e.readDockerConfig())
	}
	e.nerdOK("rmi", privateImage.Ref, dst)
	e.nerdFail(1, []string{"pull", privateImage.Ref}, authErrPattern)
	// Logging out again is not an error (Docker says "Not logged in").
	r = e.nerdOK("logout", authReg.Host)
	if !strings.Contains(r.Stdout+r.Stderr, "Not logged in to "+authReg.Host) {
		t.Errorf("second logout:\n%s", r)
	}
}

func TestLoginPasswordStdin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.nerdIn(strings.NewReader(authPassword+"\n"), "login", "--username", authUser, "--password-stdin", authReg.Host)
	if r.Code != 0 {
		t.Fatalf("login --password-stdin:\n%s", r)
	}
	r.wantStdout(t, "Login Succeeded")
	if _, ok := e.hasAuth(authReg.Host); !ok {
		t.Fatalf("credentials not stored: %v", e.readDockerConfig())
	}
	e.pullOK(privateImage.Ref)

	e.nerdFail(1, []string{"login", "--password-stdin", authReg.Host}, `must provide --username with --password-stdin|--password-stdin option requires --username`)
	e.nerdFail(1, []string{"login", "-u", authUser, "-p", "x", "--password-stdin", authReg.Host}, `--password and --password-stdin are mutually exclusive|cannot specify both --password and --password-stdin`)
}

// credHelpers in config.json name a docker-credential-* program on PATH.
func TestCredentialHelper(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bin := filepath.Join(e.Dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	helper := fmt.Sprintf(`#!/bin/sh
case "$1" in
get) read server; printf '{"ServerURL":"%%s","Username":"%s","Secret":"%s"}\n' "$server" ;;
list) echo '{}' ;;
*) cat >/dev/null ;;
esac
`, authUser, authPassword)
	if err := os.WriteFile(filepath.Join(bin, "docker-credential-e2e"), []byte(helper), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`{"credHelpers": {%q: "e2e"}}`, authReg.Host)
	if err := os.WriteFile(filepath.Join(e.DockerConfig, "config.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	e.ExtraEnv = append(e.ExtraEnv, "PATH="+bin+":"+os.Getenv("PATH"))
	e.pullOK(privateImage.Ref)
	if got := e.inspect(privateImage.Ref).Id; got != privateImage.ID {
		t.Errorf("Id %s", got)
	}
}

// An empty or missing DOCKER_CONFIG directory is fine.
func TestDockerConfigMissingOrEmpty(t *testing.T) {
	t.Parallel()
	t.Run("missing dir", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.DockerConfig = filepath.Join(e.Dir, "does-not-exist")
		e.nerdOK("images")
		e.pullOK("busybox")
		e.nerdOK("login", "-u", authUser, "-p", authPassword, authReg.Host)
		if _, ok := e.hasAuth(authReg.Host); !ok {
			t.Errorf("login did not create %s/config.json", e.DockerConfig)
		}
	})
	t.Run("empty config.json", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		if err := os.WriteFile(filepath.Join(e.DockerConfig, "config.json"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		e.pullOK("busybox")
	})
}
