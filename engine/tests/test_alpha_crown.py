"""alpha-CROWN with every layer's slopes optimised (intermediate bounds too): sound
against sampling, never looser than CROWN or output-only alpha-CROWN's starting point,
and tighter than output-only alpha-CROWN on networks with several unstable layers."""
import torch

from certprune.bounds import build_graph, margin_spec
from certprune.bounds.alpha import optimize_alpha, optimize_alpha_layers
from certprune.bounds.crown import backward_from, concretize, identity_start
from certprune.bounds.ibp import preactivation_bounds
from certprune.bounds.operators import BoundReLU
from test_bounds_nets import random_cnn, random_mlp, sample_box, single_thread  # noqa: F401 (fixture)


def _setup(model, x, eps, classes):
    lower, upper = (x - eps).clamp(0, 1), (x + eps).clamp(0, 1)
    with torch.no_grad():
        spec = margin_spec(model(x).argmax(1), classes)
        graph = build_graph(model, x.shape[1:], spec=spec)
        pre, _, _ = preactivation_bounds(graph, lower, upper, crown=True)
    return graph, lower, upper, spec, pre


def _intermediate_values(model, points):
    """Every ReLU input of the Sequential at points (N, *s): list in order."""
    out, h = [], points
    for m in model:
        if isinstance(m, torch.nn.ReLU):
            out.append(h)
        h = m(h)
    return out


def test_layer_alphas_are_sound_and_tighter():
    gen = torch.Generator().manual_seed(8)
    wins = 0
    for trial in range(4):
        model = random_cnn(gen, (1, 7, 7), classes=3) if trial % 2 else random_mlp(gen, (1, 4, 4), (20, 20, 20))
        x = torch.rand(2, *((1, 7, 7) if trial % 2 else (1, 4, 4)), generator=gen)
        graph, lower, upper, spec, pre = _setup(model, x, 0.08, 3)
        plain, _, _ = optimize_alpha(graph, lower, upper, pre, iterations=20, bound_upper=False)
        slopes = {}
        joint, tight, alphas = optimize_alpha_layers(graph, lower, upper, pre, iterations=20,
                                                     intermediate_slopes=slopes)
        assert slopes, "no layer got its own slopes"
        for p, (bounded, per) in slopes.items():
            assert set(per) == {q for q in pre if q < p}
            for q, a in per.items():
                assert a.shape == (2, 2 * bounded.numel()) + tuple(pre[q][0].shape[1:])
                assert bool((a >= 0).all() and (a <= 1).all())
        with torch.no_grad():
            crown, _ = concretize(backward_from(graph, len(graph.ops) - 1, identity_start(2, (spec.shape[1],), x),
                                                None, {p: BoundReLU.relaxation(*pre[p]) for p in pre}), lower, upper)
        assert bool((joint >= crown - 1e-5).all())
        wins += int(joint.sum() > plain.sum() + 1e-4)
        points = sample_box(gen, lower, upper, 256)  # (B, n, *s)
        with torch.no_grad():
            values = torch.einsum("bsk,bnk->bns", spec, model(points.flatten(0, 1)).reshape(2, 256, -1))
            assert bool((joint.unsqueeze(1) <= values + 1e-5).all())
            layers = _intermediate_values(model, points.flatten(0, 1))
        for p, z in zip(sorted(tight), layers):
            l, u = tight[p]
            assert bool((l >= pre[p][0] - 1e-6).all() and (u <= pre[p][1] + 1e-6).all())
            z = z.reshape(2, 256, *l.shape[1:])
            assert bool((z >= l.unsqueeze(1) - 1e-5).all() and (z <= u.unsqueeze(1) + 1e-5).all()), trial
        # The returned slopes reproduce a sound bound over the returned intermediate bounds.
        with torch.no_grad():
            relax = {p: BoundReLU.relaxation(*tight[p], alphas[p], None) for p in tight}
            again, _ = concretize(backward_from(graph, len(graph.ops) - 1, identity_start(2, (spec.shape[1],), x),
                                                None, relax), lower, upper)
        assert bool((again.unsqueeze(1) <= values + 1e-5).all())
    assert wins >= 2, wins


def test_adam_matches_torch_optim():
    """The bound optimisers' Adam takes torch.optim.Adam's steps (two groups, each with
    its own rate, decayed like ExponentialLR), to float32 rounding."""
    from certprune.bounds.adam import Adam
    gen = torch.Generator().manual_seed(3)
    target = torch.randn(4, 5, generator=gen)
    start = [torch.rand(4, 5, generator=gen), torch.rand(3, generator=gen)]
    ours = [t.clone().requires_grad_() for t in start]
    theirs = [t.clone().requires_grad_() for t in start]
    mine = Adam([([ours[0]], 0.1), ([ours[1]], 0.05)])
    ref = torch.optim.Adam([{"params": [theirs[0]], "lr": 0.1}, {"params": [theirs[1]], "lr": 0.05}])
    schedule = torch.optim.lr_scheduler.ExponentialLR(ref, 0.9)
    for _ in range(12):
        for params, opt in ((ours, mine), (theirs, ref)):
            opt.zero_grad()
            (((params[0] - target) ** 2).sum() + (params[1] ** 3).sum()).backward()
            opt.step()
        mine.decay(0.9)
        schedule.step()
    for a, b in zip(ours, theirs):
        assert torch.allclose(a, b, atol=1e-6), (a - b).abs().max()
    assert not torch.equal(ours[0], start[0])


def test_adam_on_selected_rows_steps_as_on_the_whole():
    """Adam.select: the chosen rows go on exactly as they would have in the full batch
    (the update is element-wise), with moments and step count carried over."""
    from certprune.bounds.adam import Adam
    gen = torch.Generator().manual_seed(4)
    target = torch.randn(6, 3, generator=gen)
    start = torch.rand(6, 3, generator=gen)
    whole = start.clone().requires_grad_()
    part = start.clone().requires_grad_()
    full_opt, part_opt = Adam([([whole], 0.1)]), Adam([([part], 0.1)])
    keep = torch.tensor([0, 2, 5])
    for step in range(10):
        for p, opt in ((whole, full_opt), (part, part_opt)):
            opt.zero_grad()
            ((p - (target if p.shape[0] == 6 else target[keep])) ** 2).sum().backward()
            opt.step()
        if step == 3:
            part_opt = part_opt.select(keep)
            part, = part_opt.params
            assert part.is_leaf and part.requires_grad and part_opt.steps == 4
    assert torch.allclose(part, whole[keep].detach(), atol=1e-7)


def test_bound_optimisation_does_not_import_dynamo():
    """alpha-CROWN and beta-CROWN run without torch.optim, whose first optimizer imports
    torch._dynamo (~2 s of every verify process that reaches alpha-CROWN)."""
    import subprocess
    import sys
    code = """
import sys, time, torch
sys.path.insert(0, 'tests')
from test_bounds_nets import cancelling_net
from certprune.verify import Clause, VerifySettings, verify_box
box = (torch.zeros(1, 1, 1, 1), torch.ones(1, 1, 1, 1))
clause = Clause(spec=torch.tensor([[1.0]]), offset=torch.tensor([0.0]))
result = verify_box(cancelling_net(), *box, [clause], 'bab', deadline=time.monotonic() + 60,
                    settings=VerifySettings(pgd_steps=5, pgd_restarts=2, input_split=False))
print('dynamo' if 'torch._dynamo' in sys.modules else 'clean', result.status, result.decided_by)
"""
    engine = __import__("os").path.dirname(__import__("os").path.dirname(__file__))
    out = subprocess.run([sys.executable, "-c", code], cwd=engine, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["clean", "verified", "bab"], out.stdout  # alpha- and beta-CROWN both ran


def test_every_layer_of_a_cnn4_gets_its_own_slopes_by_default(single_thread):
    """The verifier's alpha-CROWN optimises the slopes for every ReLU layer's bounds after
    the first on a network of cnn4's size (FashionMNIST, 28x28): with the old budget of
    2 ** 24 elements the second conv layer (~1,500 ReLUs) went without, and the FGSM cnn4's
    margins fell a third of auto_LiRPA's gain over CROWN short (docs/benchmarks.md)."""
    import math

    from certprune.models import build_model
    from certprune.verify import VerifySettings
    from certprune.verify.ladder import Ladder
    from certprune.verify.samples import robustness_clauses
    from certprune.verify.stages import stages_for
    torch.manual_seed(4)
    model = build_model("cnn4", (1, 28, 28), 10).eval()
    x = torch.rand(1, 1, 28, 28)
    label = int(model(x).argmax(1))
    clauses = [type(c)(c.spec, c.offset - 1e4) for c in robustness_clauses(label, 10, x)]  # nothing provable
    stages = stages_for("alpha-crown")
    state = Ladder.start(model, (x - 0.1).clamp(0, 1), (x + 0.1).clamp(0, 1), clauses, "alpha-crown", math.inf,
                         VerifySettings(alpha_iterations=1), {stage.name: False for stage in stages})
    for stage in stages:
        assert stage.run(state) is None
    unstable = [p for p, (l, u) in sorted(state.pre.items()) if bool(((l < 0) & (u > 0)).any())]
    assert len(unstable) == 3  # both conv layers and the hidden linear layer
    assert sorted(state.layer_slopes) == unstable[1:]
