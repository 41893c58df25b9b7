"""SABR (Mueller, Eckert, Fischer and Vechev, ICLR 2023, "Certified Training: Small Boxes
are All You Need"): IBP through a small box around an adversarial point.

    loss, stats, _ = sabr_loss(model, x, y, eps, box_scale=0.4, generator=g)

1. PGD finds a point x_adv in the eps-ball (intersected with [0, 1]) that raises the CE.
2. A box of radius tau = lambda * eps is centred at c = clamp(x_adv, x - eps + tau,
   x + eps - tau), so that it lies inside the eps-ball; c is in [0, 1] (x_adv and x are),
   and the box is clipped to [0, 1] (so it stays inside the ball and still contains c).
3. Loss = CE of the IBP worst-case logits over that box (certprune.train.losses).
lambda = 1 gives c = x and the whole ball: plain IBP. lambda -> 0 is adversarial training.

Defaults from the paper (the authors' README commands, eth-sri/SABR; CNN7 with BatchNorm,
Adam 5e-4; the SABR scripts of the TAPS/CTBench code, mix_train.py, add Shi et al.'s init
and warm-up, certprune.train.fast_ibp):
  MNIST eps 0.1 (the nearest to FashionMNIST 0.1): lambda 0.4, L1 1e-5, 70 epochs, ramp to
      epoch 22, batch 256;
  CIFAR-10 2/255: lambda 0.1, L1 1e-6 (plus the ReLU "shrinking" extension, not built here);
  CIFAR-10 8/255: lambda 0.7, no L1.
PGD to place the box: 8 steps, step 0.5 * eps, the step x0.1 after steps 4 and 7, one
restart, from a uniform start (the defaults of get_sabr_loss / bound_sabr in CTRAIN, a
certified-training library whose SABR cites Mueller et al. 2023; the SABR README does not
restate them). The attack runs with BatchNorm in eval mode (running statistics: as CTRAIN
does, and the SABR code's bn_mode_attack "eval" option); the IBP pass uses the clean batch's statistics, as every
certified loss here does, so that lambda = 1 is exactly certprune's IBP loss.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .losses import _box, _num_classes, clean_logits, worst_case_logits
from .noise import uniform_like

#: the paper's MNIST-0.1 setting and CTRAIN's PGD defaults (module docstring)
BOX_SCALE = 0.4
PGD_STEPS = 8
PGD_STEP = 0.5
PGD_DECAY_AT = (4, 7)
PGD_DECAY = 0.1


def pgd_point(model: nn.Module, x: Tensor, y: Tensor, eps: float, steps: int = PGD_STEPS,
              step: float = PGD_STEP, decay_at: Sequence[int] = PGD_DECAY_AT, decay: float = PGD_DECAY,
              generator: torch.Generator | None = None) -> Tensor:
    """An adversarial point (B, *input_shape), detached, in the eps-ball of x within [0, 1].

    Signed-gradient ascent on the per-sample CE from a uniform start; the step is
    ``step * eps``, times ``decay`` after each step index in ``decay_at``; the point with the
    highest CE seen is kept (with steps > 1). BatchNorm runs in eval mode (no running-
    statistics update); the model's mode is restored. steps = 1 with a large step is FGSM
    from a random start (MTL-IBP's MNIST setting).
    """
    lower, upper = _box(x, eps)
    point = (lower + uniform_like(x, 0.0, 1.0, generator) * (upper - lower)).detach()
    was_training = model.training
    model.eval()
    best, best_loss = point, None
    size = step * eps
    try:
        with torch.enable_grad():
            for index in range(steps):
                if index in decay_at:
                    size *= decay
                point.requires_grad_(True)
                loss = F.cross_entropy(model(point), y, reduction="none")  # (B,)
                grad, = torch.autograd.grad(loss.sum(), point)
                if steps > 1:
                    best, best_loss = _keep_best(best, best_loss, point.detach(), loss.detach())
                point = torch.minimum(torch.maximum(point.detach() + size * grad.sign(), lower), upper)
        if steps > 1:
            with torch.no_grad():
                loss = F.cross_entropy(model(point), y, reduction="none")
            point, _ = _keep_best(best, best_loss, point, loss)
    finally:
        model.train(was_training)
    return point.detach()


def _keep_best(best: Tensor, best_loss: Tensor | None, point: Tensor, loss: Tensor):
    if best_loss is None:
        return point, loss
    better = loss >= best_loss
    view = (-1,) + (1,) * (point.dim() - 1)
    return torch.where(better.view(view), point, best), torch.where(better, loss, best_loss)


def small_box(x: Tensor, x_adv: Tensor, eps: float, box_scale: float) -> tuple[Tensor, Tensor, Tensor]:
    """(lower, upper, centre) of SABR's box: radius box_scale * eps around x_adv pulled inside
    the eps-ball, clipped to [0, 1]. All (B, *input_shape)."""
    tau = box_scale * eps
    centre = torch.minimum(torch.maximum(x_adv, x - eps + tau), x + eps - tau)
    # Also cut by the ball itself: (x - eps + tau) - tau can round below x - eps.
    lower = torch.maximum(centre - tau, x - eps).clamp(0.0, 1.0)
    upper = torch.minimum(centre + tau, x + eps).clamp(0.0, 1.0)
    return lower, upper, centre


def sabr_loss(model: nn.Sequential, x: Tensor, y: Tensor, eps: float, box_scale: float = BOX_SCALE,
              steps: int = PGD_STEPS, step: float = PGD_STEP, decay_at: Sequence[int] = PGD_DECAY_AT,
              decay: float = PGD_DECAY, generator: torch.Generator | None = None):
    """SABR's loss for the batch x (B, C, H, W) in [0, 1], labels y (B,), at this batch's eps.

    Returns (loss, stats, None) like a regime's loss (certprune.train.regimes.base): the
    small box's bounds are not the full-eps IBP bounds RS/NRS could reuse. robust_correct
    counts the samples whose small box IBP verifies (a training signal, NOT a certificate
    for the eps-ball unless box_scale = 1). eps 0: the clean cross-entropy, no attack.
    """
    if eps <= 0:
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        correct = int((logits.argmax(1) == y).sum())
        return loss, {"count": int(y.numel()), "correct": correct, "robust_correct": correct,
                      "robust_loss": float(loss.detach())}, None
    from ..bounds import compute_bounds, margin_spec
    num_classes = _num_classes(model)
    if box_scale >= 1.0:  # the whole ball: no attack needed (plain IBP)
        lower, upper = _box(x, eps)
    else:
        x_adv = pgd_point(model, x, y, eps, steps, step, decay_at, decay, generator)
        lower, upper, _ = small_box(x, x_adv, eps, box_scale)
    result = compute_bounds(model, lower, upper, method="ibp", spec=margin_spec(y, num_classes), clean_input=x)
    logits = clean_logits(model, x, result)
    loss = F.cross_entropy(worst_case_logits(result.lower, y, num_classes), y)
    stats = {"count": int(y.numel()), "correct": int((logits.argmax(1) == y).sum()),
             "robust_correct": int((result.lower.detach() > 0).all(dim=1).sum()),
             "robust_loss": float(loss.detach())}
    return loss, stats, None
