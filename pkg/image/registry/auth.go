package registry

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"

	"github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/config/credentials"
	"github.com/docker/cli/cli/config/types"
	"github.com/google/go-containerregistry/pkg/authn"
)

// IndexServer is the key Docker Hub credentials are stored under in
// config.json, for historical reasons.
const IndexServer = "https://index.docker.io/v1/"

// ConfigDir returns the Docker client configuration directory: override
// (docker's global --config flag) if set, else $DOCKER_CONFIG, else
// ~/.docker — the same order as docker/cli's config.Dir. It does not use
// config.Dir itself because that caches the answer for the process.
func ConfigDir(override string) string {
	if override != "" {
		return filepath.Clean(override)
	}
	if d := os.Getenv(config.EnvOverrideConfigDir); d != "" {
		return d
	}
	home, _ := os.UserHomeDir()
	if home == "" {
		if u, err := user.Current(); err == nil {
			home = u.HomeDir
		}
	}
	return filepath.Join(home, ".docker")
}

// NormalizeServer maps what a user passes to login/logout to the key
// credentials are stored under, like docker login: "" and every Docker Hub
// spelling become IndexServer; anything else loses its scheme and path
// ("http://host:5000/" becomes "host:5000").
func NormalizeServer(server string) string {
	if server == "" || server == IndexServer {
		return IndexServer
	}
	host := credentials.ConvertToHostname(server)
	if isDockerHub(host) {
		return IndexServer
	}
	return host
}

// registryHost is the host to contact for a NormalizeServer key.
func registryHost(key string) string {
	if key == IndexServer {
		return "docker.io"
	}
	return key
}

// Keychain resolves registry credentials from a Docker client configuration
// directory, including its credsStore/credHelpers (docker-credential-*
// helpers) and, layered on top, the DOCKER_AUTH_CONFIG environment variable
// (docker/cli's configfile does that layering for us).
type Keychain struct {
	dir string
}

var _ authn.Keychain = (*Keychain)(nil)

// NewKeychain returns a keychain over ConfigDir(cfgDir).
func NewKeychain(cfgDir string) *Keychain {
	return &Keychain{dir: ConfigDir(cfgDir)}
}

// Resolve implements authn.Keychain. The configuration is re-read on every
// call, as go-containerregistry's default keychain does, so a login by
// another process is picked up; it is one small file per registry handshake.
// Anonymous is returned when nothing is stored for the registry.
func (k *Keychain) Resolve(target authn.Resource) (authn.Authenticator, error) {
	key := NormalizeServer(target.RegistryStr())
	// A missing directory or file is an empty configuration (anonymous);
	// a malformed one is an error naming the file.
	cf, err := config.Load(k.dir)
	if err != nil {
		return nil, fmt.Errorf("loading credentials: %w", err)
	}
	ac, err := cf.GetAuthConfig(key)
	if err != nil {
		return nil, fmt.Errorf("getting credentials for %s: %w", key, err)
	}
	if !hasCredentials(ac) {
		return authn.Anonymous, nil
	}
	return authn.FromConfig(authn.AuthConfig{
		Username:      ac.Username,
		Password:      ac.Password,
		Auth:          ac.Auth,
		IdentityToken: ac.IdentityToken,
		RegistryToken: ac.RegistryToken,
	}), nil
}

// hasCredentials reports whether ac holds anything to authenticate with.
func hasCredentials(ac types.AuthConfig) bool {
	return ac.Username != "" || ac.Password != "" || ac.Auth != "" ||
		ac.IdentityToken != "" || ac.RegistryToken != ""
}
