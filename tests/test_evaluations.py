"""cnn.ablate.evaluations: the photos evaluation reads the photo benchmark with a trained model,
the session keeps its metric in the run's record and writes seed 0's failures for the report, and
a run evaluated is cached apart from the same run not evaluated. Ten benchmark photos, not 100:
making them is most of the time."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cnn.ablate import evaluations
from cnn.ablate.axis import Axis, v
from cnn.ablate.cache import run_key
from cnn.ablate.profiles import Profile
from cnn.ablate.session import AblationSession, SuiteOptions
from cnn.config import Config
from cnn.data import load_dataset
from cnn.errors import CnnError
from cnn.train import train

PHOTOS = 10  # one per class


@pytest.fixture
def few_photos(monkeypatch):
    monkeypatch.setattr(evaluations, "PHOTOS", PHOTOS)


@pytest.fixture(scope="module")
def digits(tiny_npz):
    """The tiny set as the suite loads it (`npz:PATH`), for the evaluation and the session alike."""
    return load_dataset(f"npz:{tiny_npz}")


def test_photos_gives_the_share_read_right_and_what_was_read_wrong(digits, tiny_config, few_photos):
    model = train(tiny_config, digits).model
    metrics, arrays = evaluations.evaluate(("photos",), model, digits)
    accuracy, failures = metrics["photo_accuracy"], arrays["photos"]
    assert 0 <= accuracy <= 1
    assert int(failures["photos"]) == PHOTOS and len(failures["labels"]) == round((1 - accuracy) * PHOTOS)
    assert failures["images"].shape == (len(failures["labels"]), 28, 28)  # as the model saw them
    assert (failures["predicted"] != failures["labels"]).all()
    assert ((failures["confidence"] >= 0) & (failures["confidence"] <= 1)).all()
    _, labels, _ = evaluations.photo_benchmark(digits)
    assert (labels[failures["index"]] == failures["labels"]).all()  # the index names the benchmark photo


def test_the_session_records_the_metric_and_writes_seed_0s_failures(digits, tiny_npz, tmp_path, few_photos):
    options = SuiteOptions(profile=Profile("tiny", f"npz:{tiny_npz}", 1, 1, "one epoch"), dataset=f"npz:{tiny_npz}",
                           seeds=1, devices=("cpu",), results_dir=tmp_path, baseline_path=tmp_path / "baseline.json")
    axis = Axis("photos", "Read?", variants=[v("small")], base=Config(conv_filters=(4, 8), dense_units=(16,)),
                evaluations=("photos",))
    [row], _ = AblationSession(options).run(axis, "small", "cpu")
    assert 0 <= row["photo_accuracy"] <= 1
    cached = json.loads((tmp_path / "cache" / f"{row['run_key']}.json").read_text())
    assert cached["photo_accuracy"] == row["photo_accuracy"] and "evaluation_arrays" not in cached
    with np.load(options.output_dir / "photos-photos-small.npz", allow_pickle=False) as stored:
        assert str(stored["run_key"]) == row["run_key"] and str(stored["axis"]) == "photos"
        assert len(stored["labels"]) == round((1 - row["photo_accuracy"]) * PHOTOS)
    [again], _ = AblationSession(options).run(axis, "small", "cpu")  # from the cache, metric and all
    assert again["cached"] and again["photo_accuracy"] == row["photo_accuracy"]


def test_a_run_evaluated_is_cached_apart_from_the_same_run_not_evaluated():
    plain = run_key(Config(), "f" * 16, "cpu", {"keras": "3"})
    assert run_key(Config(), "f" * 16, "cpu", {"keras": "3"}, evaluations=()) == plain  # other runs keep their keys
    assert run_key(Config(), "f" * 16, "cpu", {"keras": "3"}, evaluations=("photos",)) != plain


def test_errors_lists_the_test_images_the_model_gets_wrong(digits, tiny_config):
    model = train(tiny_config, digits).model
    metrics, arrays = evaluations.evaluate(("errors",), model, digits)
    errors = arrays["errors"]
    assert metrics == {}  # no metric: the report draws the grid of mistakes from the arrays
    assert (digits.y_test[errors["test_index"]] == errors["true"]).all() and (
        errors["predicted"] != errors["true"]
    ).all()
    assert ((errors["confidence"] > 0) & (errors["confidence"] <= 1)).all()


def test_an_evaluation_declares_its_metrics_and_gives_no_other(monkeypatch):
    from cnn.registry import Registry
    from cnn.results.metrics import METRICS, Metric

    monkeypatch.setattr(evaluations, "EVALUATIONS", Registry("evaluation"))
    monkeypatch.setattr(METRICS, "_items", dict(METRICS._items))  # the registered metric goes with the test
    evaluations.register_evaluation("sneaky", lambda model, data: evaluations.Outcome({"declared": 1.0, "other": 2.0}),
                                    metrics=[Metric("declared", "declared", ".2f")])
    assert METRICS.get("declared").evaluation == "sneaky"
    with pytest.raises(CnnError, match="evaluation 'sneaky' gives metric\\(s\\) other it does not declare"):
        evaluations.evaluate(("sneaky",), None, None)


def test_an_unknown_evaluation_fails_when_the_axis_is_declared():
    with pytest.raises(CnnError, match="unknown evaluation 'phtos'; known: errors, photos"):
        Axis("typo", "Why?", variants=[v("a")], evaluations=("phtos",))


def test_an_evaluation_runs_only_on_the_datasets_it_applies_to():
    """The photo benchmark renders digits: on Fashion-MNIST-like classes it does not run (a clothes
    classifier reading digit photos scores nothing meaningful), and its metric stays empty."""
    import numpy as np

    from cnn.ablate.evaluations import EVALUATIONS, evaluate, prepare
    from cnn.data import FASHION, Dataset

    rng = np.random.default_rng(0)
    images, labels = rng.random((20, 28, 28, 1), dtype=np.float32), np.tile(np.arange(10), 2)
    clothes = Dataset.from_arrays("clothes", images, labels, images, labels, class_names=FASHION)
    digits = Dataset.from_arrays("digits", images, labels, images, labels)
    photos = EVALUATIONS.get("photos")
    assert not photos.applies(clothes) and photos.applies(digits) and "digits" in photos.applies_note
    prepare(("photos",), clothes)  # no benchmark is made for it
    assert evaluate(("photos",), None, clothes) == ({}, {})  # the model is never asked
