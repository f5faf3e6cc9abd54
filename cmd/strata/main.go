package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

const usage = `strata — a streaming materialization engine

usage:
  strata run      -c FILE [--until-idle]      run a deployment
  strata validate -c FILE                     check a deployment file
  strata query    -c FILE [--format table|json|csv] "SQL"
  strata get      -c FILE [--format table|json|csv] VIEW KEY..
  strata explain  -c FILE VIEW                show a view's operator tree
  strata subscribe -c FILE VIEW [--from-epoch N]  print a view's changes as they commit
  strata udf new|build|test|inspect|deploy ..  author, check and ship WebAssembly UDFs
  strata bench nexmark [--queries q0,q5,..] [--events N] [--rate R] [--format table|json] [--out DIR]
  strata version
`

// version is set by the Makefile with -ldflags.
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// exitError carries an exit status through run.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "run":
		err = cmdRun(ctx, args[1:], stdout, stderr)
	case "validate":
		err = cmdValidate(args[1:], stdout, stderr)
	case "query":
		err = cmdQuery(ctx, args[1:], stdout, stderr)
	case "get":
		err = cmdGet(ctx, args[1:], stdout, stderr)
	case "explain":
		err = cmdExplain(args[1:], stdout, stderr)
	case "subscribe":
		err = cmdSubscribe(ctx, args[1:], stdout, stderr)
	case "udf":
		err = cmdUDF(ctx, args[1:], stdout, stderr)
	case "bench":
		err = cmdBench(ctx, args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "strata", version)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "strata: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if err != nil {
		var ee exitError
		if errors.As(err, &ee) {
			return ee.code
		}
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "strata:", strings.TrimPrefix(err.Error(), "strata: "))
		}
		return 1
	}
	return 0
}

// newFlags returns a flag set with the -c/--config flag every command takes.
func newFlags(name string, stderr io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := fs.String("c", "strata.yaml", "deployment file")
	fs.StringVar(cfg, "config", "strata.yaml", "deployment file")
	return fs, cfg
}

// parseInterleaved parses flags that may come after positional arguments
// (strata query "SQL" --format json).
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
