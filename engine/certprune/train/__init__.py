"""Training regimes (natural, FGSM+GradAlign, IBP, CROWN-IBP), the eps ramp and regularisers.

    from certprune.train import TrainingSettings, train
    settings = TrainingSettings.from_config(config["training"], train_ds.info, config["data"]["augment"])
    result = train(model, train_ds, test_ds, settings, masks=masks, on_epoch=emit, device="auto")
"""
from .batches import batches, num_batches
from ..device import resolve_device, tune_cpu_allocator, use_all_cores
from .losses import batch_loss, worst_case_logits
from .loop import TrainResult, evaluate, fgsm_accuracy, train, train_epoch, verified_accuracy
from .optim import apply_masks, make_optimizer, mask_gradients
from .regularizers import nrs_loss, rs_loss, slim_loss
from .schedule import eps_at, lr_at
from .settings import REGIMES, TrainingSettings, default_milestones

__all__ = ["REGIMES", "TrainResult", "TrainingSettings", "apply_masks", "batch_loss", "batches",
           "default_milestones", "eps_at", "evaluate", "fgsm_accuracy", "lr_at", "make_optimizer",
           "mask_gradients", "nrs_loss", "num_batches", "resolve_device", "rs_loss", "slim_loss",
           "train", "train_epoch", "tune_cpu_allocator", "use_all_cores", "verified_accuracy", "worst_case_logits"]
