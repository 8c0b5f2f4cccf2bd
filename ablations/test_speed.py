"""Speed: the notebook's recipe against the fast path, and the machine's matmul peak in the same run.

The recipe comparison is the `speed` axis (naive, each lever alone, fast); this module adds the
yardstick, the float32 and bfloat16 matrix-multiply peak, timed by pytest-benchmark. The session
turns them into GFLOP/s, fraction of peak and time-to-accuracy (results/<profile>/speed.csv).
"""

import pytest

from cnn.grid import AXES
from cnn.peak import make_matmul
from cnn.suite import PEAK_PROPERTY

AXIS = AXES.get("speed")


@pytest.mark.parametrize("variant", AXIS.ids)
def test_speed(variant, run_variant):
    run_variant(AXIS.name, variant)


def test_speed_effects(judge_effects):
    judge_effects(AXIS.name)


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_matmul_peak(dtype, benchmark, request):
    multiply, flops, check = make_matmul(dtype)
    product = benchmark.pedantic(multiply, rounds=5, warmup_rounds=1, iterations=1)
    seconds = benchmark.stats.stats.min if benchmark.stats else _time_once(multiply)
    request.node.user_properties.append((PEAK_PROPERTY, {"dtype": dtype, "gflops": flops / seconds / 1e9}))
    benchmark.extra_info["gflops"] = flops / seconds / 1e9
    # The yardstick must compute the right thing, not just fast.
    assert check(product), f"{dtype} matmul disagrees with float64 beyond its rounding"


def _time_once(multiply) -> float:
    import time

    multiply()
    start = time.perf_counter()
    multiply()
    return time.perf_counter() - start
