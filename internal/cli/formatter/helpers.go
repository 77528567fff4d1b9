package formatter

import (
	"strings"
	"time"
	"unicode/utf8"

	units "github.com/docker/go-units"
)

// shortIDLen is the length of the IDs Docker shows by default ("--no-trunc"
// shows them in full).
const shortIDLen = 12

// TruncateID shortens an ID or digest for display the way Docker does: an
// algorithm prefix such as "sha256:" is dropped and the rest is cut to 12
// characters. IDs are hex, so cutting bytes is safe.
func TruncateID(id string) string {
	if _, after, ok := strings.Cut(id, ":"); ok {
		id = after
	}
	if len(id) > shortIDLen {
		id = id[:shortIDLen]
	}
	return id
}

// Ellipsis shortens s to at most n characters for table cells such as the
// COMMAND column: a string longer than n keeps its first n-1 characters
// followed by "…". As in Docker, n of 1 gives just the first character
// (no room for an ellipsis) and n of 0 or less gives "".
//
// Unlike Docker it counts runes, not terminal columns, so East Asian wide
// characters count as one; that avoids a Unicode width table dependency.
func Ellipsis(s string, n int) string {
	if n <= 0 || s == "" {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	rs := []rune(s)
	if n == 1 {
		return string(rs[0])
	}
	return string(rs[:n-1]) + "…"
}

// HumanDuration describes d the way Docker's STATUS and CREATED columns do
// ("Less than a second", "About a minute", "2 hours", "3 weeks"). It is
// go-units' wording, which is what scripts parsing docker output expect.
func HumanDuration(d time.Duration) string {
	return units.HumanDuration(d)
}

// now is the clock used by CreatedSince; tests replace it to get stable
// output.
var now = time.Now

// CreatedSince renders a creation time as Docker's CREATED column does,
// e.g. "2 hours ago". A zero time, meaning unknown, renders as "".
func CreatedSince(created time.Time) string {
	if created.IsZero() {
		return ""
	}
	return HumanDuration(now().UTC().Sub(created)) + " ago"
}

// Size renders a byte count as `docker images` and `docker ps --size` do:
// decimal (SI) units with three significant digits, e.g. "4.26MB", "77.8kB".
func Size(bytes int64) string {
	return units.HumanSizeWithPrecision(float64(bytes), 3)
}
