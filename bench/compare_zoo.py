#!/usr/bin/python3
"""Side-by-side images/s of bdl and PyTorch (torchvision) on Inception v1 and
ResNet-18, 224x224, batch 16, random data, 2 threads: training and inference,
bdl in fp32 and with bf16 convolutions (BDL_PRECISION=bf16), PyTorch in fp32.

Both run in the same environment, measured as the issue asks PyTorch to be run
at its best: glibc keeping freed memory (MALLOC_MMAP_MAX_=0,
MALLOC_TRIM_THRESHOLD_), OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset, warm-up
iterations excluded. Rounds alternate bdl and PyTorch so that machine noise hits
both; the median of the rounds is reported with the ratio.

  /usr/bin/python3 bench/compare_zoo.py [--rounds 3] [--iterations 8] [--out FILE]
"""
import argparse
import json
import os
import statistics
import subprocess

from compare_train import bench_env  # the same environment as the LeNet-5/MLP comparison

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# bdl's name -> the torchvision network it reproduces.
MODELS = ["inception_v1_bn", "resnet18"]
FP32_PEAK_GFLOPS = 350.0  # oneDNN sgemm on 2 threads here (the figure)


def run(cmd, extra=None):
    e = bench_env()
    e.update(extra or {})
    out = subprocess.run(cmd, env=e, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--iterations", type=int, default=8)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--bench", default=os.path.join(ROOT, "build", "bench", "zoo_bench"))
    p.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "zoo_compare.json"))
    a = p.parse_args()
    rows = []
    for model in MODELS:
        for mode in ["train", "infer"]:
            bdl = {"fp32": [], "bf16": []}
            gflops = {"fp32": [], "bf16": []}
            torch = []
            for _ in range(a.rounds):
                for precision in ["fp32", "bf16"]:
                    r = run([a.bench, model, str(a.batch), "224", mode, str(a.iterations),
                             str(a.threads)], {"BDL_PRECISION": precision})
                    bdl[precision].append(r["images_per_sec"])
                    gflops[precision].append(r["gflops_per_sec"])
                r = run(["/usr/bin/python3", os.path.join(ROOT, "bench", "pytorch_zoo.py"), model,
                         str(a.batch), "224", mode, str(a.iterations), str(a.threads)])
                torch.append(r["images_per_sec"])
            for precision in ["fp32", "bf16"]:
                ips = statistics.median(bdl[precision])
                gf = statistics.median(gflops[precision])
                row = {"model": model, "mode": mode, "bdl_precision": precision,
                       "bdl_images_per_sec": ips,
                       "pytorch_fp32_images_per_sec": statistics.median(torch),
                       "ratio": ips / statistics.median(torch), "bdl_gflops_per_sec": gf,
                       "bdl_fraction_of_fp32_peak": gf / FP32_PEAK_GFLOPS,
                       "bdl_rounds": bdl[precision], "pytorch_rounds": torch}
                rows.append(row)
                print(f"{model:16s} {mode:5s} bdl {precision}  {ips:7.1f} img/s  "
                      f"pytorch fp32 {row['pytorch_fp32_images_per_sec']:7.1f} img/s  "
                      f"ratio {row['ratio']:.2f}  bdl {gf:.0f} GFLOP/s "
                      f"({100 * row['bdl_fraction_of_fp32_peak']:.0f}% of fp32 peak)", flush=True)
    with open(a.out, "w") as f:
        json.dump({"batch": a.batch, "threads": a.threads, "image_size": 224,
                   "iterations": a.iterations, "rounds": a.rounds, "results": rows}, f, indent=2)


if __name__ == "__main__":
    main()
