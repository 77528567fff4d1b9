package registry

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// isolate points DOCKER_CONFIG at a fresh directory and hides any
// credential helper installed on the machine (docker login would adopt
// pass/secretservice if present), so tests see the plain file store.
func isolate(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "docker-config")
	t.Setenv("DOCKER_CONFIG", dir)
	t.Setenv("DOCKER_AUTH_CONFIG", "")
	t.Setenv("PATH", t.TempDir())
	return dir
}

func readAuths(t *testing.T, dir string) map[string]map[string]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cf struct {
		Auths map[string]map[string]string `json:"auths"`
	}
	if err := json.Unmarshal(data, &cf); err != nil {
		t.Fatal(err)
	}
	return cf.Auths
}

func resolve(t *testing.T, kc authn.Keychain, registry string) *authn.AuthConfig {
	t.Helper()
	reg, err := name.NewRegistry(registry)
	if err != nil {
		t.Fatal(err)
	}
	a, err := kc.Resolve(reg)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := a.Authorization()
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestConfigDir(t *testing.T) {
	t.Setenv("HOME", "/home/u")
	t.Setenv("DOCKER_CONFIG", "")
	if got := ConfigDir(""); got != "/home/u/.docker" {
		t.Errorf("default = %s", got)
	}
	t.Setenv("DOCKER_CONFIG", "/etc/dc")
	if got := ConfigDir(""); got != "/etc/dc" {
		t.Errorf("DOCKER_CONFIG = %s", got)
	}
	if got := ConfigDir("/flag/dir/"); got != "/flag/dir" {
		t.Errorf("--config = %s", got)
	}
}

func TestNormalizeServer(t *testing.T) {
	for in, want := range map[string]string{
		"":                            IndexServer,
		"docker.io":                   IndexServer,
		"index.docker.io":             IndexServer,
		"registry-1.docker.io":        IndexServer,
		"https://index.docker.io/v1/": IndexServer,
		"https://index.docker.io/v1":  IndexServer,
		"http://127.0.0.1:5000/":      "127.0.0.1:5000",
		"https://ghcr.io/v2/":         "ghcr.io",
		"myreg.example:5000":          "myreg.example:5000",
	} {
		if got := NormalizeServer(in); got != want {
			t.Errorf("NormalizeServer(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLoginLogout(t *testing.T) {
	for _, tc := range []struct {
		name string
		wrap func(user, pass string) func(http.Handler) http.Handler
	}{
		{"basic", basicAuth},
		{"bearer", bearerAuth},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := isolate(t)
			ctx := context.Background()
			host, _ := newRegistry(t, tc.wrap("alice", "wonder"))
			ref, err := name.ParseReference(host + "/app:v1")
			if err != nil {
				t.Fatal(err)
			}
			img, _ := random.Image(128, 1)
			if err := remote.Write(ref, img, remote.WithAuth(&authn.Basic{Username: "alice", Password: "wonder"})); err != nil {
				t.Fatal(err)
			}

			err = Login(ctx, "", "http://"+host+"/", "alice", "wrong")
			if !errors.Is(err, ErrUnauthorized) {
				t.Fatalf("bad password: err = %v, want ErrUnauthorized", err)
			}
			if want := "login to " + host + ": unauthorized: incorrect username or password"; err.Error() != want {
				t.Errorf("message = %q, want %q", err, want)
			}
			if _, err := os.Stat(filepath.Join(dir, "config.json")); !os.IsNotExist(err) {
				t.Fatalf("failed login wrote config.json (stat err %v)", err)
			}

			if err := Login(ctx, "", "http://"+host+"/", "alice", "wonder"); err != nil {
				t.Fatal(err)
			}
			auths := readAuths(t, dir)
			if got, want := auths[host]["auth"], base64.StdEncoding.EncodeToString([]byte("alice:wonder")); got != want {
				t.Errorf("stored auth = %q, want %q (auths %v)", got, want, auths)
			}

			kc := NewKeychain("")
			if cfg := resolve(t, kc, host); cfg.Username != "alice" || cfg.Password != "wonder" {
				t.Errorf("keychain = %+v", cfg)
			}
			if _, err := remote.Image(ref, remote.WithAuthFromKeychain(kc)); err != nil {
				t.Errorf("pull with keychain: %v", err)
			}

			got, err := Logout("", host)
			if err != nil || got != host {
				t.Fatalf("Logout = %q, %v", got, err)
			}
			if _, ok := readAuths(t, dir)[host]; ok {
				t.Error("credentials still in config.json after logout")
			}
			if resolve(t, kc, host).Username != "" {
				t.Error("keychain still has credentials after logout")
			}
			if _, err := Logout("", host); !errors.Is(err, ErrNotLoggedIn) {
				t.Errorf("second logout: err = %v, want ErrNotLoggedIn", err)
			}
		})
	}
}

func TestLoginErrors(t *testing.T) {
	dir := isolate(t)
	ctx := context.Background()

	err := Login(ctx, "", "127.0.0.1:1", "u", "p")
	if err == nil || errors.Is(err, ErrUnauthorized) || !strings.HasPrefix(err.Error(), "login to 127.0.0.1:1: ") {
		t.Errorf("unreachable: err = %v", err)
	}
	if err := Login(ctx, "", "127.0.0.1:1", "", "p"); err == nil {
		t.Error("empty username accepted")
	}

	// A malformed config.json is reported, and left as it was.
	host, _ := newRegistry(t, basicAuth("u", "p"))
	writeFile(t, filepath.Join(dir, "config.json"), "{not json")
	err = Login(ctx, "", host, "u", "p")
	if err == nil || !strings.Contains(err.Error(), "config.json") {
		t.Errorf("malformed config: err = %v", err)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "config.json")); string(data) != "{not json" {
		t.Errorf("malformed config.json was rewritten: %q", data)
	}
	if _, err := NewKeychain("").Resolve(name.MustParseReference("x/y").Context()); err == nil {
		t.Error("keychain ignored a malformed config.json")
	}
}

func TestKeychain(t *testing.T) {
	isolate(t)
	// --config wins over DOCKER_CONFIG, and a missing directory is anonymous.
	dir := t.TempDir()
	kc := NewKeychain(filepath.Join(dir, "missing"))
	if a, err := kc.Resolve(name.MustParseReference("nginx").Context()); err != nil || a != authn.Anonymous {
		t.Errorf("missing dir: %v, %v", a, err)
	}

	hub := base64.StdEncoding.EncodeToString([]byte("hubuser:hubpass"))
	legacy := base64.StdEncoding.EncodeToString([]byte("old:timer"))
	writeFile(t, filepath.Join(dir, "config.json"), `{"auths": {
		"`+IndexServer+`": {"auth": "`+hub+`"},
		"http://legacy.example:5000": {"auth": "`+legacy+`"}
	}}`)
	kc = NewKeychain(dir)
	for _, reg := range []string{"docker.io", "index.docker.io", "registry-1.docker.io"} {
		if cfg := resolve(t, kc, reg); cfg.Username != "hubuser" || cfg.Password != "hubpass" {
			t.Errorf("%s: %+v", reg, cfg)
		}
	}
	if cfg := resolve(t, kc, "legacy.example:5000"); cfg.Username != "old" {
		t.Errorf("legacy scheme-prefixed key: %+v", cfg)
	}
	if cfg := resolve(t, kc, "ghcr.io"); cfg.Username != "" {
		t.Errorf("unknown registry: %+v", cfg)
	}

	// DOCKER_AUTH_CONFIG is layered over the file.
	env := base64.StdEncoding.EncodeToString([]byte("envuser:envpass"))
	t.Setenv("DOCKER_AUTH_CONFIG", `{"auths": {"ghcr.io": {"auth": "`+env+`"}}}`)
	if cfg := resolve(t, kc, "ghcr.io"); cfg.Username != "envuser" || cfg.Password != "envpass" {
		t.Errorf("DOCKER_AUTH_CONFIG: %+v", cfg)
	}
	if cfg := resolve(t, kc, "docker.io"); cfg.Username != "hubuser" {
		t.Errorf("file under DOCKER_AUTH_CONFIG: %+v", cfg)
	}
}

// fakeHelper is a docker-credential-<name> that keeps one credential in a
// file next to itself, enough to see the helper protocol used end to end.
const fakeHelper = `#!/bin/sh
store="$(dirname "$0")/creds.json"
case "$1" in
store) cat > "$store" ;;
get) read -r url; if [ -f "$store" ]; then cat "$store"; else echo "credentials not found in native keychain"; exit 1; fi ;;
erase) read -r url; if [ -f "$store" ]; then rm "$store"; else echo "credentials not found in native keychain"; exit 1; fi ;;
list) echo "{}" ;;
esac
`

func TestCredentialHelper(t *testing.T) {
	dir := isolate(t)
	bin := t.TempDir()
	writeFile(t, filepath.Join(bin, "docker-credential-fake"), fakeHelper)
	if err := os.Chmod(filepath.Join(bin, "docker-credential-fake"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+":/usr/bin:/bin")
	writeFile(t, filepath.Join(dir, "config.json"), `{"credsStore": "fake"}`)

	host, _ := newRegistry(t, basicAuth("bob", "builder"))
	if err := Login(context.Background(), "", host, "bob", "builder"); err != nil {
		t.Fatal(err)
	}
	stored, err := os.ReadFile(filepath.Join(bin, "creds.json"))
	if err != nil || !strings.Contains(string(stored), `"Secret":"builder"`) {
		t.Fatalf("helper store: %q, %v", stored, err)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "config.json")); strings.Contains(string(data), "builder") ||
		strings.Contains(string(data), base64.StdEncoding.EncodeToString([]byte("bob:builder"))) {
		t.Errorf("password leaked into config.json: %s", data)
	}
	if cfg := resolve(t, NewKeychain(""), host); cfg.Username != "bob" || cfg.Password != "builder" {
		t.Errorf("keychain via helper: %+v", cfg)
	}
	if _, err := Logout("", host); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(bin, "creds.json")); !os.IsNotExist(err) {
		t.Error("helper still holds the credentials after logout")
	}
}
