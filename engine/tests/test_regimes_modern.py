"""SABR, MTL-IBP, CROWN-IBP with loss fusion and Shi et al.'s IBP initialisation and
warm-up, reached the way a run reaches them: through the config, the regime registry and
the batch objective (their losses against hand values are in test_sabr_mtl.py,
test_loss_fusion.py and test_fast_ibp.py)."""
import pytest
import torch

from certprune.data import dataset_info, load_dataset
from certprune.experiment import run_experiment
from certprune.models import build_model
from certprune.protocol import load_config
from certprune.train import REGIMES, TrainingSettings, batch_loss, make_optimizer, train_epoch
from certprune.train.fast_ibp import fast_warmup_regularizer, ibp_width_profile
from certprune.train.loss_fusion import fused_crown_ibp_loss
from certprune.train.losses import certified_loss
from certprune.train.mtl_ibp import mtl_ibp_loss
from certprune.train.sabr import sabr_loss


def _mlp(seed=0):
    info = dataset_info("synthetic")
    torch.manual_seed(seed)
    return build_model("mlp", info.input_shape, info.num_classes, info.mean, info.std, widths=(24, 24)), info


def _batch(n=16):
    data = load_dataset("synthetic", "train", size=n)
    return data.pixels[:n], data.labels[:n]  # (n, C, H, W) in [0, 1], (n,)


def _settings(info, **training):
    return TrainingSettings.from_config({"epochs": 2, "epsStart": 1, "epsLength": 2, "batchSize": 8, **training}, info)


def test_the_new_regimes_are_registered_with_their_schema_defaults():
    assert {"sabr", "mtl-ibp"} <= set(REGIMES)
    _, info = _mlp()
    settings = _settings(info, regime="sabr")
    assert settings.options["sabrBoxScale"] == 0.4 and settings.options["sabrPgdSteps"] == 8
    assert settings.options["mtlAlpha"] == 0.01 and settings.options["lossFusion"] is False
    assert REGIMES["sabr"].certified and REGIMES["mtl-ibp"].certified


@pytest.mark.parametrize("regime,options,reference", [
    ("sabr", {"sabrBoxScale": 0.3, "sabrPgdSteps": 3},
     lambda m, x, y, eps, g: sabr_loss(m, x, y, eps, box_scale=0.3, steps=3, generator=g)),
    ("mtl-ibp", {"mtlAlpha": 0.25, "mtlAttackSteps": 2, "mtlAttackStep": 0.5},
     lambda m, x, y, eps, g: mtl_ibp_loss(m, x, y, eps, alpha=0.25, steps=2, step=0.5, generator=g)),
    ("crown-ibp", {"lossFusion": True},
     lambda m, x, y, eps, g: fused_crown_ibp_loss(m, x, y, eps, 0.1)),
])
def test_the_batch_objective_is_the_regimes_loss_with_its_settings(regime, options, reference):
    model, info = _mlp()
    x, y = _batch()
    settings = _settings(info, regime=regime, eps=0.1, **options)
    loss, _ = batch_loss(model, x, y, 0.05, settings, eps_max=0.1, generator=torch.Generator().manual_seed(3))
    expected, _, _ = reference(model, x, y, 0.05, torch.Generator().manual_seed(3))
    assert float(loss) == pytest.approx(float(expected), rel=1e-6)


def test_loss_fusion_is_a_different_objective_from_plain_crown_ibp_during_the_ramp():
    model, info = _mlp()
    x, y = _batch()
    plain, _ = batch_loss(model, x, y, 0.05, _settings(info, regime="crown-ibp", eps=0.1), eps_max=0.1)
    fused, _ = batch_loss(model, x, y, 0.05, _settings(info, regime="crown-ibp", eps=0.1, lossFusion=True), eps_max=0.1)
    reference, _, _ = certified_loss(model, x, y, 0.05, _settings(info, regime="crown-ibp", eps=0.1), 0.1,
                                     bounds="crown-ibp")
    assert float(plain) == pytest.approx(float(reference), rel=1e-6)
    assert float(fused) != pytest.approx(float(plain), rel=1e-4)


def test_fast_warmup_adds_the_regulariser_only_while_eps_ramps():
    model, info = _mlp()
    x, y = _batch()
    on = _settings(info, regime="ibp", eps=0.1, fastWarmup=True)
    off = _settings(info, regime="ibp", eps=0.1)
    with_reg, stats = batch_loss(model, x, y, 0.02, on, eps_max=0.1)
    without, _ = batch_loss(model, x, y, 0.02, off, eps_max=0.1)
    expected = fast_warmup_regularizer(model, x, y, 0.02, 0.1)
    assert float(expected) > 0
    assert float(with_reg) == pytest.approx(float(without) + float(expected), rel=1e-6)
    assert stats["warmup"] == pytest.approx(float(expected), rel=1e-6)
    at_full, stats_full = batch_loss(model, x, y, 0.1, on, eps_max=0.1)
    plain_full, _ = batch_loss(model, x, y, 0.1, off, eps_max=0.1)
    assert float(at_full) == pytest.approx(float(plain_full), rel=1e-6) and "warmup" not in stats_full


@pytest.mark.parametrize("regime", ["sabr", "mtl-ibp"])
def test_the_new_regimes_train_with_masks(regime):
    model, info = _mlp()
    data = load_dataset("synthetic", "train", size=32)
    generator = torch.Generator().manual_seed(0)
    masks = {name: (torch.rand(p.shape, generator=generator) < 0.5).float()
             for name, p in model.named_parameters() if name.endswith("weight") and p.dim() > 1}
    settings = _settings(info, regime=regime, sabrPgdSteps=2)
    optimizer = make_optimizer(model.parameters(), settings)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    for epoch in (1, 2):
        result = train_epoch(model, data, optimizer, settings, epoch, masks=masks, generator=generator)
    assert result["robustAccuracy"] is not None and result["batches"] == 4
    params = dict(model.named_parameters())
    assert all(bool((params[n][m == 0] == 0).all()) for n, m in masks.items())
    assert any(not torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_ibp_init_run_stores_flat_bound_widths_in_its_initial_weights(tmp_path):
    config = load_config({"data": {"dataset": "synthetic", "trainSize": 32, "testSize": 16, "augment": False},
                          "model": {"arch": "mlp", "widths": [64, 64, 64]},
                          "training": {"regime": "ibp", "epochs": 1, "batchSize": 16, "ibpInit": True},
                          "pruning": {"method": "none"}, "verification": {"mode": "none"}, "device": "cpu"})
    default = dict(config, training=dict(config["training"], ibpInit=False))
    widths = {}
    x, _ = _batch()
    for name, cfg in (("ibp", config), ("default", default)):
        run_experiment(cfg, str(tmp_path / name), lambda *a, **k: None)
        info = dataset_info("synthetic")
        model = build_model("mlp", info.input_shape, info.num_classes, info.mean, info.std, widths=(64, 64, 64))
        model.load_state_dict(torch.load(tmp_path / name / "init.pt"))
        widths[name] = ibp_width_profile(model, x, 0.05)
    ratio = lambda w: max(b / a for a, b in zip(w[1:], w[2:]))  # growth from one ReLU layer to the next
    assert ratio(widths["ibp"]) < 2.5
    assert widths["ibp"] != widths["default"]
