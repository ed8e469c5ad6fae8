"""Makes an ONNX model the way a PyTorch user does: a small CNN for 28x28
grayscale images, exported with torch.onnx.export. fine_tune_onnx.py imports
it into bdl. Needs PyTorch (Debian's python3-torch is enough):

    /usr/bin/python3 examples/python/export_from_pytorch.py cnn.onnx
"""
import sys

import torch
from torch import nn

torch.manual_seed(0)
model = nn.Sequential(
    nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(32 * 7 * 7, 64), nn.ReLU(), nn.Linear(64, 10))
model.eval()
path = sys.argv[1] if len(sys.argv) > 1 else "cnn.onnx"
torch.onnx.export(model, torch.zeros(1, 1, 28, 28), path, input_names=["image"],
                  output_names=["logits"], dynamic_axes={"image": {0: "N"}, "logits": {0: "N"}},
                  opset_version=13)
print(f"wrote {path} (PyTorch {torch.__version__})")
