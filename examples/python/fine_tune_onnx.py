"""Fine-tunes an imported ONNX model (what PyTorch, TensorFlow and Keras
export) on Fashion-MNIST, then saves it in bdl's format and as ONNX again.

    /usr/bin/python3 examples/python/export_from_pytorch.py cnn.onnx
    python examples/python/fine_tune_onnx.py cnn.onnx [--epochs 2]
"""
import argparse

import numpy as np

import bdl

parser = argparse.ArgumentParser()
parser.add_argument("onnx")
parser.add_argument("--epochs", type=int, default=2)
parser.add_argument("--samples", type=int, default=20000)
args = parser.parse_args()

model = bdl.import_onnx(args.onnx)
print(f"imported {args.onnx}: input {model.input_shape}, output {model.output_shape}, "
      f"{model.count_params()} parameters")
model.summary()

(x_train, y_train), (x_test, y_test) = bdl.datasets.fashion_mnist()
x_train = (x_train[:args.samples, None] / 255.0).astype(np.float32)
y_train = y_train[:args.samples]
x_test = (x_test[:, None] / 255.0).astype(np.float32)

model.compile(optimizer=bdl.optimizers.Adam(0.001), loss="cross_entropy", metrics=["accuracy"])
print(f"before fine-tuning: test accuracy {model.evaluate(x_test, y_test, return_dict=True)['accuracy']:.3f}")
model.fit(x_train, y_train, batch_size=64, epochs=args.epochs, validation_data=(x_test, y_test),
          verbose=2)
print(f"after: test accuracy {model.evaluate(x_test, y_test, return_dict=True)['accuracy']:.3f}")
model.save("fine-tuned.bdl")
model.save("fine-tuned.onnx")
print("saved fine-tuned.bdl and fine-tuned.onnx")
