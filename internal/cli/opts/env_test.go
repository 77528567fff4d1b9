package opts

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func fakeEnv(m map[string]string) LookupFunc {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func writeTemp(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestValidateEnv(t *testing.T) {
	lookup := fakeEnv(map[string]string{"HOSTVAR": "fromhost", "EMPTY": ""})
	tests := map[string]string{
		"A=b":       "A=b",
		"A=":        "A=",
		"A=b=c":     "A=b=c",
		"HOSTVAR":   "HOSTVAR=fromhost",
		"EMPTY":     "EMPTY=",
		"MISSING":   "MISSING",
		"weird.k-y": "weird.k-y",
	}
	for in, want := range tests {
		if got, err := ValidateEnv(in, lookup); err != nil || got != want {
			t.Errorf("ValidateEnv(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"=x", ""} {
		if _, err := ValidateEnv(in, lookup); err == nil || err.Error() != "invalid environment variable: "+in {
			t.Errorf("ValidateEnv(%q): err = %v", in, err)
		}
	}
	got, err := ParseEnv([]string{"A=1", "HOSTVAR"}, lookup)
	if err != nil || !reflect.DeepEqual(got, []string{"A=1", "HOSTVAR=fromhost"}) {
		t.Errorf("ParseEnv = %q, %v", got, err)
	}
	if _, err := ParseEnv([]string{"A=1", "=2"}, lookup); err == nil {
		t.Error("ParseEnv accepted an empty name")
	}

	t.Setenv("NERD_OPTS_TEST", "real")
	if got, _ := ValidateEnv("NERD_OPTS_TEST", nil); got != "NERD_OPTS_TEST=real" {
		t.Errorf("nil lookup: %q", got)
	}
}

func TestValidateLabel(t *testing.T) {
	for _, in := range []string{"a=b", "a", "a=", "  a=b c ", `a="q"`} {
		if got, err := ValidateLabel(in); err != nil || got != in {
			t.Errorf("ValidateLabel(%q) = %q, %v", in, got, err)
		}
	}
	bad := map[string]string{
		"=b":    "invalid label '=b': empty name",
		"  =b":  "invalid label '  =b': empty name",
		"a b=c": "label 'a b' contains whitespaces",
	}
	for in, want := range bad {
		if _, err := ValidateLabel(in); err == nil || err.Error() != want {
			t.Errorf("ValidateLabel(%q): err = %v, want %q", in, err, want)
		}
	}
}

func TestReadKVFile(t *testing.T) {
	lookup := fakeEnv(map[string]string{"FROMENV": "yes"})
	content := "\xEF\xBB\xBFFIRST=1\n" +
		"# a comment\n" +
		"\n" +
		"   \t\n" +
		"  INDENTED=kept as is  \n" +
		"QUOTED=\"x\"\n" +
		"EMPTY=\n" +
		"FROMENV\n" +
		"NOTINENV\n" +
		"   # indented comment\n" +
		"EQ=a=b\n"
	p := writeTemp(t, content)

	got, err := ReadEnvFile(p, lookup)
	want := []string{"FIRST=1", "INDENTED=kept as is  ", `QUOTED="x"`, "EMPTY=", "FROMENV=yes", "EQ=a=b"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("env file = %q, %v; want %q", got, err, want)
	}

	// Label files have no lookup: bare keys are dropped.
	got, err = ReadKVFile(p)
	want = []string{"FIRST=1", "INDENTED=kept as is  ", `QUOTED="x"`, "EMPTY=", "EQ=a=b"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("label file = %q, %v; want %q", got, err, want)
	}

	if got, err := ReadKVFile(writeTemp(t, "")); err != nil || got == nil || len(got) != 0 {
		t.Errorf("empty file = %#v, %v", got, err)
	}
}

func TestReadKVFileErrors(t *testing.T) {
	tests := []struct {
		content string
		want    string
	}{
		{"A=1\n=2\n", "no variable name on line '=2'"},
		{"BAD KEY=1\n", "variable 'BAD KEY' contains whitespaces"},
		{"BAD\tKEY\n", "variable 'BAD\tKEY' contains whitespaces"},
		{"A=1\nB=\xff\n", "invalid utf8 bytes at line 2: [66 61 255]"},
		{"A=\xEF\xBB\xBF\n", ""}, // a BOM later in the file is just bytes
	}
	for _, tt := range tests {
		p := writeTemp(t, tt.content)
		_, err := ReadKVFile(p)
		if tt.want == "" {
			if err != nil {
				t.Errorf("%q: %v", tt.content, err)
			}
			continue
		}
		if want := "invalid env file (" + p + "): " + tt.want; err == nil || err.Error() != want {
			t.Errorf("%q: err = %v, want %q", tt.content, err, want)
		}
	}
	missing := filepath.Join(t.TempDir(), "nope")
	if _, err := ReadKVFile(missing); err == nil || err.Error() != "open "+missing+": no such file or directory" {
		t.Errorf("missing file: %v", err)
	}
	long := writeTemp(t, "A="+strings.Repeat("x", 70000)+"\n")
	if _, err := ReadKVFile(long); err == nil || !strings.Contains(err.Error(), "token too long") {
		t.Errorf("long line: %v", err)
	}
}

func TestMergeEnv(t *testing.T) {
	lookup := fakeEnv(map[string]string{"H": "host"})
	f1 := writeTemp(t, "A=1\nB=2\nH\n")
	f2 := writeTemp(t, "B=3\n")
	got, err := MergeEnv([]string{f1, f2}, []string{"A=flag"}, lookup)
	want := []string{"A=1", "B=2", "H=host", "B=3", "A=flag"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("MergeEnv = %q, %v; want %q", got, err, want)
	}
	bad := writeTemp(t, "X Y=1\n")
	if _, err := MergeEnv([]string{bad}, nil, lookup); err == nil || !strings.HasPrefix(err.Error(), "--env-file: invalid env file (") {
		t.Errorf("MergeEnv error = %v", err)
	}
	if _, err := MergeEnv([]string{"/nonexistent"}, nil, lookup); err == nil || err.Error() != "--env-file: open /nonexistent: no such file or directory" {
		t.Errorf("MergeEnv missing = %v", err)
	}
}

func TestMergeLabels(t *testing.T) {
	f := writeTemp(t, "com.example.a=1\ncom.example.b=2\nbare\n")
	got, err := MergeLabels([]string{f}, []string{"com.example.b=flag", "flagbare"})
	want := map[string]string{"com.example.a": "1", "com.example.b": "flag", "flagbare": ""}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("MergeLabels = %v, %v; want %v", got, err, want)
	}
	if _, err := MergeLabels([]string{"/nonexistent"}, nil); err == nil || err.Error() != "--label-file: open /nonexistent: no such file or directory" {
		t.Errorf("MergeLabels missing = %v", err)
	}
}

func TestList(t *testing.T) {
	l := NewList(nil)
	_ = l.Set("a")
	_ = l.Set("b")
	if !reflect.DeepEqual(l.Values(), []string{"a", "b"}) || l.String() != "[a b]" || l.Type() != "list" {
		t.Errorf("list = %q %q", l.Values(), l.String())
	}
	env := NewEnvList(fakeEnv(map[string]string{"X": "1"}))
	_ = env.Set("X")
	if env.Values()[0] != "X=1" {
		t.Errorf("env list = %q", env.Values())
	}
}

func TestParseSecurityOpts(t *testing.T) {
	profile := writeTemp(t, "{\n  \"defaultAction\": \"SCMP_ACT_ALLOW\"\n}\n")
	got, err := ParseSecurityOpts([]string{"no-new-privileges", "no-new-privileges:true", "seccomp=unconfined",
		"seccomp=builtin", "label=disable", "apparmor=unconfined", "seccomp=" + profile})
	want := []string{"no-new-privileges", "no-new-privileges:true", "seccomp=unconfined", "seccomp=builtin",
		"label=disable", "apparmor=unconfined", `seccomp={"defaultAction":"SCMP_ACT_ALLOW"}`}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ParseSecurityOpts = %q, %v", got, err)
	}
	notJSON := writeTemp(t, "not json")
	bad := map[string]string{
		"x":                        `invalid --security-opt: "x"`,
		"seccomp=":                 `invalid --security-opt: "seccomp="`,
		"seccomp=/nonexistent":     "opening seccomp profile (/nonexistent) failed: open /nonexistent: no such file or directory",
		"seccomp:" + notJSON:       "compacting json for seccomp profile (" + notJSON + ") failed: invalid character 'o' in literal null (expecting 'u')",
		"label":                    `invalid --security-opt: "label"`,
		"no-new-privileges-please": `invalid --security-opt: "no-new-privileges-please"`,
	}
	for in, want := range bad {
		if _, err := ParseSecurityOpts([]string{in}); err == nil || err.Error() != want {
			t.Errorf("%q: err = %v, want %q", in, err, want)
		}
	}
}

func TestModes(t *testing.T) {
	for _, m := range []string{"", "host", "container:db"} {
		if err := ValidatePidMode(m); err != nil {
			t.Errorf("pid %q: %v", m, err)
		}
	}
	if err := ValidatePidMode("container:"); err == nil || err.Error() != "--pid: invalid PID mode" {
		t.Errorf("pid container: %v", err)
	}
	if err := ValidateUTSMode("private"); err == nil || err.Error() != "--uts: invalid UTS mode" {
		t.Errorf("uts: %v", err)
	}
	for _, m := range []string{"", "none", "private", "shareable", "host", "container:db"} {
		if err := ValidateIpcMode(m); err != nil {
			t.Errorf("ipc %q: %v", m, err)
		}
	}
	if err := ValidateIpcMode("bogus"); err == nil || err.Error() != "invalid IPC mode: bogus" {
		t.Errorf("ipc: %v", err)
	}
}
