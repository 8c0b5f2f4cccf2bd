"""Does the weight initialisation matter, with sigmoid and with ReLU? (zeros: every unit the same)"""

from cnn.ablate import Axis, Effect, Regime, v

AXIS = Axis(
    "initializer",
    question=__doc__,
    variants=[
        v(f"{activation}-{init}", learns=init != "zeros", activation=activation, initializer=init)
        for activation in ("sigmoid", "relu")
        for init in ("glorot_uniform", "he_normal", "random_normal", "zeros")
    ],
    effects=[
        # Zeros make every seed the same run (0.1000 on every seed), so test accuracy compares as is;
        # sigmoid from Glorot leaves its plateau in some seeds and not others: k of n seeds learned.
        Effect("test_accuracy", low="relu-zeros", high="relu-he_normal",
               claim="zero initialisation keeps ReLU from learning", min_effect=0.01),
        Effect("learned", low="sigmoid-zeros", high="sigmoid-glorot_uniform",
               claim="zero initialisation keeps sigmoid from learning"),
    ],
    sections=("gradients",),
    # Fisher's exact test on 6 of 6 against 0 of 6 seeds gives p = 1/924, under the family's share
    # of alpha; 5 against 5 (1/252) would not be.
    regimes={"study": Regime(epochs=10, seeds=5, effect_seeds=6,
                             why="10 epochs; 6 seeds for the claims' sides (k of n learned, Fisher's exact test)")},
)
test_initializer, test_initializer_effects = AXIS.tests()
