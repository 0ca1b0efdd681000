"""Measuring: timers, peak memory, matrix-multiply rate, and the FLOPs a batch of sequences costs."""

from __future__ import annotations

import contextlib
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import torch

__all__ = ["MemoryProbe", "encoder_flops", "matmul_tflops", "timed"]


def timed(function: Callable[[], object], device: torch.device) -> float:
    """Seconds one call takes (the device synchronised on both sides)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    function()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - start


class MemoryProbe:
    """Peak memory during a region: resident-set high-water mark on the CPU (``/proc/self``), allocator peak on CUDA."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.baseline = 0

    def current_bytes(self) -> int:
        if self.device.type == "cuda":
            return int(torch.cuda.memory_allocated(self.device))
        return self._status("VmRSS")

    @staticmethod
    def _status(field: str) -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
        return 0

    def reset(self) -> None:
        self.baseline = self.current_bytes()
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
            return
        with contextlib.suppress(OSError):  # "5" resets the resident-set high-water mark (Linux >= 4.0)
            Path("/proc/self/clear_refs").write_text("5")

    def peak_bytes(self) -> int:
        if self.device.type == "cuda":
            return int(torch.cuda.max_memory_allocated(self.device))
        return self._status("VmHWM")


def matmul_tflops(
    device: torch.device, dtype: torch.dtype = torch.float32, size: int = 2048, repeats: int = 10
) -> float:
    """Achieved TFLOP/s of a square matrix product (torch.mm) on ``device``: the machine's ceiling in this run."""
    generator = torch.Generator(device="cpu").manual_seed(0)
    a = torch.randn(size, size, generator=generator).to(device, dtype)
    b = torch.randn(size, size, generator=generator).to(device, dtype)
    torch.mm(a, b)
    seconds = statistics.median(timed(lambda: torch.mm(a, b), device) for _ in range(repeats))
    return 2 * size**3 / seconds / 1e12


def encoder_flops(
    lengths: Sequence[int],
    *,
    layers: int,
    hidden: int,
    intermediate: int,
    position_span: int = 0,
) -> float:
    """Multiply-add FLOPs (x2) of a transformer encoder over sequences of ``lengths`` tokens.

    Per layer and token: the four attention projections and the two feed-forward matrices, 2·(4·D² + 2·D·I);
    per layer and sequence: scores and the value product, 2·2·L²·D; DeBERTa's disentangled attention adds the two
    position terms against 2·span relative positions, 2·2·L·(2·span)·D. Embeddings and heads are negligible.
    """
    total = 0.0
    for length in lengths:
        per_layer = 2 * length * (4 * hidden**2 + 2 * hidden * intermediate)
        per_layer += 4 * length**2 * hidden
        per_layer += 4 * length * 2 * position_span * hidden
        total += layers * per_layer
    return total
