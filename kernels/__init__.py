"""Compiled kernels (Numba on the CPU, Triton on NVIDIA GPUs); see DESIGN.md."""
