"""The plugin manager.

Every plugin comes from the ``affrepro`` entry-point group and is loaded ONE AT A TIME,
so one broken plugin never hides the others. affrepro's own distribution declares two
collections there (:mod:`affrepro.catalogue`): every folder of ``affrepro.plugins`` and
every paper card ``affrepro/reproductions/*/paper.toml``; they always load. Third-party
packages declare their own entry points (a plugin, or a collection):

- a plugin that fails to import, or raises in a hook, or registers a duplicate name, is
  recorded in ``PluginManagerState.failures`` and skipped (``AFFREPRO_STRICT_PLUGINS=1``
  makes that fatal);
- ``AFFREPRO_LOAD_PLUGINS=a,b`` loads only those third-party entry points (empty: none);
- ``AFFREPRO_TRACE_PLUGINS=1`` prints every hook call and result to stderr.
"""
from __future__ import annotations

import os
import sys
import traceback
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType
from typing import Any

import pluggy

from affrepro import hookspecs
from affrepro.errors import PluginError
from affrepro.registry import Registries

PROJECT = "affrepro"
ENTRY_POINT_GROUP = "affrepro"
DISTRIBUTION = "affrepro"


@dataclass
class PluginInfo:
    """What ``affrepro plugins`` shows for one plugin."""

    name: str
    source: str  # "builtin", "entry point" or "extra" (passed in by a caller)
    module: str
    distribution: str | None = None
    version: str | None = None
    hooks: list[str] = field(default_factory=list)
    registered: dict[str, list[str]] = field(default_factory=dict)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "source": self.source, "module": self.module,
            "distribution": self.distribution, "version": self.version,
            "hooks": self.hooks, "registered": self.registered, "error": self.error,
            "ok": self.error is None,
        }


@dataclass
class PluginManagerState:
    pm: pluggy.PluginManager
    registries: Registries
    plugins: dict[str, PluginInfo]

    @property
    def failures(self) -> list[PluginInfo]:
        return [p for p in self.plugins.values() if p.error]


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def strict_mode() -> bool:
    return _env_flag("AFFREPRO_STRICT_PLUGINS")


def _allowed_entry_points() -> set[str] | None:
    raw = os.environ.get("AFFREPRO_LOAD_PLUGINS")
    if raw is None:
        return None
    return {n.strip() for n in raw.split(",") if n.strip()}


def _format_error(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()


def _distribution_of(ep: EntryPoint) -> str | None:
    dist = getattr(ep, "dist", None)
    return dist.name if dist is not None else None


def _builtin_entry_points() -> list[EntryPoint]:
    """affrepro's own entry points: the collections of its built-in plugins."""
    return sorted((ep for ep in entry_points(group=ENTRY_POINT_GROUP)
                   if _distribution_of(ep) == DISTRIBUTION), key=lambda ep: ep.name)


def _discover_entry_points() -> list[EntryPoint]:
    """Third-party entry points, as ``AFFREPRO_LOAD_PLUGINS`` selects them."""
    found = sorted((ep for ep in entry_points(group=ENTRY_POINT_GROUP)
                    if _distribution_of(ep) != DISTRIBUTION), key=lambda ep: ep.name)
    allowed = _allowed_entry_points()
    if allowed is not None:
        found = [ep for ep in found if ep.name in allowed]
    return found


def build_plugin_manager(extra_plugins: list[tuple[str, object]] | None = None,
                         load_entry_points: bool = True) -> PluginManagerState:
    """Create the manager, load plugins one at a time and fill the registries.

    The built-ins always load. ``extra_plugins`` (name, module-or-object) pairs are
    registered after them; tests use them to add plugins without installing anything.
    ``load_entry_points=False`` loads no third-party plugin.
    """
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(hookspecs)
    if _env_flag("AFFREPRO_TRACE_PLUGINS"):
        pm.trace.root.setwriter(lambda msg: sys.stderr.write(msg if msg.endswith("\n") else msg + "\n"))
        pm.enable_tracing()
    infos: dict[str, PluginInfo] = {}
    strict = strict_mode()

    def fail(info: PluginInfo, exc: BaseException) -> None:
        info.error = _format_error(exc)
        if pm.has_plugin(info.name):
            pm.unregister(name=info.name)
        if strict:
            raise PluginError(f"plugin {info.name!r} failed: {info.error}") from exc

    def add(name: str, obj: object, info: PluginInfo) -> None:
        infos[name] = info
        try:
            pm.register(obj, name=name)
            pm.check_pending()
        except Exception as exc:  # a hookimpl that matches no spec, or a bad signature
            fail(info, exc)
            return
        info.hooks = sorted(h.name for h in pm.get_hookcallers(obj) or [])

    def add_loaded(name: str, load, info: PluginInfo) -> None:
        """Load one plugin (``load()`` imports it) and register it; a name taken or an
        import that fails is recorded on this plugin alone."""
        if name in infos:
            info.name = f"{name} ({info.distribution or info.module})"
            infos[info.name] = info
            info.error = f"a plugin named {name!r} is already loaded from {infos[name].module}"
            if strict:
                raise PluginError(info.error)
            return
        try:
            obj = load()
        except Exception as exc:
            infos[name] = info
            fail(info, exc)
            return
        add(name, obj, info)

    def add_entry_point(ep: EntryPoint, source: str) -> None:
        dist = getattr(ep, "dist", None)
        base = dict(source=source, distribution=dist.name if dist else None,
                    version=dist.version if dist else None)
        try:
            obj = ep.load()
        except Exception as exc:
            info = PluginInfo(name=ep.name, module=ep.value, **base)
            add_loaded(ep.name, lambda e=exc: _reraise(e), info)
            return
        collection = getattr(obj, "affrepro_plugins", None)
        if collection is None and source == "builtin":
            where = getattr(dist, "_path", None) or "affrepro's metadata"
            raise PluginError(f"affrepro's entry point {ep.name} = {ep.value} (in {where}) is not "
                              "a plugin collection: that metadata is older than the source tree; "
                              "reinstall (pip install -e '.[dev]') or delete the stale folder")
        if collection is None:  # a plain plugin
            add_loaded(ep.name, lambda: obj, PluginInfo(name=ep.name, module=ep.value, **base))
            return
        try:
            members = list(collection())
        except Exception as exc:
            info = PluginInfo(name=ep.name, module=ep.value, **base)
            add_loaded(ep.name, lambda e=exc: _reraise(e), info)
            return
        for entry in members:
            add_loaded(entry.name, entry.load, PluginInfo(name=entry.name, module=entry.module, **base))

    builtins = _builtin_entry_points()
    if not builtins:
        raise PluginError(f"the {DISTRIBUTION!r} distribution declares no entry points in group "
                          f"{ENTRY_POINT_GROUP!r}: affrepro is not installed (pip install -e .)")
    for ep in builtins:
        add_entry_point(ep, "builtin")

    for name, obj in extra_plugins or []:
        module = obj.__name__ if isinstance(obj, ModuleType) else type(obj).__module__
        add(name, obj, PluginInfo(name=name, source="extra", module=module))

    if load_entry_points:
        for ep in _discover_entry_points():
            add_entry_point(ep, "entry point")

    registries = Registries()
    _fill_registries(pm, registries, infos, strict)
    return PluginManagerState(pm=pm, registries=registries, plugins=infos)


def _fill_registries(pm: pluggy.PluginManager, registries: Registries,
                     infos: dict[str, PluginInfo], strict: bool) -> None:
    """Call every register_* hook plugin by plugin; a failing plugin's components are dropped."""
    for name, info in infos.items():
        plugin = pm.get_plugin(name)
        if plugin is None or info.error:
            continue
        others = [p for p in pm.get_plugins() if p is not plugin]
        staged: list[tuple[str, Any]] = []
        try:
            for hook_name in Registries.HOOKS:
                caller = pm.subset_hook_caller(hook_name, remove_plugins=others)
                caller(register=lambda obj, _h=hook_name: staged.append((_h, obj)))
            for hook_name, obj in staged:
                registries.for_hook(hook_name).add(obj, name)
                kind = Registries.HOOKS[hook_name]
                key = getattr(obj, registries.for_hook(hook_name).key, "?")
                info.registered.setdefault(kind, []).append(key)
        except Exception as exc:
            for hook_name, obj in staged:  # roll back what this plugin managed to add
                reg = registries.for_hook(hook_name)
                key = getattr(obj, reg.key, None)
                if key in reg and reg.plugin_of(key) == name:
                    del reg._entries[key]
            info.registered = {}
            info.error = _format_error(exc)
            pm.unregister(name=name)
            if strict:
                raise PluginError(f"plugin {name!r} failed: {info.error}") from exc


def _reraise(exc: BaseException):
    raise exc


_STATE: PluginManagerState | None = None


def get_state() -> PluginManagerState:
    """The process-wide plugin state, built on first use."""
    global _STATE
    if _STATE is None:
        _STATE = build_plugin_manager()
    return _STATE


def current_state() -> PluginManagerState | None:
    """The process-wide state if it has been built, without building it."""
    return _STATE


def get_registries() -> Registries:
    return get_state().registries


def reset() -> None:
    """Forget the loaded plugins (tests, and after ``plugins install``)."""
    global _STATE
    _STATE = None
