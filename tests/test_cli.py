"""The `cnn` command: what a user types, what they read back, and clean one-line errors."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from cnn.cli import main
from cnn.config import Config

TINY_ARGS = ["--conv-filters", "4,8", "--dense-units", "16", "--epochs", "1"]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """Run `cnn ARGV` in this process: (exit code, stdout, stderr). Usage errors exit via SystemExit."""
    try:
        code = main([str(arg) for arg in argv])
    except SystemExit as exit:
        code = exit.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, err: str, *fragments: str) -> None:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("cnn")
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0]


@dataclass
class CliRun:
    code: int
    out: str
    err: str
    saved: Path


@pytest.fixture(scope="module")
def trained_by_cli(tiny_npz, tmp_path_factory) -> CliRun:
    """`cnn train ... --save PATH --json`, run once for the module."""
    path = tmp_path_factory.mktemp("cli") / "tiny.keras"
    out, err = io.StringIO(), io.StringIO()  # capsys is per test, so capture by hand here
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["train", "--dataset", f"npz:{tiny_npz}", *TINY_ARGS, "--save", str(path), "--json"])
    return CliRun(code, out.getvalue(), err.getvalue(), path)


def test_train_json_prints_metrics_and_saves_the_model(trained_by_cli):
    trained = trained_by_cli
    assert trained.code == 0
    result = json.loads(trained.out)  # stdout holds the JSON alone; progress went to stderr
    assert 0 <= result["test_accuracy"] <= 1
    assert result["config"]["conv_filters"] == [4, 8] and result["config"]["epochs"] == 1
    assert result["n_train"] == 270 and result["n_val"] == 30 and result["saved"] == str(trained.saved)
    assert trained.saved.is_file()
    assert "val_accuracy" in trained.err  # the progress, kept off stdout
    assert result["steady_epoch_s"] is None  # one epoch: no steady epoch was timed (the table's n/a)


def test_progress_into_a_log_is_plain_lines_and_quiet_has_none(capsys, tiny_npz):
    # capsys is not a terminal, as a redirected `cnn train > log` is: no progress-bar redraws.
    code, out, _ = run(capsys, "train", "--dataset", f"npz:{tiny_npz}", *TINY_ARGS[:-2], "--epochs", "2")
    assert code == 0
    assert "\x1b" not in out and "\b" not in out and "\r" not in out
    assert re.search(r"^Epoch 2/2$", out, re.M) and re.search(r"^\d+/\d+ - .*val_accuracy: ", out, re.M), out
    code, out, err = run(capsys, "train", "--dataset", f"npz:{tiny_npz}", *TINY_ARGS, "--quiet")
    assert code == 0
    assert "Epoch" not in out + err and "steady epoch: n/a" in out


def test_train_prints_a_readable_table(capsys, tiny_npz):
    code, out, _ = run(capsys, "train", "--dataset", f"npz:{tiny_npz}", *TINY_ARGS, "--learning-rate", "default")
    assert code == 0
    assert "conv_filters=4-8,dense_units=16,epochs=1" in out
    assert "test accuracy" in out and "270 train / 30 validation / 200 test" in out


def test_train_an_mlp(capsys, tiny_npz):
    code, out, _ = run(
        capsys, "train", "--preset", "seed-mlp", "--dataset", f"npz:{tiny_npz}", "--epochs", "1", "--json"
    )
    assert code == 0
    result = json.loads(out)
    assert result["config"]["conv_filters"] == [] and result["config"]["dense_units"] == [128]


def test_evaluate_a_saved_model(capsys, trained_by_cli, tiny_npz):
    code, out, _ = run(capsys, "evaluate", trained_by_cli.saved, "--dataset", f"npz:{tiny_npz}", "--json")
    assert code == 0
    scores = json.loads(out)
    trained = json.loads(trained_by_cli.out)
    assert scores["test_accuracy"] == pytest.approx(trained["test_accuracy"])
    assert scores["train_accuracy"] == pytest.approx(trained["train_accuracy"])


def test_evaluate_prints_a_table(capsys, trained_by_cli, tiny_npz):
    code, out, _ = run(capsys, "evaluate", trained_by_cli.saved, "--dataset", f"npz:{tiny_npz}")
    assert code == 0 and "test accuracy" in out and "300 train / 200 test" in out


def test_predict_reads_the_photo(capsys, trained_path, photo_digit):
    path, label = photo_digit
    code, out, _ = run(capsys, "predict", trained_path, path, "--json")
    assert code == 0
    [row] = json.loads(out)
    assert row["label"] == label and row["image"] == str(path)
    assert sum(row["probabilities"]) == pytest.approx(1.0, abs=1e-4)


def test_predict_prints_label_and_runner_up(capsys, trained_path, photo_digit):
    path, label = photo_digit
    code, out, _ = run(capsys, "predict", trained_path, path, path)
    assert code == 0
    lines = out.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith(f"{path}: {label}  (p=") and "next:" in lines[0]


def test_summary_shows_the_seed_cnn(capsys):
    code, out, _ = run(capsys, "summary", "seed-cnn")
    assert code == 0
    assert "2,990,754" in out  # total parameters
    assert "FLOPs per sample: 11.37 M forward" in out


def test_datasets_lists_every_spec(capsys):
    code, out, _ = run(capsys, "datasets")
    assert code == 0
    for spec in ("mnist-5k", "mnist", "fashion-mnist", "npz:PATH"):
        assert spec in out
    assert "(default)" in out


@pytest.mark.parametrize(
    "argv, fragments",
    [
        (["train", "--dataset", "cifar-10"], ["unknown dataset 'cifar-10'", "mnist-5k"]),
        (["train", "--dataset", "npz:/nowhere/data.npz"], ["file not found"]),
        (["train", "--dropout", "1.5"], ["dropout=1.5"]),
        (["train", "--epochs", "ten"], ["--epochs", "'ten'"]),
        (["train", "--conv-filters", "32,x"], ["comma-separated list of integers"]),
        (["train", "--activation", "swish"], ["activation='swish'", "relu"]),
        (["train", "--preset", "seed-rnn"], ["seed-rnn"]),
        (["train", "--save", "model.pkl"], ["must end in .keras"]),
        (["summary", "seed-cnn", "--input-shape", "28,28"], ["input shape (28, 28)"]),
        (["summary", "seed-cnn", "--input-shape", "4,4,1"], ["kernel_size=3 does not fit"]),
        (["evaluate", "/nowhere/model.keras"], ["not found"]),
        (["frobnicate"], ["invalid choice"]),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, argv, fragments):
    code, _, err = run(capsys, *argv)
    assert_one_line_error(code, err, *fragments)


def test_evaluate_on_data_of_another_shape(capsys, trained_by_cli, tmp_path):
    path = tmp_path / "big.npz"
    x, y = np.zeros((10, 32, 32), np.uint8), np.arange(10)
    np.savez(path, x_train=x, y_train=y, x_test=x, y_test=y)
    code, _, err = run(capsys, "evaluate", trained_by_cli.saved, "--dataset", f"npz:{path}")
    assert_one_line_error(code, err, "(28, 28, 1)", "(32, 32, 1)")


def test_predict_bad_image(capsys, trained_path, tmp_path):
    notes = tmp_path / "notes.png"
    notes.write_text("not a picture")
    code, _, err = run(capsys, "predict", trained_path, notes)
    assert_one_line_error(code, err, "notes.png", "not an image")


def test_predict_with_a_corrupt_model(capsys, photo_digit, tmp_path):
    model = tmp_path / "model.keras"
    model.write_bytes(b"\x00" * 100)
    code, _, err = run(capsys, "predict", model, photo_digit[0])
    assert_one_line_error(code, err, "model.keras", "corrupt")


# --- as a user runs it: a fresh process (slow: TensorFlow starts each time) --------------------


def cnn_command() -> list[str]:
    script = Path(sys.executable).with_name("cnn")
    return [str(script)] if script.exists() else [sys.executable, "-m", "cnn"]


NO_TENSORFLOW = [["--help"], ["train", "--help"], ["train", "--epochs", "two"], ["trian"], ["datasets"],
                 ["report", "no-such-results"]]


def test_help_errors_datasets_and_report_start_no_tensorflow(tmp_path):
    # TensorFlow's import is ~7 s: a command that builds no model must not pay it (a fresh process,
    # since this one has TensorFlow already).
    script = (
        "import sys\nfrom cnn.cli import main\n"
        "for argv in %r:\n"
        "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
        "    assert 'tensorflow' not in sys.modules, argv\n"
        "print('no tensorflow')\n" % NO_TENSORFLOW
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("no tensorflow")


def test_fresh_process_reloads_a_custom_activation_model(tiny_npz, tmp_path, capsys):
    # Saved here, loaded by a new process: only the registration on import can find scaled_tanh.
    path = tmp_path / "scaled.keras"
    code, _, _ = run(capsys, "train", "--dataset", f"npz:{tiny_npz}", *TINY_ARGS, "--activation", "scaled_tanh",
                     "--save", path, "--json")
    assert code == 0
    done = subprocess.run([*cnn_command(), "evaluate", str(path), "--dataset", f"npz:{tiny_npz}", "--json"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert 0 <= json.loads(done.stdout)["test_accuracy"] <= 1


def test_fresh_process_error_is_one_clean_line(tmp_path):
    # TensorFlow's native start-up log must not reach the user's terminal around the error.
    done = subprocess.run([*cnn_command(), "evaluate", str(tmp_path / "missing.keras")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stdout == ""
    assert_one_line_error(done.returncode, done.stderr, "missing.keras", "not found")


def test_threads_are_set_before_tensorflow_starts(tiny_npz):
    # A fresh process: TensorFlow's thread pools can only be sized before its runtime starts.
    done = subprocess.run(
        [*cnn_command(), "train", *TINY_ARGS, "--dataset", f"npz:{tiny_npz}", "--threads", "1", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["machine"]["threads"] == "1"


@pytest.mark.parametrize("value", ["0", "-2", "two"])
def test_bad_thread_counts_are_one_line_errors(capsys, value):
    code, _, err = run(capsys, "train", "--threads", value)
    assert_one_line_error(code, err, "--threads", "expected an integer >= 1")


def test_changing_threads_after_tensorflow_started_is_a_clear_error(tiny, tiny_config):
    from cnn.errors import CnnError
    from cnn.runtime import set_threads
    from cnn.train import train

    train(tiny_config, tiny)  # the runtime is up now
    with pytest.raises(CnnError, match="cannot use 7 threads: TensorFlow has already started"):
        set_threads(7)


@pytest.mark.parametrize("text, expected", [("true", True), ("False", False), ("yes", True), ("0", False)])
def test_boolean_fields_take_true_or_false(text, expected):
    from cnn.cli import build_parser

    args = build_parser().parse_args(["train", "--jit-compile", text])
    assert args.field_jit_compile is expected


def test_a_bad_boolean_is_a_one_line_error(capsys):
    code, _, err = run(capsys, "train", "--jit-compile", "maybe")
    assert_one_line_error(code, err, "--jit-compile", "expected true or false, got 'maybe'")


# --- options are spelt out: no prefix is taken for another option ------------------------------


def all_parsers():
    from cnn.cli import build_parser

    parser = build_parser()
    return [parser, *parser.commands.choices.values()]


def test_no_parser_takes_abbreviations():
    for parser in all_parsers():
        assert parser.allow_abbrev is False, parser.prog


def test_lr_is_the_learning_rate_not_a_prefix_of_lr_scaling():
    from cnn.cli import build_parser

    args = build_parser().parse_args(["train", "--lr", "0.1"])
    assert args.field_learning_rate == 0.1 and args.field_lr_scaling is None


@pytest.mark.parametrize("argv, fragments", [
    (["train", "--epoch", "2"], ["--epoch", "did you mean --epochs?", "cnn train --help"]),
    (["train", "--lr-scale", "sqrt"], ["--lr-scale", "did you mean --lr-scaling?"]),
    (["train", "--drop=0.5"], ["--drop=0.5", "did you mean --dropout?"]),
    (["evaluate", "m.keras", "--data", "mnist"], ["--data", "did you mean --dataset?"]),
])
def test_an_abbreviated_option_is_refused_naming_the_full_one(capsys, argv, fragments):
    code, out, err = run(capsys, *argv)
    assert_one_line_error(code, err, *fragments)


# --- help: every named field lists its allowed values -------------------------------------------


def allowed_names() -> dict:
    from cnn.activations import ACTIVATIONS
    from cnn.config import INITIALIZERS, LR_SCALINGS, PADDINGS, PIPELINES, POOL_TYPES, PRECISIONS
    from cnn.optimizers import OPTIMIZERS
    from cnn.parts import MODELS

    return {
        "model": MODELS.names(),
        "activation": ACTIVATIONS.names(),
        "initializer": INITIALIZERS,
        "pool_type": POOL_TYPES,
        "pool_padding": PADDINGS,
        "conv_padding": PADDINGS,
        "optimizer": OPTIMIZERS.names(),
        "precision": PRECISIONS,
        "pipeline": PIPELINES,
        "lr_scaling": LR_SCALINGS,
    }


def help_of(capsys, *argv: str) -> dict[str, str]:
    """`cnn ARGV --help` as {option or positional: its whole entry, whitespace collapsed}."""
    code, out, _ = run(capsys, *argv, "--help")
    assert code == 0
    entries: list[list[str]] = []
    for line in out.splitlines():
        if line.startswith("  ") and not line.startswith("   "):  # argparse starts each entry at column 2
            entries.append([])
        if entries and line.strip():
            entries[-1].append(line.strip())
    return {entry[0].split()[0].rstrip(","): " ".join(entry) for entry in entries}


def test_train_help_lists_the_allowed_values_of_every_named_field(capsys):
    import dataclasses
    import typing

    from cnn.config import Config

    hints = typing.get_type_hints(Config)
    named = {f.name for f in dataclasses.fields(Config) if hints[f.name] is str}
    allowed = allowed_names()
    assert named == set(allowed), "a new named field: add its allowed values here and to `cnn train --help`"
    entries = help_of(capsys, "train")
    for field, names in allowed.items():
        entry = entries[f"--{field.replace('_', '-')}"]
        for name in names:
            assert name in entry, (field, name, entry)
            Config(**{field: name})  # each value listed is one the config accepts


def test_learning_rate_help_shows_its_alias(capsys):
    code, out, _ = run(capsys, "train", "--help")
    assert "--learning-rate FLOAT|default, --lr FLOAT|default" in out or "--learning-rate, --lr" in out


def test_predict_help_explains_model_and_image(capsys):
    entries = help_of(capsys, "predict")
    assert ".keras" in entries["MODEL"] and "cnn train --save" in entries["MODEL"]
    assert "PNG" in entries["IMAGE"] and "JPEG" in entries["IMAGE"]


def test_a_bare_npz_path_suggests_the_prefix(capsys, tiny_npz):
    code, _, err = run(capsys, "train", "--dataset", tiny_npz)
    assert_one_line_error(code, err, f"unknown dataset '{tiny_npz}'", f"npz:{tiny_npz}")


# --- data that does not fit: said in one line, from the library ---------------------------------


def test_train_warns_about_test_classes_the_training_set_never_has(capsys, tiny, tmp_path):
    # Labels 5-14 in train and 0-9 in test: the model gets 15 outputs and cannot learn 0-4.
    path = tmp_path / "shifted.npz"
    np.savez(path, x_train=tiny.x_train[:100, ..., 0], y_train=tiny.y_train[:100] + 5,
             x_test=tiny.x_test[:50, ..., 0], y_test=tiny.y_test[:50])
    code, out, err = run(capsys, "train", "--dataset", f"npz:{path}", *TINY_ARGS)
    assert code == 0
    warnings = [line for line in err.splitlines() if "warning" in line]
    assert len(warnings) == 1, err
    assert warnings[0].startswith("cnn: warning: ") and "classes 0, 1, 2, 3, 4" in warnings[0]


@pytest.fixture(scope="module")
def other_npz(tiny, tmp_path_factory):
    """Images of the same shape and classes as tiny_npz, but other data (the negatives)."""
    path = tmp_path_factory.mktemp("other") / "negative.npz"
    np.savez(path, x_train=np.uint8(255 - np.round(tiny.x_train[..., 0] * 255)), y_train=tiny.y_train,
             x_test=np.uint8(255 - np.round(tiny.x_test[..., 0] * 255)), y_test=tiny.y_test)
    return path


def test_evaluate_on_another_dataset_says_what_the_model_was_trained_on(capsys, trained_by_cli, tiny_npz, other_npz):
    code, out, err = run(capsys, "evaluate", trained_by_cli.saved, "--dataset", f"npz:{other_npz}")
    assert code == 0
    [warning] = [line for line in err.splitlines() if line.strip()]
    assert warning.startswith("cnn: warning: ")
    assert f"trained on npz:{tiny_npz}" in warning and f"npz:{other_npz}" in warning
    assert f"trained on: npz:{tiny_npz}" in out


def test_evaluate_json_on_another_dataset_names_both(capsys, trained_by_cli, tiny_npz, other_npz):
    code, out, _ = run(capsys, "evaluate", trained_by_cli.saved, "--dataset", f"npz:{other_npz}", "--json")
    scores = json.loads(out)
    assert scores["trained_on"] == f"npz:{tiny_npz}" and scores["dataset"] == f"npz:{other_npz}"
    assert scores["same_dataset"] is False


def test_evaluate_on_its_own_dataset_gives_no_warning(capsys, trained_by_cli, tiny_npz):
    code, out, err = run(capsys, "evaluate", trained_by_cli.saved, "--dataset", f"npz:{tiny_npz}")
    assert code == 0 and err.strip() == ""


def test_evaluate_a_model_saved_without_metadata(capsys, trained_path):
    # Models saved before the dataset was recorded: evaluated as before, nothing claimed.
    code, out, err = run(capsys, "evaluate", trained_path, "--dataset", "mnist-5k")
    assert code == 0 and err.strip() == ""
    assert "trained on: unknown" in out


# --- what the tables print ----------------------------------------------------------------------


def test_one_epoch_has_no_steady_epoch(capsys, tiny_npz):
    code, out, _ = run(capsys, "train", "--dataset", f"npz:{tiny_npz}", *TINY_ARGS)
    assert code == 0
    assert "steady epoch: n/a (one epoch)" in out


def test_evaluate_prints_the_gaps_as_train_does(capsys, trained_by_cli, tiny_npz):
    code, out, _ = run(capsys, "evaluate", trained_by_cli.saved, "--dataset", f"npz:{tiny_npz}")
    assert re.search(r"accuracy gap: [+-]\d\.\d{4}  \(train - test\)", out), out
    assert re.search(r"loss gap: [+-]\d\.\d{4}  \(test - train\)", out), out


# --- a Config subclass: its own fields are flags ------------------------------------------------


@dataclass(frozen=True)
class WideConfig(Config):
    """A user's model config, as examples/own-model's SeparableConfig."""

    model: str = "wide-cli-test"
    width: float = 1.0  # multiplies the hidden layer
    epochs: int = 1


def build_wide(config, input_shape, num_classes):
    import keras

    return keras.Sequential([keras.Input(input_shape), keras.layers.Flatten(),
                             keras.layers.Dense(max(1, round(8 * config.width)), activation="relu"),
                             keras.layers.Dense(num_classes, name="logits")])


@pytest.fixture(scope="module")
def wide_model():
    from cnn.config import PRESETS
    from cnn.parts import MODELS, register_model

    if "wide-cli-test" not in MODELS:
        register_model("wide-cli-test", config=WideConfig)(build_wide)
        PRESETS.add("wide-cli-preset", WideConfig(width=3.0))
    return WideConfig


def test_a_models_own_config_fields_are_train_flags(wide_model):
    from cnn.cli import base_config, build_parser

    argv = ["train", "--model", "wide-cli-test", "--width", "0.5"]
    args = build_parser(argv).parse_args(argv)
    assert args.field_width == 0.5
    assert base_config(None, "wide-cli-test") == WideConfig()
    # A preset's recipe on the model: the fields they share come from the preset.
    assert base_config("speedrun-cnn", "wide-cli-test").batch_size == 128
    assert type(base_config("speedrun-cnn", "wide-cli-test")) is WideConfig
    # Without the model, the seed CNN's flags: no --width.
    with pytest.raises(SystemExit):
        build_parser(["train"]).parse_args(["train", "--width", "2"])


def test_a_preset_of_a_subclass_brings_its_fields_as_flags(wide_model):
    from cnn.cli import build_parser

    argv = ["train", "--preset", "wide-cli-preset", "--width", "2"]
    assert build_parser(argv).parse_args(argv).field_width == 2.0


def test_train_a_subclass_from_the_command_line(capsys, wide_model, tiny_npz):
    code, out, err = run(
        capsys, "train", "--model", "wide-cli-test", "--width", "0.5", "--dataset", f"npz:{tiny_npz}", "--json"
    )
    assert code == 0, err
    result = json.loads(out)
    assert result["config"]["width"] == 0.5 and result["config"]["model"] == "wide-cli-test"
    assert result["params"] == 28 * 28 * 4 + 4 + 4 * 10 + 10  # Dense(round(8 * 0.5)) then the logits


# --- --import: a user's own module registers models, datasets and presets ----------------------

OWN_MODULE = '''
from dataclasses import dataclass

import keras

from cnn import Config, register_model


@dataclass(frozen=True)
class NarrowConfig(Config):
    model: str = "narrow-import-test"
    width: float = 1.0
    epochs: int = 1


@register_model("narrow-import-test", config=NarrowConfig)
def build(config, input_shape, num_classes):
    return keras.Sequential([keras.Input(input_shape), keras.layers.Flatten(),
                             keras.layers.Dense(max(1, round(4 * config.width))),
                             keras.layers.Dense(num_classes)])
'''


def test_import_a_module_that_registers_a_model_then_train_it(capsys, tiny_npz, tmp_path, monkeypatch):
    # `cnn train --model` listed only the models the package registers: the user's could not be named.
    (tmp_path / "narrow_import_test.py").write_text(OWN_MODULE)
    monkeypatch.chdir(tmp_path)  # found from the current folder by its dotted name, as `python -m` would
    monkeypatch.setattr(sys, "path", list(sys.path))
    argv = ["train", "--import", "narrow_import_test", "--model", "narrow-import-test", "--width", "2",
            "--dataset", f"npz:{tiny_npz}", "--json", "--quiet"]
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    result = json.loads(out)
    assert result["config"]["width"] == 2.0 and result["params"] == 28 * 28 * 8 + 8 + 8 * 10 + 10
    # A .py path names the same module: imported once, registered once.
    assert run(capsys, "train", "--import", str(tmp_path / "narrow_import_test.py"), "--help")[0] == 0


@pytest.mark.parametrize("make, fragments", [
    (lambda folder: "no_such_module_here", ["--import no_such_module_here: no module named 'no_such_module_here'"]),
    (lambda folder: str(folder / "missing.py"), ["missing.py: no such file"]),
    (lambda folder: (folder / "needs.py").write_text("import not_installed_xyz\n") and str(folder / "needs.py"),
     ["it imports 'not_installed_xyz', which is not installed"]),
    (lambda folder: (folder / "broken.py").write_text("1 / 0\n") and str(folder / "broken.py"),
     ["broken.py failed: ZeroDivisionError: division by zero"]),
])
def test_a_module_that_cannot_be_imported_is_one_line(capsys, tmp_path, monkeypatch, make, fragments):
    monkeypatch.setattr(sys, "path", list(sys.path))
    code, _, err = run(capsys, "train", "--import", make(tmp_path), "--epochs", "1")
    assert_one_line_error(code, err, *fragments)
