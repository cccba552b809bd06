//go:build race

package pattern

// raceEnabled reports whether the test binary was built with -race. The
// race detector makes sync.Pool drop items at random, so allocation counts
// mean nothing under it; scripts/test.sh runs the allocation tests again
// without -race.
const raceEnabled = true
