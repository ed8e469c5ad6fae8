#!/usr/bin/env python3
"""A folder of JPEGs at ImageNet-like sizes, for bench/data/decode_bench.py and
the ResNet-18 figure (issue 13): DIR/train/CLASS/NNNNNN.jpg.

Half the images are Fashion-MNIST's (Debian's dataset-fashion-mnist) upscaled
to a short side of 333 to 500 pixels at an aspect ratio from 3:4 to 4:3 and
tinted into colour; half are crops of real photographs (scikit-learn's sample
images from python3-sklearn, and scikit-image's from python3-skimage when
installed) resized to the same range. All are RGB JPEGs of quality 90 (about
ImageNet's mean of 400 x 350 pixels and 110 KB). Made with Pillow.

Usage: make_jpeg_folder.py DIR [--images 2000] [--classes 10] [--seed 1]
"""
import argparse
import glob
import gzip
import os

import numpy as np
from PIL import Image

FASHION = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"
PHOTOS = ["/usr/lib/python3/dist-packages/sklearn/datasets/images/*.jpg",
          "/usr/lib/python3/dist-packages/skimage/data/*.png",
          "/usr/lib/python3/dist-packages/skimage/data/*.jpg"]


def fashion_images():
    with gzip.open(FASHION) as f:
        data = f.read()
    return np.frombuffer(data, np.uint8, offset=16).reshape(-1, 28, 28)


def photos():
    out = []
    for pattern in PHOTOS:
        for path in sorted(glob.glob(pattern)):
            try:
                im = Image.open(path)
                if im.mode not in ("RGB", "L", "RGBA"):
                    continue
                im = im.convert("RGB")
            except OSError as e:  # Debian's skimage ships a few files Pillow refuses
                print(f"left out {path}: {e}")
                continue
            if min(im.size) >= 256:
                out.append(im)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--images", type=int, default=2000)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    fashion = fashion_images()
    pics = photos()
    if not pics:
        raise SystemExit("no sample photographs found (install python3-sklearn)")
    total = 0
    for i in range(a.images):
        short = int(rng.integers(333, 501))
        aspect = float(np.exp(rng.uniform(np.log(3 / 4), np.log(4 / 3))))
        w, h = (int(short * aspect), short) if aspect >= 1 else (short, int(short / aspect))
        if i % 2 == 0:
            g = fashion[int(rng.integers(len(fashion)))].astype(np.float32) / 255
            tint = rng.uniform(0.3, 1.0, size=3)
            rgb = (np.stack([g * t for t in tint], axis=-1) * 255).astype(np.uint8)
            im = Image.fromarray(rgb).resize((w, h), Image.BILINEAR)
        else:
            p = pics[int(rng.integers(len(pics)))]
            cw = int(rng.integers(min(p.size) // 2, p.size[0] + 1))
            ch = int(min(p.size[1], max(min(p.size) // 2, cw * h / w)))
            cw = min(cw, p.size[0])
            x0 = int(rng.integers(0, p.size[0] - cw + 1))
            y0 = int(rng.integers(0, p.size[1] - ch + 1))
            im = p.crop((x0, y0, x0 + cw, y0 + ch)).resize((w, h), Image.BILINEAR)
            if rng.random() < 0.5:
                im = im.transpose(Image.FLIP_LEFT_RIGHT)
        d = os.path.join(a.dir, "train", f"class{i % a.classes:02d}")
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, f"{i:06d}.jpg")
        im.save(path, quality=90)
        total += os.path.getsize(path)
    print(f"wrote {a.images} JPEGs ({total / 1e6:.1f} MB, {total / a.images / 1e3:.0f} KB each) "
          f"to {a.dir}/train from {len(pics)} photographs and Fashion-MNIST")


if __name__ == "__main__":
    main()
