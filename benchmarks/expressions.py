r"""Seeded random straight-line programs for the scalar autodiff engines (lesson 2).

A *program* is a list of steps ``(op, operands, constants)``. Nodes are numbered: ``0 .. n_leaves-1`` are the
leaves, and step k appends node ``n_leaves + k``; operands are indices of earlier nodes, so nodes are reused
(``mul`` of a node with itself, a node feeding several later steps) and the gradient has to accumulate. The last
step is always ``("sum", sinks, ())``: the sum of every node no other step consumed, so every leaf and every
step influences the output.

:func:`evaluate` runs a program with ``lib.Value`` for ``lib`` = :mod:`from_scratch.calculus.autodiff` or
:mod:`torch_versions.calculus.autodiff`: the same operations on the same Python constants in the same order, so
the two engines compute the same function and any difference is theirs.

Domain safety. Every op is defined everywhere (``log`` only of :math:`a^2+1\ge 1` or :math:`1+e^a`, division
only by :math:`b^2+1` or similar), and :func:`random_program` tracks an upper bound :math:`B` on each node's
magnitude, given :math:`|\mathrm{leaf}|\le` ``leaf_bound``; ops whose bound would exceed ``limit`` are redrawn.
Every step's result therefore stays within ``limit`` (inside ``softplus``, :math:`e^a` may reach :math:`e^{10}`):
no overflow, and float32 round-off is not amplified much beyond a few ulps times the limit.
"""
from __future__ import annotations

import math
from functools import reduce
from typing import Any, Callable, NamedTuple, Sequence

import numpy as np

Step = tuple[str, tuple[int, ...], tuple[float, ...]]


class Op(NamedTuple):
    arity: int
    forward: Callable[..., Any]          # forward(*operands, *constants) on Values
    bound: Callable[..., float]          # bound(*operand bounds, *constants) >= |result|
    constant: Callable[[np.random.Generator], float] | None = None


def _uniform(low: float, high: float) -> Callable[[np.random.Generator], float]:
    return lambda rng: float(rng.uniform(low, high))


#: Every op exercised by the generator (each Value operator and method appears at least once).
OPS: dict[str, Op] = {
    "add": Op(2, lambda a, b: a + b, lambda A, B: A + B),
    "sub": Op(2, lambda a, b: a - b, lambda A, B: A + B),
    "mul": Op(2, lambda a, b: a * b, lambda A, B: A * B),
    "div": Op(2, lambda a, b: a / (b ** 2 + 1.0), lambda A, B: A),                     # Value / Value, b^2 + 1 >= 1
    "neg": Op(1, lambda a: -a, lambda A: A),
    "scale": Op(1, lambda a, c: c * a, lambda A, c: abs(c) * A, _uniform(-1.5, 1.5)),  # float * Value
    "shift": Op(1, lambda a, c: c - a, lambda A, c: abs(c) + A, _uniform(-2.0, 2.0)),  # float - Value
    "recip": Op(1, lambda a, c: c / (a * a + 1.0), lambda A, c: c, _uniform(0.5, 2.0)),  # float / Value
    "square": Op(1, lambda a: a ** 2, lambda A: A * A),
    "cube": Op(1, lambda a: a ** 3, lambda A: A ** 3),                                  # any sign: integer power
    "root": Op(1, lambda a, p: (a ** 2 + 1.0) ** p, lambda A, p: (A * A + 1.0) ** max(p, 0.0),
               lambda rng: float(rng.choice([0.5, -0.5, 1.5]))),                        # fractional power, base >= 1
    "exp": Op(1, lambda a: a.exp(), lambda A: math.exp(A)),
    "log": Op(1, lambda a: (a ** 2 + 1.0).log(), lambda A: math.log1p(A * A)),
    "softplus": Op(1, lambda a: (1.0 + a.exp()).log(), lambda A: A + math.log(2.0)),  # float + Value
    "tanh": Op(1, lambda a: a.tanh(), lambda A: 1.0),
    "sigmoid": Op(1, lambda a: a.sigmoid(), lambda A: 1.0),
    "relu": Op(1, lambda a: a.relu(), lambda A: A),
}
_NAMES = sorted(OPS)


def _operand(rng: np.random.Generator, n_nodes: int) -> int:
    """The newest node half of the time (deep chains), otherwise any earlier node (reuse)."""
    return n_nodes - 1 if rng.random() < 0.5 else int(rng.integers(n_nodes))


def _with_sum(program: list[Step], n_leaves: int) -> list[Step]:
    """Append the output step: the sum of every node that no step consumes."""
    used = {i for _, operands, _ in program for i in operands}
    sinks = tuple(i for i in range(n_leaves + len(program)) if i not in used)
    return program + [("sum", sinks, ())]


def random_program(rng: np.random.Generator, n_leaves: int, n_ops: int, leaf_bound: float = 2.0,
                   limit: float = 10.0) -> list[Step]:
    """``n_ops`` random steps over ``n_leaves`` leaves (plus the final sum). The first operand of the early steps
    is a leaf not used yet, so with ``n_ops >= n_leaves`` every leaf feeds some op; every node's magnitude stays
    <= ``limit`` when every ``|leaf| <= leaf_bound``."""
    if n_leaves < 1 or n_ops < 0:
        raise ValueError(f"need n_leaves >= 1 and n_ops >= 0, got {n_leaves} and {n_ops}")
    bounds = [leaf_bound] * n_leaves
    program: list[Step] = []
    while len(program) < n_ops:
        name = _NAMES[int(rng.integers(len(_NAMES)))]
        op = OPS[name]
        operands = tuple(_operand(rng, len(bounds)) for _ in range(op.arity))
        unused = [i for i in range(n_leaves) if all(i not in step[1] for step in program)]
        if unused:  # every leaf enters some step before the program goes its own way
            operands = (unused[0],) + operands[1:]
        constants = (op.constant(rng),) if op.constant else ()
        bound = op.bound(*(bounds[i] for i in operands), *constants)
        if bound <= limit:  # otherwise redraw; tanh and sigmoid always fit
            program.append((name, operands, constants))
            bounds.append(bound)
    return _with_sum(program, n_leaves)


def chain_program(rng: np.random.Generator, n_leaves: int, n_ops: int) -> list[Step]:
    r"""A deep chain :math:`x \leftarrow \phi(c_k x + \mathrm{leaf}_{k \bmod n})`, three ops per link
    (``scale``, ``add``, ``tanh``/``sigmoid``), starting from leaf 0. With :math:`|c_k|\le 0.95` and
    :math:`|\phi'|\le 1` every link is a contraction, so gradients stay O(1) however long the chain (depth
    ~ ``n_ops``): it exercises the iterative topological sort, not the conditioning."""
    if n_leaves < 1 or n_ops < 0:
        raise ValueError(f"need n_leaves >= 1 and n_ops >= 0, got {n_leaves} and {n_ops}")
    program: list[Step] = []
    prev = 0
    for k in range(n_ops):
        link = k % 3
        if link == 0:
            step = ("scale", (prev,), (float(rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 0.95)),))
        elif link == 1:
            step = ("add", (prev, (k // 3) % n_leaves), ())
        else:
            step = (("tanh", "sigmoid")[int(rng.integers(2))], (prev,), ())
        program.append(step)
        prev = n_leaves + k
    return _with_sum(program, n_leaves)


def evaluate(program: Sequence[Step], leaves: Sequence[Any], lib: Any) -> Any:
    """Run ``program`` with ``lib.Value``; return the output Value.

    ``leaves`` are ``lib.Value`` objects (kept, so their ``.grad`` can be read after ``backward``) or anything
    ``lib.Value`` accepts (floats; on the torch side 0-d tensors, e.g. ``x.unbind()``, which stay attached)."""
    nodes = [x if isinstance(x, lib.Value) else lib.Value(x) for x in leaves]
    for k, (name, operands, constants) in enumerate(program):
        if any(not 0 <= i < len(nodes) for i in operands):
            raise ValueError(f"step {k} ({name}) refers to nodes {operands}, but only {len(nodes)} exist "
                             f"(were {len(leaves)} leaves the right number?)")
        args = [nodes[i] for i in operands]
        nodes.append(reduce(lambda a, b: a + b, args) if name == "sum" else OPS[name].forward(*args, *constants))
    return nodes[-1]
