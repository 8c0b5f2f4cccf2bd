"""Shared fixtures: real MNIST digits (the offline mnist-5k set), cut small so every test is fast.

Expensive things (loading the digits, the one properly trained model) are session-scoped and
shared across test files; tests must treat them as read-only.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from cnn.config import Config
from cnn.data import DIGITS, Dataset, load_dataset
from cnn.saving import save_model
from cnn.train import train

# The variables pytest-xdist sets in each of its workers (`make test` runs tests/ with -n 2).
XDIST_VARIABLES = ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID")


@pytest.fixture(autouse=True)
def _runs_started_by_a_test_are_serial(monkeypatch):
    """A pytest (pytester, a subprocess) or an engine that a test starts runs as a user's would,
    not as one more xdist worker: the worker's variables would turn pytest-benchmark off in it and
    give the local engine a worker's share of the cores."""
    for name in XDIST_VARIABLES:
        monkeypatch.delenv(name, raising=False)


# Small enough to train an epoch in about a second on 2 CPU cores, big enough to learn something.
TINY = Config(conv_filters=(4, 8), dense_units=(16,), epochs=1)


@pytest.fixture(scope="session")
def mnist5k() -> Dataset:
    return load_dataset("mnist-5k")


@pytest.fixture(scope="session")
def tiny(mnist5k) -> Dataset:
    """300 training digits (30 per class, stratified) and 200 test digits, as real MNIST."""
    train_part = mnist5k.subset(300, seed=0)
    return Dataset.from_arrays(
        "mnist-tiny", train_part.x_train, train_part.y_train, mnist5k.x_test[:200], mnist5k.y_test[:200], DIGITS
    )


@pytest.fixture(scope="session")
def tiny_config() -> Config:
    return TINY


@pytest.fixture(scope="session")
def tiny_npz(tiny, tmp_path_factory):
    """The tiny set as a user's .npz (uint8 pixels, as users usually store them), for `npz:PATH`."""
    path = tmp_path_factory.mktemp("data") / "tiny.npz"
    np.savez(
        path,
        x_train=np.round(tiny.x_train[..., 0] * 255).astype(np.uint8),
        y_train=tiny.y_train,
        x_test=np.round(tiny.x_test[..., 0] * 255).astype(np.uint8),
        y_test=tiny.y_test,
    )
    return path


@pytest.fixture(scope="session")
def trained(mnist5k):
    """One small CNN trained for real (4,000 digits, 3 epochs, ~93% test accuracy in ~5 s).

    Shared by the predict, saving and CLI tests, which need a model that actually reads digits.
    """
    config = Config(conv_filters=(8, 16), dense_units=(32,), epochs=3, seed=0)
    result = train(config, mnist5k)
    assert result.test_accuracy > 0.85, "the shared model must read digits for the tests built on it"
    return result


@pytest.fixture(scope="session")
def trained_path(trained, tmp_path_factory):
    return save_model(trained.model, tmp_path_factory.mktemp("models") / "small.keras")


def photograph(digit: np.ndarray, size=(200, 140), box=(30, 15, 100), paper=0.8, ink=0.6) -> Image.Image:
    """An MNIST digit as if photographed: dark ink on grey paper, enlarged, off centre.

    `digit` is (28, 28[, 1]) light-on-dark in [0, 1]; `size` is the photo's (height, width);
    `box` is (top, left, side) of the square the digit is drawn into.
    """
    top, left, side = box
    enlarged = Image.fromarray(np.uint8(np.squeeze(digit) * 255)).resize((side, side), Image.BILINEAR)
    photo = np.full(size, paper, dtype=np.float32)
    photo[top : top + side, left : left + side] -= ink * np.asarray(enlarged, dtype=np.float32) / 255
    return Image.fromarray(np.uint8(np.clip(photo, 0, 1) * 255))


@pytest.fixture(scope="session")
def photo_digit(mnist5k, trained, tmp_path_factory):
    """(path, label): a JPEG "photo" of a test digit 3.

    The clearest 3 (to the model) is used, so a wrong answer points at the photo preparation,
    not at a digit the model finds hard anyway.
    """
    label = 3
    candidates = np.flatnonzero(mnist5k.y_test == label)
    logits = trained.model.predict(mnist5k.x_test[candidates], verbose=0)
    best = candidates[int(np.argmax(logits[:, label] - np.delete(logits, label, axis=1).max(axis=1)))]
    path = tmp_path_factory.mktemp("photos") / "three.jpg"
    photograph(mnist5k.x_test[best]).save(path, quality=85)
    return path, label


def axis_records(*names: str) -> list[dict]:
    """The records (axes.json entries) of the built-in axes `names`, from their ablations/ files."""
    import importlib.util
    from pathlib import Path

    folder = Path(__file__).resolve().parents[1] / "ablations"
    records = []
    for name in names:
        spec = importlib.util.spec_from_file_location(f"_axis_record_{name}", folder / f"test_{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        records.append(module.AXIS.record())
    return records
