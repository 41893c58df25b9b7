"""Verification: PGD, complete verification (beta-CROWN branch and bound), stability.

    from certprune.verify import verify_samples, summarize, pgd_attack, stability_statistics
    results = verify_samples(model, images, labels, eps=0.1, mode="bab", timeout=300)

Modules: ``pgd`` (attacks), ``property`` (the per-box ladder: attack, then the stages),
``stages`` (the registered stages ibp -> crown -> alpha-crown -> bab; a mode names the last
one it runs), ``ladder`` (their records and shared state, float64 confirmations),
``samples`` (per-image robustness), ``bab`` / ``domains`` / ``beta_crown`` / ``branching`` /
``exact`` (branch and bound over ReLUs), ``input_split`` / ``input_chain`` /
``input_bounds`` / ``input_boxes`` / ``input_search`` (branch and bound over the input box),
``result`` (SampleResult, summarize), ``stability`` (neuron stability statistics).
"""
from ..onnx_io import export_bundle
from .bab import BabSettings, branch_and_bound
from .pgd import attack_box, pgd_attack
from .property import MODES, Clause, PropertyResult, VerifySettings, verify_box
from .result import SampleResult, summarize
from .samples import robustness_clauses, verify_sample, verify_samples
from .stability import instability_total, stability_statistics, unstable_ratio

__all__ = ["export_bundle", "BabSettings", "branch_and_bound", "attack_box", "pgd_attack", "MODES", "Clause", "PropertyResult",
           "VerifySettings", "verify_box", "SampleResult", "summarize", "robustness_clauses", "verify_sample",
           "verify_samples", "instability_total", "stability_statistics", "unstable_ratio"]
