"""Training loop basics: settings defaults, eps ramp, lr steps, batches, masks, natural training."""
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from certprune.data import dataset_info, load_dataset
from certprune.models import build_model
from certprune.train import (TrainingSettings, apply_masks, batch_loss, batches, eps_at, evaluate,
                             lr_at, make_optimizer, train, train_epoch)


# --- settings ------------------------------------------------------------------------

def test_settings_fill_regime_defaults():
    info = dataset_info("fashion-mnist")
    crown = TrainingSettings.from_config({}, info)
    assert (crown.regime, crown.lr, crown.weight_decay, crown.eps) == ("crown-ibp", 1e-3, 1e-5, 0.1)
    assert crown.lr_milestones == [140, 170] and crown.batch_size == 128 and crown.grad_clip == 8
    assert crown.flip and crown.crop_padding == info.crop_padding
    nrs = TrainingSettings.from_config({"regime": "ibp", "regularizer": "nrs"}, info)
    assert nrs.weight_decay == 0.0 and nrs.regularizer_weight == 0.001
    fgsm = TrainingSettings.from_config({"regime": "fgsm", "regularizer": "rs", "epochs": 20}, info)
    assert (fgsm.lr, fgsm.weight_decay, fgsm.regularizer_weight) == (0.01, 5e-4, 0.01)
    assert fgsm.lr_milestones == [14, 17]
    slim = TrainingSettings.from_config({"regime": "natural", "regularizer": "slim", "lr": 0.1,
                                         "eps": 0.2, "weightDecay": None}, info, augment=False)
    assert (slim.regularizer_weight, slim.lr, slim.eps, slim.weight_decay, slim.augment) == (1e-4, 0.1, 0.2, 5e-4, False)
    with pytest.raises(ValueError, match="regime"):
        TrainingSettings.from_config({"regime": "pgd"}, info)


# --- eps ramp and lr -----------------------------------------------------------------

def _ramp(eps=0.1, start=11, length=80):
    return TrainingSettings(regime="ibp", eps=eps, eps_start=start, eps_length=length)


def test_eps_ramp_values_by_hand():
    s = _ramp()
    # Ramp spans t in [10, 90]; the power-4 piece ends at 10 + 0.4*80 = 42.
    # Matching value and slope at 42: alpha*32^4 = eps / (1 + 4*48/32) = eps/7.
    assert eps_at(0.0, s) == 0.0 and eps_at(10.0, s) == 0.0
    assert eps_at(42.0, s) == pytest.approx(0.1 / 7, rel=1e-9)
    assert eps_at(26.0, s) == pytest.approx(0.1 / 7 / 16, rel=1e-9)      # (16/32)^4 of the mid value
    assert eps_at(66.0, s) == pytest.approx(0.1 / 7 + 0.5 * (0.1 - 0.1 / 7), rel=1e-9)
    assert eps_at(90.0, s) == pytest.approx(0.1) and eps_at(150.0, s) == 0.1
    assert eps_at(66.0, s, eps_max=0.2) == pytest.approx(2 * eps_at(66.0, s))


def test_eps_ramp_is_continuous_with_matching_slope_and_monotone():
    s = _ramp(eps=8 / 255, start=16, length=121)
    mid = 15 + 0.4 * 121
    h = 1e-6
    left = (eps_at(mid, s) - eps_at(mid - h, s)) / h
    right = (eps_at(mid + h, s) - eps_at(mid, s)) / h
    assert left == pytest.approx(right, rel=1e-4)
    values = [eps_at(t / 10, s) for t in range(0, 1500)]
    assert all(b >= a for a, b in zip(values, values[1:]))


def test_zero_length_ramp_jumps_to_full_eps():
    s = _ramp(start=1, length=0)
    assert eps_at(0.0, s) == 0.0 and eps_at(0.01, s) == 0.1


def test_lr_steps_at_milestones():
    s = TrainingSettings(regime="natural", lr=0.01, lr_milestones=[140, 170], lr_gamma=0.1)
    assert lr_at(1, s) == 0.01 and lr_at(140, s) == 0.01
    assert lr_at(141, s) == pytest.approx(0.001) and lr_at(171, s) == pytest.approx(0.0001)


def test_optimizer_kinds():
    params = [nn.Parameter(torch.zeros(2))]
    sgd = make_optimizer(params, TrainingSettings(regime="fgsm", lr=0.01, weight_decay=5e-4))
    assert isinstance(sgd, torch.optim.SGD) and sgd.defaults["momentum"] == 0.9
    adam = make_optimizer(params, TrainingSettings(regime="crown-ibp", lr=1e-3, weight_decay=1e-5))
    assert isinstance(adam, torch.optim.Adam) and adam.defaults["weight_decay"] == 1e-5


# --- batches -------------------------------------------------------------------------

def test_batches_cover_the_set_once_and_shuffle_reproducibly():
    data = load_dataset("synthetic", "test", size=50)
    seen = torch.cat([y for _, y in batches(data, 16)])
    assert torch.equal(seen, data.labels)
    order1 = torch.cat([x.flatten(1)[:, 0] for x, _ in batches(data, 16, True, False, torch.Generator().manual_seed(1))])
    order2 = torch.cat([x.flatten(1)[:, 0] for x, _ in batches(data, 16, True, False, torch.Generator().manual_seed(1))])
    assert torch.equal(order1, order2) and not torch.equal(order1, data.images.flatten(1)[:, 0])
    assert torch.equal(order1.sort().values, data.images.flatten(1)[:, 0].sort().values)


# --- natural loss and training -------------------------------------------------------

def _tiny_linear():
    model = build_model("mlp", (1, 1, 2), num_classes=3, widths=())
    with torch.no_grad():
        model[2].weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
        model[2].bias.copy_(torch.tensor([0.0, 0.5, -1.0]))
    return model


def test_natural_loss_by_hand():
    model = _tiny_linear()
    x = torch.tensor([[[[0.2, 0.6]]], [[[1.0, 0.0]]]])
    y = torch.tensor([1, 0])
    loss, stats = batch_loss(model, x, y, 0.0, TrainingSettings(regime="natural"))
    # logits: [0.2, 1.1, -0.2] and [1.0, 0.5, 0.0]
    ce1 = -1.1 + math.log(math.exp(0.2) + math.exp(1.1) + math.exp(-0.2))
    ce2 = -1.0 + math.log(math.exp(1.0) + math.exp(0.5) + math.exp(0.0))
    assert float(loss.detach()) == pytest.approx((ce1 + ce2) / 2, rel=1e-6)
    assert stats["correct"] == 2 and stats["robust_correct"] is None


def _synthetic_model(seed=0):
    info = dataset_info("synthetic")
    torch.manual_seed(seed)
    return build_model("cnn4", info.input_shape, info.num_classes, info.mean, info.std)


def test_natural_training_learns_synthetic_and_reports_epochs():
    train_ds, test_ds = load_dataset("synthetic", "train", size=1000), load_dataset("synthetic", "test", size=200)
    settings = TrainingSettings.from_config({"regime": "natural", "epochs": 3, "lrMilestones": []}, train_ds.info)
    events = []
    result = train(_synthetic_model(), train_ds, test_ds, settings, on_epoch=events.append, device="cpu")
    assert [e["epoch"] for e in events] == [1, 2, 3]
    assert set(events[0]) == {"epoch", "epochs", "loss", "trainAccuracy", "testAccuracy", "robustAccuracy",
                              "eps", "lr", "seconds"}
    assert events[-1]["testAccuracy"] > 0.9 and events[-1]["robustAccuracy"] is None
    assert result.best_epoch == 3 and "1.weight" in result.state_dict


def test_seeded_training_is_identical_on_cpu():
    data = load_dataset("synthetic", "train", size=128)
    settings = TrainingSettings.from_config({"regime": "fgsm", "epochs": 1, "epsStart": 1, "epsLength": 0,
                                             "batchSize": 32}, data.info)
    states = []
    for _ in range(2):
        model = _synthetic_model(seed=3)
        train(model, data, None, settings, device="cpu", generator=torch.Generator().manual_seed(7))
        states.append(model.state_dict())
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])


@pytest.mark.parametrize("regime", ["natural", "fgsm"])
def test_masked_weights_stay_exactly_zero(regime):
    data = load_dataset("synthetic", "train", size=128)
    model = _synthetic_model()
    generator = torch.Generator().manual_seed(0)
    masks = {name: (torch.rand(p.shape, generator=generator) < 0.5).float()
             for name, p in model.named_parameters() if name.endswith("weight") and p.dim() > 1}
    settings = TrainingSettings.from_config({"regime": regime, "epochs": 1, "epsStart": 1, "epsLength": 0,
                                             "weightDecay": 0.1, "batchSize": 64}, data.info)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    apply_masks(model, masks)
    optimizer = make_optimizer(model.parameters(), settings)
    for epoch in (1, 2):  # two epochs: momentum carries over between steps
        train_epoch(model, data, optimizer, settings, epoch, masks=masks, generator=generator)
    params = dict(model.named_parameters())
    for name, mask in masks.items():
        assert bool((params[name][mask == 0] == 0).all()), name
        assert not torch.equal(params[name][mask == 1], before[name][mask == 1])


def test_evaluate_counts_correct_predictions():
    data = load_dataset("synthetic", "test", size=20)
    model = nn.Sequential(nn.Flatten(), nn.Linear(256, 10))
    with torch.no_grad():
        model[1].weight.zero_()
        model[1].bias.copy_(F.one_hot(data.labels[0], 10).float())  # always predicts sample 0's class
    expected = float((data.labels == data.labels[0]).float().mean())
    assert evaluate(model, data) == pytest.approx(expected)


def test_train_epoch_reports_every_batch_to_on_batch():
    """on_batch(done, total) after every batch: progress within an epoch (max_batches caps total)."""
    data = load_dataset("synthetic", "train", size=100)
    settings = TrainingSettings.from_config({"regime": "natural", "epochs": 1, "batchSize": 32}, data.info)
    model = _synthetic_model()
    optimizer = make_optimizer(model.parameters(), settings)
    calls = []
    stats = train_epoch(model, data, optimizer, settings, 1, on_batch=lambda done, total: calls.append((done, total)))
    # 100 samples in batches of 32: 4 batches, the last of 4 samples
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)] and stats["batches"] == 4
    calls.clear()
    train_epoch(model, data, optimizer, settings, 1, max_batches=2, on_batch=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 2), (2, 2)]
    calls.clear()  # a last batch of one sample is skipped (BatchNorm), and still reported
    stats = train_epoch(model, load_dataset("synthetic", "train", size=97), optimizer, settings, 1,
                        on_batch=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (4, 4) and stats["batches"] == 3
