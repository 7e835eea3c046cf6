"""Public names that moved: the old call keeps working, with a :class:`DeprecationWarning` that
names the new one."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from typing import Any


def callable_module(module: str, function: Callable[..., Any], new_name: str) -> None:
    """Make the loaded module ``module`` callable, for a package whose name a function used to
    hide: ``import symderiv.render as R`` gives the module, while ``symderiv.render(...)``
    still calls ``function``, warning that the call is now ``new_name(...)``."""
    loaded = sys.modules[module]

    class CallableModule(type(loaded)):  # type: ignore[misc]
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            warnings.warn(f"{module}(...) is deprecated: call {new_name}(...)", DeprecationWarning, stacklevel=2)
            return function(*args, **kwargs)

    loaded.__class__ = CallableModule
