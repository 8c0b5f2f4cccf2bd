"""Saving and loading: a reloaded model predicts exactly as it did, and bad files fail cleanly."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

from cnn.config import Config
from cnn.errors import CnnError
from cnn.models import build_model
from cnn.saving import load_model, save_model


def predictions(model, images):
    return np.asarray(model.predict(images, verbose=0))


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_round_trip_gives_identical_predictions(trained, mnist5k, tmp_path, suffix):
    path = save_model(trained.model, tmp_path / f"model{suffix}")
    reloaded = load_model(path)
    images = mnist5k.x_test[:64]
    np.testing.assert_array_equal(predictions(reloaded, images), predictions(trained.model, images))
    assert reloaded.count_params() == trained.model.count_params()


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_custom_activation_reloads(mnist5k, tmp_path, suffix):
    model = build_model(Config(conv_filters=(4,), dense_units=(8,), activation="scaled_tanh"), (28, 28, 1), 10)
    reloaded = load_model(save_model(model, tmp_path / f"scaled{suffix}"))
    assert reloaded.layers[0].activation.__name__ == "scaled_tanh"
    images = mnist5k.x_test[:8]
    np.testing.assert_allclose(predictions(reloaded, images), predictions(model, images), rtol=1e-6)


def test_save_overwrites_and_leaves_no_temporary_files(trained, tmp_path):
    path = tmp_path / "model.keras"
    save_model(trained.model, path)
    save_model(trained.model, path)
    assert [entry.name for entry in tmp_path.iterdir()] == ["model.keras"]


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_a_saved_model_is_readable_by_others_as_results_are(tmp_path, suffix):
    # mkstemp makes its file owner-only (0600); a model is shared as the results are (0644).
    model = build_model(Config(conv_filters=(4,), dense_units=(8,)), (28, 28, 1), 10)
    path = save_model(model, tmp_path / f"model{suffix}")
    assert path.stat().st_mode & 0o777 == 0o644


class CrashingModel:
    """Stands in for a model whose save dies half-way (disk full, killed)."""

    def save(self, path):
        Path(path).write_bytes(b"half a model")
        raise OSError("No space left on device")


def test_a_crash_while_saving_keeps_the_old_file(trained, mnist5k, tmp_path):
    path = save_model(trained.model, tmp_path / "model.keras")
    with pytest.raises(OSError, match="No space"):
        save_model(CrashingModel(), path)
    assert [entry.name for entry in tmp_path.iterdir()] == ["model.keras"]
    images = mnist5k.x_test[:8]
    np.testing.assert_array_equal(predictions(load_model(path), images), predictions(trained.model, images))


@pytest.mark.parametrize("name, fragment", [("model.pkl", "must end in .keras"), ("model", "must end in .keras"),
                                            ("missing/model.keras", "does not exist")])
def test_save_to_a_bad_path_is_refused(trained, tmp_path, name, fragment):
    with pytest.raises(CnnError, match=fragment):
        save_model(trained.model, tmp_path / name)
    assert not any(tmp_path.iterdir())


def unwritable_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    if os.access(folder, os.W_OK):  # root ignores permission bits; sysfs refuses new files even to root
        folder = Path("/sys")
        if not folder.is_dir():
            pytest.skip("no folder here is unwritable to this user")
    return folder


def test_save_to_an_unwritable_folder_is_refused(trained, tmp_path):
    folder = unwritable_folder(tmp_path)
    with pytest.raises(CnnError, match="not writable"):
        save_model(trained.model, folder / "model.keras")


def test_load_missing_file_says_how_to_make_one(tmp_path):
    with pytest.raises(CnnError, match="not found.*cnn train --save"):
        load_model(tmp_path / "model.keras")


def write_non_model_zip(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("notes.txt", "not a model")


@pytest.mark.parametrize(
    "name, make",
    [
        pytest.param("random.keras", lambda p: p.write_bytes(np.random.default_rng(0).bytes(4096)), id="random-keras"),
        pytest.param("random.h5", lambda p: p.write_bytes(np.random.default_rng(0).bytes(4096)), id="random-h5"),
        pytest.param("empty.keras", lambda p: p.write_bytes(b""), id="empty"),
        pytest.param("archive.keras", write_non_model_zip, id="non-model-zip"),
    ],
)
def test_load_corrupt_file_is_refused(tmp_path, name, make):
    path = tmp_path / name
    make(path)
    with pytest.raises(CnnError) as error:
        load_model(path)
    message = str(error.value)
    assert name in message and "corrupt or not a Keras model" in message
    assert "\n" not in message


@pytest.mark.parametrize("name", ["model.txt", "folder.keras"])
def test_load_something_that_is_not_a_model_file(tmp_path, name):
    path = tmp_path / name
    if path.suffix == ".keras":
        path.mkdir()
    else:
        path.write_text("hello")
    with pytest.raises(CnnError, match="not a Keras model file"):
        load_model(path)


# --- what the model was trained on, saved with it ----------------------------------------------


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_metadata_is_saved_with_the_model(trained, tmp_path, suffix):
    from cnn.saving import load_metadata

    metadata = {"dataset": "mnist-5k", "dataset_fingerprint": "0123456789abcdef", "config": {"epochs": 3}}
    path = save_model(trained.model, tmp_path / f"model{suffix}", metadata=metadata)
    assert load_metadata(path) == metadata
    assert load_model(path).count_params() == trained.model.count_params()


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_a_model_saved_without_metadata_still_loads(trained, mnist5k, tmp_path, suffix):
    # Files saved before metadata existed, or by Keras itself.
    from cnn.saving import load_metadata

    path = tmp_path / f"plain{suffix}"
    trained.model.save(path)
    assert load_metadata(path) == {}
    images = mnist5k.x_test[:8]
    np.testing.assert_array_equal(predictions(load_model(path), images), predictions(trained.model, images))
