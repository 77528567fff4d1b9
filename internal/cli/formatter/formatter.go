// Package formatter renders lists of items the way the Docker CLI renders
// them for its --format flag, so that scripts written against `docker ps
// --format ...` (and friends) keep working unchanged with nerd.
//
// The behaviour mirrors docker/cli's cli/command/formatter and templates
// packages: the same format keywords ("table", "json"), the same template
// functions, the same tabwriter settings and the same header trick (the
// table header is produced by executing the user's template against a map
// of column titles). The implementation is independent; only the observable
// output is meant to match.
package formatter

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Format keywords understood by NewFormat and Format. They are Docker's.
const (
	// TableFormatKey selects a table: alone it means "the command's default
	// table", as a prefix ("table {{.ID}}\t{{.Name}}") a custom table.
	TableFormatKey = "table"
	// JSONFormatKey renders every item as one line of JSON.
	JSONFormatKey = "json"

	// jsonTemplate is what JSONFormatKey stands for; Docker defines "json"
	// as exactly this template, so {{json .}} and "json" are identical.
	jsonTemplate = "{{json .}}"
)

// Tabwriter settings used by every Docker table. They are what produce the
// familiar "columns at least 10 wide, 3 spaces apart" look, so they must not
// be tuned.
const (
	tabMinWidth = 10
	tabWidth    = 1
	tabPadding  = 3
	tabPadChar  = ' '
	tabFlags    = 0
)

// Format is a user-supplied --format value after NewFormat has resolved the
// "" and "table" shortcuts.
type Format string

// NewFormat resolves the user's --format value: "" and "table" both mean the
// command's default table (defaultTable, itself a "table ..." format);
// anything else, including "json", is kept as given. Commands that support
// --quiet should decide that before calling NewFormat, as Docker does.
func NewFormat(userFormat, defaultTable string) Format {
	switch userFormat {
	case "", TableFormatKey:
		return Format(defaultTable)
	}
	return Format(userFormat)
}

// IsTable reports whether f renders a table (with a header and aligned
// columns). Like Docker it is a plain prefix test, so "table" must come first.
func (f Format) IsTable() bool {
	return strings.HasPrefix(string(f), TableFormatKey)
}

// IsJSON reports whether f is the bare "json" keyword. A template such as
// "{{json .Labels}}" is an ordinary template, not the JSON format.
func (f Format) IsJSON() bool {
	return string(f) == JSONFormatKey
}

// template returns the Go template text that f stands for: the "json"
// keyword becomes {{json .}}, the "table" prefix is dropped, surrounding
// spaces (only spaces, so that a deliberate leading tab or newline survives)
// are trimmed, and literal `\t` / `\n` are turned into real tabs and
// newlines because shells make typing those awkward.
func (f Format) template() string {
	s := string(f)
	switch s {
	case TableFormatKey:
		// A bare "table" is normally replaced by NewFormat; if it gets here
		// it is a table without columns.
		return ""
	case JSONFormatKey:
		return jsonTemplate
	}
	s = strings.TrimPrefix(s, TableFormatKey)
	s = strings.Trim(s, " ")
	return escapes.Replace(s)
}

// escapes turns the two escape sequences Docker recognises in --format into
// the characters they name. Nothing else (e.g. `\\`) is interpreted.
var escapes = strings.NewReplacer(`\t`, "\t", `\n`, "\n")

// Context describes one rendering: where to write, which format to use and,
// for tables, the column titles.
type Context struct {
	// Output receives the rendered text; nil discards it.
	Output io.Writer
	// Format is the resolved format, normally from NewFormat.
	Format Format
	// Header maps a field or method name as used in the template (e.g. "ID")
	// to its column title (e.g. "CONTAINER ID"). Only tables use it.
	Header map[string]string
}

// Write renders items according to c.Format: one template execution per
// item, each followed by a newline, and for tables a header line first and
// the whole block aligned with a tabwriter.
//
// Output is buffered and only written once every item rendered without
// error, so a failing template never leaves half a table on the terminal
// (Docker behaves the same). Execution errors carry the "template parsing
// error:" prefix too, because that is what Docker prints for them.
func Write[T any](c Context, items []T) error {
	tmpl, err := ParseTemplate(c.Format.template())
	if err != nil {
		return err
	}

	var body bytes.Buffer
	for _, item := range items {
		if err := tmpl.Execute(&body, item); err != nil {
			return fmt.Errorf("template parsing error: %w", err)
		}
		body.WriteByte('\n')
	}

	out := c.Output
	if out == nil {
		out = io.Discard
	}
	if !c.Format.IsTable() {
		_, err := body.WriteTo(out)
		return err
	}

	tw := tabwriter.NewWriter(out, tabMinWidth, tabWidth, tabPadding, tabPadChar, tabFlags)
	// The header is the same template run against the column titles. Docker
	// ignores errors here (e.g. a function the header cannot emulate) and
	// keeps whatever was written before the failure; so do we, otherwise
	// the output would differ for such templates.
	var header any
	if c.Header != nil {
		header = headerContext(c.Header)
	}
	_ = tmpl.Funcs(headerFuncs).Execute(tw, header)
	if _, err := tw.Write([]byte{'\n'}); err != nil {
		return err
	}
	if _, err := body.WriteTo(tw); err != nil {
		return err
	}
	return tw.Flush()
}

// headerContext is the data the header row is rendered from. Being a map,
// {{.ID}} looks up the title for "ID"; a field missing from the map prints
// "<no value>", exactly like Docker's header map.
type headerContext map[string]string

// Label gives {{.Label "com.example.some-key"}} a sensible column title
// ("some key"): the last dot-separated part with '-' and '_' as spaces.
// Docker's header map has the same method, so label columns get the same
// title in nerd.
func (headerContext) Label(name string) string {
	parts := strings.Split(name, ".")
	return strings.NewReplacer("-", " ", "_", " ").Replace(parts[len(parts)-1])
}
