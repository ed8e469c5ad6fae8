#!/usr/bin/env bash
# The TensorBoard screenshot of docs/python.md: trains LeNet-5 for a few epochs
# with examples/python/fashion_mnist.py (TensorBoard callback), serves the logs
# with the TensorBoard of .venv, and photographs the page with headless Chromium
# (Debian's chromium package).
#   tools/docs/tensorboard_screenshot.sh [OUT.png]   (default docs/tensorboard.png)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$root/docs/tensorboard.png}
work=$(mktemp -d)
trap 'kill "${server:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
PYTHONPATH="$root/build/python" "$root/.venv/bin/python" "$root/examples/python/fashion_mnist.py" \
  --epochs 5 --logs runs/lenet5 --backup backup --save lenet5.bdl
"$root/.venv/bin/tensorboard" --logdir runs --host 127.0.0.1 --port 6123 >tensorboard.log 2>&1 &
server=$!
for _ in $(seq 60); do
  curl -sf http://127.0.0.1:6123/ >/dev/null && break
  sleep 1
done
chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars --window-size=1400,1000 \
  --virtual-time-budget=20000 --screenshot="$out" "http://127.0.0.1:6123/#scalars&_smoothingWeight=0&_ignoreYOutliers=false&tagFilter=%5Eloss%7Ctop1%7Cepoch_loss%7Cthroughput"
echo "wrote $out"
