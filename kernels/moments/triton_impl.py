"""Paired moments on the GPU with Triton: a persistent per-lane Welford pass, then one Chan merge.

Pass 1 (``_program_moments``) launches P programs (P = SMs × programs per SM, capped by
how many fit on an SM at once and by the number of tiles; 4 under the interpreter).
A tile is ``BLOCK`` consecutive pairs; program p walks the full tiles p, p+P, p+2P, …
with unmasked loads (Triton's loop pipeliner keeps ``STAGES`` − 1 tiles in flight
through shared memory; ``STAGES = 0`` instead prefetches the next tile into
registers by hand), widens each pair to float64, subtracts the first
pair (x₀, y₀) from x and y (so a large common offset costs no precision; d = x − y is
taken from the unshifted values) and keeps, per lane ℓ, a running Welford state in
registers. All lanes of a program have seen the same number of pairs c, so the count
is one scalar and 1/c one scalar reciprocal per tile (a float32 quotient and two
float64 Newton steps, within an ulp):

    c ← c + 1,  δx = x − x̄ℓ,  x̄ℓ ← x̄ℓ + δx/c,  M2xℓ ← M2xℓ + δx (x − x̄ℓ)   (new x̄ℓ)
    (likewise ȳℓ, M2yℓ and d̄ℓ, M2dℓ),  Cxyℓ ← Cxyℓ + δx (y − ȳℓ)   (new ȳℓ),
    S|d|ℓ ← S|d|ℓ + |d|.

The one partial tail tile (n mod BLOCK ≠ 0, tile index ⌊n/BLOCK⌋) is folded in by the
program that owns it (⌊n/BLOCK⌋ mod P) with a masked load and a per-lane count
cℓ = c + [lane valid]. Each program then merges its lanes (whose counts differ after the
tail) with the exact many-group form of Chan's update and writes one row of 9 float64
(the layout of ``reference``: count, x̄ and ȳ relative to (x₀, y₀), M2x, M2y, Cxy, d̄,
M2d, S|d|); a program with no pairs writes count 0 and zeros:

    N = Σ nℓ,  v̄ = Σ nℓ v̄ℓ / N,  M2 = Σ M2ℓ + Σ nℓ (v̄ℓ − v̄)²,
    Cxy = Σ Cxyℓ + Σ nℓ (x̄ℓ − x̄)(ȳℓ − ȳ),  S|d| = Σ S|d|ℓ.

Pass 2 (``_merge_blocks``, one program) merges the P rows with the same formula, adds
(x₀, y₀) back to the means and writes the 9-vector: two launches, no host
synchronisation. :func:`merge_blocks` is the PyTorch form of pass 2 (its test oracle).

Tunables (keyword arguments, defaults overridable from the environment for a GPU sweep):
``block`` (AFFREPRO_MOMENTS_BLOCK, a power of 2), ``num_warps``
(AFFREPRO_MOMENTS_NUM_WARPS), ``programs_per_sm`` (AFFREPRO_MOMENTS_PROGRAMS_PER_SM; at
most as many as fit, from the compiled kernel's registers and shared memory),
``stages`` (AFFREPRO_MOMENTS_STAGES); ``programs`` sets P exactly (no cap: programs
without tiles are allowed, e.g. for tests).

Under ``TRITON_INTERPRET=1`` the same kernels run on CPU tensors (for tests).
"""
from __future__ import annotations

import os

import torch
import triton
import triton.language as tl


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


# Defaults measured on an H200 (100 M float32 pairs, one run): BLOCK 512 on 4 warps
# (4 pairs a thread, 128 registers, 4 programs an SM) 0.215 ms; 256 on 4 warps (72
# registers, 7 programs an SM) 0.249 ms; 512 on 8 warps 0.258; 128 0.329. STAGES − 1 tiles
# a program are in flight in shared memory.
BLOCK = _env_int("AFFREPRO_MOMENTS_BLOCK", 512)
NUM_WARPS = _env_int("AFFREPRO_MOMENTS_NUM_WARPS", 4)
PROGRAMS_PER_SM = _env_int("AFFREPRO_MOMENTS_PROGRAMS_PER_SM", 8)
STAGES = _env_int("AFFREPRO_MOMENTS_STAGES", 4)
INTERPRETER_PROGRAMS = 4
MERGE_CHUNK = 1024


@triton.jit
def _welford(x, y, d, ad, inv, mx, my, md, m2x, m2y, cxy, m2d, sabs):
    """One Welford step of every lane's state with the pair (x, y), d = x − y and
    ad = |d|; ``inv`` is 1/(new count) (a scalar, or one per lane)."""
    dx = x - mx
    mx = mx + dx * inv
    m2x = m2x + dx * (x - mx)
    dy = y - my
    my = my + dy * inv
    ry = y - my
    m2y = m2y + dy * ry
    cxy = cxy + dx * ry
    dd = d - md
    md = md + dd * inv
    m2d = m2d + dd * (d - md)
    sabs = sabs + ad
    return mx, my, md, m2x, m2y, cxy, m2d, sabs


@triton.jit
def _reciprocal(k):
    """1/k in float64 for a count k ≥ 1, to within an ulp: a float32 quotient refined by
    two Newton steps (r ← r + r(1 − kr)); 4 FMAs instead of a full-precision division."""
    kd = tl.cast(k, tl.float64)
    r = tl.cast(1.0 / tl.cast(k, tl.float32), tl.float64)
    r = r + r * (1.0 - kd * r)
    return r + r * (1.0 - kd * r)


@triton.jit(do_not_specialize=["n"])
def _program_moments(x_ptr, y_ptr, out_ptr, n, stride_x, stride_y, BLOCK: tl.constexpr,
                     STAGES: tl.constexpr):
    pid = tl.program_id(0).to(tl.int64)
    nprog = tl.num_programs(0).to(tl.int64)
    n = tl.cast(n, tl.int64)
    lanes = tl.arange(0, BLOCK)
    # shift by the first pair (as the Numba backend) so a large offset costs no precision
    kx = tl.load(x_ptr).to(tl.float64)
    ky = tl.load(y_ptr).to(tl.float64)

    n_full = n // BLOCK                                  # full tiles
    my_tiles = (n_full - pid + nprog - 1) // nprog       # pid < nprog, so never negative
    zero = tl.zeros([BLOCK], dtype=tl.float64)
    mx = zero
    my = zero
    md = zero
    m2x = zero
    m2y = zero
    cxy = zero
    m2d = zero
    sabs = zero
    if STAGES > 0:
        # Triton's software pipeliner keeps STAGES - 1 tiles in flight (cp.async to shared)
        for i in tl.range(0, my_tiles, num_stages=STAGES):
            offs = (pid + i * nprog) * BLOCK + lanes
            xr = tl.load(x_ptr + offs * stride_x).to(tl.float64)
            yr = tl.load(y_ptr + offs * stride_y).to(tl.float64)
            inv = _reciprocal(i + 1)
            d = xr - yr
            mx, my, md, m2x, m2y, cxy, m2d, sabs = _welford(
                xr - kx, yr - ky, d, tl.abs(d), inv, mx, my, md, m2x, m2y, cxy, m2d, sabs)
    else:
        # the next tile is loaded into registers before this one is used (its last step
        # loads the last tile again, unmasked); the first load is masked (maybe no tiles)
        last = pid + (my_tiles - 1) * nprog
        offs = pid * BLOCK + lanes
        first = offs < n_full * BLOCK
        xa = tl.load(x_ptr + offs * stride_x, mask=first, other=0.0)
        ya = tl.load(y_ptr + offs * stride_y, mask=first, other=0.0)
        for i in range(0, my_tiles):
            nxt = tl.minimum(pid + (i + 1) * nprog, last) * BLOCK + lanes
            xb = tl.load(x_ptr + nxt * stride_x)
            yb = tl.load(y_ptr + nxt * stride_y)
            xr = xa.to(tl.float64)
            yr = ya.to(tl.float64)
            inv = _reciprocal(i + 1)
            d = xr - yr
            mx, my, md, m2x, m2y, cxy, m2d, sabs = _welford(
                xr - kx, yr - ky, d, tl.abs(d), inv, mx, my, md, m2x, m2y, cxy, m2d, sabs)
            xa = xb
            ya = yb

    # the partial tail tile, by its owner (every other program gets an all-false mask);
    # a masked-out lane is fed its own means with weight 0, which leaves it unchanged
    c = tl.cast(my_tiles, tl.float64)
    offs = n_full * BLOCK + lanes
    end = tl.where(pid == n_full % nprog, n, n_full * BLOCK)
    tail = offs < end
    xr = tl.load(x_ptr + offs * stride_x, mask=tail, other=0.0).to(tl.float64)
    yr = tl.load(y_ptr + offs * stride_y, mask=tail, other=0.0).to(tl.float64)
    cnt = c + tail.to(tl.float64)
    inv = tl.where(tail, _reciprocal(tl.maximum(cnt, 1.0)), 0.0)
    d = xr - yr
    mx, my, md, m2x, m2y, cxy, m2d, sabs = _welford(
        tl.where(tail, xr - kx, mx), tl.where(tail, yr - ky, my), tl.where(tail, d, md),
        tl.where(tail, tl.abs(d), 0.0), inv, mx, my, md, m2x, m2y, cxy, m2d, sabs)

    # exact Chan merge over the lanes (counts cnt; lanes that saw nothing hold zeros)
    total = tl.sum(cnt, axis=0)
    safe = tl.maximum(total, 1.0)
    gx = tl.sum(cnt * mx, axis=0) / safe
    gy = tl.sum(cnt * my, axis=0) / safe
    gd = tl.sum(cnt * md, axis=0) / safe
    ex = mx - gx
    ey = my - gy
    ed = md - gd
    base = out_ptr + pid * 9
    tl.store(base + 0, total)
    tl.store(base + 1, gx)
    tl.store(base + 2, gy)
    tl.store(base + 3, tl.sum(m2x + cnt * ex * ex, axis=0))
    tl.store(base + 4, tl.sum(m2y + cnt * ey * ey, axis=0))
    tl.store(base + 5, tl.sum(cxy + cnt * ex * ey, axis=0))
    tl.store(base + 6, gd)
    tl.store(base + 7, tl.sum(m2d + cnt * ed * ed, axis=0))
    tl.store(base + 8, tl.sum(sabs, axis=0))


_OCCUPANCY: dict = {}


def _programs_per_sm_that_fit(x, y, n, block: int, num_warps: int, stages: int) -> int:
    """How many programs of this compiled kernel one SM holds at once (registers, warps,
    shared memory). A persistent grid larger than that would run as a second wave and
    take about twice as long. Where the compiled kernel cannot be asked (another Triton
    version), 128 registers a thread are assumed."""
    key = (x.device.index, x.dtype, y.dtype, x.stride(0) == 1, y.stride(0) == 1, block,
           num_warps, stages)
    fit = _OCCUPANCY.get(key)
    if fit is None:
        regs, shared = 128, 0
        props = {}
        try:
            probe = torch.empty((1, 9), dtype=torch.float64, device=x.device)
            kernel = _program_moments.warmup(x, y, probe, n, x.stride(0), y.stride(0),
                                             BLOCK=block, STAGES=stages,
                                             num_warps=num_warps, grid=(1,))
            kernel._init_handles()
            regs = int(kernel.n_regs)
            shared = int(getattr(kernel.metadata, "shared", 0) or 0)
            props = triton.runtime.driver.active.utils.get_device_properties(x.device.index)
        except Exception:  # noqa: BLE001 - keep the conservative guess
            pass
        regs = max(8, -(-regs // 8) * 8)  # registers are allocated per thread in 8s
        fit = props.get("max_num_regs", 65536) // (regs * 32 * num_warps)
        fit = min(fit, 64 // num_warps, 32)  # 64 warps and 32 blocks per SM (sm_80+)
        if shared:
            fit = min(fit, (props.get("max_shared_mem", 232448) + 1024) // (shared + 1024))
        fit = max(1, fit)
        _OCCUPANCY[key] = fit
    return fit


def _grid(x, y, n, block, num_warps, stages, programs, programs_per_sm) -> int:
    """P: ``programs`` if given; else SMs × programs per SM (at most as many as fit on an
    SM at once), or 4 on the CPU (interpreter); never more than there are tiles."""
    if programs is not None:
        return max(1, int(programs))
    tiles = max(1, triton.cdiv(n, block))
    if not x.is_cuda:
        return min(INTERPRETER_PROGRAMS, tiles)
    per_sm = PROGRAMS_PER_SM if programs_per_sm is None else int(programs_per_sm)
    per_sm = min(per_sm, _programs_per_sm_that_fit(x, y, n, block, num_warps, stages))
    sms = torch.cuda.get_device_properties(x.device).multi_processor_count
    return max(1, min(sms * per_sm, tiles))


def _settings(block, num_warps, stages) -> tuple[int, int, int]:
    """block, num_warps and stages, defaults (environment included) filled in."""
    return (BLOCK if block is None else int(block),
            NUM_WARPS if num_warps is None else int(num_warps),
            STAGES if stages is None else int(stages))


def launch_config(x: torch.Tensor, y: torch.Tensor, block: int | None = None,
                  programs: int | None = None, num_warps: int | None = None,
                  programs_per_sm: int | None = None, stages: int | None = None) -> dict:
    """The settings :func:`paired_moments` would launch with (defaults and environment
    filled in, P resolved), for benchmarks and sweeps to record."""
    block, num_warps, stages = _settings(block, num_warps, stages)
    n = max(1, x.shape[0])
    cfg = {"block": block, "num_warps": num_warps, "stages": stages,
           "programs": _grid(x, y, n, block, num_warps, stages, programs, programs_per_sm)}
    if x.is_cuda:
        cfg["programs_per_sm_fit"] = _programs_per_sm_that_fit(x, y, n, block, num_warps,
                                                               stages)
        cfg["sms"] = torch.cuda.get_device_properties(x.device).multi_processor_count
    return cfg


def block_moments(x: torch.Tensor, y: torch.Tensor, block: int | None = None,
                  programs: int | None = None, num_warps: int | None = None,
                  programs_per_sm: int | None = None, stages: int | None = None
                  ) -> torch.Tensor:
    """The per-program moments, shape (P, 9), float64 on x's device (n ≥ 1).

    Row p holds the moments of the pairs in tiles p, p+P, … (and the tail tile if p owns
    it), with x̄ and ȳ relative to the first pair; :func:`merge_blocks` combines them.
    """
    block, num_warps, stages = _settings(block, num_warps, stages)
    n = x.shape[0]
    if n == 0:
        raise ValueError("block_moments needs at least one pair")
    nprog = _grid(x, y, n, block, num_warps, stages, programs, programs_per_sm)
    out = torch.empty((nprog, 9), dtype=torch.float64, device=x.device)
    _program_moments[(nprog,)](x, y, out, n, x.stride(0), y.stride(0), BLOCK=block,
                               STAGES=stages, num_warps=num_warps)
    return out


def merge_blocks(b: torch.Tensor) -> torch.Tensor:
    """Combine per-block moments (k, 9) into one 9-vector (exact many-group Chan update).

    The block means of x and y are relative to the first pair; the caller adds it back.
    (PyTorch form of the ``_merge_blocks`` kernel, kept as its test oracle.)
    """
    cnt = b[:, 0]
    n = cnt.sum()
    mx = (cnt * b[:, 1]).sum() / n
    my = (cnt * b[:, 2]).sum() / n
    md = (cnt * b[:, 6]).sum() / n
    ex, ey, ed = b[:, 1] - mx, b[:, 2] - my, b[:, 6] - md
    return torch.stack([
        n, mx, my,
        b[:, 3].sum() + (cnt * ex * ex).sum(),
        b[:, 4].sum() + (cnt * ey * ey).sum(),
        b[:, 5].sum() + (cnt * ex * ey).sum(),
        md,
        b[:, 7].sum() + (cnt * ed * ed).sum(),
        b[:, 8].sum(),
    ])


@triton.jit
def _merge_blocks(b_ptr, out_ptr, k, x_ptr, y_ptr, CHUNK: tl.constexpr):
    """One program: the exact many-group Chan merge of k block rows, plus the shift back."""
    lanes = tl.arange(0, CHUNK)
    n_acc = tl.zeros([CHUNK], dtype=tl.float64)
    sx = tl.zeros([CHUNK], dtype=tl.float64)
    sy = tl.zeros([CHUNK], dtype=tl.float64)
    sd = tl.zeros([CHUNK], dtype=tl.float64)
    for start in range(0, k, CHUNK):
        rows = start + lanes
        m = rows < k
        c = tl.load(b_ptr + rows * 9, mask=m, other=0.0)
        n_acc += c
        sx += c * tl.load(b_ptr + rows * 9 + 1, mask=m, other=0.0)
        sy += c * tl.load(b_ptr + rows * 9 + 2, mask=m, other=0.0)
        sd += c * tl.load(b_ptr + rows * 9 + 6, mask=m, other=0.0)
    n = tl.sum(n_acc, axis=0)
    mx = tl.sum(sx, axis=0) / n
    my = tl.sum(sy, axis=0) / n
    md = tl.sum(sd, axis=0) / n
    qx = tl.zeros([CHUNK], dtype=tl.float64)
    qy = tl.zeros([CHUNK], dtype=tl.float64)
    qc = tl.zeros([CHUNK], dtype=tl.float64)
    qd = tl.zeros([CHUNK], dtype=tl.float64)
    sa = tl.zeros([CHUNK], dtype=tl.float64)
    for start in range(0, k, CHUNK):
        rows = start + lanes
        m = rows < k
        c = tl.load(b_ptr + rows * 9, mask=m, other=0.0)
        ex = tl.where(m, tl.load(b_ptr + rows * 9 + 1, mask=m, other=0.0) - mx, 0.0)
        ey = tl.where(m, tl.load(b_ptr + rows * 9 + 2, mask=m, other=0.0) - my, 0.0)
        ed = tl.where(m, tl.load(b_ptr + rows * 9 + 6, mask=m, other=0.0) - md, 0.0)
        qx += tl.load(b_ptr + rows * 9 + 3, mask=m, other=0.0) + c * ex * ex
        qy += tl.load(b_ptr + rows * 9 + 4, mask=m, other=0.0) + c * ey * ey
        qc += tl.load(b_ptr + rows * 9 + 5, mask=m, other=0.0) + c * ex * ey
        qd += tl.load(b_ptr + rows * 9 + 7, mask=m, other=0.0) + c * ed * ed
        sa += tl.load(b_ptr + rows * 9 + 8, mask=m, other=0.0)
    kx = tl.load(x_ptr).to(tl.float64)
    ky = tl.load(y_ptr).to(tl.float64)
    tl.store(out_ptr + 0, n)
    tl.store(out_ptr + 1, kx + mx)
    tl.store(out_ptr + 2, ky + my)
    tl.store(out_ptr + 3, tl.sum(qx, axis=0))
    tl.store(out_ptr + 4, tl.sum(qy, axis=0))
    tl.store(out_ptr + 5, tl.sum(qc, axis=0))
    tl.store(out_ptr + 6, md)
    tl.store(out_ptr + 7, tl.sum(qd, axis=0))
    tl.store(out_ptr + 8, tl.sum(sa, axis=0))


def paired_moments(x: torch.Tensor, y: torch.Tensor, block: int | None = None,
                   programs: int | None = None, num_warps: int | None = None,
                   programs_per_sm: int | None = None, stages: int | None = None,
                   chunk: int | None = None) -> torch.Tensor:
    """The 9 paired moments of two 1-D tensors, a float64 tensor on their device.

    Two launches and no host synchronisation: the persistent per-lane kernel (P rows),
    then a one-program merge kernel (the same maths as :func:`merge_blocks`). ``block``,
    ``num_warps``, ``programs_per_sm`` and ``programs`` (P exactly) are the tunables.
    """
    if x.shape[0] == 0:
        return torch.zeros(9, dtype=torch.float64, device=x.device)
    rows = block_moments(x, y, block, programs, num_warps, programs_per_sm, stages)
    k = rows.shape[0]
    if chunk is None:
        chunk = min(MERGE_CHUNK, max(16, triton.next_power_of_2(k)))
    out = torch.empty(9, dtype=torch.float64, device=x.device)
    _merge_blocks[(1,)](rows, out, k, x, y, CHUNK=chunk, num_warps=4)
    return out
