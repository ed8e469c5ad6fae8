#!/usr/bin/env python3
"""The standing adversarial suite: hostile files, flags, paths and faults,
driven by the table in cases.json.

Each case gives a command (the bdl binary's arguments, or a shell line for MPI
and fault cases), the exit code it must end with, the words its stderr must
contain, and checks of the files afterwards (an input left unchanged, a device
still a device, no temporary files left, a checkpoint that still loads). Every
command runs under a deadline: a hang is a failure.

Usage: run.py BDL_BINARY [MPIEXEC] [--only NAME_SUBSTRING] [--list]
Needs only Python's standard library (fixtures are written by hand here).
"""
import argparse
import gzip
import hashlib
import json
import os
import random
import shutil
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


# ---- fixtures: small data the cases point at -------------------------------

def write_idx(path, dims, data):
    header = struct.pack(">I", 0x800 + len(dims)) + b"".join(struct.pack(">I", d) for d in dims)
    with gzip.open(path, "wb") as f:
        f.write(header + bytes(data))


def idx_dir(path, train=512, test=128, classes=10, bad_label_at=None, seed=1):
    """An MNIST-like directory: the four IDX files of random 28x28 images."""
    os.makedirs(path, exist_ok=True)
    rng = random.Random(seed)
    for prefix, n in (("train", train), ("t10k", test)):
        labels = [rng.randrange(classes) for _ in range(n)]
        if bad_label_at is not None and prefix == "t10k":
            labels[bad_label_at] = classes + 2
        # Images that depend on the label, so that a model can learn something.
        images = bytearray()
        for y in labels:
            images += bytes(min(255, (y * 23 + rng.randrange(40)) % 256) for _ in range(784))
        write_idx(os.path.join(path, f"{prefix}-images-idx3-ubyte.gz"), (n, 28, 28), images)
        write_idx(os.path.join(path, f"{prefix}-labels-idx1-ubyte.gz"), (n,), labels)
    return path


def write_npy(path, values, shape, dtype="<f4"):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        dtype, "".join(f"{d}, " for d in shape))
    header += " " * (63 - (len(header) + 10) % 64) + "\n"
    code = "f" if dtype == "<f4" else "q"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        f.write(struct.pack(f"<{len(values)}{code}", *values))


def write_png(path, width, height, pixel, declared=None):
    """An RGB PNG of one colour, by hand (zlib and CRCs from the standard
    library); `declared` gives the header other dimensions than the data's."""
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
    w, h = declared or (width, height)
    rows = b"".join(b"\x00" + bytes(pixel) * width for _ in range(height))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def image_dir(path, per_class=40):
    """An image folder: train/ and test/, two classes of flat-coloured PNGs."""
    for split, n in (("train", per_class), ("test", per_class // 2)):
        for c, name in enumerate(("dark", "light")):
            d = os.path.join(path, split, name)
            os.makedirs(d, exist_ok=True)
            for i in range(n):
                write_png(os.path.join(d, f"{i}.png"), 30 + i, 28 + c, (40 + 150 * c + i,) * 3)
    return path


def numpy_dir(path, n=64, test_width=28, poison=None):
    """A NumPy directory of 28x28 f32 images and i64 classes (for the zoo's mlp)."""
    os.makedirs(path, exist_ok=True)
    rng = random.Random(3)
    for prefix, width in (("train", 28), ("test", test_width)):
        x = [rng.uniform(-1, 1) for _ in range(n * 28 * width)]
        if poison is not None and prefix == "train":
            x[poison[0]] = poison[1]
        write_npy(os.path.join(path, f"{prefix}-features.npy"), x, (n, 1, 28, width))
        write_npy(os.path.join(path, f"{prefix}-targets.npy"),
                  [rng.randrange(10) for _ in range(n)], (n,), dtype="<i8")
    return path


class Fixtures:
    """Made once per run, in order; cases name them as {placeholders}."""

    def __init__(self, bdl, work):
        self.bdl, self.work = bdl, work
        self.values = {"bdl": bdl, "work": work, "host": socket.gethostname(),
                       "quick": " ".join(QUICK)}

    def path(self, name):
        return os.path.join(self.work, name)

    def run_bdl(self, *args):
        r = subprocess.run([self.bdl, *args], capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            raise RuntimeError(f"fixture: bdl {' '.join(args)} failed:\n{r.stderr}")

    def make(self):
        v = self.values
        v["idx"] = idx_dir(self.path("idx"))
        v["bad_labels"] = idx_dir(self.path("bad_labels"), bad_label_at=37)
        quick = QUICK
        v["model"] = self.path("model.bdl")
        self.run_bdl("train", "--model", "mlp", "--data", v["idx"], *quick, "--save", v["model"])
        v["onnx"] = self.path("model.onnx")
        self.run_bdl("export", v["model"], "-o", v["onnx"])
        # A checkpoint directory of an mlp run, one of a lenet5 run, a corrupt one.
        v["mlp_ckpt"] = self.path("mlp_ckpt")
        self.run_bdl("train", "--model", "mlp", "--data", v["idx"], *quick,
                     "--checkpoint", v["mlp_ckpt"])
        v["corrupt_ckpt"] = self.path("corrupt_ckpt")
        os.makedirs(v["corrupt_ckpt"])
        with open(os.path.join(v["corrupt_ckpt"], "checkpoint-000000000008-00000000000000aa.bdl"),
                  "wb") as f:
            f.write(b"BDLMODEL" + os.urandom(256))
        v["x"] = self.path("x.npy")
        write_npy(v["x"], [0.1] * (4 * 784), (4, 1, 28, 28))
        v["x_nan"] = self.path("x_nan.npy")
        write_npy(v["x_nan"], [0.1] * 1000 + [float("nan")] + [0.1] * (4 * 784 - 1001),
                  (4, 1, 28, 28))
        v["x_inf"] = self.path("x_inf.npy")
        write_npy(v["x_inf"], [float("-inf")] + [0.1] * (4 * 784 - 1), (4, 1, 28, 28))
        v["images"] = image_dir(self.path("images"))
        write_png(self.path("bomb.png"), 4, 4, (1, 2, 3), declared=(100000, 100000))
        v["bomb_png"] = self.path("bomb.png")
        v["numpy"] = numpy_dir(self.path("numpy"))
        v["numpy_inf"] = numpy_dir(self.path("numpy_inf"), poison=(2 * 784 + 9, float("inf")))
        v["numpy_bad_test"] = numpy_dir(self.path("numpy_bad_test"), test_width=27)
        v["fifo"] = self.path("fifo")
        os.mkfifo(v["fifo"])
        v["dir"] = self.path("a_directory")
        os.makedirs(v["dir"])
        return v


# ---- running one case --------------------------------------------------------

QUICK = ["--epochs", "1", "--batch-size", "64", "--progress", "quiet", "--threads", "1"]


def expand(value, names):
    """{name} placeholders replaced; a list element "{quick}" becomes QUICK's flags."""
    if isinstance(value, list):
        out = []
        for v in value:
            out += QUICK if v == "{quick}" else [expand(v, names)]
        return out
    if isinstance(value, str):
        for k, v in names.items():
            value = value.replace("{" + k + "}", str(v))
    return value


def digest(path):
    if os.path.isdir(path):
        h = hashlib.sha256()
        for root, _, files in sorted(os.walk(path)):
            for name in sorted(files):
                h.update(name.encode())
                with open(os.path.join(root, name), "rb") as f:
                    h.update(f.read())
        return h.hexdigest()
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def prepare(case, names):
    """Per-case setup steps: copies of fixtures the case may change, and files."""
    for step in expand(case.get("setup", []), names):
        kind, args = step[0], step[1:]
        if kind == "copy":
            if os.path.isdir(args[0]):
                shutil.copytree(args[0], args[1], symlinks=True)
            else:
                shutil.copy(args[0], args[1])
        elif kind == "mkdir":
            os.makedirs(args[0], exist_ok=True)
        elif kind == "write":
            with open(args[0], "w") as f:
                f.write(args[1])
        elif kind == "symlink":
            os.symlink(args[0], args[1])
        elif kind == "bdl":
            subprocess.run([names["bdl"], *args], capture_output=True, timeout=300, check=True)
        elif kind == "shell":
            subprocess.run(["bash", "-c", args[0]], capture_output=True, timeout=300, check=True)
        else:
            raise ValueError(f"unknown setup step {kind}")


def check_after(case, names, before, result):
    """Returns the failed checks' descriptions."""
    failures = []
    for check in expand(case.get("after", []), names):
        kind, args = check[0], check[1:]
        path = args[0] if args else None
        if kind == "unchanged":
            if digest(path) != before[path]:
                failures.append(f"{path} changed")
        elif kind == "exists" and not os.path.lexists(path):
            failures.append(f"{path} is missing")
        elif kind == "absent" and os.path.lexists(path):
            failures.append(f"{path} exists")
        elif kind == "char_device" and not stat.S_ISCHR(os.stat(path).st_mode):
            failures.append(f"{path} is no longer a character device")
        elif kind == "fifo" and not stat.S_ISFIFO(os.lstat(path).st_mode):
            failures.append(f"{path} is no longer a FIFO")
        elif kind == "symlink" and not os.path.islink(path):
            failures.append(f"{path} is no longer a symbolic link")
        elif kind == "no_temporaries":
            left = [f for f in os.listdir(path) if ".tmp-" in f]
            if left:
                failures.append(f"temporary files left in {path}: {left}")
        elif kind == "count":
            n = len([f for f in os.listdir(path) if args[1] in f])
            if n != int(args[2]):
                failures.append(f"{path} holds {n} files with '{args[1]}', expected {args[2]}")
        elif kind == "loads":
            r = subprocess.run([names["bdl"], "info", "--model", path], capture_output=True,
                               text=True, timeout=60)
            if r.returncode != 0:
                failures.append(f"{path} does not load: {r.stderr.strip()}")
        elif kind == "stdout":
            for word in args:
                if word not in result.stdout:
                    failures.append(f"stdout lacks '{word}'")
        elif kind == "stdout_lacks":
            for word in args:
                if word in result.stdout:
                    failures.append(f"stdout has '{word}' (work started before the error)")
        elif kind == "contains":
            with open(path, errors="replace") as f:
                if args[1] not in f.read():
                    failures.append(f"{path} lacks '{args[1]}'")
        elif kind == "all_load":
            for name in sorted(os.listdir(path)):
                if name.startswith("checkpoint-") and name.endswith(".bdl"):
                    r = subprocess.run([names["bdl"], "info", "--model", os.path.join(path, name)],
                                       capture_output=True, text=True, timeout=60)
                    if r.returncode != 0:
                        failures.append(f"{name} does not load: {r.stderr.strip()}")
    return failures


def run_case(case, fixtures, mpiexec):
    names = dict(fixtures)
    names["case"] = tempfile.mkdtemp(prefix=case["name"] + "-", dir=fixtures["work"])
    names["mpiexec"] = mpiexec or "mpiexec"
    prepare(case, names)
    before = {}
    for check in expand(case.get("after", []), names):
        if check[0] == "unchanged":
            before[check[1]] = digest(check[1])
    timeout = case.get("timeout", 60)
    env = dict(os.environ, OMP_NUM_THREADS="1", OMPI_ALLOW_RUN_AS_ROOT="1",
               OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_orte_tmpdir_base=names["case"])
    if "shell" in case:
        command = ["bash", "-c", expand(case["shell"], names)]
    else:
        command = [fixtures["bdl"], *expand(case["run"], names)]
    start = time.monotonic()
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    except subprocess.TimeoutExpired as e:
        os.system(f"pkill -9 -f {names['case']} >/dev/null 2>&1")
        return [f"hung: no exit within {timeout} s"], time.monotonic() - start
    failures = []
    rc = case.get("rc", 1)
    if (rc == "nonzero" and result.returncode == 0) or (rc != "nonzero" and result.returncode != rc):
        failures.append(f"exit code {result.returncode}, expected {rc}")
    for word in expand(case.get("stderr", []), names):
        if word not in result.stderr:
            failures.append(f"stderr lacks '{word}'")
    failures += check_after(case, names, before, result)
    if failures:
        failures.append("stderr was: " + result.stderr.strip()[-1500:])
    return failures, time.monotonic() - start


def available(case, mpiexec):
    """Why a case cannot run here, or None."""
    needs = case.get("needs", [])
    if "mpi" in needs and not mpiexec:
        return "no MPI launcher"
    if "root" in needs and os.geteuid() != 0:
        return "needs root (mount)"
    if "mount" in needs:
        probe = tempfile.mkdtemp()
        ok = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", probe],
                            capture_output=True).returncode == 0
        if ok:
            subprocess.run(["umount", probe])
        os.rmdir(probe)
        if not ok:
            return "cannot mount a tmpfs here"
    return None


def main():
    p = argparse.ArgumentParser()
    p.add_argument("bdl")
    p.add_argument("mpiexec", nargs="?", default="")
    p.add_argument("--only", default="")
    p.add_argument("--list", action="store_true")
    a = p.parse_args()
    with open(os.path.join(HERE, "cases.json")) as f:
        cases = [c for c in json.load(f)["cases"] if a.only in c["name"]]
    if a.list:
        for c in cases:
            print(f"{c['class']:10} {c['name']}")
        return 0
    work = tempfile.mkdtemp(prefix="bdl-adversarial-")
    try:
        fixtures = Fixtures(os.path.abspath(a.bdl), work).make()
        failed, skipped, by_class = [], [], {}
        for case in cases:
            why = available(case, a.mpiexec)
            if why:
                skipped.append(f"{case['name']} ({why})")
                continue
            failures, seconds = run_case(case, fixtures, a.mpiexec)
            by_class.setdefault(case["class"], [0, 0])[0 if not failures else 1] += 1
            print(f"{'FAIL' if failures else 'ok  '} {case['class']:10} {case['name']} "
                  f"({seconds:.1f} s)", flush=True)
            for line in failures:
                print("       " + line.replace("\n", "\n       "))
            if failures:
                failed.append(case["name"])
        print("\nby class (passed, failed):",
              ", ".join(f"{k} {v[0]}/{v[1]}" for k, v in sorted(by_class.items())))
        for s in skipped:
            print("skipped:", s)
        print(f"{len(cases) - len(failed) - len(skipped)} passed, {len(failed)} failed, "
              f"{len(skipped)} skipped")
        return 1 if failed else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
