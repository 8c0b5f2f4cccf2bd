"""cnn.runtime: the thread share, the Ctrl-C that is never lost, TensorFlow's native log kept quiet."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cnn import runtime

ROOT = Path(__file__).resolve().parents[1]


def test_cpu_share_never_gives_zero_cores():
    assert runtime.cpu_share(1) >= 1
    assert runtime.cpu_share(10_000) == 1
    assert runtime.cpu_share(0) == runtime.cpu_share(1)


def test_a_swallowed_ctrl_c_is_raised_again_at_the_next_check(monkeypatch):
    monkeypatch.setattr(runtime, "_requested", type(runtime._requested)())
    runtime.check_interrupt()  # nothing pressed: nothing raised
    with pytest.raises(KeyboardInterrupt):
        runtime._handler(2, None)  # the first raise, which Python may drop inside a weakref callback
    with pytest.raises(KeyboardInterrupt):
        runtime.check_interrupt()


def test_quiet_native_stderr_silences_file_descriptor_2_and_restores_it():
    code = ("import os; from cnn.runtime import quiet_native_stderr\n"
            "with quiet_native_stderr(): os.write(2, b'native chatter\\n')\n"
            "os.write(2, b'after\\n')")
    env = {k: v for k, v in os.environ.items() if k != "CNN_VERBOSE_TF"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stderr == "after\n"
    verbose = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**env, "CNN_VERBOSE_TF": "1"},
                             capture_output=True, text=True, timeout=60)
    assert verbose.stderr == "native chatter\nafter\n"


def test_bfloat16_is_native_only_where_the_cpu_has_its_instructions():
    intel = "processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16 amx_bf16 amx_tile\n"
    amd_avx2 = "processor\t: 0\nflags\t\t: fpu fma avx avx2\n"
    assert runtime.native_bfloat16(intel) and runtime.native_bfloat16(intel.replace(" amx_bf16", ""))
    assert not runtime.native_bfloat16(amd_avx2)
    assert not runtime.native_bfloat16("model name\t: avx512_bf16 in a name is not a flag\n")
    assert runtime.fast_precision() in ("mixed_bfloat16", "float32")
