//go:build !race

package pyzlib

const raceEnabled = false
