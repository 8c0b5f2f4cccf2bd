"""What does the non-linearity do? (none = no activation function, though max pooling keeps the
network piecewise linear; scaled_tanh = the custom one, LeCun's 1.7159 tanh(2x/3))"""

from cnn.ablate import Axis, Effect, Regime, v

AXIS = Axis(
    "activation",
    question=__doc__,
    variants=[
        v("none", activation="none"),
        v("relu"),
        v("sigmoid", activation="sigmoid"),
        v("tanh", activation="tanh"),
        v("scaled_tanh", activation="scaled_tanh"),
    ],
    effects=[
        Effect(
            "test_accuracy", low="none", high="relu", claim="ReLU beats no activation on test accuracy", min_effect=0.01
        ),
        Effect(
            "grad_norm_first_conv",
            low="sigmoid",
            high="relu",
            claim="sigmoid's first conv layer gets much smaller gradients than ReLU's (they vanish on the way back)",
            min_effect=10,
        ),
        # Two-state: a sigmoid seed leaves chance or stays on its plateau; k of n seeds, Fisher's test.
        Effect("learned", low="sigmoid", high="relu", claim="ReLU learns in seeds where sigmoid stays at chance"),
    ],
    sections=("gradients",),
    regimes={"study": Regime(epochs=10, seeds=6, effect_seeds=10,
                             why="10 epochs in float32 at Adam's default rate (no bfloat16, no scaled rate: the "
                                 "fast recipe's saturation is another question); 10 seeds for the claims' sides, "
                                 "as sigmoid leaves its plateau in some seeds"),
             # The full study's sigmoid stayed at chance in both its seeds on the fast recipe (bfloat16,
             # batch 512, the rate x4); chapter 1's learned in every seed (float32, batch 32, 1x).
             "study-60k": Regime(epochs=5, seeds=1, effect_seeds=5,
                                 why="the fast recipe in float32 at 60,000 images (batch 512, Adam's rate x4 by the "
                                     "sqrt rule): without bfloat16, does the batch and rate keep sigmoid at chance, "
                                     "as in the full study? 5 seeds for the claims' sides, 5 epochs (530 steps)")},
)
test_activation, test_activation_effects = AXIS.tests()
