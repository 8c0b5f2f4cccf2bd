"""Every bad input we know of, run through the real command line; writes docs/bad-inputs.md.

    .venv/bin/python docs/bad_inputs.py               # the `cnn` cases in this process (fast), pytest's in a subprocess
    .venv/bin/python docs/bad_inputs.py --subprocess  # every case as a user runs it: a fresh `cnn` process each (slow)

Each case makes the files it needs in a scratch folder, runs the command there, and records the exit
code and what the user reads on stderr. The script exits 1 when a case does not give its exit code
(2 for `cnn`, 4 for pytest's usage errors) and exactly one line naming the problem and the fix.
tests/test_bad_inputs.py runs the same CASES.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import shlex
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "docs" / "bad-inputs.md"
# TensorFlow's native start-up log, printed before its logging is set up (pytest's conftest imports it).
NATIVE_LOG = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\)|[IWEF]\d{4} \d\d:\d\d:\d\d|I0000 )"
)


@dataclass(frozen=True)
class Case:
    what: str  # the bad input, in words
    argv: tuple[str, ...]  # the command's arguments, run in the scratch folder
    expect: tuple[str, ...]  # fragments the message must hold: the problem, and the fix
    tool: str = "cnn"  # "cnn", or "pytest" for the ablation suite's options

    @property
    def exit_code(self) -> int:
        return 2 if self.tool == "cnn" else 4

    @property
    def command(self) -> str:
        return shlex.join([self.tool, *self.argv])


@dataclass(frozen=True)
class Outcome:
    case: Case
    code: int
    stderr: str

    @property
    def lines(self) -> list[str]:
        """What the user reads on stderr, less TensorFlow's native start-up log and pytest's usage banner."""
        lines = [line for line in self.stderr.strip().splitlines() if line.strip() and not NATIVE_LOG.match(line)]
        if self.case.tool == "pytest":  # pytest's format for an option's error: usage, error, inifile, rootdir
            lines = [line for line in lines if not line.startswith(("ERROR: usage:", "  inifile:", "  rootdir:"))]
        return lines

    @property
    def native_log_lines(self) -> int:
        return sum(1 for line in self.stderr.splitlines() if NATIVE_LOG.match(line))

    @property
    def message(self) -> str:
        return " / ".join(self.lines)

    def problems(self) -> list[str]:
        """Why this outcome is not what a user should get: empty when it is."""
        found = []
        if self.code != self.case.exit_code:
            found.append(f"exit code {self.code}, expected {self.case.exit_code}")
        if "Traceback" in self.stderr:
            found.append("a traceback on stderr")
        if len(self.lines) != 1:
            found.append(f"{len(self.lines)} lines on stderr, expected 1")
        found += [f"message lacks {fragment!r}" for fragment in self.case.expect if fragment not in self.message]
        return found


def _dataset_case(what: str, file: str, *expect: str) -> Case:
    return Case(what, ("train", "--dataset", f"npz:{file}"), expect)


def _train_case(what: str, args: tuple[str, ...], *expect: str) -> Case:
    return Case(what, ("train", "--dataset", "npz:good.npz", *args), expect)


CASES: list[Case] = [
    # --- the dataset spec
    Case(
        "dataset name misspelt",
        ("train", "--dataset", "minst"),
        ("unknown dataset 'minst'", "known: mnist-5k, mnist,", "npz:PATH"),
    ),
    Case(
        "dataset name unknown",
        ("train", "--dataset", "cifar-10"),
        ("unknown dataset 'cifar-10'", "mnist-5k", "npz:PATH"),
    ),
    Case(
        "dataset a bare .npz path (no npz: prefix)",
        ("train", "--dataset", "good.npz"),
        ("unknown dataset 'good.npz'", "write npz:good.npz"),
    ),
    # --- a user's .npz
    _dataset_case(".npz missing", "missing.npz", "file not found", "give the path of an .npz"),
    _dataset_case(".npz corrupt (not a zip)", "corrupt.npz", "not a readable .npz", "numpy.savez"),
    _dataset_case(".npz truncated (half a download)", "truncated.npz", "not a readable .npz", "numpy.savez"),
    _dataset_case(".npy given for .npz", "single.npy", "single array", "numpy.savez"),
    _dataset_case(
        ".npz keys missing",
        "keys.npz",
        "missing key(s) y_train, y_test",
        "needs x_train, y_train, x_test, y_test",
        "it has x_train, images, labels, x_test",
    ),
    _dataset_case(
        "images and labels of different lengths",
        "lengths.npz",
        "x_train has 20 images but y_train has 19 labels",
        "must match",
    ),
    _dataset_case(
        "train and test images of different shapes", "shapes.npz", "(28, 28, 1)", "(32, 32, 1)", "same shape"
    ),
    _dataset_case("images flattened (not 2-D + channels)", "flat.npz", "shape (20, 784)", "(N, height, width)"),
    _dataset_case(
        "images with an extra axis", "five_d.npz", "shape (20, 28, 28, 1, 1)", "(N, height, width, channels)"
    ),
    _dataset_case("label out of range (negative)", "negative.npz", "label -1", "[0, K-1]"),
    _dataset_case("label out of range (more than class_names)", "beyond.npz", "label 12", "3 classes", "[0, 2]"),
    _dataset_case("labels non-integer (floats)", "float_labels.npz", "non-integer labels", "whole class numbers"),
    _dataset_case("labels non-integer (strings)", "text_labels.npz", "dtype <U3", "integers 0..K-1"),
    _dataset_case("labels one-hot", "onehot.npz", "shape (20, 10)", "one integer class per image (N,)"),
    _dataset_case("NaN pixels", "nan.npz", "NaN/inf pixel", "clean or drop"),
    _dataset_case("inf pixels", "inf.npz", "NaN/inf pixel", "clean or drop"),
    _dataset_case("pixels 0-255 in a float array", "float255.npz", "0..255", "divide by 255"),
    _dataset_case("integer pixels beyond 0-255", "int16.npz", "0..1000", "0..255"),
    _dataset_case("empty arrays", "empty.npz", "x_train is empty", "needs samples"),
    # --- config fields
    _train_case("dropout out of range", ("--dropout", "1.5"), "dropout=1.5", "[0, 1)"),
    _train_case("negative layer width", ("--dense-units", "-5"), "dense_units=(-5,)", "positive integers"),
    _train_case("pool_size larger than the feature map", ("--pool-size", "30"), "pool_size=30", "smaller pool_size"),
    _train_case("kernel larger than the image", ("--kernel-size", "40"), "kernel_size=40", "smaller kernel"),
    _train_case("unknown activation", ("--activation", "swish"), "activation='swish'", "relu"),
    _train_case("unknown optimizer", ("--optimizer", "lbfgs"), "optimizer='lbfgs'", "adam"),
    _train_case("unknown initializer", ("--initializer", "orthogonal"), "initializer='orthogonal'", "he_normal"),
    _train_case("epochs 0", ("--epochs", "0"), "epochs=0", "integer >= 1"),
    _train_case("epochs not a number", ("--epochs", "ten"), "--epochs", "'ten'"),
    _train_case("threads 0", ("--threads", "0"), "--threads", "integer >= 1"),
    _train_case(
        "option abbreviated (--epoch for --epochs)",
        ("--epoch", "2"),
        "unrecognized arguments: --epoch 2",
        "did you mean --epochs?",
    ),
    _train_case("boolean field not true or false", ("--jit-compile", "maybe"), "--jit-compile", "true or false"),
    _train_case("learning rate negative", ("--learning-rate", "-0.1"), "learning_rate=-0.1", "> 0"),
    _train_case("save path with a wrong suffix", ("--save", "model.pkl"), "model.pkl", ".keras"),
    _train_case("save folder missing", ("--save", "nowhere/model.keras"), "nowhere", "create it first"),
    # --- image files for `cnn predict`
    Case("image file missing", ("predict", "model.keras", "missing.png"), ("missing.png not found", "PNG or JPEG")),
    Case("image file empty", ("predict", "model.keras", "empty.png"), ("empty.png is empty", "PNG or JPEG")),
    Case(
        "image file not an image", ("predict", "model.keras", "notes.png"), ("notes.png is not an image", "PNG or JPEG")
    ),
    Case(
        "image file a truncated JPEG",
        ("predict", "model.keras", "truncated.jpg"),
        ("truncated.jpg is truncated", "export the image again"),
    ),
    Case(
        "photo of a blank page (ruled, no ink)",
        ("predict", "model.keras", "blank.jpg"),
        ("blank.jpg: no digit found", "photograph one digit"),
    ),
    Case(
        "photo all black",
        ("predict", "model.keras", "black.png"),
        ("black.png is all black", "dark ink on light paper"),
    ),
    Case(
        "image of 1x1 pixel",
        ("predict", "model.keras", "dot.png"),
        ("dot.png is 1x1 pixels, too small", "at least 8x8"),
    ),
    Case(
        "image beyond Pillow's pixel limit (a decompression bomb)",
        ("predict", "model.keras", "bomb.png"),
        ("bomb.png has more than the 178 megapixels", "scale it down"),
    ),
    Case(
        "--show DIR is a file",
        ("predict", "model.keras", "whole.jpg", "--show", "notes.png"),
        ("--show notes.png is a file", "give a folder"),
    ),
    Case(
        "no file among the images can be read",
        ("predict", "model.keras", "notes.png", "empty.png"),
        ("notes.png is not an image", "PNG or JPEG", "and 1 more files that cannot be read"),
    ),
    # --- a module of the user's own (--import)
    Case(
        "--import a module that is not there",
        ("train", "--import", "no_such_module"),
        ("--import no_such_module: no module named 'no_such_module'", "a dotted module name or a .py file"),
    ),
    Case(
        "--import a module that fails while importing",
        ("train", "--import", "broken_module.py"),
        ("--import broken_module.py failed", "ZeroDivisionError: division by zero"),
    ),
    Case(
        "own model that does not fit the data (a Keras layer error)",
        ("train", "--dataset", "npz:good.npz", "--import", "reshape_model.py", "--model", "bad-reshape"),
        ("model 'bad-reshape' cannot be built for input shape (28, 28, 1)",
         "Reshape: The total size of the tensor must be unchanged"),
    ),
    # --- model files
    Case("model file missing", ("evaluate", "missing.keras"), ("missing.keras not found", "cnn train --save")),
    Case(
        "model file corrupt",
        ("evaluate", "corrupt.keras"),
        ("corrupt.keras is corrupt", "not a zip archive", "save it again"),
    ),
    Case(
        "model file a zip but not a model",
        ("evaluate", "archive.keras"),
        ("archive.keras is corrupt or not a Keras model", "save it again"),
    ),
    Case(
        "model file a legacy .h5 that is not one",
        ("evaluate", "corrupt.h5"),
        ("corrupt.h5 is corrupt", "save it again"),
    ),
    Case(
        "model file an empty .h5",
        ("evaluate", "empty.h5"),
        ("empty.h5 is corrupt", "not an HDF5 file", "save it again"),
    ),
    Case(
        "model file a Keras model, not a classifier",
        ("evaluate", "features.keras"),
        ("features.keras", "not an image classifier", "cnn train --save"),
    ),
    Case("model file of another kind", ("evaluate", "good.npz"), ("good.npz is not a Keras model file", ".keras")),
    Case(
        "model trained on other images",
        ("evaluate", "model.keras", "--dataset", "npz:big.npz"),
        ("(28, 28, 1)", "(32, 32, 1)", "the data it was trained for"),
    ),
    # --- the ablation suite's pytest options
    Case(
        "--ablation-profile unknown",
        (str(ROOT / "ablations"), "--ablation-profile", "nope", "--co"),
        ("--ablation-profile", "'nope'", "smoke"),
        tool="pytest",
    ),
    Case(
        "--ablation-dataset unknown",
        (str(ROOT / "ablations"), "--ablation-dataset", "mnist5k", "-k", "dropout"),
        ("--ablation-dataset", "unknown dataset 'mnist5k'", "mnist-5k"),
        tool="pytest",
    ),
    Case(
        "--ablation-dataset not a readable .npz",
        (str(ROOT / "ablations"), "--ablation-dataset", "npz:corrupt.npz", "--co"),
        ("--ablation-dataset", "not a readable .npz file"),
        tool="pytest",
    ),
    Case(
        "--ablation-seeds not positive",
        (str(ROOT / "ablations"), "--ablation-seeds", "0", "--co"),
        ("--ablation-seeds", "'0'"),
        tool="pytest",
    ),
    Case(
        "results directory not writable (a path under a file)",
        (str(ROOT / "ablations"), "--ablation-results", "/dev/null/results", "--co"),
        (
            "--ablation-results",
            "/dev/null/results",
            "cannot be created or written to",
            "pass a folder you can write to",
        ),
        tool="pytest",
    ),
    Case(
        "--ablation-baseline a folder, not the baseline file",
        (str(ROOT / "ablations"), "--ablation-baseline", str(ROOT / "results"), "--co"),
        ("--ablation-baseline", "is a folder", "give the baseline file", "baseline.json"),
        tool="pytest",
    ),
    Case(
        "--ablation-cache a URL of an unknown protocol",
        (str(ROOT / "ablations"), "--ablation-cache", "nope://bucket/runs", "--co"),
        ("--ablation-cache", "nope://bucket/runs", "Protocol not known", "give a folder or a URL"),
        tool="pytest",
    ),
]


def make_files(folder: Path) -> None:
    """Every file the cases name, in `folder`: good ones to pass the checks the case is not about."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (20, 28, 28), dtype=np.uint8)
    y = np.arange(20) % 10
    good = {"x_train": x, "y_train": y, "x_test": x, "y_test": y}

    def npz(name: str, **changes) -> None:
        np.savez(folder / name, **{k: v for k, v in {**good, **changes}.items() if v is not None})

    npz("good.npz")
    (folder / "corrupt.npz").write_bytes(b"PK\x03\x04 this is not really a zip archive" + bytes(100))
    (folder / "truncated.npz").write_bytes((folder / "good.npz").read_bytes()[:5000])
    np.save(folder / "single.npy", x)
    np.savez(folder / "keys.npz", x_train=x, images=x, labels=y, x_test=x)
    npz("lengths.npz", y_train=y[:19])
    npz("shapes.npz", x_test=rng.integers(0, 256, (20, 32, 32), dtype=np.uint8))
    npz("flat.npz", x_train=x.reshape(20, -1), x_test=x.reshape(20, -1))
    npz("five_d.npz", x_train=x[..., None, None], x_test=x[..., None, None])
    npz("negative.npz", y_train=np.where(y == 0, -1, y))
    npz(
        "beyond.npz",
        y_train=np.minimum(y, 2),
        y_test=np.where(y == 5, 12, np.minimum(y, 2)),
        class_names=np.array(["a", "b", "c"]),
    )
    npz("float_labels.npz", y_train=y + 0.5)
    npz("text_labels.npz", y_train=np.array(["cat", "dog"] * 10))
    npz("onehot.npz", y_train=np.eye(10, dtype=np.float32)[y])
    floats = x.astype(np.float32) / 255
    npz("nan.npz", x_train=np.where(x == x.max(), np.nan, floats).astype(np.float32))
    npz("inf.npz", x_test=np.where(x == x.max(), np.inf, floats).astype(np.float32))
    npz("float255.npz", x_train=x.astype(np.float32), x_test=x.astype(np.float32))
    npz("int16.npz", x_train=(x.astype(np.int16) * 4 - np.int16(20)).clip(0, 1000).astype(np.int16))
    npz("empty.npz", x_train=np.zeros((0, 28, 28), np.uint8), y_train=np.zeros(0, np.int64))
    npz(
        "big.npz",
        x_train=rng.integers(0, 256, (20, 32, 32), dtype=np.uint8),
        x_test=rng.integers(0, 256, (20, 32, 32), dtype=np.uint8),
    )

    from PIL import Image

    (folder / "empty.png").write_bytes(b"")
    (folder / "notes.png").write_text("not a picture, just notes\n")
    Image.fromarray(x[0]).resize((200, 200)).save(folder / "whole.jpg", quality=90)
    (folder / "truncated.jpg").write_bytes((folder / "whole.jpg").read_bytes()[:1500])
    blank = np.full((300, 400), 235, np.uint8)
    blank[20::40] = 190  # ruled lines, and nothing written
    Image.fromarray(blank).save(folder / "blank.jpg", quality=85)
    Image.new("RGB", (64, 64)).save(folder / "black.png")
    Image.new("L", (1, 1), 255).save(folder / "dot.png")
    import struct
    import zlib

    def png_chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    # A PNG header claiming 30,000 x 30,000 pixels: refused before anything is decoded.
    header = png_chunk(b"IHDR", struct.pack(">IIBBBBB", 30000, 30000, 8, 0, 0, 0, 0))
    (folder / "bomb.png").write_bytes(b"\x89PNG\r\n\x1a\n" + header + png_chunk(b"IEND", b""))

    (folder / "broken_module.py").write_text("1 / 0  # a bug in the user's module\n")
    (folder / "reshape_model.py").write_text(
        "import keras\n\nfrom cnn import register_model\n\n\n"
        "@register_model('bad-reshape')\n"
        "def build(config, input_shape, num_classes):  # 784 values cannot be 5x5\n"
        "    return keras.Sequential([keras.Input(input_shape), keras.layers.Reshape((5, 5)),\n"
        "                             keras.layers.Flatten(), keras.layers.Dense(num_classes)])\n"
    )
    (folder / "corrupt.keras").write_bytes(bytes(range(256)) * 4)
    with zipfile.ZipFile(folder / "archive.keras", "w") as archive:
        archive.writestr("readme.txt", "a zip file, but no Keras model inside")
    (folder / "corrupt.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(300))
    (folder / "empty.h5").write_bytes(b"")

    from cnn.runtime import quiet_native_stderr

    with quiet_native_stderr():  # TensorFlow's native start-up log
        import keras

        from cnn.config import Config
        from cnn.models import build_model
        from cnn.saving import save_model

        save_model(build_model(Config(conv_filters=(4, 8), dense_units=(16,)), (28, 28, 1), 10), folder / "model.keras")
        features = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(2, 3)])
        save_model(features, folder / "features.keras")


def run_in_process(case: Case) -> Outcome:
    """A `cnn` case through cnn.cli.main in this process, in the current folder."""
    from cnn.cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(list(case.argv))
        except SystemExit as exit:  # argparse's usage errors
            code = exit.code
    return Outcome(case, code, err.getvalue())


def run_subprocess(case: Case, folder: Path) -> Outcome:
    """A case as a user runs it: a fresh process (TensorFlow starts each time: seconds)."""
    bin_dir = Path(sys.executable).parent
    if case.tool == "cnn":
        script = bin_dir / "cnn"
        argv = [str(script)] if script.exists() else [sys.executable, "-m", "cnn"]
    else:
        argv = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--rootdir", str(ROOT)]
    done = subprocess.run([*argv, *case.argv], cwd=folder, capture_output=True, text=True, timeout=300)
    return Outcome(case, done.returncode, done.stderr)


def run_all(folder: Path, fresh_processes: bool = False) -> list[Outcome]:
    make_files(folder)
    outcomes = []
    previous = Path.cwd()
    os.chdir(folder)
    try:
        for case in CASES:
            subprocess_needed = fresh_processes or case.tool != "cnn"
            outcomes.append(run_subprocess(case, folder) if subprocess_needed else run_in_process(case))
    finally:
        os.chdir(previous)
    return outcomes


def markdown(outcomes: list[Outcome], fresh_processes: bool) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace(str(ROOT) + "/", "")

    how = "a fresh process each" if fresh_processes else "`cnn` in one process (`cnn.cli.main`), pytest in a subprocess"
    lines = [
        "# Bad inputs and what the user reads",
        "",
        "Every bad input we know of, run through the real command line by `docs/bad_inputs.py` "
        f"({how}; the files are made by `make_files` in a scratch folder). `cnn` prints one line "
        "`cnn: error: ...` naming the problem and the fix and exits 2; the ablation suite's options "
        "give pytest's usage error, exit code 4. `tests/test_bad_inputs.py` runs the same cases.",
        "",
        "| bad input | command | exit code | message |",
        "|---|---|---|---|",
    ]
    for outcome in outcomes:
        flag = "" if not outcome.problems() else " **(" + "; ".join(outcome.problems()) + ")**"
        lines.append(f"| {cell(outcome.case.what)} | `{cell(outcome.case.command)}` | {outcome.code} | "
                     f"{cell(outcome.message)}{flag} |")
    lines += [
        "",
        "The pytest commands run with `--co` (collect only), so an option that is accepted does not start "
        "the grid. pytest prints an option's error after a `usage:` line and before the `inifile:`/`rootdir:` "
        "lines; the table shows the error line itself.",
    ]
    noisy = max((o.native_log_lines for o in outcomes), default=0)
    if noisy:
        lines.append(f"Up to {noisy} lines of TensorFlow's native start-up log (`I0000 ... port.cc ...`, printed when "
                     "TensorFlow is imported, before its logging honours `TF_CPP_MIN_LOG_LEVEL`) come before "
                     "the message; the table leaves them out.")
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subprocess", action="store_true", help="run every case in a fresh process, as a user does")
    parser.add_argument("--out", type=Path, default=OUTPUT, help="(default: docs/bad-inputs.md)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with tempfile.TemporaryDirectory(prefix="bad-inputs-") as scratch:
        outcomes = run_all(Path(scratch), args.subprocess)
    args.out.write_text(markdown(outcomes, args.subprocess))
    bad = [o for o in outcomes if o.problems()]
    for outcome in bad:
        print(
            f"{outcome.case.command}: {'; '.join(outcome.problems())}\n    stderr: {outcome.stderr.strip()!r}",
            file=sys.stderr,
        )
    print(
        f"wrote {args.out}: {len(outcomes)} cases, {len(outcomes) - len(bad)} give their exit code and one clear line"
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
