package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// TestBenchPull measures cold pull+unpack of nerd against podman (`make
// bench`, docs/performance.md; skipped unless NERD_BENCH=1). For each image,
// NERD_BENCH_RUNS (default 5) timed runs per engine, the engines alternating
// run by run (nerd, podman, nerd, podman …) because disk speed drifts within
// a series. Every run starts from an empty store of its own (nerd:
// --data-root; podman: --root/--runroot/--tmpdir, overlay driver) and is
// timed as the wall time of the whole command, process start to exit;
// sync(2) runs before each run (so earlier runs' dirty pages are not billed
// to it) and is timed after it (writeback the command left behind, reported
// separately). One untimed warm-up run per engine and image comes first
// (binaries and registry blobs in the page cache). The stores are in a
// directory of their own under $NERD_BENCH_DIR (default /var/tmp) and are
// removed after each image's series. Each nerd result is verified: `image
// inspect` matches the pushed image, there is one committed snapshot per
// layer, and every regular file, directory and symlink of every layer is in
// its snapshot with the right type, mode, owner, size and content.
func TestBenchPull(t *testing.T) {
	skipUnlessBench(t)
	runs := benchRuns(t)

	start := time.Now()
	bigImg, err := loadBigImage()
	if err != nil {
		t.Fatalf("big image: %v", err)
	}
	big := pushV1Image(t, reg, "library/big:latest", bigImg)
	t.Logf("big image ready and pushed in %v", time.Since(start).Round(time.Millisecond))

	dir := benchStoreDir(t, "nerd-bench-")
	engines := []*benchEngine{newNerdEngine(t, dir)}
	p, podmanNote := benchPodman()
	if p != "" {
		engines = append(engines, newPodmanEngine(t, dir, p))
	}
	if podmanNote != "" {
		t.Log(podmanNote)
	}

	// On ext4 without a journal the inode allocator skips inodes freed in
	// the last dirty_expire_centisecs (30 s) of the block group, at a cost
	// per skipped inode: creating files right after deleting thousands
	// nearby is several times slower. So the stores of a series are removed
	// only after it, and the next series waits that window out.
	window := inodeReuseWindow(dir)
	if window > 0 {
		t.Logf("%s is ext4 without a journal: stores are removed after each series, and each series first waits %v", dir, window)
	}
	var results []benchResult
	for _, info := range []imageInfo{nginx, big} {
		img := newBenchImage(t, info)
		t.Logf("%s: %s, %d layers, %.1f MB compressed, %.1f MB unpacked (%d files)", img.name, img.ref,
			len(img.info.Layers), float64(img.compressed)/1e6, float64(img.unpacked)/1e6, img.files)
		time.Sleep(window)
		type store struct {
			e    *benchEngine
			root string
		}
		var stores []store
		for _, e := range engines {
			s, root := e.pull(t, img, "warm-up")
			stores = append(stores, store{e, root})
			t.Logf("%-6s %-6s warm-up %s", img.name, e.name, s)
		}
		res := make([]benchResult, len(engines))
		for i, e := range engines {
			res[i] = benchResult{image: img, engine: e.name}
		}
		for run := 1; run <= runs; run++ {
			for i, e := range engines {
				s, root := e.pull(t, img, strconv.Itoa(run))
				stores = append(stores, store{e, root})
				res[i].samples = append(res[i].samples, s)
				t.Logf("%-6s %-6s run %d/%d: %s", img.name, e.name, run, runs, s)
			}
		}
		results = append(results, res...)
		for _, st := range stores {
			st.e.clean(t, st.root)
		}
	}

	table := benchTable(results, runs, podmanNote)
	fmt.Print("\n" + table + "\n")
	t.Log("\n" + table)
}

// benchImage is an image as pushed, with what a correct unpack must hold.
type benchImage struct {
	name       string
	ref        string // 127.0.0.1:PORT/library/NAME:latest
	info       imageInfo
	compressed int64 // sum of the compressed layer sizes
	unpacked   int64 // sum of the regular files' sizes
	files      int
	chainIDs   []string       // snapshot keys, bottom first
	want       [][]benchEntry // per layer: what its snapshot must hold
}

// benchEntry is one layer entry as the snapshot must show it.
type benchEntry struct {
	name     string
	typ      byte
	mode     fs.FileMode // permission and special bits
	uid, gid int
	size     int64
	sum      [32]byte // sha256 of a regular file's content
	link     string   // symlink target
}

func newBenchImage(t *testing.T, info imageInfo) *benchImage {
	t.Helper()
	img := &benchImage{name: strings.TrimPrefix(info.Repo, "library/"), ref: reg.ref(info.Repo + ":" + info.Tag), info: info}
	layers, err := info.img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var parent string
	for i, l := range layers {
		n, err := l.Size()
		if err != nil {
			t.Fatal(err)
		}
		img.compressed += n
		diffID := info.DiffIDs[i]
		if i == 0 {
			parent = diffID
		} else {
			sum := sha256.Sum256([]byte(parent + " " + diffID))
			parent = "sha256:" + hex.EncodeToString(sum[:])
		}
		img.chainIDs = append(img.chainIDs, strings.TrimPrefix(parent, "sha256:"))
		entries, err := layerEntries(l)
		if err != nil {
			t.Fatalf("reading layer %d of %s: %v", i, img.name, err)
		}
		for _, e := range entries {
			if e.typ == tar.TypeReg {
				img.unpacked += e.size
				img.files++
			}
		}
		img.want = append(img.want, entries)
	}
	return img
}

// layerEntries lists a layer's directories, regular files and symlinks (the
// last entry of a name wins; whiteouts and hardlinks are left out: hardlinks
// are checked through their target, whiteouts by the e2e tests).
func layerEntries(l v1.Layer) ([]benchEntry, error) {
	rc, err := l.Uncompressed()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	byName := map[string]int{}
	var out []benchEntry
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		name := strings.TrimSuffix(path.Clean("/"+h.Name), "/")
		if name == "" || strings.HasPrefix(path.Base(name), ".wh.") {
			continue
		}
		e := benchEntry{name: name[1:], typ: h.Typeflag, mode: fs.FileMode(h.Mode) & (fs.ModePerm | 0o7000), uid: h.Uid, gid: h.Gid}
		switch h.Typeflag {
		case tar.TypeReg:
			hh := sha256.New()
			n, err := io.Copy(hh, tr)
			if err != nil {
				return nil, err
			}
			e.size = n
			copy(e.sum[:], hh.Sum(nil))
		case tar.TypeDir:
		case tar.TypeSymlink:
			e.link = h.Linkname
		default:
			continue
		}
		if i, ok := byName[e.name]; ok {
			out[i] = e
			continue
		}
		byName[e.name] = len(out)
		out = append(out, e)
	}
	return out, nil
}

// verifySnapshots checks that the data root holds exactly one committed
// snapshot per layer and that each holds its layer's entries.
func (img *benchImage) verifySnapshots(root string) error {
	snaps := filepath.Join(root, "snapshots")
	var committed []string
	ents, err := os.ReadDir(snaps)
	if err != nil {
		return err
	}
	for _, d := range ents {
		if fi, err := os.Stat(filepath.Join(snaps, d.Name(), "fs")); err == nil && fi.IsDir() {
			committed = append(committed, d.Name())
		}
	}
	if len(committed) != len(img.chainIDs) || !sameSet(committed, img.chainIDs) {
		return fmt.Errorf("committed snapshots %v, want one per layer %v", committed, img.chainIDs)
	}
	for i, key := range img.chainIDs {
		fsRoot := filepath.Join(snaps, key, "fs")
		for _, e := range img.want[i] {
			if err := e.check(fsRoot); err != nil {
				return fmt.Errorf("layer %d (snapshot %s…): %w", i, key[:12], err)
			}
		}
	}
	return nil
}

func (e benchEntry) check(root string) error {
	p := filepath.Join(root, filepath.FromSlash(e.name))
	fi, err := os.Lstat(p)
	if err != nil {
		return err
	}
	st := fi.Sys().(*syscall.Stat_t)
	var typeOK bool
	switch e.typ {
	case tar.TypeReg:
		typeOK = fi.Mode().IsRegular()
	case tar.TypeDir:
		typeOK = fi.IsDir()
	case tar.TypeSymlink:
		typeOK = fi.Mode()&fs.ModeSymlink != 0
	}
	if !typeOK {
		return fmt.Errorf("%s: type %v, want tar type %q", e.name, fi.Mode().Type(), e.typ)
	}
	if int(st.Uid) != e.uid || int(st.Gid) != e.gid {
		return fmt.Errorf("%s: owner %d:%d, want %d:%d", e.name, st.Uid, st.Gid, e.uid, e.gid)
	}
	switch e.typ {
	case tar.TypeSymlink:
		if l, err := os.Readlink(p); err != nil || l != e.link {
			return fmt.Errorf("%s: symlink to %q (%v), want %q", e.name, l, err, e.link)
		}
		return nil
	case tar.TypeDir:
		if m := fs.FileMode(st.Mode) & (fs.ModePerm | 0o7000); m != e.mode {
			return fmt.Errorf("%s: mode %o, want %o", e.name, m, e.mode)
		}
		return nil
	}
	if m := fs.FileMode(st.Mode) & (fs.ModePerm | 0o7000); m != e.mode {
		return fmt.Errorf("%s: mode %o, want %o", e.name, m, e.mode)
	}
	if fi.Size() != e.size {
		return fmt.Errorf("%s: size %d, want %d", e.name, fi.Size(), e.size)
	}
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	if !bytes.Equal(h.Sum(nil), e.sum[:]) {
		return fmt.Errorf("%s: content differs from the layer's", e.name)
	}
	return nil
}

// benchSample is one timed run.
type benchSample struct {
	wall, user, sys, sync time.Duration
}

func (s benchSample) String() string {
	return fmt.Sprintf("%.3fs (user %.2fs, sys %.2fs; sync after %.3fs)",
		s.wall.Seconds(), s.user.Seconds(), s.sys.Seconds(), s.sync.Seconds())
}

// benchEngine runs one cold pull into fresh storage and checks the result.
type benchEngine struct {
	name string
	e    *env
	dir  string
	// argv is the timed command for a store under root.
	argv func(root string, img *benchImage) []string
	// verify checks a finished pull (untimed).
	verify func(t *testing.T, root string, img *benchImage)
	// clean removes a store.
	clean func(t *testing.T, root string)
}

// pull runs one timed cold pull into a new store and verifies it; the caller
// removes the store (root) with b.clean.
func (b *benchEngine) pull(t *testing.T, img *benchImage, run string) (benchSample, string) {
	t.Helper()
	root := filepath.Join(b.dir, b.name+"-"+img.name+"-"+run)
	argv := b.argv(root, img)

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := b.e.program(ctx, argv[0], argv[1:]...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	syscall.Sync()
	t0 := time.Now()
	err := cmd.Run()
	wall := time.Since(t0)
	t1 := time.Now()
	syscall.Sync()
	s := benchSample{wall: wall, sync: time.Since(t1)}
	if err != nil {
		t.Fatalf("%s run %s: $ %s: %v\n%s", b.name, run, shellJoin(argv), err, out.String())
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		s.user = time.Duration(ru.Utime.Nano())
		s.sys = time.Duration(ru.Stime.Nano())
	}
	b.verify(t, root, img)
	return s, root
}

// inodeReuseWindow is how long ext4 without a journal avoids reusing freed
// inodes (dirty_expire_centisecs, plus a second), or 0 for other
// filesystems.
func inodeReuseWindow(dir string) time.Duration {
	var st syscall.Stat_t
	if err := syscall.Stat(dir, &st); err != nil {
		return 0
	}
	major, minor := (st.Dev>>8)&0xfff|(st.Dev>>32)&^0xfff, st.Dev&0xff|(st.Dev>>12)&^0xff
	dev, err := filepath.EvalSymlinks(fmt.Sprintf("/sys/dev/block/%d:%d", major, minor))
	if err != nil {
		return 0
	}
	j, err := os.ReadFile(filepath.Join("/sys/fs/ext4", filepath.Base(dev), "journal_task"))
	if err != nil || strings.TrimSpace(string(j)) != "<none>" {
		return 0
	}
	cs := 3000
	if b, err := os.ReadFile("/proc/sys/vm/dirty_expire_centisecs"); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			cs = n
		}
	}
	return time.Duration(cs)*10*time.Millisecond + time.Second
}

func newNerdEngine(t *testing.T, dir string) *benchEngine {
	e := newEnv(t)
	e.Timeout = 15 * time.Minute
	b := &benchEngine{name: "nerd", e: e, dir: dir}
	b.argv = func(root string, img *benchImage) []string {
		return []string{nerdBin, "--data-root", root, "pull", img.ref}
	}
	b.verify = func(t *testing.T, root string, img *benchImage) {
		t.Helper()
		e.Root = root
		e.writeConfig()
		got := e.inspect(img.ref)
		if got.Id != img.info.ID || !slices.Equal(got.RootFS.Layers, img.info.DiffIDs) {
			t.Fatalf("nerd: image inspect %s: Id %s layers %v, want %s %v", img.ref, got.Id, got.RootFS.Layers, img.info.ID, img.info.DiffIDs)
		}
		if err := img.verifySnapshots(root); err != nil {
			t.Fatalf("nerd: pulled %s is not intact: %v", img.ref, err)
		}
	}
	b.clean = func(t *testing.T, root string) {
		t.Helper()
		if err := safeRemoveAll(root); err != nil {
			t.Fatalf("removing %s: %v", root, err)
		}
	}
	return b
}

// newPodmanEngine runs podman with its own storage (overlay driver), an empty
// registries.conf and a minimal storage.conf, so nothing of the host's podman
// set-up (or the lack of systemd) plays a part.
func newPodmanEngine(t *testing.T, dir, bin string) *benchEngine {
	e := newEnv(t)
	e.Timeout = 15 * time.Minute
	conf := filepath.Join(e.Dir, "containers")
	if err := os.MkdirAll(conf, 0o755); err != nil {
		t.Fatal(err)
	}
	regConf, storConf := filepath.Join(conf, "registries.conf"), filepath.Join(conf, "storage.conf")
	if err := os.WriteFile(regConf, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// podman (unlike Docker and nerd) fails on a DOCKER_CONFIG without config.json.
	if err := os.WriteFile(filepath.Join(e.DockerConfig, "config.json"), []byte("{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// podman wants a runroot of at most 50 characters; it is on tmpfs (/run)
	// as usual, the storage root on the same disk as nerd's data roots.
	// Its tmpdir (alive lock, events log; default /run/libpod) is per run
	// too, so that nothing is shared between runs or left on the host.
	runBase, err := os.MkdirTemp("/run", "nerd-bench-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := safeRemoveAll(runBase); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	// Every command overrides these roots with flags.
	stor := fmt.Sprintf("[storage]\ndriver = \"overlay\"\nrunroot = %q\ngraphroot = %q\n",
		filepath.Join(runBase, "default"), filepath.Join(dir, "podman-default"))
	if err := os.WriteFile(storConf, []byte(stor), 0o644); err != nil {
		t.Fatal(err)
	}
	e.ExtraEnv = append(e.ExtraEnv, "CONTAINERS_REGISTRIES_CONF="+regConf, "CONTAINERS_STORAGE_CONF="+storConf)
	runroot := func(root string) string { return filepath.Join(runBase, filepath.Base(root)) }
	tmpdir := func(root string) string { return runroot(root) + "-tmp" }
	b := &benchEngine{name: "podman", e: e, dir: dir}
	global := func(root string) []string {
		return []string{bin, "--root", root, "--runroot", runroot(root), "--tmpdir", tmpdir(root),
			"--storage-driver", "overlay", "--cgroup-manager", "cgroupfs", "--events-backend", "file"}
	}
	b.argv = func(root string, img *benchImage) []string {
		return append(global(root), "pull", "--tls-verify=false", img.ref)
	}
	b.verify = func(t *testing.T, root string, img *benchImage) {
		t.Helper()
		argv := append(global(root), "image", "inspect", "--format", "{{.Id}} {{len .RootFS.Layers}}", img.ref)
		r := e.run(nil, argv[0], argv[1:]...)
		want := fmt.Sprintf("%s %d", strings.TrimPrefix(img.info.ID, "sha256:"), len(img.info.DiffIDs))
		if r.Code != 0 || strings.TrimSpace(r.Stdout) != want {
			t.Fatalf("podman: pulled image is not %q:\n%s", want, r)
		}
	}
	b.clean = func(t *testing.T, root string) {
		t.Helper()
		for _, d := range []string{root, runroot(root), tmpdir(root)} {
			if err := safeRemoveAll(d); err != nil {
				t.Fatalf("removing %s: %v", d, err)
			}
		}
	}
	return b
}

// benchResult is one engine's series for one image.
type benchResult struct {
	image   *benchImage
	engine  string
	samples []benchSample
}

func (r benchResult) stats(f func(benchSample) time.Duration) (median, lo, hi time.Duration) {
	v := make([]time.Duration, len(r.samples))
	for i, s := range r.samples {
		v[i] = f(s)
	}
	slices.Sort(v)
	n := len(v)
	median = v[n/2]
	if n%2 == 0 {
		median = (v[n/2-1] + v[n/2]) / 2
	}
	return median, v[0], v[n-1]
}

func benchTable(results []benchResult, runs int, note string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "cold pull+unpack, %d runs per engine (engines alternating); wall time of the command\n\n", runs)
	fmt.Fprintf(&b, "%-6s %8s %-7s %8s %8s %8s %10s %9s %9s\n", "IMAGE", "SIZE", "ENGINE", "MEDIAN", "MIN", "MAX", "USER+SYS", "SYNC", "RATIO")
	byImage := map[string]map[string]time.Duration{}
	for _, r := range results {
		med, lo, hi := r.stats(func(s benchSample) time.Duration { return s.wall })
		cpu, _, _ := r.stats(func(s benchSample) time.Duration { return s.user + s.sys })
		syn, _, _ := r.stats(func(s benchSample) time.Duration { return s.sync })
		if byImage[r.image.name] == nil {
			byImage[r.image.name] = map[string]time.Duration{}
		}
		byImage[r.image.name][r.engine] = med
		ratio := ""
		if r.engine == "nerd" {
			ratio = "-"
		}
		if p, ok := byImage[r.image.name]["nerd"]; ok && r.engine == "podman" {
			ratio = fmt.Sprintf("%.2f", p.Seconds()/med.Seconds())
		}
		fmt.Fprintf(&b, "%-6s %6.1fMB %-7s %7.3fs %7.3fs %7.3fs %9.3fs %8.3fs %9s\n", r.image.name, float64(r.image.compressed)/1e6,
			r.engine, med.Seconds(), lo.Seconds(), hi.Seconds(), cpu.Seconds(), syn.Seconds(), ratio)
	}
	b.WriteString("\nUSER+SYS (CPU time of the command) and SYNC (sync(2) right after the run) are medians too.\n")
	if len(byImage) > 0 && len(results) > len(byImage) {
		b.WriteString("RATIO is nerd/podman of the medians (goal: ≤ 0.50).\n")
	}
	for _, r := range results {
		if r.engine != "podman" {
			continue
		}
		m := byImage[r.image.name]
		ratio := m["nerd"].Seconds() / m["podman"].Seconds()
		verdict := "goal met"
		if ratio > 0.5 {
			verdict = "goal NOT met"
		}
		fmt.Fprintf(&b, "%s: nerd/podman = %.2f (%s)\n", r.image.name, ratio, verdict)
	}
	if note != "" {
		b.WriteString(note + "\n")
	}
	return b.String()
}
