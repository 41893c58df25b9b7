"""VNNLIB properties (VNN-COMP): parse and write the robustness form.

A property is an input box plus the *counterexample region* over the outputs:

    (declare-const X_0 Real) ... (declare-const Y_0 Real) ...
    (assert (<= X_0 0.52)) (assert (>= X_0 0.32)) ...
    (assert (or (and (>= Y_1 Y_0)) (and (>= Y_2 Y_0)) ...))

It is violated ('sat') when some input in the box reaches the region. Parsed output
constraints become clauses: clause c is reached at x when every row of
spec_c @ Y + offset_c is <= 0 (Y_j >= Y_y becomes the row e_y - e_j). Supported:
bounds on single inputs and comparisons between two Y's or a Y and a number, as plain
top-level asserts (a conjunction), (and ...) and (or (and ...) ...) asserts; an (or)
whose cases bound the inputs makes the input region a union of boxes (``Region``s),
each verified on its own.
"""
from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass
from typing import List, Tuple, Union

import numpy as np

Expr = Union[str, list]


class VnnlibError(ValueError):
    """A VNNLIB file that cannot be read or is outside the supported subset."""


@dataclass
class Clause:
    spec: np.ndarray  # (m, K)
    offset: np.ndarray  # (m,)


@dataclass
class Region:
    """One input box and the output clauses to refute on it."""

    x_lower: np.ndarray  # (n,) float64, flattened input order
    x_upper: np.ndarray
    clauses: List[Clause]


@dataclass
class Property:
    """A counterexample region: a union of regions (boxes with clauses). It is violated
    ('sat') when some region is; it holds ('unsat') when no region is.

    Most properties have one region; an (assert (or (and X-bounds ...) ...)) over the
    inputs (ACAS Xu prop_6) gives one per box. ``x_lower``/``x_upper``/``clauses`` are
    the union's bounding box and all its clauses: a sound over-approximation, exactly
    the property when there is one region.
    """

    regions: List[Region]
    num_outputs: int

    @property
    def x_lower(self) -> np.ndarray:
        return np.min([r.x_lower for r in self.regions], axis=0)

    @property
    def x_upper(self) -> np.ndarray:
        return np.max([r.x_upper for r in self.regions], axis=0)

    @property
    def clauses(self) -> List[Clause]:
        return [c for r in self.regions for c in r.clauses]


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
    """Parse a VNNLIB file (plain or .gz); raises VnnlibError saying what is wrong and where."""
    try:
        if path.endswith(".gz"):  # later VNN-COMP benchmarks ship gzipped properties
            import gzip
            with gzip.open(path, "rt", encoding="utf-8") as f:
                text = f.read()
        else:
            with open(path, "r", encoding="utf-8") as f:
                text = f.read()
    except FileNotFoundError:
        raise VnnlibError(f"VNNLIB file {path} does not exist") from None
    except (OSError, UnicodeDecodeError, EOFError) as exc:
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
    return Property(_regions(asserts, n_in, n_out, path), n_out)


#: disjunctive normal forms with more terms than this are refused (a product of ors)
MAX_TERMS = 100_000


def _regions(asserts: List[Expr], n_in: int, n_out: int, path: str) -> List[Region]:
    """The conjunction of the asserts, as a union of regions.

    Atoms outside any (or) hold everywhere; each (or ...) assert contributes one of its
    disjuncts to every term of the disjunctive normal form. Terms with the same input
    atoms share a box, whose clauses are their output conjunctions.
    """
    common: List[Expr] = []
    choices: List[List[List[Expr]]] = []  # per (or): its disjuncts, each a list of atoms
    for a in asserts:
        if _head(a) == "or":
            if len(a) == 1:
                raise VnnlibError(f"{path}: empty (or)")
            choices.append([_atoms(d, path) for d in a[1:]])
        else:
            common += _atoms(a, path)
    terms = math.prod(len(c) for c in choices)
    if terms > MAX_TERMS:
        raise VnnlibError(f"{path}: the (or) asserts expand to {terms} cases, more than {MAX_TERMS}")
    lower, upper = np.full(n_in, -np.inf), np.full(n_in, np.inf)
    common_rows = _split(common, lower, upper, n_in, n_out, path)
    boxes: dict = {}  # input atoms of a term -> (lower, upper, clauses)
    for picked in itertools.product(*choices):
        term_lower, term_upper = lower, upper
        rows, inputs = _partition([atom for atoms in picked for atom in atoms], n_out, path)
        rows = list(common_rows) + rows
        key = tuple(inputs)
        if key not in boxes:
            if inputs:
                term_lower, term_upper = lower.copy(), upper.copy()
                _apply(inputs, term_lower, term_upper, n_in, path)
            boxes[key] = (term_lower, term_upper, [])
        if rows:
            boxes[key][2].append(Clause(np.stack([r for r, _ in rows]), np.array([o for _, o in rows])))
        else:
            boxes[key][2].append(None)
    if all(c is None for _, _, clauses in boxes.values() for c in clauses):
        raise VnnlibError(f"{path}: no output constraint (assert over Y_j) found")
    regions = []
    for box_lower, box_upper, clauses in boxes.values():
        if any(c is None for c in clauses):
            if np.any(box_lower > box_upper):
                continue  # an empty box: no input, no counterexample
            raise VnnlibError(f"{path}: a case of the (or) constrains only inputs (no Y_j): every input of its "
                              f"box would be a counterexample; this form is not supported")
        regions.append(Region(box_lower, box_upper, clauses))
    if not regions:
        raise VnnlibError(f"{path}: no output constraint (assert over Y_j) found")
    for r in regions:
        _check_box(r.x_lower, r.x_upper, path, empty_ok=True)
    # A case of a union whose bounds contradict each other holds no input: drop it. A
    # property with no input at all is an error (most likely a typo).
    nonempty = [r for r in regions if not np.any(r.x_lower > r.x_upper)]
    if not nonempty:
        _check_box(regions[0].x_lower, regions[0].x_upper, path)
    return nonempty


def _head(e: Expr):
    return e[0] if isinstance(e, list) and e else None


def _atoms(e: Expr, path: str) -> List[Expr]:
    """A conjunction (and ...) / a single comparison as its list of comparisons."""
    if _head(e) == "and":
        if len(e) == 1:
            raise VnnlibError(f"{path}: empty (and)")
        return [atom for part in e[1:] for atom in _atoms(part, path)]
    if _head(e) == "or":
        raise VnnlibError(f"{path}: an (or) nested inside another (or) or (and) is not supported: {_show(e)[:80]}")
    return [e]


def _partition(atoms: List[Expr], n_out: int, path: str) -> Tuple[list, list]:
    """Atoms -> (output rows (row, offset), input bounds)."""
    rows, inputs = [], []
    for atom in atoms:
        bound = _input_bound(atom)
        if bound is None:
            rows.append(_comparison_row(atom, n_out, path))
        else:
            inputs.append(bound)
    return rows, inputs


def _split(atoms: List[Expr], lower, upper, n_in: int, n_out: int, path: str) -> list:
    """Apply the input bounds among atoms to lower/upper; return the output rows."""
    rows, inputs = _partition(atoms, n_out, path)
    _apply(inputs, lower, upper, n_in, path)
    return rows


def _apply(bounds, lower, upper, n_in: int, path: str) -> None:
    for idx, kind, value in bounds:
        if idx >= n_in:
            raise VnnlibError(f"{path}: X_{idx} is used but not declared")
        if kind == "upper":
            upper[idx] = min(upper[idx], value)
        else:
            lower[idx] = max(lower[idx], value)


def _check_box(lower, upper, path: str, empty_ok: bool = False) -> None:
    missing = np.nonzero(~np.isfinite(lower) | ~np.isfinite(upper))[0]
    if missing.size:
        raise VnnlibError(f"{path}: input X_{int(missing[0])} has no lower or upper bound "
                          f"({missing.size} inputs unbounded); every X_i needs both")
    if empty_ok:
        return
    if np.any(lower > upper):
        bad = int(np.nonzero(lower > upper)[0][0])
        raise VnnlibError(f"{path}: input X_{bad} has lower bound {lower[bad]} > upper bound {upper[bad]}")


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


def _show(e: Expr) -> str:
    if isinstance(e, list):
        return "(" + " ".join(_show(t) for t in e) + ")"
    return str(e)


# Writing the robustness form lives in vnnlib_write.py; re-exported here.
from .vnnlib_write import robustness_vnnlib, write_vnnlib  # noqa: E402,F401
