#!/usr/bin/env python3
"""Streaming from record shards (BENCHMARKS.md, issue 13).

1. Bigger than memory: Fashion-MNIST's training images repeated 24 times with
   shifts (build/bench/big_shards: 1.44 M samples, about 1.24 GB of shards)
   train one epoch of the MLP inside a memory cgroup of 256 MiB (cgroup v1 or
   v2, whichever this machine lets root write), so the data is about 4.6 times
   the memory the run may use. The shards are dropped from the page cache first,
   so the run reads them from disk and its page cache is charged to its limit.
   Reported: the run's peak RSS (getrusage), the cgroup's peak charge (which
   includes the page cache the kernel reclaims under the limit), samples per
   second and test accuracy.
2. Side by side on Fashion-MNIST (60,000 samples), the same `bdl train` (MLP,
   3 epochs) from memory (IDX files) and from record shards (4), rounds
   alternating: samples per second and peak RSS of each.

Usage: streaming_bench.py BUILD_DIR [--rounds 3] [--limit-mib 256] [--copies 24]
                          [--json OUT]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile


def cgroup(limit_bytes):
    """A fresh memory cgroup with the limit; returns its cgroup.procs path."""
    name = f"bdl_stream_{os.getpid()}"
    v1 = "/sys/fs/cgroup/memory"
    v2 = "/sys/fs/cgroup"
    if os.path.isfile(os.path.join(v1, "memory.limit_in_bytes")):
        path = os.path.join(v1, name)
        os.makedirs(path, exist_ok=True)
        with open(os.path.join(path, "memory.limit_in_bytes"), "w") as f:
            f.write(str(limit_bytes))
        return path, "memory.max_usage_in_bytes"
    if os.path.isfile(os.path.join(v2, "cgroup.controllers")):
        path = os.path.join(v2, name)
        os.makedirs(path, exist_ok=True)
        with open(os.path.join(path, "memory.max"), "w") as f:
            f.write(str(limit_bytes))
        return path, "memory.peak"
    sys.exit("no writable memory cgroup (run as root on cgroup v1 or v2)")


def train(bdl, data, report, extra=(), procs=None, epochs=1):
    cmd = [bdl, "train", "--model", "mlp", "--data", data, "--epochs", str(epochs), "--threads", "2",
           "--progress", "quiet", "--report", report, *extra]
    if procs:  # join the cgroup, then run bdl in it
        cmd = ["sh", "-c", f'echo $$ > "{procs}" && exec "$@"', "sh", *cmd]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    with open(report) as f:
        return json.load(f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--limit-mib", type=int, default=256)
    ap.add_argument("--copies", type=int, default=24)
    ap.add_argument("--json")
    a = ap.parse_args()
    bdl = os.path.join(a.build, "bdl")
    out = {}
    with tempfile.TemporaryDirectory(dir="/var/tmp") as work:
        big = os.path.join(work, "big")
        subprocess.run([os.path.join(a.build, "bench", "big_shards"), big, str(a.copies)],
                       check=True)
        data_bytes = 0
        for n in os.listdir(os.path.join(big, "train")):
            path = os.path.join(big, "train", n)
            data_bytes += os.path.getsize(path)
            # Written just now, the shards sit in the page cache, charged to the
            # writer: dropped (they were flushed to disk) so that the run reads
            # them from disk, inside its own limit.
            fd = os.open(path, os.O_RDONLY)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            os.close(fd)
        path, peak_file = cgroup(a.limit_mib << 20)
        try:
            r = train(bdl, big, os.path.join(work, "big.json"), ["--test-samples", "10000"],
                      os.path.join(path, "cgroup.procs"))
            with open(os.path.join(path, peak_file)) as f:
                cgroup_peak = int(f.read()) / 2**20
        finally:
            os.rmdir(path)
        out["bigger_than_memory"] = {
            "data_mb": data_bytes / 1e6, "limit_mib": a.limit_mib,
            "data_over_limit": data_bytes / (a.limit_mib << 20),
            "samples": r["iterations"] * r["batch_size"], "peak_rss_mib": r["peak_rss_mib"],
            "cgroup_peak_mib": cgroup_peak, "samples_per_sec": r["train_samples_per_sec"],
            "test_top1": r["test_top1"]}
        print(f"bigger than memory: {data_bytes / 1e6:.0f} MB of shards "
              f"({out['bigger_than_memory']['data_over_limit']:.1f}x the {a.limit_mib} MiB "
              f"limit), one epoch of {r['iterations']} iterations: peak RSS "
              f"{r['peak_rss_mib']:.0f} MiB, cgroup peak {cgroup_peak:.0f} MiB (page cache "
              f"included), {r['train_samples_per_sec']:.0f} samples/s, test top-1 "
              f"{r['test_top1']:.4f}")

        shards = os.path.join(work, "fm")
        subprocess.run([bdl, "convert", "--data", "fashion-mnist", "--shards", "4", "-o", shards],
                       check=True, stdout=subprocess.DEVNULL)
        rows = {"memory": [], "shards": []}
        for _ in range(a.rounds):
            for kind, data in (("memory", "fashion-mnist"), ("shards", shards)):
                r = train(bdl, data, os.path.join(work, kind + ".json"), epochs=3)
                rows[kind].append((r["train_samples_per_sec"], r["peak_rss_mib"], r["test_top1"]))
        ratios = [s[0] / m[0] for s, m in zip(rows["shards"], rows["memory"])]
        out["side_by_side"] = {k: [{"samples_per_sec": s, "peak_rss_mib": m, "test_top1": t}
                                   for s, m, t in v] for k, v in rows.items()}
        out["side_by_side"]["shards_over_memory"] = ratios
        for kind, v in rows.items():
            print(f"{kind:7s}: {statistics.median(x[0] for x in v):8.0f} samples/s (median of "
                  f"{len(v)}), peak RSS {statistics.median(x[1] for x in v):.0f} MiB, test top-1 "
                  f"{', '.join(f'{x[2]:.4f}' for x in v)}")
        print("shards / memory, per round: " + ", ".join(f"{x:.3f}" for x in ratios) +
              f" (median {statistics.median(ratios):.3f})")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()
