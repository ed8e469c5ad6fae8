#!/usr/bin/python3
"""PyTorch side of the zoo benchmark: torchvision's googlenet (aux_logits=False)
or resnet18 on random data, training (SGD momentum, cross-entropy) or inference
(eval, no_grad), images per second after warm-up iterations. Prints one JSON
object. Run with glibc keeping freed memory and OpenBLAS unpinned, as
bench/compare_zoo.py does.

  pytorch_zoo.py MODEL BATCH IMAGE_SIZE train|infer ITERATIONS THREADS
"""
import json
import sys
import time

import torch
import torch.nn.functional as F
import torchvision.models as tvm

NETS = {
    "inception_v1_bn": lambda: tvm.googlenet(aux_logits=False, init_weights=True),
    "resnet18": lambda: tvm.resnet18(),
    "resnet50": lambda: tvm.resnet50(),
    "vgg16": lambda: tvm.vgg16(),
}


def main():
    name, batch, size, mode, iterations, threads = sys.argv[1:7]
    batch, size, iterations, threads = int(batch), int(size), int(iterations), int(threads)
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    model = NETS[name]()
    x = torch.rand(batch, 3, size, size) * 2 - 1
    y = torch.randint(0, 1000, (batch,))
    train = mode == "train"
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    model.train(train)

    def step():
        if not train:
            with torch.no_grad():
                model(x)
            return
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()

    for _ in range(3):
        step()
    start = time.perf_counter()
    for _ in range(iterations):
        step()
    seconds = time.perf_counter() - start
    print(json.dumps({"framework": "pytorch " + torch.__version__, "model": name, "mode": mode,
                      "batch": batch, "image_size": size, "threads": threads,
                      "iterations": iterations, "images_per_sec": batch * iterations / seconds}))


if __name__ == "__main__":
    main()
