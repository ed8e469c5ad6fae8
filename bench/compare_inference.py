#!/usr/bin/python3
"""Inference throughput of bdl against its strongest CPU peers, side by side:
ONNX Runtime (fp32, all graph optimisations) and PyTorch 2 eager (no_grad, the
better of NCHW and channels-last), on the zoo's LeNet-5, MLP, ResNet-18,
ResNet-50, Inception v1 (torchvision's googlenet) and LSTM classifier, at batch
1 and 16, random data, 2 threads.

bdl runs as `bdl predict` does (bench/models/zoo_bench in inference mode); the
peers run the twins of the same networks (bench/pytorch_zoo.py), ORT the ONNX
file PyTorch exports of them (bench/ort_zoo.py). All three run in
bench/compare_train.py's environment (glibc keeping freed memory, OpenBLAS
unpinned), each in its own process, in alternating rounds so that machine
noise hits each; the median of the rounds is reported, with the ratio of bdl to
the best peer and each one's peak resident memory.

  .venv/bin/python bench/compare_inference.py [--rounds 3] [--models resnet50,...]
      [--batches 1,16] [--out bench/results/inference_compare.json]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

from compare_train import bench_env

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# model -> (image size, iterations at batch 1, at batch 16): about a second per run each.
MODELS = {"lenet5": (28, 2000, 400), "mlp": (28, 4000, 1000), "resnet18": (224, 40, 8),
          "resnet50": (224, 20, 4), "inception_v1_bn": (224, 40, 8),
          "lstm_classifier": (0, 400, 100)}


def run(cmd):
    done = subprocess.run(cmd, env=bench_env(), check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--batches", default="1,16")
    p.add_argument("--bdl", default=os.path.join(ROOT, "build", "bench", "zoo_bench"))
    p.add_argument("--out", default=os.path.join(ROOT, "bench", "results",
                                                 "inference_compare.json"))
    a = p.parse_args()
    torch_script = os.path.join(ROOT, "bench", "pytorch_zoo.py")
    ort_script = os.path.join(ROOT, "bench", "ort_zoo.py")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for model in a.models.split(","):
            size, *iters = MODELS[model]
            for batch in [int(b) for b in a.batches.split(",")]:
                n = str(iters[0] if batch == 1 else iters[1])
                common = [model, str(batch), str(size or 28), "infer", n, str(a.threads)]
                onnx_file = os.path.join(tmp, f"{model}_{batch}.onnx")
                run_export = [sys.executable, torch_script, model, str(batch), str(size or 28),
                              "export", "0", str(a.threads), onnx_file]
                subprocess.run(run_export, env=bench_env(), check=True, capture_output=True)
                image = model not in ("lstm_classifier", "mlp")
                got = {"bdl": [], "pytorch": [], "pytorch_channels_last": [], "onnxruntime": []}
                rss = {k: 0.0 for k in got}
                for _ in range(a.rounds):
                    runs = {"bdl": [a.bdl] + common,
                            "pytorch": [sys.executable, torch_script] + common,
                            "onnxruntime": [sys.executable, ort_script, onnx_file, n,
                                            str(a.threads)]}
                    if image:
                        runs["pytorch_channels_last"] = runs["pytorch"] + ["channels_last"]
                    for name, cmd in runs.items():
                        r = run(cmd)
                        got[name].append(r["images_per_sec"])
                        rss[name] = max(rss[name], r["peak_rss_mib"])
                med = {k: statistics.median(v) for k, v in got.items() if v}
                torch_best = max((k for k in med if k.startswith("pytorch")), key=med.get)
                peer = max(("onnxruntime", torch_best), key=med.get)
                row = {"model": model, "batch": batch, "images_per_sec": med,
                       "rounds": got, "peak_rss_mib": {k: rss[k] for k in med},
                       "best_peer": peer, "bdl_over_best_peer": med["bdl"] / med[peer],
                       "bdl_over_onnxruntime": med["bdl"] / med["onnxruntime"],
                       "bdl_over_pytorch": med["bdl"] / med[torch_best]}
                rows.append(row)
                print(f"{model:16s} batch {batch:2d}: bdl {med['bdl']:9.1f}/s, ORT "
                      f"{med['onnxruntime']:9.1f}, PyTorch {med[torch_best]:9.1f} "
                      f"({torch_best}); bdl/best peer {row['bdl_over_best_peer']:.2f}x; "
                      f"RSS MiB bdl {rss['bdl']:.0f}, ORT {rss['onnxruntime']:.0f}, "
                      f"PyTorch {rss[torch_best]:.0f}", flush=True)
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump({"threads": a.threads, "rounds": a.rounds, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
