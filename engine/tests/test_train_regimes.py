"""Each regime's batch loss against hand-computed values on tiny networks; RS/NRS/Slim values."""
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from certprune.data import dataset_info, load_dataset
from certprune.models import Normalize, build_model
from certprune.train import (TrainingSettings, apply_masks, batch_loss, make_optimizer, nrs_loss, rs_loss,
                             slim_loss, train, train_epoch, verified_accuracy, worst_case_logits)


def _linear_model(weight, bias):
    """Normalize(0, 1), Flatten, Linear: logits = W x + b for (B, 1, 1, D) inputs."""
    model = nn.Sequential(Normalize((0.0,), (1.0,)), nn.Flatten(), nn.Linear(len(weight[0]), len(weight)))
    with torch.no_grad():
        model[2].weight.copy_(torch.tensor(weight))
        model[2].bias.copy_(torch.tensor(bias))
    return model


# --- FGSM + GradAlign ------------------------------------------------------------------

def test_fgsm_gradalign_loss_by_hand_on_a_linear_model():
    W = torch.tensor([[1.0, -2.0], [0.5, 1.0], [-1.0, 0.5]])
    b = torch.tensor([0.1, 0.0, -0.2])
    model = _linear_model(W.tolist(), b.tolist())
    x = torch.tensor([[[[0.3, 0.6]]], [[[0.9, 0.05]]]])  # (2, 1, 1, 2)
    y = torch.tensor([1, 0])
    eps = 0.1
    settings = TrainingSettings(regime="fgsm", eps=eps, fgsm_step=1.25, grad_align_weight=0.2)
    loss, stats = batch_loss(model, x, y, eps, settings, generator=torch.Generator().manual_seed(4))

    # By hand. The random start: U(-eps, eps) from the same seed, clipped to [0, 1].
    noise = torch.rand(x.shape, generator=torch.Generator().manual_seed(4)) * 2 * eps - eps
    flat, start = x.flatten(1), (x + noise).clamp(0, 1).flatten(1)
    onehot = F.one_hot(y, 3).float()

    def input_grad(points):  # d mean-CE / d x for a linear model: W^T (softmax - onehot) / B
        return ((points @ W.T + b).softmax(1) - onehot) @ W / 2

    delta = (start - flat + 1.25 * eps * input_grad(start).sign()).clamp(-eps, eps)
    x_adv = (flat + delta).clamp(0, 1)
    adv_logits = x_adv @ W.T + b
    ce = -(adv_logits.log_softmax(1) * onehot).sum(1).mean()
    g_clean, g_rand = input_grad(flat), input_grad(start)
    cos = (g_clean * g_rand).sum(1) / (g_clean.norm(dim=1) * g_rand.norm(dim=1))
    expected = ce + 0.2 * (1 - cos).mean()
    assert float(loss) == pytest.approx(float(expected), rel=1e-5)
    assert stats["robust_correct"] == int((adv_logits.argmax(1) == y).sum())
    assert stats["correct"] == int(((flat @ W.T + b).argmax(1) == y).sum())


def test_gradalign_term_is_differentiable_in_the_weights():
    torch.manual_seed(0)
    model = nn.Sequential(Normalize((0.0,), (1.0,)), nn.Flatten(), nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 3))
    x, y = torch.rand(6, 1, 2, 2), torch.tensor([0, 1, 2, 0, 1, 2])
    grads = []
    for weight in (0.0, 1.0):
        settings = TrainingSettings(regime="fgsm", eps=0.2, grad_align_weight=weight)
        model.zero_grad()
        loss, _ = batch_loss(model, x, y, 0.2, settings, generator=torch.Generator().manual_seed(1))
        loss.backward()
        grads.append(model[2].weight.grad.clone())
    assert not torch.allclose(grads[0], grads[1])  # the penalty reaches the weights


# --- certified: IBP and CROWN-IBP --------------------------------------------------------

def _two_layer():
    """x (1, 1, 2) -> h = relu(W1 x + b1) (2 neurons) -> logits = W2 h + b2 (2 classes)."""
    model = nn.Sequential(Normalize((0.0,), (1.0,)), nn.Flatten(), nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2))
    with torch.no_grad():
        model[2].weight.copy_(torch.tensor([[1.0, 1.0], [1.0, -1.0]]))
        model[2].bias.copy_(torch.tensor([0.0, 0.1]))
        model[4].weight.copy_(torch.tensor([[2.0, 1.0], [0.0, 3.0]]))
        model[4].bias.copy_(torch.tensor([0.5, 0.0]))
    return model


X = torch.tensor([[[[0.5, 0.3]]]])
Y = torch.tensor([0])
# Box x +- 0.2 = [0.3, 0.7] x [0.1, 0.5].
# Neuron 1: x1 + x2 in [0.4, 1.2] (stable active); neuron 2: x1 - x2 + 0.1 in [-0.1, 0.7] (unstable).
# Margin m = logit0 - logit1 = 2 h1 - 2 h2 + 0.5.
# IBP: 2*0.4 - 2*relu(0.7) + 0.5 = -0.1.
IBP_LOWER = -0.1
# CROWN: h1 = z1 exactly; the coefficient of h2 is -2 < 0, so h2 takes its upper line
# u/(u-l) (z2 - l) = 0.875 (z2 + 0.1). m >= 2 z1 - 1.75 z2 - 0.175 + 0.5
#   = 2(x1 + x2) - 1.75(x1 - x2 + 0.1) + 0.325 = 0.25 x1 + 3.75 x2 + 0.15,
# minimised at x = (0.3, 0.1): 0.075 + 0.375 + 0.15 = 0.6.
CROWN_LOWER = 0.6


def _robust_ce(lower):  # CE of logits (0, -lower) for class 0
    return math.log(1 + math.exp(-lower))


def test_ibp_loss_by_hand():
    settings = TrainingSettings(regime="ibp", eps=0.2)
    loss, stats = batch_loss(_two_layer(), X, Y, 0.2, settings)
    assert float(loss) == pytest.approx(_robust_ce(IBP_LOWER), rel=1e-5)
    assert stats["robust_correct"] == 0 and stats["correct"] == 1


def test_crown_ibp_loss_mixes_crown_and_ibp_by_the_ramp():
    settings = TrainingSettings(regime="crown-ibp", eps=0.8)
    # eps 0.2 of eps_max 0.8: beta = 0.75.
    loss, stats = batch_loss(_two_layer(), X, Y, 0.2, settings)
    mixed = 0.75 * CROWN_LOWER + 0.25 * IBP_LOWER
    assert float(loss) == pytest.approx(_robust_ce(mixed), rel=1e-5)
    assert stats["robust_correct"] == 1
    # At the full eps it is pure IBP.
    full, _ = batch_loss(_two_layer(), X, Y, 0.2, TrainingSettings(regime="crown-ibp", eps=0.2))
    assert float(full) == pytest.approx(_robust_ce(IBP_LOWER), rel=1e-5)


def test_certified_loss_at_eps_zero_is_the_clean_cross_entropy():
    model = _two_layer()
    loss, _ = batch_loss(model, X, Y, 0.0, TrainingSettings(regime="ibp", eps=0.2))
    assert float(loss) == pytest.approx(float(F.cross_entropy(model(X), Y)), rel=1e-6)


def test_worst_case_logits_place_margins_around_the_true_class():
    lower = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    z = worst_case_logits(lower, torch.tensor([2, 0]), 4)
    assert z.tolist() == [[-1.0, -2.0, 0.0, -3.0], [0.0, -4.0, -5.0, -6.0]]


# --- regularisers ----------------------------------------------------------------------

def _bn_model():
    """[Normalize, Conv2d(1->2), BatchNorm2d, ReLU, Flatten, Linear(2->2), ReLU, Linear]: ReLU 3
    follows a BN (gammas 0.5 and -2), ReLU 6 follows a Linear."""
    model = nn.Sequential(Normalize((0.0,), (1.0,)), nn.Conv2d(1, 2, 1), nn.BatchNorm2d(2), nn.ReLU(),
                          nn.Flatten(), nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2))
    with torch.no_grad():
        model[2].weight.copy_(torch.tensor([0.5, -2.0]))
    return model


def test_rs_loss_by_hand():
    pre = [(torch.tensor([[-1.0, 0.5]]), torch.tensor([[2.0, 1.0]])), (torch.tensor([[-0.1]]), torch.tensor([[0.3]]))]
    terms = [-math.tanh(1 - 2.0), -math.tanh(1 + 0.5), -math.tanh(1 - 0.03)]
    assert float(rs_loss(pre)) == pytest.approx(sum(terms) / 3, rel=1e-6)


def test_nrs_loss_divides_by_the_channel_gamma_squared():
    model = _bn_model()
    # ReLU 3: (B=1, C=2, 1, 1) bounds; ReLU 6: (1, 2) bounds, plain RS.
    pre = [(torch.tensor([[[[-1.0]], [[-0.5]]]]), torch.tensor([[[[0.2]], [[3.0]]]])),
           (torch.tensor([[-0.4, 1.0]]), torch.tensor([[0.5, 2.0]]))]
    terms = [-math.tanh(1 - 0.2 / (0.25 + 1e-6)), -math.tanh(1 - 1.5 / (4.0 + 1e-6)),
             -math.tanh(1 - 0.2), -math.tanh(1 + 2.0)]
    assert float(nrs_loss(model, pre, [3, 6])) == pytest.approx(sum(terms) / 4, rel=1e-6)
    # gamma is detached: the loss sends no gradient to the BN weight.
    pre[0] = (pre[0][0].requires_grad_(), pre[0][1])
    nrs_loss(model, pre, [3, 6]).backward()
    assert model[2].weight.grad is None and pre[0][0].grad is not None


def test_slim_loss_is_the_l1_norm_of_bn_gammas():
    assert float(slim_loss(_bn_model())) == pytest.approx(2.5)


def test_regulariser_uses_ibp_bounds_at_the_full_eps():
    from certprune.bounds import compute_bounds, margin_spec
    torch.manual_seed(0)
    model = nn.Sequential(Normalize((0.0,), (1.0,)), nn.Flatten(), nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 3))
    x, y = torch.rand(5, 1, 2, 2), torch.tensor([0, 1, 2, 1, 0])
    settings = TrainingSettings(regime="natural", eps=0.3, regularizer="rs", regularizer_weight=0.5)
    loss, stats = batch_loss(model, x, y, 0.0, settings)  # ramped eps 0, full eps 0.3
    full = compute_bounds(model, (x - 0.3).clamp(0, 1), (x + 0.3).clamp(0, 1), method="ibp",
                          spec=margin_spec(y, 3))
    expected_reg = float(rs_loss(full.preactivations))
    assert stats["regularizer"] == pytest.approx(expected_reg, rel=1e-6)
    assert float(loss) == pytest.approx(float(F.cross_entropy(model(x), y)) + 0.5 * expected_reg, rel=1e-6)


# --- training behaviour ----------------------------------------------------------------

def _synthetic_mlp(seed=0):
    info = dataset_info("synthetic")
    torch.manual_seed(seed)
    return build_model("mlp", info.input_shape, info.num_classes, info.mean, info.std, widths=(32, 32))


def _synthetic_cnn4(seed=0):
    info = dataset_info("synthetic")
    torch.manual_seed(seed)
    return build_model("cnn4", info.input_shape, info.num_classes, info.mean, info.std)


@pytest.mark.parametrize("regime,regularizer", [("ibp", "nrs"), ("crown-ibp", "none")])
def test_certified_training_keeps_masked_weights_zero(regime, regularizer):
    data = load_dataset("synthetic", "train", size=64)
    # NRS needs BatchNorm (cnn4); CROWN-IBP runs on a small MLP to keep the test quick.
    model = _synthetic_cnn4() if regularizer == "nrs" else _synthetic_mlp()
    generator = torch.Generator().manual_seed(0)
    masks = {name: (torch.rand(p.shape, generator=generator) < 0.3).float()
             for name, p in model.named_parameters() if name.endswith("weight") and p.dim() > 1}
    settings = TrainingSettings.from_config({"regime": regime, "regularizer": regularizer, "epochs": 2,
                                             "epsStart": 1, "epsLength": 2, "batchSize": 32}, data.info)
    apply_masks(model, masks)
    optimizer = make_optimizer(model.parameters(), settings)
    for epoch in (1, 2):
        train_epoch(model, data, optimizer, settings, epoch, masks=masks, generator=generator)
    params = dict(model.named_parameters())
    assert all(bool((params[name][mask == 0] == 0).all()) for name, mask in masks.items())


def test_ibp_training_certifies_synthetic_test_images():
    train_ds, test_ds = load_dataset("synthetic", "train", size=1000), load_dataset("synthetic", "test", size=200)
    # An MLP: IBP-trains reliably in few steps (a CNN needs a longer ramp than a test can afford).
    settings = TrainingSettings.from_config({"regime": "ibp", "epochs": 6, "epsStart": 1, "epsLength": 4,
                                             "lrMilestones": []}, train_ds.info)
    torch.manual_seed(0)
    model = build_model("mlp", train_ds.info.input_shape, 10, train_ds.info.mean, train_ds.info.std, widths=(64,))
    events = []
    train(model, train_ds, test_ds, settings, on_epoch=events.append, device="cpu")
    assert [round(e["eps"], 6) for e in events][-1] == 0.05
    assert verified_accuracy(model, test_ds, 0.05) > 0.3


def test_fgsm_checkpoint_is_the_best_fgsm_test_epoch():
    train_ds, test_ds = load_dataset("synthetic", "train", size=300), load_dataset("synthetic", "test", size=100)
    settings = TrainingSettings.from_config({"regime": "fgsm", "epochs": 4, "epsStart": 1, "epsLength": 2}, train_ds.info)
    torch.manual_seed(0)
    model = build_model("mlp", train_ds.info.input_shape, 10, train_ds.info.mean, train_ds.info.std, widths=(32,))
    result = train(model, train_ds, test_ds, settings, device="cpu")
    scores = [h["fgsmTestAccuracy"] for h in result.history]
    assert result.best_epoch == 1 + scores.index(max(scores))
    assert len(set(scores)) > 1  # the choice was not trivial
    chosen = {k: v for k, v in result.state_dict.items()}
    assert all(torch.equal(chosen[k], v) for k, v in model.state_dict().items())  # model holds it


def test_verified_accuracy_by_method():
    from certprune.data import Dataset, DatasetInfo
    info = DatasetInfo("tiny", (1, 1, 2), 2, (0.0,), (1.0,), 0.2, False, 0)
    data = Dataset(X.clone(), Y.clone(), info, "test")
    assert verified_accuracy(_two_layer(), data, 0.2, "ibp") == 0.0        # IBP margin bound -0.1
    assert verified_accuracy(_two_layer(), data, 0.2, "crown-ibp") == 1.0  # CROWN margin bound 0.6
    wrong = Dataset(X.clone(), torch.tensor([1]), info, "test")            # misclassified: never verified
    assert verified_accuracy(_two_layer(), wrong, 0.0, "crown-ibp") == 0.0
