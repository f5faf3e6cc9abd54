//go:build race

package nexmark

// raceDetector shrinks TestModel under -race, which runs it ten times
// slower and checks no concurrency there.
const raceDetector = true
