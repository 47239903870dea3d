"""Say which failed plugin an unknown name belongs to.

A plugin that fails to import or register is recorded and skipped (affrepro.plugin_manager),
so the paper, dataset or command it provides is simply not there: without this, asking
for it says only "unknown paper". A paper plugin is named by its slug; a third-party
plugin by its entry point, module and distribution, which usually carry the name too.
"""
from __future__ import annotations

from affrepro.errors import UnknownNameError
from affrepro.plugin_manager import PluginInfo, PluginManagerState, current_state


def _norm(text: str | None) -> str:
    return (text or "").lower().replace("_", "-").replace(".", "-")


def providers(state: PluginManagerState, name: str) -> list[PluginInfo]:
    """Failed plugins whose name, module or distribution names ``name`` (or the reverse)."""
    key = _norm(name)
    out = []
    for info in state.failures:
        names = [_norm(info.name), _norm(info.distribution), *_norm(info.module).split(":")]
        if any(n and (key in n or n in key) for n in names if len(n) > 2):
            out.append(info)
    return out


def _first_line(error: str | None) -> str:
    return (error or "").strip().splitlines()[-1] if error else ""


def explain(exc: UnknownNameError, state: PluginManagerState | None = None) -> str:
    """``exc``'s message, plus the failed plugin that provides the name and why it failed,
    or the failed plugins that might (``affrepro plugins`` shows them all)."""
    state = state or current_state()
    if state is None or not state.failures:
        return str(exc)
    found = providers(state, exc.name)
    if found:
        return f"{exc.kind} {exc.name!r} is not available: " + "; ".join(
            f"plugin {p.name!r} ({p.distribution or p.module}), which provides it, failed to load: "
            f"{_first_line(p.error)}" for p in found) + " (`affrepro plugins` shows the error)"
    others = ", ".join(f"{p.name!r} ({_first_line(p.error)})" for p in state.failures[:3])
    return (f"{exc}; {len(state.failures)} plugin(s) failed to load and may provide it: {others} "
            "(`affrepro plugins` shows them)")


def distribution_of(state: PluginManagerState, name: str) -> str:
    """The distribution to uninstall for ``name``: a plugin, distribution or paper name, as
    ``plugins check`` takes it; ``name`` itself where no loaded or failed plugin matches."""
    from affrepro.conformance import find_plugin
    from affrepro.errors import AffreproError

    try:
        plugin = state.plugins[find_plugin(state, name)]
    except UnknownNameError:
        return name
    if plugin.source == "builtin":
        raise AffreproError(f"{name!r} is part of affrepro itself (plugin {plugin.name!r}), not a "
                            "separate package: nothing to uninstall")
    if not plugin.distribution:
        raise AffreproError(f"plugin {plugin.name!r} comes from {plugin.module}, which no installed "
                            "distribution provides: nothing for pip to uninstall")
    return plugin.distribution
