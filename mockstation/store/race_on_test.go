//go:build race

package store

// raceDetector says the tests run under the race detector, which slows
// the code it watches several times over: a test that tells two designs
// apart by how long something takes means nothing then.
const raceDetector = true
