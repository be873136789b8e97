"""From-scratch implementations in NumPy (this package never imports torch).

Each module mirrors one in :mod:`torch_versions` with the same public names; only this side writes the
backward passes by hand (functions named ``*_backward``).
"""
