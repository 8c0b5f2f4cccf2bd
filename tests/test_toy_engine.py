"""Adding an engine is one file: a user's project registers a toy engine from its conftest and runs
a grid through `--ablation-engine toy`. The toy is a remote engine in miniature: each job crosses
to its "worker" as `Job.to_spec()` (plain JSON) and trains there through the same worker function
the Ray engine uses, so what the session sees is what a cluster gives: records stored once, times
measured where the runs trained, the engine's tag in runs.csv, nothing asked of its name."""

from __future__ import annotations

import json

import pandas as pd
import pytest

pytest_plugins = ["pytester"]

CONFTEST = '''
import json

from cnn.ablate import BaseEngine, register_engine
from cnn.ablate.engines.worker import expected_here, train_spec, travelling_arrays

STARTED = []


class ToyEngine(BaseEngine):
    name = "toy"
    trains_here = False  # its runs train "elsewhere": the session enters their recorded times

    def start(self, context):
        super().start(context)
        STARTED.append(1)
        self.arrays = travelling_arrays(context.dataset, self.settings.dataset_spec)
        self.expected = expected_here(context.dataset, context.versions)

    def submit(self, job):
        super().submit(job)  # trains when asked: a queue of one

    def result(self, job):
        if self.outcome(job.key) is None:
            spec = json.loads(json.dumps(job.to_spec()))  # what would travel to another machine
            self.finish(job, train_spec(spec, self.settings.dataset_spec, self.arrays, self.expected,
                                        threads=0, node="toy-node"))
        return self.outcome(job.key)


@register_engine("toy")
def make_toy(settings):
    return ToyEngine(settings)
'''

AXIS = '''
"""Two small CNNs"""

from cnn.ablate import Axis, v
from cnn.config import Config

AXIS = Axis("toygrid", question=__doc__, base=Config(conv_filters=(4, 8), dense_units=(16,)),
            variants=[v("relu"), v("tanh", activation="tanh")])
test_toygrid, test_toygrid_effects = AXIS.tests()
'''


def test_a_toy_engine_from_a_conftest_runs_the_grid(pytester, tiny_npz):
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_toygrid=AXIS)
    result = pytester.runpytest_subprocess(
        "--ablation-engine", "toy", "--ablation-dataset", f"npz:{tiny_npz}", "--ablation-profile", "smoke",
        "--ablation-results", str(pytester.path / "results"), "-p", "no:cacheprovider",
        "--benchmark-json", str(pytester.path / "bench.json"))
    result.assert_outcomes(passed=3)  # two variants and their (empty) effects test
    [path] = (pytester.path / "results").glob("smoke-npz_*/runs.csv")
    runs = pd.read_csv(path, dtype={"variant": str})
    assert list(runs["variant"]) == ["relu", "tanh"]
    assert (runs["node"] == "toy-node").all() and (runs["parallel"] == "toy").all()
    assert runs["test_accuracy"].between(0, 1).all() and not runs["cached"].any()
    # The benchmark holds the time each run measured where it trained, not the driver's waiting.
    benchmarks = {
        b["extra_info"]["variant"]: b for b in json.loads((pytester.path / "bench.json").read_text())["benchmarks"]
    }
    for _, run in runs.iterrows():
        assert benchmarks[run["variant"]]["stats"]["min"] == pytest.approx(run["train_s"], rel=1e-5)
        assert benchmarks[run["variant"]]["group"] == "toygrid (toy: times measured where they trained)"
