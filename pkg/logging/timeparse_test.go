package logging

import (
	"testing"
	"time"
)

// The cases follow Docker's GetTimestamp/ParseTimestamps tests: the value
// the CLI would send, as seconds and nanoseconds.
func TestParseTime(t *testing.T) {
	now := time.Date(2024, 5, 6, 7, 8, 9, 987654321, time.UTC)
	tests := []struct {
		in        string
		sec, nsec int64
	}{
		{"2006-01-02T15:04:05.999999999+07:00", 1136189045, 999999999},
		{"2006-01-02T15:04:05.999999999Z", 1136214245, 999999999},
		{"2006-01-02T15:04:05.999999999", 1136214245, 999999999},
		{"2006-01-02T15:04:05Z", 1136214245, 0},
		{"2006-01-02T15:04:05", 1136214245, 0},
		{"2006-01-02T15:04Z", 1136214240, 0},
		{"2006-01-02T15:04+00:00", 1136214240, 0},
		{"2006-01-02T15:04-00:00", 1136214240, 0},
		{"2006-01-02T15:04", 1136214240, 0},
		{"2006-01-02T15Z", 1136214000, 0},
		{"2006-01-02T15+00:00", 1136214000, 0},
		{"2006-01-02T15", 1136214000, 0},
		{"2006-01-02T1Z", 1136163600, 0},
		{"2006-01-02+00:00", 1136160000, 0},
		{"2006-01-02-00:01", 1136160060, 0},
		{"2006-01-02Z", 1136160000, 0},
		{"2006-01-02", 1136160000, 0},
		{"2015-05-13T20:39:09Z", 1431549549, 0},
		{"1136073600", 1136073600, 0},
		{"1136073600.000000001", 1136073600, 1},
		{"1136073600.5", 1136073600, 500000000},
		{"1136073600.0000000010", 1136073600, 1},
		{"1136073600.0000000009", 1136073600, 0},
		{"0", 0, 0},
		// Durations count back from now, to the second.
		{"1m", now.Add(-time.Minute).Unix(), 0},
		{"1.5h", now.Add(-90 * time.Minute).Unix(), 0},
		{"1h30m", now.Add(-90 * time.Minute).Unix(), 0},
		{"-10s", now.Add(10 * time.Second).Unix(), 0},
	}
	for _, tc := range tests {
		got, err := ParseTime(tc.in, now)
		if err != nil || !got.Equal(time.Unix(tc.sec, tc.nsec)) {
			t.Errorf("%s: got %v (%d.%09d), %v", tc.in, got, got.Unix(), got.Nanosecond(), err)
		}
	}
	// No zone means now's zone.
	east := now.In(time.FixedZone("X", 2*3600))
	if got, _ := ParseTime("2006-01-02T15:04:05", east); got.Unix() != 1136214245-2*3600 {
		t.Errorf("local zone: %v", got)
	}
	for _, bad := range []string{"2006-01-02T15:04:0Z", "2006-01-02T15:0", "2006-01-02TZ", "2006-01-02T", "invalid", "1136073600.bar", "1.", "foo.bar"} {
		if _, err := ParseTime(bad, now); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
	if _, err := ParseTime("invalid", now); err == nil || err.Error() != `failed to parse value as time or duration: "invalid"` {
		t.Errorf("message: %v", err)
	}
	if got, err := ParseTime("", now); err != nil || !got.IsZero() {
		t.Errorf("empty: %v %v", got, err)
	}
}
