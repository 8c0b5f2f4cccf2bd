"""cnn: what each design choice of a convolutional network does, measured.

The core library: datasets (`cnn.data`), one frozen config per variant (`cnn.config`), the model
builder (`cnn.models`), training with honest timing (`cnn.train`), evaluation (`cnn.evaluate`),
prediction (`cnn.predict`) and save/load (`cnn.saving`).

What a project of its own needs is here by name, `from cnn import Config, register_model, ...`,
each loaded on first use, so that `import cnn` starts no TensorFlow.
"""

import os

# TensorFlow's C++ chatter (CPU flags, missing CUDA) hides the output that matters.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from cnn.errors import CnnError  # noqa: E402  (keras-free, so `import cnn` stays cheap)

# name -> the module that defines it, imported on first use (those under cnn.parts, cnn.config
# and cnn.data are Keras-free; the others start TensorFlow).
_LAZY = {
    "Config": "cnn.config", "preset": "cnn.config", "PRESETS": "cnn.config",
    "Dataset": "cnn.data", "load_dataset": "cnn.data", "register_dataset": "cnn.data",
    "register_model": "cnn.parts", "register_augmentation": "cnn.parts", "register_optimizer": "cnn.parts",
    "register_activation": "cnn.activations",
    "build_model": "cnn.models", "forward_flops": "cnn.models",
    "compile_model": "cnn.train", "RunResult": "cnn.train",  # train() itself: from cnn.train import train
    "save_model": "cnn.saving", "load_model": "cnn.saving",
    "set_threads": "cnn.runtime",
}

__all__ = ["CnnError", *_LAZY]
__version__ = "0.1.0"


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'cnn' has no attribute {name!r}")
    import importlib

    module = importlib.import_module(_LAZY[name])
    globals()[name] = value = getattr(module, name)
    return value


def __dir__():
    return sorted({*globals(), *_LAZY})
