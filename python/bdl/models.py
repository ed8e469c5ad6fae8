"""Models: Sequential, functional graphs (Input, layers called on tensors,
Model(inputs, outputs)), models from the zoo and from files; compile, fit,
evaluate and predict in the Keras style, over the C++ job API."""
from __future__ import annotations

import json
import os
from typing import Any, Iterable, Sequence

import numpy as np

from . import _arrays, _core
from . import callbacks as cbks
from . import losses as _losses
from . import optimizers as _optimizers
from .layers import Layer, chain


class SymbolicTensor:
    """A layer's output in a functional graph: its sample shape and where it
    comes from."""

    def __init__(self, shape, layer, inputs, specs, name: str = ""):
        self.shape = tuple(int(s) for s in shape)
        self.layer, self.inputs, self.specs, self.name = layer, inputs, specs, name

    def __repr__(self) -> str:
        return f"SymbolicTensor(shape={self.shape})"


def Input(shape: Sequence[int], name: str | None = None) -> SymbolicTensor:  # noqa: N802
    """A model's input: one sample's shape, without the batch dimension."""
    try:
        dims = tuple(int(s) for s in shape)
    except TypeError:
        raise TypeError(f"Input: shape must be a sequence of integers, got {shape!r}") from None
    if not dims or any(d < 1 for d in dims):
        raise ValueError(f"Input: shape must hold positive sizes, got {tuple(shape)}")
    return SymbolicTensor(dims, None, [], [], name or "")


class History:
    """What fit() returns: history[name] is a list of per-epoch values (loss,
    val_loss, val_<metric>...), report the job's report."""

    def __init__(self):
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        self.report: dict[str, Any] = {}


class Model(Layer):
    """A model. Model(inputs, outputs) builds a functional graph; Sequential
    stacks layers; bdl.zoo, bdl.load and bdl.import_onnx give models too. A model
    is also a layer of another model until it is built."""

    def __init__(self, inputs=None, outputs=None, name: str | None = None, *, net=None):
        super().__init__(name)
        self._net = net
        self._inputs, self._outputs = inputs, outputs
        self._compiled: dict[str, Any] | None = None
        self.stop_training = False
        if net is None and (inputs is None) != (outputs is None):
            raise ValueError("Model: give both inputs and outputs (or use Sequential)")
        if inputs is not None:
            ins = inputs if isinstance(inputs, (list, tuple)) else [inputs]
            if len(ins) != 1:
                raise ValueError("Model: models of several inputs are not supported yet; "
                                 "give one Input")
            if not isinstance(ins[0], SymbolicTensor) or ins[0].layer is not None:
                raise TypeError("Model: inputs must be bdl.Input(...)")
            if not isinstance(outputs, SymbolicTensor):
                raise TypeError("Model: outputs must be a layer's output (one tensor)")
            self._graph_spec()  # checks that outputs come from inputs

    # ---- building -------------------------------------------------------
    def _graph_spec(self):
        (inp,) = self._inputs if isinstance(self._inputs, (list, tuple)) else [self._inputs]
        order: list[SymbolicTensor] = []
        seen: set[int] = set()

        def visit(t: SymbolicTensor):
            if id(t) in seen:
                return
            if t.layer is None and t is not inp:
                raise ValueError("Model: outputs depend on an Input that is not the model's")
            for i in t.inputs:
                visit(i)
            seen.add(id(t))
            order.append(t)

        visit(self._outputs)
        if inp not in order:
            raise ValueError("Model: outputs do not depend on inputs")
        index = {id(t): i for i, t in enumerate(order)}
        is_input, counts, sources, names, children = [], [], [], [], []
        for t in order:
            is_input.append(1 if t.layer is None else 0)
            counts.append(len(t.inputs))
            sources.extend(index[id(i)] for i in t.inputs)
            names.append(t.layer.name if t.layer is not None and t.layer.name else "")
            if t.layer is not None:
                specs = t.specs
                children.append(specs[0] if len(specs) == 1 else ("Sequential", {}, specs, ""))
        wiring = {"is_input": is_input, "from_counts": counts, "from": sources,
                  "node_names": names, "output": index[id(self._outputs)]}
        return ("Graph", wiring, children, self.name), inp.shape

    def _spec(self, input_shape=None):
        """This model as one module spec, and its sample shape."""
        if self._net is not None:
            raise ValueError(f"{self._label()} is built (loaded or trained): it cannot be a "
                             "layer of another model")
        return self._graph_spec()

    def modules(self, input_shapes):
        spec, shape = self._spec(input_shapes[0])
        if tuple(input_shapes[0]) != tuple(shape):
            raise ValueError(f"{self._label()}: takes samples of shape {shape}, got "
                             f"{tuple(input_shapes[0])}")
        return [spec]

    def build(self, input_shape: Sequence[int] | None = None) -> "Model":
        """Builds the C++ model (weights initialised). fit, predict and summary
        build a model on first use."""
        if self._net is None:
            spec, shape = self._spec(input_shape)
            self._net = _core.Net(_core.build(spec), list(shape), self.name or "")
        return self

    @property
    def built(self) -> bool:
        return self._net is not None

    @property
    def net(self) -> _core.Net:
        """The C++ model (bdl._core.Net); builds the model when needed."""
        self.build()
        return self._net

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.net.sample_shape)

    @property
    def output_shape(self) -> tuple[int, ...]:
        return tuple(self.net.module.output_shape([1, *self.input_shape])[1:])

    # ---- weights, files, summary ------------------------------------------
    def get_weights(self) -> list[np.ndarray]:
        """Copies of the parameters, in the model's order."""
        return [v for _, v in self.net.module.parameters()]

    def set_weights(self, weights: Sequence[np.ndarray]) -> None:
        params = self.net.module.parameters()
        if len(weights) != len(params):
            raise ValueError(f"set_weights: {len(weights)} arrays given, the model has "
                             f"{len(params)} parameters")
        for (name, _), w in zip(params, weights):
            self.net.module.set_parameter(name, _arrays.features(w, name))

    def named_weights(self) -> dict[str, np.ndarray]:
        return dict(self.net.module.parameters())

    def count_params(self) -> int:
        return self.net.module.parameter_count()

    def summary(self, print_fn=print) -> str:
        text = self.net.module.summary([1, *self.input_shape])
        if print_fn is not None:
            print_fn(text.rstrip("\n"))
        return text

    def save(self, path: str) -> None:
        """Saves the model: bdl's format (.bdl; weights and input shape), or
        ONNX for a path ending in .onnx."""
        path = os.fspath(path)
        if path.endswith(".onnx"):
            _core.export_onnx(self.net, path)
        else:
            _core.save(self.net, path)

    def export_onnx(self, path: str) -> None:
        _core.export_onnx(self.net, os.fspath(path))

    # ---- a loop written in Python ------------------------------------------
    def forward(self, x) -> np.ndarray:
        """The output for a batch (training mode unless eval() was called)."""
        self._last_input = _core.Tensor.from_array(_arrays.features(x, "x"), "x")
        return self.net.module.forward(self._last_input)

    def backward(self, x, grad_output) -> np.ndarray:
        """Accumulates parameter gradients for the last forward(x); returns the
        gradient with respect to x (None when the model computes none)."""
        kept = getattr(self, "_last_input", None)
        if kept is None:
            raise RuntimeError("backward: call forward(x) first")
        xs = _arrays.features(x, "x")
        if tuple(xs.shape) != tuple(kept.shape):
            raise ValueError(f"backward: x of shape {xs.shape}, but forward ran on "
                             f"{tuple(kept.shape)}")
        return self.net.module.backward(kept, _arrays.features(grad_output, "grad_output"))

    def zero_grad(self) -> None:
        self.net.module.zero_grad()

    def train_mode(self, on: bool = True) -> None:
        self.net.module.train(on)

    def eval(self) -> None:
        self.net.module.eval()

    # ---- Keras-style training -----------------------------------------------
    def compile(self, optimizer="sgd", loss="cross_entropy", metrics: Iterable[str] | None = None):
        """optimizer: a name (sgd, adam, adamw, adagrad, rmsprop, lars) or
        bdl.optimizers.SGD(...) and the like; loss: a name (cross_entropy on
        logits, nll, mse, l1, smooth_l1, bce, bce_with_logits, kl_div, or Keras's
        names for them); metrics: accuracy, top5, mae, mse, rmse, auc..."""
        opt = _optimizers.get(optimizer)
        loss_name = _losses.name_of(loss)
        names = [_losses.metric_name(m) for m in (metrics or [])]
        self._compiled = {"optimizer": opt, "loss": loss_name, "metrics": names,
                          "metric_labels": list(metrics or [])}
        return self

    def _needs_compile(self, what: str) -> dict[str, Any]:
        if self._compiled is None:
            raise RuntimeError(f"{what}: call compile(optimizer=..., loss=...) first")
        return self._compiled

    def fit(self, x=None, y=None, batch_size: int | None = None, epochs: int = 1,
            verbose="auto", callbacks: Sequence[cbks.Callback] | None = None,
            validation_split: float = 0.0, validation_data=None, shuffle: bool = True,
            class_weight: dict | None = None, sample_weight=None, seed: int = 1,
            threads: int = 0, sync: dict | None = None, max_iterations: int | None = None,
            precision: str = "fp32", worker_data: bool = False) -> History:
        """Trains the model in place, Keras's way: x and y as NumPy arrays or
        pandas objects, an iterable of (x, y) batches, or a data source name
        (fashion-mnist, a directory) as x with y None. Under mpirun (or torchrun,
        or bdl.spark) each process is one worker of the same sharded synchronous
        training: every worker passes the whole set and reads its 1/N, or, with
        worker_data=True, each passes its own share (a Spark partition, a file
        per rank) and the job trains on all of them together."""
        from . import _fit
        return _fit.fit(self, x, y, batch_size=batch_size, epochs=epochs, verbose=verbose,
                        callbacks=list(callbacks or []), validation_split=validation_split,
                        validation_data=validation_data, shuffle=shuffle,
                        class_weight=class_weight, sample_weight=sample_weight, seed=seed,
                        threads=threads, sync=sync or {}, max_iterations=max_iterations,
                        precision=precision, worker_data=worker_data)

    def evaluate(self, x=None, y=None, batch_size: int | None = None, verbose="auto",
                 sample_weight=None, return_dict: bool = False):
        """The loss and the compiled metrics: a scalar loss, [loss, metrics...],
        or with return_dict a dict by name."""
        from . import _fit
        return _fit.evaluate(self, x, y, batch_size=batch_size, sample_weight=sample_weight,
                             return_dict=return_dict)

    def predict(self, x, batch_size: int | None = None, verbose="auto") -> np.ndarray:
        """The outputs for x (samples, ...), in evaluation mode."""
        return _core.predict(self.net, _arrays.features(x, "x"), batch_size or 256)

    def __call__(self, inputs):
        if isinstance(inputs, SymbolicTensor) or (
                isinstance(inputs, (list, tuple)) and inputs
                and isinstance(inputs[0], SymbolicTensor)):
            return Layer.__call__(self, inputs)
        return self.predict(inputs)

    def _label(self) -> str:
        return f"{type(self).__name__}" + (f" '{self.name}'" if self.name else "")


class Sequential(Model):
    """Layers one after another. The input shape comes from a bdl.Input first
    in the list, or input_shape=, or the first fit/build call."""

    def __init__(self, layers: Sequence[Any] | None = None, input_shape=None,
                 name: str | None = None):
        super().__init__(name=name)
        self.layers: list[Layer] = []
        self._input_shape = tuple(input_shape) if input_shape is not None else None
        for layer in layers or []:
            self.add(layer)

    def add(self, layer) -> None:
        if self._net is not None:
            raise ValueError(f"{self._label()} is built: add layers before fit or build")
        if isinstance(layer, SymbolicTensor) and layer.layer is None:
            if self.layers:
                raise ValueError("Sequential: an Input comes first")
            self._input_shape = layer.shape
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential: {layer!r} is not a layer")
        if layer.inputs_taken != 1:
            raise ValueError(f"Sequential: {layer._label()} joins several inputs; use the "
                             "functional API (Model(inputs, outputs))")
        self.layers.append(layer)

    def _spec(self, input_shape=None):
        if self._net is not None:
            raise ValueError(f"{self._label()} is built: it cannot be a layer of another model")
        shape = self._input_shape or (tuple(input_shape) if input_shape is not None else None)
        if shape is None:
            raise ValueError(f"{self._label()}: the input shape is not known; start with "
                             "bdl.Input(shape) or give input_shape=")
        specs, _ = chain(self.layers, shape, self._label())
        return ("Sequential", {}, specs, self.name), tuple(shape)

    def build(self, input_shape=None) -> "Model":
        if input_shape is not None and self._input_shape is None:
            self._input_shape = tuple(input_shape)
        return super().build(input_shape)


def _from_net(net) -> Model:
    return Model(net=net, name=net.name)


def zoo(name: str, classes: int = 0, image_size: int | None = None) -> Model:
    """A model of the zoo (lenet5, mlp, resnet18, vgg16, inception, ...)."""
    return _from_net(_core.zoo(name, classes, image_size))


def load(path: str) -> Model:
    """A model from a file: bdl's format (.bdl, or a checkpoint) or ONNX."""
    return _from_net(_core.load(os.fspath(path)))


def import_onnx(path: str) -> Model:
    """An ONNX model (what PyTorch, TensorFlow and Keras export), to run or
    fine-tune."""
    return _from_net(_core.import_onnx(os.fspath(path)))


def report_of(text: str) -> dict[str, Any]:
    return json.loads(text)
