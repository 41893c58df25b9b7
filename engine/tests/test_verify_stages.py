"""The verification ladder as a registered list of stages; branch and bound's closing
bound (final_margin_lower / finalMarginLower); counterexamples confirmed in float64; the
PGD loss for clauses whose rows must all be violated at once."""
import os
import time

import pytest
import torch
from torch import nn

from certprune.verify import BabSettings, Clause, SampleResult, VerifySettings, verify_box, verify_samples
from certprune.verify.ladder import confirm_counterexample
from certprune.verify.pgd import attack_box, spec_values
from certprune.verify.stages import STAGES, Stage, register, stages_for
from test_bounds_nets import cancelling_net, random_mlp, single_thread  # noqa: F401 (fixture)

ENGINE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KIT = os.path.join(ENGINE, "..", "..", "shared", "benchmarks", "vnncomp2021", "marabou-cifar10")



BOX = (torch.zeros(1, 1, 1, 1), torch.ones(1, 1, 1, 1))
CLAUSE = Clause(spec=torch.tensor([[1.0]]), offset=torch.tensor([0.0]))  # violated iff out <= 0
QUICK = dict(pgd_steps=5, pgd_restarts=2, input_split=False)


def test_modes_are_the_registered_stages_in_order():
    from certprune.verify import MODES
    assert MODES == tuple(s.name for s in STAGES) == ("ibp", "crown", "alpha-crown", "bab")
    assert [s.name for s in stages_for("crown")] == ["ibp", "crown"]
    assert [s.name for s in stages_for("bab")] == list(MODES)
    with pytest.raises(ValueError, match="unknown verification mode 'milp'"):
        stages_for("milp")
    with pytest.raises(ValueError, match="already registered"):
        register(Stage("crown", lambda state: None))
    assert [s.name for s in STAGES] == list(MODES)


def test_each_mode_stops_at_its_stage():
    net = cancelling_net()
    for mode in ("ibp", "crown", "alpha-crown"):
        result = verify_box(net, *BOX, [CLAUSE], mode, deadline=time.monotonic() + 60,
                            settings=VerifySettings(**QUICK))
        assert (result.status, result.decided_by) == ("unknown", mode)
        assert result.margin_lower is not None and result.margin_lower <= 0
        assert result.final_margin_lower is None  # no branch and bound ran
    result = verify_box(net, *BOX, [CLAUSE], "bab", deadline=time.monotonic() + 60, settings=VerifySettings(**QUICK))
    assert (result.status, result.decided_by) == ("verified", "bab")


def test_a_registered_stage_runs_in_its_place():
    """A stage added after IBP runs for every mode past IBP, not for mode 'ibp'."""
    seen = []
    register(Stage("probe", lambda state: seen.append(state.margin)), after="ibp")
    try:
        net = cancelling_net()
        verify_box(net, *BOX, [CLAUSE], "ibp", settings=VerifySettings(**QUICK))
        assert seen == []
        result = verify_box(net, *BOX, [CLAUSE], "crown", settings=VerifySettings(**QUICK))
        assert len(seen) == 1 and seen[0] <= 0 and result.decided_by == "crown"
    finally:
        STAGES[:] = [s for s in STAGES if s.name != "probe"]


def _linear(weight: float, bias: float) -> nn.Module:
    layer = nn.Linear(1, 1)
    with torch.no_grad():
        layer.weight.fill_(weight)
        layer.bias.fill_(bias)
    return nn.Sequential(nn.Flatten(), layer).eval()


def _record_attacks(monkeypatch, fail_short: bool = False):
    """(steps, restarts) of every attack verify_box runs; fail_short: the short attack
    finds nothing, whatever the box."""
    import certprune.verify.property as prop
    calls, real = [], prop.attack_box

    def recording(*args, **kwargs):
        steps, restarts = args[5], args[6]
        calls.append((steps, restarts))
        x, success = real(*args, **kwargs)
        if fail_short and (steps, restarts) == (prop.QUICK_STEPS, prop.QUICK_RESTARTS):
            success = torch.zeros_like(success)
        return x, success
    monkeypatch.setattr(prop, "attack_box", recording)
    return calls


def test_a_box_ibp_proves_meets_only_the_short_attack(monkeypatch):
    from certprune.verify.property import QUICK_RESTARTS, QUICK_STEPS
    calls = _record_attacks(monkeypatch)
    settings = VerifySettings(pgd_steps=100, pgd_restarts=30, input_split=False)
    result = verify_box(_linear(1.0, 1.0), *BOX, [CLAUSE], "bab", settings=settings)  # out = x + 1 >= 1
    assert (result.status, result.decided_by) == ("verified", "ibp")
    assert calls == [(QUICK_STEPS, QUICK_RESTARTS)]


def test_a_box_ibp_does_not_prove_meets_the_full_attack_before_crown(monkeypatch):
    calls = _record_attacks(monkeypatch)
    seen = []
    register(Stage("probe", lambda state: seen.append(list(calls))), after="ibp")
    try:
        settings = VerifySettings(pgd_steps=100, pgd_restarts=30, input_split=False)
        for mode in ("ibp", "bab"):
            calls.clear()
            result = verify_box(cancelling_net(), *BOX, [CLAUSE], mode, deadline=time.monotonic() + 60,
                                settings=settings)
            assert calls[-1] == (100, 30) and len(calls) == 2
            assert result.status == ("unknown" if mode == "ibp" else "verified")
        assert seen == [[(20, 5), (100, 30)]]  # the probe after IBP ran once (mode bab), after both attacks
    finally:
        STAGES[:] = [s for s in STAGES if s.name != "probe"]


def test_what_only_the_full_attack_finds_is_falsified_in_every_mode(monkeypatch):
    calls = _record_attacks(monkeypatch, fail_short=True)
    for mode in ("ibp", "crown", "bab"):
        calls.clear()
        result = verify_box(_linear(1.0, -0.5), *BOX, [CLAUSE], mode, deadline=time.monotonic() + 60,
                            settings=VerifySettings(pgd_steps=50, pgd_restarts=10, input_split=False))
        assert (result.status, result.decided_by) == ("falsified", "pgd")
        assert float(result.counterexample.flatten()[0]) <= 0.5
        assert calls == [(20, 5), (50, 10)]


def test_a_short_configured_attack_runs_once(monkeypatch):
    calls = _record_attacks(monkeypatch)
    verify_box(cancelling_net(), *BOX, [CLAUSE], "crown", settings=VerifySettings(**QUICK))
    assert calls == [(5, 2)]


def test_final_margin_lower_is_the_closing_bound_of_branch_and_bound():
    """Verified: the smallest bound over the closed subdomains, > 0 and a true lower bound
    (out = 0.01 everywhere); marginLower stays the root bound (<= 0 here)."""
    result = verify_box(cancelling_net(), *BOX, [CLAUSE], "bab", settings=VerifySettings(**QUICK))
    assert result.status == "verified" and result.domains > 1
    assert result.margin_lower <= 0 < result.final_margin_lower <= 0.01 + 1e-5


def test_final_margin_lower_when_branch_and_bound_stops_undecided():
    """Stopped with subdomains open: the smallest open bound (<= 0), not None."""
    settings = VerifySettings(**QUICK, bab=BabSettings(max_domains=0))  # gives up after the root
    result = verify_box(cancelling_net(), *BOX, [CLAUSE], "bab", settings=settings)
    assert (result.status, result.decided_by) == ("unknown", "bab")
    assert result.final_margin_lower is not None and result.final_margin_lower <= 1e-4
    assert result.final_margin_lower >= result.margin_lower - 1e-6  # bab only tightens


def test_sample_events_carry_final_margin_lower(single_thread):  # noqa: F811
    gen = torch.Generator().manual_seed(11)
    model = random_mlp(gen, (1, 2, 3), (10, 10), 3)
    images = torch.rand(8, 1, 2, 3, generator=gen)
    with torch.no_grad():
        labels = model(images).argmax(1)
    results = verify_samples(model, images, labels, eps=0.08, mode="bab", timeout=30, pgd_steps=20, pgd_restarts=5,
                             settings=VerifySettings(input_split=False))
    for r in results:
        event = r.to_event()
        assert "finalMarginLower" in event and event["marginLower"] == r.margin_lower
        if r.decided_by == "bab" and r.status == "verified":
            assert event["finalMarginLower"] > 0
        elif r.decided_by != "bab":
            assert event["finalMarginLower"] is None
    event = SampleResult(0, 1, 1, "verified", "bab", 1.0, -0.5, 7, None, 0.5, 0.02).to_event()
    assert event["marginLower"] == -0.5 and event["finalMarginLower"] == 0.02


def _rounding_net() -> nn.Sequential:
    """out = (x + 1e-8) - 1: at x = 1 float32 rounds it to 0 (a 'violation' of out > 0)
    while the exact value, and float64's, is ~1e-8 > 0."""
    first, second = nn.Linear(1, 1), nn.Linear(1, 1)
    with torch.no_grad():
        first.weight.fill_(1.0)
        first.bias.fill_(1e-8)
        second.weight.fill_(1.0)
        second.bias.fill_(-1.0)
    return nn.Sequential(nn.Flatten(), first, second).eval()


def test_counterexamples_are_confirmed_in_float64():
    net = _rounding_net()
    x = torch.ones(1, 1, 1, 1)
    with torch.no_grad():
        assert float(net(x)) <= 0  # float32 says violated
    assert not confirm_counterexample(net, x[0], [CLAUSE])
    assert confirm_counterexample(net, x[0], [Clause(torch.tensor([[-1.0]]), torch.tensor([0.0]))])
    result = verify_box(net, x, x.clone(), [CLAUSE], "bab", deadline=time.monotonic() + 20,
                        settings=VerifySettings(**QUICK))
    assert result.status != "falsified"


def test_attack_on_an_and_clause_pushes_every_row():
    """Marabou CIFAR-10's large net, image 6413 at eps 0.012 (target 7 must beat all nine
    other classes): the max of the rows alone stalls above 0; with the hinge on every row
    PGD finds the counterexample (checked by a forward pass)."""
    onnx_path = os.path.join(KIT, "nets", "cifar10_large.onnx")
    vnnlib_path = os.path.join(KIT, "specs", "networkcifar10_large_index6413_eps0.012_target7_orig6.vnnlib")
    if not (os.path.exists(onnx_path) and os.path.exists(vnnlib_path)):
        pytest.skip("the VNN-COMP 2021 kit is not in this checkout")
    from certprune.commands.verify import load_instance
    model, _, prop, xl, xu = load_instance(onnx_path, vnnlib_path, "cpu")
    clause = prop.regions[0].clauses[0]
    spec = torch.as_tensor(clause.spec, dtype=torch.float32).unsqueeze(0)
    offset = torch.as_tensor(clause.offset, dtype=torch.float32).unsqueeze(0)
    torch.manual_seed(0)
    x, success = attack_box(model, xl, xu, spec, offset, steps=200, restarts=30, require_all=True,
                            start=(xl + xu) / 2)
    assert bool(success[0])
    assert bool((x >= xl).all() and (x <= xu).all())
    with torch.no_grad():
        assert float(spec_values(model, x, spec, offset).max()) <= 0
    assert confirm_counterexample(model, x[0], [Clause(spec[0], offset[0])])


def test_attack_on_any_row_gives_restarts_their_own_targets():
    """Row 0 is lowest everywhere except near row 1's own minimum, and never reaches 0;
    row 1 does (at x = -1 in all 50 inputs). Descending the lowest row walks every
    restart down row 0; a restart that descends row 1 alone finds the counterexample."""
    net = nn.Linear(50, 2)
    with torch.no_grad():
        net.weight.zero_()
        net.weight[0, 0], net.weight[1] = 0.01, 0.04  # row 0: 0.3 + 0.01 x_0 >= 0.29
        net.bias.copy_(torch.tensor([0.3, 1.0]))      # row 1: 1 + 0.04 sum(x) >= -1
    lower, upper = -torch.ones(1, 50), torch.ones(1, 50)
    spec = torch.eye(2).unsqueeze(0)
    torch.manual_seed(0)
    x, success = attack_box(net, lower, upper, spec, steps=30, restarts=1, start=torch.zeros(1, 50))
    assert not bool(success[0])  # one restart: the lowest row only
    x, success = attack_box(net, lower, upper, spec, steps=30, restarts=3, start=torch.zeros(1, 50))
    assert bool(success[0])
    with torch.no_grad():
        assert float(spec_values(net, x, spec).min()) <= 0
    assert bool((x >= lower).all() and (x <= upper).all())
