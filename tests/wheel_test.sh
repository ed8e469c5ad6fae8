#!/usr/bin/env bash
# A Python user's path: the wheel that `pip install .` builds (a fresh build
# directory, build isolation with the pinned scikit-build-core and nanobind),
# installed into a new virtual environment beside the pinned NumPy, pandas and
# TensorBoard, then the bdl command and the scripts of examples/python, alone
# and under mpirun. Run by .ci/run after `make test`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$root"
rm -rf build-wheel
"$root/.venv/bin/python" -m pip wheel --disable-pip-version-check -q --no-deps -w "$work/dist" .
/usr/bin/python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --disable-pip-version-check -q \
  -c python/requirements.txt -c python/constraints.txt "$work"/dist/bdl-*.whl pandas tensorboard
py="$work/venv/bin/python"
cd "$work"
"$work/venv/bin/bdl" --version
"$py" - <<'PY'
import os, bdl, bdl._core
here = os.path.dirname(bdl.__file__)
assert os.path.exists(os.path.join(here, "_core.pyi")), "no type stubs in the wheel"
assert os.path.exists(os.path.join(here, "py.typed"))
assert bdl.Sequential.fit.__doc__ and "Keras" in bdl.Sequential.fit.__doc__
print("bdl", bdl.__version__, "from", here)
PY
examples="$root/examples/python"
"$py" "$examples/fashion_mnist.py" --samples 6000 --epochs 2 --logs runs/lenet5 \
  --backup runs/backup --save lenet5.bdl
test -f lenet5.bdl
ls runs/lenet5/train/events.out.tfevents.* runs/lenet5/validation/events.out.tfevents.* >/dev/null
"$work/venv/bin/bdl" info --model lenet5.bdl >/dev/null
"$py" "$examples/tabular.py"
# Training from an image folder (PNG and JPEG files, decoded by the C++ core).
"$py" "$examples/image_folder.py" --dir photos --samples 6000 --epochs 1 | tee images.log
grep -q "test accuracy" images.log
# The fraud-detection use case on a smaller table of the same shape.
"$py" "$root/examples/fraud_detection/make_data.py" fraud --rows 60000
"$py" "$root/examples/fraud_detection/train.py" fraud --epochs 2 | tee fraud.log
grep -q "AUC-ROC" fraud.log
if /usr/bin/python3 -c "import torch" 2>/dev/null; then
  /usr/bin/python3 "$examples/export_from_pytorch.py" cnn.onnx
  "$py" "$examples/fine_tune_onnx.py" cnn.onnx --epochs 1 --samples 5000
  test -f fine-tuned.bdl && test -f fine-tuned.onnx
else
  echo "wheel_test: no PyTorch for /usr/bin/python3: the ONNX fine-tuning example is skipped"
fi
OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1 \
  mpirun --oversubscribe -np 2 "$py" "$examples/fashion_mnist.py" --samples 4000 --epochs 1 \
  --logs runs/mpi --backup runs/mpi-backup --save mpi.bdl | tee mpi.log
grep -q "on 2 worker(s)" mpi.log
echo "wheel_test: passed"
