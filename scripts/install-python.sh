#!/usr/bin/env bash
# Makes the project's Python environment, .venv, from Debian 12's /usr/bin/python3
# (CPython 3.11; python3-venv and python3-dev come from scripts/install-deps.sh)
# with the pinned PyPI packages of python/requirements.txt and
# python/constraints.txt. Idempotent: installs again only when those files change.
# --bench adds the benchmarks' peers (python/requirements-bench.txt: PyTorch 2.x
# and Keras 3, several GB).
# pip keeps its downloads in ~/.cache/pip, so a second machine setup reuses them.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${BDL_VENV:-.venv}
files=(python/requirements.txt python/constraints.txt)
if [[ "${1:-}" == "--bench" ]]; then
  files+=(python/requirements-bench.txt)
fi
# One stamp per set: the base one, and the base with the peers (--bench), so
# that a plain run after --bench finds the base installed and leaves the peers.
stamp="$venv/.bdl-requirements"
[[ ${#files[@]} -eq 3 ]] && stamp="$venv/.bdl-requirements-bench"
want=$(cat "${files[@]}" | sha256sum)
if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  exit 0
fi
echo "install-python: making $venv (pinned packages of ${files[*]})"
[[ -x "$venv/bin/python" ]] || /usr/bin/python3 -m venv "$venv"
requirements=(-r python/requirements.txt)
[[ ${#files[@]} -eq 3 ]] && requirements+=(-r python/requirements-bench.txt)
"$venv/bin/python" -m pip install --disable-pip-version-check -q \
  "${requirements[@]}" -c python/constraints.txt
echo "$want" > "$stamp"
# The peers' set includes the base one.
[[ ${#files[@]} -eq 3 ]] && cat python/requirements.txt python/constraints.txt | sha256sum > "$venv/.bdl-requirements"
exit 0
