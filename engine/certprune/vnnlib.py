"""VNNLIB properties (VNN-COMP): parse and write the robustness form.

A property is an input box plus the *counterexample region* over the outputs:

    (declare-const X_0 Real) ... (declare-const Y_0 Real) ...
    (assert (<= X_0 0.52)) (assert (>= X_0 0.32)) ...
    (assert (or (and (>= Y_1 Y_0)) (and (>= Y_2 Y_0)) ...))

It is violated ('sat') when some input in the box reaches the region. Parsed output
constraints become clauses: clause c is reached at x when every row of
spec_c @ Y + offset_c is <= 0 (Y_j >= Y_y becomes the row e_y - e_j). Supported: input
bounds on single variables; output comparisons between two Y's or a Y and a number,
combined by a top-level or-of-ands, a top-level or, or several top-level asserts
(one conjunctive clause).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import List, Sequence, Tuple, Union

import numpy as np

Expr = Union[str, list]


class VnnlibError(ValueError):
    """A VNNLIB file that cannot be read or is outside the supported subset."""


@dataclass
class Clause:
    spec: np.ndarray  # (m, K)
    offset: np.ndarray  # (m,)


@dataclass
class Property:
    x_lower: np.ndarray  # (n,) float64, flattened NCHW input order
    x_upper: np.ndarray
    clauses: List[Clause]
    num_outputs: int


# --------------------------------------------------------------------------- parsing

def _tokenize(text: str) -> List[str]:
    text = re.sub(r";[^\n]*", " ", text)  # comments
    return re.findall(r"\(|\)|[^\s()]+", text)


def _parse(tokens: List[str], path: str) -> List[Expr]:
    stack: List[list] = [[]]
    for tok in tokens:
        if tok == "(":
            stack.append([])
        elif tok == ")":
            if len(stack) == 1:
                raise VnnlibError(f"{path}: unbalanced ')'")
            done = stack.pop()
            stack[-1].append(done)
        else:
            stack[-1].append(tok)
    if len(stack) != 1:
        raise VnnlibError(f"{path}: {len(stack) - 1} unclosed '('")
    return stack[0]


def _variable(tok, prefix: str):
    if isinstance(tok, str) and re.fullmatch(prefix + r"_(\d+)", tok):
        return int(tok.split("_")[1])
    return None


def _number(tok):
    if not isinstance(tok, str):
        return None
    try:
        return float(tok)
    except ValueError:
        return None


def load_vnnlib(path: str) -> Property:
    """Parse a VNNLIB file; raises VnnlibError saying what is wrong and where."""
    try:
        with open(path, "r", encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        raise VnnlibError(f"VNNLIB file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise VnnlibError(f"cannot read VNNLIB file {path}: {exc}") from None
    return parse_vnnlib(text, path)


def parse_vnnlib(text: str, path: str = "<vnnlib>") -> Property:
    exprs = _parse(_tokenize(text), path)
    n_in = n_out = 0
    asserts = []
    for i, e in enumerate(exprs):
        if not isinstance(e, list) or not e:
            raise VnnlibError(f"{path}: top-level item {i + 1} ({e!r}) is not a command like (assert ...)")
        head = e[0]
        if head == "declare-const":
            if len(e) != 3:
                raise VnnlibError(f"{path}: malformed declaration {_show(e)}")
            x, y = _variable(e[1], "X"), _variable(e[1], "Y")
            if x is not None:
                n_in = max(n_in, x + 1)
            elif y is not None:
                n_out = max(n_out, y + 1)
            else:
                raise VnnlibError(f"{path}: unsupported variable {e[1]} (expected X_i or Y_j)")
        elif head == "assert":
            if len(e) != 2:
                raise VnnlibError(f"{path}: malformed assert {_show(e)}")
            asserts.append(e[1])
        else:
            raise VnnlibError(f"{path}: unsupported command {head!r} in {_show(e)}")
    if n_in == 0 or n_out == 0:
        raise VnnlibError(f"{path}: no X_i / Y_j variables declared")
    lower = np.full(n_in, -np.inf)
    upper = np.full(n_in, np.inf)
    output_asserts = []
    for a in asserts:
        bound = _input_bound(a)
        if bound is not None:
            idx, kind, value = bound
            if idx >= n_in:
                raise VnnlibError(f"{path}: X_{idx} is used but not declared")
            if kind == "upper":
                upper[idx] = min(upper[idx], value)
            else:
                lower[idx] = max(lower[idx], value)
        else:
            output_asserts.append(a)
    missing = np.nonzero(~np.isfinite(lower) | ~np.isfinite(upper))[0]
    if missing.size:
        raise VnnlibError(f"{path}: input X_{int(missing[0])} has no lower or upper bound "
                          f"({missing.size} inputs unbounded); every X_i needs both")
    if np.any(lower > upper):
        bad = int(np.nonzero(lower > upper)[0][0])
        raise VnnlibError(f"{path}: input X_{bad} has lower bound {lower[bad]} > upper bound {upper[bad]}")
    if not output_asserts:
        raise VnnlibError(f"{path}: no output constraint (assert over Y_j) found")
    clauses = _output_clauses(output_asserts, n_out, path)
    return Property(lower, upper, clauses, n_out)


def _input_bound(a: Expr):
    """(index, 'upper'|'lower', value) for (<= X_i c), (>= X_i c) and mirrored forms; else None."""
    if not (isinstance(a, list) and len(a) == 3 and a[0] in ("<=", ">=", "<", ">")):
        return None
    op, left, right = a
    xi, c = _variable(left, "X"), _number(right)
    if xi is not None and c is not None:
        return xi, "upper" if op in ("<=", "<") else "lower", c
    xi, c = _variable(right, "X"), _number(left)
    if xi is not None and c is not None:
        return xi, "lower" if op in ("<=", "<") else "upper", c
    return None


def _comparison_row(e: Expr, n_out: int, path: str) -> Tuple[np.ndarray, float]:
    """(<= a b) / (>= a b) over Y's and numbers -> (row, offset) with 'row . Y + offset <= 0'."""
    if not (isinstance(e, list) and len(e) == 3 and e[0] in ("<=", ">=", "<", ">")):
        raise VnnlibError(f"{path}: unsupported output constraint {_show(e)}; expected (<= a b) or (>= a b) "
                          f"over Y_j and numbers")
    op, a, b = e
    small, big = (a, b) if op in ("<=", "<") else (b, a)  # constraint: small - big <= 0
    row = np.zeros(n_out)
    offset = 0.0
    for term, sign in ((small, 1.0), (big, -1.0)):
        y, c = _variable(term, "Y"), _number(term)
        if y is not None:
            if y >= n_out:
                raise VnnlibError(f"{path}: Y_{y} is used but not declared")
            row[y] += sign
        elif c is not None:
            offset += sign * c
        else:
            raise VnnlibError(f"{path}: unsupported term {_show(term)} in {_show(e)} (inputs X_i may not appear "
                              f"in output constraints)")
    return row, offset


def _conjunction(e: Expr, n_out: int, path: str) -> Clause:
    terms = e[1:] if isinstance(e, list) and e and e[0] == "and" else [e]
    if not terms:
        raise VnnlibError(f"{path}: empty (and)")
    rows = [_comparison_row(t, n_out, path) for t in terms]
    return Clause(np.stack([r for r, _ in rows]), np.array([o for _, o in rows]))


def _output_clauses(asserts: List[Expr], n_out: int, path: str) -> List[Clause]:
    if len(asserts) == 1 and isinstance(asserts[0], list) and asserts[0] and asserts[0][0] == "or":
        options = asserts[0][1:]
        if not options:
            raise VnnlibError(f"{path}: empty (or)")
        return [_conjunction(o, n_out, path) for o in options]
    # Several asserts (or one and/comparison): together they form one conjunctive clause.
    terms = []
    for a in asserts:
        if isinstance(a, list) and a and a[0] == "or":
            raise VnnlibError(f"{path}: an (or ...) must be the only output assertion")
        terms += a[1:] if isinstance(a, list) and a and a[0] == "and" else [a]
    return [_conjunction(["and"] + terms, n_out, path)]


def _show(e: Expr) -> str:
    if isinstance(e, list):
        return "(" + " ".join(_show(t) for t in e) + ")"
    return str(e)


# --------------------------------------------------------------------------- writing

def robustness_vnnlib(x_lower: Sequence[float], x_upper: Sequence[float], label: int, num_classes: int) -> str:
    """The VNNLIB text of 'some input in the box is not classified as label'."""
    x_lower = np.asarray(x_lower, dtype=np.float64).reshape(-1)
    x_upper = np.asarray(x_upper, dtype=np.float64).reshape(-1)
    lines = [f"; robustness of label {label}: the region where another class scores at least as high"]
    lines += [f"(declare-const X_{i} Real)" for i in range(x_lower.size)]
    lines += [f"(declare-const Y_{j} Real)" for j in range(num_classes)]
    for i, (lo, hi) in enumerate(zip(x_lower, x_upper)):
        lines.append(f"(assert (<= X_{i} {float(hi)!r}))")
        lines.append(f"(assert (>= X_{i} {float(lo)!r}))")
    options = " ".join(f"(and (>= Y_{j} Y_{label}))" for j in range(num_classes) if j != label)
    lines.append(f"(assert (or {options}))")
    return "\n".join(lines) + "\n"


def write_vnnlib(path: str, x_lower, x_upper, label: int, num_classes: int) -> str:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(robustness_vnnlib(x_lower, x_upper, label, num_classes))
    return path
