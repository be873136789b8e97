"""Agreement, precision and speed benchmarks over the concept registry (:mod:`benchmarks.registry`)."""
