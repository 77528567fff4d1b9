package registry

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// hostFileConfig is one host section of a containerd hosts.toml
// (containerd docs/hosts.md). The fields that containerd accepts as "a string
// or a list" are decoded as any and normalised by hand, so files written for
// containerd (or nerdctl) work unchanged. Unknown keys are ignored, as
// containerd does, so newer containerd files still load.
type hostFileConfig struct {
	Capabilities []string       `toml:"capabilities"`
	CA           any            `toml:"ca"`
	Client       any            `toml:"client"`
	SkipVerify   bool           `toml:"skip_verify"`
	Header       map[string]any `toml:"header"`
	OverridePath bool           `toml:"override_path"`
	DialTimeout  string         `toml:"dial_timeout"`
}

// hostFile is a whole hosts.toml: the top-level keys configure the upstream
// ("server"), the [host."URL"] tables the mirrors.
type hostFile struct {
	Server string `toml:"server"`
	hostFileConfig
	Host map[string]hostFileConfig `toml:"host"`
}

// hostConfig is a parsed, validated host entry.
type hostConfig struct {
	scheme      string // "http" or "https", as written in the file
	host        string // host[:port]
	path        string // API root; "/v2" unless the file gave a path
	caps        Capability
	caFiles     []string
	clientPairs [][2]string // cert, key ("" = key in the cert file)
	skipVerify  bool
	header      http.Header
	dialTimeout time.Duration
}

// parseHostsFile reads file (a hosts.toml for registry) and returns its
// mirrors in file order and its upstream. Relative paths in the file are
// resolved against the file's directory, like containerd does. Every error
// names the file.
func parseHostsFile(file, registry string) (mirrors []hostConfig, upstream hostConfig, err error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, hostConfig{}, err
	}
	var hf hostFile
	if err := toml.Unmarshal(data, &hf); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, col := de.Position()
			return nil, hostConfig{}, fmt.Errorf("%s:%d:%d: %w", file, row, col, err)
		}
		return nil, hostConfig{}, fmt.Errorf("%s: %w", file, err)
	}
	baseDir := filepath.Dir(file)

	// Maps forget order, but the order of [host] tables is the order mirrors
	// are tried in, so recover it from the document itself.
	for _, key := range hostOrder(data, hf.Host) {
		hc, err := parseHostConfig(key, baseDir, hf.Host[key])
		if err != nil {
			return nil, hostConfig{}, fmt.Errorf("%s: host %q: %w", file, key, err)
		}
		mirrors = append(mirrors, hc)
	}

	server := hf.Server
	if server == "" {
		server = "https://" + registry
	}
	upstream, err = parseHostConfig(server, baseDir, hf.hostFileConfig)
	if err != nil {
		return nil, hostConfig{}, fmt.Errorf("%s: server %q: %w", file, server, err)
	}
	return mirrors, upstream, nil
}

// parseHostConfig turns one section into a hostConfig; the URL handling
// (default scheme https, "/v2" appended unless override_path) is containerd's.
func parseHostConfig(server, baseDir string, c hostFileConfig) (hostConfig, error) {
	if !strings.Contains(server, "://") {
		server = "https://" + server
	}
	u, err := url.Parse(server)
	if err != nil {
		return hostConfig{}, fmt.Errorf("parsing URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return hostConfig{}, fmt.Errorf("unsupported scheme %q (want http or https)", u.Scheme)
	}
	if u.Host == "" {
		return hostConfig{}, errors.New("missing host")
	}
	hc := hostConfig{scheme: u.Scheme, host: u.Host, skipVerify: c.SkipVerify}

	p := "/v2"
	if u.Path != "" && u.Path != "/" {
		p = path.Clean(u.Path)
		if !c.OverridePath && !strings.HasSuffix(p, "/v2") {
			p += "/v2"
		}
	} else if c.OverridePath {
		p = ""
	}
	hc.path = p

	if c.Capabilities == nil {
		hc.caps = CapabilityPull | CapabilityResolve | CapabilityPush
	}
	for _, s := range c.Capabilities {
		cp, err := ParseCapability(s)
		if err != nil {
			return hostConfig{}, err
		}
		hc.caps |= cp
	}

	if hc.caFiles, err = stringList(c.CA, "ca"); err != nil {
		return hostConfig{}, err
	}
	for i, f := range hc.caFiles {
		hc.caFiles[i] = resolvePath(baseDir, f)
	}
	if hc.clientPairs, err = clientPairs(c.Client, baseDir); err != nil {
		return hostConfig{}, err
	}
	if hc.header, err = headers(c.Header); err != nil {
		return hostConfig{}, err
	}
	if c.DialTimeout != "" {
		if hc.dialTimeout, err = time.ParseDuration(c.DialTimeout); err != nil {
			return hostConfig{}, fmt.Errorf("dial_timeout: %w", err)
		}
	}
	return hc, nil
}

func resolvePath(baseDir, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(baseDir, p)
}

// stringList accepts a string or a list of strings.
func stringList(v any, field string) ([]string, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		return []string{v}, nil
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("%s: want strings, got %T", field, e)
			}
			out = append(out, s)
		}
		return out, nil
	default:
		return nil, fmt.Errorf("%s: want a string or a list of strings, got %T", field, v)
	}
}

// clientPairs accepts containerd's forms: "cert", ["cert", ...], or
// [["cert", "key"], ...]; a lone cert means the key is in the same file.
func clientPairs(v any, baseDir string) ([][2]string, error) {
	var items []any
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		items = []any{v}
	case []any:
		items = v
	default:
		return nil, fmt.Errorf("client: want a string or a list, got %T", v)
	}
	var out [][2]string
	for _, it := range items {
		var files []string
		switch it := it.(type) {
		case string:
			files = []string{it}
		case []any:
			var err error
			if files, err = stringList(it, "client"); err != nil {
				return nil, err
			}
			if len(files) == 0 || len(files) > 2 {
				return nil, fmt.Errorf("client: want [cert, key], got %d entries", len(files))
			}
		default:
			return nil, fmt.Errorf("client: want a string or a [cert, key] pair, got %T", it)
		}
		var pair [2]string
		for i, f := range files {
			pair[i] = resolvePath(baseDir, f)
		}
		out = append(out, pair)
	}
	return out, nil
}

// headers accepts values that are a string or a list of strings.
func headers(m map[string]any) (http.Header, error) {
	if len(m) == 0 {
		return nil, nil
	}
	h := make(http.Header, len(m))
	for k, v := range m {
		vals, err := stringList(v, "header "+k)
		if err != nil {
			return nil, err
		}
		for _, s := range vals {
			h.Add(k, s)
		}
	}
	return h, nil
}

// hostOrder returns the keys of hosts in the order they first appear in the
// document. It understands [host."x"] tables, [host] followed by "x".key
// lines, dotted keys and inline tables; anything it cannot place (it should
// not happen) is appended so that no configured host is lost.
func hostOrder(data []byte, hosts map[string]hostFileConfig) []string {
	var (
		order []string
		seen  = map[string]bool{}
		table []string
	)
	add := func(k string) {
		if _, ok := hosts[k]; ok && !seen[k] {
			seen[k] = true
			order = append(order, k)
		}
	}
	var p unstable.Parser
	p.Reset(data)
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			table = keyParts(e.Key())
			if len(table) >= 2 && table[0] == "host" {
				add(table[1])
			}
		case unstable.KeyValue:
			full := append(append([]string(nil), table...), keyParts(e.Key())...)
			switch {
			case len(full) >= 2 && full[0] == "host":
				add(full[1])
			case len(full) == 1 && full[0] == "host" && e.Value().Kind == unstable.InlineTable:
				it := e.Value().Children()
				for it.Next() {
					if kv := it.Node(); kv.Kind == unstable.KeyValue {
						if ks := keyParts(kv.Key()); len(ks) > 0 {
							add(ks[0])
						}
					}
				}
			}
		}
	}
	var rest []string
	for k := range hosts {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	return append(order, rest...)
}

func keyParts(it unstable.Iterator) []string {
	var parts []string
	for it.Next() {
		parts = append(parts, string(it.Node().Data))
	}
	return parts
}
