package main

import (
	"testing"
	"time"

	"github.com/nerd-project/nerd/pkg/container"
)

func TestShouldRestart(t *testing.T) {
	for _, tc := range []struct {
		policy   string
		max      int
		code     int
		manual   bool
		restarts int
		want     bool
	}{
		{"no", 0, 1, false, 0, false},
		{"", 0, 1, false, 0, false},
		{"always", 0, 0, false, 5, true},
		{"always", 0, 0, true, 0, false},
		{"unless-stopped", 0, 0, false, 0, true},
		{"unless-stopped", 0, 1, true, 0, false},
		{"on-failure", 0, 0, false, 0, false},
		{"on-failure", 0, 1, false, 100, true},
		{"on-failure", 2, 1, false, 1, true},
		{"on-failure", 2, 1, false, 2, false},
		{"on-failure", 2, 1, true, 0, false},
	} {
		got := shouldRestart(container.RestartPolicy{Name: tc.policy, MaximumRetryCount: tc.max}, tc.code, tc.manual, tc.restarts)
		if got != tc.want {
			t.Errorf("%+v: got %v", tc, got)
		}
	}
}

func TestBackoff(t *testing.T) {
	var b backoff
	var got []time.Duration
	for i := 0; i < 12; i++ {
		got = append(got, b.next(time.Second))
	}
	want := []time.Duration{100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 60000, 60000}
	for i := range want {
		if got[i] != want[i]*time.Millisecond {
			t.Fatalf("backoff %v", got)
		}
	}
	// A run of 10 s or more starts over.
	if d := b.next(10 * time.Second); d != 100*time.Millisecond {
		t.Errorf("after a long run: %v", d)
	}
}
