"""This repository's own pytest set-up. The ablation suite itself is a plugin (cnn.ablate.plugin),
loaded by its `pytest11` entry point wherever the package is installed."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from cnn.runtime import quiet_native_stderr  # noqa: E402

with quiet_native_stderr():  # TensorFlow's native start-up log ignores TF_CPP_MIN_LOG_LEVEL
    import tensorflow  # noqa: E402,F401
