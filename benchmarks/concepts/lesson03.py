"""Lesson 3 (probability) concept pairs: distributions and Bayes. Losses and models have their own modules
(``lesson03_losses.py``, ``lesson03_models.py``)."""
from __future__ import annotations

import numpy as np

import from_scratch.probability.bayes as SB
import from_scratch.probability.discrete as SD
import from_scratch.probability.gaussian as SG
import torch_versions.probability.bayes as TB
import torch_versions.probability.discrete as TD
import torch_versions.probability.gaussian as TG
from benchmarks.inputs import dims
from benchmarks.registry import DEFAULT_TOLERANCES, Concept, Tolerance

FLOAT64_ONLY = {"float64": DEFAULT_TOLERANCES["float64"]}  # integer inputs only: no float32 variant to run


def _shape(rng):
    return (dims(rng, 1, 4), dims(rng, 1, 6))


def _tril(M):
    """Lower triangle of M (NumPy or torch): Cholesky-factor inputs are parameterized by a full matrix."""
    return np.tril(M) if isinstance(M, np.ndarray) else M.tril()


def _cholesky_input(rng, d):
    return np.tril(rng.standard_normal((d, d)) * 0.5, -1) + np.diag(rng.uniform(0.5, 2.0, d)) + np.triu(rng.standard_normal((d, d)), 1)


def _bernoulli(rng):
    shape = _shape(rng)
    return {"value": rng.integers(0, 2, shape).astype(float), "logits": rng.standard_normal(shape) * 3}


def _categorical(rng):
    n, k = dims(rng, 1, 6), dims(rng, 2, 6)
    return {"value": rng.integers(0, k, n), "logits": rng.standard_normal((n, k)) * 2}


def _poisson(rng):
    shape = _shape(rng)
    return {"value": rng.poisson(4.0, shape).astype(float), "rate": rng.uniform(0.5, 8.0, shape)}


def _normal(rng):
    shape = _shape(rng)
    return {"value": rng.standard_normal(shape) * 2, "loc": rng.standard_normal(shape), "scale": rng.uniform(0.3, 3, shape)}


def _mvn(rng):
    d = dims(rng, 1, 5)
    value = rng.standard_normal(d) if rng.random() < 0.3 else rng.standard_normal((dims(rng, 1, 6), d))
    return {"value": value, "loc": rng.standard_normal(d), "M": _cholesky_input(rng, d)}


def _mvn_backward(i, o, u):
    gv, gl, gL = SG.mvn_log_prob_backward(i["value"], i["loc"], _tril(i["M"]), u[0])
    return {"value": gv, "loc": gl, "M": gL}


def _both_classes(rng):
    n, shape = dims(rng, 4, 20), (dims(rng, 1, 5),)
    x = rng.integers(0, 2, (n,) + shape).astype(float)
    x[0], x[1] = 0, 1  # both outcomes seen: the MLE logit is finite
    return {"x": x}


def _all_classes(rng):
    k = dims(rng, 2, 6)
    return {"x": np.concatenate([np.arange(k), rng.integers(0, k, dims(rng, 0, 20))]), "num_classes": k}


CONCEPTS: list[Concept] = [
    Concept("softplus", 3, SD.softplus, TD.softplus, lambda rng: {"x": rng.standard_normal(_shape(rng)) * 20}, ("y",),
            grad_wrt=("x",), scratch_backward=lambda i, o, u: {"x": SD.softplus_backward(i["x"], u[0])},
            description="log(1 + e^x) without overflow"),
    Concept("bernoulli_log_prob", 3, SD.bernoulli_log_prob, TD.bernoulli_log_prob, _bernoulli, ("log_prob",),
            grad_wrt=("logits",),
            scratch_backward=lambda i, o, u: {"logits": SD.bernoulli_log_prob_backward(i["value"], i["logits"], u[0])},
            description="vs torch.distributions.Bernoulli(logits)"),
    Concept("bernoulli_entropy", 3, SD.bernoulli_entropy, TD.bernoulli_entropy, lambda rng: {"logits": _bernoulli(rng)["logits"]},
            ("H",), grad_wrt=("logits",),
            scratch_backward=lambda i, o, u: {"logits": SD.bernoulli_entropy_backward(i["logits"], u[0])}),
    Concept("bernoulli_fit", 3, SD.bernoulli_fit, TD.bernoulli_fit, _both_classes, ("logits",),
            description="MLE logit of 0/1 samples"),
    Concept("categorical_log_prob", 3, SD.categorical_log_prob, TD.categorical_log_prob, _categorical, ("log_prob",),
            grad_wrt=("logits",),
            scratch_backward=lambda i, o, u: {"logits": SD.categorical_log_prob_backward(i["value"], i["logits"], u[0])},
            description="vs torch.distributions.Categorical(logits)"),
    Concept("categorical_entropy", 3, SD.categorical_entropy, TD.categorical_entropy,
            lambda rng: {"logits": _categorical(rng)["logits"]}, ("H",), grad_wrt=("logits",),
            scratch_backward=lambda i, o, u: {"logits": SD.categorical_entropy_backward(i["logits"], u[0])}),
    Concept("categorical_fit", 3, SD.categorical_fit, TD.categorical_fit, _all_classes, ("logits",),
            tolerances=FLOAT64_ONLY, description="MLE logits log(n_k / n)"),
    Concept("log_factorial", 3, SD.log_factorial, TD.log_factorial,
            lambda rng: {"k": rng.integers(0, 60, _shape(rng)).astype(float)}, ("log_k!",),
            description="cumulative sum of logs vs torch.lgamma(k + 1)"),
    Concept("poisson_log_prob", 3, SD.poisson_log_prob, TD.poisson_log_prob, _poisson, ("log_prob",), grad_wrt=("rate",),
            scratch_backward=lambda i, o, u: {"rate": SD.poisson_log_prob_backward(i["value"], i["rate"], u[0])},
            description="vs torch.distributions.Poisson"),
    Concept("poisson_entropy", 3, SD.poisson_entropy, TD.poisson_entropy, lambda rng: {"rate": _poisson(rng)["rate"]},
            ("H",), description="truncated series on both sides"),
    Concept("poisson_fit", 3, SD.poisson_fit, TD.poisson_fit, lambda rng: {"x": _poisson(rng)["value"]}, ("rate",)),
    Concept("normal_log_prob", 3, SG.normal_log_prob, TG.normal_log_prob, _normal, ("log_prob",),
            grad_wrt=("value", "loc", "scale"),
            scratch_backward=lambda i, o, u: dict(zip(("value", "loc", "scale"),
                                                      SG.normal_log_prob_backward(i["value"], i["loc"], i["scale"], u[0]))),
            description="vs torch.distributions.Normal"),
    Concept("normal_entropy", 3, SG.normal_entropy, TG.normal_entropy, lambda rng: {"scale": _normal(rng)["scale"]}, ("H",),
            grad_wrt=("scale",), scratch_backward=lambda i, o, u: {"scale": SG.normal_entropy_backward(i["scale"], u[0])}),
    Concept("normal_rsample", 3, SG.normal_rsample, TG.normal_rsample,
            lambda rng: _rsample_inputs(rng),
            ("x",), grad_wrt=("loc", "scale"),
            scratch_backward=lambda i, o, u: dict(zip(("loc", "scale"), SG.normal_rsample_backward(i["loc"], i["scale"], i["noise"], u[0]))),
            description="reparameterized sample mu + sigma * eps"),
    Concept("normal_fit", 3, SG.normal_fit, TG.normal_fit, lambda rng: {"x": rng.standard_normal((dims(rng, 2, 30), 3)) * 2 + 1},
            ("loc", "scale"), description="MLE mean and biased std"),
    Concept("mvn_log_prob", 3, lambda value, loc, M: SG.mvn_log_prob(value, loc, _tril(M)),
            lambda value, loc, M: TG.mvn_log_prob(value, loc, _tril(M)), _mvn, ("log_prob",),
            grad_wrt=("value", "loc", "M"), scratch_backward=_mvn_backward,
            description="Cholesky-based log-density vs MultivariateNormal(scale_tril)"),
    Concept("mvn_entropy", 3, lambda M: SG.mvn_entropy(_tril(M)), lambda M: TG.mvn_entropy(_tril(M)),
            lambda rng: {"M": _cholesky_input(rng, dims(rng, 1, 5))}, ("H",), grad_wrt=("M",),
            scratch_backward=lambda i, o, u: {"M": SG.mvn_entropy_backward(_tril(i["M"]), u[0])}),
    Concept("mvn_rsample", 3, lambda loc, M, noise: SG.mvn_rsample(loc, _tril(M), noise),
            lambda loc, M, noise: TG.mvn_rsample(loc, _tril(M), noise), lambda rng: _mvn_rsample_inputs(rng), ("x",),
            grad_wrt=("loc", "M"),
            scratch_backward=lambda i, o, u: dict(zip(("loc", "M"), SG.mvn_rsample_backward(i["loc"], _tril(i["M"]), i["noise"], u[0]))),
            description="reparameterized sample mu + L eps"),
    Concept("mvn_fit", 3, SG.mvn_fit, TG.mvn_fit, lambda rng: {"X": rng.standard_normal((dims(rng, 2, 30), dims(rng, 1, 4)))},
            ("loc", "covariance"), description="MLE mean and covariance (1/n)"),
    Concept("discrete_posterior", 3, SB.discrete_posterior, TB.discrete_posterior, lambda rng: _posterior_inputs(rng),
            ("log_posterior",), grad_wrt=("log_prior", "log_likelihood"),
            scratch_backward=lambda i, o, u: dict(zip(("log_prior", "log_likelihood"),
                                                      SB.discrete_posterior_backward(i["log_prior"], i["log_likelihood"], u[0]))),
            description="log-space Bayes over discrete hypotheses"),
    Concept("beta_log_prob", 3, SB.beta_log_prob, TB.beta_log_prob, lambda rng: _beta_inputs(rng), ("log_prob",),
            grad_wrt=("value",),
            scratch_backward=lambda i, o, u: {"value": SB.beta_log_prob_backward(i["value"], i["alpha"], i["beta"], u[0])},
            tolerances={"float64": Tolerance(1e-10, 1e-12), "float32": Tolerance(1e-4, 1e-4)},
            description="Beta density (log B via math.lgamma) vs torch.distributions.Beta"),
]


def _rsample_inputs(rng):
    shape = _shape(rng)
    return {"loc": rng.standard_normal(shape), "scale": rng.uniform(0.3, 3, shape),
            "noise": rng.standard_normal((dims(rng, 1, 5),) + shape)}


def _mvn_rsample_inputs(rng):
    d = dims(rng, 1, 5)
    return {"loc": rng.standard_normal(d), "M": _cholesky_input(rng, d), "noise": rng.standard_normal((dims(rng, 1, 6), d))}


def _posterior_inputs(rng):
    h = dims(rng, 2, 8)
    return {"log_prior": np.log(rng.dirichlet(np.ones(h))), "log_likelihood": rng.standard_normal((dims(rng, 1, 4), h)) * 5}


def _beta_inputs(rng):
    shape = _shape(rng)
    return {"value": rng.uniform(0.05, 0.95, shape), "alpha": rng.uniform(0.5, 5, shape), "beta": rng.uniform(0.5, 5, shape)}
