#!/usr/bin/python3
"""PyTorch side of the zoo benchmark: torchvision's googlenet (aux_logits=False),
resnet18, resnet50 or vgg16, or the twin of bdl's LSTM classifier, on random
data, training (SGD momentum, cross-entropy) or inference (eval, no_grad),
images per second after warm-up iterations, and the process's peak resident
memory. Prints one JSON object. Run with glibc keeping freed memory and
OpenBLAS unpinned, as bench/compare_zoo.py does. channels_last puts the image
models' weights and inputs in NHWC (torch.channels_last).

  pytorch_zoo.py MODEL BATCH IMAGE_SIZE train|infer ITERATIONS THREADS [channels_last]
  pytorch_zoo.py MODEL BATCH IMAGE_SIZE export 0 THREADS FILE.onnx

MODEL also names the twins of bdl's lenet5 and mlp (1x28x28 input, 10 classes).
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


class LeNet5(torch.nn.Module):
    """bdl's lenet5: conv 1->6 5x5 pad 2, ReLU, max-pool 2, conv 6->16 5x5, ReLU,
    max-pool 2, 400-120-84-10 with ReLUs."""

    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = torch.nn.Conv2d(6, 16, 5)
        self.fc1 = torch.nn.Linear(400, 120)
        self.fc2 = torch.nn.Linear(120, 84)
        self.fc3 = torch.nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


def mlp():
    """bdl's mlp: Flatten, 784-512-256-10 with ReLUs."""
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 512), torch.nn.ReLU(),
                               torch.nn.Linear(512, 256), torch.nn.ReLU(),
                               torch.nn.Linear(256, 10))


# Fashion-MNIST-sized models: their input channels and classes.
SMALL = {"lenet5": (1, 10), "mlp": (1, 10)}

# Text models: their sequence length, vocabulary and classes.
TEXT = {"lstm_classifier": (50, 1000, 2)}

NETS = {
    "lenet5": LeNet5,
    "mlp": mlp,
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
    elif name in SMALL:
        channels, classes = SMALL[name]
        x = torch.rand(batch, channels, size, size) * 2 - 1
    else:
        x = torch.rand(batch, 3, size, size) * 2 - 1
        classes = 1000
    y = torch.randint(0, classes, (batch,))
    if mode == "export":
        # The inference model as ONNX (opset 17, evaluation mode) for bench/ort_zoo.py.
        model.eval()
        torch.onnx.export(model, (x,), sys.argv[7], opset_version=17, input_names=["input"],
                          output_names=["output"], dynamo=False)
        return
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
