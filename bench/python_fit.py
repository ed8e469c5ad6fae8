"""LeNet-5 on Fashion-MNIST through the Python package, the recipe of
`bdl train --model lenet5 --data fashion-mnist`: the zoo's LeNet-5, images
normalised with Fashion-MNIST's mean and deviation, SGD with momentum, batch
128. Prints the job's report as one JSON line. Run by bench/compare_python.py."""
import argparse
import io
import json
import sys

import numpy as np

import bdl

p = argparse.ArgumentParser()
p.add_argument("--epochs", type=int, default=2)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--seed", type=int, default=1)
p.add_argument("--verbose", type=int, default=0)
args = p.parse_args()

(x, y), (xt, yt) = bdl.datasets.fashion_mnist()
mean, std = 0.2860, 0.3530
x = ((x[:, None] / 255.0 - mean) / std).astype(np.float32)
xt = ((xt[:, None] / 255.0 - mean) / std).astype(np.float32)
model = bdl.zoo("lenet5")
model.compile(optimizer=bdl.optimizers.SGD(0.05, momentum=0.9), loss="cross_entropy",
              metrics=["accuracy"])
sink = io.StringIO()  # the progress bar is drawn (its cost counted) but not shown
stdout, sys.stdout = sys.stdout, sink
h = model.fit(x, y, batch_size=128, epochs=args.epochs, validation_data=(xt, yt),
              verbose=args.verbose, seed=args.seed, threads=args.threads)
sys.stdout = stdout
print(json.dumps(h.report))
