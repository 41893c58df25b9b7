"""The exact (LP) decision of fully split subdomains, against a dense grid on 2-d inputs."""
import itertools
import math

import torch
from torch import nn

from certprune.bounds import build_graph
from certprune.bounds.ibp import preactivation_bounds
from certprune.verify.domains import Domains, Root
from certprune.verify.exact import decide_fixed_domain
from test_bounds_nets import single_thread  # noqa: F401 (fixture)


def test_fully_split_domains_match_a_grid():
    gen = torch.Generator().manual_seed(3)
    checked = {"safe": 0, "violated": 0}
    for trial in range(6):
        net = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2)).eval()
        with torch.no_grad():
            for p in net.parameters():
                p.copy_(torch.randn(p.shape, generator=gen))
        xl, xu = torch.zeros(1, 2), torch.ones(1, 2)
        spec, offset = torch.tensor([[1.0, -1.0]]), torch.tensor([0.2 * trial - 0.5])
        with torch.no_grad():
            pre, _, _ = preactivation_bounds(build_graph(net, (2,)), xl, xu, crown=False)
            root = Root.build(net, xl, xu, spec, offset, pre)
        n = root.unstable[1].numel()
        grid = torch.stack(torch.meshgrid(torch.linspace(0, 1, 201), torch.linspace(0, 1, 201), indexing="ij"),
                           -1).reshape(-1, 2)
        with torch.no_grad():
            z = net[0](grid)[:, root.unstable[1]]  # (G, n) pre-activations of the splittable neurons
            value = (net(grid) @ spec.t()).squeeze(1) + offset  # violated where <= 0
        for pattern in itertools.product((1, -1), repeat=n):
            doms = Domains.root(root)
            doms.split[1] = torch.tensor([pattern], dtype=torch.int8)
            verdict, x = decide_fixed_domain(root, doms, 0)
            inside = ((z * torch.tensor(pattern, dtype=z.dtype)) >= 0).all(dim=1)  # grid points in the domain
            if verdict == "safe":
                assert not bool((value[inside] < -1e-3).any()), f"trial {trial} {pattern}: grid finds a violation"
            elif verdict == "violated":
                with torch.no_grad():
                    assert float(net(x.unsqueeze(0)) @ spec[0] + offset) <= 0
                    zx = net[0](x.unsqueeze(0))[0, root.unstable[1]]
                assert bool(((zx * torch.tensor(pattern, dtype=zx.dtype)) >= -1e-5).all()), "point outside domain"
            if verdict != "undecided":
                checked[verdict] += 1
            if bool((value[inside] < -1e-3).any()):
                assert verdict == "violated", f"trial {trial} {pattern}: grid violation missed ({verdict})"
    assert checked["safe"] >= 5 and checked["violated"] >= 5, checked


def test_subdomain_bounds_hold_under_their_splits():
    """After splits, every subdomain's recomputed intermediate bounds and its beta-CROWN
    bound contain every sampled input that satisfies its split constraints, and a domain
    reported empty contains none."""
    from certprune.verify.beta_crown import bound_domains
    from test_bounds_nets import random_mlp

    gen = torch.Generator().manual_seed(12)
    tightened = decided = 0
    for trial in range(4):
        net = random_mlp(gen, input_shape=(1, 1, 4), widths=(12, 12, 10), classes=3)
        x = torch.rand(1, 1, 1, 4, generator=gen)
        xl, xu = (x - 0.3).clamp(0, 1), (x + 0.3).clamp(0, 1)
        spec, offset = torch.tensor([[1.0, -1.0, 0.0]]), torch.tensor([0.0])
        with torch.no_grad():
            pre, _, _ = preactivation_bounds(build_graph(net, (1, 1, 4)), xl, xu, crown=True)
            root = Root.build(net, xl, xu, spec, offset, pre)
        doms = Domains.root(root)
        for depth in range(40):  # split random free neurons, both ways, tightening after each
            d = len(doms)
            layer = torch.randint(0, len(root.positions), (d,), generator=gen)
            neuron = torch.zeros(d, dtype=torch.long)
            ok = torch.zeros(d, dtype=torch.bool)
            for i in range(d):
                p = root.positions[int(layer[i])]
                free = ((doms.split[p][i] == 0) & (doms.lower[p][i] < 0) & (doms.upper[p][i] > 0)).nonzero().flatten()
                if free.numel():
                    neuron[i], ok[i] = free[torch.randint(0, free.numel(), (1,), generator=gen)], True
            keep = ok.nonzero().flatten()
            if keep.numel() == 0:
                break
            before = {p: doms.select(keep).lower[p].clone() for p in root.positions}
            doms = doms.select(keep).children(layer[keep], neuron[keep], root.positions)
            # per child: the layers after its own split (groups of one split layer each)
            bound_domains(root, doms, iterations=5, tighten_after=layer[keep].repeat(2))
            tightened += sum(int((doms.lower[p][:len(keep)] > before[p] + 1e-6).sum()) for p in root.positions)
            doms = doms.select(torch.randperm(len(doms), generator=gen)[:24])  # a random few go deeper
        # Sample the box; check every domain against the points inside it.
        points = xl + torch.rand(20000, 1, 1, 4, generator=gen) * (xu - xl)
        with torch.no_grad():
            zs, h = {}, points
            for pos, m in enumerate(net):
                if isinstance(m, nn.ReLU):
                    zs[pos] = h.reshape(h.shape[0], -1)
                h = m(h)
            objective = (h @ spec.t()).squeeze(1) + offset
        graph_positions = root.positions  # no BatchNorm to fold: graph positions are the Sequential's
        for i in range(len(doms)):
            inside = torch.ones(points.shape[0], dtype=torch.bool)
            for p in graph_positions:
                s = doms.split[p][i].to(torch.float32)
                z = zs[p][:, root.unstable[p]]
                inside &= (((z * s) >= 0) | (s == 0)).all(1)
            if bool(torch.isinf(doms.bound[i])) and doms.bound[i] > 0:
                assert not bool(inside.any()), f"trial {trial} domain {i}: reported empty but holds points"
                continue
            for p in graph_positions:
                z = zs[p][inside][:, root.unstable[p]]
                inside_bounds = (z >= doms.lower[p][i] - 1e-5).all() & (z <= doms.upper[p][i] + 1e-5).all()
                assert bool(inside_bounds), (trial, i, p)
            assert bool((objective[inside] >= doms.bound[i] - 1e-5).all()), (trial, i)
            free = sum(int(((doms.split[p][i] == 0) & (doms.lower[p][i] < 0) & (doms.upper[p][i] > 0)).sum())
                       for p in graph_positions)
            if free == 0:  # decided exactly, with unsplit neurons fixed by the domain's bounds
                verdict, _ = decide_fixed_domain(root, doms, i)
                decided += 1
                if verdict == "safe":
                    assert not bool((objective[inside] < -1e-4).any()), (trial, i)
                elif bool((objective[inside] < -1e-3).any()):
                    assert verdict == "violated", (trial, i, verdict)
    assert tightened > 0 and decided > 0, (tightened, decided)


def test_tightening_within_a_budget_takes_the_weightiest_neurons():
    """When a layer's unstable neurons do not all fit in its share of the budget, the
    highest-priority ones are re-bounded (and only they change); the bounds stay sound
    for every sampled input in the subdomain."""
    from certprune.verify.beta_crown import tighten_intermediate
    from test_bounds_nets import random_mlp

    gen = torch.Generator().manual_seed(5)
    net = random_mlp(gen, input_shape=(1, 1, 4), widths=(16, 16, 16), classes=3)
    x = torch.rand(1, 1, 1, 4, generator=gen)
    xl, xu = (x - 0.4).clamp(0, 1), (x + 0.4).clamp(0, 1)
    with torch.no_grad():
        pre, _, _ = preactivation_bounds(build_graph(net, (1, 1, 4)), xl, xu, crown=False)  # loose: room to tighten
        root = Root.build(net, xl, xu, torch.tensor([[1.0, -1.0, 0.0]]), torch.tensor([0.0]), pre)
    first, later = root.positions[0], root.positions[1:]
    doms = Domains.root(root).children(torch.tensor([0]), torch.tensor([0]), root.positions)  # split one neuron
    per_neuron = {p: 2 * sum(math.prod(m.out_shape) for m in root.graph.ops[:p]) for p in later}  # both sides
    unstable = {p: int(((doms.lower[p] < 0) & (doms.upper[p] > 0)).any(0).sum()) for p in later}
    assert all(n >= 4 for n in unstable.values()), unstable
    last = later[-1]
    budget = 2 * per_neuron[last]  # after=1: only the last layer is re-bounded, two of its neurons
    priority = {p: torch.rand(root.unstable[p].numel(), generator=gen) for p in root.positions}
    before = {p: (doms.lower[p].clone(), doms.upper[p].clone()) for p in root.positions}
    skipped = Domains.concat([doms])
    tighten_intermediate(root, skipped, after=1, budget=budget)  # no priority: too dear, kept as is
    for p in later:
        assert torch.equal(skipped.lower[p], before[p][0]) and torch.equal(skipped.upper[p], before[p][1])
    tighten_intermediate(root, doms, after=1, budget=budget, priority=priority)
    assert torch.equal(doms.lower[later[0]], before[later[0]][0])  # not after the split's layer + 1
    changed_any = False
    for p in [last]:
        changed = ((doms.lower[p] != before[p][0]) | (doms.upper[p] != before[p][1])).any(0).nonzero().flatten()
        free = ((before[p][0] < 0) & (before[p][1] > 0)).any(0).nonzero().flatten()
        top = set(free[priority[p][free].topk(2).indices].tolist())
        assert set(changed.tolist()) <= top, (p, changed.tolist(), top)
        assert bool((doms.lower[p] >= before[p][0]).all() and (doms.upper[p] <= before[p][1]).all())
        changed_any |= changed.numel() > 0
    assert changed_any
    points = xl + torch.rand(20000, 1, 1, 4, generator=gen) * (xu - xl)
    with torch.no_grad():
        zs, h = {}, points
        for pos, m in enumerate(net):
            if isinstance(m, nn.ReLU):
                zs[pos] = h.reshape(h.shape[0], -1)[:, root.unstable[pos]]
            h = m(h)
    for i in range(len(doms)):
        s = doms.split[first][i].to(torch.float32)
        inside = (((zs[first] * s) >= 0) | (s == 0)).all(1)
        for p in later:
            z = zs[p][inside]
            assert bool((z >= doms.lower[p][i] - 1e-5).all() and (z <= doms.upper[p][i] + 1e-5).all()), (i, p)


def test_domains_proven_during_the_steps_leave_the_batch():
    """Pruning in iteration: once some domains are proven, the rest optimise on without
    them, and each domain ends as it would have in the full batch (the same bound, or
    both proven); the later passes cost fewer domains."""
    from certprune.verify import beta_crown
    from test_bounds_nets import random_mlp

    gen = torch.Generator().manual_seed(5)
    net = random_mlp(gen, input_shape=(1, 1, 4), widths=(16, 16), classes=3)
    x = torch.rand(1, 1, 1, 4, generator=gen)
    xl, xu = (x - 0.2).clamp(0, 1), (x + 0.2).clamp(0, 1)
    with torch.no_grad():
        out = net(x)[0]
        spec = torch.tensor([[1.0, -1.0, 0.0]]) if out[0] > out[1] else torch.tensor([[-1.0, 1.0, 0.0]])
        pre, _, _ = preactivation_bounds(build_graph(net, (1, 1, 4)), xl, xu, crown=True)
        root = Root.build(net, xl, xu, spec, torch.tensor([0.0]), pre)
    doms = Domains.root(root)
    for _ in range(5):  # 32 subdomains: split the first free neuron, both ways
        layer = torch.zeros(len(doms), dtype=torch.long)
        neuron = torch.zeros(len(doms), dtype=torch.long)
        for i in range(len(doms)):
            for k, p in enumerate(root.positions):
                free = ((doms.split[p][i] == 0) & (doms.lower[p][i] < 0) & (doms.upper[p][i] > 0)).nonzero().flatten()
                if free.numel():
                    layer[i], neuron[i] = k, free[0]
                    break
        doms = doms.children(layer, neuron, root.positions)
    sizes, real_pass = [], beta_crown._pass

    def counting(root_, fixed, alpha, beta, record=None):
        sizes.append(fixed.x_lower.shape[0])
        return real_pass(root_, fixed, alpha, beta, record)

    outcomes = {}
    for share in (beta_crown.PRUNE_SAFE_SHARE, 2.0):  # 2.0: never prune
        sizes.clear()
        copy = doms.select(torch.arange(len(doms)))
        old = beta_crown.PRUNE_SAFE_SHARE
        beta_crown.PRUNE_SAFE_SHARE, beta_crown._pass = share, counting
        try:
            bound = beta_crown.bound_domains(root, copy, iterations=15, stop_above=1e-4).bound
        finally:
            beta_crown.PRUNE_SAFE_SHARE, beta_crown._pass = old, real_pass
        outcomes[share] = (bound.clone(), list(sizes))
    (pruned, pruned_sizes), (full, full_sizes) = outcomes[beta_crown.PRUNE_SAFE_SHARE], outcomes[2.0]
    proven = (pruned > 1e-4) & (full > 1e-4)
    assert 0 < int(proven.sum()) < len(doms)
    same = torch.isclose(pruned, full, atol=1e-5)
    assert bool((same | proven).all()), (pruned, full)
    assert min(pruned_sizes) < len(doms) == max(full_sizes)


def test_each_child_re_bounds_only_the_layers_after_its_own_split():
    """In one batch, children split in different layers: each gets what re-bounding it
    alone after its own split layer gives, and layers up to that one keep their bounds."""
    from certprune.verify.beta_crown import _tighten_by_split_layer, tighten_intermediate
    from test_bounds_nets import random_mlp

    gen = torch.Generator().manual_seed(8)
    net = random_mlp(gen, input_shape=(1, 1, 4), widths=(12, 12, 12), classes=3)
    x = torch.rand(1, 1, 1, 4, generator=gen)
    xl, xu = (x - 0.3).clamp(0, 1), (x + 0.3).clamp(0, 1)
    with torch.no_grad():
        pre, _, _ = preactivation_bounds(build_graph(net, (1, 1, 4)), xl, xu, crown=True)
        root = Root.build(net, xl, xu, torch.tensor([[1.0, -1.0, 0.0]]), torch.tensor([0.0]), pre)
    parents = Domains.root(root)
    parents = parents.select(torch.zeros(3, dtype=torch.long))
    layer = torch.tensor([0, 1, 2])
    neuron = torch.tensor([int(((parents.lower[p][0] < 0) & (parents.upper[p][0] > 0)).nonzero()[0])
                           for p in root.positions])
    children = parents.children(layer, neuron, root.positions)  # 6: split in layers 0, 1, 2, twice
    after = layer.repeat(2)
    batch = children.select(torch.arange(6))
    _tighten_by_split_layer(root, batch, after, math.inf, None, None)
    changed = 0
    for i in range(6):
        alone = children.select(torch.tensor([i]))
        tighten_intermediate(root, alone, int(after[i]))
        for k, p in enumerate(root.positions):
            assert torch.allclose(batch.lower[p][i], alone.lower[p][0], atol=1e-6), (i, k)
            assert torch.allclose(batch.upper[p][i], alone.upper[p][0], atol=1e-6), (i, k)
            if k <= int(after[i]):
                assert torch.equal(batch.lower[p][i], children.lower[p][i]), (i, k)
            else:
                changed += int((batch.lower[p][i] != children.lower[p][i]).sum())
    assert changed > 0
