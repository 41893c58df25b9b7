"""PGD, the per-sample verification ladder, results/events and stability statistics."""
import math
import time

import torch
from torch import nn

from certprune.bounds import compute_bounds
from certprune.verify import (VerifySettings, instability_total, pgd_attack, stability_statistics, summarize,
                              unstable_ratio, verify_samples)
from test_bounds_nets import cancelling_net, random_cnn, random_mlp, sample_box, single_thread  # noqa: F401 (fixture)


def _threshold_net(t: float) -> nn.Sequential:
    """2 classes on x in [0,1]^(1x1x1): logit_1 - logit_0 = x - t, so class 1 iff x > t."""
    lin = nn.Linear(1, 2)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[0.0], [1.0]]))
        lin.bias.copy_(torch.tensor([0.0, -t]))
    return nn.Sequential(nn.Flatten(), lin)


def test_pgd_finds_the_boundary_exactly_when_it_is_reachable():
    net = _threshold_net(0.5)
    x = torch.tensor([[[[0.3]]], [[[0.45]]], [[[0.8]]]])
    y = torch.tensor([0, 0, 1])
    x_adv, success = pgd_attack(net, x, y, eps=0.1, steps=20, restarts=3)
    assert success.tolist() == [False, True, False]  # only 0.45 can cross 0.5 within 0.1
    assert bool(((x_adv - x).abs() <= 0.1 + 1e-7).all()) and bool(((x_adv >= 0) & (x_adv <= 1)).all())
    assert float(x_adv[1]) >= 0.5


def test_verify_samples_ladder_events_and_summary():
    gen = torch.Generator().manual_seed(11)
    model = random_mlp(gen, (1, 2, 3), (10, 10), 3)
    images = torch.rand(12, 1, 2, 3, generator=gen)
    with torch.no_grad():
        labels = model(images).argmax(1)
    labels[0] = (labels[0] + 1) % 3  # one misclassified sample
    seen = []
    results = verify_samples(model, images, labels, eps=0.08, mode="bab", timeout=30, pgd_steps=20,
                             pgd_restarts=5, on_result=seen.append)
    assert [r.index for r in seen] == list(range(12)) and seen == results
    assert results[0].status == "misclassified" and results[0].decided_by == "clean"
    for r in results[1:]:
        assert r.status in ("verified", "falsified")  # complete mode, generous timeout
        event = r.to_event()
        assert set(event) == {"index", "label", "predicted", "status", "decidedBy", "seconds", "marginLower",
                              "domains", "finalMarginLower"}
        if r.status == "verified":
            # Sound: no sampled point in the box is misclassified.
            x = images[r.index:r.index + 1]
            pts = sample_box(gen, (x - 0.08).clamp(0, 1), (x + 0.08).clamp(0, 1), 3000)[0]
            with torch.no_grad():
                assert bool((model(pts).argmax(1) == r.label).all())
        else:
            cex = r.counterexample
            x = images[r.index]
            assert bool(((cex - x).abs() <= 0.08 + 1e-6).all())
            with torch.no_grad():
                logits = model(cex.unsqueeze(0))[0]
            assert float(logits[r.label]) <= float(torch.cat([logits[:r.label], logits[r.label + 1:]]).max())
    summary = summarize(results)
    assert summary["samples"] == 12 and summary["misclassified"] == 1
    assert summary["verified"] + summary["falsified"] == 11
    assert math.isclose(summary["verifiedAccuracy"], summary["verified"] / 12)


def test_incomplete_modes_report_unknown_and_stronger_modes_verify_more():
    gen = torch.Generator().manual_seed(12)
    model = random_mlp(gen, (1, 2, 3), (16, 16), 3)
    images = torch.rand(10, 1, 2, 3, generator=gen)
    with torch.no_grad():
        labels = model(images).argmax(1)
    counts = {}
    for mode in ("ibp", "crown", "alpha-crown", "bab"):
        results = verify_samples(model, images, labels, eps=0.05, mode=mode, timeout=30, pgd_steps=10,
                                 pgd_restarts=3)
        counts[mode] = sum(r.status == "verified" for r in results)
        if mode != "bab":
            assert all(r.status != "unknown" or r.decided_by == mode for r in results)
    assert counts["ibp"] <= counts["crown"] <= counts["alpha-crown"] <= counts["bab"]


def test_stability_statistics_match_the_bounds():
    gen = torch.Generator().manual_seed(13)
    model = random_cnn(gen, (1, 8, 8), 3)
    images = torch.rand(3, 1, 8, 8, generator=gen)
    eps = 0.05
    layers = stability_statistics(model, images, eps, crown=True, bins=10)
    ibp = compute_bounds(model, (images - eps).clamp(0, 1), (images + eps).clamp(0, 1), method="ibp")
    crown = compute_bounds(model, (images - eps).clamp(0, 1), (images + eps).clamp(0, 1), method="crown")
    assert [l["name"] for l in layers] == ["conv1", "conv2", "conv3", "fc1"]
    total_instability = 0.0
    for layer, (l, u), (cl, cu) in zip(layers, ibp.preactivations, crown.preactivations):
        l, u = l.detach(), u.detach()
        assert layer["neurons"] == l.numel()
        assert layer["ibp"]["unstable"] == int(((l < 0) & (u > 0)).sum())
        assert layer["ibp"]["active"] == int((l >= 0).sum())
        assert layer["crown"]["unstable"] == int(((cl < 0) & (cu > 0)).sum())
        assert layer["crown"]["unstable"] <= layer["ibp"]["unstable"]
        inst = float((-l * u)[(l < 0) & (u > 0)].sum()) / 3
        assert math.isclose(layer["instability"], inst, rel_tol=1e-5, abs_tol=1e-6)
        total_instability += inst
        hist = layer["histograms"]
        assert sum(hist["lower"]["counts"]) == l.numel() and len(hist["lower"]["edges"]) == 11
        assert sum(hist["instability"]["counts"]) == layer["ibp"]["unstable"]
    assert math.isclose(instability_total(layers), total_instability, rel_tol=1e-5)
    ratio = sum(l["ibp"]["unstable"] for l in layers) / sum(l["neurons"] for l in layers)
    assert math.isclose(unstable_ratio(layers), ratio)


def test_stability_per_neuron_and_per_sample_match_the_bounds():
    """units, unstableUnits, the per-neuron fraction histogram and unstablePerSample, from IBP bounds directly."""
    from certprune.verify.stability import stability_report
    gen = torch.Generator().manual_seed(15)
    model = random_cnn(gen, (1, 8, 8), 3)
    images = torch.rand(5, 1, 8, 8, generator=gen)
    eps = 0.08
    report = stability_report(model, images, eps, crown=False, bins=10, batch_size=2)   # 3 batches: 2 + 2 + 1
    ibp = compute_bounds(model, (images - eps).clamp(0, 1), (images + eps).clamp(0, 1), method="ibp")
    per_sample = torch.zeros(5, dtype=torch.int64)
    assert report["samples"] == 5
    for layer, (l, u) in zip(report["layers"], ibp.preactivations):
        unstable = ((l < 0) & (u > 0)).detach().reshape(5, -1)                  # (samples, units)
        assert (layer["units"], layer["samples"]) == (unstable.shape[1], 5)
        assert layer["neurons"] == layer["units"] * layer["samples"]              # the old meaning stays
        assert layer["unstableUnits"] == int(unstable.any(dim=0).sum())
        # 5 samples <= 10 bins: one bin per possible fraction 0/5 ... 5/5
        hist = layer["unstableFraction"]
        assert len(hist["counts"]) == 6 and hist["edges"][0] == 0.0 and hist["edges"][-1] == 1.0
        on = unstable.sum(dim=0)                                                  # (units,) samples unstable on
        assert hist["counts"] == [int((on == k).sum()) for k in range(6)]
        per_sample += unstable.sum(dim=1)
    assert report["unstablePerSample"] == per_sample.tolist()
    assert sum(report["unstablePerSample"]) == sum(l["ibp"]["unstable"] for l in report["layers"])
    # more samples than bins: equal bins over [0, 1], every neuron counted once
    many = stability_report(model, torch.rand(12, 1, 8, 8, generator=gen), eps, crown=False, bins=4)
    for layer in many["layers"]:
        assert layer["unstableFraction"]["edges"] == [0.0, 0.25, 0.5, 0.75, 1.0]
        assert sum(layer["unstableFraction"]["counts"]) == layer["units"]


def test_stability_crown_budget_drops_crown_counts_consistently():
    gen = torch.Generator().manual_seed(14)
    model = random_cnn(gen, (1, 8, 8), 3)
    images = torch.rand(2, 1, 8, 8, generator=gen)
    layers = stability_statistics(model, images, 0.05, crown=True, crown_budget_s=0.0, bins=5)
    assert all(layer["crown"] is None for layer in layers)
    assert unstable_ratio(layers, "crown") is None and unstable_ratio(layers, "ibp") is not None



def test_layerwise_crown_leaves_time_for_the_steps_after_it(monkeypatch):
    """'crown' may spend all the time left on layer-by-layer CROWN; 'alpha-crown' and 'bab'
    give it refine_share of it, keeping the rest for alpha-CROWN and branch and bound."""
    from certprune.verify import Clause, verify_box
    from certprune.verify import stages as prop  # the ladder's stages call preactivation_bounds

    refine_deadlines = []
    real = prop.preactivation_bounds

    def spy(*args, **kwargs):
        if kwargs.get("crown"):
            refine_deadlines.append((time.monotonic(), kwargs.get("deadline")))
        return real(*args, **kwargs)

    monkeypatch.setattr(prop, "preactivation_bounds", spy)
    net = cancelling_net()
    box = (torch.zeros(1, 1, 1, 1), torch.ones(1, 1, 1, 1))
    clause = Clause(spec=torch.tensor([[1.0]]), offset=torch.tensor([0.0]))  # violated iff out <= 0
    settings = VerifySettings(pgd_steps=5, pgd_restarts=2, refine_share=0.5, input_split=False)  # the ReLU ladder, not input splitting
    expected = {"crown": ("unknown", "crown"), "alpha-crown": ("unknown", "alpha-crown"), "bab": ("verified", "bab")}
    for mode, (status, by) in expected.items():
        refine_deadlines.clear()
        deadline = time.monotonic() + 100.0
        result = verify_box(net, *box, [clause], mode=mode, deadline=deadline, settings=settings)
        assert (result.status, result.decided_by) == (status, by), mode
        assert len(refine_deadlines) == 1, mode
        called, given = refine_deadlines[0]
        if mode == "crown":
            assert given == deadline
        else:  # half of what was left when the refinement started
            assert abs(given - (called + 0.5 * (deadline - called))) < 1.0, mode
