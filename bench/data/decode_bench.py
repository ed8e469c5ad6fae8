#!/usr/bin/env python3
"""Decode and augment, images per second on 2 threads (BENCHMARKS.md, issue 13).

The same folder of JPEGs (make_jpeg_folder.py) through:
  bdl       build/bench/image_decode: data::image_folder with 2 decoding
            threads, batches of 64;
  PyTorch   torch.utils.data.DataLoader over torchvision's ImageFolder with 2
            worker processes, batches of 64, in three ways, each timed, the
            fastest taken as the peer: Pillow decoding with the classic
            transforms (v1), Pillow with transforms.v2, and torchvision.io's
            libjpeg-turbo decode_jpeg with transforms.v2 on uint8 tensors.
Two pipelines: "train" (random resized crop to 224, horizontal flip,
normalise: bdl's --augment standard) and "eval" (resize the short side to 256,
centre crop 224, normalise: bdl's none). Every pipeline reads the folder once
unmeasured (page cache, worker start-up), then EPOCHS timed epochs; rounds
alternate between the libraries and the median round is reported.

Usage: decode_bench.py BUILD_DIR FOLDER [--rounds 3] [--epochs 2] [--json OUT]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time


def bdl_rate(build, folder, augment, epochs):
    out = subprocess.run([os.path.join(build, "bench", "image_decode"), folder, augment, "224",
                          "2", str(epochs), "64"], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)["images_per_s"]


def torch_rate(folder, pipeline, variant, epochs):
    """Runs in a fresh interpreter so that each measurement starts alike."""
    code = f"""
import time, torch, torchvision
from torchvision import datasets, transforms
from torchvision.transforms import v2
from torchvision.io import decode_jpeg, read_file, ImageReadMode
mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
pipeline, variant = {pipeline!r}, {variant!r}
if variant == "pil_v1":
    aug = [transforms.RandomResizedCrop(224), transforms.RandomHorizontalFlip()] \\
        if pipeline == "train" else [transforms.Resize(256), transforms.CenterCrop(224)]
    tf = transforms.Compose(aug + [transforms.ToTensor(), transforms.Normalize(mean, std)])
    loader = None
else:
    aug = [v2.RandomResizedCrop(224, antialias=True), v2.RandomHorizontalFlip()] \\
        if pipeline == "train" else [v2.Resize(256, antialias=True), v2.CenterCrop(224)]
    tf = v2.Compose([v2.ToImage()] + aug + [v2.ToDtype(torch.float32, scale=True),
                                            v2.Normalize(mean, std)])
    loader = None
    if variant == "decode_jpeg_v2":
        loader = lambda path: decode_jpeg(read_file(path), mode=ImageReadMode.RGB)
kwargs = dict(transform=tf)
if loader is not None:
    kwargs["loader"] = loader
ds = datasets.ImageFolder({folder!r}, **kwargs)
dl = torch.utils.data.DataLoader(ds, batch_size=64, shuffle=True, num_workers=2,
                                 persistent_workers=True)
for x, y in dl:  # warm-up epoch
    pass
n, start = 0, time.perf_counter()
for e in range({epochs}):
    for x, y in dl:
        n += x.shape[0]
print(n / (time.perf_counter() - start))
"""
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("folder")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--json")
    a = ap.parse_args()
    import PIL
    import torch
    import torchvision
    files = [os.path.join(d, f) for d, _, fs in os.walk(a.folder) for f in fs]
    size = sum(os.path.getsize(f) for f in files)
    print(f"{len(files)} JPEGs, {size / 1e6:.1f} MB; torch {torch.__version__}, torchvision "
          f"{torchvision.__version__}, Pillow {PIL.__version__}; {os.cpu_count()} CPUs")
    variants = ["pil_v1", "pil_v2", "decode_jpeg_v2"]
    results = {}
    for pipeline, augment in (("train", "standard"), ("eval", "none")):
        rounds = {"bdl": [], **{v: [] for v in variants}}
        for r in range(a.rounds):
            rounds["bdl"].append(bdl_rate(a.build, a.folder, augment, a.epochs))
            for v in variants:
                rounds[v].append(torch_rate(a.folder, pipeline, v, a.epochs))
            print(f"  {pipeline} round {r + 1}: " +
                  ", ".join(f"{k} {v[-1]:.0f}" for k, v in rounds.items()), flush=True)
        med = {k: statistics.median(v) for k, v in rounds.items()}
        best = max(variants, key=lambda v: med[v])
        results[pipeline] = {"images_per_s": med, "rounds": rounds, "best_peer": best,
                             "ratio": med["bdl"] / med[best]}
        print(f"{pipeline}: bdl {med['bdl']:.0f} images/s, PyTorch at its best ({best}) "
              f"{med[best]:.0f}: {med['bdl'] / med[best]:.2f}x")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"images": len(files), "bytes": size, "torch": torch.__version__,
                       "torchvision": torchvision.__version__, "pillow": PIL.__version__,
                       "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
