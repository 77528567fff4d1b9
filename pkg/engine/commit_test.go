package engine

import (
	"slices"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestApplyChanges(t *testing.T) {
	cfg := v1.Config{Env: []string{"PATH=/bin", "HOME=/root"}, Cmd: []string{"sh"}, WorkingDir: "/app"}
	err := ApplyChanges(&cfg, []string{
		`ENTRYPOINT ["/bin/tini", "--"]`,
		"ENV A=1 B='two words' C=$HOME/x",
		"ENV D ${A:-none} and ${NOPE:-default}",
		`LABEL "com.example.a"="x y" b=$A`,
		"EXPOSE 80 53/udp 9000-9001",
		"WORKDIR sub",
		"USER app:app",
		`VOLUME ["/v1", "/v2"]`,
		"STOPSIGNAL SIGUSR1",
		"HEALTHCHECK --interval=5s --retries=2 CMD curl -f http://localhost/",
		"ONBUILD run echo hi",
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.Entrypoint, []string{"/bin/tini", "--"}) || cfg.Cmd != nil {
		t.Errorf("ENTRYPOINT: %q, Cmd %q (a new entrypoint drops the inherited command)", cfg.Entrypoint, cfg.Cmd)
	}
	for _, want := range []string{"A=1", "B=two words", "C=/root/x", "D=1 and default"} {
		if !slices.Contains(cfg.Env, want) {
			t.Errorf("Env %q lacks %q", cfg.Env, want)
		}
	}
	if cfg.Labels["com.example.a"] != "x y" || cfg.Labels["b"] != "1" {
		t.Errorf("Labels %v", cfg.Labels)
	}
	for _, p := range []string{"80/tcp", "53/udp", "9000/tcp", "9001/tcp"} {
		if _, ok := cfg.ExposedPorts[p]; !ok {
			t.Errorf("ExposedPorts %v lacks %s", cfg.ExposedPorts, p)
		}
	}
	if cfg.WorkingDir != "/app/sub" || cfg.User != "app:app" || cfg.StopSignal != "SIGUSR1" {
		t.Errorf("WorkingDir %q User %q StopSignal %q", cfg.WorkingDir, cfg.User, cfg.StopSignal)
	}
	if len(cfg.Volumes) != 2 {
		t.Errorf("Volumes %v", cfg.Volumes)
	}
	if hc := cfg.Healthcheck; hc == nil || !slices.Equal(hc.Test, []string{"CMD-SHELL", "curl -f http://localhost/"}) || hc.Retries != 2 || hc.Interval.Seconds() != 5 {
		t.Errorf("Healthcheck %+v", cfg.Healthcheck)
	}
	if !slices.Equal(cfg.OnBuild, []string{"RUN echo hi"}) {
		t.Errorf("OnBuild %q", cfg.OnBuild)
	}

	cfg = v1.Config{Cmd: []string{"sh"}}
	if err := ApplyChanges(&cfg, []string{"CMD echo $HOME", "ENTRYPOINT [\"x\"]"}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.Cmd, []string{"/bin/sh", "-c", "echo $HOME"}) {
		t.Errorf("shell-form CMD %q (kept by a later ENTRYPOINT)", cfg.Cmd)
	}
	for _, bad := range []string{"RUN true", "FROM x", "EXPOSE http", "STOPSIGNAL NOPE", "USER a b", "ENV", `VOLUME [""]`, "ONBUILD ONBUILD RUN x"} {
		if err := ApplyChanges(&v1.Config{}, []string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestPrepareCopy(t *testing.T) {
	for _, tc := range []struct {
		srcBase  string
		srcDir   bool
		dst      copyInfo
		dir, top string
		err      error
	}{
		{"a", false, copyInfo{path: "/d", exists: true, isDir: true}, "/d", "a", nil},
		{".", true, copyInfo{path: "/d", exists: true, isDir: true}, "/d", ".", nil},
		{"a", false, copyInfo{path: "/d/f", exists: true}, "/d", "f", nil},
		{"a", true, copyInfo{path: "/d/f", exists: true}, "", "", ErrCannotCopyDir},
		{"a", true, copyInfo{path: "/d/new"}, "/d", "new", nil},
		{".", true, copyInfo{path: "/d/new"}, "/d", "new", nil},
		{"a", false, copyInfo{path: "/d/new/"}, "", "", ErrDirNotExists},
		{"a", false, copyInfo{path: "/d/new"}, "/d", "new", nil},
	} {
		dir, top, err := prepareCopy(tc.srcBase, tc.srcDir, tc.dst)
		if dir != tc.dir || top != tc.top || err != tc.err {
			t.Errorf("prepareCopy(%q, %v, %+v) = %q %q %v, want %q %q %v", tc.srcBase, tc.srcDir, tc.dst, dir, top, err, tc.dir, tc.top, tc.err)
		}
	}
	if d, b := splitPathDirEntry("/a/b/."); d != "/a/b" || b != "." {
		t.Errorf("splitPathDirEntry(/a/b/.) = %q %q", d, b)
	}
	if got := preserveTrailingDotOrSlash("/a/b", "x/b/"); got != "/a/b/" {
		t.Errorf("preserveTrailingDotOrSlash = %q", got)
	}
	if _, err := cleanEntryName("../x"); err == nil {
		t.Errorf("cleanEntryName accepted ../x")
	}
}
