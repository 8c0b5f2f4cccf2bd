"""This repository's own pytest set-up. The ablation suite itself is a plugin (cnn.ablate.plugin),
loaded by its `pytest11` entry point wherever the package is installed."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from cnn.runtime import start_tensorflow  # noqa: E402

start_tensorflow()  # its native start-up log (and the GPU probe's cuInit failure) kept off the terminal
