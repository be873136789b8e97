"""Seeded input factories shared by the registry entries: random shapes, controlled spectra.

Eigen- and singular-vector gradients scale like 1/gap, so the factories space the spectra apart; otherwise a
float32 comparison would measure the conditioning of the problem rather than the implementations.
"""
from __future__ import annotations

import numpy as np


def orthogonal(rng: np.random.Generator, n: int) -> np.ndarray:
    """A Haar-random orthogonal matrix (n, n): QR of a Gaussian matrix with R's diagonal signs folded into Q."""
    Q, R = np.linalg.qr(rng.standard_normal((n, n)))
    return Q * np.sign(np.diag(R))


def spread_values(rng: np.random.Generator, k: int, low: float = 0.5, min_gap: float = 0.3) -> np.ndarray:
    """k values, descending, all >= low and at least ``min_gap`` apart."""
    return (low + np.cumsum(rng.uniform(min_gap, 1.0, k)))[::-1].copy()


def symmetric_with_spectrum(rng: np.random.Generator, eigenvalues: np.ndarray) -> np.ndarray:
    """Q diag(eigenvalues) Q^T with a random orthogonal Q."""
    Q = orthogonal(rng, len(eigenvalues))
    A = (Q * eigenvalues) @ Q.T
    return 0.5 * (A + A.T)


def with_singular_values(rng: np.random.Generator, m: int, n: int, s: np.ndarray) -> np.ndarray:
    """U diag(s) V^T of shape (m, n) with random orthonormal U, V (len(s) = min(m, n))."""
    k = len(s)
    U = orthogonal(rng, m)[:, :k]
    V = orthogonal(rng, n)[:, :k]
    return (U * s) @ V.T


def dims(rng: np.random.Generator, low: int, high: int) -> int:
    """A random size in [low, high]."""
    return int(rng.integers(low, high + 1))
