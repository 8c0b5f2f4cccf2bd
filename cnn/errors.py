"""The one exception type the user sees: a one-line message naming the problem and the fix."""


class CnnError(ValueError):
    """Bad input from the user (data, config, files). The CLI prints it on one line and exits 2."""
