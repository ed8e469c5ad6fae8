#!/usr/bin/env python3
"""Current PyTorch as the client: every classification model of the installed
torchvision, a transformer encoder and other real networks, exported by
PyTorch 2.x's TorchScript-based exporter at opsets 13 and 17 and by its
dynamo-based exporter at its default opset, imported and run by `bdl predict`,
and compared with PyTorch at batch 1 and batch 3.

    .venv/bin/python tools/onnx/check_pytorch_exports.py BDL [--set fast|all]
        [--models NAME ...] [--exporters ts13 ts17 dynamo] [--json FILE] [--work DIR]

Weights are PyTorch's seeded random initialisation (no downloads), with the
BatchNorm statistics and affine parameters drawn away from 0 and 1 so that
every layer matters. A model passes when, at both batch sizes, bdl's largest
absolute difference from PyTorch is at most 1e-4 of the largest absolute PyTorch
output. Every export is made with a dynamic batch dimension, as for serving.

Outcomes per model and exporter: pass; mismatch (the error); refused (bdl's
message naming the operator or attribute); export-failed (PyTorch's exporter
failed, so there is nothing to import); unfused (right, but the attention,
LayerNorm or GELU that EXPECTED_FUSED names was not mapped onto native layers). `--set fast` (the CTest entry) runs
the small models; `--set all` every model (the "slow" label). Exit 1 when any
case is a mismatch, unfused or an unexpected refusal, 77 when PyTorch 2 is missing.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings

try:
    import numpy as np
    import torch
    import torch.nn as nn
    import torchvision
except ImportError as e:  # the CTest entry counts exit 77 as skipped
    print("check_pytorch_exports: skipped,", e)
    sys.exit(77)
# The LSTM-GRU classifier of the Debian-torch check, shared.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_torchvision import Recurrent  # noqa: E402

if int(torch.__version__.split(".")[0]) < 2:
    print("check_pytorch_exports: skipped, PyTorch", torch.__version__, "is not 2.x")
    sys.exit(77)

TOLERANCE = 1e-4
EXPORTERS = ("ts13", "ts17", "dynamo")
# The fast set: one or two of each family that stays small on two cores.
FAST = ("resnet18", "mobilenet_v3_small", "shufflenet_v2_x0_5", "squeezenet1_1",
        "efficientnet_b0", "convnext_tiny", "swin_t", "vit_b_32", "transformer_encoder",
        "bert_tiny", "bert_hf", "gpt_tiny", "mha_causal", "lstm_gru", "unet_small",
        "conv1d_audio")
# Refusals the README states, by model and exporter ("*": every exporter):
# what bdl lacks, named. Anything else refused fails the check.
EXPECTED_REFUSALS = {}
# What the importer must map onto native layers (bdl info's "fused to native
# layers"), by model and exporter: each entry must appear. Attention with a
# padding mask from the ids (bert_hf) or a relative position bias (Swin) keeps
# its projections and stays ScaledDotProductAttention; whole blocks become
# MultiHeadAttention.
EXPECTED_FUSED = {
    ("transformer_encoder", "ts17"): ["2 MultiHeadAttention"],
    ("transformer_encoder", "dynamo"): ["2 MultiHeadAttention"],
    ("bert_tiny", "ts17"): ["2 Gelu", "2 MultiHeadAttention"],
    ("bert_tiny", "dynamo"): ["2 MultiHeadAttention"],
    ("mha_causal", "ts17"): ["1 MultiHeadAttention"],
    ("mha_causal", "dynamo"): ["1 MultiHeadAttention"],
    ("bert_hf", "ts13"): ["2 Gelu", "5 LayerNormalization", "2 ScaledDotProductAttention"],
    ("bert_hf", "ts17"): ["2 Gelu", "2 ScaledDotProductAttention"],
    ("bert_hf", "dynamo"): ["2 ScaledDotProductAttention"],
    ("gpt_tiny", "ts13"): ["2 Gelu", "5 LayerNormalization", "2 MultiHeadAttention"],
    ("gpt_tiny", "ts17"): ["2 Gelu", "2 MultiHeadAttention"],
    ("gpt_tiny", "dynamo"): ["2 MultiHeadAttention"],
    ("vit_b_32", "ts17"): ["12 Gelu", "12 MultiHeadAttention"],
    ("vit_b_32", "dynamo"): ["12 MultiHeadAttention"],
    ("swin_t", "ts13"): ["12 Gelu", "29 LayerNormalization", "7 ScaledDotProductAttention"],
    ("swin_t", "ts17"): ["7 ScaledDotProductAttention"],
    ("swin_t", "dynamo"): ["7 ScaledDotProductAttention"],
}


def lenet_like_unet():
    class UNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.down1 = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
            self.down2 = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1), nn.ReLU())
            self.up = nn.ConvTranspose2d(16, 8, 2, stride=2)
            self.fuse = nn.Conv2d(16, 8, 3, padding=1)
            self.head = nn.Conv2d(8, 2, 1)

        def forward(self, x):
            a = self.down1(x)
            b = self.down2(a)
            u = self.up(b)
            y = self.fuse(torch.cat([a, u], 1))
            y = y + nn.functional.interpolate(u, scale_factor=1.0, mode="bilinear")
            return self.head(torch.relu(y))

    return UNet()


class CausalAttention(nn.Module):
    """Self-attention with a causal mask (nn.MultiheadAttention's packed input
    projection, split in three chunks), a residual and a LayerNorm."""

    def __init__(self, d=32, heads=4, length=6):
        super().__init__()
        self.attn = nn.MultiheadAttention(d, heads, batch_first=True)
        self.norm = nn.LayerNorm(d)
        self.register_buffer("mask", torch.triu(torch.full((length, length), float("-inf")), 1))

    def forward(self, x):
        y, _ = self.attn(x, x, x, attn_mask=self.mask, need_weights=False)
        return self.norm(x + y)


class BertTiny(nn.Module):
    """A BERT-style classifier: token and position embeddings, two post-norm
    encoder layers with GELU, mean pooling, a linear head. Input: int64 ids."""

    def __init__(self, vocab=100, d=32, length=12, classes=3):
        super().__init__()
        self.tokens = nn.Embedding(vocab, d)
        self.positions = nn.Parameter(torch.randn(1, length, d) * 0.1)
        layer = nn.TransformerEncoderLayer(d, 4, 64, dropout=0.0, activation="gelu",
                                           batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.head = nn.Linear(d, classes)

    def forward(self, ids):
        h = self.encoder(self.tokens(ids) + self.positions)
        return self.head(h.mean(1))


class HandWrittenAttention(nn.Module):
    """Self-attention as HuggingFace's BERT and GPT-2 write it: separate query,
    key and value projections, heads by view and transpose, a product divided
    by sqrt(head size), an additive mask, softmax, and the heads joined again."""

    def __init__(self, d, heads):
        super().__init__()
        self.heads, self.size = heads, d // heads
        self.query, self.key, self.value = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
        self.out = nn.Linear(d, d)

    def split(self, x):
        n, length, _ = x.shape
        return x.view(n, length, self.heads, self.size).transpose(1, 2)

    def forward(self, x, mask):
        q, k, v = self.split(self.query(x)), self.split(self.key(x)), self.split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / (self.size ** 0.5) + mask
        context = torch.matmul(torch.softmax(scores, dim=-1), v)
        n, _, length, _ = context.shape
        return self.out(context.transpose(1, 2).reshape(n, length, -1))


class BertHF(nn.Module):
    """A BERT in HuggingFace's style, which the TorchScript exporter writes at
    opset 13 too: hand-written attention with a padding mask from the ids (id 0
    is padding, -10000 added to its scores), erf GELU and LayerNorm, which
    opset 13 decomposes. Input: int64 ids."""

    def __init__(self, vocab=50, d=32, heads=4, length=10, classes=3, layers=2):
        super().__init__()
        self.tokens = nn.Embedding(vocab, d)
        self.positions = nn.Parameter(torch.randn(1, length, d) * 0.1)
        self.norm = nn.LayerNorm(d, eps=1e-12)
        self.attention = nn.ModuleList(HandWrittenAttention(d, heads) for _ in range(layers))
        self.norm1 = nn.ModuleList(nn.LayerNorm(d, eps=1e-12) for _ in range(layers))
        self.up = nn.ModuleList(nn.Linear(d, 2 * d) for _ in range(layers))
        self.down = nn.ModuleList(nn.Linear(2 * d, d) for _ in range(layers))
        self.norm2 = nn.ModuleList(nn.LayerNorm(d, eps=1e-12) for _ in range(layers))
        self.head = nn.Linear(d, classes)

    def forward(self, ids):
        mask = (ids == 0).float()[:, None, None, :] * -10000.0
        h = self.norm(self.tokens(ids) + self.positions)
        for a, n1, up, down, n2 in zip(self.attention, self.norm1, self.up, self.down, self.norm2):
            h = n1(h + a(h, mask))
            h = n2(h + down(nn.functional.gelu(up(h))))
        return self.head(h[:, 0])


class GPTTiny(nn.Module):
    """A GPT-2-style decoder block stack: pre-norm, causal attention by a
    constant additive mask (0 and -inf), tanh-approximate GELU, logits of the
    last position. Input: int64 ids."""

    def __init__(self, vocab=60, d=32, heads=4, length=8, layers=2):
        super().__init__()
        self.tokens = nn.Embedding(vocab, d)
        self.positions = nn.Parameter(torch.randn(1, length, d) * 0.1)
        self.register_buffer("causal", torch.triu(torch.full((length, length), float("-inf")), 1))
        self.blocks = nn.ModuleList(nn.ModuleDict({
            "ln1": nn.LayerNorm(d), "attn": HandWrittenAttention(d, heads), "ln2": nn.LayerNorm(d),
            "fc": nn.Linear(d, 4 * d), "proj": nn.Linear(4 * d, d)}) for _ in range(layers))
        self.ln = nn.LayerNorm(d)
        self.lm_head = nn.Linear(d, vocab, bias=False)

    def forward(self, ids):
        h = self.tokens(ids) + self.positions
        for b in self.blocks:
            h = h + b["attn"](b["ln1"](h), self.causal)
            h = h + b["proj"](nn.functional.gelu(b["fc"](b["ln2"](h)), approximate="tanh"))
        return self.lm_head(self.ln(h))[:, -1]


def conv1d_audio():
    return nn.Sequential(
        nn.Conv1d(1, 8, 9, stride=2, padding=4), nn.BatchNorm1d(8), nn.GELU(),
        nn.Conv1d(8, 16, 5, stride=2, padding=2, groups=2), nn.ReLU(),
        nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(16, 4))


def extra_models():
    """name -> (constructor, input shape, integer vocabulary or 0)."""
    encoder_layer = lambda: nn.TransformerEncoderLayer(  # noqa: E731
        64, 4, 128, dropout=0.0, batch_first=True)
    return {
        "transformer_encoder": (lambda: nn.TransformerEncoder(encoder_layer(), 2,
                                                              enable_nested_tensor=False),
                                (10, 64), 0),
        "mha_causal": (CausalAttention, (6, 32), 0),
        "bert_tiny": (BertTiny, (12,), 100),
        "bert_hf": (BertHF, (10,), 50),
        "gpt_tiny": (GPTTiny, (8,), 60),
        "lstm_gru": (Recurrent, (7, 8), 0),
        "unet_small": (lenet_like_unet, (3, 32, 32), 0),
        "conv1d_audio": (conv1d_audio, (1, 400), 0),
    }


def make_model(name):
    extras = extra_models()
    if name in extras:
        ctor, shape, vocab = extras[name]
        return ctor(), shape, vocab
    kwargs = {"weights": None}
    if name in ("googlenet", "inception_v3"):
        kwargs.update(aux_logits=False, init_weights=True)
    size = 299 if name == "inception_v3" else 224
    return torchvision.models.get_model(name, **kwargs), (3, size, size), 0


def randomise(model, gen):
    # Zero-initialised weights (ViT's head, some residual branches) would hide
    # everything before them: drawn small and random instead.
    for p in model.parameters():
        if p.dim() >= 2 and not p.detach().abs().sum():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.02)
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            c = m.num_features
            m.running_mean.copy_(torch.randn(c, generator=gen) * 0.1)
            m.running_var.copy_(torch.rand(c, generator=gen) + 0.5)
            if m.affine:
                m.weight.data.copy_(torch.rand(c, generator=gen) + 0.5)
                m.bias.data.copy_(torch.randn(c, generator=gen) * 0.1)


def export(model, x, path, exporter):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if exporter == "dynamo":
            batch = torch.export.Dim("batch", min=1, max=1024)
            program = torch.onnx.export(model, (x,), dynamo=True,
                                        dynamic_shapes=({0: batch},), verbose=False)
            # Weights beside the model when it is over protobuf's 2 GiB (bdl reads both).
            program.save(path, external_data=sum(p.numel() for p in model.parameters()) > 4e8)
        else:
            torch.onnx.export(model, (x,), path, dynamo=False, opset_version=int(exporter[2:]),
                              input_names=["input"], output_names=["output"],
                              dynamic_axes={"input": {0: "N"}, "output": {0: "N"}})


def run_bdl(bdl, path, x, work):
    inp = os.path.join(work, "input.npy")
    out = os.path.join(work, "output.npy")
    np.save(inp, x.numpy())
    r = subprocess.run([bdl, "predict", "--model", path, "--input", inp, "--output", out],
                       capture_output=True, text=True)
    if r.returncode != 0:
        return None, (r.stderr.strip().splitlines() or ["exit %d" % r.returncode])[-1]
    return np.load(out), None


def fused_layers(bdl, path):
    """The exporter's arithmetic bdl mapped onto native layers, as `bdl info`
    reports it ("2 Gelu, 2 ScaledDotProductAttention"); "" for none."""
    r = subprocess.run([bdl, "info", "--model", path], capture_output=True, text=True)
    for line in r.stdout.splitlines():
        if "fused to native layers: " in line:
            return line.split("fused to native layers: ")[1].split(", input")[0]
    return ""


def check(bdl, name, exporters, work, gen):
    model, shape, vocab = make_model(name)
    model.eval()
    with torch.no_grad():
        randomise(model, gen)
    if vocab:
        inputs = {b: torch.randint(0, vocab, (b,) + shape, generator=gen) for b in (1, 3)}
    else:
        inputs = {b: torch.randn((b,) + shape, generator=gen) for b in (1, 3)}
    with torch.no_grad():
        want = {b: model(x).numpy() for b, x in inputs.items()}
    results = []
    for exporter in exporters:
        path = os.path.join(work, f"{name}_{exporter}.onnx")
        started = time.time()
        record = {"model": name, "exporter": exporter}
        try:
            # The dynamo exporter specialises a batch of 1; it traces batch 3.
            export(model, inputs[3] if exporter == "dynamo" else inputs[1], path, exporter)
        except Exception as e:  # noqa: BLE001 - PyTorch's exporter failing is an outcome
            record.update(outcome="export-failed", detail=str(e).strip().splitlines()[0][:300])
            results.append(record)
            continue
        worst = 0.0
        for b, x in inputs.items():
            got, error = run_bdl(bdl, path, x, work)
            if error is not None:
                record.update(outcome="refused", detail=error[:400])
                break
            if got.shape != want[b].shape:
                record.update(outcome="mismatch",
                              detail=f"batch {b}: shape {got.shape}, PyTorch {want[b].shape}")
                break
            scale = float(np.abs(want[b]).max()) or 1.0
            worst = max(worst, float(np.abs(got - want[b]).max()) / scale)
        else:
            record.update(outcome="pass" if worst <= TOLERANCE else "mismatch",
                          relative_error=worst)
            record["fused"] = fused_layers(bdl, path)
            missing = [f for f in EXPECTED_FUSED.get((name, exporter), [])
                       if f not in record["fused"].split(", ")]
            if record["outcome"] == "pass" and missing:
                record.update(outcome="unfused", detail=f"fused {record['fused'] or 'nothing'}; "
                              f"expected {', '.join(missing)}")
        record["seconds"] = round(time.time() - started, 1)
        try:
            import onnx
            record["opset"] = next(o.version for o in onnx.load(path, load_external_data=False)
                                   .opset_import if o.domain in ("", "ai.onnx"))
        except Exception:  # noqa: BLE001
            pass
        for f in os.listdir(work):  # the model and any external data beside it
            if f.startswith(f"{name}_{exporter}") or f.endswith(".data"):
                os.remove(os.path.join(work, f))
        results.append(record)
    return results


def main():
    p = argparse.ArgumentParser()
    p.add_argument("bdl")
    p.add_argument("--set", choices=("fast", "all"), default="fast")
    p.add_argument("--models", nargs="*")
    p.add_argument("--exporters", nargs="*", default=list(EXPORTERS))
    p.add_argument("--json")
    p.add_argument("--work")
    args = p.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(2)
    names = args.models or (list(FAST) if args.set == "fast" else
                            torchvision.models.list_models(module=torchvision.models)
                            + list(extra_models()))
    work = args.work or tempfile.mkdtemp(prefix="bdl_pytorch_exports_")
    os.makedirs(work, exist_ok=True)
    print(f"PyTorch {torch.__version__}, torchvision {torchvision.__version__}; "
          f"{len(names)} models x {len(args.exporters)} exporters", flush=True)
    all_results = []
    failed = False
    for name in names:
        gen = torch.Generator().manual_seed(1)
        for r in check(args.bdl, name, args.exporters, work, gen):
            all_results.append(r)
            expected = EXPECTED_REFUSALS.get((r["model"], r["exporter"])) or \
                EXPECTED_REFUSALS.get((r["model"], "*"))
            bad = r["outcome"] in ("mismatch", "unfused") or (
                r["outcome"] == "refused" and not (expected and expected in r["detail"]))
            failed |= bad
            err = f"{r['relative_error']:.1e}" if "relative_error" in r else ""
            print(f"{r['model']:22} {r['exporter']:7} {str(r.get('opset', '')):>3} "
                  f"{r['outcome']:14} {err:8} {r.get('seconds', '')!s:>6}  "
                  f"{r.get('detail', r.get('fused', ''))}" + ("   <-- FAIL" if bad else ""),
                  flush=True)
            if args.json:
                with open(args.json, "w") as f:
                    json.dump({"torch": torch.__version__, "torchvision": torchvision.__version__,
                               "tolerance": TOLERANCE, "results": all_results}, f, indent=1)
    counts = {}
    for r in all_results:
        counts[r["outcome"]] = counts.get(r["outcome"], 0) + 1
    print("check_pytorch_exports:", "FAIL" if failed else "PASS", counts)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
