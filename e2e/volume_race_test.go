package e2e

import (
	"os"
	"strings"
	"sync"
	"testing"
)

// `volume rm` and `volume prune -a` racing `create -v NAME:/d` never
// leave a container whose volume is gone: either the removal came first
// (and the create made the volume afresh) or it saw the container and
// refused.
func TestVolumeRemoveRacesCreate(t *testing.T) {
	t.Parallel()
	e := newVolumeEnv(t)
	for i := 0; i < 8; i++ {
		e.nerdOK("volume", "create", "race")
		var wg sync.WaitGroup
		var created result
		wg.Add(3)
		go func() { defer wg.Done(); created = e.nerd("create", "-v", "race:/d", "busybox") }()
		go func() { defer wg.Done(); e.nerd("volume", "rm", "race") }()
		go func() { defer wg.Done(); e.nerd("volume", "prune", "-a", "-f") }()
		wg.Wait()
		if created.Code != 0 {
			t.Fatalf("create failed:\n%s", created)
		}
		id := strings.TrimSpace(created.Stdout)
		if _, err := os.Stat(e.volumeData("race")); err != nil {
			t.Fatalf("round %d: container %s uses volume race, which is gone: %v", i, id, err)
		}
		e.nerdOK("rm", id)
		e.nerdOK("volume", "rm", "race")
	}
}
