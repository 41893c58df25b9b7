"""CROWN-IBP with loss fusion: one CROWN backward pass per sample instead of one per margin.

    loss, stats, bound = fused_crown_ibp_loss(model, x, y, eps, eps_max)
    ce_upper = fused_ce_upper_bound(model, x_lower, x_upper, y, beta=1.0).ce   # (B,)

The objective, exactly. Write d_j(x) = z_j(x) - z_y(x) for the logits z of an input x in
the box (d_y = 0), so that CE(z(x), y) = log S(x) with S(x) = sum_j exp(d_j(x)).

* Plain CROWN-IBP (certprune.train.losses) bounds each margin m_j = -d_j from below by
  its own CROWN row (K-1 rows per sample) and takes CE of the worst-case logits:
      L_plain = log(1 + sum_{j != y} exp(-lower_crown(m_j)))
  i.e. log of sum_j max_x exp(d_j(x)): every class gets its own worst input.
* Loss fusion (auto_LiRPA's CrossEntropyWrapper + BoundExp.bound_backward, Xu et al. 2020
  "Automatic perturbation analysis for scalable certified robustness and beyond", the
  ``loss_fusion`` flag of its training examples) bounds S itself: IBP gives each d_j an
  interval [a_j, b_j]; on it exp(d - s) lies under its chord
      exp(d - s) <= e^(a_j - s) + k_j (d - a_j),  k_j = (e^(b_j - s) - e^(a_j - s)) / (b_j - a_j)
  (s = max(0, max_j b_j), detached, keeps the exponentials <= 1, as auto_LiRPA's
  ``max_input``). The sum of chords is ONE linear function of the logits, sum_j k_j d_j,
  and a single CROWN backward pass (S = 1 row) bounds its maximum over the box:
      L_fused = log(U_crown) + s,   U_crown >= max_x sum_j exp(d_j(x) - s).
  Different from L_plain in three ways: the maximum is taken jointly over x (one input
  for all classes: tighter), exp is replaced by its chord on the IBP interval (looser, the
  gap grows with the IBP width), and the ReLU relaxations' adaptive slopes are chosen for
  the one fused row rather than per margin. Both are upper bounds of max_x CE; neither
  dominates the other (tests/test_loss_fusion.py measures both on a tiny net).
* The IBP part uses the same margins as plain IBP, so with beta = 0 (after the ramp)
  L_fused = log(exp(-s) + sum_j exp(-lower_ibp(m_j) - s)) + s = L_plain(IBP) to rounding.
* The eps ramp mixes like auto_LiRPA's training script: the two upper bounds of S are
  mixed, U = beta * U_crown + (1 - beta) * U_ibp with beta = (eps_max - eps) / eps_max
  (plain CROWN-IBP mixes the margin lower bounds instead: another difference).

Cost: the backward pass carries (B, 1, *layer) coefficients instead of (B, K-1, *layer),
which brings CROWN-IBP to about IBP's cost (auto_LiRPA's claim; bench/train_speed.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..bounds import margin_spec
from ..bounds.crown import backward_from, concretize
from ..bounds.graph import build_graph
from ..bounds.ibp import interval_bounds
from ..bounds.operators import BoundLinear, BoundReLU
from .losses import _box, _num_classes, clean_logits

#: below this IBP width the chord slope is replaced by exp at the upper end (still sound:
#: e^a (e^w - 1) <= w e^(a + w)), which avoids dividing by ~0.
MIN_WIDTH = 1e-6


@dataclass
class FusedBound:
    """What ``fused_ce_upper_bound`` returns (all per sample, B rows).

    ce: upper bound of max over the box of CE(model(x), y), (B,).
    ibp_margin_lower: IBP lower bounds of the margins z_y - z_j, (B, K-1).
    preactivations: IBP (l, u) of every ReLU input, relu_indices: their Sequential indices
    (what RS/NRS reuse at the full eps, as from certprune.bounds.Bounds); clean_output /
    batch_statistics as in Bounds (train-mode BatchNorm only, else None / {}).
    """
    ce: Tensor
    ibp_margin_lower: Tensor
    preactivations: list
    relu_indices: list
    clean_output: Optional[Tensor]
    batch_statistics: dict


def _chord(lower: Tensor, upper: Tensor):
    """(slope k, value at the lower end) of exp's chord on [lower, upper], both (B, K-1)."""
    e_lo, e_hi = torch.exp(lower), torch.exp(upper)
    width = upper - lower
    narrow = width < MIN_WIDTH
    safe = torch.where(narrow, torch.ones_like(width), width)
    return torch.where(narrow, e_hi, (e_hi - e_lo) / safe), e_lo


def fused_ce_upper_bound(model: nn.Sequential, x_lower: Tensor, x_upper: Tensor, y: Tensor,
                         beta: float = 1.0, clean_input: Optional[Tensor] = None,
                         num_classes: Optional[int] = None) -> FusedBound:
    """Upper bound of CE over the box [x_lower, x_upper] (B, *input_shape) by loss fusion.

    beta: weight of the CROWN bound of S (1 - beta on the IBP bound); beta 0 skips the
    backward pass. clean_input: the batch whose statistics train-mode BatchNorm layers use
    (defaults to the box centre). Differentiable.
    """
    if num_classes is None:
        num_classes = _num_classes(model)
    if clean_input is None and any(isinstance(m, nn.modules.batchnorm._BatchNorm) and m.training for m in model):
        clean_input = (x_lower + x_upper) / 2
    spec = margin_spec(y, num_classes).to(dtype=x_lower.dtype, device=x_lower.device)  # (B, K-1, K)
    graph = build_graph(model, x_lower.shape[1:], clean_input=clean_input, spec=spec)
    pre, out_iv = interval_bounds(graph, x_lower, x_upper)  # out_iv: margins m_j, (B, K-1)
    d_lower, d_upper = -out_iv.upper, -out_iv.lower  # d_j = z_j - z_y = -m_j
    shift = d_upper.max(dim=1).values.clamp(min=0.0).detach()  # (B,): s >= 0 covers d_y = 0
    d_lower, d_upper = d_lower - shift[:, None], d_upper - shift[:, None]
    own = torch.exp(-shift)  # the j = y term exp(0 - s)
    ibp_sum = own + torch.exp(d_upper).sum(dim=1)  # (B,)
    total = ibp_sum
    if beta > 0:
        slope, at_lower = _chord(d_lower, d_upper)  # (B, K-1) each
        # exp(-s) S(x) <= own + sum_j at_lower_j + k_j (t_j - d_lower_j), t_j = d_j - s = -m_j - s
        # (d_lower/d_upper are shifted by s already): constant + sum_j (-k_j) m_j(x).
        constant = own + (at_lower - slope * d_lower).sum(dim=1) - (slope * shift[:, None]).sum(dim=1)
        coeff = -slope.unsqueeze(1)  # (B, 1, K-1): the fused row, over the margins
        last = graph.ops[-1]
        if not isinstance(last, BoundLinear) or not last.batched:
            raise ValueError("loss fusion needs a model whose last layer is a Linear layer")
        start, bias = last.backward_coefficients(coeff)  # (B, 1, hidden), (B, 1)
        relax = {p: BoundReLU.relaxation(l, u) for p, (l, u) in pre.items()}
        lin = backward_from(graph, len(graph.ops) - 2, None, start, relax)
        _, upper = concretize(lin, x_lower, x_upper)  # (B, 1)
        crown_sum = (upper + bias).squeeze(1) + constant  # concretize already adds lin.ubias
        # exp(-s) S(x) >= exp(-s) everywhere (its j = y term), so this keeps it an upper bound
        # and positive where rounding of the constant could push a tiny bound below 0.
        crown_sum = torch.maximum(crown_sum, own)
        total = beta * crown_sum + (1.0 - beta) * ibp_sum if beta < 1 else crown_sum
    ce = torch.log(total) + shift
    positions = sorted(pre)
    return FusedBound(ce=ce, ibp_margin_lower=out_iv.lower, preactivations=[pre[p] for p in positions],
                      relu_indices=[graph.ops[p].index for p in positions],
                      clean_output=graph.clean_output, batch_statistics=graph.batch_statistics)


def fused_crown_ibp_loss(model: nn.Sequential, x: Tensor, y: Tensor, eps: float, eps_max: float):
    """The CROWN-IBP regime's loss with loss fusion, for the box x +- eps within [0, 1].

    beta = (eps_max - eps) / eps_max as in plain CROWN-IBP (pure IBP once the ramp is
    over: then equal to the plain loss). Returns (loss, stats, FusedBound or None) with the
    stats of certprune.train.losses.certified_loss; robust_correct counts IBP-verified
    samples (loss fusion computes no per-margin CROWN bound). At eps 0 the loss is the
    clean cross-entropy and no bound is computed.
    """
    if eps <= 0:
        logits = model(x)  # (B, K)
        loss = F.cross_entropy(logits, y)
        correct = int((logits.argmax(1) == y).sum())
        return loss, {"count": int(y.numel()), "correct": correct, "robust_correct": correct,
                      "robust_loss": float(loss.detach())}, None
    beta = (eps_max - eps) / eps_max if eps_max > 0 else 0.0
    beta = beta if beta > 1e-5 else 0.0
    lower_box, upper_box = _box(x, eps)
    bound = fused_ce_upper_bound(model, lower_box, upper_box, y, beta=beta, clean_input=x)
    logits = clean_logits(model, x, bound)
    loss = bound.ce.mean()
    stats = {"count": int(y.numel()), "correct": int((logits.argmax(1) == y).sum()),
             "robust_correct": int((bound.ibp_margin_lower.detach() > 0).all(dim=1).sum()),
             "robust_loss": float(loss.detach())}
    return loss, stats, bound
