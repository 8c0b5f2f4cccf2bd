"""The engines (cnn/ablate/engines): the ray engine on a real two-node Ray cluster on this machine
(ray.cluster_utils.Cluster, one CPU per node) survives a worker killed mid-run and gives the local
engine's numbers at the same thread count; a missing Ray and bad engine options are one-line
usage errors; the progress line.

The suite runs in subprocesses on a three-variant grid of a small CNN over the 300 tiny digits, in
a project of its own (the installed plugin, as a user's project gets it). The Ray tests skip where
Ray is not installed (pip install -e '.[ray]'); the cluster test takes about a minute on 2 cores.
"""

from __future__ import annotations

import importlib.util
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

from cnn.ablate.engines import Progress

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = ["relu", "tanh", "dropout"]
METRICS = ["test_accuracy", "train_accuracy", "test_loss", "train_loss", "accuracy_gap", "loss_gap"]
needs_ray = pytest.mark.skipif(importlib.util.find_spec("ray") is None,
                               reason="Ray is not installed: pip install -e '.[ray]' (CI installs the extra)")

AXIS_FILE = '''
"""Three variants of a small CNN, each learning in the smoke profile's two epochs on 300 digits."""

from cnn.ablate import Axis, v
from cnn.config import Config

AXIS = Axis("tinygrid", question=__doc__, base=Config(conv_filters=(8, 16), dense_units=(64,)),
            variants=[v("relu"), v("tanh", activation="tanh"), v("dropout", dropout=0.2)])
test_tinygrid, test_tinygrid_effects = AXIS.tests()
'''


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A user's project with one axis; the suite comes from the installed package."""
    folder = tmp_path_factory.mktemp("project")
    (folder / "pytest.ini").write_text("[pytest]\n")
    (folder / "test_tinygrid.py").write_text(AXIS_FILE)
    return folder


@pytest.fixture(scope="module")
def cluster():
    """Two Ray nodes of one CPU each on this machine: the smallest cluster where runs can land apart."""
    from ray.cluster_utils import Cluster

    small = {"num_cpus": 1, "object_store_memory": 100 * 2**20}  # the tiny set is 1 MB; Ray's default takes 30% of RAM
    cluster = Cluster(initialize_head=True, head_node_args={**small, "include_dashboard": False})
    cluster.add_node(**small)
    cluster.wait_for_nodes()
    yield cluster
    cluster.shutdown()


def suite(project: Path, npz: Path, results: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "pytest", str(project), "-k", "not effects", "--ablation-dataset", f"npz:{npz}",
            "--ablation-results", str(results), "-p", "no:cacheprovider", "-q", *extra]


def start(command: list[str], cwd: Path, **env: str) -> subprocess.Popen:
    # Without what the outer pytest (or a user's shell) would pass on to the inner one.
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    return subprocess.Popen(command, cwd=cwd, env={**environment, "TF_CPP_MIN_LOG_LEVEL": "2", **env},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(process: subprocess.Popen, timeout: float = 240) -> str:
    out, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, out
    return out


def runs_table(results: Path) -> pd.DataFrame:
    [path] = results.glob("smoke-npz_*/runs.csv")
    return pd.read_csv(path, dtype={"variant": str, "node": str}, keep_default_na=False).set_index("variant")


# --- the ray engine on a two-node cluster ----------------------------------------------------------


def training_workers() -> dict[int, str]:
    """pid -> title of this process' descendants that run a training task now (Ray titles a busy
    worker `ray::<task name>`; the cluster's processes are this test process' descendants)."""
    parents, titles = {}, {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                titles[int(entry.name)] = (
                    (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
                )
            except (OSError, IndexError, ValueError):
                continue

    def descends(pid: int) -> bool:
        while pid > 1:
            pid = parents.get(pid, 0)
            if pid == os.getpid():
                return True
        return False

    return {pid: title for pid, title in titles.items() if title.startswith("ray::train ") and descends(pid)}


def kill_a_training_worker(driver: subprocess.Popen, timeout: float = 180) -> str:
    """SIGKILL a worker one second into its training task; the task's title."""
    deadline = time.monotonic() + timeout
    while True:
        assert driver.poll() is None and time.monotonic() < deadline, "no training task was seen running"
        busy = training_workers()
        if busy:
            time.sleep(1)  # into the run (the task imports TensorFlow, then trains)
            for pid, title in training_workers().items():
                if busy.get(pid) == title:  # the same run, still going
                    os.kill(pid, signal.SIGKILL)
                    return title
        time.sleep(0.1)


# One test, not two, to keep the Ray tests within a minute: the run whose worker is killed is
# retried and must still give the local engine's numbers.
@needs_ray
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds Ray's workers through /proc (Linux)")
def test_a_two_node_cluster_survives_a_killed_worker_and_gives_the_local_engines_numbers(cluster, project, tiny_npz,
                                                                                        tmp_path):
    local = start(
        suite(project, tiny_npz, tmp_path / "local", "--ablation-cpus-per-run", "1", "--benchmark-disable"), project
    )
    storage = tmp_path / "benchmarks"
    remote = start(suite(project, tiny_npz, tmp_path / "ray", "--ablation-engine", "ray",
                         "--ablation-ray-address", cluster.address, "--benchmark-save=ray",
                         f"--benchmark-storage={storage}"), project)
    killed = kill_a_training_worker(remote)
    local_out, out = finish(local), finish(remote)
    on_ray, here = runs_table(tmp_path / "ray"), runs_table(tmp_path / "local")
    assert list(on_ray.index) == VARIANTS and list(here.index) == VARIANTS, killed
    assert set(on_ray["status"]) == {"ok"}
    # Runs trained on both nodes, on one thread each; the local engine on one thread here.
    assert on_ray["node"].nunique() == 2 and set(on_ray["parallel"]) == {"ray"}, on_ray["node"]
    assert (on_ray["threads"] == 1).all() and (here["threads"] == 1).all() and set(here["node"]) == {"local"}
    assert (on_ray["cpu_model"] != "").all() and (on_ray["host"] != "").all()
    # Same config, data, versions and threads: the same numbers, whichever engine and node, killed or not.
    for metric in METRICS:
        np.testing.assert_array_equal(on_ray[metric], here[metric], err_msg=metric)
    # -q: the plan's line before the row of dots (progress lines come only with -v), where they trained at the end
    assert "ablation (ray): 3 run(s) to train" in out and "ablation (ray): 3 runs trained on 2 node(s)" in out
    assert "ablation (local): 3 run(s) to train" in local_out
    # pytest-benchmark holds the times measured on the workers, marked remote.
    [saved] = storage.rglob("*_ray.json")
    benchmarks = json.loads(saved.read_text())["benchmarks"]
    assert sorted(b["extra_info"]["variant"] for b in benchmarks) == sorted(VARIANTS)
    for bench in benchmarks:
        info = bench["extra_info"]
        assert (
            info["remote"] is True
            and info["remote_seeds"] == [0]
            and info["nodes"] == [on_ray.loc[info["variant"], "node"]]
        )
        assert bench["stats"]["min"] == pytest.approx(on_ray.loc[info["variant"], "train_s"], rel=1e-5)


# --- usage errors ------------------------------------------------------------------------------


def test_the_ray_engine_without_ray_is_one_line_naming_the_extra(project, tmp_path):
    # `import ray` fails in the inner pytest as where Ray is not installed: a None in sys.modules.
    (tmp_path / "no_ray.py").write_text("import sys\n\nsys.modules['ray'] = None\n")
    process = start(
        [
            sys.executable,
            "-m",
            "pytest",
            str(project),
            "-p",
            "no_ray",
            "-p",
            "no:cacheprovider",
            "--co",
            "-q",
            "--ablation-engine",
            "ray",
        ],
        project,
        PYTHONPATH=str(tmp_path),
    )
    out, _ = process.communicate(timeout=120)
    assert process.returncode == pytest.ExitCode.USAGE_ERROR == 4, out
    lines = [line for line in out.splitlines() if line.strip()]
    assert lines == ["ERROR: --ablation-engine ray: Ray is not installed here; install it with "
                     "pip install -e '.[ray]' (on every node of the cluster too)"], out


def run_inner_pytest(capsys, *args: str) -> tuple[int, str]:
    """pytest on the ablations in this process (TensorFlow is loaded already: no 5 s start-up)."""
    code = pytest.main([str(ROOT / "ablations"), "--rootdir", str(ROOT), "-p", "no:cacheprovider", "--co", "-q", *args])
    out, err = capsys.readouterr()
    return int(code), out + err


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--ablation-cpus-per-run", "0"], "--ablation-cpus-per-run '0' is not a positive whole number of CPUs"),
        (["--ablation-cpus-per-run", "two"], "--ablation-cpus-per-run 'two'"),
        (
            ["--ablation-ray-address", "auto"],
            "--ablation-engine-address auto is for an engine with a cluster (ray), not local",
        ),
        (["--ablation-engine", "spark"], "--ablation-engine: unknown engine 'spark'; known: local, ray"),
        pytest.param(["--ablation-engine", "ray", "-n", "2"], "drop pytest-xdist's -n", marks=needs_ray),
    ],
)
def test_bad_engine_option_is_a_usage_error_naming_it(capsys, args, fragment):
    code, output = run_inner_pytest(capsys, *args)
    assert code == 4, output
    [line] = [line for line in output.splitlines() if "error:" in line.lower() and "usage:" not in line]
    assert fragment in line and "Traceback" not in output


# --- the progress line -------------------------------------------------------------------------


def test_progress_line_counts_runs_by_key_and_estimates_from_throughput(monkeypatch):
    clock = iter([0.0, 0.0, 40.0, 40.0])  # Progress starts and notes its last line, then due() and line() read it
    monkeypatch.setattr("cnn.ablate.engines.time.monotonic", lambda: next(clock))
    progress = Progress("ray", slots=2)
    for key in ("a", "b", "c", "d", "a"):  # two axes sharing a run count it once
        progress.expect(key)
    progress.finish("a")
    assert progress.due()  # the first finished run always prints
    assert progress.line() == "ablation (ray): 1/4 runs trained, 2 running, 0:40 elapsed, about 2:00 left"
