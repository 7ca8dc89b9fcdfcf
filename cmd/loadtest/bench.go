package main

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
)

// benchFigures are the two benchmarks' throughputs, in operations a second,
// from one `go test -bench` run.
type benchFigures struct {
	cached, bare float64
}

var benchLine = regexp.MustCompile(`(?m)^Benchmark(TimePageCached|BareEcho)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op`)

// runBenchmark runs the web package's BenchmarkTimePageCached and
// BenchmarkBareEcho in one go test run, so both meet the same machine.
func runBenchmark(ctx context.Context, benchtime string) (*benchFigures, error) {
	cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", "^Benchmark(TimePageCached|BareEcho)$",
		"-benchtime", benchtime, "-count", "1", "github.com/clinic-booking/portal/web")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("go test -bench ./web/: %w\n%s", err, out)
	}
	b := &benchFigures{}
	for _, m := range benchLine.FindAllStringSubmatch(string(out), -1) {
		ns, err := strconv.ParseFloat(m[2], 64)
		if err != nil || ns <= 0 {
			continue
		}
		if m[1] == "TimePageCached" {
			b.cached = 1e9 / ns
		} else {
			b.bare = 1e9 / ns
		}
	}
	if b.cached == 0 || b.bare == 0 {
		return nil, fmt.Errorf("go test -bench ./web/ printed no figures for both benchmarks:\n%s", out)
	}
	return b, nil
}
