package formatter

import (
	"strings"
	"testing"
)

func TestTemplateFuncs(t *testing.T) {
	data := map[string]any{
		"S":      "a,b,c",
		"Words":  "hello wORLD foo-bar_baz o'neil ünï",
		"Mixed":  "MiXeD",
		"List":   []string{"x", "y"},
		"Ints":   []int{1, 2, 3},
		"Map":    map[string]string{"k2": "b", "k1": "a"},
		"Empty":  "",
		"Unicdx": "héllo wörld",
		"HTML":   map[string]string{"p": "80->80 & <x>"},
	}
	tests := []struct {
		tmpl, want string
	}{
		{`{{json .List}}`, `["x","y"]`},
		{`{{json .HTML}}`, `{"p":"80->80 & <x>"}`},
		{`{{json .Empty}}`, `""`},
		{`{{index (split .S ",") 1}}`, "b"},
		{`{{len (split .S ",")}}`, "3"},
		{`{{join .List ", "}}`, "x, y"},
		{`{{join .Ints "+"}}`, "1+2+3"},
		{`{{join .Map ","}}`, "a,b"},
		{`{{join (split .S ",") ":"}}`, "a:b:c"},
		{`{{title .Words}}`, "Hello WORLD Foo-Bar_baz O'Neil Ünï"},
		{`{{lower .Mixed}}`, "mixed"},
		{`{{upper .Mixed}}`, "MIXED"},
		{`[{{pad .Mixed 2 1}}]`, "[  MiXeD ]"},
		{`[{{pad .Empty 2 1}}]`, "[]"},
		{`{{truncate .Mixed 3}}`, "MiX"},
		{`{{truncate .Mixed 5}}`, "MiXeD"},
		{`{{truncate .Mixed 50}}`, "MiXeD"},
		{`{{truncate .Mixed 0}}`, ""},
		{`{{truncate .Unicdx 4}}`, "héll"},
	}
	for _, tt := range tests {
		tmpl, err := ParseTemplate(tt.tmpl)
		if err != nil {
			t.Fatalf("%s: %v", tt.tmpl, err)
		}
		var b strings.Builder
		if err := tmpl.Execute(&b, data); err != nil {
			t.Fatalf("%s: %v", tt.tmpl, err)
		}
		if b.String() != tt.want {
			t.Errorf("%s = %q, want %q", tt.tmpl, b.String(), tt.want)
		}
	}
}

func TestTemplateFuncErrors(t *testing.T) {
	tests := []struct {
		tmpl, wantErr string
	}{
		{`{{join .S ","}}`, "expected slice, got string"},
		{`{{pad .S -1 0}}`, "negative padding"},
		{`{{json .C}}`, "unsupported type"},
	}
	data := map[string]any{"S": "abc", "C": make(chan int)}
	for _, tt := range tests {
		tmpl, err := ParseTemplate(tt.tmpl)
		if err != nil {
			t.Fatal(err)
		}
		err = tmpl.Execute(&strings.Builder{}, data)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: error = %v, want it to contain %q", tt.tmpl, err, tt.wantErr)
		}
	}
}

func TestParseTemplateError(t *testing.T) {
	_, err := ParseTemplate("{{.ID}")
	const want = `template parsing error: template: :1: bad character U+007D '}'`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}

// ParseTemplate is for flags Docker does not preprocess, so `\t` stays.
func TestParseTemplateKeepsEscapes(t *testing.T) {
	tmpl, err := ParseTemplate(`{{.}}\t`)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, "x"); err != nil {
		t.Fatal(err)
	}
	if b.String() != `x\t` {
		t.Errorf("got %q", b.String())
	}
}
