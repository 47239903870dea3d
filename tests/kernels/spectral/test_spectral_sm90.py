"""The float32 GPU log-mel kernels compiled for an H100/H200 (sm_90) without a GPU.

The interpreter runs the kernels' arithmetic but not what only a GPU build has (the
hardware log2 through inline PTX, layouts, registers); Triton's own ptxas does. Each
kernel is compiled as a launch at workload (c) would specialise it (pointers 16-byte
aligned, integers divisible by 16 marked so, a unit stride folded in) and must fit:
at most 255 registers, shared memory under the 227 KB an SM block may take, and no
spills (the two-stage kernel, register-bound at its tensor-core tiles, spills a few
bytes: at most 64)."""
import os
import re
import subprocess

import pytest

triton = pytest.importorskip("triton")
pytest.importorskip("torch")
if os.environ.get("TRITON_INTERPRET") == "1":
    pytest.skip("TRITON_INTERPRET=1 turns the kernels into Python functions: nothing to compile",
                allow_module_level=True)
nvidia = pytest.importorskip("triton.backends.nvidia.compiler",
                             reason="this Triton has no NVIDIA backend")

# workload (c): 10 s at 16 kHz, n_fft 1024, hop 160, 64 mels, centred
VALUES = dict(n_samples=160000, n_frames=1001, hop=160, pad=512, n_rows=64, stride_yb=160000,
              stride_yn=1, stride_ob=64064, stride_or=1001)
INT_TABLES = ("start_ptr", "end_ptr", "row_ptr")


def compile_sm90(kernel, constexprs: dict, num_warps: int, **options):
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    consts, sig, attrs = dict(constexprs), {}, {}
    for i, name in enumerate(kernel.arg_names):
        if name in consts:
            sig[name] = "constexpr"
        elif name.endswith("_ptr"):
            sig[name] = "*i32" if name in INT_TABLES else "*fp32"
            attrs[(i,)] = [["tt.divisibility", 16]]
        elif VALUES.get(name) == 1:
            sig[name], consts[name] = "constexpr", 1
        else:
            sig[name] = "i32"
            if VALUES.get(name, 1) % 16 == 0:
                attrs[(i,)] = [["tt.divisibility", 16]]
    return triton.compile(ASTSource(fn=kernel, signature=sig, constexprs=consts, attrs=attrs),
                          target=GPUTarget("cuda", 90, 32),
                          options={"num_warps": num_warps, "num_stages": 1, **options})


def ptxas_report(compiled, tmp_path) -> str:
    try:
        ptxas = nvidia.get_ptxas(90).path
    except Exception as exc:  # a Triton install without its ptxas
        pytest.skip(f"Triton's ptxas for sm_90 is not available: {exc}")
    ptx = tmp_path / "kernel.ptx"
    ptx.write_text(compiled.asm["ptx"])
    res = subprocess.run([ptxas, "-arch=sm_90a", "-v", str(ptx), "-o",
                          str(tmp_path / "kernel.cubin")], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-2000:]
    return res.stderr


CASES = {  # name: kernel, its constexprs, warps, spilled bytes allowed, ptxas options
    "radix2 affine pack bt8 w8 (default)": ("radix", dict(SCATTER=2, PACK2=True, NYQ=False,
                                                          BLOCK_T=8), 8, 0),
    "radix2 affine pack bt8 w4": ("radix", dict(SCATTER=2, PACK2=True, NYQ=False, BLOCK_T=8),
                                  4, 0),
    "radix2 affine pack bt8 w4 r128": ("radix", dict(SCATTER=2, PACK2=True, NYQ=False,
                                                     BLOCK_T=8), 4, 0, {"maxnreg": 128}),
    "radix2 carry pack bt8 w4": ("radix", dict(SCATTER=1, PACK2=True, NYQ=True, BLOCK_T=8), 4, 0),
    "radix2 gather bt8 w8": ("radix", dict(SCATTER=0, PACK2=False, NYQ=True, BLOCK_T=8), 8, 0),
    "two-stage bt8 kc8 w4": ("two-stage", dict(PRECISION="tf32x3", N1=32, N2=32, KC=8,
                                               BLOCK_T=8), 4, 64),
}


@pytest.mark.parametrize("case", list(CASES))
def test_compiles_for_sm90_without_spills(case, tmp_path):
    from affrepro.kernels.spectral import triton_impl

    which, consts, warps, spill_allowed, *options = CASES[case]
    kernel = (triton_impl._logmel_radix2_kernel if which == "radix"
              else triton_impl._logmel_fft_kernel)
    extra = dict(LOGN=10) if which == "radix" else {}
    constexprs = dict(PAD_MODE=0, LOG=2, POWER2=True, BLOCK_M=64, **extra, **consts)
    compiled = compile_sm90(kernel, constexprs, warps, **(options[0] if options else {}))
    assert "lg2.approx.f32" in compiled.asm["ptx"]  # LOG 2: the hardware log2
    report = ptxas_report(compiled, tmp_path)
    regs = int(re.search(r"Used (\d+) registers", report).group(1))
    spills = [int(x) for x in re.findall(r"(\d+) bytes spill (?:stores|loads)", report)]
    assert regs <= 255 and spills and max(spills) <= spill_allowed, report
    assert compiled.metadata.shared <= 227 * 1024, compiled.metadata.shared
