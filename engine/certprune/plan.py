"""What a run will do, resolved from its configuration before anything runs.

    targets = round_targets(config)          # remaining ratio per round, round 0 first
    plan = run_plan(config)                  # the started event's ``plan``

The engine decides these once (pruning schedule, default rate, learning rate, eps ramp,
verification eps, the image sets of the evaluation) and states them in its events;
the dashboard displays them and recomputes nothing.
"""
from __future__ import annotations

from .stats import BEST_ROUND_RULE


def prune_rate(config: dict) -> float:
    """pruning.rate, or the method's default (a fraction of what remains, removed per round)."""
    from .pruning import default_rate
    pruning = config["pruning"]
    rate = pruning["rate"] if pruning.get("rate") is not None else default_rate(pruning["method"])
    if not 0.0 < rate < 1.0:
        raise ValueError(f"pruning.rate must be in (0, 1), got {rate}")
    return rate


def round_targets(config: dict) -> list:
    """Remaining ratio (of weights, or of channels for channel methods) per round, round 0 first.

    One-shot prunes once (round 1) to pruning.targetRatio, or to what ``rounds`` iterative
    rounds would reach; ``rounds`` 0 (or method "none") is the dense round alone.
    """
    pruning = config["pruning"]
    if pruning["method"] == "none" or pruning["rounds"] == 0:
        return [1.0]
    rate = prune_rate(config)
    if pruning["schedule"] == "one-shot":
        target = pruning.get("targetRatio")
        return [1.0, target if target is not None else (1.0 - rate) ** pruning["rounds"]]
    return [(1.0 - rate) ** k for k in range(pruning["rounds"] + 1)]


def source_round(config: dict, k: int) -> int:
    """The round whose trained network round k prunes (the dense round for one-shot)."""
    return 0 if config["pruning"]["schedule"] == "one-shot" else k - 1


def verification_eps(config: dict) -> float:
    """verification.eps, or the training eps (training.eps, or the dataset's default)."""
    from .data import dataset_info
    for value in (config["verification"].get("eps"), config["training"].get("eps")):
        if value is not None:
            return float(value)
    return float(dataset_info(config["data"]["dataset"]).default_eps)


def evaluation_sizes(config: dict) -> tuple:
    """(images for standard and adversarial accuracy, images for test accuracy, attack on?).

    Standard (clean) and adversarial (PGD) accuracy are measured on the SAME images, so
    that adversarial accuracy can never exceed standard accuracy: the first
    min(data.testSize, verification.attackSamples) test images when the attack runs (PGD
    on the whole test set is too dear on a CPU), else the first data.testSize. Sizes are
    None for "the whole test set". The clean accuracy on data.testSize images is kept
    beside them in evaluation.json ("testAccuracy") and the summary.
    """
    test_size = config["data"].get("testSize")
    verification = config["verification"]
    attack = (verification["mode"] != "none" and verification["pgdSteps"] > 0
              and verification.get("attackSamples") != 0)
    if not attack:
        return test_size, test_size, False
    attack_size = verification.get("attackSamples")
    sizes = [size for size in (test_size, attack_size) if size is not None]
    return (min(sizes) if sizes else None), test_size, True


def training_settings(config: dict, info=None):
    """The resolved TrainingSettings of ``config`` (info: the dataset's DatasetInfo, looked up when None)."""
    from .data import dataset_info
    from .train import TrainingSettings
    info = info if info is not None else dataset_info(config["data"]["dataset"])
    return TrainingSettings.from_config(config["training"], info, augment=config["data"]["augment"])


def is_uploaded_model(config: dict) -> bool:
    """A model CertPrune did not train (model.arch "onnx"): verified once, never trained or pruned."""
    return config["model"]["arch"] == "onnx"


def run_plan(config: dict) -> dict:
    """The started event's plan: {kind, rounds, remainingTargets, pruneRate, unit, epochs, lr,
    weightDecay, trainEps, verifyEps, epsSchedule, bestRoundRule} (lib/protocol/events.ts).

    An uploaded model has no training (epochs 0, no learning rate or training eps) and
    is not pruned (one round, remaining target 1: all of what was uploaded).
    trainEps is null and epsSchedule empty for natural training, which uses no eps.
    """
    verify_eps = verification_eps(config) if config["verification"]["mode"] != "none" else None
    common = {"verifyEps": verify_eps, "bestRoundRule": BEST_ROUND_RULE}
    if is_uploaded_model(config):
        return {"kind": "uploaded-model", "rounds": 1, "remainingTargets": [1.0], "pruneRate": None, "unit": None,
                "epochs": 0, "lr": None, "weightDecay": None, "trainEps": None, "epsSchedule": [], **common}
    from .pruning import get_method
    from .train import eps_at
    from .train.regimes import get_regime
    settings = training_settings(config)
    targets = round_targets(config)
    pruned = len(targets) > 1
    if not pruned:
        rate = None
    elif config["pruning"]["schedule"] == "one-shot":
        rate = 1.0 - targets[1]                   # the one pruning round removes this much
    else:
        rate = prune_rate(config)
    adversarial = get_regime(settings.regime).robust_accuracy     # a robustness objective: it trains against eps
    return {"kind": "experiment", "rounds": len(targets), "remainingTargets": targets, "pruneRate": rate,
            "unit": get_method(config["pruning"]["method"]).unit if pruned else None,
            "epochs": settings.epochs, "lr": settings.lr, "weightDecay": settings.weight_decay,
            "trainEps": settings.eps if adversarial else None,
            "epsSchedule": [eps_at(float(epoch), settings) for epoch in range(1, settings.epochs + 1)]
            if adversarial else [],
            **common}
