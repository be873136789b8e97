"""Idiomatic PyTorch twins of :mod:`from_scratch` (same module and public names; autograd gives the gradients).

Library code is device-agnostic: tensors stay on the device they come from.
"""
