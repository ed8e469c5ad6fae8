#!/usr/bin/env python3
"""Training from JPEGs against synthetic data (BENCHMARKS.md, issue 13).

ResNet-18 at 224 x 224 trains with `bdl train` on the same machine, rounds
alternating: from a folder of JPEGs (make_jpeg_folder.py; decoded, randomly
cropped, flipped and normalised as they stream, --augment standard, one
decoding thread beside the training threads), and from synthetic data already
in memory (--synthetic). Both runs have the same model (10 classes), batch,
samples and threads. Reported: samples per second of each (the report's
train_samples_per_sec, the epoch's time with its first iteration), their
ratio, and how long training waited for input.

Usage: jpeg_training_bench.py BUILD_DIR FOLDER [--rounds 3] [--samples 320]
                              [--batch-size 32] [--json OUT]
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile


def run(bdl, args, report):
    subprocess.run([bdl, "train", "--model", "resnet18", "--epochs", "1", "--progress", "quiet",
                    "--report", report] + args, check=True, capture_output=True, text=True)
    with open(report) as f:
        return json.load(f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("folder")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--samples", type=int, default=320)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--json")
    a = ap.parse_args()
    bdl = os.path.join(a.build, "bdl")
    common = ["--batch-size", str(a.batch_size)]
    jpeg_args = common + ["--data", a.folder, "--augment", "standard", "--decode-threads", "1",
                          "--train-samples", str(a.samples)]
    synthetic_args = common + ["--synthetic", "--synthetic-samples", str(a.samples),
                               "--classes", "10"]
    rates = {"jpeg": [], "synthetic": []}
    waits = []
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "r.json")
        for r in range(a.rounds):
            j = run(bdl, jpeg_args, report)
            rates["jpeg"].append(j["train_samples_per_sec"])
            waits.append(j["input_wait_seconds"])
            s = run(bdl, synthetic_args, report)
            rates["synthetic"].append(s["train_samples_per_sec"])
            print(f"round {r + 1}: JPEG {rates['jpeg'][-1]:.2f} samples/s (input wait "
                  f"{waits[-1]:.2f} s of {j['train_seconds']:.1f}), synthetic "
                  f"{rates['synthetic'][-1]:.2f}", flush=True)
    med = {k: statistics.median(v) for k, v in rates.items()}
    ratio = med["jpeg"] / med["synthetic"]
    print(f"ResNet-18 at 224, batch {a.batch_size}, {a.samples} samples: from JPEGs "
          f"{med['jpeg']:.2f} samples/s, synthetic {med['synthetic']:.2f}: {ratio:.1%}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"samples_per_s": med, "rounds": rates, "input_wait_seconds": waits,
                       "ratio": ratio, "samples": a.samples, "batch_size": a.batch_size}, f,
                      indent=1)


if __name__ == "__main__":
    main()
