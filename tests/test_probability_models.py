"""Lesson 3 models: logistic regression and naive Bayes against scikit-learn, Newton against gradient descent, and
clear errors on bad input — for the scratch side and the torch twin on every device under test."""
from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from sklearn.metrics import log_loss
from sklearn.naive_bayes import GaussianNB as SkGaussianNB, MultinomialNB as SkMultinomialNB
from sklearn.preprocessing import StandardScaler

import from_scratch.probability.logistic_regression as SL
from tests.conftest import _devices
from tests.helpers import implementations, to_numpy

MODULES = {"lr": "probability.logistic_regression", "nb": "probability.naive_bayes"}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`lr` / `nb`: the scratch module and the torch twin on every device under test (see tests/helpers.py)."""
    for fixture, module in MODULES.items():
        if fixture in metafunc.fixturenames:
            impls = implementations(module, tuple(_devices(metafunc.config)))
            metafunc.parametrize(fixture, impls, ids=[i.name for i in impls])


def _standardized(loader):
    X, y = loader(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _close_log_probs(got, want, what: str) -> None:
    """rtol 1e-10, plus an atol of 1e-10 times the largest magnitude: a log posterior J - logsumexp(J) is a difference
    of O(max|J|) numbers, so the winning class's value (~0) is known only to eps * max|J| absolutely."""
    assert_allclose(got, want, rtol=1e-10, atol=1e-10 * np.abs(want).max(), err_msg=what)


# --- logistic regression ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("loader,C", [(load_breast_cancer, 0.5), (load_iris, 2.0)],
                         ids=["breast_cancer-binary", "iris-multinomial"])
def test_logistic_regression_matches_sklearn(lr, loader, C) -> None:
    X, y = _standardized(loader)
    # l1_ratio=0 is the L2 penalty (scikit-learn 1.8 deprecated penalty="l2"); newton-cg at tol 1e-12 reaches ~1e-11
    sk = SkLogisticRegression(C=C, l1_ratio=0.0, solver="newton-cg", tol=1e-12, max_iter=1000).fit(X, y)
    model = lr("LogisticRegression", C=C).fit(lr.to_input(X), lr.to_input(y))
    coef, intercept = to_numpy(model.coef_), to_numpy(model.intercept_)
    assert coef.shape == sk.coef_.shape and intercept.shape == sk.intercept_.shape
    assert_allclose(coef, sk.coef_, rtol=1e-8, atol=1e-8 * np.abs(sk.coef_).max(), err_msg="coef_")
    assert_allclose(intercept, sk.intercept_, rtol=1e-8, atol=1e-8, err_msg="intercept_")
    assert model.n_iter_ <= 15, f"Newton took {model.n_iter_} iterations"
    Xi = lr.to_input(X)
    assert_array_equal(to_numpy(model.predict(Xi)), sk.predict(X))
    assert_allclose(to_numpy(model.predict_proba(Xi)), sk.predict_proba(X), rtol=1e-7, atol=1e-9)
    scores = to_numpy(model.decision_function(Xi))
    assert scores.shape == sk.decision_function(X).shape
    assert_allclose(scores, sk.decision_function(X), rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize("loader", [load_breast_cancer, load_iris], ids=["binary", "multinomial"])
def test_logistic_loss_is_sklearns_objective_over_CN(lr, loader) -> None:
    """C N * logistic_loss = 0.5 ||W||^2 + C * (summed log-loss), at arbitrary parameters."""
    X, y = _standardized(loader)
    rng = np.random.default_rng(0)
    K = 1 if loader is load_breast_cancer else 3
    W, b, C = rng.standard_normal((K, X.shape[1])) * 0.3, rng.standard_normal(K), 0.7
    loss = float(to_numpy(lr("logistic_loss", X, y, W, b, C)))
    Z = X @ W.T + b
    P = 1 / (1 + np.exp(-Z[:, 0])) if K == 1 else np.exp(Z - np.log(np.exp(Z).sum(1, keepdims=True)))
    objective = 0.5 * (W * W).sum() + C * log_loss(y, P, normalize=False)
    assert_allclose(C * len(y) * loss, objective, rtol=1e-12)


@pytest.mark.parametrize("K", [2, 3])
def test_logistic_newton_and_gradient_descent_reach_the_same_optimum(lr, rng, K) -> None:
    N, d = 80, 3
    X = rng.standard_normal((N, d))
    y = (X @ rng.standard_normal((K, d)).T + rng.standard_normal((N, K))).argmax(1)
    newton = lr("fit_newton", X, y, 1.0)
    gd = lr("fit_gradient_descent", X, y, 1.0, None, 3000)  # lr = 1/L
    losses = to_numpy(gd.losses)
    assert (np.diff(losses) <= 1e-15).all(), "gradient descent with lr = 1/L must never increase the loss"
    assert_allclose(to_numpy(gd.weight), to_numpy(newton.weight), rtol=1e-6, atol=1e-8, err_msg="weight")
    assert_allclose(to_numpy(gd.bias), to_numpy(newton.bias), rtol=1e-6, atol=1e-8, err_msg="bias")
    assert len(newton.losses) <= 10
    _, gW, gb = SL.logistic_loss_backward(X, y, *map(to_numpy, newton[:2]), 1.0)
    assert max(np.abs(gW).max(), np.abs(gb).max()) <= 1e-10, "Newton's optimum must have a vanishing gradient"


def test_logistic_hessian_is_positive_definite_and_softmax_intercepts_are_its_null_direction(lr, rng) -> None:
    X, y = rng.standard_normal((30, 3)), rng.integers(0, 3, 30)
    H = to_numpy(lr("logistic_hessian", X, y, rng.standard_normal((3, 3)), rng.standard_normal(3), 1.0))  # (12, 12)
    assert_allclose(H, H.T, atol=1e-15)
    u = np.tile([0.0, 0.0, 0.0, 1.0], 3)  # the same shift on every intercept
    assert_allclose(H @ u, 0, atol=1e-15)
    assert np.linalg.eigvalsh(H)[1] > 1e-3, "H is positive definite off the intercept shift"
    fit = lr("fit_newton", X, y, 1.0)
    assert abs(float(to_numpy(fit.bias).sum())) < 1e-13, "softmax intercepts are returned with sum 0"


def test_logistic_arbitrary_labels_and_softmax_for_two_classes(lr, rng) -> None:
    X = rng.standard_normal((40, 2))
    labels = np.where(X[:, 0] + 0.5 * rng.standard_normal(40) > 0, 7, -3)
    sk = SkLogisticRegression(C=1.0, solver="newton-cg", tol=1e-12).fit(X, labels)
    model = lr("LogisticRegression").fit(lr.to_input(X), lr.to_input(labels))
    assert_array_equal(to_numpy(model.classes_), [-3, 7])
    assert_array_equal(to_numpy(model.predict(lr.to_input(X))), sk.predict(X))
    soft = lr("LogisticRegression", multi_class="multinomial").fit(lr.to_input(X), lr.to_input(labels))
    W = to_numpy(soft.coef_)
    assert W.shape == (2, 2)  # softmax with 2 classes = sigmoid with w = w_1 - w_0 and C doubled
    twice = lr("LogisticRegression", C=2.0).fit(lr.to_input(X), lr.to_input(labels))
    assert_allclose(W[1] - W[0], to_numpy(twice.coef_)[0], rtol=1e-8)


def test_logistic_class_with_gradient_descent(lr, rng) -> None:
    X, y = rng.standard_normal((60, 2)), rng.integers(0, 3, 60)
    gd = lr("LogisticRegression", method="gd", n_steps=2000).fit(lr.to_input(X), lr.to_input(y))
    newton = lr("LogisticRegression").fit(lr.to_input(X), lr.to_input(y))
    assert_allclose(to_numpy(gd.coef_), to_numpy(newton.coef_), rtol=1e-5, atol=1e-7)


# --- naive Bayes --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("loader", [load_iris, load_wine])
@pytest.mark.parametrize("kwargs", [{}, {"var_smoothing": 1e-3}, {"priors": "skewed"}],
                         ids=["default", "smoothing", "priors"])
def test_gaussian_nb_matches_sklearn(nb, loader, kwargs) -> None:
    X, y = loader(return_X_y=True)
    y = 10 * y + 3  # arbitrary class labels
    if kwargs.get("priors") == "skewed":
        p = np.arange(1.0, 4.0)
        kwargs = {"priors": p / p.sum()}
    sk = SkGaussianNB(**kwargs).fit(X, y)
    model = nb("GaussianNB", **kwargs).fit(nb.to_input(X), nb.to_input(y))
    for attr in ("classes_", "class_count_", "class_prior_", "theta_", "var_", "epsilon_"):
        assert_allclose(to_numpy(getattr(model, attr)), getattr(sk, attr), rtol=1e-12, err_msg=attr)
    Xi = nb.to_input(X)
    assert_array_equal(to_numpy(model.predict(Xi)), sk.predict(X))
    _close_log_probs(to_numpy(model.predict_joint_log_proba(Xi)), sk.predict_joint_log_proba(X), "joint log-likelihood")
    _close_log_probs(to_numpy(model.predict_log_proba(Xi)), sk.predict_log_proba(X), "predict_log_proba")
    assert_allclose(to_numpy(model.predict_proba(Xi)).sum(1), 1.0, rtol=1e-14)


@pytest.mark.parametrize("kwargs", [{}, {"alpha": 0.3, "fit_prior": False}, {"class_prior": "uniform"}],
                         ids=["alpha1", "alpha0.3-uniform", "class_prior"])
def test_multinomial_nb_matches_sklearn_on_digit_counts(nb, kwargs) -> None:
    X, y = load_digits(return_X_y=True)  # pixel intensities 0..16 as counts
    if kwargs.get("class_prior") == "uniform":
        kwargs = {"class_prior": np.full(10, 0.1)}
    sk = SkMultinomialNB(**kwargs).fit(X, y)
    model = nb("MultinomialNB", **kwargs).fit(nb.to_input(X), nb.to_input(y))
    for attr in ("classes_", "class_count_", "feature_count_", "class_log_prior_", "feature_log_prob_"):
        assert_allclose(to_numpy(getattr(model, attr)), getattr(sk, attr), rtol=1e-12, err_msg=attr)
    Xi = nb.to_input(X)
    assert_array_equal(to_numpy(model.predict(Xi)), sk.predict(X))
    _close_log_probs(to_numpy(model.predict_joint_log_proba(Xi)), sk.predict_joint_log_proba(X), "joint log-likelihood")
    _close_log_probs(to_numpy(model.predict_log_proba(Xi)), sk.predict_log_proba(X), "predict_log_proba")


def test_gaussian_nb_survives_a_constant_feature(nb, rng) -> None:
    X = np.hstack([rng.standard_normal((20, 2)), np.full((20, 1), 3.0)])
    y = np.repeat([0, 1], 10)
    model = nb("GaussianNB").fit(nb.to_input(X), nb.to_input(y))
    assert np.isfinite(to_numpy(model.predict_log_proba(nb.to_input(X)))).all()


# --- bad input: both sides raise the same clear errors ------------------------------------------------------------
def _bad_logistic_calls(rng):
    X, y = rng.standard_normal((6, 3)), np.array([0, 1, 0, 1, 1, 0])
    W1, b1, W3, b3 = np.zeros((1, 3)), np.zeros(1), np.zeros((3, 3)), np.zeros(3)
    nan = X.copy()
    nan[2, 1] = np.nan
    return [
        (("logistic_loss", X, y + 1, W1, b1, 1.0), ValueError, "must lie in"),  # labels out of range (binary)
        (("logistic_loss", X, np.array([0, 1, 2, 3, 0, 1]), W3, b3, 1.0), ValueError, "must lie in"),
        (("logistic_loss", X, y.astype(float), W1, b1, 1.0), TypeError, "integer dtype"),
        (("logistic_loss", X, y[:4], W1, b1, 1.0), ValueError, "shape"),
        (("logistic_loss", X, y, np.zeros((1, 2)), b1, 1.0), ValueError, "in_features"),
        (("logistic_loss", X, y, W3, b1, 1.0), ValueError, "bias must have shape"),
        (("logistic_loss", nan, y, W1, b1, 1.0), ValueError, "finite"),
        (("logistic_loss", X, y, W1, b1, 0.0), ValueError, "C must be"),
        (("logistic_hessian", X, y, W1, b1, -1.0), ValueError, "C must be"),
        (("fit_newton", X, y, -2.0), ValueError, "C must be"),
        (("fit_newton", X, np.zeros(6, dtype=int), 1.0), ValueError, "two classes"),
        (("fit_newton", X, y, 1.0, 5, 1e-8, 3, "ovr"), ValueError, "multi_class"),
        (("fit_gradient_descent", X, y, 1.0, -0.1), ValueError, "lr must be"),
        (("fit_gradient_descent", X[0], y, 1.0), ValueError, "2-D"),
    ]


def test_logistic_bad_input_raises_clearly(lr, rng) -> None:
    for call, err, match in _bad_logistic_calls(rng):
        with pytest.raises(err, match=match):
            lr(*call)


def test_logistic_class_errors(lr, rng) -> None:
    for kwargs, match in (({"C": 0.0}, "C must be"), ({"C": -1.0}, "C must be"), ({"method": "sgd"}, "method"),
                          ({"multi_class": "ovr"}, "multi_class")):
        with pytest.raises(ValueError, match=match):
            lr("LogisticRegression", **kwargs)
    X = lr.to_input(rng.standard_normal((5, 2)))
    model = lr("LogisticRegression")
    with pytest.raises(RuntimeError, match="fitted"):
        model.predict(X)
    with pytest.raises(ValueError, match="two classes"):
        model.fit(X, lr.to_input(np.full(5, 4)))
    with pytest.raises(TypeError, match="integer dtype"):
        model.fit(X, lr.to_input(np.array([0.0, 1, 0, 1, 0])))
    model.fit(X, lr.to_input(np.array([0, 1, 0, 1, 1])))
    with pytest.raises(ValueError, match="in_features"):
        model.predict(lr.to_input(rng.standard_normal((5, 3))))


def test_naive_bayes_bad_input_raises_clearly(nb, rng) -> None:
    X, y = rng.standard_normal((6, 2)), np.array([0, 1, 2, 0, 1, 2])
    counts = np.abs(X).round() + 1
    nan = X.copy()
    nan[0, 0] = np.nan
    K = lambda *a: a  # noqa: E731  (call tuples)
    third = np.full(3, 1 / 3)
    calls = [
        (K("gaussian_nb_fit", X, y + 1, 3), ValueError, "must lie in"),
        (K("gaussian_nb_fit", X, y.astype(float)), TypeError, "integer dtype"),
        (K("gaussian_nb_fit", nan, y), ValueError, "finite"),
        (K("gaussian_nb_fit", X, y, 4), ValueError, "at least one sample"),
        (K("gaussian_nb_fit", X, y, 3, 1e-9, np.array([0.5, 0.4, 0.3])), ValueError, "sum to 1"),
        (K("gaussian_nb_fit", X, y, 3, 1e-9, np.array([0.5, 0.5])), ValueError, "shape"),
        (K("gaussian_nb_fit", X, y, 3, 1e-9, np.array([1.2, -0.1, -0.1])), ValueError, r"in \[0, 1\]"),
        (K("gaussian_nb_joint_log_likelihood", X, np.zeros((3, 2)), -np.ones((3, 2)), third), ValueError, "var"),
        (K("gaussian_nb_joint_log_likelihood", X, np.zeros((3, 3)), np.ones((3, 3)), third), ValueError, "agree"),
        (K("multinomial_nb_fit", -counts, y), ValueError, ">= 0"),
        (K("multinomial_nb_fit", counts, y, 3, 0.0), ValueError, "alpha"),
        (K("multinomial_nb_joint_log_likelihood", -counts, np.zeros((3, 2)), np.zeros(3)), ValueError, ">= 0"),
        (K("multinomial_nb_joint_log_likelihood", counts, np.zeros((3, 5)), np.zeros(3)), ValueError, "in_features"),
        (K("predict_log_proba", np.zeros(3)), ValueError, "2-D"),
    ]
    for call, err, match in calls:
        with pytest.raises(err, match=match):
            nb(*call)
    for cls, data in (("GaussianNB", X), ("MultinomialNB", counts)):
        model = nb(cls)
        with pytest.raises(RuntimeError, match="fitted"):
            model.predict(nb.to_input(data))
        model.fit(nb.to_input(data), nb.to_input(y))
        with pytest.raises(ValueError):
            model.predict(nb.to_input(data[:, :1]))
    with pytest.raises(ValueError, match=">= 0"):
        nb("MultinomialNB").fit(nb.to_input(counts), nb.to_input(y)).predict(nb.to_input(-counts))
    with pytest.raises(ValueError, match="alpha"):
        nb("MultinomialNB", alpha=-1.0)
