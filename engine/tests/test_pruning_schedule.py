"""Counted sparsity follows the schedule; pruned weights stay exactly zero through training."""
import pytest
import torch
from torch import nn

from certprune.data import load_dataset
from certprune.models import build_model
from certprune.pruning import (METHODS, PruneData, PruneSettings, apply_mask, count_channels, count_weights,
                               dense_mask, layer_report, masked_entries_are_zero, prunable_layers)
from certprune.pruning.masks import channels_alive
from certprune.train import TrainingSettings, train


def retrain_stand_in(model, seed):
    """Fresh random weights, as if the network had been trained again."""
    torch.manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn_like(p))
    return model


@pytest.mark.parametrize("method,scope", [("imp", "conv"), ("random", "conv"), ("imp", "conv-linear")])
def test_weight_methods_follow_the_schedule_within_one_weight_per_layer(method, scope):
    torch.manual_seed(0)
    model = build_model("cnn4", (1, 16, 16), 10)
    mask = dense_mask(model)
    remaining, total = count_weights(model, mask, scope)
    assert remaining == total
    layers = len(prunable_layers(model, scope))
    for k in range(1, 9):
        retrain_stand_in(model, k)
        apply_mask(model, mask)
        data = PruneData(generator=torch.Generator().manual_seed(k))
        mask = METHODS[method](model, mask, PruneSettings(target_ratio=0.8 ** k, scope=scope), data)
        remaining, total = count_weights(model, mask, scope)
        assert abs(remaining - total * 0.8 ** k) <= layers
        # the per-layer report counts the same weights
        report = {r["name"]: r for r in layer_report(model, mask)}
        assert sum(report[l.name]["remainingWeights"] for l in prunable_layers(model, scope)) == remaining
    assert report["fc2"]["remainingWeights"] == report["fc2"]["weights"]     # the output layer is never pruned


@pytest.mark.parametrize("method", ["slim", "struct-lth"])
def test_channel_methods_follow_the_schedule(method):
    torch.manual_seed(0)
    model = build_model("cnn7", (1, 28, 28), 10)
    mask = dense_mask(model)
    for k in range(1, 4):
        retrain_stand_in(model, k)
        apply_mask(model, mask)
        mask = METHODS[method](model, mask, PruneSettings(target_ratio=0.89 ** k, scope="conv"), PruneData())
        alive, channels = count_channels(model, mask, "conv")
        assert abs(alive - channels * 0.89 ** k) <= 0.5
        # a removed channel takes its filter and the next layer's inputs along:
        # each conv keeps exactly (alive outputs) x (alive inputs) x kernel area weights
        alive_in = 1
        for layer in prunable_layers(model, "conv"):
            alive_out = int(channels_alive(mask, layer).sum())
            area = model[layer.index].weight[0, 0].numel()
            assert int(mask[layer.weight_name].sum()) == alive_out * alive_in * area
            alive_in = alive_out


@pytest.mark.parametrize("regime", ["natural", "fgsm"])
def test_pruned_weights_stay_exactly_zero_through_training_with_momentum_and_weight_decay(regime):
    torch.manual_seed(0)
    data = load_dataset("synthetic", "train", size=48)
    model = build_model("cnn4", data.info.input_shape, data.info.num_classes, data.info.mean, data.info.std)
    mask = dense_mask(model)
    mask = METHODS["imp"](model, mask, PruneSettings(target_ratio=0.5, scope="conv-linear"), PruneData())
    mask = METHODS["slim"](model, mask, PruneSettings(target_ratio=0.7, scope="conv"), PruneData())
    apply_mask(model, mask)
    settings = TrainingSettings(regime=regime, epochs=1, batch_size=16, lr=0.05, weight_decay=5e-3,
                                lr_milestones=[], eps=0.05, eps_start=1, eps_length=1)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    train(model, data, None, settings, masks=mask, device="cpu", generator=torch.Generator().manual_seed(0))
    assert masked_entries_are_zero(model, mask)
    params = dict(model.named_parameters())
    changed = [n for n in mask if not torch.equal(before[n], params[n].detach())]
    assert "1.weight" in changed and "2.weight" in changed         # training did move surviving weights
    for name, m in mask.items():
        assert bool((params[name].detach()[m == 0] == 0).all()), name


def test_a_bare_optimizer_step_would_resurrect_weights_without_masks():
    """The control for the test above: momentum and weight decay do move zeroed weights."""
    torch.manual_seed(0)
    layer = nn.Linear(4, 4)
    with torch.no_grad():
        layer.weight[0].zero_()
    optimizer = torch.optim.SGD(layer.parameters(), lr=0.1, momentum=0.9, weight_decay=0.1)
    layer(torch.rand(3, 4)).sum().backward()
    optimizer.step()
    assert bool((layer.weight[0] != 0).any())
