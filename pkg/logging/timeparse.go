package logging

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseTime parses a --since/--until value as Docker does: the CLI's
// timetypes.GetTimestamp turns it into "seconds[.nanoseconds]" and the
// daemon's ParseTimestamps into a time. Accepted are Go durations relative
// to now ("10m", "1h30m"; truncated to the second like Docker), RFC3339
// dates and date-times with or without fraction and zone (no zone means
// now's zone), and Unix timestamps with an optional fraction. An empty value
// returns the zero time, meaning unbounded.
func ParseTime(value string, now time.Time) (time.Time, error) {
	if value == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(value); value != "0" && err == nil {
		return time.Unix(now.Add(-d).Unix(), 0), nil
	}

	// Docker's rule: a Z, a + or three dashes mean the value has a zone.
	local := !strings.ContainsAny(value, "zZ+") && strings.Count(value, "-") != 3
	var layout string
	switch {
	case strings.Contains(value, "."):
		layout = time.RFC3339Nano
		if local {
			layout = "2006-01-02T15:04:05.999999999"
		}
	case strings.Contains(value, "T"):
		colons := strings.Count(value, ":")
		if !local && !strings.ContainsAny(value, "zZ") && colons > 0 {
			colons-- // the colon of a +hh:mm offset
		}
		zone := "Z07:00"
		if local {
			zone = ""
		}
		switch colons {
		case 0:
			layout = "2006-01-02T15" + zone
		case 1:
			layout = "2006-01-02T15:04" + zone
		default:
			layout = "2006-01-02T15:04:05" + zone
		}
	case local:
		layout = "2006-01-02"
	default:
		layout = "2006-01-02Z07:00"
	}

	var t time.Time
	var err error
	if local {
		t, err = time.ParseInLocation(layout, value, time.FixedZone(now.Zone()))
	} else {
		t, err = time.Parse(layout, value)
	}
	if err == nil {
		// Docker passes the value on as seconds.nanoseconds, dropping
		// the zone; the instant is what matters.
		return time.Unix(t.Unix(), int64(t.Nanosecond())), nil
	}
	if strings.Contains(value, "-") {
		return time.Time{}, err // meant as a date, but malformed
	}
	sec, nsec, perr := parseUnix(value)
	if perr != nil {
		return time.Time{}, fmt.Errorf("failed to parse value as time or duration: %q", value)
	}
	return time.Unix(sec, nsec), nil
}

// parseUnix parses "seconds[.fraction]"; digits of the fraction beyond
// nanoseconds are dropped.
func parseUnix(value string) (int64, int64, error) {
	s, frac, hasFrac := strings.Cut(value, ".")
	sec, err := strconv.ParseInt(s, 10, 64)
	if err != nil || !hasFrac {
		return sec, 0, err
	}
	nsec, err := strconv.ParseInt(frac, 10, 64)
	if err != nil {
		return 0, 0, err
	}
	for i := len(frac); i < 9; i++ {
		nsec *= 10
	}
	for i := len(frac); i > 9; i-- {
		nsec /= 10
	}
	return sec, nsec, nil
}
