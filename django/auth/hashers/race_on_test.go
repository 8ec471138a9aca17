//go:build race

package hashers

// raceDetector: the race detector slows PBKDF2 and bcrypt about 15×; tests
// skip the costliest Django-default-strength cases under it (they run
// without -race and hold no concurrency to check).
const raceDetector = true
