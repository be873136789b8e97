"""Lesson 3 (probability) model concept pairs: logistic regression and naive Bayes,
from_scratch.probability.{logistic_regression, naive_bayes} <-> torch_versions.probability.{...}."""
from __future__ import annotations

import numpy as np

import from_scratch.probability.logistic_regression as SL
import from_scratch.probability.naive_bayes as SN
import torch_versions.probability.logistic_regression as TL
import torch_versions.probability.naive_bayes as TN
from benchmarks.inputs import dims
from benchmarks.registry import Concept, Tolerance
from from_scratch.calculus.two_layer_net import log_softmax_backward

# Gradient descent from zero is a contraction near the optimum: float32 round-off (~6e-8 per step) stays bounded
# by its sum over the steps, ~n_steps * eps32 relative, so 60 steps fit 1e-4 / 1e-5.
TRAJECTORY = {"float64": Tolerance(1e-10, 1e-12), "float32": Tolerance(1e-4, 1e-5)}
# A float32 Newton fit stops at round-off: each side's minimizer is exact only to cond(H) * eps32 (the gradient is
# known to ~eps32, the step divides by H's smallest eigenvalue >= 1/(CN)); cond(H) <~ 1e2 for these draws, and the
# observed gap is <~ 1e-5 relative.
NEWTON = {"float64": Tolerance(1e-10, 1e-12), "float32": Tolerance(5e-4, 5e-5)}


# --- logistic regression ------------------------------------------------------------------------------------------
def _classification(rng, binary: bool) -> dict:
    N, d = dims(rng, 10, 40), dims(rng, 1, 4)
    K = 2 if binary else dims(rng, 2, 4)
    return {"X": rng.standard_normal((N, d)), "y": rng.integers(0, K, N), "K": K,
            "C": float(rng.choice([0.5, 1.0, rng.uniform(0.2, 5.0)]))}


def _loss_inputs(rng, binary: bool) -> dict:
    p = _classification(rng, binary)
    K = 1 if binary else p["K"]
    d = p["X"].shape[1]
    return {"X": p["X"], "y": p["y"], "weight": rng.standard_normal((K, d)), "bias": rng.standard_normal(K), "C": p["C"]}


def _loss_backward(i, o, u):
    gX, gW, gb = SL.logistic_loss_backward(i["X"], i["y"], i["weight"], i["bias"], i["C"], u[0])
    return {"X": gX, "weight": gW, "bias": gb}


def _fit_inputs(rng, binary: bool, gd: bool) -> dict:
    p = _classification(rng, binary)
    X, K, C = p["X"], p["K"], p["C"]
    inputs = {"X": X, "y": p["y"], "C": C, "n_classes": K, "multi_class": "auto" if binary else "multinomial"}
    if gd:  # lr = 1/L, L the bound on the gradient's Lipschitz constant (see fit_gradient_descent)
        Xt = np.hstack([X, np.ones((len(X), 1))])
        L = (0.25 if binary else 0.5) * np.linalg.eigvalsh(Xt.T @ Xt)[-1] / len(X) + 1 / (C * len(X))
        inputs.update(lr=float(1 / L), n_steps=60)
    else:
        inputs.update(n_iter=12, tol=0.0)  # fixed iteration count: both sides follow the same path
    return inputs


def _logistic_concepts() -> list[Concept]:
    out = []
    for kind, binary in (("binary", True), ("multinomial", False)):
        torch_loss = "BCE-with-logits" if binary else "F.cross_entropy"
        out += [
            Concept(f"logistic_loss_{kind}", 3, SL.logistic_loss, TL.logistic_loss,
                    lambda rng, b=binary: _loss_inputs(rng, b), ("loss",), grad_wrt=("X", "weight", "bias"),
                    scratch_backward=_loss_backward,
                    description=f"L2 {kind} cross-entropy (sklearn's objective / CN) vs {torch_loss}"),
            Concept(f"logistic_hessian_{kind}", 3, SL.logistic_hessian, TL.logistic_hessian,
                    lambda rng, b=binary: _loss_inputs(rng, b), ("H",),
                    description="closed-form Hessian in [W b] vs torch.autograd.functional.hessian"),
            Concept(f"fit_gradient_descent_logistic_{kind}", 3, SL.fit_gradient_descent, TL.fit_gradient_descent,
                    lambda rng, b=binary: _fit_inputs(rng, b, gd=True), ("weight", "bias", "losses"),
                    tolerances=TRAJECTORY, description="60 GD steps from zero vs nn.Linear + torch.optim.SGD"),
            Concept(f"fit_newton_logistic_{kind}", 3, lambda **kw: SL.fit_newton(**kw)[:2],
                    lambda **kw: TL.fit_newton(**kw)[:2], lambda rng, b=binary: _fit_inputs(rng, b, gd=False), ("weight", "bias"),
                    tolerances=NEWTON, description="12 damped Newton steps (IRLS for two classes) vs autograd Hessian"),
        ]
    return out


# --- naive Bayes --------------------------------------------------------------------------------------------------
def _labels_with_every_class(rng, N: int, K: int) -> np.ndarray:
    return rng.permutation(np.concatenate([np.arange(K), rng.integers(0, K, N - K)]))


def _gaussian_fit_inputs(rng) -> dict:
    K, d = dims(rng, 2, 4), dims(rng, 1, 5)
    N = K + dims(rng, 2, 30)
    X = rng.standard_normal((N, d)) * rng.uniform(0.5, 3, d) + rng.uniform(-2, 2, d)
    priors = rng.uniform(0.2, 1, K) if rng.random() < 0.3 else None
    return {"X": X, "y": _labels_with_every_class(rng, N, K), "n_classes": K,
            "var_smoothing": float(rng.choice([1e-9, 1e-2])), "priors": None if priors is None else priors / priors.sum()}


def _gaussian_jll_inputs(rng) -> dict:
    K, d, N = dims(rng, 2, 4), dims(rng, 1, 5), dims(rng, 1, 8)
    prior = rng.uniform(0.2, 1, K)
    return {"X": rng.standard_normal((N, d)) * 2, "theta": rng.standard_normal((K, d)),
            "var": rng.uniform(0.5, 2.0, (K, d)), "class_prior": prior / prior.sum()}


GAUSSIAN_ARGS = ("X", "theta", "var", "class_prior")
MULTINOMIAL_ARGS = ("X", "feature_log_prob", "class_log_prior")


def _gaussian_jll_backward(i, o, u):
    return dict(zip(GAUSSIAN_ARGS, SN.gaussian_nb_joint_log_likelihood_backward(*(i[k] for k in GAUSSIAN_ARGS), u[0])))


def _multinomial_fit_inputs(rng) -> dict:
    K, d = dims(rng, 2, 4), dims(rng, 1, 8)
    N = K + dims(rng, 2, 30)
    prior = rng.uniform(0.2, 1, K) if rng.random() < 0.3 else None
    return {"X": rng.integers(0, 6, (N, d)).astype(np.float64), "y": _labels_with_every_class(rng, N, K),
            "n_classes": K, "alpha": float(rng.choice([1.0, rng.uniform(0.1, 2.0)])),
            "fit_prior": bool(rng.random() < 0.7), "class_prior": None if prior is None else prior / prior.sum()}


def _multinomial_jll_inputs(rng) -> dict:
    K, d, N = dims(rng, 2, 4), dims(rng, 1, 8), dims(rng, 1, 8)
    logits = rng.standard_normal((K, d))
    prior = rng.uniform(0.2, 1, K)
    return {"X": rng.uniform(0.5, 4.0, (N, d)),  # counts > 0: central differences never step below 0
            "feature_log_prob": logits - np.log(np.exp(logits).sum(1, keepdims=True)),
            "class_log_prior": np.log(prior / prior.sum())}


def _multinomial_jll_backward(i, o, u):
    grads = SN.multinomial_nb_joint_log_likelihood_backward(*(i[k] for k in MULTINOMIAL_ARGS), u[0])
    return dict(zip(MULTINOMIAL_ARGS, grads))


def _posterior(lib, jll_name: str):
    def run(**inputs):
        return lib.predict_log_proba(getattr(lib, jll_name)(**inputs))
    return run


def _posterior_backward(jll_name: str, args: tuple[str, ...]):
    def backward(i, o, u):
        jll = getattr(SN, jll_name)(*(i[k] for k in args))
        g = log_softmax_backward(jll, u[0])  # predict_log_proba is the log-softmax of the JLL
        return dict(zip(args, getattr(SN, jll_name + "_backward")(*(i[k] for k in args), g)))
    return backward


def _naive_bayes_concepts() -> list[Concept]:
    g_jll, m_jll = "gaussian_nb_joint_log_likelihood", "multinomial_nb_joint_log_likelihood"
    return [
        Concept("gaussian_nb_fit", 3, SN.gaussian_nb_fit, TN.gaussian_nb_fit, _gaussian_fit_inputs,
                ("class_count", "class_prior", "theta", "var", "epsilon"),
                description="per-class mean / variance + var_smoothing: one-hot matmul vs index_add_"),
        Concept(g_jll, 3, SN.gaussian_nb_joint_log_likelihood, TN.gaussian_nb_joint_log_likelihood,
                _gaussian_jll_inputs, ("jll",), grad_wrt=GAUSSIAN_ARGS, scratch_backward=_gaussian_jll_backward,
                description="log prior + sum of Gaussian log-densities vs torch.distributions.Normal"),
        Concept("multinomial_nb_fit", 3, SN.multinomial_nb_fit, TN.multinomial_nb_fit, _multinomial_fit_inputs,
                ("class_count", "feature_count", "class_log_prior", "feature_log_prob"),
                description="smoothed feature log-probabilities and log priors"),
        Concept(m_jll, 3, SN.multinomial_nb_joint_log_likelihood, TN.multinomial_nb_joint_log_likelihood,
                _multinomial_jll_inputs, ("jll",), grad_wrt=MULTINOMIAL_ARGS, scratch_backward=_multinomial_jll_backward,
                description="X F^T + log prior vs F.linear"),
        Concept("predict_log_proba_gaussian_nb", 3, _posterior(SN, g_jll), _posterior(TN, g_jll), _gaussian_jll_inputs,
                ("log_proba",), grad_wrt=GAUSSIAN_ARGS, scratch_backward=_posterior_backward(g_jll, GAUSSIAN_ARGS),
                description="log posterior: log-softmax of the Gaussian JLL vs J - torch.logsumexp(J)"),
        Concept("predict_log_proba_multinomial_nb", 3, _posterior(SN, m_jll), _posterior(TN, m_jll),
                _multinomial_jll_inputs, ("log_proba",), grad_wrt=MULTINOMIAL_ARGS,
                scratch_backward=_posterior_backward(m_jll, MULTINOMIAL_ARGS),
                description="log posterior of the multinomial JLL"),
    ]


CONCEPTS: list[Concept] = _logistic_concepts() + _naive_bayes_concepts()
