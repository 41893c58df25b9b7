"""Per-batch epsilon ramp and per-epoch learning rate.

Time is measured in epochs as a float: during epoch e (1-based), after batch b of n,
t = (e - 1) + b / n. So t = 0 before training and t = E after epoch E.
"""
from __future__ import annotations

RAMP_POWER = 4.0     # the smoothed schedule's polynomial growth (auto_LiRPA's beta)
RAMP_MID = 0.4       # fraction of the ramp spent in polynomial growth before going linear


def eps_at(epoch_float: float, settings, eps_max: float | None = None) -> float:
    """Training eps at time ``epoch_float`` under the smoothed ramp (auto_LiRPA's SmoothedScheduler).

    0 until the start of epoch ``settings.eps_start``; then alpha * s**4 (s = epochs since
    the ramp started) up to 40% of the ramp; then linear, reaching ``eps_max`` when
    ``settings.eps_length`` epochs have passed, i.e. at the start of epoch
    eps_start + eps_length. alpha makes the two pieces meet with equal value and slope.
    eps_max defaults to settings.eps.
    """
    eps_max = settings.eps if eps_max is None else eps_max
    start = settings.eps_start - 1.0          # ramp starts when epoch eps_start begins
    length = float(settings.eps_length)
    if epoch_float <= start:
        return 0.0
    if length <= 0:
        return float(eps_max)
    end = start + length
    if epoch_float >= end:
        return float(eps_max)
    mid = start + RAMP_MID * length
    span = mid - start
    power = RAMP_POWER
    # value at mid alpha*span^p, slope alpha*p*span^(p-1) equals the linear piece's slope
    # (eps_max - alpha*span^p) / (end - mid): solve for alpha.
    alpha = eps_max / ((end - mid) * power * span ** (power - 1) + span ** power)
    if epoch_float < mid:
        return float(alpha * (epoch_float - start) ** power)
    mid_value = alpha * span ** power
    return float(mid_value + (eps_max - mid_value) * (epoch_float - mid) / (end - mid))


def lr_at(epoch: int, settings) -> float:
    """Learning rate for 1-based ``epoch``: lr * gamma ** (number of milestones already passed).

    With milestones [140, 170], epochs 1..140 use lr, 141..170 lr*gamma, 171.. lr*gamma^2
    (the same as torch's MultiStepLR stepped after every epoch).
    """
    passed = sum(1 for milestone in settings.lr_milestones if epoch > milestone)
    return float(settings.lr * settings.lr_gamma ** passed)
