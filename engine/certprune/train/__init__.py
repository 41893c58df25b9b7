"""Training: regimes as records (natural, FGSM+GradAlign, IBP, CROWN-IBP), the eps ramp, regularisers.

    from certprune.train import TrainingSettings, train
    settings = TrainingSettings.from_config(config["training"], train_ds.info, config["data"]["augment"])
    result = train(model, train_ds, test_ds, settings, masks=masks, on_epoch=emit, device="auto")

Module map: regimes/ (one record per regime: optimizer, loss, checkpoint rule; the
registry), settings.py (the training group resolved), losses.py (the losses regimes are
built from), objective.py (regime loss + regulariser), regularizers.py (RS, NRS, Slim),
schedule.py (eps ramp, lr steps), optim.py (optimizer, masks), loop.py (epochs),
metrics.py (accuracies), batches.py, input_gradient.py and batchnorm.py (GradAlign's
written-out input gradient), noise.py.
"""
from .batches import batches, num_batches
from ..device import resolve_device, tune_cpu_allocator, use_all_cores
from .losses import worst_case_logits
from .loop import TrainResult, train, train_epoch
from .metrics import evaluate, fgsm_accuracy, verified_accuracy
from .objective import batch_loss
from .optim import apply_masks, make_optimizer, mask_gradients
from .regimes import Regime, get_regime
from .regularizers import REGULARIZERS, nrs_loss, rs_loss, slim_loss
from .schedule import eps_at, lr_at
from .settings import REGIMES, TrainingSettings, config_defaults, default_milestones

__all__ = ["REGIMES", "REGULARIZERS", "Regime", "TrainResult", "TrainingSettings", "apply_masks", "batch_loss",
           "batches", "config_defaults", "default_milestones", "eps_at", "evaluate", "fgsm_accuracy", "get_regime",
           "lr_at", "make_optimizer", "mask_gradients", "nrs_loss", "num_batches", "resolve_device", "rs_loss",
           "slim_loss", "train", "train_epoch", "tune_cpu_allocator", "use_all_cores", "verified_accuracy",
           "worst_case_logits"]
