"""TensorFlow's thread pools, set before its runtime starts (it refuses changes afterwards)."""

from __future__ import annotations

import os

from cnn.errors import CnnError


def set_threads(intra_op: int, inter_op: int = 1) -> None:
    """Use `intra_op` threads inside each op and `inter_op` ops at once. One op at a time: with
    intra-op threads on every core, a second inter-op thread measured no faster for the seed CNN.
    Raises CnnError once TensorFlow has started with other settings."""
    import tensorflow as tf

    threading = tf.config.threading
    if (threading.get_intra_op_parallelism_threads(), threading.get_inter_op_parallelism_threads()) == (intra_op, inter_op):
        return
    try:
        threading.set_intra_op_parallelism_threads(intra_op)
        threading.set_inter_op_parallelism_threads(inter_op)
    except RuntimeError:  # TensorFlow's runtime has started: its pools are fixed for this process
        raise CnnError(f"cannot use {intra_op} threads: TensorFlow has already started in this process with "
                       f"{threading.get_intra_op_parallelism_threads() or 'all'}; set threads before the first training") from None


def cpu_share(processes: int) -> int:
    """Cores per process when `processes` train side by side on this machine."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cores // max(1, processes))
