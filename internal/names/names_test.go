package names

import "testing"

func TestValid(t *testing.T) {
	for _, tc := range []struct {
		name   string
		minLen int
		want   bool
	}{
		{"web", 2, true}, {"a1_b.c-d", 2, true}, {"0x", 2, true},
		{"a", 2, false}, {"a", 1, true}, {"", 1, false},
		{"-ab", 2, false}, {".x", 2, false}, {"a/b", 2, false}, {"a b", 2, false},
		{"ab$", 2, false}, {"é1", 2, false}, {"../x", 2, false},
	} {
		if got := Valid(tc.name, tc.minLen); got != tc.want {
			t.Errorf("Valid(%q, %d) = %v, want %v", tc.name, tc.minLen, got, tc.want)
		}
	}
}
