package config

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
)

// TestDataDriven runs the scripts in testdata/datadriven. Commands:
//
//	check [plain] [storages=(a, b)]   the input YAML's problems, or "ok"
//	load [plain]                       problems, then the deployment
//	sqlpos view=NAME at=TEXT           where each occurrence of TEXT in the
//	                                   view's SQL is in the file
//
// plain loads without the fake connector registry. The file is parsed as
// testdata/strata.yaml, so udf paths resolve against testdata/.
func TestDataDriven(t *testing.T) {
	datadriven.Walk(t, "testdata/datadriven", func(t *testing.T, path string) {
		datadriven.RunTest(t, path, func(t *testing.T, td *datadriven.TestData) string {
			opts := testOptions()
			if td.HasArg("plain") {
				opts = []Option{WithEnv(fakeEnv(nil))}
			}
			if arg, ok := td.Arg("storages"); ok {
				opts = append(opts, WithStorages(arg.Vals))
			}
			file := filepath.Join("testdata", "strata.yaml")
			d, err := Parse(file, []byte(td.Input), opts...)
			ps := problemsOf(t, err)
			if d == nil {
				t.Fatalf("Parse returned a nil deployment")
			}
			for _, p := range ps {
				if p.Pos.Line < 1 {
					t.Errorf("problem without a line: %v", p)
				}
			}
			var out strings.Builder
			switch td.Cmd {
			case "check":
				if len(ps) == 0 {
					return "ok\n"
				}
				fmt.Fprintln(&out, ps.Error())
			case "load":
				if len(ps) > 0 {
					fmt.Fprintln(&out, ps.Error())
				}
				out.WriteString(printDeployment(d))
			case "sqlpos":
				var view, at string
				td.ScanArgs(t, "view", &view)
				td.ScanArgs(t, "at", &at)
				lines := strings.Split(td.Input, "\n")
				for _, v := range d.Views {
					if v.Name != view {
						continue
					}
					from := 0
					for {
						k := strings.Index(v.SQL[from:], at)
						if k < 0 {
							break
						}
						off := from + k
						p := v.SQLPos(off)
						fmt.Fprintf(&out, "offset %d -> %d:%d\n", off, p.Line, p.Col)
						if p.Line >= 1 && p.Line <= len(lines) {
							fmt.Fprintf(&out, "  %s\n  %s^\n", lines[p.Line-1], strings.Repeat(" ", max(p.Col-1, 0)))
						}
						from = off + len(at)
					}
				}
				if out.Len() == 0 {
					t.Fatalf("%s: no view %s with %q", td.Pos, view, at)
				}
			default:
				t.Fatalf("%s: unknown command %s", td.Pos, td.Cmd)
			}
			res := strings.ReplaceAll(out.String(), d.Dir, "$DIR")
			return strings.ReplaceAll(res, "testdata/strata.yaml", "strata.yaml")
		})
	})
}
