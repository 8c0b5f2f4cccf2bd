"""cnn.ablate.plugin as an installed plugin: any project gets the options, and a project without
axes pays nothing for it (no TensorFlow start-up, no results folder)."""

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]


def test_any_project_gets_the_ablation_options(pytester):
    result = pytester.runpytest_subprocess("--help")
    result.stdout.fnmatch_lines(
        ["*CNN ablation suite (cnn.ablate)*", "*--ablation-profile=NAME*", "*--ablation-tensorboard=DIR*"]
    )


def test_a_project_without_axes_starts_no_tensorflow_and_writes_nothing(pytester):
    pytester.makepyfile(test_plain="""
        import sys

        def test_plain():
            assert "tensorflow" not in sys.modules and "keras" not in sys.modules
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert not (pytester.path / "results").exists()


def test_a_bad_option_is_a_usage_error_in_any_project(pytester):
    result = pytester.runpytest_subprocess("--ablation-profile", "nope")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: --ablation-profile: unknown profile 'nope'; known: smoke, standard, full, pilot, study, study-60k"])


# --- a small grid run as a user runs it ----------------------------------------------------------
# One axis of three tiny CNNs on 300 digits, 2 epochs, 1 seed, in a project of its own that has no
# baseline: "narrow" and "wide" learn a little, "stuck" (learning rate 1e-9) cannot.

TOY_AXIS = '''
"""Three small CNNs"""

from cnn.ablate import Axis, Effect, v
from cnn.config import Config

AXIS = Axis("toy", question=__doc__, base=Config(conv_filters=(4, 8), dense_units=(16,)),
            variants=[v("narrow"), v("stuck", learning_rate=1e-9), v("wide", dense_units=(32,))],
            effects=[Effect("params", low="narrow", high="wide", claim="wide has more weights")])
test_toy, test_toy_effects = AXIS.tests()
'''


def run_toy(project, npz, results, *extra):
    import subprocess
    import sys

    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--benchmark-disable",
               f"--ablation-dataset=npz:{npz}", f"--ablation-results={results}", *extra]  # "=": no path among
    # pytest's args, which would move its rootdir to their common folder
    done = subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=600,
                          env={k: v for k, v in __import__("os").environ.items() if not k.startswith("PYTEST_")})
    return done.returncode, done.stdout + done.stderr


@pytest.fixture(scope="module")
def toy(tmp_path_factory, tiny_npz):
    """The grid run once with -q into a results folder outside the project: (project, results, output)."""
    project = tmp_path_factory.mktemp("project")
    (project / "test_toy.py").write_text(TOY_AXIS)
    (project / "pytest.ini").write_text("[pytest]\n")  # the project's root: its results/baseline.json is the baseline
    results = tmp_path_factory.mktemp("elsewhere") / "r"
    code, output = run_toy(project, tiny_npz, results, "-q")
    assert code == 1, output  # stuck fails
    return project, results, output


def test_no_cuda_probe_log_reaches_the_terminal(toy):
    assert "cuInit" not in toy[2] and "cuda_platform" not in toy[2]


def test_the_row_of_dots_is_not_broken_by_progress_lines(toy):
    lines = toy[2].splitlines()
    [row] = [line for line in lines if line.endswith("[100%]")]
    assert row.split()[0] == ".F.."  # every test's letter on one row
    assert "ablation (local): 3 run(s) to train; -v prints the progress and the time left" in lines
    assert not any("runs trained," in line for line in lines)


def test_with_v_progress_lines_come_between_tests(toy, tiny_npz):
    project, results, _ = toy
    code, output = run_toy(project, tiny_npz, results, "-v", "-k", "narrow or wide", "--ablation-retrain")
    lines = output.splitlines()
    passed = [i for i, line in enumerate(lines) if "::test_toy[" in line]
    assert [lines[i].split()[1] for i in passed] == ["PASSED", "PASSED"], output
    assert lines[passed[0] + 1].startswith("ablation (local): 1/2 runs trained"), output


def test_the_effect_verdicts_are_in_the_terminal_summary(toy):
    assert ("toy: shown: wide has more weights: +15,664 (exact: the same for every seed); params wide: 31,674 "
            "vs narrow: 16,010") in toy[2].splitlines()


def test_no_baseline_is_said_at_the_start_and_in_the_summary(toy):
    project, _, output = toy
    notice = (f"ablation: no baseline for profile smoke in {project / 'results' / 'baseline.json'}: accuracy is "
              "not guarded; run once with --ablation-update-baseline")
    lines = output.splitlines()
    [row] = [i for i, line in enumerate(lines) if line.endswith("[100%]")]
    assert lines.count(notice) == 2 and lines.index(notice) < row  # before the first test, and again at the end


def test_under_xdist_the_controller_says_the_workers_notices(toy, tiny_npz):
    project, results, _ = toy
    code, output = run_toy(project, tiny_npz, results, "-q", "-n", "1", "-k", "narrow")
    assert code == 0, output
    assert output.count("ablation: no baseline for profile smoke") == 2, output  # at its first result, at the end


def test_a_failed_variant_is_one_line_without_a_traceback(toy):
    output = toy[2]
    assert "cpu/toy[stuck] did not learn: test accuracy" in output
    assert "FAILED test_toy.py::test_toy[stuck] - Failed: cpu/toy[stuck] did not learn" in output
    assert "Traceback" not in output and "plugin.py" not in output and "runner.py" not in output


def test_the_baseline_is_the_projects_wherever_the_results_go(toy, tiny_npz):
    # The project's results/baseline.json knows "stuck" stays at chance at 2 epochs: that is the
    # finding, not a failure, also when the results go to another folder (the runs come from its cache).
    from cnn.data import load_dataset

    project, results, _ = toy
    baseline = {"smoke": {"dataset": "tiny", "dataset_fingerprint": load_dataset(f"npz:{tiny_npz}").fingerprint,
                          "variants": {"cpu/toy[stuck]": {"mean": 0.095, "std": None, "n": 1}}}}
    (project / "results").mkdir()
    (project / "results" / "baseline.json").write_text(__import__("json").dumps(baseline))
    code, output = run_toy(project, tiny_npz, results, "-q", "-k", "stuck")
    assert code == 0, output
    assert "no baseline" not in output
    elsewhere = project / "other.json"  # --ablation-baseline names another file
    code, output = run_toy(project, tiny_npz, results, "-q", "-k", "stuck", f"--ablation-baseline={elsewhere}")
    assert code == 1 and f"no baseline for profile smoke in {elsewhere}" in output, output


def test_every_seed_trains_when_pytest_benchmark_runs_one_round_only():
    """Under pytest-xdist pytest-benchmark is disabled and its pedantic() runs one round: the other
    seeds must still train, each once (a loop that removed items from the list it walked skipped
    every other seed, so 3 seeds trained 2)."""
    from cnn.ablate.bench import Bench

    class OneRound:  # what a disabled pytest-benchmark fixture does with pedantic()
        enabled, stats = False, None

        def pedantic(self, target, setup, rounds, iterations):
            args, _ = setup()
            target(*args)

    for fixture in (OneRound(), None):
        ran = []
        Bench(fixture).time_rounds([0, 1, 2, 3, 4], ran.append)
        assert ran == [0, 1, 2, 3, 4]


PREFIX_AXIS = '''"""Epochs"""

from cnn.ablate import Axis, v
from cnn.config import Config

AXIS = Axis("ep", question=__doc__, base=Config(conv_filters=(4, 8), dense_units=(16,), learning_rate=0.003),
            variants=[v("2", epochs=2, prefix_of="4"), v("4", epochs=4)])
test_ep, test_ep_effects = AXIS.tests()
'''


def run_project(tmp_path, npz, name: str, axis_file: str) -> tuple[int, str, Path, Path]:
    """A project holding one axis file, run with 2 seeds into its own results and cache folders:
    (exit code, output, results, cache); run it again and the same folders are used."""
    project, results, cache = tmp_path / "project", tmp_path / "r", tmp_path / "cache"
    project.mkdir(exist_ok=True)
    (project / f"test_{name}.py").write_text(axis_file)
    (project / "pytest.ini").write_text("[pytest]\n")
    code, output = run_toy(project, npz, results, "-q", "--ablation-seeds=2", f"--ablation-cache={cache}")
    return code, output, results, cache


def test_a_prefix_variant_is_read_from_the_longer_run_which_trains_once(tmp_path, tiny_npz):
    import pandas as pd

    code, output, results, cache = run_project(tmp_path, tiny_npz, "ep", PREFIX_AXIS)
    assert code == 0, output
    assert len(list(cache.glob("*.json"))) == 2  # two seeds of "4"; "2" trained nothing
    folder = next(results.glob("smoke-*"))
    runs = pd.read_csv(folder / "runs.csv", dtype={"variant": str, "prefix_of": str}).set_index(["variant", "seed"])
    assert runs.loc["2", "epochs"].tolist() == [2, 2] and runs.loc["4", "epochs"].tolist() == [4, 4]
    assert runs.loc["2", "prefix_of"].tolist() == ["4", "4"]
    assert (runs.loc["2", "run_key"] == runs.loc["4", "run_key"] + "-e2").all()
    histories = pd.read_csv(folder / "histories.csv", dtype={"variant": str})
    assert histories.groupby("variant")["epoch"].max().to_dict() == {"2": 2, "4": 4}
    code, output, _, _ = run_project(tmp_path, tiny_npz, "ep", PREFIX_AXIS)
    assert code == 0 and len(list(cache.glob("*.json"))) == 2, output  # the rerun found both, trained nothing


CHOICE_AXIS = '''"""Rates"""

from cnn.ablate import Axis, v
from cnn.config import Config

AXIS = Axis("lr", question=__doc__, base=Config(conv_filters=(4, 8), dense_units=(16,)),
            variants=[v("adam", choose={"learning_rate": (1e-7, 0.003)})])
test_lr, test_lr_effects = AXIS.tests()
'''


def test_a_choosing_variant_trains_its_candidates_once_and_its_seeds_at_the_chosen_value(tmp_path, tiny_npz):
    import pandas as pd

    code, output, results, cache = run_project(tmp_path, tiny_npz, "lr", CHOICE_AXIS)
    assert code == 0, output
    assert "2 run(s) to train" in output  # the two candidates are planned; the seeds wait for the choice
    assert len(list(cache.glob("*.json"))) == 4  # two candidates on the tuning seed, two seeds at the chosen rate
    runs = pd.read_csv(next(results.glob("smoke-*")) / "runs.csv")
    assert runs["chosen"].tolist() == ["learning_rate=0.003"] * 2 and runs["seed"].tolist() == [0, 1]
    assert runs["choice"].str.startswith("learning_rate 0.003 chosen on the validation split").all()
    code, output, _, _ = run_project(tmp_path, tiny_npz, "lr", CHOICE_AXIS)
    assert code == 0 and "to train" not in output and len(list(cache.glob("*.json"))) == 4, output
