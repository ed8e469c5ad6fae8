#!/usr/bin/env bash
# Builds bdl with CMake's defaults (Unix Makefiles), installs it into a fresh
# prefix, builds examples/ out of tree against the installed package
# (find_package(bdl), bdl::bdl) and runs the regression example and the
# installed bdl command. Run from a clone: tests/install_test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake -S . -B "$work/build" -DBDL_BUILD_TESTS=OFF -DBDL_BUILD_BENCH=OFF \
      -DCMAKE_INSTALL_PREFIX="$work/prefix" >"$work/configure.log"
grep -q "Unix Makefiles" "$work/build/CMakeCache.txt" || { echo "FAIL: not the default generator"; exit 1; }
cmake --build "$work/build" -j "$(nproc)" >"$work/build.log"
cmake --install "$work/build" >"$work/install.log"
cmake -S examples -B "$work/examples" -DCMAKE_PREFIX_PATH="$work/prefix" >"$work/examples.log"
cmake --build "$work/examples" -j "$(nproc)" >>"$work/examples.log"
"$work/examples/regression_example"
"$work/prefix/bin/bdl" info | head -1
echo "PASS: installed bdl builds and links the examples out of tree"
