package registry

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
)

// Capability is what a host may be used for, as in containerd's hosts.toml.
// Values combine as a bit set.
type Capability uint8

const (
	// CapabilityPull allows fetching content by digest (blobs, manifests).
	CapabilityPull Capability = 1 << iota
	// CapabilityResolve allows resolving a tag to a digest.
	CapabilityResolve
	// CapabilityPush allows pushing content.
	CapabilityPush
)

// ParseCapability parses "pull", "resolve" or "push".
func ParseCapability(s string) (Capability, error) {
	switch strings.ToLower(s) {
	case "pull":
		return CapabilityPull, nil
	case "resolve":
		return CapabilityResolve, nil
	case "push":
		return CapabilityPush, nil
	}
	return 0, fmt.Errorf("unknown capability %q (want pull, resolve or push)", s)
}

func (c Capability) String() string {
	var parts []string
	for _, x := range []struct {
		c Capability
		s string
	}{{CapabilityPull, "pull"}, {CapabilityResolve, "resolve"}, {CapabilityPush, "push"}} {
		if c&x.c != 0 {
			parts = append(parts, x.s)
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ",")
}

// Has reports whether c includes every capability in want.
func (c Capability) Has(want Capability) bool { return c&want == want }

// DefaultHostsDir is where root looks for per-registry hosts.toml files.
const DefaultHostsDir = "/etc/nerd/certs.d"

// UserHostsDir is the rootless counterpart of DefaultHostsDir:
// $XDG_CONFIG_HOME/nerd/certs.d, i.e. ~/.config/nerd/certs.d by default.
func UserHostsDir() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("locating the user hosts directory: %w", err)
	}
	return filepath.Join(dir, "nerd", "certs.d"), nil
}

// Hosts resolves which hosts serve a registry, from a certs.d-style
// directory in containerd's format and a list of insecure registries.
// The zero value (no directory, nothing insecure) is ready to use. Use a
// *Hosts and do not copy it: it caches transports so that connections are
// reused across pulls of the same registry.
type Hosts struct {
	// Dir holds <host[:port]>/hosts.toml (and docker-style *.crt, *.cert,
	// *.key) files, plus _default/hosts.toml for every other registry. A
	// missing or empty Dir means no mirrors.
	Dir string
	// Insecure lists registries ("host", "host:port" or a CIDR of literal
	// IPs) that may be reached over plain HTTP and whose TLS certificate
	// is not verified, like dockerd's --insecure-registry. A "host" entry
	// matches every port. 127.0.0.0/8, ::1 and localhost are always
	// insecure, as in Docker.
	Insecure []string

	mu    sync.Mutex
	cache map[string][]Endpoint
}

// Endpoint is one host able to serve a registry's content.
type Endpoint struct {
	// Registry is the host requests go to; it carries name.Insecure when
	// plain HTTP is allowed, so that go-containerregistry tries it.
	Registry name.Registry
	// Mirror is false only for the upstream (the registry itself, or the
	// hosts.toml "server").
	Mirror bool
	// Capabilities says what this host may be used for.
	Capabilities Capability
	// Transport carries the host's TLS settings and headers and maps the
	// standard /v2 API root onto PathPrefix. Hand it to
	// remote.WithTransport; it does not authenticate.
	Transport http.RoundTripper
	// PathPrefix is the API root on the host ("/v2" unless hosts.toml gave
	// a path); Transport rewrites request paths accordingly.
	PathPrefix string

	scheme string
}

// String is the endpoint's base URL, for messages.
func (e Endpoint) String() string {
	return e.scheme + "://" + e.Registry.RegistryStr() + e.PathPrefix
}

// Rebase returns ref (same repository path and tag or digest) on e's
// registry, e.g. docker.io/library/nginx:latest on a mirror at
// 127.0.0.1:5000 becomes 127.0.0.1:5000/library/nginx:latest.
func (e Endpoint) Rebase(ref name.Reference) (name.Reference, error) {
	repo := e.Registry.Repo(ref.Context().RepositoryStr())
	switch r := ref.(type) {
	case name.Tag:
		return repo.Tag(r.TagStr()), nil
	case name.Digest:
		return repo.Digest(r.DigestStr()), nil
	default:
		return nil, fmt.Errorf("rebasing %s onto %s: unsupported reference type %T", ref, e.Registry, ref)
	}
}

// Endpoints returns the hosts for registry ("docker.io", "index.docker.io",
// "host:port") that have every capability in want: mirrors in file order
// first, then the upstream. It is an error if none qualifies. want == 0
// returns all of them.
func (h *Hosts) Endpoints(registry string, want Capability) ([]Endpoint, error) {
	all, err := h.all(registry)
	if err != nil {
		return nil, err
	}
	var out []Endpoint
	for _, ep := range all {
		if ep.Capabilities.Has(want) {
			out = append(out, ep)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("registry %s: no configured host has the %s capability", registry, want)
	}
	return out, nil
}

// Upstream returns the registry's own endpoint (or its hosts.toml "server"),
// whatever its capabilities: it is what login talks to.
func (h *Hosts) Upstream(registry string) (Endpoint, error) {
	all, err := h.all(registry)
	if err != nil {
		return Endpoint{}, err
	}
	return all[len(all)-1], nil
}

func (h *Hosts) all(registry string) ([]Endpoint, error) {
	if h == nil {
		h = &Hosts{} // a nil *Hosts means "no configuration"; nothing to cache
	}
	reg, err := name.NewRegistry(registry)
	if err != nil {
		return nil, fmt.Errorf("parsing registry %q: %w", registry, err)
	}
	key := reg.RegistryStr() // docker.io is already index.docker.io here

	h.mu.Lock()
	defer h.mu.Unlock()
	if eps, ok := h.cache[key]; ok {
		return eps, nil
	}
	eps, err := h.load(key)
	if err != nil {
		return nil, err
	}
	if h.cache == nil {
		h.cache = map[string][]Endpoint{}
	}
	h.cache[key] = eps
	return eps, nil
}

// load builds the endpoints of registry (in go-containerregistry's spelling)
// from <Dir>/<registry>/hosts.toml, else <Dir>/_default/hosts.toml, else
// the registry alone.
func (h *Hosts) load(registry string) ([]Endpoint, error) {
	mirrors, upstream, err := h.readHostsFile(registry)
	if err != nil {
		return nil, err
	}
	eps := make([]Endpoint, 0, len(mirrors)+1)
	for _, m := range mirrors {
		ep, err := h.endpoint(m, registry, true)
		if err != nil {
			return nil, err
		}
		eps = append(eps, ep)
	}
	ep, err := h.endpoint(upstream, registry, false)
	if err != nil {
		return nil, err
	}
	return append(eps, ep), nil
}

func (h *Hosts) readHostsFile(registry string) ([]hostConfig, hostConfig, error) {
	if h.Dir != "" {
		for _, d := range append(hostDirNames(registry), "_default") {
			file := filepath.Join(h.Dir, d, "hosts.toml")
			mirrors, upstream, err := parseHostsFile(file, registry)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, hostConfig{}, err
			}
			return mirrors, upstream, nil
		}
	}
	// Same defaults as a hosts.toml with no keys at all.
	up, err := parseHostConfig("https://"+registry, "", hostFileConfig{})
	return nil, up, err
}

// hostDirNames are the directory names under Dir that configure host.
// Docker Hub is configured as "docker.io" (containerd's and Docker's
// convention) whatever spelling the reference used.
func hostDirNames(host string) []string {
	if isDockerHub(host) {
		return []string{"docker.io"}
	}
	return []string{host}
}

func isDockerHub(host string) bool {
	switch host {
	case "docker.io", name.DefaultRegistry, "registry-1.docker.io":
		return true
	}
	return false
}

func (h *Hosts) endpoint(hc hostConfig, registry string, mirror bool) (Endpoint, error) {
	insecure := h.isInsecure(hc.host)
	opts := []name.Option{}
	if hc.scheme == "http" || insecure {
		opts = append(opts, name.Insecure)
	}
	reg, err := name.NewRegistry(hc.host, opts...)
	if err != nil {
		return Endpoint{}, fmt.Errorf("registry %s: host %s: %w", registry, hc.host, err)
	}

	spec := tlsSpec{
		caFiles:    hc.caFiles,
		pairs:      hc.clientPairs,
		skipVerify: hc.skipVerify || insecure,
	}
	if h.Dir != "" {
		if err := spec.addCertsDir(h.Dir, hc.host); err != nil {
			return Endpoint{}, err
		}
	}
	base, err := spec.transport(hc.dialTimeout)
	if err != nil {
		return Endpoint{}, fmt.Errorf("registry %s: host %s: %w", registry, hc.host, err)
	}

	ht := &hostTransport{
		inner:     base,
		host:      reg.RegistryStr(),
		forceHTTP: hc.scheme == "http",
		allowHTTP: insecure,
		path:      hc.path,
		header:    hc.header,
	}
	if mirror {
		// containerd tells a mirror which upstream a request is for, so a
		// proxy serving several registries (Harbor, zot) can tell them apart.
		ht.ns = registry
		if isDockerHub(registry) {
			ht.ns = "docker.io"
		}
	}
	return Endpoint{
		Registry:     reg,
		Mirror:       mirror,
		Capabilities: hc.caps,
		Transport:    ht,
		PathPrefix:   hc.path,
		scheme:       hc.scheme,
	}, nil
}

// isInsecure reports whether host (host[:port]) may use plain HTTP and skip
// TLS verification: listed in h.Insecure, or on loopback (Docker treats
// 127.0.0.0/8 as insecure by default; traffic never leaves the machine).
func (h *Hosts) isInsecure(host string) bool {
	hostname := host
	if hn, _, err := net.SplitHostPort(host); err == nil {
		hostname = hn
	}
	hostname = strings.Trim(hostname, "[]")
	ip := net.ParseIP(hostname)
	if hostname == "localhost" || strings.HasSuffix(hostname, ".localhost") || (ip != nil && ip.IsLoopback()) {
		return true
	}
	for _, e := range h.Insecure {
		e = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(e, "http://"), "https://"), "/")
		if strings.Contains(e, "/") {
			if _, cidr, err := net.ParseCIDR(e); err == nil && ip != nil && cidr.Contains(ip) {
				return true
			}
			continue
		}
		if e == host || e == hostname || (isDockerHub(e) && isDockerHub(hostname)) {
			return true
		}
	}
	return false
}
