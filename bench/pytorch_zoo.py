#!/usr/bin/python3
"""PyTorch side of the zoo benchmark: torchvision's googlenet (aux_logits=False),
resnet18, resnet50 or vgg16, or the twin of bdl's LSTM classifier, on random
data, training (SGD momentum, cross-entropy) or inference (eval, no_grad),
images per second after warm-up iterations, and the process's peak resident
memory. Prints one JSON object. Run with glibc keeping freed memory and
OpenBLAS unpinned, as bench/compare_zoo.py does. channels_last puts the image
models' weights and inputs in NHWC (torch.channels_last).

  pytorch_zoo.py MODEL BATCH IMAGE_SIZE train|infer ITERATIONS THREADS [channels_last]
"""
import json
import resource
import sys
import time

import torch
import torch.nn.functional as F
import torchvision.models as tvm

class LSTMClassifier(torch.nn.Module):
    """bdl's lstm_classifier: Embedding(1000, 64), LSTM(64 -> 128), Linear(128, 2)
    on the last hidden state."""

    def __init__(self):
        super().__init__()
        self.embedding = torch.nn.Embedding(1000, 64)
        self.lstm = torch.nn.LSTM(64, 128, batch_first=True)
        self.fc = torch.nn.Linear(128, 2)

    def forward(self, ids):
        out, _ = self.lstm(self.embedding(ids))
        return self.fc(out[:, -1])


# Text models: their sequence length, vocabulary and classes.
TEXT = {"lstm_classifier": (50, 1000, 2)}

NETS = {
    "lstm_classifier": LSTMClassifier,
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
    if name in TEXT:
        length, vocabulary, classes = TEXT[name]
        x = torch.randint(0, vocabulary, (batch, length))
    else:
        x = torch.rand(batch, 3, size, size) * 2 - 1
        classes = 1000
    y = torch.randint(0, classes, (batch,))
    channels_last = len(sys.argv) > 7 and sys.argv[7] == "channels_last"
    if channels_last and name not in TEXT:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
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
                      "channels_last": channels_last,
                      "batch": batch, "image_size": size, "threads": threads,
                      "iterations": iterations, "images_per_sec": batch * iterations / seconds,
                      "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    main()
