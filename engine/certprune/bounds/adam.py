"""Adam for the bound optimisers (alpha-CROWN, beta-CROWN), without ``torch.optim``.

The update is torch.optim.Adam's with its defaults (betas 0.9 / 0.999, eps 1e-8, no
weight decay), and ``decay`` is ExponentialLR's step. It is written out because the
first ``torch.optim`` optimizer a process builds imports ``torch._dynamo``: about 2 s
on this project's machines, paid by every ``verify`` process that reaches alpha-CROWN
(bench/verify_startup.py measures it).
"""
from __future__ import annotations

import math
from typing import Iterable, List, Sequence, Tuple

import torch
from torch import Tensor


class Adam:
    """groups: (tensors, learning rate) pairs; tensors need requires_grad."""

    def __init__(self, groups: Iterable[Tuple[Sequence[Tensor], float]],
                 betas: Tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        self.groups: List[Tuple[List[Tensor], float]] = [(list(ps), float(lr)) for ps, lr in groups]
        self.betas, self.eps, self.steps = betas, eps, 0
        self.state = {id(p): (torch.zeros_like(p), torch.zeros_like(p)) for ps, _ in self.groups for p in ps}

    @property
    def params(self) -> List[Tensor]:
        return [p for ps, _ in self.groups for p in ps]

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        self.steps += 1
        b1, b2 = self.betas
        correction1 = 1 - b1 ** self.steps
        root2 = math.sqrt(1 - b2 ** self.steps)
        for ps, lr in self.groups:
            for p in ps:
                if p.grad is None:
                    continue
                m, v = self.state[id(p)]
                m.lerp_(p.grad, 1 - b1)
                v.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
                p.addcdiv_(m, v.sqrt().div_(root2).add_(self.eps), value=-lr / correction1)

    def select(self, index: Tensor) -> "Adam":
        """The same optimiser over rows ``index`` of every parameter (dimension 0): new leaf
        tensors with those rows, their moments and the step count carried over. Optimises
        a batch that drops members part-way (beta-CROWN's domains proven safe)."""
        chosen = Adam.__new__(Adam)
        chosen.betas, chosen.eps, chosen.steps = self.betas, self.eps, self.steps
        chosen.groups, chosen.state = [], {}
        for ps, lr in self.groups:
            kept = []
            for p in ps:
                q = p.detach()[index].requires_grad_()
                m, v = self.state[id(p)]
                chosen.state[id(q)] = (m[index], v[index])
                kept.append(q)
            chosen.groups.append((kept, lr))
        return chosen

    def decay(self, gamma: float) -> None:
        """Multiply every learning rate by gamma (ExponentialLR's step)."""
        self.groups = [(ps, lr * gamma) for ps, lr in self.groups]
