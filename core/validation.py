"""One rule for the values every command takes: seeds and devices.

The CLI's click types (:mod:`affrepro.params`) and the Python API (``reproduce()``) both
call these functions, so ``--seeds``/``--device`` mean the same thing everywhere and are
refused with the same message (naming the value and what was expected).
"""
from __future__ import annotations

import re

from affrepro.errors import AffreproError

MAX_SEED = 2**32 - 1  # numpy's and torch's common range
DEVICE_FORMS = "cpu, cuda, cuda:N (N = 0, 1, ...) or auto"
_DEVICE = re.compile(r"cpu|auto|cuda(?::(0|[1-9][0-9]*))?")


class InvalidValue(AffreproError, ValueError):
    """A seed or device that does not follow the rule; the message says what was expected."""


def check_seeds(seeds) -> tuple[int, ...]:
    """Seeds as a tuple of ints in [0, 2**32 - 1], none repeated; InvalidValue naming the bad one."""
    out: list[int] = []
    for s in seeds:
        if isinstance(s, bool) or not isinstance(s, int) or not 0 <= s <= MAX_SEED:
            raise InvalidValue(f"seed {s!r} is not an integer in [0, {MAX_SEED}]")
        out.append(s)
    if not out:
        raise InvalidValue("no seed given")
    repeated = sorted({s for s in out if out.count(s) > 1})
    if repeated:
        raise InvalidValue(f"seed(s) {', '.join(map(str, repeated))} given twice")
    return tuple(out)


def parse_seeds(text: str) -> tuple[int, ...]:
    """``"0-4"`` -> (0, 1, 2, 3, 4); ``"0,3,7"``; ``"0-2,9"``. Order kept; an empty item,
    a negative or non-integer seed, a backwards range or a repeat is refused."""
    seeds: list[int] = []
    if not text.strip():
        raise InvalidValue(f"seeds {text!r}: no seed given (e.g. 0-4 or 0,3,7)")
    for part in (p.strip() for p in text.split(",")):
        if not part:
            raise InvalidValue(f"seeds {text!r}: an empty item (no empty items; e.g. 0-4 or 0,3,7)")
        lo, sep, hi = part.partition("-") if not part.startswith("-") else (part, "", "")
        try:
            if sep:
                a, b = int(lo), int(hi)
                if b < a:
                    raise InvalidValue(f"seeds {text!r}: range {part!r} runs backwards")
                seeds.extend(range(a, b + 1))
            else:
                seeds.append(int(part))
        except InvalidValue:
            raise
        except ValueError:
            raise InvalidValue(f"seeds {text!r}: {part!r} is not an integer or a range A-B") from None
    try:
        return check_seeds(seeds)
    except InvalidValue as exc:
        raise InvalidValue(f"seeds {text!r}: {exc}") from None


def check_device(device: str) -> str:
    """``device`` if it is one of cpu, cuda, cuda:N, auto; InvalidValue otherwise."""
    if not isinstance(device, str) or not _DEVICE.fullmatch(device):
        raise InvalidValue(f"device {device!r} is not one of {DEVICE_FORMS}")
    return device


def cuda_devices() -> tuple[int, str]:
    """(number of CUDA GPUs torch sees, a description of torch's build); (0, why) without torch."""
    try:
        import torch
    except ImportError:
        return 0, "torch is not installed"
    n = torch.cuda.device_count() if torch.cuda.is_available() else 0
    return n, f"torch {torch.__version__}, CUDA build: {torch.version.cuda or 'none (a CPU-only wheel)'}"


def resolve_device(device: str, *, require_gpu: bool = True) -> str:
    """The device a run uses and records: ``auto`` becomes ``cuda`` where torch sees a GPU,
    else ``cpu``; ``cuda``/``cuda:N`` without such a GPU is refused (``require_gpu``) with
    what torch sees. Only ``cuda*``/``auto`` import torch."""
    device = check_device(device)
    if device == "cpu":
        return device
    n, build = cuda_devices()
    if device == "auto":
        return "cuda" if n else "cpu"
    index = int(device.split(":", 1)[1]) if ":" in device else 0
    if require_gpu and index >= n:
        seen = f"sees {n} CUDA GPU(s)" if n else "sees no CUDA GPU"
        raise InvalidValue(f"device {device!r}: torch {seen} on this machine ({build}); "
                           "use --device cpu, or auto to take a GPU only where there is one")
    return device


def gpu_problem(device: str) -> str | None:
    """Why ``device`` (already checked) cannot run here, or None: for the Python API, where
    a protocol decides what to do without the GPU and the report says so."""
    if not device.startswith("cuda"):
        return None
    try:
        resolve_device(device)
    except InvalidValue as exc:
        return str(exc)
    return None
