"""Helpers for the data tests: tiny IDX datasets, a local HTTP mirror, mirrors that misbehave."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from coursekit.data.idx import write_idx
from coursekit.data.registry import Dataset, FileEntry

ROLES = ("train_images", "train_labels", "test_images", "test_labels")
NAMES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}


def sha256_file(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@dataclasses.dataclass
class TinyData:
    """Four tiny IDX files in ``folder``, their arrays, and registry entries for them."""

    folder: Path
    arrays: dict[str, np.ndarray]
    files: dict[str, FileEntry]

    def path(self, role: str) -> Path:
        return self.folder / NAMES[role]

    def dataset(self, base: Dataset, mirrors: tuple[str, ...] = (), **changes) -> Dataset:
        """``base`` (e.g. registry.MNIST) with these files and mirrors."""
        changes.setdefault("files", dict(self.files))
        return dataclasses.replace(base, mirrors=tuple(mirrors), **changes)


def make_tiny(folder: Path, n_train: int = 30, n_test: int = 20, seed: int = 0) -> TinyData:
    """Write random 28x28 uint8 images and labels 0..9 as the four gzipped IDX files."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    arrays = {
        "train_images": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train_labels": (np.arange(n_train) % 10).astype(np.uint8),
        "test_images": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "test_labels": (np.arange(n_test) % 10)[::-1].astype(np.uint8),
    }
    files = {}
    for role, array in arrays.items():
        path = write_idx(folder / NAMES[role], array)
        raw = hashlib.sha256(_raw_bytes(path)).hexdigest()
        files[role] = FileEntry(NAMES[role], sha256_file(path), raw)
    return TinyData(folder, arrays, files)


def _raw_bytes(path: Path) -> bytes:
    import gzip

    return gzip.decompress(path.read_bytes())


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    requests: list[str]

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:  # noqa: N802
        self.requests.append(self.path)
        super().do_GET()


@dataclasses.dataclass
class Mirror:
    url: str
    requests: list[str]
    stop: callable


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[Mirror]:
    """Serve ``folder`` over HTTP on 127.0.0.1 from a thread; ``.requests`` logs GET paths."""
    requests: list[str] = []
    handler = type("Handler", (_QuietHandler,), {"requests": requests})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(folder))
    )
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    stopped = False

    def stop() -> None:
        nonlocal stopped
        if not stopped:
            stopped = True
            server.shutdown()
            server.server_close()
            thread.join(5)

    try:
        yield Mirror(f"http://127.0.0.1:{server.server_address[1]}/", requests, stop)
    finally:
        stop()


@contextlib.contextmanager
def hanging_mirror() -> Iterator[str]:
    """A socket that accepts connections (the kernel completes the handshake) and never answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/"
    finally:
        sock.close()


def refused_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: connections are refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"
