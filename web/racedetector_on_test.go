//go:build race

package web_test

// raceDetector is set when the tests run with -race, which slows every
// request several times over: a bound on how fast an answer comes is then
// about the detector, not the code.
const raceDetector = true
