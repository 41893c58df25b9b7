"""The losses the regimes are built from: natural, FGSM + GradAlign, certified (IBP, CROWN-IBP).

    loss, stats = natural_loss(model, x, y)
    loss, stats = fgsm_loss(model, x, y, eps, settings, generator)
    loss, stats, ibp_result = certified_loss(model, x, y, eps, settings, eps_max, bounds="crown-ibp")

x: (B, C, H, W) in [0, 1]; y: (B,). ``eps`` is the (ramped) eps for this batch, ``eps_max``
the full training eps (used by CROWN-IBP's mixing weight). stats: {"count": B, "correct":
clean-correct count, "robust_correct": FGSM-correct (fgsm) or verified (certified) count
at ``eps`` or None (natural), "robust_loss": float}. Each regime (regimes/<name>.py)
picks one; objective.batch_loss adds the regulariser.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .batchnorm import running_average_step
from .input_gradient import autograd_input_gradient, differentiable_input_gradient
from .noise import uniform_like


def _box(x: torch.Tensor, eps: float) -> tuple[torch.Tensor, torch.Tensor]:
    """The L-inf ball around x intersected with the pixel range [0, 1]."""
    return (x - eps).clamp(0.0, 1.0), (x + eps).clamp(0.0, 1.0)


# --- natural ---------------------------------------------------------------------------

def natural_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor):
    logits = model(x)  # (B, K)
    loss = F.cross_entropy(logits, y)
    return loss, {"count": int(y.numel()), "correct": int((logits.argmax(1) == y).sum()),
                  "robust_correct": None, "robust_loss": float(loss.detach())}


# --- FGSM + GradAlign ------------------------------------------------------------------

def input_gradient(model: nn.Module, point: torch.Tensor, y: torch.Tensor, create_graph: bool):
    """(d CE(model(point), y) / d point (B, C, H, W), logits (B, K) detached);
    the gradient is differentiable when create_graph (then written out layer by layer by
    certprune.train.input_gradient, whose second derivative is far cheaper than autograd's)."""
    if create_graph:
        return differentiable_input_gradient(model, point, y)
    return autograd_input_gradient(model, point, y, create_graph=False)


def grad_align_penalty(grad_clean: torch.Tensor, grad_random: torch.Tensor) -> torch.Tensor:
    """mean over the batch of 1 - cos(grad_clean, grad_random); samples where either gradient
    is exactly zero are left out (as in the GradAlign reference)."""
    g1, g2 = grad_clean.flatten(1), grad_random.flatten(1)  # (B, D)
    keep = (g1.norm(dim=1) > 0) & (g2.norm(dim=1) > 0)
    if not bool(keep.any()):
        return grad_random.sum() * 0.0
    cos = F.cosine_similarity(g1[keep], g2[keep], dim=1, eps=1e-12)
    return (1.0 - cos).mean()


def fgsm_example(model, x, y, eps, step, generator=None, create_graph=False):
    """FGSM from a random start: start = x + U(-eps, eps) (clipped to [0, 1]), one signed step
    of ``step`` (absolute, e.g. 1.25*eps), projected back on the eps ball and [0, 1].
    Returns (adversarial x (detached), the input gradient at the random start)."""
    start = (x + uniform_like(x, -eps, eps, generator)).clamp(0.0, 1.0)
    grad, _ = input_gradient(model, start, y, create_graph)
    delta = (start.detach() - x + step * grad.detach().sign()).clamp(-eps, eps)
    return (x + delta).clamp(0.0, 1.0).detach(), grad


def fgsm_loss(model, x, y, eps, settings, generator=None):
    """Cross-entropy at the FGSM example + gradAlignWeight * (1 - cos(grad at x, grad at a
    random point of the ball)).

    The random point is the FGSM random start: its gradient (kept differentiable) is needed
    for the attack anyway, which saves one forward/backward per batch over drawing a second
    independent point; it is uniform in the ball either way.
    """
    align = settings.grad_align_weight > 0 and eps > 0
    x_adv, grad_random = fgsm_example(model, x, y, eps, settings.fgsm_step * eps, generator, create_graph=align)
    logits = model(x_adv)
    loss = F.cross_entropy(logits, y)
    stats = {"count": int(y.numel()), "robust_correct": int((logits.argmax(1) == y).sum()),
             "robust_loss": float(loss.detach())}
    if align:
        grad_clean, clean_logits = input_gradient(model, x, y, create_graph=False)
        loss = loss + settings.grad_align_weight * grad_align_penalty(grad_clean, grad_random)
        stats["correct"] = int((clean_logits.argmax(1) == y).sum())
    elif eps > 0:
        with torch.no_grad():
            stats["correct"] = int((model(x).argmax(1) == y).sum())
    else:  # eps 0: the "adversarial" example is x itself
        stats["correct"] = stats["robust_correct"]
    return loss, stats


# --- certified (IBP, CROWN-IBP) --------------------------------------------------------

def worst_case_logits(margin_lower: torch.Tensor, y: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Logits z (B, K) with z_y = 0 and z_j = -lower(m_j) for j != y.

    margin_lower: (B, K-1), row order j = 0..K-1 skipping y (the order of margin_spec).
    CE(z, y) = log(1 + sum_j exp(-lower_j)) upper-bounds the CE of every input in the box.
    """
    batch = y.shape[0]
    others = torch.arange(num_classes - 1, device=y.device).unsqueeze(0).expand(batch, -1)
    others = others + (others >= y.unsqueeze(1)).long()  # (B, K-1): class index of each margin
    logits = margin_lower.new_zeros(batch, num_classes)
    return logits.scatter(1, others, -margin_lower)


def certified_margin_lower(model, x, y, eps, eps_max, bounds, num_classes):
    """Margin lower bounds (B, K-1) for the box x +- eps and the bound result.

    bounds "crown-ibp": beta * CROWN-IBP + (1 - beta) * IBP, beta = (eps_max - eps) / eps_max
    (pure IBP once the ramp is over); "ibp": IBP.
    """
    from ..bounds import compute_bounds, margin_spec  # shared bound code (certprune/bounds)
    spec = margin_spec(y, num_classes)
    lower_box, upper_box = _box(x, eps)
    if bounds not in ("ibp", "crown-ibp"):
        raise ValueError(f"certified training bounds are 'ibp' or 'crown-ibp', got {bounds!r}")
    beta = (eps_max - eps) / eps_max if (bounds == "crown-ibp" and eps_max > 0) else 0.0
    if beta > 1e-5:
        result = compute_bounds(model, lower_box, upper_box, method="crown-ibp", spec=spec, clean_input=x,
                                bound_upper=False)
        return beta * result.lower + (1.0 - beta) * result.ibp_lower, result
    result = compute_bounds(model, lower_box, upper_box, method="ibp", spec=spec, clean_input=x)
    return result.lower, result


def certified_loss(model, x, y, eps, settings, eps_max, bounds: str | None = None):
    """CE on the worst-case logits built from the margin lower bounds at ``eps``.

    bounds: "ibp" or "crown-ibp" (None: the bound method of settings.regime's record).
    The clean logits give the clean accuracy, and BatchNorm running statistics are updated
    from the clean batch, as a train-mode forward pass would (the bound pass uses the batch
    statistics without touching them). With train-mode BatchNorm the bound computation
    already runs the clean batch through the network (for those statistics): its output
    and statistics are reused instead of a second forward pass. At eps 0 the bounds equal
    the margins, so the loss is the clean CE and the bound pass is skipped.
    Returns (loss, stats, bound result or None).
    """
    if eps <= 0:
        logits = model(x)  # (B, K)
        loss = F.cross_entropy(logits, y)
        correct = int((logits.argmax(1) == y).sum())
        stats = {"count": int(y.numel()), "correct": correct, "robust_correct": correct,
                 "robust_loss": float(loss.detach())}
        return loss, stats, None
    logits = None
    try:
        num_classes = _num_classes(model)
    except ValueError:  # no Linear layer: the clean forward pass tells (and updates BN)
        with torch.no_grad():
            logits = model(x)
        num_classes = logits.shape[1]
    if bounds is None:
        from .regimes import get_regime
        bounds = get_regime(settings.regime).bounds
    lower, result = certified_margin_lower(model, x, y, eps, eps_max, bounds, num_classes)
    if logits is None:
        logits = clean_logits(model, x, result)
    stats = {"count": int(y.numel()), "correct": int((logits.argmax(1) == y).sum())}
    loss = F.cross_entropy(worst_case_logits(lower, y, num_classes), y)
    stats.update(robust_correct=int((lower.detach() > 0).all(dim=1).sum()), robust_loss=float(loss.detach()))
    return loss, stats, result


def clean_logits(model: nn.Module, x: torch.Tensor, result) -> torch.Tensor:
    """The clean logits (B, K), detached, for the accuracy: those the bound pass computed,
    with BatchNorm's running statistics updated as a train-mode forward pass would, or
    (without train-mode BatchNorm) one plain forward pass."""
    if result.clean_output is not None:
        update_running_statistics(model, result.batch_statistics)
        return result.clean_output.detach()
    with torch.no_grad():
        return model(x)


@torch.no_grad()
def update_running_statistics(model: nn.Module, batch_statistics) -> None:
    """What a train-mode forward pass does to each BatchNorm's running statistics, from the
    statistics the bound pass computed: {Sequential index: (mean, biased var, count)}."""
    for index, (mean, var, count) in batch_statistics.items():
        bn = model[index]
        if not (bn.training and bn.track_running_stats and bn.running_mean is not None):
            continue
        factor = running_average_step(bn)
        unbiased = var * (count / max(count - 1, 1))
        bn.running_mean.mul_(1.0 - factor).add_(mean, alpha=factor)
        bn.running_var.mul_(1.0 - factor).add_(unbiased, alpha=factor)


def _num_classes(model: nn.Module) -> int:
    last = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not last:
        raise ValueError("cannot tell the number of classes: the model has no Linear layer")
    return last[-1].out_features
