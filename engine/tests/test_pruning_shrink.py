"""Shrinking a channel-pruned network: smaller layers, identical outputs (to 1e-5)."""
import torch
from torch import nn

from certprune.models import build_model
from certprune.pruning import METHODS, PruneData, PruneSettings, apply_mask, dense_mask, layers, shrink
from certprune.pruning.masks import remove_channels


def random_bn_statistics(model, seed=0):
    """Non-trivial running statistics and affine parameters, as after training."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model:
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.num_features, generator=g))
                m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.weight.copy_(torch.randn(m.num_features, generator=g))
                m.bias.copy_(torch.randn(m.num_features, generator=g))
    return model


def cnn4(seed=0):
    torch.manual_seed(seed)
    model = build_model("cnn4", (1, 28, 28), 10, (0.3,), (0.35,))
    return random_bn_statistics(model, seed)


def prune_channels(model, plan):
    """plan: {layer name: [channels]} -> masked model (in place) and its mask."""
    mask = dense_mask(model)
    by_name = {l.name: l for l in layers(model)}
    for name, channels in plan.items():
        remove_channels(model, mask, by_name[name], torch.tensor(channels))
    apply_mask(model, mask)
    return mask


def max_difference(a, b, x):
    with torch.no_grad():
        return float((a(x) - b(x)).abs().max())


def test_shrinking_conv_channels_keeps_outputs_and_removes_parameters():
    model = cnn4()
    prune_channels(model, {"conv1": [0, 3, 7, 15], "conv2": [1, 2, 30]})
    model.eval()
    small = shrink(model)
    x = torch.rand(16, 1, 28, 28)
    assert max_difference(model, small, x) < 1e-5
    convs = [m for m in small if isinstance(m, nn.Conv2d)]
    linears = [m for m in small if isinstance(m, nn.Linear)]
    assert (convs[0].out_channels, convs[1].in_channels, convs[1].out_channels) == (12, 12, 29)
    assert linears[0].in_features == 29 * 7 * 7 and linears[0].out_features == 100
    bns = [m for m in small if isinstance(m, nn.BatchNorm2d)]
    assert [b.num_features for b in bns] == [12, 29] and bns[1].running_mean.shape == (29,)
    assert sum(p.numel() for p in small.parameters()) < sum(p.numel() for p in model.parameters())


def test_shrinking_hidden_linear_neurons_keeps_outputs():
    model = cnn4(1)
    prune_channels(model, {"conv2": [0], "fc1": [5, 6, 99]})
    model.eval()
    small = shrink(model)
    x = torch.rand(8, 1, 28, 28)
    assert max_difference(model, small, x) < 1e-5
    linears = [m for m in small if isinstance(m, nn.Linear)]
    assert (linears[0].out_features, linears[1].in_features, linears[1].out_features) == (97, 97, 10)


def test_mlp_neurons_shrink():
    torch.manual_seed(2)
    model = build_model("mlp", (1, 8, 8), 10, widths=(20, 30))
    prune_channels(model, {"fc1": list(range(10)), "fc2": [0, 29]})
    small = shrink(model.eval())
    assert max_difference(model, small, torch.rand(5, 1, 8, 8)) < 1e-5
    assert [m.out_features for m in small if isinstance(m, nn.Linear)] == [10, 28, 10]


def test_a_channel_with_only_its_weights_zero_is_kept_because_beta_still_flows():
    model = cnn4(3)
    with torch.no_grad():
        model[1].weight[4].zero_()
        model[1].bias[4] = 0.0                        # BN beta of channel 4 is still non-zero
    model.eval()
    small = shrink(model)
    assert [m for m in small if isinstance(m, nn.Conv2d)][0].out_channels == 16
    assert max_difference(model, small, torch.rand(4, 1, 28, 28)) < 1e-5


def test_a_layer_with_every_channel_dead_keeps_one():
    model = cnn4(4)
    prune_channels(model, {"conv1": list(range(16))})
    model.eval()
    small = shrink(model)
    assert [m for m in small if isinstance(m, nn.Conv2d)][0].out_channels == 1
    assert max_difference(model, small, torch.rand(4, 1, 28, 28)) < 1e-5


def test_shrinking_a_slimmed_cnn7_preserves_outputs():
    torch.manual_seed(5)
    model = random_bn_statistics(build_model("cnn7", (3, 32, 32), 10, (0.49, 0.48, 0.45), (0.2, 0.2, 0.2)), 5)
    mask = METHODS["slim"](model, dense_mask(model), PruneSettings(target_ratio=0.5, scope="conv"), PruneData())
    apply_mask(model, mask)
    model.eval()
    small = shrink(model)
    x = torch.rand(4, 3, 32, 32)
    assert max_difference(model, small, x) < 1e-5
    kept = sum(m.out_channels for m in small if isinstance(m, nn.Conv2d))
    assert kept == round(0.5 * (32 + 64 + 64 + 128 + 128))


def test_shrink_keeps_train_mode_and_does_not_modify_the_input():
    model = cnn4(6)
    prune_channels(model, {"conv1": [1]})
    before = {k: v.clone() for k, v in model.state_dict().items()}
    small = shrink(model.train())
    assert small.training
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
