package registry

import (
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
)

func endpointURLs(eps []Endpoint) []string {
	var out []string
	for _, ep := range eps {
		out = append(out, ep.String())
	}
	return out
}

func TestEndpointsWithoutConfig(t *testing.T) {
	for _, h := range []*Hosts{nil, {}, {Dir: filepath.Join(t.TempDir(), "missing")}} {
		for _, reg := range []string{"docker.io", "index.docker.io"} {
			eps, err := h.Endpoints(reg, CapabilityResolve|CapabilityPull)
			if err != nil {
				t.Fatal(err)
			}
			if len(eps) != 1 {
				t.Fatalf("%s: got %d endpoints, want 1", reg, len(eps))
			}
			ep := eps[0]
			if ep.Mirror || ep.Registry.RegistryStr() != "index.docker.io" || ep.Registry.Scheme() != "https" ||
				ep.Capabilities != CapabilityPull|CapabilityResolve|CapabilityPush || ep.PathPrefix != "/v2" {
				t.Errorf("%s: unexpected endpoint %+v", reg, ep)
			}
		}
	}
}

func TestParseHostsFileFields(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "myreg.example", "hosts.toml")
	writeFile(t, file, `
server = "https://upstream.example:8443"
capabilities = ["pull", "resolve", "push"]
ca = "upstream-ca.crt"

[host."http://127.0.0.1:5000"]
  capabilities = ["pull", "resolve"]
  skip_verify = true
  ca = ["/abs/ca1.crt", "rel/ca2.crt"]
  client = [["/path/client.cert", "/path/client.key"], "both.pem"]
  dial_timeout = "3s"
  [host."http://127.0.0.1:5000".header]
    x-custom = "v"
    x-multi = ["a", "b"]

[host."https://mirror.example/proxy"]
  override_path = true
  client = "single.pem"

[host."mirror2.example/sub"]
`)
	mirrors, up, err := parseHostsFile(file, "myreg.example")
	if err != nil {
		t.Fatal(err)
	}
	if len(mirrors) != 3 {
		t.Fatalf("got %d mirrors, want 3", len(mirrors))
	}
	base := filepath.Dir(file)

	m := mirrors[0]
	if m.scheme != "http" || m.host != "127.0.0.1:5000" || m.path != "/v2" {
		t.Errorf("mirror 0 URL: %+v", m)
	}
	if m.caps != CapabilityPull|CapabilityResolve || !m.skipVerify || m.dialTimeout != 3*time.Second {
		t.Errorf("mirror 0 settings: %+v", m)
	}
	if want := []string{"/abs/ca1.crt", filepath.Join(base, "rel/ca2.crt")}; !slices.Equal(m.caFiles, want) {
		t.Errorf("ca = %v, want %v", m.caFiles, want)
	}
	if want := [][2]string{{"/path/client.cert", "/path/client.key"}, {filepath.Join(base, "both.pem"), ""}}; !slices.Equal(m.clientPairs, want) {
		t.Errorf("client = %v, want %v", m.clientPairs, want)
	}
	if m.header.Get("X-Custom") != "v" || !slices.Equal(m.header.Values("X-Multi"), []string{"a", "b"}) {
		t.Errorf("header = %v", m.header)
	}

	if m := mirrors[1]; m.scheme != "https" || m.host != "mirror.example" || m.path != "/proxy" || m.skipVerify ||
		m.caps != CapabilityPull|CapabilityResolve|CapabilityPush {
		t.Errorf("mirror 1: %+v", m)
	}
	if m := mirrors[2]; m.scheme != "https" || m.host != "mirror2.example" || m.path != "/sub/v2" {
		t.Errorf("mirror 2 (no scheme, path without override): %+v", m)
	}
	if up.host != "upstream.example:8443" || up.scheme != "https" ||
		!slices.Equal(up.caFiles, []string{filepath.Join(base, "upstream-ca.crt")}) {
		t.Errorf("upstream: %+v", up)
	}
}

func TestMirrorOrderFollowsFile(t *testing.T) {
	// Every spelling of a host section TOML allows; none of the documents
	// lists its hosts in alphabetical order.
	for _, tc := range []struct {
		doc  string
		want []string
	}{{
		doc: `
host."https://m.example".skip_verify = false
[host."https://z.example"]
  capabilities = ["pull", "resolve"]
[host."https://a.example"]
`,
		want: []string{"https://m.example/v2", "https://z.example/v2", "https://a.example/v2"},
	}, {
		doc: `
[host]
  "https://c.example" = { capabilities = ["pull"] }
  "https://b.example".skip_verify = true
[host."https://a.example"]
`,
		want: []string{"https://c.example/v2", "https://b.example/v2", "https://a.example/v2"},
	}} {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "docker.io", "hosts.toml"), tc.doc)
		eps, err := (&Hosts{Dir: dir}).Endpoints("docker.io", 0)
		if err != nil {
			t.Fatal(err)
		}
		want := append(tc.want, "https://index.docker.io/v2")
		if got := endpointURLs(eps); !slices.Equal(got, want) {
			t.Fatalf("order = %v, want %v", got, want)
		}
		for i, ep := range eps {
			if ep.Mirror != (i < len(eps)-1) {
				t.Errorf("%s: Mirror = %v", ep, ep.Mirror)
			}
		}
	}
}

func TestCapabilityFiltering(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "reg.example", "hosts.toml"), `
capabilities = ["pull", "resolve"]
[host."https://pull-only.example"]
  capabilities = ["pull"]
[host."https://both.example"]
  capabilities = ["pull", "resolve"]
`)
	h := &Hosts{Dir: dir}
	for _, tc := range []struct {
		want Capability
		urls []string
	}{
		{CapabilityPull, []string{"https://pull-only.example/v2", "https://both.example/v2", "https://reg.example/v2"}},
		{CapabilityResolve | CapabilityPull, []string{"https://both.example/v2", "https://reg.example/v2"}},
	} {
		eps, err := h.Endpoints("reg.example", tc.want)
		if err != nil {
			t.Fatal(err)
		}
		if got := endpointURLs(eps); !slices.Equal(got, tc.urls) {
			t.Errorf("%s: got %v, want %v", tc.want, got, tc.urls)
		}
	}
	if _, err := h.Endpoints("reg.example", CapabilityPush); err == nil || !strings.Contains(err.Error(), "push") {
		t.Errorf("push with no push-capable host: err = %v", err)
	}
}

func TestDefaultDirectory(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "_default", "hosts.toml"), `[host."https://catchall.example"]`)
	writeFile(t, filepath.Join(dir, "own.example", "hosts.toml"), `[host."https://own-mirror.example"]`)
	h := &Hosts{Dir: dir}
	for reg, want := range map[string][]string{
		"other.example": {"https://catchall.example/v2", "https://other.example/v2"},
		"own.example":   {"https://own-mirror.example/v2", "https://own.example/v2"},
	} {
		eps, err := h.Endpoints(reg, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := endpointURLs(eps); !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", reg, got, want)
		}
	}
}

func TestDockerHubMirrorAndRebase(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "docker.io", "hosts.toml"), `
server = "https://registry-1.docker.io"
[host."http://127.0.0.1:5000"]
  capabilities = ["pull", "resolve"]
`)
	h := &Hosts{Dir: dir}
	for _, reg := range []string{"docker.io", "index.docker.io", "registry-1.docker.io"} {
		eps, err := h.Endpoints(reg, CapabilityPull)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"http://127.0.0.1:5000/v2", "https://registry-1.docker.io/v2"}
		if got := endpointURLs(eps); !slices.Equal(got, want) {
			t.Fatalf("%s: got %v, want %v", reg, got, want)
		}
		if eps[0].Registry.Scheme() != "http" {
			t.Errorf("http:// mirror must be insecure for ggcr")
		}
	}
	eps, _ := h.Endpoints("docker.io", CapabilityPull)
	const dgst = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
	for in, want := range map[string][2]string{
		"nginx":                               {"127.0.0.1:5000/library/nginx:latest", "registry-1.docker.io/library/nginx:latest"},
		"docker.io/library/nginx:latest":      {"127.0.0.1:5000/library/nginx:latest", "registry-1.docker.io/library/nginx:latest"},
		"index.docker.io/foo/bar:1.2":         {"127.0.0.1:5000/foo/bar:1.2", "registry-1.docker.io/foo/bar:1.2"},
		"nginx@" + dgst:                       {"127.0.0.1:5000/library/nginx@" + dgst, "registry-1.docker.io/library/nginx@" + dgst},
		"docker.io/library/nginx:1.2@" + dgst: {"127.0.0.1:5000/library/nginx@" + dgst, "registry-1.docker.io/library/nginx@" + dgst},
	} {
		ref, err := name.ParseReference(in)
		if err != nil {
			t.Fatal(err)
		}
		for i, ep := range eps {
			got, err := ep.Rebase(ref)
			if err != nil {
				t.Fatal(err)
			}
			if got.Name() != want[i] {
				t.Errorf("Rebase(%s) on %s = %s, want %s", in, ep, got.Name(), want[i])
			}
		}
	}
}

func TestHostsFileErrorsNameTheFile(t *testing.T) {
	for _, content := range []string{
		"[host.\"https://a.example\"\n", // unterminated table
		"[host.\"https://a.example\"]\ncapabilities = [\"pull\", \"fly\"]\n",
		"[host.\"https://a.example\"]\nca = 3\n",
		"[host.\"ftp://a.example\"]\n",
		"[host.\"https://a.example\"]\nclient = [[\"a\", \"b\", \"c\"]]\n",
		"[host.\"https://a.example\"]\ndial_timeout = \"soon\"\n",
	} {
		dir := t.TempDir()
		file := filepath.Join(dir, "reg.example", "hosts.toml")
		writeFile(t, file, content)
		_, err := (&Hosts{Dir: dir}).Endpoints("reg.example", 0)
		if err == nil || !strings.Contains(err.Error(), file) {
			t.Errorf("%q: err = %v, want one naming %s", content, err, file)
		}
	}
}

func TestIsInsecure(t *testing.T) {
	h := &Hosts{Insecure: []string{"myreg:5000", "anyport", "10.0.0.0/8", "http://withscheme:80/", "docker.io"}}
	for host, want := range map[string]bool{
		"localhost:5000":    true,
		"localhost":         true,
		"127.0.0.2:80":      true,
		"[::1]:5000":        true,
		"myreg:5000":        true,
		"myreg:5001":        false,
		"anyport:1234":      true,
		"anyport":           true,
		"10.1.2.3:5000":     true,
		"11.1.2.3:5000":     false,
		"192.168.1.2:5000":  false,
		"withscheme:80":     true,
		"index.docker.io":   true,
		"example.com":       false,
		"evil.localhost.cn": false,
	} {
		if got := h.isInsecure(host); got != want {
			t.Errorf("isInsecure(%s) = %v, want %v", host, got, want)
		}
	}
}

// ggcr lets RFC 1918 registries fall back to plain HTTP; Docker does not
// unless they are insecure, and neither do we.
func TestPlainHTTPRefusedUnlessInsecure(t *testing.T) {
	eps, err := (&Hosts{}).Endpoints("10.1.2.3:5000", 0)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, "http://10.1.2.3:5000/v2/", nil)
	_, err = eps[0].Transport.RoundTrip(req)
	if err == nil || !strings.Contains(err.Error(), "refusing plain HTTP") {
		t.Fatalf("err = %v, want refusal", err)
	}
}
