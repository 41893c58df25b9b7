"""The exact (LP) decision of fully split subdomains, against a dense grid on 2-d inputs."""
import itertools

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
