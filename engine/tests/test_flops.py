"""The MAC counter against hand-counted products, forward and backward."""
import torch
import torch.nn.functional as F
from torch import nn

from certprune.flops import MacCounter


def test_conv_forward_and_backward_are_counted_by_hand():
    torch.manual_seed(0)
    conv = nn.Conv2d(2, 3, kernel_size=3, stride=1, padding=0)  # each output: 2 * 3 * 3 = 18 products
    x = torch.randn(4, 2, 6, 6)  # output (4, 3, 4, 4): 192 elements
    with MacCounter() as forward_only:
        out = conv(x)
    assert forward_only.by_op == {"convolution": 192 * 18}
    with MacCounter() as step:
        conv(x).sum().backward()  # the input needs no gradient: the weight gradient only
    assert step.by_op == {"convolution": 192 * 18, "convolution_backward": 192 * 18}
    x.requires_grad_(True)
    with MacCounter() as both:
        conv(x).sum().backward()
    assert both.by_op["convolution_backward"] == 2 * 192 * 18
    assert out.shape == (4, 3, 4, 4)


def test_transposed_conv_counts_per_input_element():
    x = torch.randn(2, 3, 5, 5)
    weight = torch.randn(3, 4, 2, 2)  # (in, out, kh, kw): each input element feeds 4 * 2 * 2
    with MacCounter() as counter:
        out = F.conv_transpose2d(x, weight, stride=2)
    assert out.shape == (2, 4, 10, 10)
    assert counter.total == 2 * 3 * 5 * 5 * 16


def test_matrix_products_and_linear_layers():
    a, b = torch.randn(5, 7), torch.randn(7, 3)
    layer = nn.Linear(7, 3)
    with MacCounter() as counter:
        a @ b
        torch.bmm(torch.randn(2, 5, 7), torch.randn(2, 7, 3))
        a @ torch.randn(7)
        layer(a)
        torch.relu(a)  # element-wise: not counted
    assert counter.by_op == {"matmul": 5 * 7 * 3 + 2 * 5 * 7 * 3 + 5 * 7 + 5 * 7 * 3}


def test_a_natural_training_step_is_three_passes_of_the_convolutions():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                          nn.Conv2d(4, 8, 4, stride=2, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 4 * 4, 10))
    x, y = torch.rand(16, 1, 8, 8), torch.randint(0, 10, (16,))
    with MacCounter() as forward:
        model(x)
    with MacCounter() as step:
        F.cross_entropy(model(x), y).backward()
    first = 16 * 4 * 8 * 8 * 9  # the first convolution gets no input gradient
    assert forward.total == first + 16 * 8 * 4 * 4 * 64 + 16 * 128 * 10
    assert step.total == 3 * forward.total - first
