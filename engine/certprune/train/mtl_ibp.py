"""MTL-IBP (De Palma, Bunel, Dvijotham, Kumar, Stanforth and Lomuscio, ICLR 2024,
"Expressive Losses for Verified Robustness via Convex Combinations").

    loss, stats, bounds = mtl_ibp_loss(model, x, y, eps, alpha=0.01, steps=1, step=10.0, generator=g)

loss = (1 - alpha) * CE(model(x_adv), y) + alpha * CE(IBP worst-case logits over x +- eps)

x_adv comes from certprune.train.sabr.pgd_point (uniform start, signed steps of
``step * eps``, best point kept) in the ball of radius attack_eps_factor * eps (within
[0, 1]); the reference's attack has no step decay. alpha = 0 is adversarial training,
alpha = 1 plain IBP. The adversarial forward pass runs in train mode (so BatchNorm uses,
and updates its running statistics from, the adversarial batch, as a plain train-mode
pass would); the IBP pass uses the clean batch's statistics and updates nothing.

Defaults from the paper (the authors' README, alessandrodepalma/expressive-losses,
"Reproducing Table 1"; CNN7, Shi et al.'s init and warm-up via --method=fast):
  MNIST eps 0.1 (nearest to FashionMNIST 0.1): alpha 1e-2, attack 1 step of 10 * eps
      (FGSM from a random start, clipped to the ball), L1 1e-5, TRAINING eps 0.2
      (--train-eps-mul 2.0), ramp 20 epochs from epoch 1, 70 epochs;
  CIFAR-10 2/255: alpha 4e-3, attack 8 steps of 0.25 * eps in a ball of 2.1 * eps
      (--attack_eps_factor 2.1), L1 3e-6, ramp 80 epochs from epoch 2, 160 epochs;
  CIFAR-10 8/255: alpha 0.5, attack 1 step of 10 * eps, L1 1e-7, 260 epochs.
These function defaults are the MNIST-0.1 ones.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .losses import _box, _num_classes, update_running_statistics, worst_case_logits
from .sabr import pgd_point

ALPHA = 1e-2
ATTACK_STEPS = 1
ATTACK_STEP = 10.0
ATTACK_EPS_FACTOR = 1.0


def mtl_ibp_loss(model: nn.Sequential, x: Tensor, y: Tensor, eps: float, alpha: float = ALPHA,
                 steps: int = ATTACK_STEPS, step: float = ATTACK_STEP,
                 attack_eps_factor: float = ATTACK_EPS_FACTOR, generator: torch.Generator | None = None):
    """MTL-IBP's loss for x (B, C, H, W) in [0, 1], labels y (B,), at this batch's eps.

    Returns (loss, stats, bounds) like a regime's loss (certprune.train.regimes.base):
    bounds is the IBP result at eps (None when alpha = 0 or eps = 0). robust_correct counts
    IBP-verified samples (adversarially robust ones when alpha = 0: no bound is computed).
    alpha 0 skips the IBP pass and alpha 1 the attack. eps 0: the clean cross-entropy.
    """
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"MTL-IBP alpha must lie in [0, 1], got {alpha}")
    count = int(y.numel())
    if eps <= 0:
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        correct = int((logits.argmax(1) == y).sum())
        return loss, {"count": count, "correct": correct, "robust_correct": correct,
                      "robust_loss": float(loss.detach())}, None
    loss = x.new_zeros(())
    stats = {"count": count}
    if alpha < 1.0:
        x_adv = pgd_point(model, x, y, attack_eps_factor * eps, steps, step, decay_at=(), generator=generator)
        adv_logits = model(x_adv)  # (B, K), train mode
        loss = loss + (1.0 - alpha) * F.cross_entropy(adv_logits, y)
        stats["robust_correct"] = int((adv_logits.detach().argmax(1) == y).sum())
    logits = result = None
    if alpha > 0.0:
        from ..bounds import compute_bounds, margin_spec
        num_classes = _num_classes(model)
        lower, upper = _box(x, eps)
        result = compute_bounds(model, lower, upper, method="ibp", spec=margin_spec(y, num_classes), clean_input=x)
        loss = loss + alpha * F.cross_entropy(worst_case_logits(result.lower, y, num_classes), y)
        stats["robust_correct"] = int((result.lower.detach() > 0).all(dim=1).sum())
        if result.clean_output is not None:
            logits = result.clean_output.detach()
            if alpha == 1.0:  # no train-mode forward ran: update BatchNorm like one would
                update_running_statistics(model, result.batch_statistics)
    if logits is None:
        with torch.no_grad():
            was_training = model.training
            model.eval()
            logits = model(x)
            model.train(was_training)
    stats.update(correct=int((logits.argmax(1) == y).sum()), robust_loss=float(loss.detach()))
    return loss, stats, result
