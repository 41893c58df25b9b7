"""Writing VNNLIB: the robustness property of one box and label (vnnlib.py parses)."""
from __future__ import annotations

import os
from typing import Sequence

import numpy as np


def robustness_vnnlib(x_lower: Sequence[float], x_upper: Sequence[float], label: int, num_classes: int) -> str:
    """The VNNLIB text of 'some input in the box is not classified as label'."""
    x_lower = np.asarray(x_lower, dtype=np.float64).reshape(-1)
    x_upper = np.asarray(x_upper, dtype=np.float64).reshape(-1)
    lines = [f"; robustness of label {label}: the region where another class scores at least as high"]
    lines += [f"(declare-const X_{i} Real)" for i in range(x_lower.size)]
    lines += [f"(declare-const Y_{j} Real)" for j in range(num_classes)]
    for i, (lo, hi) in enumerate(zip(x_lower, x_upper)):
        lines.append(f"(assert (<= X_{i} {float(hi)!r}))")
        lines.append(f"(assert (>= X_{i} {float(lo)!r}))")
    options = " ".join(f"(and (>= Y_{j} Y_{label}))" for j in range(num_classes) if j != label)
    lines.append(f"(assert (or {options}))")
    return "\n".join(lines) + "\n"


def write_vnnlib(path: str, x_lower, x_upper, label: int, num_classes: int) -> str:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(robustness_vnnlib(x_lower, x_upper, label, num_classes))
    return path
