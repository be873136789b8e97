"""Registry entries, one module per lesson (``lessonNN.py``), each exporting ``CONCEPTS``."""
