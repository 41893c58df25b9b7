"""Model shapes, parameter counts (pinned from PAPER.md), Normalize and BatchNorm folding."""
import pytest
import torch
from torch import nn

from certprune.models import Normalize, build_model, count_parameters, fold_batchnorm


def test_cnn7_parameter_counts_match_the_paper():
    assert count_parameters(build_model("cnn7", (3, 32, 32))) == 670_870
    assert count_parameters(build_model("cnn7", (1, 28, 28))) == 580_694


def test_cnn4_parameter_count_by_hand():
    # conv 1->16 k4: 16*16+16; BN 2*16; conv 16->32 k4: 32*16*16+32; BN 2*32;
    # 28 -> 14 -> 7, so fc 32*7*7 -> 100: 1568*100+100; fc 100 -> 10: 1010.
    expected = (16 * 16 + 16) + 32 + (32 * 256 + 32) + 64 + (1568 * 100 + 100) + 1010
    assert count_parameters(build_model("cnn4", (1, 28, 28))) == expected


def test_mlp_layers_and_count():
    model = build_model("mlp", (1, 4, 4), num_classes=3, widths=(5, 7))
    kinds = [type(layer).__name__ for layer in model]
    assert kinds == ["Normalize", "Flatten", "Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert count_parameters(model) == (16 * 5 + 5) + (5 * 7 + 7) + (7 * 3 + 3)


@pytest.mark.parametrize("arch,shape", [("cnn7", (3, 32, 32)), ("cnn7", (1, 28, 28)), ("cnn7", (1, 16, 16)),
                                        ("cnn4", (3, 32, 32)), ("cnn4", (1, 16, 16)), ("mlp", (1, 16, 16))])
def test_models_are_flat_and_give_logits(arch, shape):
    model = build_model(arch, shape, num_classes=10)
    assert all(len(list(layer.children())) == 0 for layer in model), "models must be flat Sequentials"
    assert isinstance(model[0], Normalize)
    assert model(torch.rand(2, *shape)).shape == (2, 10)


def test_cnn7_layer_sequence():
    kinds = [type(layer).__name__ for layer in build_model("cnn7", (3, 32, 32))]
    assert kinds == ["Normalize"] + ["Conv2d", "BatchNorm2d", "ReLU"] * 5 + ["Flatten", "Linear", "ReLU", "Linear"]
    convs = [layer for layer in build_model("cnn7") if isinstance(layer, nn.Conv2d)]
    assert [(c.out_channels, c.kernel_size[0], c.stride[0], c.padding[0]) for c in convs] == \
        [(32, 3, 1, 1), (64, 4, 2, 1), (64, 3, 1, 1), (128, 4, 2, 1), (128, 4, 2, 1)]


def test_normalize_layer_values_and_buffers():
    layer = Normalize((0.5, 0.25), (0.5, 2.0))
    assert layer.mean.shape == (1, 2, 1, 1) and layer.std.shape == (1, 2, 1, 1)
    assert "mean" in layer.state_dict() and count_parameters(layer) == 0
    x = torch.tensor([[[[1.0]], [[0.25]]]])  # (1, 2, 1, 1)
    assert torch.allclose(layer(x), torch.tensor([[[[1.0]], [[0.0]]]]))


def test_unknown_architecture_and_bad_normalisation_are_clear_errors():
    with pytest.raises(ValueError, match="cnn7"):
        build_model("resnet", (3, 32, 32))
    with pytest.raises(ValueError, match="one per input channel"):
        build_model("cnn4", (3, 32, 32), mean=(0.5,), std=(0.2,))
    with pytest.raises(ValueError, match="too small"):
        build_model("cnn7", (1, 2, 2))


def _randomise_batchnorm(model):
    torch.manual_seed(1)
    for layer in model:
        if isinstance(layer, nn.BatchNorm2d):
            layer.running_mean.uniform_(-1, 1)
            layer.running_var.uniform_(0.2, 3)
            layer.weight.data.uniform_(-2, 2)
            layer.bias.data.uniform_(-1, 1)


@pytest.mark.parametrize("arch", ["cnn4", "cnn7"])
def test_fold_batchnorm_gives_the_same_outputs(arch):
    torch.manual_seed(0)
    model = build_model(arch, (1, 16, 16), mean=(0.3,), std=(0.2,))
    _randomise_batchnorm(model)
    model.eval()
    folded = fold_batchnorm(model)
    assert not any(isinstance(layer, nn.BatchNorm2d) for layer in folded)
    assert len(folded) == len(model) - sum(isinstance(l, nn.BatchNorm2d) for l in model)
    x = torch.rand(8, 1, 16, 16)
    assert torch.allclose(folded(x), model(x), atol=1e-5, rtol=1e-5)
    # The original is untouched.
    assert any(isinstance(layer, nn.BatchNorm2d) for layer in model)


def test_fold_batchnorm_into_conv_without_bias():
    conv = nn.Conv2d(2, 3, 3, bias=False)
    bn = nn.BatchNorm2d(3)
    _randomise_batchnorm(nn.Sequential(bn))
    model = nn.Sequential(conv, bn).eval()
    x = torch.randn(4, 2, 5, 5)
    assert torch.allclose(fold_batchnorm(model)(x), model(x), atol=1e-5)


def test_count_nonzero_parameters():
    model = build_model("mlp", (1, 2, 2), num_classes=2, widths=(3,))
    with torch.no_grad():
        model[2].weight[0].zero_()  # 4 weights of the first hidden neuron
    assert count_parameters(model, nonzero=True) == count_parameters(model) - 4
