package logging

import (
	"encoding/json"
	"math/rand"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2024, 1, 2, 3, 4, 5, 123456789, time.UTC)

func rfc(t time.Time) []byte { return []byte(t.Format(time.RFC3339Nano)) }

// Expected lines are Docker's jsonlog.JSONLogs.MarshalJSONBuf output
// (see moby's jsonlogbytes_test.go) plus the "\n" jsonfilelog appends.
func TestAppendEntryDockerBytes(t *testing.T) {
	tests := []struct {
		line     string
		newline  bool
		stream   string
		ts       time.Time
		expected string
	}{
		{"hello <world>", true, "stdout", t0,
			`{"log":"hello \u003cworld\u003e\n","stream":"stdout","time":"2024-01-02T03:04:05.123456789Z"}`},
		{"A log line with & < >", false, "stderr", t0,
			`{"log":"A log line with \u0026 \u003c \u003e","stream":"stderr","time":"2024-01-02T03:04:05.123456789Z"}`},
		{`"A log line with \"`, true, "stdout", t0,
			`{"log":"\"A log line with \\\"\n","stream":"stdout","time":"2024-01-02T03:04:05.123456789Z"}`},
		{"cr\r tab\t nul\x00 esc\x1b del\x7f", true, "stdout", t0,
			`{"log":"cr\r tab\u0009 nul\u0000 esc\u001b del` + "\x7f" + `\n","stream":"stdout","time":"2024-01-02T03:04:05.123456789Z"}`},
		{"utf8 : 🚀 ψ ω β", true, "stdout", t0,
			`{"log":"utf8 : 🚀 ψ ω β\n","stream":"stdout","time":"2024-01-02T03:04:05.123456789Z"}`},
		{"\u2028 \u2029 bad\xaf\xff end", true, "stdout", t0,
			`{"log":"\u2028 \u2029 bad\ufffd\ufffd end\n","stream":"stdout","time":"2024-01-02T03:04:05.123456789Z"}`},
		// RFC3339Nano drops trailing zeros, and the whole fraction at 0.
		{"", true, "stdout", time.Date(2024, 1, 2, 3, 4, 5, 100000000, time.UTC),
			`{"log":"\n","stream":"stdout","time":"2024-01-02T03:04:05.1Z"}`},
		{"x", false, "stdout", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
			`{"log":"x","stream":"stdout","time":"2024-01-02T03:04:05Z"}`},
		// Docker omits empty fields.
		{"", false, "stdout", t0, `{"stream":"stdout","time":"2024-01-02T03:04:05.123456789Z"}`},
		{"", false, "", time.Date(2017, 9, 1, 1, 1, 1, 1, time.UTC), `{"time":"2017-09-01T01:01:01.000000001Z"}`},
	}
	for _, tc := range tests {
		got := string(appendEntry(nil, []byte(tc.line), tc.newline, tc.stream, rfc(tc.ts)))
		if got != tc.expected+"\n" {
			t.Errorf("line %q:\n got %s\nwant %s", tc.line, got, tc.expected)
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(got), &v); err != nil {
			t.Errorf("line %q: not JSON: %v", tc.line, err)
		}
	}
}

// Apart from \t, \b and \f (which Docker spells \u0009, \u0008, \u000c),
// the escaping is encoding/json's, including HTML escaping and the
// replacement of invalid UTF-8.
func TestAppendEscapedMatchesEncodingJSON(t *testing.T) {
	alphabet := []string{"a", "Z", " ", "\"", "<", ">", "&", "\n", "\r", "\x00", "\x1f", "\x7f",
		"é", "€", "🚀", "\u2028", "\u2029", "\xff", "\xc3", "\xe2\x82", "\U0010FFFF", "\ufffd"}
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 5000; i++ {
		var sb strings.Builder
		for j := rng.Intn(20); j >= 0; j-- {
			sb.WriteString(alphabet[rng.Intn(len(alphabet))])
		}
		s := sb.String()
		want, _ := json.Marshal(s)
		got := `"` + string(appendEscaped(nil, []byte(s))) + `"`
		if got != string(want) {
			t.Fatalf("%q: got %s want %s", s, got, want)
		}
	}
	got := string(appendEscaped(nil, []byte("\t\b\f\\")))
	if got != `\u0009\u0008\u000c\\` {
		t.Fatalf("got %s", got)
	}
}

func TestDecodeFastAndFallback(t *testing.T) {
	var d decoder
	var e entry
	inputs := []string{"hello <world> & \"q\" \\ \t\r\x00\x7f é 🚀 \u2028", "", "x", strings.Repeat("ab\"", 5000)}
	for _, in := range inputs {
		line := appendEntry(nil, []byte(in), true, "stderr", rfc(t0))
		if !d.fast(line[:len(line)-1], &e) {
			t.Fatalf("%q: fast path refused", in)
		}
		if string(e.log) != in+"\n" || string(e.stream) != "stderr" {
			t.Fatalf("%q: decoded %q %q", in, e.log, e.stream)
		}
		if tm, ok := e.when(); !ok || !tm.Equal(t0) {
			t.Fatalf("time %v %v", tm, ok)
		}
	}
	// Invalid UTF-8 was replaced at write time and decodes as U+FFFD.
	line := appendEntry(nil, []byte("a\xffb"), false, "stdout", rfc(t0))
	if !d.decode(line[:len(line)-1], &e) || string(e.log) != "a\ufffdb" {
		t.Fatalf("decoded %q", e.log)
	}
	// A Docker line with attrs and a surrogate pair takes the fallback.
	docker := `{"log":"hi \ud83d\ude80\n","stream":"stdout","attrs":{"z":"1","a b":"x&y"},"time":"2024-01-02T03:04:05.5+01:00"}`
	if d.fast([]byte(docker), &e) {
		t.Fatal("fast path accepted an attrs line")
	}
	if !d.decode([]byte(docker), &e) || string(e.log) != "hi 🚀\n" || string(e.details(nil)) != "a+b=x%26y,z=1 " {
		t.Fatalf("fallback decoded %+v", e)
	}
	if tm, _ := e.when(); !tm.Equal(time.Date(2024, 1, 2, 2, 4, 5, 5e8, time.UTC)) {
		t.Fatalf("fallback time %v", tm)
	}
	for _, bad := range []string{"", "{", `{"log":"x`, "not json", `{"log":"x","stream":"stdout","time":"`} {
		if d.decode([]byte(bad), &e) {
			t.Errorf("%q decoded", bad)
		}
	}
}

func TestParseUTC(t *testing.T) {
	for _, s := range []string{"2024-01-02T03:04:05Z", "2024-01-02T03:04:05.1Z", "2024-12-31T23:59:59.123456789Z", "0001-01-01T00:00:00Z"} {
		want, _ := time.Parse(time.RFC3339Nano, s)
		got, ok := parseUTC([]byte(s))
		if !ok || !got.Equal(want) {
			t.Errorf("%s: got %v %v", s, got, ok)
		}
	}
	for _, s := range []string{"2024-01-02T03:04:05+01:00", "2024-01-02T03:04:05.Z", "2024-13-02T03:04:05Z", "2024-01-02 03:04:05Z", "2024-01-02T03:04:05.1234567890Z"} {
		if _, ok := parseUTC([]byte(s)); ok {
			t.Errorf("%s accepted", s)
		}
	}
}

func TestPlainRun(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	alphabet := []byte{'a', '"', '\\', 0x00, 0x1f, 0x20, 0x7f, 0x80, 0xa2, 0xdc, 0xff}
	for n := 0; n < 20000; n++ {
		s := make([]byte, rng.Intn(40))
		for i := range s {
			if rng.Intn(4) == 0 {
				s[i] = alphabet[rng.Intn(len(alphabet))]
			} else {
				s[i] = byte(0x20 + rng.Intn(0x5f))
			}
		}
		from := rng.Intn(len(s) + 1)
		want := from
		for want < len(s) && s[want] != '"' && s[want] != '\\' && s[want] >= 0x20 {
			want++
		}
		if got := plainRun(s, from); got != want {
			t.Fatalf("%q from %d: got %d want %d", s, from, got, want)
		}
	}
}
