//go:build !race

package obatch_test

const raceEnabled = false
