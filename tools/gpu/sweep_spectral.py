"""Sweep the Triton log-mel kernel's launch settings on workload (c), on a real GPU.

Workload (c) of issue 3 (256 x 10 s clips at 16 kHz, n_fft 1024, hop 160, 64 mels, dB with
top_db 80): for each variant (kernel, mel epilogue, frame tile, warps, register cap; for the
two-stage kernel dot precision and bin/sample chunks) the max |error| in dB on the first 8
clips against the float64 reference and the time from ``triton.testing.do_bench``; beside
them torch on the same GPU: ``torch.stft`` alone (the kernel's distance from cuFFT), the
eager chain in both power forms, and, after the variants while the budget lasts, the
chain under ``torch.compile`` in both forms (which form serves each benchmark peer).

    python tools/gpu/sweep_spectral.py OUT.json [--budget-s 90] [--pick ENVFILE]

``--pick``: writes the fastest variant within 1e-3 dB (tf32x3 ones only) as the
``AFFREPRO_TRITON_FFT_*`` / ``AFFREPRO_TRITON_RADIX2_*`` variables that triton_impl reads
at import (``AFFREPRO_TRITON_FFT_RADIX2`` naming the kernel), for the GPU tests
and the benchmark that follow in the same device call.

Run by tools/gpu/run_checks.sh (step ``sweep``); exits 2 without CUDA.
"""
from __future__ import annotations

import json
import os
import sys
import time
import traceback
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

BASE = {"block_t": 8, "kc": 8, "num_warps": 4, "num_stages": 1, "radix": False}
# radix-2 defaults (BASE's block_t and num_warps apply to it too)
R = {"radix": True, "radix_mel": "affine", "radix_pack": True}
VARIANTS = [  # name, spectral() keyword overrides (each fits the 227 KB of shared memory)
    ("bt8 kc8 w4", {}),
    ("radix2 affine pack bt8 w4", R),
    ("radix2 affine pack bt8 w4 r128", {**R, "maxnreg": 128}),
    ("radix2 affine pack bt16 w8", {**R, "block_t": 16, "num_warps": 8}),
    ("radix2 affine pack bt4 w4", {**R, "block_t": 4}),
    ("radix2 affine pack bt8 w8", {**R, "num_warps": 8}),
    ("radix2 carry pack bt8 w4", {**R, "radix_mel": "carry"}),
    ("radix2 gather pack bt8 w4", {**R, "radix_mel": "gather"}),
    ("radix2 affine bt8 w4", {**R, "radix_pack": False}),
    ("radix2 gather bt8 w8", {**R, "radix_mel": "gather", "radix_pack": False, "num_warps": 8}),
    ("radix2 affine pack bt16 w16", {**R, "block_t": 16, "num_warps": 16}),
    ("bt8 kc8 w4 tf32 (1 pass, not picked)", {"precision": "tf32"}),
]
if os.environ.get("AFFREPRO_SWEEP_ONLY"):  # a subset: names containing this text
    VARIANTS = [v for v in VARIANTS if os.environ["AFFREPRO_SWEEP_ONLY"] in v[0]]
RADIX_ENV = {"radix": "AFFREPRO_TRITON_FFT_RADIX2", "block_t": "AFFREPRO_TRITON_RADIX2_BLOCK_T",
             "num_warps": "AFFREPRO_TRITON_RADIX2_WARPS", "radix_mel": "AFFREPRO_TRITON_RADIX2_MEL",
             "radix_pack": "AFFREPRO_TRITON_RADIX2_PACK",
             "maxnreg": "AFFREPRO_TRITON_RADIX2_MAXNREG"}
# the launch settings as the environment variables triton_impl reads at import
ENV = {"radix": "AFFREPRO_TRITON_FFT_RADIX2", "block_t": "AFFREPRO_TRITON_FFT_BLOCK_T",
       "kc": "AFFREPRO_TRITON_FFT_KC", "num_warps": "AFFREPRO_TRITON_FFT_WARPS",
       "num_stages": "AFFREPRO_TRITON_FFT_STAGES"}
TOL_DB = 1e-3


def main(argv: list[str]) -> int:
    import torch
    import triton.testing

    out_path = Path(argv[0])
    budget = float(argv[argv.index("--budget-s") + 1]) if "--budget-s" in argv else 90.0
    smoke = os.environ.get("TRITON_INTERPRET") == "1"  # a CPU rehearsal: 2 short clips
    if not torch.cuda.is_available() and not smoke:
        print("sweep_spectral: no CUDA GPU")
        return 2
    device = "cpu" if smoke else "cuda"
    n_clips, seconds = (2, 1) if smoke else (256, 10)
    from affrepro.kernels import spectral as sp
    from affrepro.kernels.spectral import triton_impl
    from affrepro.fileio import atomic_write_text
    from test_spectral_bench import TOP_DB, WORKLOADS, _speech, torch_logmel_fn

    t0 = time.time()
    rng = np.random.default_rng(1)
    clip = _speech(16000, seconds, rng).astype(np.float32)
    clips = np.stack([np.roll(clip, 1601 * i) * (0.5 + 0.5 * ((i % 7) / 7))
                      for i in range(n_clips)]).astype(np.float32)
    cfg = WORKLOADS["a"]["cfg"]
    ref = sp.logmel(clips[:8].astype(np.float64), sr=16000, **cfg, top_db=TOP_DB,
                    backend="reference")
    y = torch.from_numpy(clips).to(device)
    win = sp._window("hann", cfg["n_fft"], None)
    fb = sp._fb_cached(16000.0, cfg["n_fft"], cfg["n_mels"], 0.0, None, False, "slaney")
    log_args = {"ref": 1.0, "amin": 1e-10, "top_db": TOP_DB, "log": "db"}
    rows = []
    pick_path = Path(argv[argv.index("--pick") + 1]) if "--pick" in argv else None

    def publish():
        """The rows so far (and the best pick so far) on disk, atomically, after every
        variant: a sweep cut short by its step's timeout still returns what it measured."""
        info = {"gpu": "CPU rehearsal" if smoke else torch.cuda.get_device_name(),
                "cuda": torch.version.cuda,
                "torch": torch.__version__, "triton": __import__("triton").__version__,
                "workload": "c: 256 x 10 s at 16 kHz, n_fft 1024, hop 160, 64 mels, dB top_db 80",
                "seconds": round(time.time() - t0, 1), "budget_s": budget, "rows": rows}
        best = pick(rows)
        if best is not None:
            info["picked"] = best["name"]
            if pick_path is not None:
                atomic_write_text(pick_path, "\n".join(env_lines(best)) + "\n")
        atomic_write_text(out_path, json.dumps(info, indent=1))
        return best

    def record(name, fn, settings):
        row = {"name": name, "settings": settings}
        try:
            out = fn()
            if not smoke:
                torch.cuda.synchronize()
            if out is not None and tuple(out.shape[-2:]) == ref.shape[-2:]:
                row["max_abs_err_db"] = float(np.max(np.abs(out[:8].double().cpu().numpy() - ref)))
            if smoke:
                t = time.perf_counter()
                fn()
                row["ms"] = (time.perf_counter() - t) * 1e3
            else:
                row["ms"] = float(triton.testing.do_bench(fn, warmup=25, rep=100))
        except Exception as exc:  # a variant that fails to compile or launch is a result too
            row["error"] = f"{type(exc).__name__}: {str(exc).strip()[-600:]}"
            traceback.print_exc()
        rows.append(row)
        print(json.dumps(row), flush=True)
        publish()

    win_t = torch.hann_window(cfg["n_fft"], device=device)
    record("torch.stft only", lambda: torch.stft(y, cfg["n_fft"], cfg["hop_length"], window=win_t,
                                                  center=True, pad_mode="constant",
                                                  return_complex=True), {})
    # the peer chain in both power forms, eager here and compiled after the variants (the
    # benchmark takes |X|² for eager and view_as_real for torch.compile: these rows check it)
    for via in ("abs", "real"):
        record(f"torch eager chain ({via})",
               lambda f=torch_logmel_fn(16000, cfg, device, power_via=via): f(y),
               {"power_via": via})
    def budget_spent(name, settings):
        """True (and the row says so) once the sweep's budget is spent."""
        if time.time() - t0 <= budget:
            return False
        rows.append({"name": name, "settings": settings, "error": "skipped: sweep budget spent"})
        return True

    for name, kw in VARIANTS:
        kw = {**BASE, **kw}
        if budget_spent(name, kw):
            continue

        def fn(kw=kw):
            return triton_impl.spectral(y, n_fft=cfg["n_fft"], hop=cfg["hop_length"], window=win,
                                        center=True, pad_mode="constant", power=2.0, fb=fb,
                                        log_args=log_args, **kw)

        record(name, fn, kw)
    for via in ("abs", "real") if not smoke else ():  # Inductor compiles for seconds: last
        name = f"torch.compile chain ({via})"
        if budget_spent(name, {"power_via": via}):
            continue
        chain = torch.compile(torch_logmel_fn(16000, cfg, device, power_via=via))
        record(name, lambda f=chain: f(y), {"power_via": via})
    best = publish()
    if best is not None:
        print("picked", best["name"], best["ms"], "ms:", " ".join(env_lines(best)))
    return 0


def pick(rows: list[dict]) -> dict | None:
    """The fastest variant within TOL_DB of the float64 reference (tf32x3 ones only: a
    one-pass tf32 variant is timed for reference, never picked)."""
    ok = [r for r in rows if r["name"] in dict(VARIANTS) and "ms" in r
          and r.get("max_abs_err_db", 1e9) <= TOL_DB and "precision" not in r["settings"]
          and "fft" not in r["settings"]]
    return min(ok, key=lambda r: r["ms"]) if ok else None


def env_lines(best: dict) -> list[str]:
    """The picked variant as the environment variables triton_impl reads at import."""
    names = RADIX_ENV if best["settings"].get("radix") else ENV
    return [f"{names[k]}={int(v) if isinstance(v, bool) else v}"
            for k, v in best["settings"].items() if k in names]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
