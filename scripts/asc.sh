#!/usr/bin/env bash
# asc.sh: the AssemblyScript compiler for Strata's UDF SDK.
#
# Installs a pinned assemblyscript from the npm registry into a cache
# directory outside the repository (idempotent: once installed it runs
# offline) and prints the path of its asc binary, e.g. for
# `strata udf build --asc "$(scripts/asc.sh)"` or the udf package's tests.
#
#   scripts/asc.sh          install if needed, print the asc path
#
# Environment:
#   STRATA_CACHE             cache root (default $HOME/.cache/strata); the
#                            package goes to $STRATA_CACHE/assemblyscript-$ASC_VERSION
#   ASSEMBLYSCRIPT_VERSION   npm version to pin (default 0.28.20)
#
# Needs node and npm (Debian: apt-get install nodejs npm).
set -euo pipefail

VERSION="${ASSEMBLYSCRIPT_VERSION:-0.28.20}"
CACHE="${STRATA_CACHE:-$HOME/.cache/strata}"
DIR="$CACHE/assemblyscript-$VERSION"
ASC="$DIR/node_modules/.bin/asc"

die() {
	echo "asc.sh: $*" >&2
	exit 1
}

# A complete install is marked by $DIR/.complete; concurrent runs (several
# test binaries at once) serialise on a lock file.
if [ ! -f "$DIR/.complete" ]; then
	command -v node >/dev/null 2>&1 || die "node not found: AssemblyScript needs Node.js 18 or newer (apt-get install nodejs npm)"
	command -v npm >/dev/null 2>&1 || die "npm not found (apt-get install npm)"
	mkdir -p "$DIR"
	exec 9>"$DIR/.lock"
	flock 9
	if [ ! -f "$DIR/.complete" ]; then
		[ -f "$DIR/package.json" ] || echo '{"private": true}' >"$DIR/package.json"
		npm install --prefix "$DIR" --no-audit --no-fund --loglevel=error --save-exact \
			"assemblyscript@$VERSION" >&2 || die "npm install assemblyscript@$VERSION failed"
		[ -x "$ASC" ] || die "npm installed assemblyscript@$VERSION but $ASC is missing"
		touch "$DIR/.complete"
	fi
fi
echo "$ASC"
