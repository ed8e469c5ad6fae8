#!/usr/bin/env python3
"""The README's table of PyTorch 2 exports by family, from the JSON files that
tools/onnx/check_pytorch_exports.py writes (later files override earlier ones
for the same model and exporter).

    python3 tools/onnx/export_table.py RESULTS.json [MORE.json ...] [--merged OUT.json]
"""
import json
import re
import sys

EXPORTERS = ("ts13", "ts17", "dynamo")


def family(model):
    for prefix in ("efficientnet_v2", "mobilenet_v2", "mobilenet_v3", "swin_v2", "wide_resnet",
                   "resnext", "shufflenet", "squeezenet", "regnet", "convnext", "densenet",
                   "efficientnet", "inception", "googlenet", "mnasnet", "maxvit", "alexnet",
                   "resnet", "swin", "vgg", "vit"):
        if model.startswith(prefix):
            return prefix
    return "other networks: " + model


def main():
    args = sys.argv[1:]
    out = None
    if "--merged" in args:
        i = args.index("--merged")
        out = args[i + 1]
        del args[i:i + 2]
    merged, meta = {}, {}
    for path in args:
        data = json.load(open(path))
        meta = {k: v for k, v in data.items() if k != "results"}
        for r in data["results"]:
            merged[(r["model"], r["exporter"])] = r
    rows = {}
    for (model, exporter), r in merged.items():
        rows.setdefault(family(model), {}).setdefault(model, {})[exporter] = r
    print("| family | models | TorchScript, opset 13 | TorchScript, opset 17 | dynamo, opset 20 "
          "| largest error |")
    print("|---|---|---|---|---|---|")
    totals = {e: {} for e in EXPORTERS}
    for fam in sorted(rows, key=lambda f: (f.startswith("other"), f)):
        models = rows[fam]
        cells, worst = [], 0.0
        for e in EXPORTERS:
            counts = {}
            for m in models.values():
                r = m.get(e)
                if r is None:
                    continue
                counts[r["outcome"]] = counts.get(r["outcome"], 0) + 1
                totals[e][r["outcome"]] = totals[e].get(r["outcome"], 0) + 1
                worst = max(worst, r.get("relative_error", 0.0))
            cells.append(", ".join(f"{n} {o}" for o, n in sorted(counts.items())))
        name = re.sub("^other networks: ", "", fam)
        print(f"| {name} | {len(models)} | " + " | ".join(cells) + f" | {worst:.1e} |")
    print()
    for e in EXPORTERS:
        print(e, totals[e])
    if out:
        with open(out, "w") as f:
            json.dump(dict(meta, results=sorted(merged.values(), key=lambda r: (r["model"],
                                                                                r["exporter"]))),
                      f, indent=1)


if __name__ == "__main__":
    main()
