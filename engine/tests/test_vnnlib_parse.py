"""VNNLIB parsing and writing (the robustness form and its variants), with clear errors."""
import numpy as np
import pytest

from certprune.vnnlib import VnnlibError, parse_vnnlib, robustness_vnnlib

HEADER = "".join(f"(declare-const X_{i} Real)\n" for i in range(2)) + \
    "".join(f"(declare-const Y_{j} Real)\n" for j in range(3))
BOX = "(assert (<= X_0 0.5))\n(assert (>= X_0 0.25))\n(assert (>= 0.75 X_1))\n(assert (<= 0.125 X_1))\n"


def test_written_robustness_property_parses_back():
    lo, hi = np.array([0.0, 0.1, 0.3]), np.array([0.2, 0.30000001, 1.0])
    prop = parse_vnnlib(robustness_vnnlib(lo, hi, label=1, num_classes=3))
    assert np.array_equal(prop.x_lower, lo) and np.array_equal(prop.x_upper, hi)
    assert prop.num_outputs == 3 and len(prop.clauses) == 2
    # Y_0 >= Y_1  <=>  Y_1 - Y_0 <= 0
    assert np.array_equal(prop.clauses[0].spec, [[-1.0, 1.0, 0.0]]) and np.array_equal(prop.clauses[0].offset, [0.0])
    assert np.array_equal(prop.clauses[1].spec, [[0.0, 1.0, -1.0]])


def test_box_bounds_in_both_orders_and_comments():
    prop = parse_vnnlib("; a comment\n" + HEADER + BOX + "(assert (or (and (>= Y_1 Y_0)) (and (>= Y_2 Y_0))))")
    assert np.array_equal(prop.x_lower, [0.25, 0.125]) and np.array_equal(prop.x_upper, [0.5, 0.75])


def test_bare_or_and_conjunctive_forms():
    bare = parse_vnnlib(HEADER + BOX + "(assert (or (>= Y_1 Y_0) (<= Y_0 Y_2)))")
    assert [c.spec.tolist() for c in bare.clauses] == [[[1.0, -1.0, 0.0]], [[1.0, 0.0, -1.0]]]
    conj = parse_vnnlib(HEADER + BOX + "(assert (<= Y_0 Y_1))\n(assert (>= Y_2 3.5))")
    assert len(conj.clauses) == 1
    assert conj.clauses[0].spec.tolist() == [[1.0, -1.0, 0.0], [0.0, 0.0, -1.0]]
    assert conj.clauses[0].offset.tolist() == [0.0, 3.5]  # 3.5 - Y_2 <= 0
    multi = parse_vnnlib(HEADER + BOX + "(assert (or (and (>= Y_1 Y_0) (<= Y_2 -1.0)) (and (>= Y_2 Y_0))))")
    assert multi.clauses[0].spec.shape == (2, 3) and multi.clauses[0].offset.tolist() == [0.0, 1.0]


@pytest.mark.parametrize("text, message", [
    (HEADER + BOX + "(assert (or (and (>= Y_1 Y_0))", "unclosed"),
    (HEADER + "(assert (<= X_0 0.5))\n(assert (>= X_0 0.25))\n(assert (or (and (>= Y_1 Y_0))))", "X_1 has no"),
    (HEADER + BOX + "(check-sat)", "unsupported command"),
    (HEADER + BOX + "(assert (or (and (>= Y_1 X_0))))", "inputs X_i may not appear"),
    (HEADER + BOX, "no output constraint"),
    (HEADER + BOX + "(assert (or (and (>= Y_7 Y_0))))", "Y_7 is used but not declared"),
    (HEADER + "(assert (<= X_0 0.1))\n(assert (>= X_0 0.2))\n(assert (<= X_1 1))\n(assert (>= X_1 0))"
     "(assert (>= Y_1 Y_0))", "lower bound 0.2 > upper bound 0.1"),
    ("(assert (>= Y_1 Y_0))", "no X_i / Y_j variables"),
])
def test_malformed_properties_say_what_is_wrong(text, message):
    with pytest.raises(VnnlibError, match=message):
        parse_vnnlib(text)


UNION = HEADER + """(assert (or
    (and (<= X_0 0.5) (>= X_0 0.25) (<= X_1 0.75) (>= X_1 0.125))
    (and (<= X_0 -0.25) (>= X_0 -0.5) (<= X_1 0.75) (>= X_1 0.125))
))
(assert (or (and (<= Y_1 Y_0)) (and (<= Y_2 Y_0))))
"""


def test_input_region_that_is_a_union_of_boxes():
    """ACAS Xu prop_6: an (or) over input boxes and an (or) over outputs: two regions,
    each with both output clauses; the hull and all clauses for whole-region consumers."""
    prop = parse_vnnlib(UNION)
    assert len(prop.regions) == 2
    first, second = prop.regions
    assert first.x_lower.tolist() == [0.25, 0.125] and first.x_upper.tolist() == [0.5, 0.75]
    assert second.x_lower.tolist() == [-0.5, 0.125] and second.x_upper.tolist() == [-0.25, 0.75]
    for region in prop.regions:
        assert [c.spec.tolist() for c in region.clauses] == [[[-1.0, 1.0, 0.0]], [[-1.0, 0.0, 1.0]]]
    assert prop.x_lower.tolist() == [-0.5, 0.125] and prop.x_upper.tolist() == [0.5, 0.75]
    assert len(prop.clauses) == 4


def test_cases_mixing_input_and_output_constraints():
    """Each case of an (or) may bound inputs and outputs together (later VNN-COMP form);
    common box asserts apply to every case; a case whose box is empty is dropped."""
    text = HEADER + "(assert (<= X_1 0.75))\n(assert (>= X_1 0.125))\n" + """(assert (or
    (and (<= X_0 0.5) (>= X_0 0.25) (>= Y_1 Y_0))
    (and (<= X_0 0.5) (>= X_0 0.25) (>= Y_2 3.0))
    (and (<= X_0 1.0) (>= X_0 0.5) (>= Y_2 Y_1) (<= Y_0 0.0))
    (and (<= X_0 0.0) (>= X_0 1.0) (>= Y_2 Y_1))
))"""
    prop = parse_vnnlib(text)
    assert len(prop.regions) == 2
    assert [len(r.clauses) for r in prop.regions] == [2, 1]
    assert prop.regions[1].x_lower.tolist() == [0.5, 0.125] and prop.regions[1].clauses[0].spec.shape == (2, 3)
    with pytest.raises(VnnlibError, match="constrains only inputs"):
        parse_vnnlib(HEADER + BOX + "(assert (or (and (<= X_0 0.3)) (and (>= Y_1 Y_0))))")
    with pytest.raises(VnnlibError, match="nested inside"):
        parse_vnnlib(HEADER + BOX + "(assert (or (and (or (>= Y_1 Y_0) (>= Y_2 Y_0)))))")


def test_gzipped_property_files(tmp_path):
    import gzip
    from certprune.vnnlib import load_vnnlib
    path = tmp_path / "p.vnnlib.gz"
    with gzip.open(path, "wt") as f:
        f.write(UNION)
    assert len(load_vnnlib(str(path)).regions) == 2
    (tmp_path / "bad.vnnlib.gz").write_bytes(b"not gzip")
    with pytest.raises(VnnlibError, match="cannot read VNNLIB file"):
        load_vnnlib(str(tmp_path / "bad.vnnlib.gz"))
