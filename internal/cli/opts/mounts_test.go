package opts

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nerd-project/nerd/pkg/container"
)

func TestParseVolume(t *testing.T) {
	wd, _ := os.Getwd()
	cases := []struct {
		spec    string
		typ     string
		source  string
		target  string
		ro      bool
		prop    string
		nocopy  bool
		wantErr string
	}{
		{spec: "/data", typ: "volume", target: "/data"},
		{spec: "name:/data", typ: "volume", source: "name", target: "/data"},
		{spec: "name:/data:ro", typ: "volume", source: "name", target: "/data", ro: true},
		{spec: "name:/data:nocopy", typ: "volume", source: "name", target: "/data", nocopy: true},
		{spec: "name:/data:z", typ: "volume", source: "name", target: "/data"},
		{spec: "/host:/ctr", typ: "bind", source: "/host", target: "/ctr"},
		{spec: "/host:/ctr:ro,rshared", typ: "bind", source: "/host", target: "/ctr", ro: true, prop: "rshared"},
		{spec: "/host:/ctr:rw,Z,rslave", typ: "bind", source: "/host", target: "/ctr", prop: "rslave"},
		{spec: "./rel:/ctr", typ: "bind", source: filepath.Join(wd, "rel"), target: "/ctr"},
		{spec: "", wantErr: "invalid volume specification: ''"},
		{spec: "/data:ro", wantErr: "invalid volume specification: '/data:ro'"},
		{spec: "a:b:c:d", wantErr: "invalid volume specification"},
		{spec: "name:/x:bogus", wantErr: "invalid mode: bogus"},
		{spec: "name:/x:ro,rw", wantErr: "invalid mode: ro,rw"},
		{spec: "name:/x:z,Z", wantErr: "invalid mode: z,Z"},
		{spec: "/h:/x:nocopy", wantErr: "invalid mode: nocopy"},
		{spec: "name:/x:rshared", wantErr: "propagation is not supported for named volumes"},
		{spec: "name:rel", wantErr: `invalid mount config for type "volume": invalid mount path: 'rel' mount path must be absolute`},
		{spec: "name:/", wantErr: "destination can't be '/'"},
	}
	for _, c := range cases {
		m, err := ParseVolume(c.spec)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%q: err %v, want %q", c.spec, err, c.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.spec, err)
			continue
		}
		prop := ""
		if m.BindOptions != nil {
			prop = m.BindOptions.Propagation
		}
		nocopy := m.VolumeOptions != nil && m.VolumeOptions.NoCopy
		if m.Type != c.typ || m.Source != c.source || m.Target != c.target || m.ReadOnly != c.ro || prop != c.prop || nocopy != c.nocopy {
			t.Errorf("%q: %+v", c.spec, m)
		}
	}
}

func TestVolumeMode(t *testing.T) {
	for spec, want := range map[string]string{"/x": "z", "n:/x": "z", "n:/x:ro": "ro", "/h:/x": "", "/h:/x:ro,rslave": "ro,rslave"} {
		m, err := ParseVolume(spec)
		if err != nil {
			t.Fatal(err)
		}
		if got := VolumeMode(spec, m); got != want {
			t.Errorf("VolumeMode(%q) = %q, want %q", spec, got, want)
		}
	}
}

func TestParseMount(t *testing.T) {
	m, err := ParseMount("type=bind,source=/src,target=/dst,readonly,bind-propagation=rslave")
	if err != nil || m.Type != "bind" || m.Source != "/src" || m.Target != "/dst" || !m.ReadOnly || m.BindOptions.Propagation != "rslave" {
		t.Errorf("bind: %+v %v", m, err)
	}
	m, err = ParseMount("src=v,dst=/d,volume-nocopy,volume-label=a=b,volume-driver=local,volume-opt=type=tmpfs,ro=false")
	if err != nil || m.Type != "volume" || m.Source != "v" || m.ReadOnly || !m.VolumeOptions.NoCopy ||
		m.VolumeOptions.Labels["a"] != "b" || m.VolumeOptions.DriverConfig.Name != "local" || m.VolumeOptions.DriverConfig.Options["type"] != "tmpfs" {
		t.Errorf("volume: %+v %v", m, err)
	}
	m, err = ParseMount("type=tmpfs,destination=/t,tmpfs-size=1m,tmpfs-mode=1770")
	if err != nil || m.TmpfsOptions.SizeBytes != 1<<20 || m.TmpfsOptions.Mode != 0o1770 {
		t.Errorf("tmpfs: %+v %v", m, err)
	}
	m, err = ParseMount(`type=bind,"source=/a,b",target=/x`)
	if err != nil || m.Source != "/a,b" {
		t.Errorf("csv quoting: %+v %v", m, err)
	}
	bad := map[string]string{
		"":                                   "value is empty",
		"type=bind,bogus=1":                  "unknown option 'bogus' in 'bogus=1'",
		"type=bind,source":                   "invalid field 'source' must be a key=value pair",
		"type=bind,source=":                  "invalid value for 'source': value is empty",
		"type=bind, source=/x":               "option should not have whitespace",
		"type=tmpfs,target=/x,volume-nocopy": "cannot mix 'volume-*' options with mount type 'tmpfs'",
		"type=volume,target=/x,bind-propagation=shared": "cannot mix 'bind-*' options with mount type 'volume'",
		"type=bind,target=/x,tmpfs-size=1m":             "cannot mix 'tmpfs-*' options with mount type 'bind'",
		"type=tmpfs,target=/x,tmpfs-size=x":             "invalid value for tmpfs-size: x",
		"type=tmpfs,target=/x,tmpfs-mode=9":             "invalid value for tmpfs-mode: 9",
		"type=bind,target=/x,readonly=maybe":            `invalid value for 'readonly': invalid boolean value ("maybe")`,
		"type=bind,bind-nonrecursive":                   "bind-nonrecursive is deprecated",
		"type=volume,volume-opt=novalue":                "invalid volume-opt 'novalue'",
	}
	for in, want := range bad {
		if _, err := ParseMount(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err %v, want %q", in, err, want)
		}
	}
}

func TestMountOptFlag(t *testing.T) {
	var o MountOpt
	if err := o.Set("type=volume,target=/a"); err != nil {
		t.Fatal(err)
	}
	if err := o.Set("type=tmpfs,target=/b"); err != nil {
		t.Fatal(err)
	}
	v := o.Value()
	if len(v) != 2 || v[1].Type != container.MountTypeTmpfs || o.Type() != "mount" {
		t.Errorf("%+v", v)
	}
}
