"""How much does more training data buy? (share of the training set, stratified). At the same
epochs less data is also fewer optimizer steps (10% of the data: a tenth of the training), so the
axis also trains 10% and 25% at the full set's step budget (their epochs x 10 and x 4): there less
data is only less data, and its overfitting shows apart from underfitting."""

from cnn.ablate import Axis, Effect, Regime, v

AXIS = Axis(
    "data",
    question=__doc__,
    variants=[
        v("10%", train_fraction=0.1),
        v("25%", train_fraction=0.25),
        v("50%", train_fraction=0.5),
        v("100%"),
        v("10%-steps", train_fraction=0.1, budget="steps"),
        v("25%-steps", train_fraction=0.25, budget="steps"),
    ],
    effects=[
        Effect(
            "test_accuracy",
            low="10%",
            high="100%",
            claim="the full training set beats 10% of it on test accuracy",
            min_effect=0.01,
        ),
        Effect(
            "accuracy_gap",
            low="100%",
            high="10%",
            claim="10% of the data overfits more than the full set",
            min_effect=0.005,
        ),
        Effect(
            "accuracy_gap",
            low="100%",
            high="10%-steps",
            claim="at the same optimizer steps, 10% of the data overfits more than the full set",
            min_effect=0.005,
        ),
    ],
    regimes={"pilot": Regime(epochs=5, seeds=3, why="5 epochs of the full set: the base fits its training "
                                                    "set, and 10% of it at the same steps can overfit"),
             "study-60k": Regime(epochs=5, seeds=3, why="60,000 images, 5 epochs of the whole set (530 steps at "
                                                        "batch 512); 10% and 25% also at that step budget (50 and "
                                                        "20 epochs), where less data is only less data")},
    sections=("data_size",),
)
test_data, test_data_effects = AXIS.tests()
