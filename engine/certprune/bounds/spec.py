"""Output specifications: the robustness margins of a classifier."""
from __future__ import annotations

import torch
from torch import Tensor


def margin_spec(y: Tensor, num_classes: int, dtype: torch.dtype = torch.float32) -> Tensor:
    """C (B, K-1, K) with rows e_y - e_j for every j != y, in increasing j.

    C @ logits are the margins logit_y - logit_j; the sample is robust iff all are > 0.
    """
    y = y.reshape(-1).long()
    if bool(((y < 0) | (y >= num_classes)).any()):
        raise ValueError(f"labels must lie in [0, {num_classes}), got {y.tolist()}")
    eye = torch.eye(num_classes, dtype=dtype, device=y.device)
    others = torch.arange(num_classes - 1, device=y.device).unsqueeze(0)  # (1, K-1)
    others = others + (others >= y.unsqueeze(1)).long()  # skip the true class: (B, K-1)
    return eye[y].unsqueeze(1) - eye[others]


def other_classes(y: int, num_classes: int) -> list:
    """The class j of each margin row of ``margin_spec`` for label y."""
    return [j for j in range(num_classes) if j != int(y)]
