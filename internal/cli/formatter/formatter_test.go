package formatter

import (
	"bytes"
	"strings"
	"testing"
)

// testContext plays the role of a command's display context (like Docker's
// containerContext): values are exposed through methods, and JSON output is
// derived from those methods.
type testContext struct {
	id, image, command, status, names, ports string
	labels                                   map[string]string
}

func (c *testContext) ID() string                   { return c.id }
func (c *testContext) Image() string                { return c.image }
func (c *testContext) Command() string              { return c.command }
func (c *testContext) Status() string               { return c.status }
func (c *testContext) Names() string                { return c.names }
func (c *testContext) Ports() string                { return c.ports }
func (c *testContext) Labels() map[string]string    { return c.labels }
func (c *testContext) Label(name string) string     { return c.labels[name] }
func (c *testContext) MarshalJSON() ([]byte, error) { return MarshalMethods(c) }

// testDefaultTable and testHeader mimic what a `ps` command would pass.
const testDefaultTable = `table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.Status}}\t{{.Names}}`

var testHeader = map[string]string{
	"ID":      "CONTAINER ID",
	"Image":   "IMAGE",
	"Command": "COMMAND",
	"Status":  "STATUS",
	"Names":   "NAMES",
	"Ports":   "PORTS",
	"Labels":  "LABELS",
}

func testItems() []*testContext {
	return []*testContext{
		{
			id: "4a5b6c7d8e9f", image: "alpine", command: `"sh"`, status: "Up 2 hours",
			names: "web", ports: "0.0.0.0:80->80/tcp", labels: map[string]string{"a": "1"},
		},
		{
			id: "0123456789ab", image: "nginx:latest", command: `"/docker-entrypoint.…"`,
			status: "Exited (0) 3 days ago", names: "proxy",
			labels: map[string]string{"env": "prod & test", "com.example.tier": "edge"},
		},
	}
}

func TestNewFormat(t *testing.T) {
	tests := []struct {
		user string
		want Format
	}{
		{"", testDefaultTable},
		{"table", testDefaultTable},
		{"json", "json"},
		{"{{.ID}}", "{{.ID}}"},
		{"table {{.ID}}", "table {{.ID}}"},
	}
	for _, tt := range tests {
		if got := NewFormat(tt.user, testDefaultTable); got != tt.want {
			t.Errorf("NewFormat(%q) = %q, want %q", tt.user, got, tt.want)
		}
	}
}

func TestFormatKind(t *testing.T) {
	tests := []struct {
		f             Format
		table, isJSON bool
	}{
		{"table", true, false},
		{"table {{.ID}}", true, false},
		{"json", false, true},
		{"{{json .}}", false, false},
		{"{{.ID}}", false, false},
	}
	for _, tt := range tests {
		if got := tt.f.IsTable(); got != tt.table {
			t.Errorf("%q.IsTable() = %v, want %v", tt.f, got, tt.table)
		}
		if got := tt.f.IsJSON(); got != tt.isJSON {
			t.Errorf("%q.IsJSON() = %v, want %v", tt.f, got, tt.isJSON)
		}
	}
}

func TestWrite(t *testing.T) {
	tests := []struct {
		name   string
		format Format
		items  []*testContext
		want   string
	}{
		{
			// Columns are max(cell+3, 10) wide; the last one is not padded.
			name:   "default table",
			format: NewFormat("", testDefaultTable),
			items:  testItems(),
			want: "" +
				"CONTAINER ID   IMAGE          COMMAND                  STATUS                  NAMES\n" +
				"4a5b6c7d8e9f   alpine         \"sh\"                     Up 2 hours              web\n" +
				"0123456789ab   nginx:latest   \"/docker-entrypoint.…\"   Exited (0) 3 days ago   proxy\n",
		},
		{
			name:   "custom table",
			format: NewFormat(`table {{.ID}}\t{{.Names}}`, testDefaultTable),
			items:  testItems(),
			want: "" +
				"CONTAINER ID   NAMES\n" +
				"4a5b6c7d8e9f   web\n" +
				"0123456789ab   proxy\n",
		},
		{
			name:   "narrow columns are 10 wide",
			format: `table {{.Names}}\t{{.Status}}`,
			items:  testItems(),
			want: "" +
				"NAMES     STATUS\n" +
				"web       Up 2 hours\n" +
				"proxy     Exited (0) 3 days ago\n",
		},
		{
			// Header functions pass the title through, except pad, which
			// pads it like the cells so the columns stay aligned.
			name:   "functions in table header",
			format: `table {{upper .Names}}\t{{json .Labels}}\t{{truncate .ID 4}}\t{{lower .Image}}\t{{pad .Status 2 0}}`,
			items:  testItems(),
			want: "" +
				"NAMES     LABELS                                            CONTAINER ID   IMAGE            STATUS\n" +
				"WEB       {\"a\":\"1\"}                                         4a5b           alpine           Up 2 hours\n" +
				"PROXY     {\"com.example.tier\":\"edge\",\"env\":\"prod & test\"}   0123           nginx:latest     Exited (0) 3 days ago\n",
		},
		{
			name:   "label column header",
			format: `table {{.Names}}\t{{.Label "com.example.tier"}}`,
			items:  testItems(),
			want: "" +
				"NAMES     tier\n" +
				"web       \n" +
				"proxy     edge\n",
		},
		{
			name:   "empty table prints the header",
			format: NewFormat("table", testDefaultTable),
			want:   "CONTAINER ID   IMAGE     COMMAND   STATUS    NAMES\n",
		},
		{
			name:   "raw template has no header",
			format: NewFormat("{{.ID}}: {{.Names}}", testDefaultTable),
			items:  testItems(),
			want:   "4a5b6c7d8e9f: web\n0123456789ab: proxy\n",
		},
		{
			name:   "raw template unescapes tab without aligning",
			format: `{{.Names}}\t{{.ID}}`,
			items:  testItems(),
			want:   "web\t4a5b6c7d8e9f\nproxy\t0123456789ab\n",
		},
		{
			name:   "raw template unescapes newline",
			format: `{{.Names}}\n{{.Status}}`,
			items:  testItems()[:1],
			want:   "web\nUp 2 hours\n",
		},
		{
			name:   "surrounding spaces are trimmed",
			format: "  {{.Names}} ",
			items:  testItems(),
			want:   "web\nproxy\n",
		},
		{
			name:   "empty raw output",
			format: "{{.ID}}",
			want:   "",
		},
		{
			// Keys sorted, methods with arguments (Label) and MarshalJSON
			// left out, HTML characters escaped as Docker's output has them.
			name:   "json",
			format: NewFormat("json", testDefaultTable),
			items:  testItems(),
			want: `{"Command":"\"sh\"","ID":"4a5b6c7d8e9f","Image":"alpine","Labels":{"a":"1"},` +
				`"Names":"web","Ports":"0.0.0.0:80-\u003e80/tcp","Status":"Up 2 hours"}` + "\n" +
				`{"Command":"\"/docker-entrypoint.…\"","ID":"0123456789ab","Image":"nginx:latest",` +
				`"Labels":{"com.example.tier":"edge","env":"prod \u0026 test"},"Names":"proxy","Ports":"",` +
				`"Status":"Exited (0) 3 days ago"}` + "\n",
		},
		{
			name:   "json template equals json keyword",
			format: "{{json .}}",
			items:  testItems()[:1],
			want: `{"Command":"\"sh\"","ID":"4a5b6c7d8e9f","Image":"alpine","Labels":{"a":"1"},` +
				`"Names":"web","Ports":"0.0.0.0:80-\u003e80/tcp","Status":"Up 2 hours"}` + "\n",
		},
		{
			name:   "json of a field does not escape HTML",
			format: "{{json .Labels}} {{json .Ports}}",
			items:  testItems(),
			want:   `{"a":"1"} "0.0.0.0:80->80/tcp"` + "\n" + `{"com.example.tier":"edge","env":"prod & test"} ""` + "\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			c := Context{Output: &out, Format: tt.format, Header: testHeader}
			if err := Write(c, tt.items); err != nil {
				t.Fatalf("Write: %v", err)
			}
			if got := out.String(); got != tt.want {
				t.Errorf("output mismatch\ngot:\n%s\nwant:\n%s\ngot  %q\nwant %q", got, tt.want, got, tt.want)
			}
		})
	}
}

// TestWriteDockerPsHeader pins the exact header line `docker ps` prints when
// there are no containers, produced from Docker's own default ps format.
func TestWriteDockerPsHeader(t *testing.T) {
	const psTable = `table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}`
	header := map[string]string{
		"ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "RunningFor": "CREATED",
		"Status": "STATUS", "Ports": "PORTS", "Names": "NAMES",
	}
	var out bytes.Buffer
	err := Write(Context{Output: &out, Format: NewFormat("", psTable), Header: header}, []any{})
	if err != nil {
		t.Fatal(err)
	}
	const want = "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n"
	if out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}

func TestWriteErrors(t *testing.T) {
	tests := []struct {
		name    string
		format  Format
		wantErr string
	}{
		{"unclosed action", "{{.ID", `template parsing error: template: :1: unclosed action`},
		{"unknown function", "table {{nope .ID}}", `template parsing error: template: :1: function "nope" not defined`},
		{"unknown field", "{{.Nope}}", `template parsing error: template: :1:2: executing "" at <.Nope>: can't evaluate field Nope in type *formatter.testContext`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := Write(Context{Output: &out, Format: tt.format, Header: testHeader}, testItems())
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("error = %v, want %q", err, tt.wantErr)
			}
			if out.Len() != 0 {
				t.Errorf("output written despite error: %q", out.String())
			}
		})
	}
}

func TestWriteNilOutput(t *testing.T) {
	if err := Write(Context{Format: "{{.ID}}"}, testItems()); err != nil {
		t.Fatal(err)
	}
}

func TestHeaderFuncs(t *testing.T) {
	header := headerContext{"Names": "NAMES"}
	tests := []struct {
		tmpl, want string
	}{
		{`{{json .Names}}`, "NAMES"},
		{`{{split .Names ","}}`, "NAMES"},
		{`{{join .Names ","}}`, "NAMES"},
		{`{{title .Names}}`, "NAMES"},
		{`{{lower .Names}}`, "NAMES"},
		{`{{upper .Names}}`, "NAMES"},
		{`{{truncate .Names 2}}`, "NAMES"},
		{`{{pad .Names 1 2}}`, " NAMES  "},
		{`{{.Label "org.opencontainers.image.base_name"}}`, "base name"},
	}
	for _, tt := range tests {
		tmpl, err := ParseTemplate(tt.tmpl)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		if err := tmpl.Funcs(headerFuncs).Execute(&b, header); err != nil {
			t.Fatalf("%s: %v", tt.tmpl, err)
		}
		if b.String() != tt.want {
			t.Errorf("%s = %q, want %q", tt.tmpl, b.String(), tt.want)
		}
	}
}
