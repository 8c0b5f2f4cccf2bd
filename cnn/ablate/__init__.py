"""The ablation suite: a pytest plugin over the `cnn` library. Declare an axis in a test file:

    from cnn.ablate import Axis, Effect, v

    AXIS = Axis("dropout", question=__doc__, variants=[v("0"), v("0.5", dropout=0.5)],
                effects=[Effect("accuracy_gap", low="0.5", high="0", claim="dropout narrows the gap")])
    test_dropout, test_dropout_effects = AXIS.tests()

This package's __init__ stays light: the plugin (cnn.ablate.plugin) loads in every pytest run of
an environment that installs the package, and must not start TensorFlow where no axis is collected.
"""

_PUBLIC = {"AXES": "axis", "Axis": "axis", "Effect": "axis", "Variant": "axis", "v": "axis",
           "PROFILES": "profiles", "Profile": "profiles"}
__all__ = list(_PUBLIC)


def __getattr__(name):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'cnn.ablate' has no attribute {name!r}")
    import importlib

    from cnn.runtime import quiet_native_stderr as _quiet_native_stderr

    with _quiet_native_stderr():  # TensorFlow's native start-up log ignores TF_CPP_MIN_LOG_LEVEL
        module = importlib.import_module(f"cnn.ablate.{_PUBLIC[name]}")
    return getattr(module, name)
