"""cnn: what each design choice of a convolutional network does, measured.

The core library: datasets (`cnn.data`), one frozen config per variant (`cnn.config`), the model
builder (`cnn.models`), training with honest timing (`cnn.train`), evaluation (`cnn.evaluate`),
prediction (`cnn.predict`) and save/load (`cnn.saving`).
"""

import os

# TensorFlow's C++ chatter (CPU flags, missing CUDA) hides the output that matters.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from cnn.errors import CnnError  # noqa: E402  (keras-free, so `import cnn` stays cheap)

__all__ = ["Config", "CnnError", "preset"]
__version__ = "0.1.0"


def __getattr__(name):
    # Config and preset import Keras; loading it lazily lets the CLI silence TensorFlow's start-up.
    if name in ("Config", "preset"):
        from cnn import config

        return getattr(config, name)
    raise AttributeError(f"module 'cnn' has no attribute {name!r}")
