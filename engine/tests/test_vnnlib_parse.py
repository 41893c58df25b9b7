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
