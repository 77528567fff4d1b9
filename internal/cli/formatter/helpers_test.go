package formatter

import (
	"testing"
	"time"
)

func TestTruncateID(t *testing.T) {
	tests := map[string]string{
		"sha256:4a5b6c7d8e9f0123456789abcdef": "4a5b6c7d8e9f",
		"4a5b6c7d8e9f0123456789abcdef":        "4a5b6c7d8e9f",
		"sha512:abc":                          "abc",
		"abc":                                 "abc",
		"":                                    "",
	}
	for in, want := range tests {
		if got := TruncateID(in); got != want {
			t.Errorf("TruncateID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEllipsis(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{"/docker-entrypoint.sh nginx", 20, "/docker-entrypoint.…"},
		{"short", 20, "short"},
		{"exact", 5, "exact"},
		{"exactly", 6, "exact…"},
		{"héllo wörld", 6, "héllo…"},
		{"abc", 1, "a"},
		{"abc", 0, ""},
		{"abc", -1, ""},
		{"", 1, ""},
	}
	for _, tt := range tests {
		if got := Ellipsis(tt.s, tt.n); got != tt.want {
			t.Errorf("Ellipsis(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
}

func TestHumanDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{500 * time.Millisecond, "Less than a second"},
		{45 * time.Second, "45 seconds"},
		{90 * time.Second, "About a minute"},
		{2 * time.Hour, "2 hours"},
		{3 * 24 * time.Hour, "3 days"},
	}
	for _, tt := range tests {
		if got := HumanDuration(tt.d); got != tt.want {
			t.Errorf("HumanDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestCreatedSince(t *testing.T) {
	fixed := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	t.Cleanup(func() { now = time.Now })
	now = func() time.Time { return fixed }

	if got := CreatedSince(fixed.Add(-2 * time.Hour)); got != "2 hours ago" {
		t.Errorf("got %q, want %q", got, "2 hours ago")
	}
	if got := CreatedSince(time.Time{}); got != "" {
		t.Errorf("zero time: got %q, want empty", got)
	}
}

func TestSize(t *testing.T) {
	tests := map[int64]string{
		0:             "0B",
		999:           "999B",
		77_800:        "77.8kB",
		4_256_123:     "4.26MB",
		187_000_000:   "187MB",
		1_230_000_000: "1.23GB",
	}
	for in, want := range tests {
		if got := Size(in); got != want {
			t.Errorf("Size(%d) = %q, want %q", in, got, want)
		}
	}
}
