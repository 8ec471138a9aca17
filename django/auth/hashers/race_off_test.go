//go:build !race

package hashers

const raceDetector = false
