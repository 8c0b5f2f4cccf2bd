"""This repository's own pytest set-up. The ablation suite itself is a plugin (cnn.ablate.plugin),
loaded by its `pytest11` entry point wherever the package is installed."""

import importlib.util
import os
import sys

import pytest


def pytest_addoption(parser, pluginmanager):
    # A pytest from another environment (the system's, a global one) has neither TensorFlow nor the
    # plugin: say so in one line instead of a ModuleNotFoundError or "unrecognized arguments".
    # Raised here, not at import: pytest prints a UsageError from this hook as one line (exit 4),
    # and it runs before the command line is checked for the plugin's --ablation-* options.
    if importlib.util.find_spec("tensorflow") is None:
        missing = "TensorFlow"
    elif not pluginmanager.has_plugin("cnn_ablate"):
        missing = "the cnn package (its pytest plugin)"
    else:
        return
    raise pytest.UsageError(f"this Python ({sys.executable}) lacks {missing}; run `make install` and "
                            "`. .venv/bin/activate`, or use .venv/bin/pytest")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from cnn.runtime import start_tensorflow

    start_tensorflow()  # its native start-up log (and the GPU probe's cuInit failure) kept off the terminal
