"""The suite's speed yardstick: the machine's measured matrix-multiply peak, against which a
training run's GFLOP/s is read (an axis file times it: ablations/test_speed.py, with the
`record_peak` fixture)."""

from __future__ import annotations

import numpy as np

MATMUL_SIZE = 2048  # large enough to reach the kernels' peak, small enough to time in ~0.1 s


def make_matmul(dtype: str, size: int = MATMUL_SIZE):
    """(multiply, flops, check): a zero-argument function that multiplies two size x size matrices
    of `dtype` (float32 or bfloat16) and returns the product, the FLOPs of one call (2 n^3), and a
    function that tells whether a product's corner matches float64 within the dtype's rounding."""
    import tensorflow as tf

    rng = np.random.default_rng(0)
    a = tf.constant(rng.standard_normal((size, size)), dtype=getattr(tf, dtype))
    b = tf.constant(rng.standard_normal((size, size)), dtype=getattr(tf, dtype))
    # The exact product of the rounded inputs; only the accumulation can differ from it.
    expected = tf.cast(a[:4], tf.float64).numpy() @ tf.cast(b[:, :4], tf.float64).numpy()
    tolerance = (1e-3 if dtype == "float32" else 0.05) * size**0.5  # entries have std sqrt(n)

    def multiply():
        return tf.linalg.matmul(a, b).numpy()  # .numpy() waits for the result

    def check(product) -> bool:
        return bool(np.abs(product[:4, :4].astype(np.float64) - expected).max() <= tolerance)

    return multiply, 2 * size**3, check
