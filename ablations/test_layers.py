"""How many conv blocks, and what should a conv do at the image's edge? 1, 2, 3 (the notebook's
Conv32-Pool-Conv64-Pool-Conv64) and 4 blocks (another Conv64); 'valid' padding (the notebook's: a
3x3 conv trims a pixel at every edge, so the map shrinks and edge pixels are seen less often)
against 'same' (zero padding keeps the size); and the notebook's three blocks with batch
normalisation before each activation. Four 'valid' blocks with pooling do not fit a 28x28 digit
(the fourth conv would see a 1x1 map), so the 4-block variant pads 'same' and compares with
3-same. All on Dense 128: with one block the notebook's Dense 5000 would hold 108M weights."""

from cnn.ablate import Axis, Effect, v

AXIS = Axis(
    "layers",
    question=__doc__,
    variants=[
        v("1", conv_filters=(32,)),
        v("2", conv_filters=(32, 64)),
        v("3"),
        v("3-same", conv_padding="same"),
        v("4-same", conv_filters=(32, 64, 64, 64), conv_padding="same"),
        v("3-batchnorm", batch_norm=True),
    ],
    effects=[
        Effect(
            "params",
            low="3",
            high="1",
            claim="one conv block hands the dense layer a 26x26x32 map: many more weights than three blocks",
        ),
        Effect(
            "flops_per_sample",
            low="3",
            high="3-same",
            claim="'same' padding keeps the maps larger, so every conv costs more",
        ),
        Effect(
            "test_accuracy",
            low="3",
            high="3-batchnorm",
            claim="batch norm learns faster: it beats the same three blocks in the same epochs",
            min_effect=0.01,
        ),
    ],
    base_changes={"dense_units": (128,)},
)
test_layers, test_layers_effects = AXIS.tests()
