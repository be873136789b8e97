r"""Shared pieces of the Jacobi eigen- and singular-value solvers.

* :func:`round_robin_pairs` - the "tournament" (Brent-Luk) ordering: every pair (p, q) once per sweep, grouped
  into n-1 rounds of disjoint pairs so that a whole round of rotations is applied with one vectorized update.
* :func:`jacobi_rotation` - the rotation :math:`J=\begin{pmatrix}c&s\\-s&c\end{pmatrix}` that diagonalizes the
  symmetric 2x2 block :math:`\begin{pmatrix}a_{pp}&a_{pq}\\a_{pq}&a_{qq}\end{pmatrix}` (Golub & Van Loan 8.5.1).
* :func:`canonical_signs` - eigen/singular vectors are only defined up to sign; both implementations flip each
  column so that its largest-magnitude entry is positive, which makes them comparable entry by entry.
"""
from __future__ import annotations

import numpy as np


def round_robin_pairs(n: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The n-1 (n even) or n (n odd) rounds of disjoint index pairs covering every pair p < q exactly once."""
    players = list(range(n + n % 2))  # pad with a dummy index n when n is odd
    half = len(players) // 2
    rounds = []
    for _ in range(len(players) - 1):
        top, bottom = players[:half], players[half:][::-1]
        pairs = [(min(a, b), max(a, b)) for a, b in zip(top, bottom) if max(a, b) < n]
        rounds.append((np.array([p for p, _ in pairs]), np.array([q for _, q in pairs])))
        players = [players[0], players[-1]] + players[1:-1]
    return rounds


def jacobi_rotation(app: np.ndarray, aqq: np.ndarray, apq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Cosines and sines (vectorized over pairs) with :math:`(J^\top A J)_{pq}=0`:
    :math:`\tau=(a_{qq}-a_{pp})/2a_{pq}`, :math:`t=\operatorname{sign}\tau/(|\tau|+\sqrt{1+\tau^2})` (the smaller
    root, so the rotation angle is at most 45 degrees), :math:`c=1/\sqrt{1+t^2}`, :math:`s=tc`."""
    nonzero = apq != 0
    with np.errstate(over="ignore"):  # a tiny a_pq gives |tau| = inf and correctly t = 0 (no rotation)
        tau = (aqq - app) / (2 * np.where(nonzero, apq, 1))
        t = np.where(tau >= 0, 1.0, -1.0) / (np.abs(tau) + np.hypot(1.0, tau))
    t = np.where(nonzero, t, 0.0).astype(app.dtype)
    c = 1 / np.sqrt(1 + t * t)
    return c, t * c


def rotate_columns(M: np.ndarray, p: np.ndarray, q: np.ndarray, c: np.ndarray, s: np.ndarray) -> None:
    """In place: M[:, p], M[:, q] <- c M_p - s M_q, s M_p + c M_q (right-multiplication by J), all pairs at once."""
    Mp, Mq = M[:, p], M[:, q]
    M[:, p], M[:, q] = c * Mp - s * Mq, s * Mp + c * Mq


def canonical_signs(V: np.ndarray) -> np.ndarray:
    """Per-column signs (+1/-1) that make each column's largest-magnitude entry positive."""
    idx = np.abs(V).argmax(axis=0)
    return np.where(V[idx, np.arange(V.shape[1])] < 0, -1.0, 1.0).astype(V.dtype)
