"""Ctrl-C that is never lost.

Python drops a KeyboardInterrupt raised while a weakref callback or a __del__ runs ("Exception
ignored in: <function WeakKeyDictionary...remove>"), and TensorFlow runs those all the time: a single
Ctrl-C during a grid was ignored in about half of our tries. So the handler also sets a flag, and
`check()` raises again at safe points: after every epoch and around every run.
"""

from __future__ import annotations

import signal
import threading

_requested = threading.Event()


def _handler(signum, frame):
    _requested.set()
    raise KeyboardInterrupt


def install() -> None:
    """Take over SIGINT in the main thread (elsewhere signals cannot be handled; then do nothing)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _handler)


def check() -> None:
    """Raise KeyboardInterrupt when Ctrl-C was pressed, even if its first raise was swallowed."""
    if _requested.is_set():
        raise KeyboardInterrupt
