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
# Files found clean before, with the same preprocessed text, checks and
# clang-tidy, are not checked again (tools/lint/tidy_cache.py; BDL_LINT_CACHE=off
# checks everything).
cache=${BDL_LINT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bdl/clang-tidy}
extra=-Wno-pedantic
salt="$(clang-tidy --version) $(cat .clang-tidy) $extra"
if [[ "$cache" == off ]]; then
  todo=$files
else
  todo=$(python3 tools/lint/tidy_cache.py pending "$build" "$cache" "$salt" $files)
fi
echo "lint: clang-tidy on $(echo $todo | wc -w) of $(echo $files | wc -w) files (the rest unchanged since a clean run)"
# The compilers' own warnings are the build's business (gcc, -Werror in CI);
# clang's pedantic ones differ (F16C's intrinsics are C99 compound literals).
if [[ -n "$todo" ]]; then
  if ! run-clang-tidy -quiet -p "$build" -j "$(nproc)" -extra-arg=$extra $todo >"$log" 2>&1; then
    grep -E -A4 '(error|warning):' "$log" | grep -v 'warnings generated' >&2 || cat "$log" >&2
    echo "lint: clang-tidy found problems (above)" >&2
    exit 1
  fi
  [[ "$cache" == off ]] || python3 tools/lint/tidy_cache.py record "$build" "$cache" "$salt" $todo
fi
echo "lint: clean"
