"""Figures written into the run's output folder (logged to MLflow with the report)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from affrepro.fileio import atomic_savefig
from affrepro.reproductions.natural_hazards_2020.baselines import MODELS

PROTOCOL_TITLES = {"cv5_within_event": "5-fold CV within each event",
                   "cv5_pooled": "5-fold CV, all events pooled",
                   "loeo": "leave one event out (held-out event)"}


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def confusion_plot(out: Path, confusions: dict, protocol: str = "cv5_pooled") -> Path:
    plt = _plt()
    fig, axes = plt.subplots(1, len(MODELS), figsize=(3.2 * len(MODELS), 3.2))
    for ax, model in zip(axes, MODELS):
        c = np.array(confusions[f"{protocol}/all/{model}"]).reshape(2, 2)
        share = c / c.sum(1, keepdims=True)
        ax.imshow(share, vmin=0, vmax=1, cmap="Blues")
        for i in range(2):
            for j in range(2):
                ax.text(j, i, f"{c[i, j]}\n{share[i, j]:.0%}", ha="center", va="center",
                        color="white" if share[i, j] > 0.6 else "black", fontsize=9)
        ax.set_xticks([0, 1], ["0", "1"])
        ax.set_yticks([0, 1], ["0", "1"])
        ax.set_xlabel("predicted label")
        ax.set_title(model)
    axes[0].set_ylabel("released label")
    fig.suptitle(f"Confusion matrices, {PROTOCOL_TITLES[protocol]} (row shares)")
    fig.tight_layout()
    path = out / f"confusion_{protocol}.png"
    atomic_savefig(fig, path, dpi=120)
    plt.close(fig)
    return path


def per_event_plot(out: Path, results: list[dict], metric: str = "f1_macro") -> Path:
    plt = _plt()
    events = list(dict.fromkeys(r["scope"] for r in results if r["protocol"] == "loeo" and r["scope"] != "all"))
    protocols = ("cv5_within_event", "cv5_pooled", "loeo")
    fig, axes = plt.subplots(len(protocols), 1, figsize=(10, 3.0 * len(protocols)), sharey=True)
    x = np.arange(len(events))
    width = 0.8 / len(MODELS)
    for ax, proto in zip(axes, protocols):
        for k, model in enumerate(MODELS):
            rows = {r["scope"]: r for r in results if r["protocol"] == proto and r["model"] == model}
            y = np.array([rows[e][metric] for e in events])
            lo = np.array([rows[e][f"{metric}_ci"][0] for e in events])
            hi = np.array([rows[e][f"{metric}_ci"][1] for e in events])
            ax.bar(x + (k - (len(MODELS) - 1) / 2) * width, y, width, yerr=[y - lo, hi - y],
                   capsize=2, label=model)
        ax.set_xticks(x, events, rotation=20, ha="right")
        ax.set_ylabel(metric)
        ax.set_ylim(0, 1)
        ax.axhline(0.5, color="grey", lw=0.5, ls=":")
        ax.set_title(PROTOCOL_TITLES[proto])
    axes[0].legend(ncol=len(MODELS), fontsize=8, loc="lower right")
    fig.tight_layout()
    path = out / f"per_event_{metric}.png"
    atomic_savefig(fig, path, dpi=120)
    plt.close(fig)
    return path


def audit_plot(out: Path, audit: dict) -> Path:
    plt = _plt()
    rows = audit["by_text"]["text"]
    scopes = list(rows)
    rules = list(audit["rules"])
    fig, ax = plt.subplots(figsize=(10, 3.8))
    x = np.arange(len(scopes))
    width = 0.8 / len(rules)
    for k, rule in enumerate(rules):
        ax.bar(x + (k - (len(rules) - 1) / 2) * width,
               [rows[s][rule]["agree_1_is_not_positive"] for s in scopes], width, label=rule)
    ax.set_xticks(x, scopes, rotation=20, ha="right")
    ax.set_ylim(0, 1)
    ax.set_ylabel("agreement")
    ax.set_title("Released label vs lexicon rule, reading label 1 = 'not positive'\n"
                 "(agreement under 1 = 'positive' is one minus this)")
    ax.legend(ncol=3, fontsize=8)
    fig.tight_layout()
    path = out / "label_audit_agreement.png"
    atomic_savefig(fig, path, dpi=120)
    plt.close(fig)
    return path


def write_plots(out: Path, base: dict, audit: dict, summary: dict) -> list[Path]:
    out = Path(out)
    return [confusion_plot(out, base["confusion"], "cv5_pooled"),
            confusion_plot(out, base["confusion"], "loeo"),
            per_event_plot(out, base["results"], "f1_macro"),
            audit_plot(out, audit)]
