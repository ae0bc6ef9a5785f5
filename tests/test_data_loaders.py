"""load_mnist / load_fashion_mnist and friends: cache, checksums, mirrors, offline fallback.

Most tests swap the registry entry of a dataset for tiny files of their own, served by a real
HTTP server on 127.0.0.1. Nothing here reaches the internet.
"""

from __future__ import annotations

import ast
import gzip
import re
import warnings
from pathlib import Path

import numpy as np
import pooch
import pytest
from conftest import REPO, SHARED_MNIST
from helpers_idx import (
    NAMES,
    hanging_mirror,
    make_tiny,
    refused_url,
    serve,
    sha256_file,
)

from coursekit import data
from coursekit.data import (
    DataError,
    DataFallbackWarning,
    IDXFormatError,
    cache,
    fallback,
    registry,
)
from coursekit.data.idx import read_idx
from coursekit.data.registry import LocalSource

DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")


@pytest.fixture(autouse=True)
def env(monkeypatch, tmp_path):
    """Private cache folder, offline by default, fresh network state and fallback warning."""
    monkeypatch.setenv("COURSEKIT_DATA", str(tmp_path / "cache"))
    monkeypatch.setenv("COURSEKIT_OFFLINE", "1")
    monkeypatch.delenv("COURSEKIT_TIMEOUT", raising=False)
    monkeypatch.setattr(fallback, "_warned", set())
    data.reset_network_state()
    yield
    data.reset_network_state()


@pytest.fixture
def online(monkeypatch):
    monkeypatch.setenv("COURSEKIT_OFFLINE", "0")


@pytest.fixture
def tiny(tmp_path):
    return make_tiny(tmp_path / "served")


def use(monkeypatch, name, dataset):
    monkeypatch.setitem(registry.DATASETS, name, dataset)


def cache_root(tmp_path) -> Path:
    return tmp_path / "cache"


# --------------------------------------------------------------------------- downloads and cache


def test_download_verify_then_read_cache_without_network(monkeypatch, tmp_path, tiny, online):
    with serve(tiny.folder) as mirror:
        use(monkeypatch, "mnist", tiny.dataset(registry.MNIST, (mirror.url,)))
        folder = cache_root(tmp_path) / "mnist"
        assert data.source("mnist", "train") == f"download 2 files from 1 mirror into {folder}"

        x, y = data.load_mnist("train")
        np.testing.assert_array_equal(x, tiny.arrays["train_images"])
        np.testing.assert_array_equal(y, tiny.arrays["train_labels"])
        assert x.dtype == np.uint8 and x.shape == (30, 28, 28) and y.shape == (30,)
        for role in ("train_images", "train_labels"):
            assert sha256_file(folder / NAMES[role]) == tiny.files[role].sha256
        assert sorted(mirror.requests) == ["/" + NAMES["train_images"], "/" + NAMES["train_labels"]]
        assert data.source("mnist", "train") == f"cache: {folder} (verified)"
        mirror.stop()

    x2, y2 = data.load_mnist("train")  # server gone, network still "allowed"
    np.testing.assert_array_equal(x2, x)
    np.testing.assert_array_equal(y2, y)
    assert data.network_allowed()
    monkeypatch.setenv("COURSEKIT_OFFLINE", "1")
    np.testing.assert_array_equal(data.load_mnist("train")[0], x)


def test_corrupted_cached_file_is_fetched_again_when_online(monkeypatch, tmp_path, tiny, online):
    folder = cache_root(tmp_path) / "mnist"
    folder.mkdir(parents=True)
    bad = folder / NAMES["test_images"]
    bad.write_bytes(b"not the real file")
    (folder / NAMES["test_labels"]).write_bytes(tiny.path("test_labels").read_bytes())
    with serve(tiny.folder) as mirror:
        use(monkeypatch, "mnist", tiny.dataset(registry.MNIST, (mirror.url,)))
        assert "replacing a cached file that fails its checksum" in data.source("mnist", "test")
        x, y = data.load_mnist("test")
        assert mirror.requests == ["/" + NAMES["test_images"]]  # only the bad file
    np.testing.assert_array_equal(x, tiny.arrays["test_images"])
    np.testing.assert_array_equal(y, tiny.arrays["test_labels"])
    assert sha256_file(bad) == tiny.files["test_images"].sha256


def test_corrupted_cached_file_offline_raises_naming_it(monkeypatch, tmp_path, tiny):
    use(monkeypatch, "mnist", tiny.dataset(registry.MNIST, (refused_url(),)))
    folder = cache_root(tmp_path) / "mnist"
    folder.mkdir(parents=True)
    bad = folder / NAMES["train_labels"]
    bad.write_bytes(tiny.path("test_labels").read_bytes())  # a valid IDX file, wrong one
    (folder / NAMES["train_images"]).write_bytes(tiny.path("train_images").read_bytes())
    with pytest.raises(DataError, match=re.escape(str(bad))) as info:
        data.load_mnist("train")
    assert "coursekit data fetch mnist" in str(info.value)
    assert "Delete it" in str(info.value)
    assert data.source("mnist", "train").startswith(f"unavailable: {bad} fails its checksum")


def test_file_matching_only_the_raw_checksum_is_accepted(monkeypatch, tmp_path, tiny):
    """Debian recompresses the files: the .gz checksum differs, the payload is the same."""
    use(monkeypatch, "mnist", tiny.dataset(registry.MNIST))
    folder = cache_root(tmp_path) / "mnist"
    folder.mkdir(parents=True)
    for role in ("test_images", "test_labels"):
        raw = gzip.decompress(tiny.path(role).read_bytes())
        recompressed = gzip.compress(raw, compresslevel=1, mtime=12345)
        assert recompressed != tiny.path(role).read_bytes()
        (folder / NAMES[role]).write_bytes(recompressed)
    x, _ = data.load_mnist("test")
    np.testing.assert_array_equal(x, tiny.arrays["test_images"])


def test_flat_cache_folder_and_foreign_files_there(monkeypatch, tmp_path, tiny):
    """COURSEKIT_DATA may be a flat folder of files; a file with another checksum is skipped."""
    use(monkeypatch, "mnist", tiny.dataset(registry.MNIST))
    flat = cache_root(tmp_path)
    flat.mkdir()
    for role in ("test_images", "test_labels"):
        (flat / NAMES[role]).write_bytes(tiny.path(role).read_bytes())
    (flat / NAMES["train_images"]).write_bytes(tiny.path("test_images").read_bytes())  # foreign
    x, _ = data.load_mnist("test")
    np.testing.assert_array_equal(x, tiny.arrays["test_images"])
    assert data.source("mnist", "test") == f"cache: {flat} (verified)"
    assert data.cached("mnist") == {
        NAMES["train_images"]: None,
        NAMES["train_labels"]: None,
        NAMES["test_images"]: flat / NAMES["test_images"],
        NAMES["test_labels"]: flat / NAMES["test_labels"],
    }
    with pytest.warns(DataFallbackWarning):  # the foreign file is ignored, not an error
        x, _ = data.load_mnist("train")
    assert x.shape == (4000, 28, 28)


def test_mirror_that_never_answers_falls_through_to_the_next(monkeypatch, tmp_path, tiny, online):
    monkeypatch.setenv("COURSEKIT_TIMEOUT", "1")
    entry = tiny.files["test_labels"]
    with hanging_mirror() as hang, serve(tiny.folder) as mirror:
        path = cache.download(entry, (hang, mirror.url), tmp_path / "dl")
    assert path == tmp_path / "dl" / entry.name
    assert sha256_file(path) == entry.sha256
    assert data.network_allowed()


def test_no_answering_mirror_falls_back_once_and_goes_offline(monkeypatch, tiny, online):
    monkeypatch.setenv("COURSEKIT_TIMEOUT", "1")
    with hanging_mirror() as hang:
        use(monkeypatch, "mnist", tiny.dataset(registry.MNIST, (hang,)))
        with pytest.warns(DataFallbackWarning):
            x, _ = data.load_mnist("test")
    assert x.shape == (1000, 28, 28)
    assert not data.network_allowed()
    assert data.source("mnist", "train").startswith(fallback.DESCRIPTION)
    data.reset_network_state()
    assert data.network_allowed()


def test_refused_connections_fall_back_for_mnist_and_fail_for_fashion(monkeypatch, tiny, online):
    use(monkeypatch, "mnist", tiny.dataset(registry.MNIST, (refused_url(), refused_url())))
    use(
        monkeypatch,
        "fashion_mnist",
        tiny.dataset(registry.FASHION_MNIST, (refused_url(),), local_sources=()),
    )
    with pytest.warns(DataFallbackWarning):
        assert data.load_mnist("train")[0].shape == (4000, 28, 28)
    assert not data.network_allowed()
    with pytest.raises(DataError, match="Fashion-MNIST 'test' is not available"):
        data.load_fashion_mnist("test")


def test_http_errors_and_bad_downloads_raise_without_going_offline(
    monkeypatch, tmp_path, tiny, online
):
    (tiny.folder / "evil").mkdir()
    (tiny.folder / "evil" / NAMES["test_images"]).write_bytes(b"\x1f\x8bgarbage")
    with serve(tiny.folder) as mirror:
        missing, evil = mirror.url + "nothing-here/", mirror.url + "evil/"
        use(monkeypatch, "mnist", tiny.dataset(registry.MNIST, (missing, evil)))
        with pytest.raises(DataError, match="could not download t10k-images") as info:
            data.load_mnist("test")
        assert "404" in str(info.value) and evil + NAMES["test_images"] in str(info.value)
        assert data.network_allowed()
        assert not (cache_root(tmp_path) / "mnist" / NAMES["test_images"]).exists()
        assert [p.name for p in (cache_root(tmp_path) / "mnist").iterdir()] == []  # no temp files

        use(monkeypatch, "mnist", tiny.dataset(registry.MNIST, (missing, mirror.url)))
        x, _ = data.load_mnist("test")  # a 404 moves on to the next mirror
    np.testing.assert_array_equal(x, tiny.arrays["test_images"])


def test_unwritable_cache_folder_raises_naming_it(monkeypatch, tmp_path, tiny, online):
    # Tests may run as root, which ignores permissions: use a folder below a regular file.
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("COURSEKIT_DATA", str(blocker / "sub"))
    with serve(tiny.folder) as mirror:
        use(monkeypatch, "mnist", tiny.dataset(registry.MNIST, (mirror.url,)))
        with pytest.raises(DataError, match=re.escape(str(blocker / "sub" / "mnist"))) as info:
            data.load_mnist("test")
        assert "COURSEKIT_DATA" in str(info.value)
        assert mirror.requests == []
    # Reading needs no writable folder: offline, the same setting falls back quietly.
    monkeypatch.setenv("COURSEKIT_OFFLINE", "1")
    with pytest.warns(DataFallbackWarning):
        assert data.load_mnist("test")[0].shape == (1000, 28, 28)


def test_fetch_and_cached(monkeypatch, tmp_path, tiny, online):
    with serve(tiny.folder) as mirror:
        use(monkeypatch, "mnist", tiny.dataset(registry.MNIST, (mirror.url,)))
        assert set(data.cached("mnist").values()) == {None}
        paths = data.fetch("mnist")
        folder = cache_root(tmp_path) / "mnist"
        assert paths == [folder / NAMES[r] for r in tiny.files]
        assert data.cached("mnist") == {NAMES[r]: folder / NAMES[r] for r in tiny.files}
        assert data.fetch("mnist") == paths and len(mirror.requests) == 4  # nothing new


def test_fetch_offline_raises_and_retries_after_connection_failure(monkeypatch, tiny, online):
    use(monkeypatch, "mnist", tiny.dataset(registry.MNIST, (refused_url(),)))
    with pytest.raises(DataError, match="could not connect"):
        data.fetch("mnist")
    assert not data.network_allowed()
    with serve(tiny.folder) as mirror:
        use(monkeypatch, "mnist", tiny.dataset(registry.MNIST, (mirror.url,)))
        assert len(data.fetch("mnist")) == 4  # an explicit fetch tries again
    monkeypatch.setenv("COURSEKIT_OFFLINE", "1")
    use(monkeypatch, "fashion_mnist", tiny.dataset(registry.FASHION_MNIST, local_sources=()))
    with pytest.raises(DataError, match="network is off"):
        data.fetch("fashion_mnist")


# --------------------------------------------------------------------------- local sources, errors


def test_system_folder_is_used_and_described(monkeypatch, tmp_path, tiny):
    src = LocalSource("test package", tiny.folder, "apt install it")
    use(monkeypatch, "fashion_mnist", tiny.dataset(registry.FASHION_MNIST, local_sources=(src,)))
    cache_root(tmp_path).mkdir()  # an existing, empty cache: nothing to warn about
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x, y = data.load_fashion_mnist("train")
    np.testing.assert_array_equal(x, tiny.arrays["train_images"])
    assert data.source("fashion_mnist", "train") == f"test package: {tiny.folder}"
    assert data.cached("fashion-mnist")[NAMES["train_labels"]] == tiny.path("train_labels")


def test_fashion_mnist_without_source_explains_how_to_get_it(monkeypatch, tmp_path, tiny):
    src = LocalSource("Debian package dataset-fashion-mnist", tmp_path / "none", "apt install x")
    use(monkeypatch, "fashion_mnist", tiny.dataset(registry.FASHION_MNIST, local_sources=(src,)))
    with pytest.raises(DataError) as info:
        data.load_fashion_mnist("train")
    message = str(info.value)
    for part in (
        "COURSEKIT_OFFLINE=1",
        "dataset-fashion-mnist",
        "coursekit data fetch fashion_mnist",
        str(cache_root(tmp_path) / "fashion-mnist"),
    ):
        assert part in message
    assert data.source("fashion_mnist", "test").startswith("unavailable: ")


def test_images_and_labels_must_match(monkeypatch, tmp_path, tiny):
    other = make_tiny(tmp_path / "other", n_test=19)
    files = dict(tiny.files, test_labels=other.files["test_labels"])
    use(monkeypatch, "mnist", tiny.dataset(registry.MNIST, files=files))
    folder = cache_root(tmp_path) / "mnist"
    folder.mkdir(parents=True)
    (folder / NAMES["test_images"]).write_bytes(tiny.path("test_images").read_bytes())
    (folder / NAMES["test_labels"]).write_bytes(other.path("test_labels").read_bytes())
    with pytest.raises(DataError, match="holds 20 images but .* holds 19 labels"):
        data.load_mnist("test")


def test_parse_errors_name_the_file(monkeypatch, tmp_path, tiny):
    folder = cache_root(tmp_path) / "mnist"
    folder.mkdir(parents=True)
    broken = folder / NAMES["test_images"]
    broken.write_bytes(gzip.compress(b"\x00\x00\x08\x03" + b"\x00" * 20))
    files = dict(tiny.files, test_images=registry.FileEntry(broken.name, sha256_file(broken)))
    use(monkeypatch, "mnist", tiny.dataset(registry.MNIST, files=files))
    (folder / NAMES["test_labels"]).write_bytes(tiny.path("test_labels").read_bytes())
    with pytest.raises(IDXFormatError, match=re.escape(str(broken))):
        data.load_mnist("test")


@pytest.mark.parametrize("split", ["val", "Train", "", None])
def test_bad_split(split):
    for func in (data.load_mnist, data.load_fashion_mnist):
        with pytest.raises(
            ValueError, match=re.escape(f"split must be 'train' or 'test', got {split!r}")
        ):
            func(split)
    with pytest.raises(ValueError, match="split must be"):
        data.source("mnist", split)


def test_unknown_dataset():
    with pytest.raises(ValueError, match="unknown dataset 'cifar10'"):
        data.source("cifar10", "train")
    with pytest.raises(ValueError, match="unknown dataset"):
        data.cached("cifar10")


# --------------------------------------------------------------------------- offline fallback


def test_offline_mnist_fallback():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        x_train, y_train = data.load_mnist("train")
        x_test, y_test = data.load_mnist("test")
        again = data.load_mnist("train")
    ours = [w for w in caught if issubclass(w.category, DataFallbackWarning)]
    assert len(ours) == 1
    text = str(ours[0].message)
    assert "5,000" in text and "4,000" in text and "1,000" in text
    assert "coursekit data fetch mnist" in text and str(data.cache_dir() / "mnist") in text
    assert ours[0].filename == __file__  # points at the caller

    for x, y, n in ((x_train, y_train, 400), (x_test, y_test, 100)):
        assert x.dtype == np.uint8 and x.shape == (10 * n, 28, 28)
        assert y.dtype == np.uint8 and y.shape == (10 * n,)
        assert np.bincount(y, minlength=10).tolist() == [n] * 10
        assert x.max() == 255 and x.min() == 0
    np.testing.assert_array_equal(again[0], x_train)
    np.testing.assert_array_equal(again[1], y_train)
    train_rows = {row.tobytes() for row in x_train.reshape(len(x_train), -1)}
    test_rows = {row.tobytes() for row in x_test.reshape(len(x_test), -1)}
    assert not train_rows & test_rows
    # the test's COURSEKIT_DATA names a folder that does not exist: both messages say so
    said = f"COURSEKIT_DATA={data.cache_dir()} does not exist"
    assert said in text
    assert data.source("mnist", "test") == f"{fallback.DESCRIPTION} ({said})"


def test_fallback_split_is_fixed_and_ignores_global_random_state():
    labels = np.repeat(np.arange(10), 500)
    np.random.seed(1)  # noqa: NPY002 - must have no effect
    a_train, a_test = fallback.stratified_split(labels, 100, fallback.SEED)
    np.random.seed(2)  # noqa: NPY002
    b_train, b_test = fallback.stratified_split(labels, 100, fallback.SEED)
    np.testing.assert_array_equal(a_train, b_train)
    np.testing.assert_array_equal(a_test, b_test)
    assert len(a_train) == 4000 and len(a_test) == 1000
    assert np.intersect1d(a_train, a_test).size == 0
    assert np.union1d(a_train, a_test).tolist() == list(range(5000))
    assert np.bincount(labels[a_test]).tolist() == [100] * 10
    other, _ = fallback.stratified_split(labels, 100, fallback.SEED + 1)
    assert not np.array_equal(other, a_train)


# --------------------------------------------------------------------------- COURSEKIT_DATA said


def _fallback_message(split: str = "test") -> str:
    with pytest.warns(DataFallbackWarning) as record:
        x, _ = data.load_mnist(split)
    assert x.shape == ((1000 if split == "test" else 4000), 28, 28)
    ours = [w for w in record if issubclass(w.category, DataFallbackWarning)]
    assert len(ours) == 1
    return str(ours[0].message)


def test_data_folder_that_is_a_file_is_named(monkeypatch, tmp_path, tiny):
    use(monkeypatch, "mnist", tiny.dataset(registry.MNIST))
    a_file = tiny.path("test_images")  # a real data file, given instead of its folder
    monkeypatch.setenv("COURSEKIT_DATA", str(a_file))
    said = f"COURSEKIT_DATA={a_file} is a file, not a folder"
    assert said in _fallback_message()
    assert said in data.source("mnist", "test")
    # data found elsewhere (a system folder) is used, and the useless setting is still said
    src = LocalSource("test package", tiny.folder)
    use(monkeypatch, "fashion_mnist", tiny.dataset(registry.FASHION_MNIST, local_sources=(src,)))
    with pytest.warns(data.DataSourceWarning, match=re.escape(said)):
        x, _ = data.load_fashion_mnist("test")
    np.testing.assert_array_equal(x, tiny.arrays["test_images"])
    assert said in data.source("fashion_mnist", "test")


def test_data_folder_that_does_not_exist_is_named(monkeypatch, tmp_path, tiny):
    use(monkeypatch, "mnist", tiny.dataset(registry.MNIST))
    missing = tmp_path / "no" / "such" / "folder"
    monkeypatch.setenv("COURSEKIT_DATA", str(missing))
    assert f"COURSEKIT_DATA={missing} does not exist" in _fallback_message()
    below_a_file = tiny.path("test_labels") / "mnist"
    monkeypatch.setenv("COURSEKIT_DATA", str(below_a_file))
    text = _fallback_message("train")  # a new problem is said again
    blocker = tiny.path("test_labels")
    assert f"COURSEKIT_DATA={below_a_file} does not exist ({blocker} is a file)" in text


def test_empty_data_folder_is_said_once_for_both_splits(monkeypatch, tmp_path, tiny):
    use(monkeypatch, "mnist", tiny.dataset(registry.MNIST))
    cache_root(tmp_path).mkdir()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data.load_mnist("train")
        data.load_mnist("test")
    ours = [str(w.message) for w in caught if issubclass(w.category, DataFallbackWarning)]
    assert len(ours) == 1
    assert f"COURSEKIT_DATA={cache_root(tmp_path)} holds no MNIST files" in ours[0]


def test_folder_without_one_file_names_the_missing_file(monkeypatch, tmp_path, tiny):
    use(monkeypatch, "mnist", tiny.dataset(registry.MNIST))
    flat = cache_root(tmp_path)
    flat.mkdir()
    for role in ("train_labels", "test_images", "test_labels"):  # like /work/shared/data/mnist
        (flat / NAMES[role]).write_bytes(tiny.path(role).read_bytes())
    np.testing.assert_array_equal(data.load_mnist("test")[0], tiny.arrays["test_images"])
    assert f"COURSEKIT_DATA={flat} holds no {NAMES['train_images']}" in _fallback_message("train")


@pytest.mark.parametrize("damage", ["truncated", "wrong", "not gzip", "empty"])
def test_damaged_file_in_a_flat_folder_is_named(monkeypatch, tmp_path, tiny, damage):
    use(monkeypatch, "mnist", tiny.dataset(registry.MNIST))
    flat = cache_root(tmp_path)
    flat.mkdir()
    good = tiny.path("test_images").read_bytes()
    payload = {
        "truncated": good[: len(good) // 2],
        "wrong": gzip.compress(b"\x00\x00\x08\x03" + bytes(100)),
        "not gzip": b"<html>404 Not Found</html>",
        "empty": b"",
    }[damage]
    bad = flat / NAMES["test_images"]
    bad.write_bytes(payload)
    (flat / NAMES["test_labels"]).write_bytes(tiny.path("test_labels").read_bytes())
    why = {
        "truncated": f"is a truncated or damaged gzip file ({len(payload):,} bytes)",
        "wrong": "does not match the published checksum of t10k-images-idx3-ubyte.gz",
        "not gzip": f"is not a gzip file ({len(payload)} bytes)",
        "empty": "is empty",
    }[damage]
    text = _fallback_message()
    assert f"{bad} {why}" in text
    assert "COURSEKIT_OFFLINE=1" in text  # and why nothing was downloaded
    assert f"{bad} {why}" in data.source("mnist", "test")


def test_damaged_file_in_the_dataset_folder_is_an_error_naming_it(monkeypatch, tmp_path, tiny):
    use(monkeypatch, "mnist", tiny.dataset(registry.MNIST))
    folder = cache_root(tmp_path) / "mnist"
    folder.mkdir(parents=True)
    good = tiny.path("test_images").read_bytes()
    bad = folder / NAMES["test_images"]
    bad.write_bytes(good[:100])
    (folder / NAMES["test_labels"]).write_bytes(tiny.path("test_labels").read_bytes())
    with pytest.raises(DataError, match=re.escape(f"{bad} is a truncated or damaged gzip file")):
        data.load_mnist("test")


def test_another_datasets_file_in_a_flat_folder_is_not_a_problem(monkeypatch, tmp_path, tiny):
    """MNIST and Fashion-MNIST share file names: one folder may hold a verified file of each."""
    other = make_tiny(tmp_path / "other", seed=1)
    use(monkeypatch, "mnist", tiny.dataset(registry.MNIST))
    use(monkeypatch, "fashion_mnist", other.dataset(registry.FASHION_MNIST, local_sources=()))
    flat = cache_root(tmp_path)
    flat.mkdir()
    for role in ("test_images", "test_labels"):
        (flat / NAMES[role]).write_bytes(other.path(role).read_bytes())  # Fashion's files
    np.testing.assert_array_equal(data.load_fashion_mnist("test")[0], other.arrays["test_images"])
    text = _fallback_message()  # MNIST's are not there: said, but Fashion's are not "damaged"
    assert f"COURSEKIT_DATA={flat} holds no t10k-images-idx3-ubyte.gz" in text
    assert "checksum" not in text


@pytest.mark.skipif(not SHARED_MNIST.is_dir(), reason=f"{SHARED_MNIST} not present")
def test_real_shared_folder_without_train_images_says_so(monkeypatch):
    monkeypatch.setenv("COURSEKIT_DATA", str(SHARED_MNIST))
    text = _fallback_message("train")
    assert f"holds no {NAMES['train_images']}" in text and str(SHARED_MNIST.resolve()) in text


# --------------------------------------------------------------------------- switches


@pytest.mark.parametrize(
    ("value", "allowed"),
    [
        ("1", False),
        ("true", False),
        (" YES ", False),
        ("On", False),
        ("0", True),
        ("", True),
        ("false", True),
        ("no", True),
        ("OFF", True),
    ],
)
def test_offline_switch_values(monkeypatch, value, allowed):
    monkeypatch.setenv("COURSEKIT_OFFLINE", value)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert data.network_allowed() is allowed


def test_offline_switch_unset_and_unknown_values(monkeypatch):
    monkeypatch.delenv("COURSEKIT_OFFLINE")
    assert data.network_allowed()
    monkeypatch.setenv("COURSEKIT_OFFLINE", "offline-please")
    with pytest.warns(UserWarning, match="offline-please"):
        assert not data.network_allowed()


def test_timeout_setting(monkeypatch):
    assert cache.timeout() == 5.0
    monkeypatch.setenv("COURSEKIT_TIMEOUT", "2.5")
    assert cache.timeout() == 2.5
    for bad in ("0", "-1", "soon", "inf"):
        monkeypatch.setenv("COURSEKIT_TIMEOUT", bad)
        with pytest.raises(ValueError, match="COURSEKIT_TIMEOUT"):
            cache.timeout()


def test_cache_dir(monkeypatch, tmp_path):
    assert data.cache_dir() == cache_root(tmp_path)
    monkeypatch.delenv("COURSEKIT_DATA")
    assert data.cache_dir() == Path(pooch.os_cache("coursekit"))


def test_registry_has_the_published_files():
    assert data.CLASS_NAMES["mnist"] == [str(d) for d in range(10)]
    assert data.CLASS_NAMES["fashion_mnist"][0] == "T-shirt/top"
    assert data.CLASS_NAMES["fashion_mnist"][9] == "Ankle boot"
    for ds in (registry.MNIST, registry.FASHION_MNIST):
        assert [f.name for f in ds.files.values()] == list(NAMES.values())
        assert all(len(f.sha256) == 64 for f in ds.files.values())
        assert all(m.endswith("/") for m in ds.mirrors)


# --------------------------------------------------------------------------- real data


@pytest.mark.skipif(not SHARED_MNIST.is_dir(), reason=f"{SHARED_MNIST} not present")
def test_real_mnist_test_split_from_shared_folder(monkeypatch):
    monkeypatch.setenv("COURSEKIT_DATA", str(SHARED_MNIST))
    x, y = data.load_mnist("test")
    assert x.shape == (10_000, 28, 28) and x.dtype == np.uint8
    np.testing.assert_array_equal(y, read_idx(SHARED_MNIST / "t10k-labels-idx1-ubyte.gz"))
    assert np.bincount(y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert str(SHARED_MNIST.resolve()) in data.source("mnist", "test")
    # the offline fallback never holds a test digit: a run that trains on it and scores on the
    # real test set (week 0 explains the mix) does not score on its own training data
    fallback_digits = np.concatenate([fallback.load(split, "")[0] for split in ("train", "test")])
    test_rows = {row.tobytes() for row in x.reshape(len(x), -1)}
    assert not any(row.tobytes() in test_rows for row in fallback_digits.reshape(5000, -1))


@pytest.mark.skipif(not DEBIAN_FASHION.is_dir(), reason=f"{DEBIAN_FASHION} not present")
def test_real_fashion_mnist_from_debian(tmp_path):
    cache_root(tmp_path).mkdir()
    x, y = data.load_fashion_mnist("train")
    assert x.shape == (60_000, 28, 28) and x.dtype == np.uint8
    assert np.bincount(y).tolist() == [6000] * 10
    x, y = data.load_fashion_mnist("test")
    assert x.shape == (10_000, 28, 28) and y.shape == (10_000,)
    assert data.source("fashion_mnist", "test").startswith("Debian package dataset-fashion-mnist")


# --------------------------------------------------------------------------- import discipline


def _imported_modules(path: Path, top_level_only: bool) -> set[str]:
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    names = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_core_is_framework_free_and_frameworks_stay_apart():
    package = REPO / "coursekit"
    frameworks = {"torch", "keras", "tensorflow", "jax"}
    for path in (package / "data").glob("*.py"):
        anywhere = {name.split(".")[0] for name in _imported_modules(path, False)}
        assert not anywhere & frameworks, path
        assert "mlxtend" not in _imported_modules(path, True), path  # only lazily
    for here, other in (("torch", "keras"), ("keras", "torch")):
        for path in (package / here).glob("*.py"):
            assert not any(
                name.startswith(f"coursekit.{other}") for name in _imported_modules(path, False)
            ), path


def test_splits_says_each_splits_size_and_source_in_one_line(monkeypatch):
    from coursekit.data import loaders

    monkeypatch.setattr(loaders, "source", lambda name, split: f"<where {name} {split} is>")
    line = data.splits("mnist", train=4000, test=10000)
    assert line == ("mnist train: 4,000 images (<where mnist train is>); "
                    "test: 10,000 images (<where mnist test is>)")
    assert "\n" not in line
    with pytest.raises(ValueError, match="split must be 'train' or 'test', got 'valid'"):
        data.splits("mnist", valid=3)
    with pytest.raises(ValueError, match=r"train \(number of train images used\) must be an int"):
        data.splits("mnist", train=-1)
    with pytest.raises(ValueError, match="at least one split"):
        data.splits("mnist")
    with pytest.raises(ValueError, match="cifar"):
        data.splits("cifar", train=1)
