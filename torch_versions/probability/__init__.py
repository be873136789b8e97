"""Lesson 3 - probability and statistics in idiomatic PyTorch (``torch.distributions``, ``torch.nn.functional``,
``nn.Module``). Twin of :mod:`from_scratch.probability`. See ``lessons/03_probability_statistics.md``."""
from inspect import ismodule as _ismodule

from .discrete import (bernoulli_entropy, bernoulli_fit, bernoulli_log_prob, categorical_entropy, categorical_fit,
                       categorical_log_prob, log_factorial, poisson_entropy, poisson_fit, poisson_log_prob, softplus)
from .gaussian import (mvn_entropy, mvn_fit, mvn_log_prob, mvn_rsample, normal_entropy, normal_fit, normal_log_prob,
                       normal_rsample)
from .bayes import (beta_bernoulli_update, beta_log_prob, beta_mean_variance, discrete_posterior)
from .distributions import (Bernoulli, Beta, Categorical, MultivariateNormal, Normal, Poisson)
from .losses import (binary_cross_entropy_with_logits, cross_entropy, focal_loss, huber_loss, kl_div, l1_loss,
                     mse_loss, nll_loss)
from .logistic_regression import (LogisticFit, LogisticRegression, METHODS, MULTI_CLASS, fit_gradient_descent,
                                  fit_newton, logistic_hessian, logistic_loss)
from .naive_bayes import (GaussianNB, GaussianNBParams, MultinomialNB, MultinomialNBParams, gaussian_nb_fit,
                          gaussian_nb_joint_log_likelihood, multinomial_nb_fit, multinomial_nb_joint_log_likelihood,
                          predict_log_proba)

__all__ = [name for name, obj in dict(globals()).items() if not name.startswith("_") and not _ismodule(obj)]
