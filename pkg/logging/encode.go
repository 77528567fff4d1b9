package logging

import (
	"encoding/binary"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// plain[b] is true for the ASCII bytes Docker's marshaller copies verbatim.
// A table indexed by a byte keeps the hot loop to one load and one branch
// per byte, without bounds checks.
var plain = func() (t [256]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\' && b != '<' && b != '>' && b != '&'
	}
	return t
}()

// appendEscaped appends s as the body of a JSON string exactly as Docker's
// jsonlog.JSONLogs.MarshalJSONBuf does: \" \\ \n \r get short escapes, every
// other control byte and <, >, & become \u00XX, each invalid UTF-8 byte
// becomes \ufffd and U+2028/U+2029 are escaped. Unlike current
// encoding/json, Docker spells tab, backspace and form feed \u0009, \u0008
// and \u000c, and so do we.
func appendEscaped(dst, s []byte) []byte {
	start := 0
	for i := 0; i < len(s); {
		// Skip plain text 8 bytes at a time: log text is mostly plain
		// ASCII and this is the writer's hottest loop.
		for i+8 <= len(s) && plain8(binary.LittleEndian.Uint64(s[i:])) {
			i += 8
		}
		if i == len(s) {
			break
		}
		b := s[i]
		if plain[b] {
			i++
			continue
		}
		if b < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRune(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(dst, s[start:]...)
}

// plain8 reports whether all 8 bytes packed in x are plain (see plain),
// using the classic SWAR tests for "some byte is zero" / "less than n".
func plain8(x uint64) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	if x&hi != 0 { // non-ASCII
		return false
	}
	// With every byte below 0x80, (v - lo*n) & hi marks the bytes of v
	// below n, and bytes equal to c are the zero bytes of x ^ lo*c.
	t := (x - lo*0x20) // control bytes
	t |= (x ^ lo*'"') - lo
	t |= (x ^ lo*'\\') - lo
	t |= (x ^ lo*'<') - lo
	t |= (x ^ lo*'>') - lo
	t |= (x ^ lo*'&') - lo
	return t&hi == 0
}

// appendEntry appends one log file line: the JSON object Docker writes for a
// message (fields log, stream, time in that order, empty ones omitted) and
// the trailing newline. newline adds the "\n" Docker appends to the log text
// of complete lines; partial chunks go without it. stream must already be
// escaped and ts is the RFC3339Nano text of the time.
func appendEntry(dst, line []byte, newline bool, stream string, ts []byte) []byte {
	dst = append(dst, '{')
	sep := false
	if len(line) > 0 || newline {
		dst = append(dst, `"log":"`...)
		dst = appendEscaped(dst, line)
		if newline {
			dst = append(dst, `\n`...)
		}
		dst = append(dst, '"')
		sep = true
	}
	if stream != "" {
		if sep {
			dst = append(dst, ',')
		}
		dst = append(dst, `"stream":"`...)
		dst = append(dst, stream...)
		dst = append(dst, '"')
		sep = true
	}
	if sep {
		dst = append(dst, ',')
	}
	dst = append(dst, `"time":"`...)
	dst = append(dst, ts...)
	return append(dst, '"', '}', '\n')
}
