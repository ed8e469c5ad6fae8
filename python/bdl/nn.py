"""Every module type of the C++ library by its own name, with its own options
as keywords: bdl.nn.Linear(in_features=4, out_features=2),
bdl.nn.Conv2d(in_channels=1, out_channels=6, kernel=[5, 5]). They are layers
of Sequential and functional models like those of bdl.layers. Containers
(Sequential, Concat, Graph) are built from models, not here."""
from __future__ import annotations

from . import _core
from .layers import Module

_CONTAINERS = {"Sequential", "Concat", "Graph", "TimeDistributed"}


def types() -> list[str]:
    return sorted(t for t in _core.module_types() if t not in _CONTAINERS)


def __getattr__(name: str):
    if name.startswith("_") or name not in _core.module_types() or name in _CONTAINERS:
        raise AttributeError(f"bdl.nn has no module type '{name}' (known: {', '.join(types())})")

    def make(name_: str | None = None, **options) -> Module:
        return Module(name, name=name_, **options)

    make.__name__ = name
    options = ", ".join(_core.module_options(name)) or "none"
    make.__doc__ = (f"A {name} module. Options, as keywords (those left out keep their "
                    f"defaults): {options}.")
    return make


def __dir__() -> list[str]:
    return types()
