r"""Worked solutions to ``exercises/02_calculus_gradients.md``, problems 1-4 (derivatives, exactly or nearly).

NumPy and the standard library only, built on :mod:`from_scratch.calculus` (central differences, the scalar
reverse-mode engine :class:`~from_scratch.calculus.autodiff.Value`) and :mod:`from_scratch.gradcheck`.
Problems 5-8 (backprop, step sizes, softmax cross-entropy, curvature) are in
:mod:`exercises.solutions.ex02_calculus_gradients_applied`. Checked against closed forms and torch autograd by
``tests/test_exercises_02.py``.
"""
from __future__ import annotations

import math
from numbers import Real
from typing import Any, Callable, Sequence

import numpy as np

from from_scratch.calculus.autodiff import Value, check_exponent, check_log_input, topological_order
from from_scratch.gradcheck import gradient_error, numerical_gradient
from from_scratch.validation import check_array, check_positive, check_steps

ArrayFn = Callable[[np.ndarray], np.ndarray]
EPS = float(np.finfo(np.float64).eps)


def _as_float_array(name: str, x: Any) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    check_array(name, x)
    return x


# --- Problem 1: Richardson extrapolation -------------------------------------------------------------------------

def richardson_derivative(f: ArrayFn, x: Any, h: float | None = None, levels: int = 2) -> np.ndarray:
    r"""Elementwise f'(x) from a Richardson tableau of central differences, error :math:`O(h^{2L})` for L=``levels``.

    :math:`D(h)=\frac{f(x+h)-f(x-h)}{2h}=f'+c_1h^2+c_2h^4+\dots` (even powers only), so with
    :math:`T_{i,0}=D(h/2^i)` and :math:`T_{i,k}=\frac{4^kT_{i,k-1}-T_{i-1,k-1}}{4^k-1}` each column removes one
    more power: :math:`T_{1,1}=\frac{4D(h/2)-D(h)}3=f'-\frac{h^4}{480}f^{(5)}+O(h^6)`. ``levels=1`` is the plain
    central difference. The step is scaled to the entry, :math:`h\max(1,|x|)`; the default
    :math:`h=\varepsilon^{1/(2L+1)}` balances the truncation :math:`h^{2L}` against the round-off
    :math:`\varepsilon|f|/h`. Costs :math:`2L` evaluations of f.
    """
    x = _as_float_array("x", x)
    check_steps("levels", levels)
    h = EPS ** (1.0 / (2 * levels + 1)) if h is None else h
    check_positive("h", h)
    step = h * np.maximum(1.0, np.abs(x))
    rows: list[list[np.ndarray]] = []
    for i in range(levels):
        s = step / 2 ** i
        xp, xm = x + s, x - s
        row = [(np.asarray(f(xp)) - np.asarray(f(xm))) / (xp - xm)]  # the representable step, as derivative()
        for k in range(1, i + 1):
            row.append((4 ** k * row[k - 1] - rows[i - 1][k - 1]) / (4 ** k - 1))
        rows.append(row)
    return rows[-1][-1]


def richardson_errors(f: ArrayFn, df: ArrayFn, x: float, steps: Any, levels: Sequence[int] = (1, 2, 3)) -> dict[int, np.ndarray]:
    """|richardson_derivative(f, x, h, L) - f'(x)| for every step h (one array per L): the V-shaped curves."""
    steps = _as_float_array("steps", steps)
    if steps.ndim != 1 or (steps <= 0).any():
        raise ValueError(f"steps must be a 1-D array of positive step sizes, got {steps!r}")
    exact = float(df(np.float64(x)))
    return {L: np.array([abs(float(richardson_derivative(f, x, float(h), L)) - exact) for h in steps]) for L in levels}


def fitted_order(steps: Any, errors: Any) -> float:
    r"""The slope p of :math:`\log\mathrm{err}=p\log h+c` (least squares): the measured order of the error."""
    steps, errors = _as_float_array("steps", steps), _as_float_array("errors", errors)
    if steps.shape != errors.shape or steps.ndim != 1 or steps.size < 2:
        raise ValueError(f"steps and errors must be 1-D of the same length >= 2, got {steps.shape} and {errors.shape}")
    if (steps <= 0).any() or (errors <= 0).any():
        raise ValueError("steps and errors must be positive (a zero error has no logarithm)")
    return float(np.polyfit(np.log(steps), np.log(errors), 1)[0])


# --- Problem 2: the complex-step derivative -----------------------------------------------------------------------

def _complex_eval(f: Callable, z: np.ndarray) -> np.ndarray:
    out = np.asarray(f(z))
    if not np.iscomplexobj(out):
        raise ValueError("f must accept and return complex values (an analytic extension of f); it returned "
                         f"{out.dtype}: avoid abs, max, sign and casts to float inside f")
    return out


def complex_step_derivative(f: ArrayFn, x: Any, h: float = 1e-20) -> np.ndarray:
    r"""Elementwise :math:`f'(x)\approx\operatorname{Im}f(x+ih)/h` for a real-analytic f evaluated on complex input.

    Taylor in the imaginary direction: :math:`f(x+ih)=f(x)+ihf'(x)-\tfrac{h^2}2f''(x)-\tfrac{ih^3}6f'''(x)+\dots`,
    so :math:`\operatorname{Im}f(x+ih)/h=f'(x)-\tfrac{h^2}6f'''(x)+O(h^4)`. No difference of nearby numbers is
    formed, hence no cancellation: the round-off stays :math:`\approx\varepsilon|f'|` for any h, and
    :math:`h=10^{-20}` (or :math:`10^{-200}`) makes the truncation vanish below round-off.
    """
    x = _as_float_array("x", x)
    check_positive("h", h)
    return _complex_eval(f, x + 1j * h).imag / h


def complex_step_gradient(f: Callable[[np.ndarray], Any], x: Any, h: float = 1e-20) -> np.ndarray:
    r"""Gradient of a scalar f of an array x, one complex evaluation per entry: :math:`\partial_jf\approx
    \operatorname{Im}f(x+ihe_j)/h`. Exact to round-off, but n evaluations (like forward mode, problem 3)."""
    x = _as_float_array("x", x)
    check_positive("h", h)
    flat, grad = x.reshape(-1).astype(np.complex128), np.empty(x.size)
    for j in range(x.size):
        flat[j] += 1j * h
        out = _complex_eval(f, flat.reshape(x.shape))
        if out.size != 1:
            raise ValueError(f"f must return a scalar for complex_step_gradient, got shape {out.shape}")
        grad[j] = out.imag.item() / h
        flat[j] = x.flat[j]
    return grad.reshape(x.shape)


def complex_step_errors(f: ArrayFn, df: ArrayFn, x: float, steps: Any) -> dict[str, np.ndarray]:
    """|central difference - f'(x)| and |complex step - f'(x)| for every step h (f must accept complex input)."""
    steps = _as_float_array("steps", steps)
    if steps.ndim != 1 or (steps <= 0).any():
        raise ValueError(f"steps must be a 1-D array of positive step sizes, got {steps!r}")
    x = np.float64(x)
    exact = float(df(x))
    central = (np.real(f(x + steps)) - np.real(f(x - steps))) / (2 * steps)
    complex_step = _complex_eval(f, x + 1j * steps).imag / steps
    return {"central": np.abs(central - exact), "complex": np.abs(complex_step - exact)}


# --- Problem 3: forward mode with dual numbers --------------------------------------------------------------------

class Dual:
    r"""A dual number :math:`a+b\epsilon` with :math:`\epsilon^2=0`: ``value`` a and ``tangent`` b.

    Then :math:`f(a+b\epsilon)=f(a)+f'(a)b\,\epsilon` for every f built from the operations below, so one pass with
    tangent :math:`\dot x` carries the directional derivative :math:`\nabla f\cdot\dot x` alongside the value.
    Same interface as :class:`~from_scratch.calculus.autodiff.Value` (``+ - * /`` with numbers on either side,
    ``** c``, :meth:`exp`, :meth:`log`, :meth:`tanh`, :meth:`sigmoid`, :meth:`relu`) plus :meth:`sin` and
    :meth:`cos`, so one function of its inputs runs through either engine.
    """

    __slots__ = ("value", "tangent")

    def __init__(self, value: float, tangent: float = 0.0) -> None:
        if not isinstance(value, Real) or not isinstance(tangent, Real):
            raise TypeError(f"Dual expects real numbers, got {type(value).__name__} and {type(tangent).__name__}")
        self.value, self.tangent = float(value), float(tangent)

    def __repr__(self) -> str:
        return f"Dual({self.value!r}, {self.tangent!r})"

    def _chain(self, value: float, derivative: float) -> Dual:
        return Dual(value, derivative * self.tangent)

    # (a + a'e)(b + b'e) = ab + (a'b + ab')e; the quotient rule follows from 1/(b + b'e) = 1/b - b'/b^2 e
    def __add__(self, other: Dual | float) -> Dual:
        o = _lift_dual(other)
        return NotImplemented if o is None else Dual(self.value + o.value, self.tangent + o.tangent)

    def __sub__(self, other: Dual | float) -> Dual:
        o = _lift_dual(other)
        return NotImplemented if o is None else Dual(self.value - o.value, self.tangent - o.tangent)

    def __rsub__(self, other: float) -> Dual:
        o = _lift_dual(other)
        return NotImplemented if o is None else o - self

    def __mul__(self, other: Dual | float) -> Dual:
        o = _lift_dual(other)
        if o is None:
            return NotImplemented
        return Dual(self.value * o.value, self.tangent * o.value + self.value * o.tangent)

    __radd__, __rmul__ = __add__, __mul__

    def __truediv__(self, other: Dual | float) -> Dual:
        o = _lift_dual(other)
        if o is None:
            return NotImplemented
        if o.value == 0:
            raise ZeroDivisionError("division by a Dual whose value is zero")
        return Dual(self.value / o.value, (self.tangent * o.value - self.value * o.tangent) / (o.value * o.value))

    def __rtruediv__(self, other: float) -> Dual:
        o = _lift_dual(other)
        return NotImplemented if o is None else o / self

    def __neg__(self) -> Dual:
        return Dual(-self.value, -self.tangent)

    def __pow__(self, exponent: float) -> Dual:
        x, n = self.value, check_exponent(self.value, exponent)  # the engine's domain rules
        local = 0.0 if n == 0 else (math.inf if x == 0 and n < 1 else n * x ** (n - 1))
        return self._chain(x ** n, local)

    def exp(self) -> Dual:
        try:
            e = math.exp(self.value)
        except OverflowError:  # saturate to inf, as the engine and IEEE arithmetic do
            e = math.inf
        return self._chain(e, e)

    def log(self) -> Dual:
        check_log_input(self.value)
        return self._chain(math.log(self.value), 1.0 / self.value)

    def sin(self) -> Dual:
        return self._chain(math.sin(self.value), math.cos(self.value))

    def cos(self) -> Dual:
        return self._chain(math.cos(self.value), -math.sin(self.value))

    def tanh(self) -> Dual:
        t = math.tanh(self.value)
        return self._chain(t, 1.0 - t * t)

    def sigmoid(self) -> Dual:
        e = math.exp(-abs(self.value))
        s = 1.0 / (1.0 + e) if self.value >= 0 else e / (1.0 + e)
        return self._chain(s, s * (1.0 - s))

    def relu(self) -> Dual:
        return self._chain(max(self.value, 0.0), 1.0 if self.value > 0 else 0.0)


def _lift_dual(other: Any) -> Dual | None:
    if isinstance(other, Dual):
        return other
    return Dual(other) if isinstance(other, Real) else None


def _inputs(x: Any) -> list[float]:
    xs = _as_float_array("x", x)
    if xs.ndim != 1:
        raise ValueError(f"x must be 1-D (the inputs of f), got shape {xs.shape}")
    return [float(v) for v in xs]


def jvp(f: Callable[[list], Any], x: Any, v: Any) -> tuple[float, float]:
    r"""One forward-mode pass: (f(x), :math:`\nabla f(x)\cdot v`), seeding input j with tangent :math:`v_j`."""
    xs, vs = _inputs(x), _inputs(v)
    if len(vs) != len(xs):
        raise ValueError(f"v must have the shape of x ({len(xs)},), got ({len(vs)},)")
    out = _lift_dual(f([Dual(a, b) for a, b in zip(xs, vs)]))
    if out is None:
        raise ValueError("f must return a Dual or a number")
    return out.value, out.tangent


def forward_mode_gradient(f: Callable[[list], Any], x: Any) -> tuple[float, np.ndarray]:
    r"""(f(x), :math:`\nabla f(x)`) by forward mode: n passes, the j-th seeded with :math:`e_j`."""
    xs = _inputs(x)
    results = [jvp(f, xs, np.eye(len(xs))[j]) for j in range(len(xs))]
    return results[0][0], np.array([t for _, t in results])


def reverse_mode_gradient(f: Callable[[list], Any], x: Any) -> tuple[float, np.ndarray]:
    r"""(f(x), :math:`\nabla f(x)`) by reverse mode: one forward pass recording the graph, one backward sweep."""
    leaves = [Value(a) for a in _inputs(x)]
    out = f(leaves)
    if not isinstance(out, Value):
        raise ValueError(f"f must return a Value built from its inputs, got {type(out).__name__}")
    out.backward()
    return out.data, np.array([leaf.grad for leaf in leaves])


def autodiff_costs(f: Callable[[list], Any], x: Any) -> dict[str, int]:
    r"""Cost of the full gradient of f: :math:`\mathbb R^n\to\mathbb R` in chain-rule products (one per graph edge).

    Every op node with k parents costs k products in the tangent sweep of a forward-mode pass and k in the
    adjoint sweep of reverse mode. With E edges: forward mode needs n passes, ``n * E`` products; reverse mode one
    sweep, ``E`` products (plus the memory of the whole graph). For a Jacobian of f: R^n -> R^m the counts are
    n passes against m sweeps.
    """
    leaves = [Value(a) for a in _inputs(x)]
    out = f(leaves)
    if not isinstance(out, Value):
        raise ValueError(f"f must return a Value built from its inputs, got {type(out).__name__}")
    nodes = topological_order(out)
    edges = sum(len(node._prev) for node in nodes)
    n = len(leaves)
    return {"inputs": n, "nodes": len(nodes), "edges": edges, "forward_passes": n, "forward_mode_products": n * edges,
            "reverse_sweeps": 1, "reverse_mode_products": edges}


# --- Problem 4: new operations for the scalar engine --------------------------------------------------------------

def _lift_value(name: str, x: Any) -> Value:
    if isinstance(x, Value):
        return x
    if isinstance(x, Real) and not isinstance(x, bool) and math.isfinite(x):
        return Value(x)
    raise ValueError(f"{name} must be a Value or a finite real number, got {x!r}")


def value_sin(x: Value | float) -> Value:
    r""":math:`\sin x` as one node of the engine, local derivative :math:`\cos x`."""
    x = _lift_value("x", x)
    return Value._node(math.sin(x.data), (x,), (math.cos(x.data),), "sin")


def value_softplus(x: Value | float) -> Value:
    r""":math:`\operatorname{softplus}(x)=\log(1+e^x)=\max(x,0)+\log(1+e^{-|x|})`, local derivative
    :math:`\sigma(x)`. Fused into one node it never overflows; the composite ``(1 + x.exp()).log()`` returns inf
    and a NaN gradient (:math:`\infty\cdot0`) once :math:`e^x` overflows, near x = 710."""
    x = _lift_value("x", x)
    a = x.data
    e = math.exp(-abs(a))  # in (0, 1]
    sig = 1.0 / (1.0 + e) if a >= 0 else e / (1.0 + e)
    return Value._node(max(a, 0.0) + math.log1p(e), (x,), (sig,), "softplus")


def value_logsumexp(xs: Sequence[Value | float]) -> Value:
    r""":math:`\operatorname{lse}(x)=m+\log\sum_ie^{x_i-m}` with :math:`m=\max_ix_i`, one node with n parents and
    local derivatives :math:`\partial\operatorname{lse}/\partial x_i=e^{x_i-m}/\sum_je^{x_j-m}=\operatorname{softmax}(x)_i`
    (dividing by the sum, rather than forming :math:`e^{x_i-\operatorname{lse}}`, avoids the rounding of a large lse)."""
    if isinstance(xs, (Value, Real)) or len(xs) == 0:
        raise ValueError(f"xs must be a non-empty sequence of Values or numbers, got {xs!r}")
    nodes = tuple(_lift_value(f"xs[{i}]", v) for i, v in enumerate(xs))
    m = max(v.data for v in nodes)
    e = [math.exp(v.data - m) for v in nodes]  # each in (0, 1], the largest = 1
    s = math.fsum(e)
    return Value._node(m + math.log(s), nodes, tuple(ei / s for ei in e), "logsumexp")  # softmax, not e^(x - lse)


def value_gradcheck(f: Callable[[list], Value], x: Any) -> float:
    r"""Normwise relative error between the engine's gradient of f at x and central differences
    (:func:`from_scratch.gradcheck.numerical_gradient` with :func:`~from_scratch.gradcheck.gradient_error`)."""
    xs = _inputs(x)
    _, analytic = reverse_mode_gradient(f, xs)
    numeric = numerical_gradient(lambda x: f([Value(float(v)) for v in x]).data, {"x": np.array(xs)}, "x", (1.0,))
    return gradient_error(analytic, numeric)
