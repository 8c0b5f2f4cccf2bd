"""The process the library runs in: TensorFlow's thread pools, what the CPU computes in hardware, a
Ctrl-C that is never lost, and TensorFlow's native start-up log kept off the terminal."""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import sys
import threading
import time

from cnn.errors import CnnError

# --- threads: set before TensorFlow's runtime starts (it refuses changes afterwards) -------------


def set_threads(intra_op: int, inter_op: int = 1) -> None:
    """Use `intra_op` threads inside each op and `inter_op` ops at once. One op at a time: with
    intra-op threads on every core, a second inter-op thread measured no faster for the seed CNN.
    Raises CnnError once TensorFlow has started with other settings."""
    import tensorflow as tf  # only here: the rest of this module is needed before TensorFlow loads

    pools = tf.config.threading
    if (pools.get_intra_op_parallelism_threads(), pools.get_inter_op_parallelism_threads()) == (intra_op, inter_op):
        return
    try:
        pools.set_intra_op_parallelism_threads(intra_op)
        pools.set_inter_op_parallelism_threads(inter_op)
    except RuntimeError:  # TensorFlow's runtime has started: its pools are fixed for this process
        raise CnnError(
            f"cannot use {intra_op} threads: TensorFlow has already started in this process with "
            f"{pools.get_intra_op_parallelism_threads() or 'all'}; set threads before the first training"
        ) from None


def cpu_share(processes: int) -> int:
    """Cores per process when `processes` train side by side on this machine."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cores // max(1, processes))


# --- what the CPU computes in hardware -------------------------------------------------------------

BFLOAT16_FLAGS = ("amx_bf16", "avx512_bf16")  # Linux's names for the CPU features bfloat16 needs to pay


@functools.cache  # the CPU does not change while the process runs
def cpuinfo() -> str:
    """/proc/cpuinfo's text ('' where there is none: not Linux): the one reader of it."""
    try:
        with open("/proc/cpuinfo") as info:
            return info.read()
    except OSError:
        return ""


def native_bfloat16(text: str | None = None) -> bool:
    """Whether the CPU computes bfloat16 in hardware (AMX-BF16 or AVX512-BF16 among /proc/cpuinfo's
    flags, or `text`'s). Without them TensorFlow emulates it, and bfloat16 is a slowdown:
    on an AMD EPYC with AVX2 only the speed axis measured it at 0.21x float32's samples/s (the study,
    chapter 3). False where the flags cannot be read (not Linux)."""
    cpuinfo_text = cpuinfo() if text is None else text
    flags = {flag for line in cpuinfo_text.splitlines() if line.startswith("flags") for flag in line.split()}
    return any(flag in flags for flag in BFLOAT16_FLAGS)


def fast_precision() -> str:
    """The fast path's precision on this machine: mixed_bfloat16 where the CPU computes bfloat16 in
    hardware, else float32 (emulated bfloat16 would make the fast path slower than the notebook's)."""
    return "mixed_bfloat16" if native_bfloat16() else "float32"


# --- Ctrl-C that is never lost --------------------------------------------------------------------
# Python drops a KeyboardInterrupt raised while a weakref callback or a __del__ runs ("Exception
# ignored in: <function WeakKeyDictionary...remove>"), and TensorFlow runs those all the time: a single
# Ctrl-C during a grid was ignored in about half of our tries. So the handler also sets a flag, and
# `check_interrupt()` raises again at safe points: after every epoch and around every run.

_requested = threading.Event()


def _handler(signum, frame):
    _requested.set()
    raise KeyboardInterrupt


def install_interrupt() -> None:
    """Take over SIGINT in the main thread (elsewhere signals cannot be handled; then do nothing)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _handler)


def check_interrupt() -> None:
    """Raise KeyboardInterrupt when Ctrl-C was pressed, even if its first raise was swallowed."""
    if _requested.is_set():
        raise KeyboardInterrupt


# --- TensorFlow's native start-up log -------------------------------------------------------------


def start_tensorflow():
    """Import TensorFlow and probe its devices with native stderr quiet: the probe is what logs
    "failed call to cuInit" on a machine without a GPU, at the first call that asks for devices.
    Returns the tensorflow module. Thread settings can still be changed afterwards."""
    with quiet_native_stderr():
        import tensorflow as tf

        tf.config.list_physical_devices()
    return tf


@contextlib.contextmanager
def quiet_native_stderr():
    """Send file descriptor 2 to /dev/null: TensorFlow's C++ start-up log ignores TF_CPP_MIN_LOG_LEVEL.
    CNN_VERBOSE_TF=1 in the environment keeps it."""
    if os.environ.get("CNN_VERBOSE_TF"):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


# --- what else the machine did while a run trained -------------------------------------------

CONTENDED_CORES = 0.25  # other processes' CPU over the run's wall time above this: the run shared the cores


def cpu_seconds() -> tuple[float, float | None]:
    """(this process's CPU seconds, every process's busy CPU seconds since boot or None where
    /proc/stat is not there): two snapshots bound a span, their difference says who used the cores."""
    own = time.process_time()
    try:
        with open("/proc/stat") as stat:
            fields = [float(x) for x in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return own, None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)  # idle and iowait
    return own, (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")  # user..steal, not guest (counted in user)


def contention(before: tuple[float, float | None], after: tuple[float, float | None], wall_s: float) -> dict:
    """What a span between two cpu_seconds() snapshots used: `cpu_s` (this process), `others_cpu_s`
    (every other process, None without /proc/stat), `load_avg` (the 1-minute load at the end),
    and `contended`: other processes used more than CONTENDED_CORES of a core on average, so the
    span's wall times are not those of a quiet machine (None where it cannot be told)."""
    cpu_s = after[0] - before[0]
    others = None if before[1] is None or after[1] is None else max(0.0, after[1] - before[1] - cpu_s)
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = None
    contended = None if others is None or wall_s <= 0 else others / wall_s > CONTENDED_CORES
    return {"cpu_s": cpu_s, "others_cpu_s": others, "load_avg": load, "contended": contended}
