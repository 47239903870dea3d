"""The streaming-metric protocol shared by every built-in metric.

A streaming metric accumulates a mergeable state: ``update(y_true, y_pred)`` adds a batch,
``merge(other)`` adds another instance's state (another batch, process or worker), and
``compute()`` returns the metric of everything seen so far. ``state_dict()`` /
``from_state()`` give a picklable state for sending between processes. The functional
form of each metric is ``Cls(**options).update(y_true, y_pred).compute()``, so both forms
run the same code.
"""
from __future__ import annotations

import copy
import sys
import warnings
from types import ModuleType
from typing import Any, ClassVar

from affrepro.components import Metric


class DegenerateInputWarning(RuntimeWarning):
    """The metric is undefined for this input (e.g. constant predictions for CCC): NaN."""


def degenerate(metric: str, why: str, *, stacklevel: int = 3) -> float:
    """Warn that ``metric`` is undefined because ``why``, and return NaN."""
    warnings.warn(f"{metric} is undefined: {why}; returning NaN", DegenerateInputWarning,
                  stacklevel=stacklevel)
    return float("nan")


class StreamingMetric:
    """Base class: subclasses define ``update``, ``_merge_state``, ``compute`` and ``name``.

    A metric declares itself once, here on its class: ``name``, ``higher_is_better``,
    ``description`` (one line), ``formula`` (the docstring of the registered function) and
    ``function`` (its functional form in the same module; default: ``name``). A class with
    a ``description`` is registered by the metrics plugin (:func:`declared_metrics`).
    """

    name: ClassVar[str] = ""
    higher_is_better: ClassVar[bool] = True
    description: ClassVar[str] = ""
    formula: ClassVar[str] = ""
    function: ClassVar[str] = ""

    @classmethod
    def metric(cls) -> Metric:
        """The registered metric: the functional form (with the formula as its docstring),
        the direction, the description and this class as the streaming form."""
        functional = getattr(sys.modules[cls.__module__], cls.function or cls.name)

        def fn(*args: Any, **kwargs: Any) -> float:
            return functional(*args, **kwargs)

        fn.__name__ = fn.__qualname__ = functional.__name__
        fn.__module__ = cls.__module__
        fn.__doc__ = (f"{cls.formula}\n\nSee {cls.__module__}.{functional.__name__} for the "
                      "options and the conventions on degenerate input.")
        return Metric(cls.name, fn, cls.higher_is_better, cls.description, streaming=cls)

    def update(self, y_true: Any, y_pred: Any) -> StreamingMetric:  # pragma: no cover
        raise NotImplementedError

    def compute(self) -> float:  # pragma: no cover
        raise NotImplementedError

    def _merge_state(self, other: StreamingMetric) -> None:  # pragma: no cover
        raise NotImplementedError

    def merge(self, other: StreamingMetric) -> StreamingMetric:
        """Add ``other``'s accumulated state to this one (in place); returns self."""
        if type(other) is not type(self):
            raise TypeError(f"cannot merge {type(other).__name__} into {type(self).__name__}")
        self._merge_state(other)
        return self

    def __add__(self, other: StreamingMetric) -> StreamingMetric:
        return copy.deepcopy(self).merge(other)

    def reset(self) -> StreamingMetric:
        """Forget the accumulated state, keep the options."""
        self.__init__(**self._options())
        return self

    def _options(self) -> dict[str, Any]:
        return dict(getattr(self, "_opts", {}))

    def state_dict(self) -> dict[str, Any]:
        """A picklable copy of the options and accumulated state."""
        return copy.deepcopy(self.__dict__)

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> StreamingMetric:
        obj = cls.__new__(cls)
        obj.__dict__ = copy.deepcopy(state)
        return obj

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self._options().items())
        return f"{type(self).__name__}({opts})"


def declared_metrics(module: ModuleType) -> list[type[StreamingMetric]]:
    """The metrics ``module`` declares: its StreamingMetric classes with a description."""
    return [obj for obj in vars(module).values()
            if isinstance(obj, type) and issubclass(obj, StreamingMetric)
            and obj.__module__ == module.__name__ and obj.description]
