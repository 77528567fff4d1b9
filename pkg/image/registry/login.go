package registry

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/config/credentials"
	"github.com/docker/cli/cli/config/types"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

var (
	// ErrUnauthorized means the registry rejected the credentials.
	ErrUnauthorized = errors.New("unauthorized: incorrect username or password")
	// ErrNotLoggedIn is returned by Logout when nothing was stored for the
	// server; the CLI prints "Not logged in to SERVER" and succeeds.
	ErrNotLoggedIn = errors.New("not logged in")
)

// LoginOption configures Login.
type LoginOption func(*loginOptions)

type loginOptions struct {
	hosts *Hosts
}

// WithHosts makes Login reach the registry the way pulls do: its hosts.toml
// "server", TLS settings and the insecure list (plain HTTP, no verification).
// Without it only the built-in rules apply (loopback may use plain HTTP).
func WithHosts(h *Hosts) LoginOption {
	return func(o *loginOptions) { o.hosts = h }
}

// Login checks username/password against server (see NormalizeServer; ""
// is Docker Hub) and, only if the registry accepts them, stores them in the
// configuration in ConfigDir(cfgDir) — through its credential helper when
// one is configured, else base64 in config.json, exactly like docker login.
// Rejected credentials give an error wrapping ErrUnauthorized.
func Login(ctx context.Context, cfgDir, server, username, password string, opts ...LoginOption) error {
	key := NormalizeServer(server)
	host := registryHost(key)
	if username == "" || password == "" {
		return fmt.Errorf("login to %s: username and password are required", host)
	}
	o := loginOptions{}
	for _, opt := range opts {
		opt(&o)
	}
	if o.hosts == nil {
		o.hosts = &Hosts{}
	}

	// Load before talking to the registry: a malformed config.json must fail
	// the login rather than be overwritten by Save.
	cf, err := config.Load(ConfigDir(cfgDir))
	if err != nil {
		return fmt.Errorf("login to %s: %w", host, err)
	}
	ep, err := o.hosts.Upstream(host)
	if err != nil {
		return fmt.Errorf("login to %s: %w", host, err)
	}
	if err := verify(ctx, ep, username, password); err != nil {
		var terr *transport.Error
		if errors.As(err, &terr) && terr.StatusCode == http.StatusUnauthorized {
			return fmt.Errorf("login to %s: %w", host, ErrUnauthorized)
		}
		return fmt.Errorf("login to %s: %w", host, err)
	}

	// Like docker login: a configuration without any credentials yet adopts
	// the platform's helper (pass, secretservice) if its binary is installed.
	if !cf.ContainsAuth() {
		cf.CredentialsStore = credentials.DetectDefaultStore(cf.CredentialsStore)
	}
	ac := types.AuthConfig{Username: username, Password: password, ServerAddress: key}
	if err := cf.GetCredentialsStore(key).Store(ac); err != nil {
		return fmt.Errorf("login to %s: storing credentials: %w", host, err)
	}
	return nil
}

// verify performs the registry handshake that a pull would (ping, then the
// Basic or Bearer token exchange) with the given credentials, then GETs
// /v2/ with them: a Basic registry only checks credentials on a request,
// not during the handshake.
func verify(ctx context.Context, ep Endpoint, username, password string) error {
	auth := authn.FromConfig(authn.AuthConfig{Username: username, Password: password})
	rt, err := transport.NewWithContext(ctx, ep.Registry, auth, ep.Transport, nil)
	if err != nil {
		return err
	}
	// The scheme is a placeholder: the transport switches to whatever the
	// ping found (plain HTTP for an insecure registry).
	url := "https://" + ep.Registry.RegistryStr() + "/v2/"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Transport: rt}).Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	return transport.CheckError(resp, http.StatusOK)
}

// Logout erases the credentials stored for server (see NormalizeServer) and
// returns the normalised name, which is what Docker prints ("Removing login
// credentials for NAME"). Like docker logout it also erases the legacy
// "http://" and "https://" spellings. It returns ErrNotLoggedIn when nothing
// was stored, and an error only if no erase succeeded.
func Logout(cfgDir, server string) (string, error) {
	key := NormalizeServer(server)
	keys := []string{key}
	if key != IndexServer {
		keys = append(keys, "http://"+key, "https://"+key)
	}
	cf, err := config.Load(ConfigDir(cfgDir))
	if err != nil {
		return key, fmt.Errorf("logout from %s: %w", key, err)
	}

	loggedIn := false
	for _, k := range keys {
		if ac, err := cf.GetCredentialsStore(k).Get(k); err == nil && hasCredentials(ac) {
			loggedIn = true
			break
		}
	}
	if !loggedIn {
		return key, ErrNotLoggedIn
	}

	var errs []error
	for _, k := range keys {
		if err := cf.GetCredentialsStore(k).Erase(k); err != nil {
			errs = append(errs, err)
		}
	}
	// Helpers fail to erase what they do not hold, so only an all-round
	// failure means the credentials are still there.
	if len(errs) == len(keys) {
		return key, fmt.Errorf("removing login credentials for %s: %w", key, errs[0])
	}
	return key, nil
}
