package logging

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"net/url"
	"sort"
	"time"
	"unicode/utf8"
)

// entry is one decoded log line. log and stream may point into the line or
// into the decoder's scratch buffer: they are valid until the next decode.
type entry struct {
	log     []byte
	stream  []byte
	rawTime []byte    // the time text, when decoded by the fast path
	time    time.Time // set when decoded by the fallback
	attrs   map[string]string
}

// when returns the entry's time.
func (e *entry) when() (time.Time, bool) {
	if e.rawTime == nil {
		return e.time, true
	}
	if t, ok := parseUTC(e.rawTime); ok {
		return t, true
	}
	t, err := time.Parse(time.RFC3339Nano, string(e.rawTime))
	return t, err == nil
}

// details renders the entry's attributes the way dockerd's --details does
// (sorted, query-escaped key=value pairs joined by ","). Docker prefixes
// them and a space to every line, so an entry without attributes is
// printed with one leading space.
func (e *entry) details(dst []byte) []byte {
	keys := make([]string, 0, len(e.attrs))
	for k := range e.attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, url.QueryEscape(k)...)
		dst = append(dst, '=')
		dst = append(dst, url.QueryEscape(e.attrs[k])...)
	}
	return append(dst, ' ')
}

type decoder struct {
	scratch []byte
}

// decode parses one log line (without its newline). Lines in the exact
// shape the writer produces take a fast path that allocates nothing; all
// others (Docker files with attrs, other field orders, rare escapes) go
// through encoding/json. ok is false for a line that isn't a log entry.
func (d *decoder) decode(line []byte, e *entry) bool {
	if d.fast(line, e) {
		return true
	}
	var v struct {
		Log    string            `json:"log"`
		Stream string            `json:"stream"`
		Time   time.Time         `json:"time"`
		Attrs  map[string]string `json:"attrs"`
	}
	if err := json.Unmarshal(line, &v); err != nil {
		return false
	}
	*e = entry{log: []byte(v.Log), stream: []byte(v.Stream), time: v.Time, attrs: v.Attrs}
	return true
}

func (d *decoder) fast(line []byte, e *entry) bool {
	rest, ok := bytes.CutPrefix(line, []byte(`{"log":"`))
	if !ok {
		return false
	}
	var log []byte
	if log, rest, ok = d.str(rest); !ok {
		return false
	}
	if rest, ok = bytes.CutPrefix(rest, []byte(`,"stream":"`)); !ok {
		return false
	}
	i := bytes.IndexByte(rest, '"')
	if i < 0 || bytes.IndexByte(rest[:i], '\\') >= 0 {
		return false
	}
	stream := rest[:i]
	if rest, ok = bytes.CutPrefix(rest[i+1:], []byte(`,"time":"`)); !ok {
		return false
	}
	i = bytes.IndexByte(rest, '"')
	if i < 0 || !bytes.Equal(rest[i:], []byte(`"}`)) {
		return false
	}
	*e = entry{log: log, stream: stream, rawTime: rest[:i]}
	return true
}

// str decodes a JSON string body up to its closing quote. It returns the
// text in place when there are no escapes and handles the escapes our
// writer emits; anything unusual (surrogate pairs, raw control bytes,
// invalid UTF-8, which encoding/json would replace) reports !ok.
func (d *decoder) str(s []byte) (val, rest []byte, ok bool) {
	i := plainRun(s, 0)
	if i < len(s) && s[i] == '"' {
		if !utf8.Valid(s[:i]) {
			return nil, nil, false
		}
		return s[:i], s[i+1:], true
	}
	out := append(d.scratch[:0], s[:i]...)
	defer func() { d.scratch = out[:0] }()
	for i < len(s) {
		if j := plainRun(s, i); j > i {
			out = append(out, s[i:j]...)
			i = j
			continue
		}
		if s[i] == '"' {
			if !utf8.Valid(out) {
				return nil, nil, false
			}
			return out, s[i+1:], true
		}
		if s[i] != '\\' || i+1 >= len(s) { // a raw control byte, or cut short
			return nil, nil, false
		}
		switch c := s[i+1]; c {
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case '"', '\\', '/':
			out = append(out, c)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'u':
			r, ok := hex4(s[i+2:])
			if !ok || utf8.RuneLen(r) < 0 { // a surrogate: leave to encoding/json
				return nil, nil, false
			}
			out = utf8.AppendRune(out, r)
			i += 4
		default:
			return nil, nil, false
		}
		i += 2
	}
	return nil, nil, false
}

// plainRun returns the end of the run of bytes from i that need no
// unescaping, looking at 8 bytes at a time where it can (see plain8).
func plainRun(s []byte, i int) int {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	for ; i+8 <= len(s); i += 8 {
		x := binary.LittleEndian.Uint64(s[i:])
		// The "has a zero byte" and "has a byte below n" tests, exact
		// for the any-byte answer even with non-ASCII bytes around.
		q, b := x^(lo*'"'), x^(lo*'\\')
		if ((x-lo*0x20)&^x|(q-lo)&^q|(b-lo)&^b)&hi != 0 {
			break
		}
	}
	for i < len(s) && s[i] != '"' && s[i] != '\\' && s[i] >= 0x20 {
		i++
	}
	return i
}

func hex4(s []byte) (rune, bool) {
	if len(s) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range s[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// parseUTC parses the times the writer produces (RFC3339Nano in UTC,
// "2006-01-02T15:04:05.999999999Z") several times faster than time.Parse.
// Other shapes report !ok and are left to time.Parse.
func parseUTC(b []byte) (time.Time, bool) {
	if len(b) < 20 || b[len(b)-1] != 'Z' || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	num := func(s []byte) int {
		n := 0
		for _, c := range s {
			if c < '0' || c > '9' {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	y, mo, d, h, mi, sec := num(b[0:4]), num(b[5:7]), num(b[8:10]), num(b[11:13]), num(b[14:16]), num(b[17:19])
	if y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59 {
		return time.Time{}, false
	}
	ns := 0
	if frac := b[19 : len(b)-1]; len(frac) > 0 {
		if frac[0] != '.' || len(frac) < 2 || len(frac) > 10 {
			return time.Time{}, false
		}
		if ns = num(frac[1:]); ns < 0 {
			return time.Time{}, false
		}
		for i := len(frac) - 1; i < 9; i++ {
			ns *= 10
		}
	}
	return time.Date(y, time.Month(mo), d, h, mi, sec, ns, time.UTC), true
}
