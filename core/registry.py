"""Typed registries filled by the ``register_*`` hooks."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from affrepro.components import Dataset, Feature, Metric, Model, Reproduction
from affrepro.errors import DuplicateNameError, PluginError, UnknownNameError

T = TypeVar("T")


@dataclass(frozen=True)
class Entry(Generic[T]):
    name: str
    obj: T
    plugin: str


class Registry(Generic[T]):
    """Name -> component, remembering which plugin registered each name."""

    def __init__(self, kind: str, type_: type, key: str = "name"):
        self.kind, self.type_, self.key = kind, type_, key
        self._entries: dict[str, Entry[T]] = {}

    def add(self, obj: T, plugin: str) -> None:
        if not isinstance(obj, self.type_):
            raise PluginError(
                f"plugin {plugin!r} registered a {type(obj).__name__} as a {self.kind}; "
                f"expected affrepro.components.{self.type_.__name__}"
            )
        name = getattr(obj, self.key)
        if not isinstance(name, str) or not name:
            raise PluginError(f"plugin {plugin!r} registered a {self.kind} without a name")
        if name in self._entries:
            other = self._entries[name].plugin
            raise DuplicateNameError(
                f"{self.kind} {name!r} is registered by both plugin {other!r} and plugin {plugin!r}"
            )
        self._entries[name] = Entry(name, obj, plugin)

    def get(self, name: str) -> T:
        try:
            return self._entries[name].obj
        except KeyError:
            raise UnknownNameError(self.kind, name, self._entries) from None

    def plugin_of(self, name: str) -> str:
        self.get(name)
        return self._entries[name].plugin

    def names(self) -> list[str]:
        return sorted(self._entries)

    def entries(self) -> list[Entry[T]]:
        return [self._entries[n] for n in self.names()]

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[T]:
        return (e.obj for e in self.entries())

    def __len__(self) -> int:
        return len(self._entries)


class Registries:
    """One registry per component kind; ``HOOKS`` maps each hook to its registry."""

    HOOKS = {
        "register_datasets": "datasets",
        "register_models": "models",
        "register_metrics": "metrics",
        "register_features": "features",
        "register_reproductions": "reproductions",
    }

    def __init__(self) -> None:
        self.datasets: Registry[Dataset] = Registry("dataset", Dataset)
        self.models: Registry[Model] = Registry("model", Model)
        self.metrics: Registry[Metric] = Registry("metric", Metric)
        self.features: Registry[Feature] = Registry("feature", Feature)
        self.reproductions: Registry[Reproduction] = Registry("paper", Reproduction, key="slug")

    def for_hook(self, hook_name: str) -> Registry:
        return getattr(self, self.HOOKS[hook_name])
