"""The front door: the README's commands and links, and the docs pages' numbers against the CSVs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


# --- a pytest from an environment without the package ---------------------------------------------

def bare_pytest(tmp_path: Path, *packages: str) -> dict:
    """An environment for a real pytest without this project: `python -S` (no site-packages) with
    only pytest, its dependencies and `packages` on PYTHONPATH (no dist-info: no plugins)."""
    import _pytest
    site = Path(_pytest.__file__).resolve().parents[1]
    for name in ("pytest", "_pytest", "pluggy", "iniconfig", "packaging", "py.py", "pygments", *packages):
        if (site / name).exists():
            (tmp_path / name).symlink_to(site / name)
    return {"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"}


@pytest.mark.parametrize(("packages", "missing"), [((), "TensorFlow"), (("tensorflow",), "the cnn package")])
def test_the_suite_from_another_python_says_in_one_line_to_use_the_venv(tmp_path, packages, missing):
    env = bare_pytest(tmp_path, *packages)
    # As the `pytest` command of another environment starts: its script's folder first on the path,
    # not this checkout (whose egg-info would show the plugin's entry point to `python -m pytest`).
    script = tmp_path / "pytest_command.py"
    script.write_text("import sys\n\nimport pytest\n\nsys.exit(pytest.main())\n")
    done = subprocess.run([sys.executable, "-S", str(script), "ablations/", "-k", "dropout",
                           "--ablation-results", str(tmp_path / "r"), "-p", "no:cacheprovider"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 4, done.stdout + done.stderr
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert f"lacks {missing}" in lines[0] and ". .venv/bin/activate" in lines[0] and ".venv/bin/pytest" in lines[0]
    assert not (tmp_path / "r").exists()


# --- make install ---------------------------------------------------------------------------------

def make_dry_run(*args: str) -> str:
    return subprocess.run(["make", "-n", "-B", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout


def test_make_install_shows_pips_progress_and_adds_ray_only_when_asked():
    install = [line for line in make_dry_run("install").splitlines() if "pip install" in line]
    assert any("--upgrade pip" in line and "--quiet" in line for line in install)
    [project] = [line for line in install if "-e " in line]
    assert "--quiet" not in project and "'.[dev]'" in project
    assert "'.[dev,ray]'" in make_dry_run("install", "EXTRAS=dev,ray")
    assert "make install EXTRAS=dev,ray" in (ROOT / ".ci/run").read_text()
    assert "ray==" in (ROOT / "constraints.txt").read_text()


# --- the docs pages' numbers ----------------------------------------------------------------------

def load_render_pages():
    import importlib.util
    spec = importlib.util.spec_from_file_location("render_pages", ROOT / "docs" / "render_pages.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


render_pages = load_render_pages()


@pytest.mark.parametrize("name", render_pages.PAGES)
def test_every_number_on_the_docs_pages_is_the_committed_csvs(name):
    committed = (ROOT / "docs" / f"{name}.md").read_text()
    assert committed == render_pages.page(name), (
        f"docs/{name}.md differs from docs/src/{name}.md rendered from results/: run `python docs/render_pages.py`")


def test_a_changed_csv_value_changes_the_page(tmp_path):
    import shutil
    sources = "".join((ROOT / "docs" / "src" / f"{name}.md").read_text() for name in render_pages.PAGES)
    # every folder a placeholder reads (the study's curves are read from its histories.csv)
    for profile in sorted({found.split()[0] for found in render_pages.PLACEHOLDER.findall(sources)}):
        shutil.copytree(ROOT / "results" / profile, tmp_path / profile,
                        ignore=shutil.ignore_patterns("plots", "*.npz", "records", *(["histories.csv"]
                                                                                      if profile != "study" else [])))
    summary = tmp_path / "standard" / "summary.csv"
    lines = summary.read_text().splitlines()
    [at] = [i for i, line in enumerate(lines) if line.startswith("family,seed-cnn,cpu,")]
    cells = lines[at].split(",")
    cells[3] = "0.5"  # test_accuracy_mean
    lines[at] = ",".join(cells)
    summary.write_text("\n".join(lines) + "\n")
    assert "The CNN beats the MLP: **shown**, +0.0483 [+0.0327, +0.0640], p_adj 0.039, n 3 vs 3 (0.5000 +/- " in (
        render_pages.page("findings", tmp_path))
    assert render_pages.page("findings", tmp_path) != (ROOT / "docs" / "findings.md").read_text()


def test_no_measured_number_is_typed_into_a_page_source():
    """The sources hold measured values only as placeholders: an accuracy-like decimal (4 digits after
    the point), or a decimal with a unit of time or speed-up, typed into a source is a number the
    check would not see (config values such as lr 0.001 or dropout 0.5 are not measured)."""
    import re
    for name in render_pages.PAGES:
        text = render_pages.PLACEHOLDER.sub("", (ROOT / "docs" / "src" / f"{name}.md").read_text())
        assert not re.findall(r"\b\d+\.\d{4,}\b|\b\d+\.\d+ ?(?:s|x|min|ms)\b", text), name


# --- links ----------------------------------------------------------------------------------------

def anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation but hyphens dropped, spaces to hyphens."""
    import re
    return {re.sub(r"[^\w\- ]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
            for line in markdown.splitlines() if re.match(r"#{1,6} ", line)}


def links(markdown: str) -> list[str]:
    import re
    in_code = re.compile(r"```.*?```", re.S)
    return re.findall(r"\]\(([^)\s]+)\)", in_code.sub("", markdown))


DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "examples/own-model/README.md"]


def broken_links(document: Path) -> list[str]:
    broken = []
    for target in links(document.read_text()):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path, _, anchor = target.partition("#")
        file = (document.parent / path).resolve() if path else document
        if not file.exists():
            broken.append(target)
        elif anchor and file.suffix == ".md" and anchor not in anchors(file.read_text()):
            broken.append(target)
    return broken


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_resolves(document):
    assert not broken_links(document)


def test_a_broken_link_or_anchor_is_found(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# A heading, here\n[ok](#a-heading-here) [anchor](#nope) [file](missing.md)\n"
                    "```\n[in code](nowhere.md)\n```\n")
    assert broken_links(page) == ["#nope", "missing.md"]


def test_the_readme_says_where_cnn_and_pytest_come_from_and_shows_the_photos_axis():
    readme = (ROOT / "README.md").read_text()
    assert ". .venv/bin/activate" in readme
    axes = {line.split("|")[1].strip() for line in readme.splitlines() if line.startswith("| ")}
    assert {path.stem.removeprefix("test_") for path in (ROOT / "ablations").glob("test_*.py")} <= axes
    for lab_note in ("re-run in this session", "(new)", "the goal was"):
        assert lab_note not in readme
