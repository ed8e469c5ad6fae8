"""Keras-style layers. A layer knows its options; the modules it stands for are
built once its input shape is known (in a Sequential model or a functional
graph), so that Dense(64) needs no input size. Images are channels-first,
(channels, height, width), as in bdl and PyTorch.

Every module type of the C++ library is also available directly, with its own
options as keywords: ``bdl.layers.Module("Linear", in_features=4, out_features=2)``
or ``bdl.nn.Linear(in_features=4, out_features=2)``.
"""
from __future__ import annotations

from typing import Sequence

from . import _core

Spec = tuple  # (type, options, children, name)

_ACTIVATIONS = {
    "relu": ("ReLU", {}),
    "tanh": ("Tanh", {}),
    "sigmoid": ("Sigmoid", {}),
    "gelu": ("GELU", {}),
    "elu": ("ELU", {}),
    "leaky_relu": ("LeakyReLU", {}),
    "softplus": ("SoftPlus", {}),
    "softmax": ("SoftMax", {"dim": -1}),
    "log_softmax": ("LogSoftMax", {"dim": -1}),
    "linear": None,
    None: None,
}


def _activation(name, layer: str) -> list[Spec]:
    if name not in _ACTIVATIONS:
        known = ", ".join(k for k in _ACTIVATIONS if k)
        raise ValueError(f"{layer}: activation '{name}' is not one of {known}")
    entry = _ACTIVATIONS[name]
    return [] if entry is None else [(entry[0], dict(entry[1]), [], "")]


def _pair(value, name: str, layer: str) -> list[int]:
    if isinstance(value, int) and not isinstance(value, bool):
        return [value, value]
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        return list(value)
    raise ValueError(f"{layer}: {name} must be an integer or a pair of integers, got {value!r}")


def _positive(value, name: str, layer: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{layer}: {name} must be a positive integer, got {value!r}")
    return value


def output_shape_of(specs: list[Spec], input_shape: Sequence[int]) -> tuple[int, ...]:
    """One sample's output shape after `specs`, for one sample's input shape."""
    shape = [1, *input_shape]
    for spec in specs:
        shape = _core.output_shape(spec, shape)
    return tuple(shape[1:])


def chain(layers, input_shape: Sequence[int], owner: str) -> tuple[list[Spec], tuple[int, ...]]:
    """The specs of `layers` one after another from `input_shape`, and the shape
    they end with; a layer that does not fit its input is named with `owner`."""
    specs, current = [], tuple(input_shape)
    for layer in layers:
        mine = layer.modules([current])
        try:
            current = output_shape_of(mine, current)
        except _core.Error as e:
            raise ValueError(f"{owner}: {layer._label()} on samples of shape {current}: {e}") from None
        specs.extend(mine)
    return specs, current


class Layer:
    """A layer: modules built for an input shape. Calling it on a symbolic
    tensor (bdl.Input or another layer's output) adds it to a functional graph."""

    inputs_taken = 1  # 0: any number of at least two

    def __init__(self, name: str | None = None):
        self.name = name or ""

    def modules(self, input_shapes: list[tuple[int, ...]]) -> list[Spec]:
        raise NotImplementedError

    def __call__(self, inputs):
        from .models import SymbolicTensor
        many = isinstance(inputs, (list, tuple))
        items = list(inputs) if many else [inputs]
        for t in items:
            if not isinstance(t, SymbolicTensor):
                raise TypeError(f"{self._label()}: call it on bdl.Input(...) or another layer's "
                                f"output, not {type(t).__name__}")
        if self.inputs_taken == 1 and len(items) != 1:
            raise ValueError(f"{self._label()} takes one input, got {len(items)}")
        if self.inputs_taken == 0 and len(items) < 2:
            raise ValueError(f"{self._label()} joins two inputs or more, got {len(items)}")
        shapes = [t.shape for t in items]
        specs = self.modules(shapes)
        shape = self._output_shape(specs, shapes)
        return SymbolicTensor(shape, self, items, specs)

    def _output_shape(self, specs, shapes):
        if len(shapes) == 1:
            return output_shape_of(specs, shapes[0])
        first = _core.output_shape_many(specs[0], [[1, *s] for s in shapes])
        rest = output_shape_of(specs[1:], tuple(first[1:]))
        return rest

    def _label(self) -> str:
        return f"{type(self).__name__}" + (f" '{self.name}'" if self.name else "")

    def _named(self, specs: list[Spec]) -> list[Spec]:
        """Names the first module after the layer."""
        if self.name and specs:
            t, o, c, _ = specs[0]
            specs[0] = (t, o, c, self.name)
        return specs

    def __repr__(self) -> str:
        return self._label()


class Module(Layer):
    """Any module type of the C++ library with its options as keywords, e.g.
    Module("Conv2d", in_channels=1, out_channels=6, kernel=[5, 5])."""

    def __init__(self, type: str, name: str | None = None, **options):  # noqa: A002
        super().__init__(name)
        if type not in _core.module_types():
            raise ValueError(f"no module type '{type}' (known: {', '.join(sorted(_core.module_types()))})")
        self.type = type
        self.options = {k: v for k, v in options.items() if v is not None}
        self.inputs_taken = 0 if type in ("Add", "JoinTable") else 1

    def modules(self, input_shapes):
        return self._named([(self.type, dict(self.options), [], "")])

    def _label(self) -> str:
        return self.type + (f" '{self.name}'" if self.name else "")


class Dense(Layer):
    """Fully connected: units outputs from the last dimension of the input."""

    def __init__(self, units: int, activation: str | None = None, use_bias: bool = True,
                 name: str | None = None):
        super().__init__(name)
        self.units = _positive(units, "units", "Dense")
        self.activation, self.use_bias = activation, use_bias
        _activation(activation, "Dense")

    def modules(self, input_shapes):
        (shape,) = input_shapes
        if len(shape) < 1:
            raise ValueError(f"{self._label()}: input of shape {shape} has no features")
        linear = ("Linear", {"in_features": shape[-1], "out_features": self.units,
                             "bias": self.use_bias}, [], "")
        return self._named([linear, *_activation(self.activation, "Dense")])


class Conv2D(Layer):
    """2-D convolution of (channels, height, width) inputs. padding: an integer,
    a pair, "valid" (0) or "same" (odd kernels, stride 1)."""

    def __init__(self, filters: int, kernel_size, strides=1, padding=0, dilation_rate=1,
                 groups: int = 1, activation: str | None = None, use_bias: bool = True,
                 name: str | None = None):
        super().__init__(name)
        self.filters = _positive(filters, "filters", "Conv2D")
        self.kernel = _pair(kernel_size, "kernel_size", "Conv2D")
        self.strides = _pair(strides, "strides", "Conv2D")
        self.dilation = _pair(dilation_rate, "dilation_rate", "Conv2D")
        if padding == "valid":
            padding = 0
        elif padding == "same":
            if self.strides != [1, 1] or any(k % 2 == 0 for k in self.kernel):
                raise ValueError("Conv2D: padding='same' needs stride 1 and odd kernel sizes")
            padding = [self.dilation[0] * (self.kernel[0] - 1) // 2,
                       self.dilation[1] * (self.kernel[1] - 1) // 2]
        self.padding = _pair(padding, "padding", "Conv2D")
        self.groups, self.activation, self.use_bias = groups, activation, use_bias
        _activation(activation, "Conv2D")

    def modules(self, input_shapes):
        (shape,) = input_shapes
        if len(shape) != 3:
            raise ValueError(f"{self._label()}: takes (channels, height, width) samples, got "
                             f"shape {shape}")
        conv = ("Conv2d", {"in_channels": shape[0], "out_channels": self.filters,
                           "kernel": self.kernel, "stride": self.strides,
                           "padding": self.padding, "dilation": self.dilation,
                           "groups": self.groups, "bias": self.use_bias}, [], "")
        return self._named([conv, *_activation(self.activation, "Conv2D")])


class _Pooling2D(Layer):
    _type = ""

    def __init__(self, pool_size=2, strides=None, padding=0, name: str | None = None):
        super().__init__(name)
        label = type(self).__name__
        self.kernel = _pair(pool_size, "pool_size", label)
        self.strides = _pair(strides, "strides", label) if strides is not None else self.kernel
        self.padding = _pair(0 if padding == "valid" else padding, "padding", label)

    def modules(self, input_shapes):
        return self._named([(self._type, {"kernel": self.kernel, "stride": self.strides,
                                          "padding": self.padding}, [], "")])


class MaxPooling2D(_Pooling2D):
    _type = "MaxPool2d"


class AveragePooling2D(_Pooling2D):
    _type = "AvgPool2d"


class GlobalAveragePooling2D(Layer):
    def modules(self, input_shapes):
        return self._named([("GlobalAvgPool2d", {}, [], ""), ("Flatten", {}, [], "")])


class GlobalMaxPooling2D(Layer):
    def modules(self, input_shapes):
        return self._named([("GlobalMaxPool2d", {}, [], ""), ("Flatten", {}, [], "")])


class Flatten(Layer):
    def modules(self, input_shapes):
        return self._named([("Flatten", {}, [], "")])


class Reshape(Layer):
    def __init__(self, target_shape: Sequence[int], name: str | None = None):
        super().__init__(name)
        self.target_shape = [int(s) for s in target_shape]

    def modules(self, input_shapes):
        return self._named([("Reshape", {"shape": self.target_shape}, [], "")])


class Dropout(Layer):
    def __init__(self, rate: float, name: str | None = None):
        super().__init__(name)
        if not 0 <= rate < 1:
            raise ValueError(f"Dropout: rate must be in [0, 1), got {rate!r}")
        self.rate = float(rate)

    def modules(self, input_shapes):
        return self._named([("Dropout", {"p": self.rate}, [], "")])


class BatchNormalization(Layer):
    """Batch normalisation over the channels (dimension 1 of the batch). momentum
    is Keras's: the running statistics keep this share of their old value."""

    def __init__(self, momentum: float = 0.99, epsilon: float = 1e-3, name: str | None = None):
        super().__init__(name)
        if not 0 <= momentum < 1:
            raise ValueError(f"BatchNormalization: momentum must be in [0, 1), got {momentum!r}")
        self.momentum, self.epsilon = momentum, epsilon

    def modules(self, input_shapes):
        (shape,) = input_shapes
        return self._named([("BatchNorm", {"num_features": shape[0], "eps": self.epsilon,
                                           "momentum": 1.0 - self.momentum}, [], "")])


class Activation(Layer):
    def __init__(self, activation: str, name: str | None = None):
        super().__init__(name)
        _activation(activation, "Activation")
        self.activation = activation

    def modules(self, input_shapes):
        return self._named(_activation(self.activation, "Activation") or [("Identity", {}, [], "")])


class Softmax(Layer):
    def __init__(self, axis: int = -1, name: str | None = None):
        super().__init__(name)
        self.axis = axis

    def modules(self, input_shapes):
        return self._named([("SoftMax", {"dim": self.axis}, [], "")])


class Embedding(Layer):
    def __init__(self, input_dim: int, output_dim: int, name: str | None = None):
        super().__init__(name)
        self.input_dim = _positive(input_dim, "input_dim", "Embedding")
        self.output_dim = _positive(output_dim, "output_dim", "Embedding")

    def modules(self, input_shapes):
        return self._named([("Embedding", {"num_embeddings": self.input_dim,
                                           "embedding_dim": self.output_dim}, [], "")])


class _Recurrent(Layer):
    _type = ""

    def __init__(self, units: int, return_sequences: bool = False, name: str | None = None):
        super().__init__(name)
        self.units = _positive(units, "units", type(self).__name__)
        self.return_sequences = return_sequences

    def modules(self, input_shapes):
        (shape,) = input_shapes
        if len(shape) != 2:
            raise ValueError(f"{self._label()}: takes (steps, features) samples, got {shape}")
        return self._named([(self._type, {"input_size": shape[-1], "hidden_size": self.units,
                                          "return_sequences": self.return_sequences}, [], "")])


class LSTM(_Recurrent):
    _type = "LSTM"


class GRU(_Recurrent):
    _type = "GRU"


class Add(Layer):
    """The sum of two inputs or more of the same shape."""

    inputs_taken = 0

    def modules(self, input_shapes):
        return self._named([("Add", {}, [], "")])


class Concatenate(Layer):
    """Inputs joined along an axis of the sample (axis 0: channels of images)."""

    inputs_taken = 0

    def __init__(self, axis: int = 0, name: str | None = None):
        super().__init__(name)
        self.axis = axis

    def modules(self, input_shapes):
        rank = len(input_shapes[0])
        axis = self.axis + rank if self.axis < 0 else self.axis
        if not 0 <= axis < rank:
            raise ValueError(f"Concatenate: axis {self.axis} is outside samples of shape "
                             f"{input_shapes[0]}")
        return self._named([("JoinTable", {"dim": axis + 1}, [], "")])


class Concat(Layer):
    """BigDL's Concat container: every branch (a layer, a list of layers, or a
    model not yet built) gets the same input, and their outputs are joined
    along an axis of the sample (0: channels of images), as in an Inception
    block."""

    def __init__(self, branches: Sequence, axis: int = 0, name: str | None = None):
        super().__init__(name)
        if not branches:
            raise ValueError("Concat: no branches")
        self.branches = [list(b) if isinstance(b, (list, tuple)) else [b] for b in branches]
        for branch in self.branches:
            for layer in branch:
                if not isinstance(layer, Layer):
                    raise TypeError(f"Concat: {layer!r} is not a layer")
        self.axis = axis

    def modules(self, input_shapes):
        (shape,) = input_shapes
        children = [("Sequential", {}, chain(branch, shape, self._label())[0], "")
                    for branch in self.branches]
        axis = self.axis + len(shape) if self.axis < 0 else self.axis
        return self._named([("Concat", {"dim": axis + 1}, children, "")])
