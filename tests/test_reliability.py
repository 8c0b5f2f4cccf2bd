"""Reliability: a suite interrupted (Ctrl-C or killed) resumes where it stopped with the same
numbers; runs are reproducible across processes; a diverging variant fails by name and the grid
goes on; bad options are usage errors; memory stays flat over many runs; colour data trains.

The interrupt test runs the real ablation suite (`pytest ablations/`) in subprocesses on the tiny
300-digit set, so it costs tens of seconds: it is the expensive test of the unit suite.
"""

from __future__ import annotations

import dataclasses
import functools
import gc
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cnn.cli import main as cnn_main
from cnn.train import train

ROOT = Path(__file__).resolve().parents[1]
DROPOUT_VARIANTS = ["0", "0.2", "0.5"]
METRICS = ["test_accuracy", "train_accuracy", "test_loss", "train_loss"]


# --- the ablation suite in a subprocess ---------------------------------------------------------


def suite_command(npz: Path, results: Path, *extra: str) -> list[str]:
    """The dropout axis (3 variants, seed CNN, 2 epochs, 1 seed) on the tiny set."""
    return [sys.executable, "-m", "pytest", "ablations/", "-k", "test_dropout and not effects",
            "--ablation-dataset", f"npz:{npz}", "--ablation-results", str(results),
            "--benchmark-disable", "-p", "no:cacheprovider", "-q", *extra]


def suite_env() -> dict[str, str]:
    """This environment less what the outer pytest (or a user's shell) would pass on to the inner one."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    return env


def start_suite(npz: Path, results: Path, *extra: str, gate: Path | None = None) -> subprocess.Popen:
    """The suite in a subprocess; with `gate`, it stops after each test until released (see suite_gate)."""
    env = suite_env()
    if gate is not None:
        gate.mkdir(parents=True, exist_ok=True)
        env["CNN_TEST_GATE"] = str(gate)
        extra = ("-p", "tests.suite_gate", *extra)
    return subprocess.Popen(suite_command(npz, results, *extra), cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def run_suite(npz: Path, results: Path, *extra: str) -> str:
    process = start_suite(npz, results, *extra)
    out, _ = process.communicate(timeout=300)
    assert process.returncode == 0, out
    return out


def cache_entries(results: Path) -> list[Path]:
    return sorted((results / "cache").glob("*.json"))


def hold_after_entries(process: subprocess.Popen, results: Path, gate: Path, count: int, timeout: float = 180) -> None:
    """Let the gated suite run test by test until `count` runs are cached; it returns with the suite
    held between two tests (not racing towards the next), so a signal sent now lands there."""
    deadline = time.monotonic() + timeout
    finished = 0
    while True:
        done = gate / f"done-{finished + 1}"
        while not done.exists():
            if process.poll() is not None:
                pytest.fail(
                    f"the suite ended (exit {process.returncode}) before {count} cache entries:\n"
                    f"{process.stdout.read()}"
                )
            if time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"no {count} cache entries after {timeout} s")
            time.sleep(0.02)
        finished += 1
        if len(cache_entries(results)) >= count:
            return
        (gate / f"go-{finished}").write_text("")


def interrupt(process: subprocess.Popen, sig: int) -> tuple[int, str]:
    process.send_signal(sig)
    out, _ = process.communicate(timeout=120)
    return process.returncode, out


def finished_variants(results: Path) -> set[str]:
    """The dropout variants whose cache entry is complete: parsed strictly (not read_json's None)."""
    variants = set()
    for path in cache_entries(results):
        record = json.loads(path.read_text())  # a torn file would raise here
        assert record["run_key"] == path.stem and record["status"] == "ok"
        assert 0 <= record["test_accuracy"] <= 1 and len(record["history"]["loss"]) == 2
        variants.add(format(record["config"]["dropout"], "g"))
    return variants


def runs_table(results: Path) -> pd.DataFrame:
    [path] = results.glob("smoke-npz_*/runs.csv")  # SuiteOptions.output_dir: <profile>-<dataset spec>
    return pd.read_csv(path, dtype={"variant": str, "parallel": str}, keep_default_na=False).set_index("variant")


def temp_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.name.endswith(".tmp"))


class SuiteRun:
    """A suite run in the background: started now, its runs.csv read when first asked for."""

    def __init__(self, npz: Path, results: Path, *extra: str):
        self.results = results
        self.process = start_suite(npz, results, *extra)

    @functools.cached_property
    def table(self) -> pd.DataFrame:
        out, _ = self.process.communicate(timeout=300)
        assert self.process.returncode == 0, out
        return runs_table(self.results)


@pytest.fixture(scope="module")
def reference(tiny_npz, tmp_path_factory):
    """The dropout axis run once, uninterrupted, into its own results folder (in the background, so
    it overlaps the interrupted runs)."""
    run = SuiteRun(tiny_npz, tmp_path_factory.mktemp("uninterrupted"))
    yield run
    if run.process.poll() is None:
        run.process.kill()
        run.process.communicate()


def test_killed_then_interrupted_suite_resumes_with_the_same_numbers(tiny_npz, tmp_path, reference):
    results = tmp_path / "results"

    # 1. Killed outright (SIGKILL: nothing runs at exit) once the first variant is cached.
    killed = start_suite(tiny_npz, results, gate=tmp_path / "gate-kill")
    hold_after_entries(killed, results, tmp_path / "gate-kill", 1)
    code, _ = interrupt(killed, signal.SIGKILL)
    assert code == -signal.SIGKILL
    after_kill = finished_variants(results)  # every entry whole
    assert after_kill and after_kill < set(DROPOUT_VARIANTS)

    # 2. Rerun: it takes what the killed run finished from the cache. Ctrl-C (SIGINT) it as soon
    #    as it has trained one more variant.
    interrupted = start_suite(tiny_npz, results, gate=tmp_path / "gate-interrupt")
    hold_after_entries(interrupted, results, tmp_path / "gate-interrupt", len(after_kill) + 1)
    code, out = interrupt(interrupted, signal.SIGINT)
    table = runs_table(results)  # written at the end of the session, interrupted or not
    trained = set(table.index) - after_kill
    assert set(table.index) >= after_kill and trained
    assert {v for v in table.index if str(table.loc[v, "cached"]) == "True"} == after_kill
    for metric in METRICS:
        assert table[metric].to_dict() == reference.table.loc[table.index, metric].to_dict(), metric
    assert temp_files(results) == [], "Ctrl-C left a temp file"
    # Python can drop a KeyboardInterrupt raised inside a weakref callback; cnn.runtime re-raises it.
    assert code == pytest.ExitCode.INTERRUPTED, out
    assert "KeyboardInterrupt" in out
    before_resume = finished_variants(results)
    assert before_resume == after_kill | trained and before_resume < set(DROPOUT_VARIANTS)

    # 3. Rerun to the end: it trains only what is missing, and gets the uninterrupted numbers.
    run_suite(tiny_npz, results)
    table = runs_table(results)
    assert list(table.index) == DROPOUT_VARIANTS
    assert {v for v in DROPOUT_VARIANTS if str(table.loc[v, "cached"]) == "True"} == before_resume
    assert finished_variants(results) == set(DROPOUT_VARIANTS)
    assert temp_files(results) == []
    for metric in METRICS:
        assert table[metric].tolist() == reference.table[metric].tolist(), metric


def test_reference_run_learns(reference):
    table = reference.table
    assert list(table.index) == DROPOUT_VARIANTS
    assert (table["cached"].astype(str) == "False").all() and (table["status"] == "ok").all()
    # The committed baseline does not apply to this data (another fingerprint): 'learned' guards it.
    assert (table["test_accuracy"] > 0.3).all(), table["test_accuracy"]


def test_a_warm_cache_still_saves_a_benchmark_run_marked_cached(tiny_npz, tmp_path, reference):
    reference.table  # noqa: B018  (its run has cached every variant in its results folder)
    storage = tmp_path / "benchmarks"
    command = [c for c in suite_command(tiny_npz, reference.results) if c != "--benchmark-disable"]
    out = subprocess.run([*command, "--benchmark-save=warm", f"--benchmark-storage={storage}"], cwd=ROOT,
                         env=suite_env(), capture_output=True, text=True, timeout=300).stdout
    [saved] = storage.rglob("*_warm.json")
    benchmarks = json.loads(saved.read_text())["benchmarks"]
    assert sorted(b["extra_info"]["variant"] for b in benchmarks) == sorted(DROPOUT_VARIANTS), out
    cache = {
        json.loads(p.read_text())["config"]["dropout"]: json.loads(p.read_text())
        for p in cache_entries(reference.results)
    }
    for bench in benchmarks:
        assert bench["extra_info"]["cached"] is True and bench["extra_info"]["cached_seeds"] == [0]
        assert "cached" in bench["group"]
        # The recorded training time of the run that trained it, not a cache lookup's milliseconds.
        recorded = cache[float(bench["extra_info"]["variant"])]["train_s"]
        assert bench["stats"]["min"] == pytest.approx(recorded) and recorded > 0.5
    # The terminal tables say where the rows came from.
    assert "cached: times recorded when trained" in out
    rows = [line for line in out.splitlines() if line.strip().startswith(("0 ", "0.2 ", "0.5 "))]
    assert len(rows) == 3 and all(line.rstrip().endswith("cache") for line in rows), out


@pytest.mark.skipif(not os.environ.get("CNN_SLOW_TESTS"), reason="about 50 s on 2 cores: set CNN_SLOW_TESTS=1")
def test_xdist_workers_give_the_serial_numbers(tiny_npz, tmp_path, reference):
    results = tmp_path / "results"
    run_suite(tiny_npz, results, "-n", "2")
    table = runs_table(results)
    assert list(table.index) == DROPOUT_VARIANTS
    serial = reference.table
    assert set(table["parallel"]) <= {"gw0", "gw1"} and len(set(table["parallel"])) == 2
    assert (table["cached"].astype(str) == "False").all()
    # Each worker trains on 1 of the 2 cores; one thread instead of two sums in another order,
    # so a variant can differ by a training image or two: not bit for bit, but within a hair.
    for metric in ("test_accuracy", "train_accuracy"):
        np.testing.assert_allclose(table[metric], serial[metric], atol=0.01, err_msg=metric)


# --- reproducible across processes --------------------------------------------------------------

TRAIN_AND_PRINT = """
import json, sys
from cnn.config import Config
from cnn.data import load_dataset
from cnn.train import train
result = train(Config(conv_filters=(4, 8), dense_units=(16,), epochs=2, seed=3), load_dataset(sys.argv[1])).to_dict()
result["history"].pop("epoch_s")
keys = ("test_accuracy", "train_accuracy", "test_loss", "train_loss", "history", "status")
print(json.dumps({k: result[k] for k in keys}))
"""


def test_same_config_and_seed_give_identical_runs_in_separate_processes(tiny_npz):
    processes = [
        subprocess.Popen([sys.executable, "-c", TRAIN_AND_PRINT, f"npz:{tiny_npz}"], cwd=ROOT, env=suite_env(),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        outputs.append(json.loads(out.strip().splitlines()[-1]))
    first, second = outputs
    assert first["status"] == "ok" and len(first["history"]["loss"]) == 2
    assert first == second  # bit for bit: metrics and every epoch's loss and accuracy


# --- divergence in a grid -----------------------------------------------------------------------


@pytest.fixture
def unstable_axis(monkeypatch):
    """An axis with a variant that blows up (ReLU + SGD at lr 1e8: a true NaN) and one that does not."""
    from cnn.ablate import Axis, v

    small = {"conv_filters": (4, 8), "dense_units": (16,), "epochs": 2}
    return Axis("unstable", "does a blown-up variant stop the grid?",
                variants=[v("lr1e8", **small, optimizer="sgd", learning_rate=1e8), v("adam", **small)])


def test_a_diverging_variant_fails_by_name_and_the_grid_goes_on(unstable_axis, tiny_npz, tmp_path):
    from cnn.ablate import PROFILES
    from cnn.ablate.options import SuiteOptions
    from cnn.ablate.session import AblationSession

    options = SuiteOptions(profile=PROFILES.get("smoke"), dataset=f"npz:{tiny_npz}", seeds=1, devices=("cpu",),
                           results_dir=tmp_path, baseline_path=tmp_path / "baseline.json")
    session = AblationSession(options)

    rows, history = session.run(unstable_axis, "lr1e8", "cpu")
    [row] = rows
    assert row["status"] == "diverged" and row["diverged_epoch"] == 1
    assert history[0]["epoch"] == 1 and history[0]["loss"] is None  # NaN is null in the JSON cache
    problems = session.failures(unstable_axis, "lr1e8", "cpu", rows)
    assert len(problems) == 1
    assert problems[0].startswith("cpu/unstable[lr1e8] seed 0:") and "epoch 1" in problems[0]
    assert "unexpected divergence" in problems[0]

    # The next variant trains as if nothing happened, and the diverged run is cached as diverged.
    rows, _ = session.run(unstable_axis, "adam", "cpu")
    assert rows[0]["status"] == "ok" and session.failures(unstable_axis, "adam", "cpu", rows) == []
    again, _ = AblationSession(options).run(unstable_axis, "lr1e8", "cpu")  # the next session: from the cache
    assert again[0]["cached"] is True and again[0]["status"] == "diverged" and again[0]["diverged_epoch"] == 1


def test_failures_name_every_diverged_seed(unstable_axis, tiny_npz, tmp_path):
    from cnn.ablate import PROFILES
    from cnn.ablate.options import SuiteOptions
    from cnn.ablate.session import AblationSession

    session = AblationSession(SuiteOptions(profile=PROFILES.get("smoke"), dataset=f"npz:{tiny_npz}", seeds=3,
                                           devices=("cpu",), results_dir=tmp_path, baseline_path=tmp_path / "b.json"))
    rows = [{"seed": 0, "status": "ok", "diverged_epoch": None, "test_accuracy": 0.8},
            {"seed": 1, "status": "diverged", "diverged_epoch": 3, "test_accuracy": 0.1},
            {"seed": 2, "status": "diverged", "diverged_epoch": 1, "test_accuracy": None}]
    problems = session.failures(unstable_axis, "adam", "cpu", rows)
    assert problems == [
        "cpu/unstable[adam] seed 1: loss turned NaN/inf at epoch 3 (unexpected divergence)",
        "cpu/unstable[adam] seed 2: loss turned NaN/inf at epoch 1 (unexpected divergence)",
    ]


# --- bad options of the ablation suite ----------------------------------------------------------


def run_inner_pytest(capsys, *args: str) -> tuple[int, str]:
    """pytest on ablations/ in this process (TensorFlow is loaded already: no 5 s start-up)."""
    code = pytest.main([str(ROOT / "ablations"), "--rootdir", str(ROOT), "-p", "no:cacheprovider", "--co", "-q", *args])
    out, err = capsys.readouterr()
    return int(code), out + err


@pytest.mark.parametrize("args, fragments", [
    (["--ablation-profile", "nope"], ["--ablation-profile", "unknown profile 'nope'", "smoke, standard, full"]),
    (["--ablation-seeds", "0"], ["--ablation-seeds", "'0' is not a positive whole number"]),
    (["--ablation-seeds", "two"], ["--ablation-seeds", "'two'"]),
    (["--ablation-device", "tpu"], ["--ablation-device", "invalid choice: 'tpu'"]),
    (["--ablation-dataset", "mnist5k"], ["--ablation-dataset", "unknown dataset 'mnist5k'", "mnist-5k"]),
    (["--ablation-dataset", "npz:/nonexistent/x.npz"], ["--ablation-dataset", "file not found"]),
    (["--ablation-dataset", f"npz:{__file__}"], ["--ablation-dataset", "not a readable .npz file"]),
])
def test_bad_option_is_a_usage_error_naming_it(capsys, args, fragments):
    code, output = run_inner_pytest(capsys, *args)
    assert code == pytest.ExitCode.USAGE_ERROR == 4
    [line] = [line for line in output.splitlines() if "error:" in line.lower() and "usage:" not in line]
    for fragment in fragments:
        assert fragment in line
    assert "Traceback" not in output


@pytest.mark.parametrize("results", ["/dev/null/results", "/proc/ablation-results"], ids=["under-a-file", "proc"])
def test_unwritable_results_folder_is_one_clear_usage_error(capsys, results):
    code, output = run_inner_pytest(capsys, "--ablation-results", results)
    assert code == 4
    lines = [line for line in output.splitlines() if line.strip()]
    assert lines == [lines[0]] and lines[0].startswith(
        f"ERROR: --ablation-results {results} cannot be created or written to ("
    )
    assert lines[0].endswith("pass a folder you can write to")
    assert not Path(results).exists()


# --- memory over many runs ----------------------------------------------------------------------


def live(type_name: str) -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if type(o).__name__ == type_name)


def test_many_runs_in_one_process_keep_memory_flat(tiny, tiny_config):
    from cnn.ablate.engines.worker import memory_mb

    config = dataclasses.replace(tiny_config, batch_size=100)  # fewer steps: the graphs are what counts
    rss, graphs = [], []
    for _ in range(6):
        result = train(config, tiny)
        result.model = None  # as the suite does: only the numbers are kept
        del result
        graphs.append(live("FuncGraph"))
        rss.append(memory_mb()["rss_mb"])
    # The first run builds what every later run reuses; from the second on nothing may pile up.
    # (TensorFlow's registry of custom gradients kept every run's graph alive: ~8 MB a run here,
    # ~40 MB with the seed CNN, until cnn.train.forget_custom_gradients.)
    assert graphs[-1] <= graphs[1], f"traced graphs kept alive after each run: {graphs}"
    assert rss[-1] - rss[1] < 25, f"RSS grew run by run (MiB): {rss}"


# --- a user's colour images ----------------------------------------------------------------------


def test_cifar_like_colour_npz_trains_saves_and_predicts(tmp_path, capsys):
    import keras
    from PIL import Image

    rng = np.random.default_rng(0)
    labels = np.arange(60) % 10
    # Each class a colour, with noise: learnable, 32x32 RGB as CIFAR-10 stores it (uint8, N,H,W,C).
    palette = rng.integers(0, 256, (10, 3))
    images = np.clip(palette[labels][:, None, None, :] + rng.normal(0, 30, (60, 32, 32, 3)), 0, 255).astype(np.uint8)
    data = tmp_path / "colour.npz"
    np.savez(data, x_train=images[:40], y_train=labels[:40], x_test=images[40:], y_test=labels[40:])
    model_path = tmp_path / "colour.keras"

    code = cnn_main(["train", "--dataset", f"npz:{data}", "--conv-filters", "4,8", "--dense-units", "16",
                     "--epochs", "1", "--save", str(model_path), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    result = json.loads(out)
    assert result["n_train"] == 36 and result["n_val"] == 4 and result["status"] == "ok"  # 10% held out
    model = keras.models.load_model(model_path, compile=False)
    assert tuple(model.inputs[0].shape[1:]) == (32, 32, 3)
    assert model.outputs[0].shape[-1] == 10

    photo = tmp_path / "swatch.png"
    Image.fromarray(images[45]).resize((64, 64)).save(photo)
    code = cnn_main(["predict", str(model_path), str(photo), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    [row] = json.loads(out)
    assert len(row["probabilities"]) == 10 and sum(row["probabilities"]) == pytest.approx(1, abs=1e-4)
