"""The ablation suite: a pytest plugin over the `cnn` library. Declare an axis in a test file:

    from cnn.ablate import Axis, Effect, v

    AXIS = Axis("dropout", question=__doc__, variants=[v("0"), v("0.5", dropout=0.5)],
                effects=[Effect("accuracy_gap", low="0.5", high="0", claim="dropout narrows the gap",
                                min_effect=0.005)])
    test_dropout, test_dropout_effects = AXIS.tests()

Everything a project of its own needs is here: axes, profiles (`PROFILES.add(...)`), evaluations
(`register_evaluation`), metrics (`register_metric`) and engines (`register_engine`).

This package's __init__ stays light: the plugin (cnn.ablate.plugin) loads in every pytest run of
an environment that installs the package, and must not start TensorFlow where no axis is collected.
"""

_PUBLIC = {
    "AXES": "cnn.ablate.axis", "Axis": "cnn.ablate.axis", "Variant": "cnn.ablate.axis", "v": "cnn.ablate.axis",
    "Regime": "cnn.ablate.axis",
    "Effect": "cnn.results.judge",
    "PROFILES": "cnn.ablate.profiles", "Profile": "cnn.ablate.profiles",
    "Evaluation": "cnn.ablate.evaluations", "Outcome": "cnn.ablate.evaluations",
    "register_evaluation": "cnn.ablate.evaluations",
    "Metric": "cnn.results.metrics", "register_metric": "cnn.results.metrics",
    "BaseEngine": "cnn.ablate.engines", "Engine": "cnn.ablate.engines", "EngineContext": "cnn.ablate.engines",
    "EngineSettings": "cnn.ablate.engines", "Job": "cnn.ablate.engines", "register_engine": "cnn.ablate.engines",
}
__all__ = list(_PUBLIC)


def __getattr__(name):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'cnn.ablate' has no attribute {name!r}")
    import importlib

    from cnn.runtime import quiet_native_stderr

    with quiet_native_stderr():  # TensorFlow's native start-up log ignores TF_CPP_MIN_LOG_LEVEL
        module = importlib.import_module(_PUBLIC[name])
    return getattr(module, name)
