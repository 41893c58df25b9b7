"""The train phase: round k's network from its starting weights (round_<k>/checkpoint.pt).

    phase_train(ctx, init_state)        # ctx.mask: the round's mask

Round k starts from the initial weights (rewind "init") or, with rewind "finetune",
from its source round's trained weights; pruned entries are zero throughout. A round
already trained (resumed, or a sweep's shared dense round) replays its epoch events.
"""
from __future__ import annotations

import os
import time

from .. import paths as files
from ..plan import source_round
from ..pruning import apply_mask, masked_entries_are_zero
from ..round_model import load_model
from ..seeding import seeded
from .context import RoundContext, pct_text, seconds_text

EPOCH_FIELDS = ("epoch", "epochs", "loss", "trainAccuracy", "testAccuracy", "robustAccuracy", "eps", "lr", "seconds")


def starting_model(run, k: int, init_state: dict, mask: dict):
    """Round k's network before training: the initial weights (rewind "init") or, with
    rewind "finetune", the source round's trained weights; pruned entries zeroed."""
    finetune = run.config["pruning"]["rewind"] == "finetune" and k > 0
    start = files.load_torch(run.paths.checkpoint(source_round(run.config, k))) if finetune else init_state
    model = load_model(run, start)
    return apply_mask(model, mask)


class _BatchProgress:
    """train's on_batch(epoch, done, total) -> throttled progress events; start(epoch) when an epoch begins."""

    def __init__(self, ctx: RoundContext):
        self.ctx = ctx
        self.start(1)

    def start(self, epoch: int) -> None:
        self.epoch, self.report = epoch, self.ctx.progress("train", epoch)

    def __call__(self, epoch: int, done: int, total: int) -> None:
        if epoch != self.epoch:
            self.start(epoch)
        self.report(done, total)


def phase_train(ctx: RoundContext, init_state: dict) -> None:
    """Train round k from the rewound initial weights (or the source round's, for finetune)."""
    from ..train import train
    run, k, mask = ctx.run, ctx.k, ctx.mask
    if os.path.exists(run.paths.checkpoint(k)):   # resumed or shared round: replay its epochs
        for record in files.load_json(run.paths.history(k))["history"]:
            run.emit("epoch", round=k, **{key: record[key] for key in EPOCH_FIELDS})
        return
    epochs = run.settings.epochs
    started = ctx.begin("train", f"round {k}: training {epochs} epoch{'s' if epochs != 1 else ''} "
                                 f"({run.settings.regime}) on {len(run.train_set):,} images")
    model = starting_model(run, k, init_state, mask)
    generator = seeded(run.seed, k, "train")
    test_set = run.test_set.subset(run.config["data"].get("testSize"))

    progress = _BatchProgress(ctx)

    def on_epoch(record: dict) -> None:
        run.emit("epoch", round=k, **{key: record[key] for key in EPOCH_FIELDS})
        progress.start(record["epoch"] + 1)                   # the next epoch's clock starts now

    result = train(model, run.train_set, test_set, run.settings, masks=mask, on_epoch=on_epoch,
                   device=run.device, generator=generator, on_batch=progress)
    model.load_state_dict(result.state_dict)
    if not masked_entries_are_zero(model, mask):
        raise RuntimeError(f"engine bug: round {k} training left pruned weights non-zero")
    seconds = time.perf_counter() - started
    files.save_json({"history": result.history, "bestEpoch": result.best_epoch, "seconds": seconds},
                    run.paths.history(k))
    size = files.save_torch(result.state_dict, run.paths.checkpoint(k))
    run.artifact(k, "checkpoint", run.paths.checkpoint(k), size)
    chosen = result.history[result.best_epoch - 1] if result.history else {}
    ctx.end("train", f"round {k}: trained {len(result.history)} epochs in {seconds_text(seconds)}, "
                     f"test accuracy {pct_text(chosen.get('testAccuracy'))} (checkpoint of epoch {result.best_epoch})")
