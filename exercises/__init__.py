"""Exercises per lesson (``NN_topic.md``); worked solutions in :mod:`exercises.solutions`."""
