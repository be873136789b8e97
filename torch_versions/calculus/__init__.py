"""Lesson 2 - calculus and gradients in idiomatic PyTorch (autograd, ``torch.func``, ``nn.Module``,
``torch.optim``). Twin of :mod:`from_scratch.calculus`. See ``lessons/02_calculus_gradients.md``."""
from inspect import ismodule as _ismodule

from .autodiff import Value, topological_order
from .activations import ACTIVATIONS, activation, relu, sigmoid, tanh
from .descent import OBJECTIVES, DescentResult, gradient_descent, quadratic, rosenbrock
from .numerical import default_step, derivative, gradient, hessian_vector_product, jacobian, step_size_errors
from .two_layer_net import (PARAMS, TwoLayerNet, accuracy, batch_indices, cross_entropy, log_softmax, mlp_loss,
                            train_sgd)

__all__ = [name for name, obj in dict(globals()).items() if not name.startswith("_") and not _ismodule(obj)]
