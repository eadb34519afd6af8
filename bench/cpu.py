"""Where a benchmark ran: the CPU's model and the vector extensions that decide its speed."""

from __future__ import annotations

import os
import platform

EXTENSIONS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile")


def cpu_info() -> tuple[str, tuple[str, ...]]:
    """Return (the CPU's model name, the vector extensions of :data:`EXTENSIONS` it has), from /proc/cpuinfo
    (the platform's processor name and no extensions where that file is missing)."""
    name, flags = platform.processor() or platform.machine(), set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and name == (platform.processor() or platform.machine()):
                    name = value.strip()
                elif key.strip() == "flags":
                    flags = set(value.split())
                    break
    except OSError:
        pass
    return name, tuple(e for e in EXTENSIONS if e in flags)


def cpu_line() -> str:
    """Return one header line: the CPU, its cores, its vector extensions and the load when the run started."""
    name, found = cpu_info()
    try:
        load = ", load average %.2f" % os.getloadavg()[0]
    except OSError:
        load = ""
    return f"CPU: {name}, {os.cpu_count()} cores, vector extensions: {' '.join(found) or 'none of ' + '/'.join(EXTENSIONS)}{load}" \
        + kernels_text()


EMULATION = ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA")
"""The environment variables that cap the vector extensions PyTorch's kernels use (ATen's and oneDNN's): with
ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 an AVX-512 machine runs the kernels an AVX2-only CPU runs."""


def kernels_text() -> str:
    """Return "; kernels: ATen <capability>" and the capping variables that are set ("" without torch)."""
    try:
        import torch

        capability = f"; kernels: ATen {torch.backends.cpu.get_cpu_capability()}"
    except (ImportError, AttributeError):
        return ""
    capped = [f"{k}={os.environ[k]}" for k in EMULATION if os.environ.get(k)]
    return capability + (f" (capped: {' '.join(capped)})" if capped else "")
