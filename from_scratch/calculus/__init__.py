"""Lesson 2 - calculus and gradients, from scratch in NumPy. See ``lessons/02_calculus_gradients.md``.

Twin: :mod:`torch_versions.calculus` (same public names; ``*_backward`` exist only here).
"""
from inspect import ismodule as _ismodule

from .autodiff import Value, topological_order
from .activations import ACTIVATIONS, activation, relu, relu_backward, sigmoid, sigmoid_backward, tanh, tanh_backward
from .descent import (OBJECTIVES, DescentResult, gradient_descent, quadratic, quadratic_backward, rosenbrock,
                      rosenbrock_backward)
from .numerical import default_step, derivative, gradient, hessian_vector_product, jacobian, step_size_errors
from .two_layer_net import (PARAMS, TwoLayerNet, accuracy, batch_indices, cross_entropy, cross_entropy_backward,
                            log_softmax, log_softmax_backward, mlp_loss, mlp_loss_backward, train_sgd)

__all__ = [name for name, obj in dict(globals()).items() if not name.startswith("_") and not _ismodule(obj)]
