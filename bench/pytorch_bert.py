#!/usr/bin/env python3
"""PyTorch 2.x's side of bench/compare_transformer.py: the network of bdl's
bert_classifier (src/models/bert.cpp; tools/fixtures/gen_bert.py checks the
two compute the same), samples/s in training (SGD with momentum) or inference.

    .venv/bin/python bench/pytorch_bert.py BATCH train|infer ITERATIONS THREADS [eager|compile]

Inference runs under torch.inference_mode in eval mode, where
nn.TransformerEncoderLayer takes PyTorch's fused fast path. Prints one JSON line.
"""
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Bert(nn.Module):
    def __init__(self, vocabulary=1000, length=64, d=64, heads=4, ff=256, layers=2, classes=2):
        super().__init__()
        self.tokens = nn.Embedding(vocabulary, d)
        self.positions = nn.Parameter(torch.randn(length, d) * 0.02)
        self.embedding_norm = nn.LayerNorm(d, eps=1e-12)
        self.dropout = nn.Dropout(0.1)
        layer = nn.TransformerEncoderLayer(d, heads, ff, dropout=0.1, activation="gelu",
                                           layer_norm_eps=1e-12, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.classifier = nn.Linear(d, classes)

    def forward(self, ids):
        h = self.dropout(self.embedding_norm(self.tokens(ids) + self.positions))
        return self.classifier(self.encoder(h).mean(1))


def main():
    batch, mode, iterations, threads = (int(sys.argv[1]), sys.argv[2], int(sys.argv[3]),
                                        int(sys.argv[4]))
    variant = sys.argv[5] if len(sys.argv) > 5 else "eager"
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    model = Bert()
    ids = torch.randint(0, 1000, (batch, 64))
    labels = torch.randint(0, 2, (batch,))
    run = torch.compile(model) if variant == "compile" else model
    if mode == "train":
        model.train()
        # SGD with momentum, as bench/models/zoo_bench.cpp trains bdl.
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

        def step():
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(run(ids), labels).backward()
            opt.step()
    else:
        model.eval()

        def step():
            with torch.inference_mode():
                run(ids)
    for _ in range(3):
        step()
    start = time.perf_counter()
    for _ in range(iterations):
        step()
    seconds = time.perf_counter() - start
    print(json.dumps({"framework": "pytorch", "variant": variant, "torch": torch.__version__,
                      "mode": mode, "batch": batch, "threads": threads,
                      "samples_per_sec": batch * iterations / seconds}))


if __name__ == "__main__":
    main()
