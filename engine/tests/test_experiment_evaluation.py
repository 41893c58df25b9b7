"""Standard and adversarial accuracy of a round are measured on the same images (issue 5).

Before the fix, standard accuracy used data.testSize images and PGD accuracy the first
verification.attackSamples, so adversarial accuracy could exceed standard accuracy.
"""
import torch

from certprune import paths as files
from certprune.experiment import evaluation_sizes, prepare_run, run_experiment, trained_model
from certprune.phases.evaluate import clean_and_adversarial_accuracy as _clean_and_adversarial_accuracy
from certprune.protocol import load_config
from certprune.train import evaluate


def config(test_size, attack_samples, **verification):
    return load_config({
        "data": {"dataset": "synthetic", "trainSize": 64, "testSize": test_size, "augment": False},
        "model": {"arch": "cnn4"},
        "training": {"regime": "natural", "epochs": 1, "batchSize": 32},
        "pruning": {"method": "imp", "rounds": 1},
        "verification": {"mode": "crown", "samples": 4, "timeout": 5, "pgdSteps": 5, "pgdRestarts": 1,
                         "attackSamples": attack_samples, **verification},
        "device": "cpu"})


def quiet(type, **fields):
    pass


def test_evaluation_sizes_pick_one_set_for_standard_and_adversarial_accuracy():
    assert evaluation_sizes(config(40, 12)) == (12, 40, True)
    assert evaluation_sizes(config(10, 30)) == (10, 10, True)
    assert evaluation_sizes(config(None, 30)) == (30, None, True)
    assert evaluation_sizes(config(40, 12, pgdSteps=0)) == (40, 40, False)
    assert evaluation_sizes(config(40, 12, mode="none")) == (40, 40, False)


def test_each_round_measures_standard_and_adversarial_accuracy_on_the_same_images(tmp_path):
    cfg = config(40, 12)
    summary = run_experiment(cfg, str(tmp_path), quiet)
    assert summary["evaluation"]["standardAndAdversarialImages"] == 12
    assert summary["evaluation"]["testImages"] == 40
    assert summary["evaluation"]["verificationImages"] == 4
    run = prepare_run(cfg, str(tmp_path), quiet)
    for row in summary["curve"]:
        k = row["round"]
        stored = files.load_json(run.paths.evaluation(k))
        assert stored["evaluationImages"] == 12 and stored["testImages"] == 40
        # The failing condition of issue 5: PGD accuracy above clean accuracy on its images.
        assert row["adversarialAccuracy"] <= row["standardAccuracy"]
        model, _ = trained_model(run, k)
        assert row["standardAccuracy"] == evaluate(model, run.test_set.subset(12))     # the same 12 images
        assert stored["testAccuracy"] == evaluate(model, run.test_set.subset(40))
        assert summary["evaluation"]["testAccuracies"][k] == stored["testAccuracy"]


def test_pgd_accuracy_never_exceeds_clean_accuracy_even_for_a_poor_model(tmp_path):
    """Untrained networks misclassify most images: each must count as not robust."""
    run = prepare_run(config(40, 40), str(tmp_path), quiet)
    from certprune.models import build_model
    for seed in range(4):
        torch.manual_seed(seed)
        model = build_model("cnn4", run.info.input_shape, run.info.num_classes, run.info.mean, run.info.std).eval()
        standard, adversarial = _clean_and_adversarial_accuracy(run, model, run.test_set.subset(40))
        assert 0.0 <= adversarial <= standard <= 1.0
        assert standard == evaluate(model, run.test_set.subset(40))
