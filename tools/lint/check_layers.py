#!/usr/bin/env python3
"""Checks that every part of bdl includes only the parts below it.

The parts form a DAG (docs/architecture.md); each may include the public
headers (include/bdl/<part>/) of the parts it depends on, directly or through
others, and only its own private headers (src/<part>/). Run from anywhere;
exits 1 naming every include that breaks the layering.
"""
import os
import re
import sys

# Each part and the parts it depends on directly.
DEPENDS = {
    "core": [],
    "kernels": ["core"],
    "nn": ["kernels"],
    "data": ["core"],
    "optim": ["nn", "data"],
    "dist": ["optim"],
    "io": ["optim"],
    "onnx": ["nn"],
    "keras": ["nn"],
    "models": ["nn"],
    "job": ["dist", "io", "onnx", "keras", "models"],
    "cli": ["job"],
    "python": ["job"],  # the extension module bdl._core, in python/src
}


def folders(root, part):
    """Where a part's sources are: include/bdl/PART and src/PART, or python/src."""
    if part == "python":
        return [os.path.join(root, "python", "src")]
    return [os.path.join(root, base, part) for base in ("include/bdl", "src")]


def below(part):
    """Every part `part` may include, itself included."""
    seen, todo = {part}, list(DEPENDS[part])
    while todo:
        p = todo.pop()
        if p not in seen:
            seen.add(p)
            todo.extend(DEPENDS[p])
    return seen


INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def problems(root):
    out = []
    for part in DEPENDS:
        for folder in folders(root, part):
            for dirpath, _, files in os.walk(folder):
                for name in files:
                    if not name.endswith((".h", ".cpp")):
                        continue
                    path = os.path.join(dirpath, name)
                    allowed = below(part)
                    with open(path, encoding="utf-8") as f:
                        for number, line in enumerate(f, 1):
                            m = INCLUDE.match(line)
                            if not m:
                                continue
                            target = m.group(1)
                            where = f"{os.path.relpath(path, root)}:{number}"
                            public = re.match(r"bdl/([a-z_]+)/", target)
                            private = re.match(r"([a-z_]+)/", target)
                            if public and public.group(1) not in allowed:
                                out.append(f"{where}: {part} includes {target}, but {part} does "
                                           f"not depend on {public.group(1)}")
                            elif not public and private and private.group(1) != part:
                                if target.startswith(f"src/{part}/") and target.endswith(".pb.h"):
                                    continue  # protoc's output for this part, in the build tree
                                out.append(f"{where}: {part} includes {target}, a private header "
                                           f"of {private.group(1)}")
    return out


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
    found = problems(os.path.abspath(root))
    for p in found:
        print(p)
    if found:
        sys.exit(1)
    print(f"layering: every include of {len(DEPENDS)} parts follows the DAG")


if __name__ == "__main__":
    main()
