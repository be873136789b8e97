"""Lesson 3 - probability and statistics, from scratch in NumPy. See ``lessons/03_probability_statistics.md``.

Twin: :mod:`torch_versions.probability` (same public names; ``*_backward`` exist only here).
"""
from inspect import ismodule as _ismodule

from .discrete import (bernoulli_entropy, bernoulli_entropy_backward, bernoulli_fit, bernoulli_log_prob,
                       bernoulli_log_prob_backward, categorical_entropy, categorical_entropy_backward,
                       categorical_fit, categorical_log_prob, categorical_log_prob_backward, log_factorial,
                       poisson_entropy, poisson_fit, poisson_log_prob, poisson_log_prob_backward, softplus,
                       softplus_backward)
from .gaussian import (mvn_entropy, mvn_entropy_backward, mvn_fit, mvn_log_prob, mvn_log_prob_backward,
                       mvn_rsample, mvn_rsample_backward, normal_entropy, normal_entropy_backward, normal_fit,
                       normal_log_prob, normal_log_prob_backward, normal_rsample, normal_rsample_backward)
from .bayes import (beta_bernoulli_update, beta_log_prob, beta_log_prob_backward, beta_mean_variance,
                    discrete_posterior, discrete_posterior_backward)
from .distributions import (Bernoulli, Beta, Categorical, MultivariateNormal, Normal, Poisson)
from .losses import (binary_cross_entropy_with_logits, binary_cross_entropy_with_logits_backward, cross_entropy,
                     cross_entropy_backward, focal_loss, focal_loss_backward, huber_loss, huber_loss_backward, kl_div,
                     kl_div_backward, l1_loss, l1_loss_backward, mse_loss, mse_loss_backward, nll_loss,
                     nll_loss_backward)
from .logistic_regression import (LogisticFit, LogisticRegression, METHODS, MULTI_CLASS, fit_gradient_descent,
                                  fit_newton, logistic_hessian, logistic_loss, logistic_loss_backward)
from .naive_bayes import (GaussianNB, GaussianNBParams, MultinomialNB, MultinomialNBParams, gaussian_nb_fit,
                          gaussian_nb_joint_log_likelihood, gaussian_nb_joint_log_likelihood_backward,
                          multinomial_nb_fit, multinomial_nb_joint_log_likelihood,
                          multinomial_nb_joint_log_likelihood_backward, predict_log_proba)

__all__ = [name for name, obj in dict(globals()).items() if not name.startswith("_") and not _ismodule(obj)]
