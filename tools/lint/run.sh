#!/usr/bin/env bash
# make lint: formatting (clang-format), the parts' layering, and clang-tidy
# (.clang-tidy, warnings as errors: bugprone, performance, naming, and no
# function over 79 lines) on every source of the library, the tool and the
# Python extension.
# Usage: tools/lint/run.sh [BUILD_DIR]   (needs BUILD_DIR/compile_commands.json)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
[[ -f "$build/compile_commands.json" ]] || {
  echo "lint: $build/compile_commands.json is missing: configure first (make build)" >&2
  exit 1
}
echo "lint: clang-format"
git ls-files '*.cpp' '*.h' | xargs clang-format --dry-run --Werror
echo "lint: layering"
python3 tools/lint/check_layers.py
echo "lint: clang-tidy"
files=$(git ls-files 'src/*.cpp' 'tools/*.cpp' 'python/src/*.cpp')
# One clang-tidy per core; any finding is an error (WarningsAsErrors).
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# The compilers' own warnings are the build's business (gcc, -Werror in CI);
# clang's pedantic ones differ (F16C's intrinsics are C99 compound literals).
if ! run-clang-tidy -quiet -p "$build" -j "$(nproc)" -extra-arg=-Wno-pedantic $files >"$log" 2>&1; then
  grep -E -A4 '(error|warning):' "$log" | grep -v 'warnings generated' >&2 || cat "$log" >&2
  echo "lint: clang-tidy found problems (above)" >&2
  exit 1
fi
echo "lint: clean"
