"""The one owner of a results folder (results/<profile>/): which metrics there are (metrics.py),
what the files are called and hold (schema.py), how a number is written (format.py), the writer
the ablation session calls and the reader the report uses (store.py), and the statistics both
sides share: the regression guard (guard.py), the effect judge (judge.py), the speed figures
(speed.py) and the terminal tables (tables.py).

No pytest and no matplotlib here: the suite (cnn.ablate) and the report (cnn.report) import this
package, and it imports neither of them.
"""
