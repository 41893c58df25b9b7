"""The phases of a round, one module each, over one RoundContext (context.py).

    ctx = RoundContext(run, k)
    ctx.mask = phase_prune(ctx, init_state)     prune.py      round_<k>/mask.pt, prune.json
    phase_train(ctx, init_state)                train.py      checkpoint.pt, history.json
    ctx.model = <the shrunk trained network>
    phase_evaluate(ctx)                         evaluate.py   evaluation.json
    phase_stability(ctx)                        stability.py  stability.json
    phase_verify(ctx)                           verify.py     verification.json
    phase_export(ctx)                           export.py     model.onnx
    finish_round(ctx, ...)                      results.py    metrics.json, round_finished

Each phase writes one file and is skipped when that file exists (the run resumes at its
first unfinished phase), logs a line when it starts and when it ends (with its key
figure), and writes throttled progress events while it trains or verifies.
experiment.py composes all of them per round; verify_model.py (an uploaded model)
composes export, stability, verify and results.
"""
from .context import RoundContext
from .evaluate import phase_evaluate
from .export import copy_uploaded_model, phase_export
from .prune import mask_sparsity, phase_prune, sparsity
from .results import emit_finished, finish_round, replay_round, write_summary
from .stability import phase_stability
from .train import phase_train, starting_model
from .verify import phase_verify, write_verification_samples

__all__ = ["RoundContext", "phase_evaluate", "copy_uploaded_model", "phase_export", "mask_sparsity", "phase_prune",
           "sparsity", "emit_finished", "finish_round", "replay_round", "write_summary", "phase_stability",
           "phase_train", "starting_model", "phase_verify", "write_verification_samples"]
