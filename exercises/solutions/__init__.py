"""Worked solutions to the exercises, NumPy only; run and checked by ``tests/test_exercises_NN.py``."""
