"""Each pruning method removes exactly the weights or channels its definition names.

Networks are small and hand-made; expected masks are computed by hand or by a plain
Python re-derivation of the method's definition (sorted lists, loops).
"""
import torch
from torch import nn

from certprune.pruning import METHODS, PruneData, PruneSettings, dense_mask, prunable_layers
from certprune.pruning.masks import count_channels, count_weights, remove_channels
from certprune.pruning.structured import channel_nrs


def tiny_cnn(seed=0):
    """1x4x4 input: conv(1->3) BN ReLU conv(3->4, s2) BN ReLU Flatten fc(16->5) ReLU fc(5->3)."""
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Identity(),
        nn.Conv2d(1, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(),
        nn.Conv2d(3, 4, 3, stride=2, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
        nn.Flatten(), nn.Linear(16, 5), nn.ReLU(), nn.Linear(5, 3))
    return model


def distinct_weights(model, seed=0):
    """Give every conv/linear weight a distinct magnitude (a random permutation of 1..N, random signs)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model:
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                n = m.weight.numel()
                values = (torch.randperm(n, generator=g).float() + 1) / n
                signs = torch.where(torch.rand(n, generator=g) < 0.5, -1.0, 1.0)
                m.weight.copy_((values * signs).reshape(m.weight.shape))
    return model


def flat_entries(model, names):
    """[(name, flat index, value)] of the named weights."""
    params = dict(model.named_parameters())
    return [(n, i, float(v)) for n in names for i, v in enumerate(params[n].detach().reshape(-1))]


def kept_set(mask, names):
    return {(n, i) for n in names for i, v in enumerate(mask[n].reshape(-1)) if v > 0}


def test_imp_keeps_the_largest_magnitudes_globally_and_never_touches_other_layers():
    model = distinct_weights(tiny_cnn())
    names = ["1.weight", "4.weight"]
    mask = METHODS["imp"](model, dense_mask(model), PruneSettings(target_ratio=0.6, scope="conv"), PruneData())
    entries = sorted(flat_entries(model, names), key=lambda e: -abs(e[2]))
    total = len(entries)                                   # 27 + 108 = 135
    expected = {(n, i) for n, i, _ in entries[:round(0.6 * total)]}
    assert kept_set(mask, names) == expected
    for name in ("8.weight", "10.weight", "1.bias", "2.weight", "2.bias"):
        assert bool((mask[name] == 1).all()), name        # linear, biases and BN untouched


def test_imp_with_conv_linear_scope_prunes_hidden_linear_but_never_the_output_layer():
    model = distinct_weights(tiny_cnn())
    names = ["1.weight", "4.weight", "8.weight"]
    mask = METHODS["imp"](model, dense_mask(model), PruneSettings(target_ratio=0.5, scope="conv-linear"), PruneData())
    entries = sorted(flat_entries(model, names), key=lambda e: -abs(e[2]))
    assert kept_set(mask, names) == {(n, i) for n, i, _ in entries[:round(0.5 * len(entries))]}
    assert bool((mask["10.weight"] == 1).all())


def test_imp_keeps_pruned_weights_pruned_even_when_they_are_large():
    model = distinct_weights(tiny_cnn())
    mask = dense_mask(model)
    mask["1.weight"].view(-1)[0] = 0
    with torch.no_grad():
        model[1].weight.view(-1)[0] = 100.0                # largest weight, but already pruned
    new = METHODS["imp"](model, mask, PruneSettings(target_ratio=0.9, scope="conv"), PruneData())
    assert new["1.weight"].view(-1)[0] == 0
    assert count_weights(model, new, "conv") == (round(0.9 * 135), 135)
    assert mask["1.weight"].sum() == 26                    # the input mask was not modified


def test_random_removes_the_scheduled_count_uniformly_among_survivors():
    model = tiny_cnn()
    mask = dense_mask(model)
    remove = torch.zeros(27, dtype=torch.bool)
    remove[:5] = True
    mask["1.weight"][remove.reshape(3, 1, 3, 3)] = 0
    kept_count = torch.zeros(135)
    draws = 300
    for seed in range(draws):
        data = PruneData(generator=torch.Generator().manual_seed(seed))
        new = METHODS["random"](model, mask, PruneSettings(target_ratio=0.5, scope="conv"), data)
        assert count_weights(model, new, "conv")[0] == round(0.5 * 135)
        flat = torch.cat([new["1.weight"].reshape(-1), new["4.weight"].reshape(-1)])
        assert bool((flat[:5] == 0).all())                 # pruned stay pruned
        kept_count += flat
    frequency = kept_count[5:] / draws                     # each survivor kept with prob 68/130
    assert abs(float(frequency.mean()) - 68 / 130) < 1e-6
    assert float((frequency - 68 / 130).abs().max()) < 0.12   # ~4 binomial standard deviations
    same = METHODS["random"](model, mask, PruneSettings(0.5), PruneData(generator=torch.Generator().manual_seed(1)))
    again = METHODS["random"](model, mask, PruneSettings(0.5), PruneData(generator=torch.Generator().manual_seed(1)))
    assert all(torch.equal(same[n], again[n]) for n in same)


def two_layer_mlp(w1, w2, b1=None):
    """Flatten, Linear(in -> hidden), ReLU, Linear(hidden -> out), with given weights."""
    w1, w2 = torch.tensor(w1), torch.tensor(w2)
    model = nn.Sequential(nn.Flatten(), nn.Linear(w1.shape[1], w1.shape[0]), nn.ReLU(),
                          nn.Linear(w2.shape[1], w2.shape[0]))
    with torch.no_grad():
        model[1].weight.copy_(w1)
        model[1].bias.copy_(torch.zeros(w1.shape[0]) if b1 is None else torch.tensor(b1))
        model[3].weight.copy_(w2)
        model[3].bias.zero_()
    return model


def first_logit_loss(model, x, y):
    """L = sum over the batch of logit 0: dL/dW1[j, i] = W2[0, j] * sum_b x_b[i] while ReLUs are active."""
    return model(x)[:, 0].sum()


W1_INIT = [[0.5, -0.2, 0.3], [0.1, 0.4, -0.6]]
W2_INIT = [[1.0, -3.0], [0.5, 0.5]]
W1_TRAINED = [[0.9, -0.1, 0.25], [0.05, 0.3, -0.7]]
W2_TRAINED = [[-2.0, 0.5], [0.5, 0.5]]
X = torch.tensor([[1.0, 1.0, 0.5], [2.0, 1.0, 0.5]])      # sum over batch: (3, 2, 1)
# Hidden biases keep both ReLUs active on both inputs for both weight sets.
B1 = [5.0, 5.0]


def saliency_by_hand(w1, w2):
    xs = X.sum(0).tolist()
    return {(j, i): abs(w1[j][i] * w2[0][j] * xs[i]) for j in range(2) for i in range(3)}


def keep_top(scores, count):
    return {key for key, _ in sorted(scores.items(), key=lambda kv: -kv[1])[:count]}


def test_snip_scores_the_initial_weights_times_their_gradient():
    trained = two_layer_mlp(W1_TRAINED, W2_TRAINED, B1)
    init = two_layer_mlp(W1_INIT, W2_INIT, B1).state_dict()
    data = PruneData(batches=[(X, torch.zeros(2, dtype=torch.long))], loss=first_logit_loss, init_state=init)
    mask = METHODS["snip"](trained, dense_mask(trained), PruneSettings(target_ratio=0.5, scope="conv-linear"), data)
    kept = {(j, i) for j in range(2) for i in range(3) if mask["1.weight"][j, i] > 0}
    expected = keep_top(saliency_by_hand(W1_INIT, W2_INIT), 3)
    assert kept == expected == {(0, 0), (1, 1), (1, 2)}   # scores 1.5, 2.4, 1.8 at init
    assert keep_top(saliency_by_hand(W1_TRAINED, W2_TRAINED), 3) != expected   # trained weights rank otherwise
    assert bool((mask["3.weight"] == 1).all())


def test_taylor_scores_the_trained_weights_times_their_gradient():
    trained = two_layer_mlp(W1_TRAINED, W2_TRAINED, B1)
    data = PruneData(batches=[(X, torch.zeros(2, dtype=torch.long))], loss=first_logit_loss)
    mask = METHODS["taylor"](trained, dense_mask(trained), PruneSettings(target_ratio=0.5, scope="conv-linear"), data)
    kept = {(j, i) for j in range(2) for i in range(3) if mask["1.weight"][j, i] > 0}
    expected = keep_top(saliency_by_hand(W1_TRAINED, W2_TRAINED), 3)
    assert kept == expected == {(0, 0), (0, 1), (0, 2)}
    imp = METHODS["imp"](trained, dense_mask(trained), PruneSettings(target_ratio=0.5, scope="conv-linear"), data)
    assert not torch.equal(imp["1.weight"], mask["1.weight"])   # not just magnitude


def test_hydra_learns_to_keep_a_small_weight_the_robust_loss_needs():
    # out = W1[0,0]*x0 + W1[0,1]*x1 with x = (1, -1) and target 0.3: keeping only the SMALL
    # weight 0.3 gives loss 0, keeping the large 0.9 (IMP's choice) gives (-0.9 - 0.3)^2.
    model = nn.Sequential(nn.Flatten(), nn.Linear(2, 1, bias=False), nn.Linear(1, 1, bias=False))
    with torch.no_grad():
        model[1].weight.copy_(torch.tensor([[0.3, 0.9]]))
        model[2].weight.fill_(1.0)
    x = torch.tensor([[1.0, -1.0]])
    loss = lambda m, xb, yb: ((m(xb)[:, 0] - 0.3) ** 2).sum()  # noqa: E731
    data = PruneData(epoch_batches=lambda: [(x, torch.zeros(1, dtype=torch.long))], loss=loss)
    settings = PruneSettings(target_ratio=0.5, scope="conv-linear", hydra_epochs=30, hydra_lr=0.05,
                             hydra_milestones=(100,))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    mask = METHODS["hydra"](model, dense_mask(model), settings, data)
    assert mask["1.weight"].tolist() == [[1.0, 0.0]]
    assert METHODS["imp"](model, dense_mask(model), settings, data)["1.weight"].tolist() == [[0.0, 1.0]]
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # weights frozen, input untouched


def test_hydra_without_score_training_is_imp():
    model = distinct_weights(tiny_cnn())
    data = PruneData(epoch_batches=lambda: [], loss=lambda m, x, y: m(x).sum())
    settings = PruneSettings(target_ratio=0.3, scope="conv", hydra_epochs=0)
    hydra = METHODS["hydra"](model, dense_mask(model), settings, data)
    imp = METHODS["imp"](model, dense_mask(model), settings, data)
    assert all(torch.equal(hydra[n], imp[n]) for n in imp)


def struct_net():
    """conv1 channels: A all 0.5 (sum 4.5); B one 3.0 + eight 0.1 (sum 3.8); C all 0.4 (sum 3.6).
    conv2 weights are all >= 1, so its channels are never the weakest."""
    model = tiny_cnn()
    with torch.no_grad():
        model[1].weight[0].fill_(0.5)
        model[1].weight[1].fill_(0.1)
        model[1].weight[1, 0, 1, 1] = 3.0
        model[1].weight[2].fill_(-0.4)
        model[4].weight.copy_(1.0 + torch.rand(model[4].weight.shape))
    return model


def assert_channel_removed(model, mask, layer_index, bn_index, next_index, channel, block=1):
    assert bool((mask[f"{layer_index}.weight"][channel] == 0).all())
    assert bool((mask[f"{layer_index}.bias"][channel] == 0).all())
    assert mask[f"{bn_index}.weight"][channel] == 0 and mask[f"{bn_index}.bias"][channel] == 0
    cols = list(range(channel * block, (channel + 1) * block))
    assert bool((mask[f"{next_index}.weight"][:, cols] == 0).all())


def test_struct_lth_ranks_channels_by_magnitude_that_survives_the_imp_step_and_refills():
    model = struct_net()
    # The IMP step removes 8 of 135 weights: exactly B's eight 0.1 entries. Then B (3.0)
    # ranks below C (3.6), although B's full sum (3.8) is larger.
    settings = PruneSettings(target_ratio=6 / 7, scope="conv", struct_lth_weight_rate=8 / 135)
    mask = METHODS["struct-lth"](model, dense_mask(model), settings, PruneData())
    assert_channel_removed(model, mask, 1, 2, 4, channel=1)
    assert count_channels(model, mask, "conv") == (6, 7)
    for channel in (0, 2):                                    # refilled: the whole filter is back
        assert bool((mask["1.weight"][channel] == 1).all())
    assert bool((mask["4.weight"][:, [0, 2]] == 1).all())
    plain = METHODS["struct-lth"](model, dense_mask(model), PruneSettings(6 / 7, "conv", struct_lth_weight_rate=0.0),
                                  PruneData())
    assert_channel_removed(model, plain, 1, 2, 4, channel=2)   # without the IMP step C goes


def test_slim_removes_the_smallest_absolute_gammas_globally():
    model = tiny_cnn()
    with torch.no_grad():
        model[2].weight.copy_(torch.tensor([0.9, -0.05, 0.3]))
        model[5].weight.copy_(torch.tensor([-2.0, 0.2, 0.01, 1.0]))
    mask = METHODS["slim"](model, dense_mask(model), PruneSettings(target_ratio=4 / 7, scope="conv"), PruneData())
    assert_channel_removed(model, mask, 1, 2, 4, channel=1)
    assert_channel_removed(model, mask, 4, 5, 8, channel=2, block=4)   # flatten: 2x2 columns per channel
    assert_channel_removed(model, mask, 4, 5, 8, channel=1, block=4)
    assert count_channels(model, mask, "conv") == (4, 7)
    assert mask["4.weight"][0].sum() == 2 * 9                 # channel 0 of conv2 lost only conv1's channel 1


def test_channel_nrs_matches_hand_values():
    lower = torch.tensor([[-1.0, 1.0], [-2.0, 1.0]])          # (B=2, C=2)
    upper = torch.tensor([[1.0, 2.0], [2.0, 3.0]])
    rs = channel_nrs(lower, upper, None)
    expected0 = (-torch.tanh(torch.tensor(0.0)) - torch.tanh(torch.tensor(-3.0))) / 2
    expected1 = (-torch.tanh(torch.tensor(3.0)) - torch.tanh(torch.tensor(4.0))) / 2
    assert torch.allclose(rs, torch.stack([expected0, expected1]))
    nrs = channel_nrs(lower, upper, torch.tensor([2.0, 1.0]))
    assert torch.allclose(nrs[0], (-torch.tanh(torch.tensor(1 - 1 / 4.000001)) - torch.tanh(torch.tensor(1 - 4 / 4.000001))) / 2)


def test_nrs_channel_removes_the_least_stable_channels():
    model = tiny_cnn()
    model.eval()
    with torch.no_grad():
        model[2].weight.fill_(1.0)
        model[5].weight.fill_(1.0)

    def bounds(m, x, eps):
        """Fixed interval bounds: conv1 channel 2 and conv2 channel 3 straddle zero widely."""
        b = x.shape[0]
        l1, u1 = torch.ones(b, 3, 4, 4), 2 * torch.ones(b, 3, 4, 4)
        l1[:, 2], u1[:, 2] = -3.0, 3.0
        l2, u2 = torch.ones(b, 4, 2, 2), 2 * torch.ones(b, 4, 2, 2)
        l2[:, 3], u2[:, 3] = -1.0, 0.5
        l3, u3 = torch.ones(b, 5), 2 * torch.ones(b, 5)
        return [(l1, u1), (l2, u2), (l3, u3)]

    data = PruneData(batches=[(torch.rand(2, 1, 4, 4), torch.zeros(2, dtype=torch.long))], relu_bounds=bounds, eps=0.1)
    mask = METHODS["nrs-channel"](model, dense_mask(model), PruneSettings(target_ratio=5 / 7, scope="conv"), data)
    assert_channel_removed(model, mask, 1, 2, 4, channel=2)
    assert_channel_removed(model, mask, 4, 5, 8, channel=3, block=4)
    assert count_channels(model, mask, "conv") == (5, 7)


def test_channel_methods_never_empty_a_layer():
    model = tiny_cnn()
    with torch.no_grad():
        model[2].weight.copy_(torch.tensor([0.01, 0.02, 0.03]))   # conv1 gammas are all tiny
        model[5].weight.copy_(torch.tensor([1.0, 2.0, 3.0, 4.0]))
    mask = METHODS["slim"](model, dense_mask(model), PruneSettings(target_ratio=4 / 7, scope="conv"), PruneData())
    layers = prunable_layers(model, "conv")
    from certprune.pruning.masks import channels_alive
    assert channels_alive(mask, layers[0]).tolist() == [False, False, True]
    assert channels_alive(mask, layers[1]).tolist() == [False, True, True, True]


def test_remove_channels_refuses_the_output_layer():
    model = tiny_cnn()
    output = [l for l in __import__("certprune.pruning", fromlist=["layers"]).layers(model) if l.is_output][0]
    try:
        remove_channels(model, dense_mask(model), output, torch.tensor([0]))
    except ValueError as e:
        assert "output layer" in str(e)
    else:
        raise AssertionError("removing an output channel must fail")


def test_scope_conv_on_an_mlp_explains_itself():
    model = two_layer_mlp(W1_INIT, W2_INIT)
    try:
        METHODS["imp"](model, dense_mask(model), PruneSettings(0.5, "conv"), PruneData())
    except ValueError as e:
        assert "conv-linear" in str(e)
    else:
        raise AssertionError("scope conv on an MLP must fail with advice")


def test_runner_inputs_follow_the_papers_hydra_settings():
    from certprune.protocol import load_config
    from certprune.pruning.inputs import prune_settings
    certified = prune_settings(load_config({"training": {"regime": "crown-ibp"}}), 0.8)
    fgsm = prune_settings(load_config({"training": {"regime": "fgsm"}, "pruning": {"scope": "conv-linear"}}), 0.5)
    assert (certified.hydra_epochs, certified.hydra_lr, certified.hydra_milestones) == (20, 0.001, (10, 15))
    assert (fgsm.hydra_lr, fgsm.scope, fgsm.target_ratio) == (0.01, "conv-linear", 0.5)
