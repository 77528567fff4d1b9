package registry

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// baseTransport is what every endpoint's transport starts from: ggcr's
// default (proxy from the environment, sane timeouts). Endpoints without TLS
// settings share it, so connections are pooled across registries; tests
// replace it to steer connections.
var baseTransport = func() *http.Transport {
	if t, ok := remote.DefaultTransport.(*http.Transport); ok {
		return t
	}
	return http.DefaultTransport.(*http.Transport)
}()

// tlsSpec collects a host's TLS settings from hosts.toml, the docker-style
// certs directory and the insecure list.
type tlsSpec struct {
	caFiles    []string
	pairs      [][2]string
	skipVerify bool
}

// addCertsDir adds Docker's certs.d convention for host: every *.crt is an
// extra CA, every *.cert/*.key pair a client certificate. Like Docker, a
// half pair is an error rather than a silently ignored file.
func (s *tlsSpec) addCertsDir(root, host string) error {
	for _, d := range hostDirNames(host) {
		dir := filepath.Join(root, d)
		ents, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("reading certificates for %s: %w", host, err)
		}
		has := map[string]bool{}
		for _, e := range ents {
			has[e.Name()] = true
		}
		for _, e := range ents {
			n := e.Name()
			switch {
			case strings.HasSuffix(n, ".crt"):
				s.caFiles = append(s.caFiles, filepath.Join(dir, n))
			case strings.HasSuffix(n, ".cert"):
				key := strings.TrimSuffix(n, ".cert") + ".key"
				if !has[key] {
					return fmt.Errorf("%s: missing key %s for client certificate %s (CA certificates must use the extension .crt)", dir, key, n)
				}
				s.pairs = append(s.pairs, [2]string{filepath.Join(dir, n), filepath.Join(dir, key)})
			case strings.HasSuffix(n, ".key"):
				if cert := strings.TrimSuffix(n, ".key") + ".cert"; !has[cert] {
					return fmt.Errorf("%s: missing client certificate %s for key %s", dir, cert, n)
				}
			}
		}
	}
	return nil
}

// transport returns the base transport, or a clone of it when the host
// needs its own TLS configuration or dial timeout.
func (s tlsSpec) transport(dialTimeout time.Duration) (http.RoundTripper, error) {
	if len(s.caFiles) == 0 && len(s.pairs) == 0 && !s.skipVerify && dialTimeout == 0 {
		return baseTransport, nil
	}
	t := baseTransport.Clone()
	if dialTimeout != 0 {
		t.DialContext = (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext
	}
	cfg := t.TLSClientConfig
	if cfg == nil {
		cfg = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	// Only an explicitly insecure registry or skip_verify gets here with
	// skipVerify set; that is the user's documented choice.
	cfg.InsecureSkipVerify = s.skipVerify //nolint:gosec // opt-in per registry
	if len(s.caFiles) > 0 {
		// Extra CAs add to the system roots rather than replace them, as in
		// Docker and containerd, so a mirror behind a public CA still works.
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		for _, f := range s.caFiles {
			pem, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("reading CA: %w", err)
			}
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("reading CA %s: no PEM certificates found", f)
			}
		}
		cfg.RootCAs = pool
	}
	for _, p := range s.pairs {
		certPEM, err := os.ReadFile(p[0])
		if err != nil {
			return nil, fmt.Errorf("reading client certificate: %w", err)
		}
		keyPEM := certPEM
		if p[1] != "" {
			if keyPEM, err = os.ReadFile(p[1]); err != nil {
				return nil, fmt.Errorf("reading client key: %w", err)
			}
		}
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("loading client certificate %s: %w", p[0], err)
		}
		cfg.Certificates = append(cfg.Certificates, cert)
	}
	t.TLSClientConfig = cfg
	return t, nil
}

// hostTransport applies a host's hosts.toml settings to the requests that go
// to it; requests to other hosts (token servers, blob storage redirects)
// pass through untouched.
type hostTransport struct {
	inner http.RoundTripper
	host  string // host[:port] as go-containerregistry writes it in URLs

	// forceHTTP: hosts.toml said http://, so https is never attempted.
	forceHTTP bool
	// allowHTTP: an insecure registry; go-containerregistry may fall back
	// to http. Without either flag plain HTTP is refused, which also stops
	// go-containerregistry's own http fallback for RFC 1918 addresses:
	// Docker only allows that for registries marked insecure.
	allowHTTP bool

	path   string // API root that replaces "/v2" (may be "" with override_path)
	header http.Header
	ns     string // upstream registry, added as ?ns= on mirror API calls
}

func (t *hostTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != t.host {
		return t.inner.RoundTrip(req)
	}
	if req.URL.Scheme == "http" && !t.forceHTTP && !t.allowHTTP {
		if req.Body != nil {
			_ = req.Body.Close() // RoundTrip must close the body, even on error
		}
		return nil, fmt.Errorf("refusing plain HTTP to %s: it is not an insecure registry", t.host)
	}
	// A RoundTripper must not modify the caller's request.
	r := req.Clone(req.Context())
	if t.forceHTTP {
		r.URL.Scheme = "http"
	}
	for k, vs := range t.header {
		if r.Header.Get(k) == "" {
			r.Header[k] = append([]string(nil), vs...)
		}
	}
	if api, ok := strings.CutPrefix(r.URL.Path, "/v2"); ok && (api == "" || api[0] == '/') {
		if t.ns != "" {
			q := r.URL.Query()
			if q.Get("ns") == "" {
				q.Set("ns", t.ns)
				r.URL.RawQuery = q.Encode()
			}
		}
		if t.path != "/v2" {
			r.URL.Path = t.path + api
			r.URL.RawPath = ""
		}
	}
	return t.inner.RoundTrip(r)
}
