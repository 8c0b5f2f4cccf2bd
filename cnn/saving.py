"""Save and load models: the `.keras` format, or legacy `.h5` when asked (as the notebook does).

A model saved by `cnn train --save` carries what it was trained on (dataset name and fingerprint,
config, metrics): `cnn.json` inside the .keras zip, or a `cnn_metadata` attribute of the .h5 root.
Keras ignores both when loading; files saved without them load as before, with no metadata.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path

import keras

import cnn.activations  # noqa: F401  (registers custom activations so models using them reload)
import cnn.augment  # noqa: F401  (and the augmentation layers of photo-cnn and the augmentation axis)
import cnn.optimizers  # noqa: F401  (and FusedAdam, the fast path's optimizer, saved with the model)
from cnn.errors import CnnError

FORMATS = (".keras", ".h5")
METADATA_ENTRY = "cnn.json"  # in the .keras zip, beside Keras' own config.json and metadata.json
METADATA_ATTRIBUTE = "cnn_metadata"  # on the .h5 file's root group


def check_save_path(path: str | Path) -> Path:
    """The folder `path` would be saved in; raises CnnError for a wrong suffix or a folder that is
    missing or not writable. Call it before training, so a bad path fails before the work is done."""
    path = Path(path)
    if path.suffix not in FORMATS:
        raise CnnError(f"cannot save to {path}: the file name must end in .keras (or .h5 for the legacy format)")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise CnnError(f"cannot save to {path}: folder {folder} does not exist; create it first")
    if not os.access(folder, os.W_OK):
        raise CnnError(f"cannot save to {path}: folder {folder} is not writable")
    return folder


def save_model(model: keras.Model, path: str | Path, metadata: dict | None = None) -> Path:
    """Write `model` to `path` (.keras or .h5) atomically: a crash leaves the old file or none, never half.
    `metadata` (JSON-ready: what the model was trained on) is stored in the same file; see load_metadata."""
    path = Path(path)
    folder = check_save_path(path)
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=folder)
    except OSError as error:  # read-only folder or file system
        raise CnnError(f"cannot save to {path}: folder {folder} is not writable ({error.strerror})") from None
    os.close(handle)
    try:
        model.save(temporary)
        if metadata is not None:
            _write_metadata(Path(temporary), metadata)
        os.chmod(temporary, 0o644)  # mkstemp makes it owner-only; a model is shared as results are (cnn.files)
        os.replace(temporary, path)
    except PermissionError:
        raise CnnError(f"cannot save to {path}: folder {folder} is not writable") from None
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return path


def load_model(path: str | Path) -> keras.Model:
    """The model saved at `path`, uncompiled. Raises CnnError when missing, corrupt or not a Keras model."""
    path = Path(path)
    if not path.exists():
        raise CnnError(f"model file {path} not found; train one with 'cnn train --save {path.name or 'model.keras'}'")
    if path.is_dir() or path.suffix not in FORMATS:
        raise CnnError(f"{path} is not a Keras model file; give a .keras (or .h5) file saved by 'cnn train --save'")
    # Keras reports a .keras file that is not a zip as "File not found", which it is not.
    container = _container_problem(path)
    if container:
        raise CnnError(f"{path} is corrupt or not a Keras model ({container}); save it again with 'cnn train --save'")
    try:
        model = keras.models.load_model(path, compile=False)
    except Exception as error:  # Keras and h5py raise many kinds for a bad file
        reason = str(error).strip().splitlines()[0][:120] if str(error).strip() else type(error).__name__
        raise CnnError(
            f"{path} is corrupt or not a Keras model ({reason}); save it again with 'cnn train --save'"
        ) from None
    if len(model.inputs) != 1 or len(model.outputs[0].shape) != 2:
        raise CnnError(
            f"{path} is a Keras model but not an image classifier (one image input, class logits out); "
            "give one saved by 'cnn train --save'"
        )
    return model


def load_metadata(path: str | Path) -> dict:
    """What `save_model` stored with the model at `path` (dataset, dataset_fingerprint, config, ...);
    an empty dict for a model saved without it (by older versions, or by Keras itself)."""
    path = Path(path)
    try:
        if path.suffix == ".keras":
            with zipfile.ZipFile(path) as archive:
                if METADATA_ENTRY not in archive.namelist():
                    return {}
                text = archive.read(METADATA_ENTRY).decode()
        else:
            import h5py

            with h5py.File(path, "r") as h5:
                text = h5.attrs.get(METADATA_ATTRIBUTE)
            if text is None:
                return {}
        metadata = json.loads(text)
    except (OSError, zipfile.BadZipFile, ValueError):  # unreadable metadata: the model itself may still load
        return {}
    return metadata if isinstance(metadata, dict) else {}


def _write_metadata(path: Path, metadata: dict) -> None:
    text = json.dumps(metadata)
    if path.suffix == ".keras":
        with zipfile.ZipFile(path, "a") as archive:
            archive.writestr(METADATA_ENTRY, text)
    else:
        import h5py

        with h5py.File(path, "a") as h5:
            h5.attrs[METADATA_ATTRIBUTE] = text


def _container_problem(path: Path) -> str | None:
    """Why `path` cannot even be the container its suffix names (.keras: a zip, .h5: HDF5), or None."""
    if path.suffix == ".keras" and not zipfile.is_zipfile(path):
        return "not a zip archive, as every .keras file is"
    if path.suffix == ".h5":
        import h5py

        if not h5py.is_hdf5(path):
            return "not an HDF5 file, as every .h5 model is"
    return None
