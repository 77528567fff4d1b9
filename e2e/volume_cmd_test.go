package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// volume create/ls/inspect/rm/prune: Docker's output, filters and errors.
func TestVolumeCommands(t *testing.T) {
	t.Parallel()
	e := newVolumeEnv(t)
	if got := strings.TrimSpace(e.nerdOK("volume", "create", "--label", "team=a", "--label", "tier", "v1").Stdout); got != "v1" {
		t.Fatalf("volume create printed %q", got)
	}
	e.nerdOK("volume", "create", "-d", "local", "v2")
	// Creating an existing volume again is fine (Docker's).
	e.nerdOK("volume", "create", "v2")
	random := strings.TrimSpace(e.nerdOK("volume", "create").Stdout)
	if !hex64.MatchString(random) {
		t.Fatalf("volume create without a name printed %q", random)
	}
	if _, anon := e.volumeInspect(random).Labels["com.docker.volume.anonymous"]; anon {
		t.Errorf("volume create without a name made an anonymous volume")
	}
	e.nerdOK("volume", "rm", random)

	r := e.nerdOK("volume", "ls")
	lines := r.Lines()
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "DRIVER") || !strings.Contains(lines[0], "VOLUME NAME") ||
		strings.Join(strings.Fields(lines[1]), " ") != "local v1" || strings.Join(strings.Fields(lines[2]), " ") != "local v2" {
		t.Errorf("volume ls:\n%s", r.Stdout)
	}
	v := e.volumeInspect("v1")
	if v.Labels["team"] != "a" || v.Driver != "local" || v.Scope != "local" || v.CreatedAt == "" || v.Mountpoint != e.volumeData("v1") {
		t.Errorf("inspect v1: %+v", v)
	}
	if st, err := os.Stat(v.Mountpoint); err != nil || !st.IsDir() {
		t.Errorf("Mountpoint %s: %v", v.Mountpoint, err)
	}
	// Filters, --format, bare inspect.
	if got := e.volumes("--filter", "label=team=a"); len(got) != 1 || got[0] != "v1" {
		t.Errorf("label=team=a: %v", got)
	}
	if got := e.volumes("--filter", "label=tier"); len(got) != 1 || got[0] != "v1" {
		t.Errorf("label=tier: %v", got)
	}
	if got := e.volumes("--filter", "name=2"); len(got) != 1 || got[0] != "v2" {
		t.Errorf("name=2: %v", got)
	}
	if got := e.volumes("--filter", "driver=local"); len(got) != 2 {
		t.Errorf("driver=local: %v", got)
	}
	e.nerdOK("create", "--name", "user", "-v", "v2:/x", "busybox")
	if got := e.volumes("--filter", "dangling=true"); len(got) != 1 || got[0] != "v1" {
		t.Errorf("dangling=true: %v", got)
	}
	if got := e.volumes("--filter", "dangling=false"); len(got) != 1 || got[0] != "v2" {
		t.Errorf("dangling=false: %v", got)
	}
	e.nerdFail(1, []string{"volume", "ls", "--filter", "bogus=1"}, `invalid filter 'bogus'`)
	r = e.nerdOK("volume", "ls", "--format", "{{.Name}} {{.Labels}} {{.Label \"team\"}}", "--filter", "name=v1")
	if strings.TrimSpace(r.Stdout) != "v1 team=a,tier= a" {
		t.Errorf("--format: %q", r.Stdout)
	}
	r = e.nerdOK("volume", "ls", "--format", "json", "--filter", "name=v1")
	var obj map[string]any
	if err := json.Unmarshal([]byte(r.Stdout), &obj); err != nil || obj["Name"] != "v1" || obj["Driver"] != "local" {
		t.Errorf("--format json: %v %s", err, r.Stdout)
	}
	r = e.nerdOK("inspect", "--format", "{{.Name}} {{.Driver}}", "v1")
	if strings.TrimSpace(r.Stdout) != "v1 local" {
		t.Errorf("bare inspect of a volume: %q", r.Stdout)
	}
	e.nerdOK("inspect", "--type", "volume", "v1")

	// rm: in use refused (even with -f), missing errors unless -f.
	e.nerdFail(1, []string{"volume", "rm", "v2"}, `remove v2: volume is in use - \[[0-9a-f]{64}\]`)
	e.nerdFail(1, []string{"volume", "rm", "-f", "v2"}, `volume is in use`)
	e.nerdFail(1, []string{"volume", "inspect", "nosuch"}, `get nosuch: no such volume`)
	e.nerdFail(1, []string{"volume", "rm", "nosuch"}, `no such volume`)
	e.nerdOK("volume", "rm", "-f", "nosuch")
	if !e.hasVolume("v2") {
		t.Fatalf("refused rm removed the volume")
	}

	// prune: anonymous only without -a; -a takes unused named ones.
	e.nerdOK("create", "--name", "an", "-v", "/anon", "busybox")
	e.nerdOK("rm", "an")
	r = e.nerdOK("volume", "prune", "-f")
	if !strings.Contains(r.Stdout, "Deleted Volumes:") || !strings.Contains(r.Stdout, "Total reclaimed space:") || len(e.volumes()) != 2 {
		t.Errorf("prune without -a:\n%s\nleft %v", r.Stdout, e.volumes())
	}
	r = e.nerdIn(strings.NewReader("n\n"), "volume", "prune", "-a")
	if !strings.Contains(r.Stdout, "WARNING! This will remove all local volumes not used by at least one container.") || len(e.volumes()) != 2 {
		t.Errorf("prune -a answered no:\n%s", r.Stdout)
	}
	e.nerdOK("volume", "prune", "-a", "-f", "--filter", "label=team=b")
	if len(e.volumes()) != 2 {
		t.Errorf("prune --filter label=team=b removed something: %v", e.volumes())
	}
	r = e.nerdOK("volume", "prune", "-a", "-f")
	if got := e.volumes(); len(got) != 1 || got[0] != "v2" || !strings.Contains(r.Stdout, "v1") {
		t.Errorf("prune -a: left %v\n%s", got, r.Stdout)
	}
	e.nerdOK("rm", "user")
	e.nerdOK("volume", "rm", "v2")
	if got := e.volumes(); len(got) != 0 {
		t.Errorf("left: %v", got)
	}
	// Nothing is left behind on disk.
	ents, _ := os.ReadDir(filepath.Join(e.Root, "volumes"))
	for _, ent := range ents {
		if ent.Name() != ".lock" {
			t.Errorf("left in volumes/: %s", ent.Name())
		}
	}
}

// Bad input: a clear error, Docker's exit code, nothing created.
func TestVolumeBadInput(t *testing.T) {
	t.Parallel()
	e := newVolumeEnv(t)
	missing := filepath.Join(e.Dir, "nope")
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"volume", "create", "bad/name"}, 1, `create bad/name: "bad/name" includes invalid characters for a local volume name, only "\[a-zA-Z0-9\]\[a-zA-Z0-9_.-\]" are allowed`},
		{[]string{"volume", "create", "a"}, 1, `volume name is too short`},
		{[]string{"volume", "create", "-d", "nfsplugin", "x1"}, 1, `volume driver "nfsplugin" is not supported`},
		{[]string{"volume", "create", "-o", "bogus=1", "x2"}, 1, `invalid option: "bogus"`},
		{[]string{"run", "--rm", "-v", "bad$name:/x", "busybox", "true"}, 125, `includes invalid characters for a local volume name`},
		{[]string{"run", "--rm", "-v", "rel/dir:/x", "busybox", "true"}, 125, `includes invalid characters for a local volume name`},
		{[]string{"run", "--rm", "-v", "vol:relative", "busybox", "true"}, 125, `invalid volume specification: 'vol:relative': invalid mount config for type "volume": invalid mount path: 'relative' mount path must be absolute`},
		{[]string{"run", "--rm", "-v", "/data:ro", "busybox", "true"}, 125, `invalid volume specification: '/data:ro'`},
		{[]string{"run", "--rm", "-v", "vol:/x:bogus", "busybox", "true"}, 125, `invalid mode: bogus`},
		{[]string{"run", "--rm", "-v", "vol:/x:ro,rw", "busybox", "true"}, 125, `invalid mode: ro,rw`},
		{[]string{"run", "--rm", "-v", "vol:/", "busybox", "true"}, 125, `destination can't be '/'`},
		{[]string{"run", "--rm", "--mount", "type=bind,source=" + missing + ",target=/x", "busybox", "true"}, 125, `invalid mount config for type "bind": bind source path does not exist: ` + missing},
		{[]string{"run", "--rm", "--mount", "type=bind,source=rel,target=/x", "busybox", "true"}, 125, `invalid mount config for type "bind": invalid mount path: 'rel' mount path must be absolute`},
		{[]string{"run", "--rm", "--mount", "type=volume,target=/x,bogus=1", "busybox", "true"}, 125, `invalid argument .* for "--mount" flag: unknown option 'bogus' in 'bogus=1'`},
		{[]string{"run", "--rm", "--mount", "type=tmpfs,target=/x,volume-nocopy", "busybox", "true"}, 125, `cannot mix 'volume-\*' options with mount type 'tmpfs'`},
		{[]string{"run", "--rm", "--mount", "type=tmpfs,source=x,target=/x", "busybox", "true"}, 125, `invalid mount config for type "tmpfs": field Source must not be specified`},
		{[]string{"run", "--rm", "--mount", "type=volume,source=v", "busybox", "true"}, 125, `field Target must not be empty`},
		{[]string{"run", "--rm", "--mount", "type=foo,target=/x", "busybox", "true"}, 125, `mount type unknown`},
		{[]string{"run", "--rm", "--mount", "type=bind,src=/tmp,dst=/x,bind-propagation=bogus", "busybox", "true"}, 125, `invalid propagation mode: bogus`},
		{[]string{"run", "--rm", "--mount", "type=tmpfs,target=/x,tmpfs-size=huge", "busybox", "true"}, 125, `invalid value for tmpfs-size: huge`},
		{[]string{"run", "--rm", "-v", "dup:/x", "--mount", "type=volume,target=/x", "busybox", "true"}, 125, `Duplicate mount point: /x`},
		{[]string{"run", "--rm", "--volumes-from", "nosuch:rx", "busybox", "true"}, 125, `invalid mode: rx`},
		{[]string{"run", "--rm", "--tmpfs", "rel", "busybox", "true"}, 125, `invalid mount path: 'rel' mount path must be absolute`},
	}
	for _, c := range cases {
		e.nerdFail(c.code, c.args, c.want)
	}
	if got := e.volumes(); len(got) != 0 {
		t.Errorf("bad input left volumes: %v", got)
	}
	if ids := e.containerIDs(); len(ids) != 0 {
		t.Errorf("bad input left containers: %v", ids)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Errorf("--mount type=bind created the missing source")
	}
}

// A volume created with the local driver's options is mounted with them:
// type=tmpfs (fresh at each start, size applied), and a bind of a device.
func TestVolumeLocalDriverOptions(t *testing.T) {
	t.Parallel()
	e := newVolumeEnv(t)
	e.nerdOK("volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "-o", "o=size=2m,uid=1000", "tv")
	v := e.volumeInspect("tv")
	if v.Options["type"] != "tmpfs" || v.Options["o"] != "size=2m,uid=1000" {
		t.Errorf("Options = %v", v.Options)
	}
	e.nerdOK("create", "--name", "tc", "-v", "tv:/t", "busybox", "sh", "-c", "ls -A /t; touch /t/x; df -k /t | tail -1; stat -c %u /t")
	for i := 0; i < 2; i++ {
		r := e.nerdOK("start", "-a", "tc")
		out := r.Stdout
		if strings.Contains(out, "x\n") || !strings.Contains(out, "tmpfs") || !strings.Contains(out, " 2048 ") || !strings.HasSuffix(strings.TrimSpace(out), "1000") {
			t.Fatalf("start %d: want an empty 2 MiB tmpfs owned by 1000:\n%s", i+1, out)
		}
	}
	// Nothing was written to the volume's directory on the host.
	if ents, _ := os.ReadDir(e.volumeData("tv")); len(ents) != 0 {
		t.Errorf("tmpfs volume wrote to its host directory")
	}
	host := filepath.Join(e.Dir, "dev")
	os.MkdirAll(host, 0o755)
	e.nerdOK("volume", "create", "-o", "type=none", "-o", "device="+host, "-o", "o=bind", "bv")
	e.nerdOK("run", "--rm", "-v", "bv:/b", "busybox", "sh", "-c", "echo via > /b/f")
	if readHost(filepath.Join(host, "f")) != "via" {
		t.Errorf("o=bind volume did not bind %s", host)
	}
}
