"""Profiles: the same grid at another size (data, epochs, seeds), never another code path.
Register your own in a conftest.py: `PROFILES.add("tiny", Profile("tiny", "npz:tiny.npz", 1, 1, "..."))`."""

from __future__ import annotations

from dataclasses import dataclass, field

from cnn.registry import Registry
from cnn.runtime import fast_precision


@dataclass(frozen=True)
class Profile:
    name: str
    dataset: str  # a dataset spec (`cnn datasets`)
    epochs: int  # every axis' base trains this many epochs (an axis can set its own, e.g. the epochs axis)
    seeds: int
    description: str
    # Config fields every axis' base takes at this size, e.g. the fast path's levers where the
    # notebook's recipe would take hours; an axis that compares recipes keeps its own (Axis.profile_recipe).
    recipe: dict = field(default_factory=dict, hash=False)
    # Seeds for the variants an axis' effects compare, where more than `seeds`: fixed before the
    # run, so each verdict is one look at its data (adding seeds where a verdict is undecided would
    # be repeated looks, which inflate the false-claim rate).
    effect_seeds: int = 0
    # The speed axis' time-to-accuracy target; None: the naive recipe's accuracy after 3 epochs.
    target_accuracy: float | None = None


PROFILES: Registry[Profile] = Registry("profile")
# The speed axis' target at this size is fixed: the naive recipe's 3-epoch accuracy (0.957 over 3
# seeds) is out of the fast preset's reach on 4,000 digits (24 steps at batch 512: it peaked at
# 0.944, 0.928 and 0.923), so time-to-accuracy would be n/a. 0.90 is reached by naive, fast and
# speedrun in every seed measured, 0.02 below fast's worst, and is the full profile's target too.
PROFILES.add("smoke", Profile("smoke", "mnist-5k", 2, 1, "embedded digits, 2 epochs, 1 seed: minutes on 2 cores (CI)",
                              target_accuracy=0.90))
PROFILES.add(
    "standard", Profile("standard", "mnist-5k", 5, 3, "embedded digits, 5 epochs, 3 seeds: the committed study")
)
# The fast path as every axis' base (bfloat16 where the CPU computes it, batch 512 with the sqrt
# rule, tf.data, the fused Adam update): ~11 s a 60k epoch on an Intel Xeon with AMX where the
# notebook's recipe takes ~50 s. Emulated bfloat16 is a slowdown (cnn.runtime.fast_precision).
FAST_RECIPE = {"precision": fast_precision(), "batch_size": 512, "lr_scaling": "sqrt", "pipeline": "tf.data",
               "fused_update": True}
# Two seeds for every variant: a third for each variant an effect compares (effect_seeds=3) was
# measured to take the run past two hours on these 2 cores.
PROFILES.add("full", Profile("full", "fashion-mnist", 2, 2,
                             "Fashion-MNIST's 60,000 images on the fast path, 2 epochs, 2 seeds: ~100 min on 2 cores",
                             recipe=FAST_RECIPE, target_accuracy=0.90))
# The regimes pilot (issue 23): the two axes that declare a regime for it (dropout at 20 epochs,
# data size at 5 epochs and at the full set's step budget), 3 seeds, on the embedded digits, where
# overfitting starts by epoch 3-5. `pytest ablations/test_dropout.py ablations/test_data.py
# --ablation-profile pilot`; its results and run records are committed in results/pilot.
PROFILES.add("pilot", Profile("pilot", "mnist-5k", 2, 3,
                              "the regimes pilot: dropout and data size in the regimes their questions need, 3 seeds"))
# The study (issue 24, docs/study.md): each notebook question in the regime it needs, run and
# committed in chapters. Its digits chapters: the statistical questions, on the embedded digits with
# the notebook's recipe (float32, batch 32, each optimizer's default rate), where the seed CNN
# overfits by epoch 3-5 and an epoch takes ~3.5 s on one thread, so seeds are affordable; an axis'
# regime sets its own epochs and seeds. Results and run records in results/study.
PROFILES.add("study", Profile("study", "mnist-5k", 10, 5,
                              "the study's digits chapters (docs/study.md): the statistical questions, on the embedded "
                              "digits, where the seed CNN overfits within 3-5 epochs and a seed costs under a minute, "
                              "so 5-14 seeds a variant are affordable; each question in its regime, else 10 epochs "
                              "and 5 seeds; the scale questions are the study-60k profile's"))
# The study's scale chapter (issue 24, docs/study.md chapter 4): the questions whose answer depends
# on how much data there is, at 60,000 images (Fashion-MNIST: full MNIST cannot be downloaded here)
# on the fast recipe, where an epoch costs a fraction of the notebook recipe's: data size at fixed
# epochs and at a fixed step budget, dense width, and the activations on the fast recipe, whose
# sigmoid stayed at chance in the full study. 5 epochs are 530 optimizer steps at batch 512 on the
# 54,000 images left beside the validation split (the full study trained 236), ~22 s an epoch on
# the AMD EPYC of chapter 3 (a pilot: 16 s with Dense 128), so the chapter fits its 100 minutes;
# 3 seeds where an axis' regime sets none. Results and run records in results/study-60k.
# In float32 on every machine, so that a chapter resumed on another CPU trains the same configs:
# bfloat16 is native on some of the CPUs these runs get and emulated (5x slower) on others.
PROFILES.add("study-60k", Profile("study-60k", "fashion-mnist", 5, 3,
                                  "the study's scale chapter (docs/study.md): the questions whose answer depends on "
                                  "the size of the data (data size, dense width, the fast recipe's sigmoid) at 60,000 "
                                  "images, on the fast recipe in float32, 5 epochs, 3 seeds; the statistical questions "
                                  "are the study profile's", recipe={**FAST_RECIPE, "precision": "float32"}))
