//go:build !race

package nexmark

const raceDetector = false
