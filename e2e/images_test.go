package e2e

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// `nerd images` / `nerd image ls` with each flag, filter and format.
// One env with busybox (created 2024), debian and nginx (built later, nginx
// last); the subtests only read it.
func TestImages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, ref := range []string{"busybox", "debian:bookworm-slim", "nginx"} {
		e.pullOK(ref)
	}
	all := []string{"busybox:latest", "debian:bookworm-slim", "nginx:latest"}
	byRepo := map[string]imageInfo{"busybox": busybox, "debian": debian, "nginx": nginx}

	t.Run("table", func(t *testing.T) {
		r := e.nerdOK("images")
		header, rows := parseTable(t, r.Stdout)
		if !slices.Equal(header, []string{"REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"}) {
			t.Errorf("header %q", header)
		}
		if !sameSet(repoTags(rows), all) {
			t.Errorf("rows %v, want %v", repoTags(rows), all)
		}
		for _, row := range rows {
			if want := byRepo[row["REPOSITORY"]].ShortID(); row["IMAGE ID"] != want {
				t.Errorf("%s: IMAGE ID %q, want %q", row["REPOSITORY"], row["IMAGE ID"], want)
			}
			if row["CREATED"] == "" || !matchCI(`^[0-9.]+\s?[kMG]?B$`, row["SIZE"]) {
				t.Errorf("%s: CREATED %q SIZE %q", row["REPOSITORY"], row["CREATED"], row["SIZE"])
			}
		}
		if row := findRow(rows, "busybox", "latest"); row != nil && !strings.HasSuffix(row["CREATED"], "ago") {
			t.Errorf("busybox CREATED %q, want a relative time like Docker's", row["CREATED"])
		}
		// `image ls` and `image list` are the same command.
		for _, alias := range [][]string{{"image", "ls"}, {"image", "list"}} {
			if got := e.nerdOK(alias...).Stdout; got != r.Stdout {
				t.Errorf("%v differs from images:\n%s\nvs\n%s", alias, got, r.Stdout)
			}
		}
	})

	t.Run("quiet", func(t *testing.T) {
		lines := e.nerdOK("images", "-q").Lines()
		if !sameSet(lines, []string{busybox.ShortID(), debian.ShortID(), nginx.ShortID()}) {
			t.Errorf("images -q: %v", lines)
		}
		lines = e.nerdOK("images", "--quiet", "--no-trunc").Lines()
		if !sameSet(lines, []string{busybox.ID, debian.ID, nginx.ID}) {
			t.Errorf("images -q --no-trunc: %v", lines)
		}
	})

	t.Run("all", func(t *testing.T) {
		if got := repoTags(e.images("-a")); !sameSet(got, all) {
			t.Errorf("images -a: %v", got)
		}
	})

	t.Run("no-trunc", func(t *testing.T) {
		row := findRow(e.images("--no-trunc"), "nginx", "latest")
		if row == nil || row["IMAGE ID"] != nginx.ID {
			t.Errorf("images --no-trunc nginx row %v, want IMAGE ID %s", row, nginx.ID)
		}
	})

	t.Run("digests", func(t *testing.T) {
		r := e.nerdOK("images", "--digests")
		header, rows := parseTable(t, r.Stdout)
		if !slices.Equal(header, []string{"REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE"}) {
			t.Errorf("header %q", header)
		}
		for _, row := range rows {
			if want := byRepo[row["REPOSITORY"]].Digest; row["DIGEST"] != want {
				t.Errorf("%s: DIGEST %q, want %q", row["REPOSITORY"], row["DIGEST"], want)
			}
		}
	})

	t.Run("repository argument", func(t *testing.T) {
		if got := repoTags(e.images("busybox")); !sameSet(got, []string{"busybox:latest"}) {
			t.Errorf("images busybox: %v", got)
		}
		if got := repoTags(e.images("debian:bookworm-slim")); !sameSet(got, []string{"debian:bookworm-slim"}) {
			t.Errorf("images debian:bookworm-slim: %v", got)
		}
		if got := e.images("no-such-repo"); len(got) != 0 {
			t.Errorf("images no-such-repo: %v", got)
		}
	})

	filters := []struct {
		filter string
		want   []string
	}{
		{"dangling=true", nil},
		{"dangling=false", all},
		{"reference=busybox", []string{"busybox:latest"}},
		{"reference=deb*", []string{"debian:bookworm-slim"}},
		{"reference=*:latest", []string{"busybox:latest", "nginx:latest"}},
		{"label=maintainer", []string{"nginx:latest"}},
		{"label=maintainer=nerd e2e", []string{"nginx:latest"}},
		{"label=org.nerd.e2e.variant", nil},
		{"before=nginx", []string{"busybox:latest", "debian:bookworm-slim"}},
		{"before=debian:bookworm-slim", []string{"busybox:latest"}},
		{"since=busybox", []string{"debian:bookworm-slim", "nginx:latest"}},
		{"since=" + debian.ID, []string{"nginx:latest"}},
	}
	for _, f := range filters {
		t.Run("filter "+f.filter, func(t *testing.T) {
			if got := repoTags(e.images("--filter", f.filter)); !sameSet(got, f.want) {
				t.Errorf("images --filter %s: %v, want %v", f.filter, got, f.want)
			}
		})
	}
	t.Run("two filters", func(t *testing.T) {
		got := repoTags(e.images("-f", "reference=*:latest", "-f", "since=busybox"))
		if !sameSet(got, []string{"nginx:latest"}) {
			t.Errorf("got %v", got)
		}
	})
	t.Run("bad filter", func(t *testing.T) {
		e.nerdFail(1, []string{"images", "--filter", "no-such-filter=x"}, `invalid filter`)
		e.nerdFail(1, []string{"images", "--filter", "before=no-such-image"}, `no such image|not found`)
	})

	t.Run("format template", func(t *testing.T) {
		lines := e.nerdOK("images", "--format", "{{.Repository}}:{{.Tag}}").Lines()
		if !sameSet(lines, all) {
			t.Errorf("lines %v, want %v", lines, all)
		}
		lines = e.nerdOK("images", "--format", "{{upper .Repository}} {{.ID}}", "busybox").Lines()
		if !slices.Equal(lines, []string{"BUSYBOX " + busybox.ShortID()}) {
			t.Errorf("template functions: %v", lines)
		}
		lines = e.nerdOK("images", "--format", "{{json .Repository}}", "nginx").Lines()
		if !slices.Equal(lines, []string{`"nginx"`}) {
			t.Errorf("json function: %v", lines)
		}
	})

	t.Run("format json", func(t *testing.T) {
		lines := e.nerdOK("images", "--format", "json").Lines()
		if len(lines) != 3 {
			t.Fatalf("want one JSON object per image, got %q", lines)
		}
		var seen []string
		for _, l := range lines {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("%q: %v", l, err)
			}
			for _, k := range []string{"Repository", "Tag", "ID", "CreatedAt", "CreatedSince", "Size", "Digest"} {
				if _, ok := m[k]; !ok {
					t.Errorf("JSON %q lacks %s", l, k)
				}
			}
			repo, _ := m["Repository"].(string)
			tag, _ := m["Tag"].(string)
			seen = append(seen, repo+":"+tag)
			if id, _ := m["ID"].(string); id != byRepo[repo].ShortID() {
				t.Errorf("%s: ID %q", repo, id)
			}
		}
		if !sameSet(seen, all) {
			t.Errorf("json images %v", seen)
		}
	})

	t.Run("format table", func(t *testing.T) {
		r := e.nerdOK("images", "--format", "table {{.Repository}}\t{{.Tag}}\t{{.ID}}")
		header, rows := parseTable(t, r.Stdout)
		if !slices.Equal(header, []string{"REPOSITORY", "TAG", "IMAGE ID"}) {
			t.Errorf("header %q", header)
		}
		if !sameSet(repoTags(rows), all) {
			t.Errorf("rows %v", repoTags(rows))
		}
	})

	t.Run("bad format", func(t *testing.T) {
		e.nerdFail(1, []string{"images", "--format", "{{.Repository"}, `template|parsing|unclosed`)
		e.nerdFail(125, []string{"images", "--bogus"}, `unknown flag: --bogus`)
	})
}

func TestImagesEmptyStore(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.nerdOK("images")
	header, rows := parseTable(t, r.Stdout)
	if len(header) != 5 || len(rows) != 0 {
		t.Errorf("empty store: %s", r)
	}
	if r := e.nerdOK("images", "-q"); r.Stdout != "" {
		t.Errorf("images -q on an empty store: %q", r.Stdout)
	}
}
