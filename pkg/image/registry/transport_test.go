package registry

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// clientCert makes a self-signed client certificate usable as its own CA.
func clientCert(t *testing.T) (certPEM, keyPEM []byte, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "nerd-test-client"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ = x509.ParseCertificate(der)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), cert
}

func ping(t *testing.T, h *Hosts, reg string) error {
	t.Helper()
	ep, err := h.Upstream(reg)
	if err != nil {
		return err
	}
	_, err = transport.Ping(context.Background(), ep.Registry, ep.Transport)
	return err
}

// example.com is in httptest's certificate and is not loopback, so it gets
// no implicit insecurity: what verifies is what we configured.
func TestServerVerification(t *testing.T) {
	srv := httptest.NewUnstartedServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the failing case's handshake error
	srv.StartTLS()
	defer srv.Close()
	steer(t, srv.Listener.Addr().String())
	caPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))

	for _, tc := range []struct {
		name  string
		setup func(dir string) *Hosts
		ok    bool
	}{
		{"unconfigured", func(dir string) *Hosts { return &Hosts{Dir: dir} }, false},
		{"docker-style ca.crt", func(dir string) *Hosts {
			writeFile(t, filepath.Join(dir, "example.com", "ca.crt"), caPEM)
			return &Hosts{Dir: dir}
		}, true},
		{"hosts.toml ca", func(dir string) *Hosts {
			writeFile(t, filepath.Join(dir, "certs", "my-ca.pem"), caPEM)
			writeFile(t, filepath.Join(dir, "example.com", "hosts.toml"), `ca = "`+filepath.Join(dir, "certs", "my-ca.pem")+`"`)
			return &Hosts{Dir: dir}
		}, true},
		{"hosts.toml skip_verify", func(dir string) *Hosts {
			writeFile(t, filepath.Join(dir, "example.com", "hosts.toml"), `skip_verify = true`)
			return &Hosts{Dir: dir}
		}, true},
		{"insecure registry", func(string) *Hosts { return &Hosts{Insecure: []string{"example.com"}} }, true},
	} {
		err := ping(t, tc.setup(t.TempDir()), "example.com")
		if tc.ok && err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
		if !tc.ok && (err == nil || !strings.Contains(err.Error(), "certificate")) {
			t.Errorf("%s: err = %v, want a certificate error", tc.name, err)
		}
	}
}

func TestClientCertificates(t *testing.T) {
	certPEM, keyPEM, cert := clientCert(t)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	srv := httptest.NewUnstartedServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	steer(t, srv.Listener.Addr().String())
	caPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))

	for _, tc := range []struct {
		name    string
		files   map[string]string
		wantErr string // "" = success
	}{
		{"no client certificate", map[string]string{"example.com/ca.crt": caPEM}, "certificate"},
		{"docker-style pair", map[string]string{
			"example.com/ca.crt": caPEM, "example.com/client.cert": string(certPEM), "example.com/client.key": string(keyPEM),
		}, ""},
		{"hosts.toml client pair", map[string]string{
			"example.com/hosts.toml": "ca = \"ca.pem\"\nclient = [[\"c.pem\", \"k.pem\"]]\n",
			"example.com/ca.pem":     caPEM, "example.com/c.pem": string(certPEM), "example.com/k.pem": string(keyPEM),
		}, ""},
		{"hosts.toml combined pem", map[string]string{
			"example.com/hosts.toml": "ca = \"ca.pem\"\nclient = \"both.pem\"\n",
			"example.com/ca.pem":     caPEM, "example.com/both.pem": string(certPEM) + string(keyPEM),
		}, ""},
		{"cert without key", map[string]string{
			"example.com/ca.crt": caPEM, "example.com/client.cert": string(certPEM),
		}, "missing key client.key"},
		{"key without cert", map[string]string{
			"example.com/ca.crt": caPEM, "example.com/client.key": string(keyPEM),
		}, "missing client certificate client.cert"},
	} {
		dir := t.TempDir()
		for f, content := range tc.files {
			writeFile(t, filepath.Join(dir, f), content)
		}
		err := ping(t, &Hosts{Dir: dir}, "example.com")
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.wantErr)
		}
	}
}

// requestLog records what a fake mirror was asked for.
type requestLog struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (l *requestLog) add(r *http.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reqs = append(l.reqs, r)
}

func (l *requestLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.reqs)
}

// A Docker Hub mirror under a path, with a header it insists on: the
// reference stays docker.io/library/nginx, the mirror sees its own paths,
// the header and ?ns=docker.io.
func TestMirrorPathHeaderAndNamespace(t *testing.T) {
	for _, tc := range []struct {
		hostURL, override, prefix string
	}{
		{"/prefix", "false", "/prefix/v2"},
		{"/api/docker", "true", "/api/docker"},
	} {
		var log requestLog
		var mirrorAddr string
		mirrorAddr, _ = newRegistry(t, func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				rest, ok := strings.CutPrefix(r.URL.Path, tc.prefix)
				if !ok { // direct access, used to seed the mirror
					next.ServeHTTP(w, r)
					return
				}
				log.add(r)
				if r.Header.Get("X-Custom") != "v" {
					http.Error(w, "missing header", http.StatusForbidden)
					return
				}
				r2 := r.Clone(r.Context())
				r2.URL.Path = "/v2" + rest
				next.ServeHTTP(w, r2)
			})
		})
		img := pushRandom(t, mirrorAddr+"/library/nginx:latest")

		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "docker.io", "hosts.toml"), `
[host."http://`+mirrorAddr+tc.hostURL+`"]
  capabilities = ["pull", "resolve"]
  override_path = `+tc.override+`
  [host."http://`+mirrorAddr+tc.hostURL+`".header]
    x-custom = "v"
`)
		eps, err := (&Hosts{Dir: dir}).Endpoints("docker.io", CapabilityResolve|CapabilityPull)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := eps[0].Rebase(name.MustParseReference("nginx"))
		if err != nil {
			t.Fatal(err)
		}
		got, err := remote.Image(ref, remote.WithTransport(eps[0].Transport))
		if err != nil {
			t.Fatalf("override_path=%s: %v", tc.override, err)
		}
		if d1, _ := got.Digest(); d1 != mustDigest(t, img) {
			t.Errorf("wrong image from mirror")
		}
		if log.count() == 0 {
			t.Fatalf("mirror path %s never used", tc.prefix)
		}
		for _, r := range log.reqs {
			if r.URL.Query().Get("ns") != "docker.io" {
				t.Errorf("%s: ns = %q, want docker.io", r.URL, r.URL.Query().Get("ns"))
			}
		}
	}
}

func mustDigest(t *testing.T, img v1.Image) v1.Hash {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestTryFallsBackFromMirror(t *testing.T) {
	var mirrorLog requestLog
	mirror, _ := newRegistry(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mirrorLog.add(r)
			next.ServeHTTP(w, r)
		})
	})
	upstream, _ := newRegistry(t, nil)
	img := pushRandom(t, upstream+"/team/app:v1")

	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, upstream, "hosts.toml"), `[host."http://`+mirror+`"]`)
	eps, err := (&Hosts{Dir: dir}).Endpoints(upstream, CapabilityResolve|CapabilityPull)
	if err != nil {
		t.Fatal(err)
	}
	if len(eps) != 2 || !eps[0].Mirror || eps[1].Mirror {
		t.Fatalf("endpoints = %v", endpointURLs(eps))
	}
	pull := func(refStr string) func(Endpoint) (v1.Image, error) {
		return func(ep Endpoint) (v1.Image, error) {
			ref, err := name.ParseReference(refStr)
			if err != nil {
				return nil, err
			}
			if ref, err = ep.Rebase(ref); err != nil {
				return nil, err
			}
			return remote.Image(ref, remote.WithTransport(ep.Transport))
		}
	}
	ctx := context.Background()

	got, err := Try(ctx, eps, pull(upstream+"/team/app:v1"))
	if err != nil {
		t.Fatal(err)
	}
	if mustDigest(t, got) != mustDigest(t, img) {
		t.Error("wrong image")
	}
	if mirrorLog.count() == 0 {
		t.Error("mirror was not tried first")
	}

	// When everything fails, the upstream's error is the one reported.
	_, err = Try(ctx, eps, pull(upstream+"/team/missing:v1"))
	if err == nil || !strings.Contains(err.Error(), upstream) || strings.Contains(err.Error(), mirror) {
		t.Errorf("err = %v, want the upstream's (%s) error", err, upstream)
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	calls := 0
	_, err = Try(cctx, eps, func(Endpoint) (int, error) { calls++; return 0, nil })
	if !errors.Is(err, context.Canceled) || calls != 0 {
		t.Errorf("cancelled: err = %v, calls = %d", err, calls)
	}
	if _, err := Try(ctx, nil, func(Endpoint) (int, error) { return 1, nil }); err == nil {
		t.Error("no endpoints: want an error")
	}
}
