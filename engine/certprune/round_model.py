"""The networks of a round: built from the config, loaded from a checkpoint, shrunk for evaluation.

    model, mask = trained_model(run, k)           # full size, pruned entries 0, eval mode
    small = evaluation_model(model, images)       # channel-pruned layers cut out, checked
    small, config = load_round_model(run_dir, k)  # from a run folder alone (export, inspection)
"""
from __future__ import annotations

import os

import torch

from . import paths as files
from .paths import RunPaths
from .plan import round_targets
from .pruning import shrink

# Outputs of the shrunk and the full network may differ by float rounding only.
SHRINK_TOLERANCE = 1e-4


def build_for(config: dict, info):
    """A freshly initialised network of ``config``'s architecture for the dataset ``info``."""
    from .models import build_model
    model_cfg = config["model"]
    return build_model(model_cfg["arch"], info.input_shape, info.num_classes, info.mean, info.std,
                       model_cfg.get("widths", [100, 100]))


def new_model(run):
    return build_for(run.config, run.info)


def load_model(run, state: dict):
    model = new_model(run)
    model.load_state_dict(state)
    return model.to(run.device)


def trained_model(run, k: int):
    """(full-size trained model, its mask) of round ``k`` on the run's device, eval mode."""
    mask = files.load_torch(run.paths.mask(k))
    model = load_model(run, files.load_torch(run.paths.checkpoint(k)))
    return model.eval(), mask


@torch.no_grad()
def evaluation_model(model, images: torch.Tensor):
    """The shrunk copy of an eval-mode trained model; raises unless it computes the same outputs.

    images: (B, C, H, W) a few inputs for the check, on the model's device.
    """
    small = shrink(model).eval()
    full_out, small_out = model(images), small(images)              # (B, K) each
    error = float((full_out - small_out).abs().max()) if images.shape[0] else 0.0
    scale = float(full_out.abs().max()) if images.shape[0] else 0.0
    if error > SHRINK_TOLERANCE * (1.0 + scale):
        raise RuntimeError(f"engine bug: the shrunk network's outputs differ from the pruned network's by {error:.3g}")
    return small


def load_round_model(run_dir: str, k: int, device="cpu"):
    """(trained network of round ``k``, shrunk and in eval mode, the run's config) from a run folder.

    For export and inspection: needs only config.json and round_<k>/checkpoint.pt.
    """
    from .data import dataset_info
    paths = RunPaths(run_dir)
    if not os.path.exists(paths.config):
        raise FileNotFoundError(f"{paths.config} does not exist; is {run_dir} the --out folder of a run?")
    if not os.path.exists(paths.checkpoint(k)):
        done = [n for n in range(len(round_targets(files.load_json(paths.config))))
                if os.path.exists(paths.checkpoint(n))]
        raise FileNotFoundError(f"round {k} of {run_dir} has no trained network ({paths.checkpoint(k)} is missing); "
                                f"rounds with one: {done or 'none yet'}")
    config = files.load_json(paths.config)
    model = build_for(config, dataset_info(config["data"]["dataset"]))
    model.load_state_dict(files.load_torch(paths.checkpoint(k), device))
    return shrink(model.to(device).eval()).eval(), config
