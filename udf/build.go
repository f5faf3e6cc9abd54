package udf

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// sdkFiles are the SDK sources and the worked examples, so that the strata
// binary can scaffold and build projects anywhere.
//
//go:embed sdk
var sdkFiles embed.FS

// ProjectFile is the name of a UDF project's description: the manifest plus
// the language ("lang": go, c, rust or as).
const ProjectFile = "strata.json"

// Langs are the languages `strata udf new` and Build know.
var Langs = []string{"go", "c", "rust", "as"}

var sdkDirs = map[string]string{"go": "go", "c": "c", "rust": "rust", "as": "assemblyscript"}

type project struct {
	Lang string `json:"lang"`
	Manifest
}

// BuildOptions tells Build where the toolchains are. Empty fields mean: look
// on PATH (Rust: the first rustc that has a wasm32-unknown-unknown std).
type BuildOptions struct {
	Go, Clang, Rustc string
	// ASC is the AssemblyScript compiler command, e.g. "/cache/node_modules/.bin/asc".
	ASC string
}

// Scaffold writes a new buildable project in lang to dir (which must not
// exist): the worked example of that SDK and its strata.json.
func Scaffold(dir, lang string) error {
	sd, ok := sdkDirs[lang]
	if !ok {
		return fmt.Errorf("udf: unknown language %q (use %s)", lang, strings.Join(Langs, ", "))
	}
	if _, err := os.Stat(dir); err == nil {
		return fmt.Errorf("udf: %s already exists", dir)
	}
	src := "sdk/" + sd + "/examples/demo"
	return fs.WalkDir(sdkFiles, src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, strings.TrimPrefix(p, src))
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := sdkFiles.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
}

// Build compiles the project in dir with its language's toolchain and
// writes the module, manifest embedded, to out. It works on a copy of the
// project with the SDK added, so projects hold only their own sources.
func Build(ctx context.Context, dir, out string, opts BuildOptions) error {
	raw, err := os.ReadFile(filepath.Join(dir, ProjectFile))
	if err != nil {
		return fmt.Errorf("udf: build %s: %w", dir, err)
	}
	var p project
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return fmt.Errorf("udf: build %s: %s: %w", dir, ProjectFile, err)
	}
	if err := p.Manifest.Validate(); err != nil {
		return fmt.Errorf("udf: build %s: %s: %w", dir, ProjectFile, err)
	}
	work, err := os.MkdirTemp("", "strata-udf-build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	if err := os.CopyFS(work, os.DirFS(dir)); err != nil {
		return fmt.Errorf("udf: build %s: %w", dir, err)
	}
	raw_ := filepath.Join(work, "module.wasm")
	switch p.Lang {
	case "go":
		err = buildGo(ctx, work, raw_, opts)
	case "c":
		err = buildC(ctx, work, raw_, opts)
	case "rust":
		err = buildRust(ctx, work, raw_, opts)
	case "as":
		err = buildAS(ctx, work, raw_, opts)
	default:
		err = fmt.Errorf("unknown lang %q in %s (use %s)", p.Lang, ProjectFile, strings.Join(Langs, ", "))
	}
	if err != nil {
		return fmt.Errorf("udf: build %s: %w", dir, err)
	}
	wasm, err := os.ReadFile(raw_)
	if err != nil {
		return err
	}
	wasm, err = EmbedManifest(wasm, &p.Manifest)
	if err != nil {
		return fmt.Errorf("udf: build %s: %w", dir, err)
	}
	return os.WriteFile(out, wasm, 0o644)
}

func sdkFile(lang, name, dst string) error {
	b, err := sdkFiles.ReadFile("sdk/" + sdkDirs[lang] + "/" + name)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}

func runTool(ctx context.Context, dir string, env []string, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, buf.String())
	}
	return nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// buildGo builds a package main that imports the SDK as
// github.com/stratadb/strata/udf/sdk/go, served from a local copy.
func buildGo(ctx context.Context, work, out string, opts BuildOptions) error {
	sdk := filepath.Join(work, ".strata-sdk")
	if err := sdkFile("go", "strata.go", filepath.Join(sdk, "udf/sdk/go/strata.go")); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(sdk, "go.mod"), []byte("module github.com/stratadb/strata\n\ngo 1.24\n"), 0o644); err != nil {
		return err
	}
	gomod := filepath.Join(work, "go.mod")
	if _, err := os.Stat(gomod); errors.Is(err, fs.ErrNotExist) {
		mod := "module strataudf\n\ngo 1.24\n\nrequire github.com/stratadb/strata v0.0.0\n\nreplace github.com/stratadb/strata => ./.strata-sdk\n"
		if err := os.WriteFile(gomod, []byte(mod), 0o644); err != nil {
			return err
		}
	}
	return runTool(ctx, work, []string{"GOOS=wasip1", "GOARCH=wasm", "GOFLAGS=-mod=mod", "GOWORK=off", "CGO_ENABLED=0"},
		orDefault(opts.Go, "go"), "build", "-buildmode=c-shared", "-trimpath", "-o", out, ".")
}

func buildC(ctx context.Context, work, out string, opts BuildOptions) error {
	if err := sdkFile("c", "strata.h", filepath.Join(work, "strata.h")); err != nil {
		return err
	}
	srcs, _ := filepath.Glob(filepath.Join(work, "*.c"))
	if len(srcs) == 0 {
		return errors.New("no .c files")
	}
	args := append([]string{"--target=wasm32-wasi", "-O2", "-mexec-model=reactor", "-Wall", "-Werror", "-I", work, "-o", out}, srcs...)
	return runTool(ctx, work, nil, orDefault(opts.Clang, "clang"), args...)
}

// RustcForWasm returns a rustc that has a wasm32-unknown-unknown standard
// library: rustup's (when its target is installed) or Debian's
// (/usr/bin/rustc with libstd-rust-dev-wasm32).
func RustcForWasm() (string, error) {
	var cands []string
	if p, err := exec.LookPath("rustc"); err == nil {
		cands = append(cands, p)
	}
	cands = append(cands, "/usr/bin/rustc")
	for _, c := range cands {
		sysroot, err := exec.Command(c, "--print", "sysroot").Output()
		if err != nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(strings.TrimSpace(string(sysroot)), "lib/rustlib/wasm32-unknown-unknown/lib")); err == nil {
			return c, nil
		}
	}
	return "", errors.New("no rustc with a wasm32-unknown-unknown standard library (install Debian's rustc and libstd-rust-dev-wasm32)")
}

func buildRust(ctx context.Context, work, out string, opts BuildOptions) error {
	rustc := opts.Rustc
	if rustc == "" {
		var err error
		if rustc, err = RustcForWasm(); err != nil {
			return err
		}
	}
	if err := sdkFile("rust", "strata.rs", filepath.Join(work, "strata.rs")); err != nil {
		return err
	}
	common := []string{"--edition", "2021", "--target", "wasm32-unknown-unknown", "-O", "-C", "panic=abort", "-C", "debuginfo=0"}
	if err := runTool(ctx, work, nil, rustc, append(common, "--crate-type", "rlib", "--crate-name", "strata", "-o", filepath.Join(work, "libstrata.rlib"), "strata.rs")...); err != nil {
		return err
	}
	// Debian's std carries debug info: strip it (5 MB -> 60 KB).
	args := append(common, "-C", "strip=debuginfo", "--crate-type", "cdylib", "--extern", "strata="+filepath.Join(work, "libstrata.rlib"), "-o", out, "lib.rs")
	return runTool(ctx, work, nil, rustc, args...)
}

func buildAS(ctx context.Context, work, out string, opts BuildOptions) error {
	if err := sdkFile("as", "strata.ts", filepath.Join(work, "strata.ts")); err != nil {
		return err
	}
	asc := orDefault(opts.ASC, "asc")
	return runTool(ctx, work, nil, asc, "index.ts", "-O3", "--runtime", "incremental", "--noAssert",
		"--use", "abort=strata/abort", "-o", out)
}
