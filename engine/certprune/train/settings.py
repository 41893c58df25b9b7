"""Training settings: the config's ``training`` group with every null filled from the regime.

    settings = TrainingSettings.from_config(config["training"], dataset_info, augment=config["data"]["augment"])

Paper defaults (PAPER.md): batch 128, clip 8, lr x0.1 at 70% and 85% of the epochs,
eps ramp from epoch 11 over 80 epochs; natural/FGSM: SGD 0.01, momentum 0.9, wd 5e-4;
IBP/CROWN-IBP: Adam 1e-3, wd 1e-5 (0 with RS/NRS). RS/NRS weight 0.01 under FGSM and
0.001 otherwise; Slim L1 weight 1e-4.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

REGIMES = ("natural", "fgsm", "ibp", "crown-ibp")
CERTIFIED = ("ibp", "crown-ibp")
REGULARIZERS = ("none", "rs", "nrs", "slim")

SGD_LR = 0.01
SGD_MOMENTUM = 0.9
SGD_WEIGHT_DECAY = 5e-4
ADAM_LR = 1e-3
ADAM_WEIGHT_DECAY = 1e-5
STABILITY_WEIGHT_FGSM = 0.01
STABILITY_WEIGHT_OTHER = 0.001
SLIM_WEIGHT = 1e-4
FALLBACK_EPS = 0.1


@dataclass
class TrainingSettings:
    """Resolved training settings (no None except where noted). Field names mirror the
    config's camelCase keys in snake_case."""
    regime: str = "crown-ibp"
    epochs: int = 200
    batch_size: int = 128
    lr: float = ADAM_LR
    weight_decay: float = ADAM_WEIGHT_DECAY
    lr_milestones: list = field(default_factory=lambda: [140, 170])
    lr_gamma: float = 0.1
    grad_clip: float = 8.0
    eps: float = FALLBACK_EPS            # the full (final) training eps, [0, 1] pixel space
    eps_start: int = 11                  # 1-based epoch where the ramp starts
    eps_length: int = 80                 # ramp length in epochs
    fgsm_step: float = 1.25              # multiple of eps
    grad_align_weight: float = 0.2
    regularizer: str = "none"
    regularizer_weight: float = 0.0
    augment: bool = True
    crop_padding: int = 0                # from the dataset; 0 disables cropping
    flip: bool = False                   # from the dataset

    def __post_init__(self):
        if self.regime not in REGIMES:
            raise ValueError(f"training.regime must be one of {', '.join(REGIMES)}, got {self.regime!r}")
        if self.regularizer not in REGULARIZERS:
            raise ValueError(f"training.regularizer must be one of {', '.join(REGULARIZERS)}, got {self.regularizer!r}")
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError(f"training.epochs and training.batchSize must be >= 1 (got {self.epochs}, {self.batch_size})")
        if not 0 <= self.eps <= 1:
            raise ValueError(f"training.eps is in [0, 1] pixel space, got {self.eps}")

    @property
    def certified(self) -> bool:
        return self.regime in CERTIFIED

    @classmethod
    def from_config(cls, training: Mapping[str, Any] | None = None, dataset_info=None,
                    augment: bool = True) -> "TrainingSettings":
        """Build from the config's ``training`` group (camelCase keys, nulls allowed).

        dataset_info (certprune.data.DatasetInfo) supplies the default eps and the
        augmentation; augment is the config's ``data.augment``.
        """
        training = dict(training or {})
        get = lambda key, default: default if training.get(key) is None else training[key]  # noqa: E731
        regime = get("regime", "crown-ibp")
        regularizer = get("regularizer", "none")
        epochs = int(get("epochs", 200))
        sgd = regime in ("natural", "fgsm")
        if sgd:
            default_wd = SGD_WEIGHT_DECAY
        else:
            default_wd = 0.0 if regularizer in ("rs", "nrs") else ADAM_WEIGHT_DECAY
        if regularizer in ("rs", "nrs"):
            default_reg = STABILITY_WEIGHT_FGSM if regime == "fgsm" else STABILITY_WEIGHT_OTHER
        elif regularizer == "slim":
            default_reg = SLIM_WEIGHT
        else:
            default_reg = 0.0
        default_eps = dataset_info.default_eps if dataset_info is not None else FALLBACK_EPS
        return cls(
            regime=regime, epochs=epochs, batch_size=int(get("batchSize", 128)),
            lr=float(get("lr", SGD_LR if sgd else ADAM_LR)),
            weight_decay=float(get("weightDecay", default_wd)),
            lr_milestones=[int(m) for m in get("lrMilestones", default_milestones(epochs))],
            lr_gamma=float(get("lrGamma", 0.1)), grad_clip=float(get("gradClip", 8.0)),
            eps=float(get("eps", default_eps)),
            eps_start=int(get("epsStart", 11)), eps_length=int(get("epsLength", 80)),
            fgsm_step=float(get("fgsmStep", 1.25)), grad_align_weight=float(get("gradAlignWeight", 0.2)),
            regularizer=regularizer, regularizer_weight=float(get("regularizerWeight", default_reg)),
            augment=bool(augment),
            crop_padding=int(dataset_info.crop_padding) if dataset_info is not None else 0,
            flip=bool(dataset_info.flip) if dataset_info is not None else False,
        )

    def to_dict(self) -> dict:
        return asdict(self)


def default_milestones(epochs: int) -> list:
    """[round(0.7 * epochs), round(0.85 * epochs)]: epochs 140 and 170 of 200."""
    return [int(round(0.7 * epochs)), int(round(0.85 * epochs))]
