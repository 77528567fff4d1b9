package formatter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"text/template"
	"unicode"
	"unicode/utf8"
)

// ParseTemplate parses format, unmodified, as a Go template with Docker's
// template functions. Write uses it for --format; commands with a plain
// template flag (e.g. `inspect --format`, which Docker does not unescape or
// trim) can use it directly. Parse errors are prefixed with "template parsing
// error:" as Docker prints them.
//
// The template is anonymous (named ""), so error positions read
// "template: :1: ..." exactly as in Docker.
func ParseTemplate(format string) (*template.Template, error) {
	tmpl, err := template.New("").Funcs(templateFuncs).Parse(format)
	if err != nil {
		return nil, fmt.Errorf("template parsing error: %w", err)
	}
	return tmpl, nil
}

// templateFuncs are the functions Docker makes available in --format.
// Users rely on them by name, so the names and argument order are fixed.
var templateFuncs = template.FuncMap{
	"json":     jsonString,
	"split":    strings.Split,
	"join":     join,
	"title":    title,
	"lower":    strings.ToLower,
	"upper":    strings.ToUpper,
	"pad":      pad,
	"truncate": truncate,
}

// headerFuncs replace templateFuncs while the table header is rendered. In
// the header every field is its column title, a plain string, so the
// functions must leave it alone: "{{upper .Name}}" still gets the header
// "NAME", "{{json .Labels}}" gets "LABELS" rather than "\"LABELS\"".
//
// The parameter types are deliberately string (as in Docker): applying such
// a function to something that is not a header string fails, and the
// header then ends where it failed, as it does with Docker.
//
// pad is intentionally absent: padding the title keeps the header aligned
// with the padded cells, and Docker does not override it either.
var headerFuncs = template.FuncMap{
	"json":     func(v string) string { return v },
	"split":    func(v, _ string) string { return v },
	"join":     func(v, _ string) string { return v },
	"title":    func(v string) string { return v },
	"lower":    func(v string) string { return v },
	"upper":    func(v string) string { return v },
	"truncate": func(v string, _ int) string { return v },
}

// jsonString is the "json" template function: compact JSON without HTML
// escaping (so "->" in port lists stays readable) and without the trailing
// newline json.Encoder adds. Values implementing json.Marshaler (such as
// contexts using MarshalMethods) control their own encoding.
func jsonString(v any) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSpace(buf.String()), nil
}

// join is the "join" template function. Besides []string it accepts any
// slice or array (elements printed with fmt) and maps (values printed with
// fmt, sorted so the output is stable), because Docker's accepts those too
// and templates like {{join .Labels ","}} exist in the wild.
func join(elems any, sep string) (string, error) {
	if elems == nil {
		return "", nil
	}
	if ss, ok := elems.([]string); ok {
		return strings.Join(ss, sep), nil
	}
	rv := reflect.ValueOf(elems)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		parts := make([]string, rv.Len())
		for i := range parts {
			parts[i] = fmt.Sprint(rv.Index(i).Interface())
		}
		return strings.Join(parts, sep), nil
	case reflect.Map:
		parts := make([]string, 0, rv.Len())
		for it := rv.MapRange(); it.Next(); {
			parts = append(parts, fmt.Sprint(it.Value().Interface()))
		}
		slices.Sort(parts)
		return strings.Join(parts, sep), nil
	default:
		return "", fmt.Errorf("expected slice, got %T", elems)
	}
}

// title is the "title" template function: it upper-cases the first letter
// of every word and leaves the rest untouched ("hello wORLD" → "Hello WORLD").
// Docker uses the deprecated strings.Title; this follows the same word
// rules without depending on it.
func title(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	prev := ' '
	for _, r := range s {
		if isWordSeparator(prev) {
			r = unicode.ToTitle(r)
		}
		b.WriteRune(r)
		prev = r
	}
	return b.String()
}

// isWordSeparator decides where a word starts for title, with the rules of
// strings.Title: ASCII letters, digits and '_' continue a word, other ASCII
// characters and any white space end it, other letters and digits continue
// it, and the remaining non-ASCII runes do not break words.
func isWordSeparator(r rune) bool {
	if r < utf8.RuneSelf {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9', r == '_':
			return false
		}
		return true
	}
	if unicode.IsLetter(r) || unicode.IsDigit(r) {
		return false
	}
	return unicode.IsSpace(r)
}

// pad is the "pad" template function: left spaces, the text, right spaces.
// Empty text stays empty so that optional columns do not turn into blanks.
func pad(s string, left, right int) (string, error) {
	if s == "" {
		return s, nil
	}
	if left < 0 || right < 0 {
		return "", errors.New("pad: negative padding")
	}
	return strings.Repeat(" ", left) + s + strings.Repeat(" ", right), nil
}

// truncate is the "truncate" template function: at most n characters of s.
// Docker counts bytes, which can split a multi-byte character; counting
// runes gives the same result for ASCII and valid UTF-8 otherwise.
func truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
