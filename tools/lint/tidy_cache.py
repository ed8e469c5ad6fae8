#!/usr/bin/env python3
"""clang-tidy's clean results, kept between runs on one machine.

What clang-tidy says about a file depends only on the file's preprocessed text
(every header it includes, with the build's flags), the checks in .clang-tidy,
the extra arguments and clang-tidy's version. A file found clean is recorded
under the hash of those; a later run checks only files whose hash is not
recorded, so that an unchanged tree lints in seconds and a one-file change
costs one file (or the files that include a changed header).

  tidy_cache.py pending BUILD_DIR CACHE_DIR SALT_TEXT FILE...   prints the files to check
  tidy_cache.py record  BUILD_DIR CACHE_DIR SALT_TEXT FILE...   marks those files clean

Preprocessing uses each file's own compile command from
BUILD_DIR/compile_commands.json with -E -C in place of -c (comments and line
markers kept, the checkout's and the build's paths cut out); a file that is not
in the compile commands, or fails to preprocess, is always checked.
"""
import hashlib
import json
import os
import shlex
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor


def commands(build):
    with open(os.path.join(build, "compile_commands.json")) as f:
        entries = json.load(f)
    return {os.path.realpath(os.path.join(e["directory"], e["file"])): e for e in entries}


def preprocess_args(entry):
    args = entry["arguments"] if "arguments" in entry else shlex.split(entry["command"])
    out, skip = [], False
    for a in args:
        if skip:
            skip = False
        elif a == "-o":
            skip = True
        elif a != "-c":
            out.append(a)
    # Comments kept (NOLINT is one) and line markers kept (findings and the
    # function-size check depend on lines); the checkout's path is cut out of
    # the markers below, so that another clone of the same tree hits the cache.
    return out + ["-E", "-C", "-o", "-"]


ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", "..")).encode()


def key(entry, salt, build):
    if entry is None:
        return None
    run = subprocess.run(preprocess_args(entry), cwd=entry["directory"], capture_output=True)
    if run.returncode != 0:
        return None
    h = hashlib.sha256(salt.encode())
    h.update(run.stdout.replace(os.path.realpath(build).encode(), b"<build>").replace(ROOT, b"<root>"))
    return h.hexdigest()


def main():
    if len(sys.argv) < 5 or sys.argv[1] not in ("pending", "record"):
        sys.exit(__doc__)
    mode, build, cache, salt, files = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
    os.makedirs(cache, exist_ok=True)
    table = commands(build)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        keys = list(pool.map(lambda f: key(table.get(os.path.realpath(f)), salt, build), files))
    for f, k in zip(files, keys):
        marker = os.path.join(cache, k) if k else None
        if mode == "pending" and not (marker and os.path.exists(marker)):
            print(f)
        elif mode == "record" and marker:
            with open(marker, "w") as out:
                out.write(f + "\n")


if __name__ == "__main__":
    main()
