package e2e

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Helpers that look at what a user sees (images, inspect) and at the data
// root's documented layout: content/ is an OCI image layout, and
// snapshots/<key>/fs are unpacked layers.

func matchCI(pattern, s string) bool {
	return regexp.MustCompile("(?is)" + pattern).MatchString(s)
}

// imageRow is one row of the `images` table, keyed by column header
// (REPOSITORY, TAG, DIGEST, IMAGE ID, CREATED, SIZE).
type imageRow map[string]string

var columnSep = regexp.MustCompile(`\s{2,}`)

// parseTable splits a Docker-style table (columns separated by 2+ spaces).
func parseTable(t testing.TB, out string) (header []string, rows []imageRow) {
	t.Helper()
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, strings.TrimRight(l, " "))
		}
	}
	if len(lines) == 0 {
		t.Fatalf("no table header in output %q", out)
	}
	header = columnSep.Split(strings.TrimSpace(lines[0]), -1)
	for _, l := range lines[1:] {
		cells := columnSep.Split(strings.TrimSpace(l), -1)
		// A trailing column may be empty (history's COMMENT).
		if len(cells) > len(header) || len(cells) < len(header)-1 {
			t.Fatalf("row %q has %d cells, header %q has %d", l, len(cells), lines[0], len(header))
		}
		row := imageRow{}
		for i, h := range header {
			if i < len(cells) {
				row[h] = cells[i]
			} else {
				row[h] = ""
			}
		}
		rows = append(rows, row)
	}
	return header, rows
}

// images runs `images args…` and parses the table.
func (e *env) images(args ...string) []imageRow {
	e.t.Helper()
	r := e.nerdOK(append([]string{"images"}, args...)...)
	_, rows := parseTable(e.t, r.Stdout)
	return rows
}

// findRow returns the row with the given repository and tag, or nil.
func findRow(rows []imageRow, repo, tag string) imageRow {
	for _, r := range rows {
		if r["REPOSITORY"] == repo && r["TAG"] == tag {
			return r
		}
	}
	return nil
}

// imageIDs are the full IDs `images -a -q --no-trunc` prints (deduplicated).
func (e *env) imageIDs() []string {
	e.t.Helper()
	var ids []string
	for _, l := range e.nerdOK("images", "-a", "-q", "--no-trunc").Lines() {
		l = strings.TrimSpace(l)
		if !slices.Contains(ids, l) {
			ids = append(ids, l)
		}
	}
	return ids
}

// imageInspect is the part of Docker's `image inspect` JSON the tests use.
type imageInspect struct {
	Id           string
	RepoTags     []string
	RepoDigests  []string
	Parent       string
	Comment      string
	Created      string
	Author       string
	Architecture string
	Variant      string
	Os           string
	Size         int64
	Config       struct {
		User         string
		Env          []string
		Cmd          []string
		Entrypoint   []string
		WorkingDir   string
		Labels       map[string]string
		ExposedPorts map[string]struct{}
		StopSignal   string
	}
	RootFS struct {
		Type   string
		Layers []string
	}
}

// inspect runs `image inspect ref` and decodes the single element.
func (e *env) inspect(ref string) imageInspect {
	e.t.Helper()
	r := e.nerdOK("image", "inspect", ref)
	var out []imageInspect
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
		e.t.Fatalf("image inspect output is not a JSON array: %v\n%s", err, r)
	}
	if len(out) != 1 {
		e.t.Fatalf("image inspect %s: want 1 element, got %d", ref, len(out))
	}
	return out[0]
}

// blobs lists the files in content/blobs/sha256.
func (e *env) blobs() []string {
	entries, _ := os.ReadDir(filepath.Join(e.Root, "content", "blobs", "sha256"))
	var out []string
	for _, d := range entries {
		if !d.IsDir() {
			out = append(out, d.Name())
		}
	}
	return out
}

// committedSnapshots lists snapshots/<key> directories that have an fs dir.
func (e *env) committedSnapshots() []string {
	var out []string
	for _, d := range e.snapshotDirs() {
		if fi, err := os.Stat(filepath.Join(e.Root, "snapshots", d, "fs")); err == nil && fi.IsDir() {
			out = append(out, d)
		}
	}
	return out
}

// snapshotDirs lists every directory in snapshots/ (committed or not).
func (e *env) snapshotDirs() []string {
	entries, _ := os.ReadDir(filepath.Join(e.Root, "snapshots"))
	var out []string
	for _, d := range entries {
		if d.IsDir() {
			out = append(out, d.Name())
		}
	}
	return out
}

// snapshotLeftovers lists what snapshots/ holds besides empty directories
// and lock files: committed snapshots and any unpacked content (a half-made
// snapshot in a staging dir counts).
func (e *env) snapshotLeftovers() []string {
	var out []string
	root := filepath.Join(e.Root, "snapshots")
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			if d.Name() == "fs" {
				out = append(out, rel+"/")
				return filepath.SkipDir
			}
			return nil
		}
		if d.Name() == ".lock" || strings.HasSuffix(d.Name(), ".lock") {
			return nil
		}
		out = append(out, rel)
		return nil
	})
	return out
}

// assertEmptyStore checks that the env holds no image, no blob and no
// snapshot content (after a failed pull or load, or a full rmi).
func (e *env) assertEmptyStore() {
	e.t.Helper()
	if ids := e.imageIDs(); len(ids) > 0 {
		e.t.Errorf("want no images, have %v", ids)
	}
	if l := e.snapshotLeftovers(); len(l) > 0 {
		if len(l) > 10 {
			l = append(l[:10], "…")
		}
		e.t.Errorf("want no snapshot content, have %v", l)
	}
	if b := e.blobs(); len(b) > 0 {
		e.t.Errorf("want no blobs in content/blobs/sha256, have %v", b)
	}
}

// readDockerConfig decodes $DOCKER_CONFIG/config.json (nil if absent).
func (e *env) readDockerConfig() map[string]any {
	e.t.Helper()
	b, err := os.ReadFile(filepath.Join(e.DockerConfig, "config.json"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		e.t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		e.t.Fatalf("config.json: %v\n%s", err, b)
	}
	return m
}

// hasAuth reports whether config.json has an auths entry for server.
func (e *env) hasAuth(server string) (map[string]any, bool) {
	m := e.readDockerConfig()
	auths, _ := m["auths"].(map[string]any)
	a, ok := auths[server].(map[string]any)
	return a, ok
}

// wantContains fails the test unless the result's stdout contains every sub.
func (r result) wantStdout(t testing.TB, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(r.Stdout, s) {
			t.Fatalf("stdout lacks %q:\n%s", s, r)
		}
	}
}

// lastLine is stdout's last non-empty line.
func (r result) lastLine() string {
	l := r.Lines()
	if len(l) == 0 {
		return ""
	}
	return strings.TrimSpace(l[len(l)-1])
}

// sameSet reports whether a and b hold the same strings (order ignored).
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// repoTags lists "REPOSITORY:TAG" of table rows.
func repoTags(rows []imageRow) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r["REPOSITORY"]+":"+r["TAG"])
	}
	return out
}
