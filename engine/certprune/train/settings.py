"""Training settings: the config's ``training`` group, every null filled from the regime.

    settings = TrainingSettings.from_config(config["training"], dataset_info, augment=config["data"]["augment"])

One source for each default: a setting's default is the run-config schema's
(engine/schemas/run-config.schema.json, generated from lib/protocol/config.ts); the
settings whose schema default is null ("the regime's", "the dataset's") are filled from
the regime's record (regimes/<name>.py: optimizer lr and weight decay, RS/NRS weight),
the regulariser's record (regularizers.REGULARIZERS) and the dataset (eps, cropping).
Paper defaults (PAPER.md): lr x0.1 at 70% and 85% of the epochs.
"""
from __future__ import annotations

import copy
import functools
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Mapping

from .regimes import REGIMES, get_regime
from .regularizers import REGULARIZERS, get_regularizer

FALLBACK_EPS = 0.1   # training eps when neither the config nor a dataset says


@functools.lru_cache(maxsize=None)
def _schema_defaults() -> dict:
    from ..protocol import default_config
    return default_config()


def config_defaults(group: str) -> dict:
    """The run-config schema's defaults of one settings group ("training", "pruning", ...)."""
    return copy.deepcopy(_schema_defaults()[group])


def _schema(key: str):
    """A dataclass default read from the schema's ``training.<key>``."""
    return field(default_factory=lambda: config_defaults("training")[key])


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@dataclass
class TrainingSettings:
    """Resolved training settings. Field names mirror the config's camelCase keys in
    snake_case; a None (or an omitted field) takes the default described above."""
    regime: str = _schema("regime")
    epochs: int = _schema("epochs")
    batch_size: int = _schema("batchSize")
    lr: float | None = None                    # None: the regime optimizer's
    weight_decay: float | None = None          # None: the regime optimizer's (with RS/NRS: its own)
    lr_milestones: list | None = None          # None: default_milestones(epochs)
    lr_gamma: float = _schema("lrGamma")
    grad_clip: float = _schema("gradClip")
    eps: float | None = None                   # the full (final) training eps, [0, 1] pixel space
    eps_start: int = _schema("epsStart")       # 1-based epoch where the ramp starts
    eps_length: int = _schema("epsLength")     # ramp length in epochs
    fgsm_step: float = _schema("fgsmStep")     # multiple of eps
    grad_align_weight: float = _schema("gradAlignWeight")
    regularizer: str = _schema("regularizer")
    regularizer_weight: float | None = None    # None: the regulariser's for this regime
    augment: bool = True                       # the config's data.augment
    crop_padding: int = 0                      # from the dataset; 0 disables cropping
    flip: bool = False                         # from the dataset
    options: dict = field(default_factory=dict)  # config keys no field above names (a regime's own), camelCase

    def __post_init__(self):
        named = {_camel(f.name) for f in fields(self)}
        self.options = {**{key: value for key, value in config_defaults("training").items() if key not in named},
                        **self.options}                       # a regime's own settings: the schema's defaults
        regime = get_regime(self.regime)                      # names the bad regime
        regularizer = get_regularizer(self.regularizer)       # names the bad regulariser
        self.epochs, self.batch_size = int(self.epochs), int(self.batch_size)
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError(f"training.epochs and training.batchSize must be >= 1 (got {self.epochs}, {self.batch_size})")
        self.lr = float(regime.optimizer.lr if self.lr is None else self.lr)
        if self.weight_decay is None:
            self.weight_decay = regime.optimizer.default_weight_decay(regularizer.stability)
        self.weight_decay = float(self.weight_decay)
        milestones = default_milestones(self.epochs) if self.lr_milestones is None else self.lr_milestones
        self.lr_milestones = [int(m) for m in milestones]
        self.eps = float(FALLBACK_EPS if self.eps is None else self.eps)
        if not 0 <= self.eps <= 1:
            raise ValueError(f"training.eps is in [0, 1] pixel space, got {self.eps}")
        weight = regularizer.default_weight(regime) if self.regularizer_weight is None else self.regularizer_weight
        self.regularizer_weight = float(weight)
        self.lr_gamma, self.grad_clip = float(self.lr_gamma), float(self.grad_clip)
        self.eps_start, self.eps_length = int(self.eps_start), int(self.eps_length)
        self.fgsm_step, self.grad_align_weight = float(self.fgsm_step), float(self.grad_align_weight)
        self.augment, self.crop_padding, self.flip = bool(self.augment), int(self.crop_padding), bool(self.flip)

    @property
    def certified(self) -> bool:
        return get_regime(self.regime).certified

    @classmethod
    def from_config(cls, training: Mapping[str, Any] | None = None, dataset_info=None,
                    augment: bool = True) -> "TrainingSettings":
        """Build from the config's ``training`` group (camelCase keys, nulls allowed, any
        subset: what is missing is the schema's default).

        dataset_info (certprune.data.DatasetInfo) supplies the default eps and the
        augmentation; augment is the config's ``data.augment``.
        """
        given = {key: value for key, value in dict(training or {}).items() if value is not None}
        values = {**config_defaults("training"), **given}
        names = {_camel(f.name): f.name for f in fields(cls)}
        kwargs = {names[key]: value for key, value in values.items() if key in names}
        kwargs["options"] = {key: value for key, value in values.items() if key not in names}
        if kwargs.get("eps") is None and dataset_info is not None:
            kwargs["eps"] = dataset_info.default_eps
        if dataset_info is not None:
            kwargs.update(crop_padding=dataset_info.crop_padding, flip=dataset_info.flip)
        return cls(**kwargs, augment=augment)

    def to_dict(self) -> dict:
        return asdict(self)


def default_milestones(epochs: int) -> list:
    """[round(0.7 * epochs), round(0.85 * epochs)]: epochs 140 and 170 of 200."""
    return [int(round(0.7 * epochs)), int(round(0.85 * epochs))]


__all__ = ["FALLBACK_EPS", "REGIMES", "REGULARIZERS", "TrainingSettings", "config_defaults", "default_milestones"]
