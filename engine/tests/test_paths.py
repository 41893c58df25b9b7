"""Run paths and atomic writes."""
import os

import pytest
import torch

from certprune import paths as files
from certprune.paths import RunPaths


def test_every_artifact_has_its_place(tmp_path):
    p = RunPaths(str(tmp_path))
    assert p.init == os.path.join(str(tmp_path), "init.pt")
    assert p.relative(p.mask(3)) == "round_3/mask.pt"
    assert p.relative(p.checkpoint(0)) == "round_0/checkpoint.pt"
    names = {p.relative(f(2)) for f in (p.mask, p.checkpoint, p.metrics, p.verification, p.stability, p.onnx)}
    assert names == {"round_2/mask.pt", "round_2/checkpoint.pt", "round_2/metrics.json",
                     "round_2/verification.json", "round_2/stability.json", "round_2/model.onnx"}
    with pytest.raises(ValueError):
        p.round_dir(-1)


def test_finished_rounds_are_those_with_metrics(tmp_path):
    p = RunPaths(str(tmp_path))
    assert p.finished_rounds() == []
    files.save_json({"round": 0}, p.metrics(0))
    files.save_json({"round": 2}, p.metrics(2))
    files.save_torch({"a": torch.ones(1)}, p.mask(1))          # started, not finished
    assert p.finished_rounds() == [0, 2]


def test_torch_and_json_round_trip_atomically(tmp_path):
    p = RunPaths(str(tmp_path))
    state = {"w": torch.arange(6.0).reshape(2, 3)}
    size = files.save_torch(state, p.checkpoint(0))
    assert size == os.path.getsize(p.checkpoint(0))
    assert torch.equal(files.load_torch(p.checkpoint(0))["w"], state["w"])
    files.save_json({"x": [1, 2.5, None]}, p.metrics(0))
    assert files.load_json(p.metrics(0)) == {"x": [1, 2.5, None]}
    assert not [n for n in os.listdir(p.round_dir(0)) if n.endswith(".tmp")]   # no temporary left behind


def test_a_write_interrupted_before_the_rename_leaves_no_file_under_the_final_name(tmp_path, monkeypatch):
    p = RunPaths(str(tmp_path))
    files.save_json({"old": 1}, p.metrics(0))

    def killed(*args):
        raise KeyboardInterrupt("killed between write and rename")

    monkeypatch.setattr(files.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        files.save_json({"new": 2}, p.metrics(0))
    monkeypatch.undo()
    assert files.load_json(p.metrics(0)) == {"old": 1}                      # the finished file is intact
    assert os.listdir(p.round_dir(0)) == ["metrics.json"]                   # and no temporary is left


def test_jsonl_ignores_a_torn_last_line(tmp_path):
    path = str(tmp_path / "partial.jsonl")
    assert files.read_jsonl(path) == []
    files.append_jsonl({"index": 0}, path)
    files.append_jsonl({"index": 1}, path)
    with open(path, "a") as f:
        f.write('{"index": 2, "sta')                                          # killed mid-write
    assert files.read_jsonl(path) == [{"index": 0}, {"index": 1}]
