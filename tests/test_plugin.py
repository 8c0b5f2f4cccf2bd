"""cnn.ablate.plugin as an installed plugin: any project gets the options, and a project without
axes pays nothing for it (no TensorFlow start-up, no results folder)."""

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
    result.stderr.fnmatch_lines(["ERROR: --ablation-profile: unknown profile 'nope'; known: smoke, standard, full"])
