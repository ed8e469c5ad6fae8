#!/usr/bin/python3
"""Real networks through ONNX: exports torchvision's googlenet and resnet18, a
LeNet-5 and an LSTM-GRU classifier from PyTorch (Debian's python3-torch and python3-torchvision), runs each
with `bdl predict` on fixed inputs, and compares with PyTorch's outputs.

    /usr/bin/python3 tools/onnx/check_torchvision.py BDL [WORKDIR]

Weights are PyTorch's seeded random initialisation (no downloads), with
BatchNorm's running statistics and affine parameters drawn away from 0 and 1 so
that every layer matters. Passes when, for every model, the largest absolute
difference is at most 1e-4 of the largest absolute PyTorch output (the error
relative to the output's scale; element-wise ratios are meaningless at outputs
near 0). Prints the figures; exit 1 on a mismatch, 77 when torch is missing.
"""
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import torch
    import torch.nn as nn
    import torchvision
except ImportError as e:  # the CTest entry counts exit 77 as skipped
    print("check_torchvision: skipped,", e)
    sys.exit(77)

TOLERANCE = 1e-4
# Opsets PyTorch exports to: the oldest bdl's issue names, the default, the newest.
OPSETS = (7, 13, 17)


def lenet5():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


class Recurrent(nn.Module):
    """An LSTM and a GRU (exported as ONNX LSTM and GRU) and a classifier on the
    GRU's last hidden state."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(8, 16, batch_first=True)
        self.gru = nn.GRU(16, 12, batch_first=True)
        self.fc = nn.Linear(12, 5)

    def forward(self, x):
        y, _ = self.lstm(x)
        _, h = self.gru(y)
        return self.fc(h[-1])


def randomise_batchnorm(model, gen):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            m.running_mean.copy_(torch.randn(c, generator=gen) * 0.1)
            m.running_var.copy_(torch.rand(c, generator=gen) + 0.5)
            m.weight.data.copy_(torch.rand(c, generator=gen) + 0.5)
            m.bias.data.copy_(torch.randn(c, generator=gen) * 0.1)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    bdl = sys.argv[1]
    work = sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp(prefix="bdl_torchvision_")
    os.makedirs(work, exist_ok=True)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    cases = [
        ("lenet5", lenet5(), (4, 1, 28, 28)),
        ("lstm_gru", Recurrent(), (3, 7, 8)),
        ("resnet18", torchvision.models.resnet18(weights=None), (2, 3, 224, 224)),
        ("googlenet", torchvision.models.googlenet(weights=None, aux_logits=False,
                                                   init_weights=True), (2, 3, 224, 224)),
    ]
    failed = False
    print(f"{'model':10} {'opset':>5} {'max |bdl - torch|':>18} {'max |torch|':>12} {'relative':>10} "
          f"{'element-wise':>13}")
    for (name, model, shape), opset in [(c, o) for c in cases for o in OPSETS]:
        model.eval()
        randomise_batchnorm(model, gen)
        x = torch.randn(shape, generator=gen)
        with torch.no_grad():
            want = model(x).numpy()
        path = os.path.join(work, f"{name}_opset{opset}.onnx")
        torch.onnx.export(model, x, path, opset_version=opset, input_names=["input"],
                          output_names=["output"], dynamic_axes={"input": {0: "N"}})
        np.save(os.path.join(work, name + "_input.npy"), x.numpy())
        out = os.path.join(work, name + "_bdl.npy")
        subprocess.run([bdl, "predict", "--model", path, "--input",
                        os.path.join(work, name + "_input.npy"), "--output", out], check=True,
                       stdout=subprocess.DEVNULL)
        got = np.load(out)
        if got.shape != want.shape:
            print(f"{name}: bdl's output has shape {got.shape}, PyTorch's {want.shape}")
            failed = True
            continue
        diff = float(np.abs(got - want).max())
        scale = float(np.abs(want).max())
        rel = diff / scale
        # Element-wise relative error over the outputs at least 1% of the scale.
        big = np.abs(want) >= 0.01 * scale
        elementwise = float((np.abs(got - want)[big] / np.abs(want)[big]).max())
        print(f"{name:10} {opset:>5} {diff:18.3e} {scale:12.4f} {rel:10.2e} {elementwise:13.2e}")
        failed |= not rel <= TOLERANCE
    print("check_torchvision:", "FAIL" if failed else "PASS", f"(tolerance {TOLERANCE:g})")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
