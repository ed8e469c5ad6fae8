#!/usr/bin/env bash
# Installs the Debian 12 packages bdl builds, tests and benchmarks with.
# Idempotent: installs only what is missing; runs apt-get update only then.
# Usage: scripts/install-deps.sh [--bench]   (--bench adds OpenBLAS and matplotlib
# for the side-by-side benchmarks; PyTorch is always installed, for the ONNX tests)
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libdnnl-dev ocl-icd-opencl-dev zlib1g-dev nlohmann-json3-dev libcli11-dev libopenmpi-dev openmpi-bin
  libgloo-dev libhdf5-dev libminizip-dev
  libprotobuf-dev protobuf-compiler clang libclang-rt-14-dev libjpeg62-turbo-dev libpng-dev
  libonnx-dev libonnx-testdata python3-onnx
  libgtest-dev libgmock-dev libbenchmark-dev
  dataset-fashion-mnist bc procps iproute2
  python3-torch python3-torchvision python3-numpy python3-sklearn
  python3-venv python3-dev
  openjdk-17-jre-headless
)
if [[ "${1:-}" == "--bench" ]]; then
  # OpenBLAS so that PyTorch (installed for the ONNX tests) does not fall back to
  # the reference BLAS in the side-by-side benchmarks; matplotlib for the plots in docs/;
  # scikit-image for its sample photographs (bench/data/make_jpeg_folder.py).
  packages+=(python3-matplotlib libopenblas0-pthread python3-skimage)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
