"""flashmark's own `pytextgen` namespace, for the Python code inside notes.

The vault's helper library and data blocks import ``pytextgen.compat.gen``, ``.util``,
``.read`` and ``.config``. These modules implement the documented behaviour of pytextgen
9.0.1 (checked against it as an oracle, see tests/generate/), written for flashmark;
pytextgen itself is not needed. `installed()` puts them into ``sys.modules`` under the
``pytextgen`` names only while note code runs.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager

from flashmark.generate.compat import asyncer_shim, config, gen, read, util
from flashmark.generate.compat.config import dirty

VERSION = "9.0.1"  # the pytextgen version whose behaviour this reproduces


def _modules() -> dict[str, types.ModuleType]:
    root = types.ModuleType("pytextgen", "flashmark's pytextgen compatibility namespace")
    root.__path__ = []
    root.__version__ = VERSION  # type: ignore[attr-defined]
    compat = types.ModuleType("pytextgen.compat")
    compat.__path__ = []
    for name, mod in (("config", config), ("gen", gen), ("read", read), ("util", util)):
        setattr(compat, name, mod)
    compat.dirty = dirty  # type: ignore[attr-defined]
    root.compat = compat  # type: ignore[attr-defined]
    mods = {"pytextgen": root, "pytextgen.compat": compat,
            "pytextgen.compat.config": config, "pytextgen.compat.gen": gen,
            "pytextgen.compat.read": read, "pytextgen.compat.util": util}
    try:
        import asyncer  # type: ignore[import-not-found,unused-ignore]  # noqa: F401
    except ImportError:
        mods["asyncer"] = asyncer_shim.module()
    return mods


_MODULES: dict[str, types.ModuleType] | None = None


@contextmanager
def installed() -> Iterator[None]:
    """Make ``import pytextgen...`` (and ``asyncer`` when missing) resolve to ours."""
    global _MODULES
    if _MODULES is None:
        _MODULES = _modules()
    saved = {name: sys.modules.get(name) for name in _MODULES}
    sys.modules.update(_MODULES)
    try:
        yield
    finally:
        for name, old in saved.items():
            if old is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = old
