"""Training from a folder of images: Fashion-MNIST written as PNG (training) and
JPEG (test) files in one sub-folder per class, then LeNet-5 trained on them as
the C++ core decodes, flips and normalises them on background threads.

    python examples/python/image_folder.py [--dir photos] [--samples 60000] [--epochs 3]
"""
import argparse
import os

import bdl

parser = argparse.ArgumentParser()
parser.add_argument("--dir", default="photos")
parser.add_argument("--samples", type=int, default=60000)
parser.add_argument("--epochs", type=int, default=3)
args = parser.parse_args()

names = ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag",
         "boot"]
if not os.path.isdir(os.path.join(args.dir, "train")):
    (x, y), (xt, yt) = bdl.datasets.fashion_mnist()
    n = args.samples
    bdl.datasets.write_image_folder(os.path.join(args.dir, "train"), x[:n], y[:n], classes=names,
                                    threads=2)
    bdl.datasets.write_image_folder(os.path.join(args.dir, "test"), xt[:n // 6], yt[:n // 6],
                                    classes=names, format="jpeg", quality=92, threads=2)

model = bdl.zoo("lenet5")
model.compile(optimizer=bdl.optimizers.SGD(0.05, momentum=0.9), loss="cross_entropy",
              metrics=["accuracy"])
history = model.fit(bdl.datasets.Source(args.dir, augment="flip", decode_threads=2),
                    batch_size=128, epochs=args.epochs)
print(f"test accuracy {history.history['val_accuracy'][-1]:.4f} "
      f"({history.report['test_samples']} JPEG test images, "
      f"{history.report['skipped_records']} skipped)")
