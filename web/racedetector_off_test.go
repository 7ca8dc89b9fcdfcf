//go:build !race

package web_test

// raceDetector is set when the tests run with -race (see the race twin of
// this file).
const raceDetector = false
