"""Classifier FID, class coverage and the sample report: one yardstick for every model.

Every generative model of the course is judged by what a fixed digit classifier
(:mod:`coursekit.metrics.classifier`) sees in its samples:

* **classifier FID** (the "MNIST score" family of TF-GAN): fit a Gaussian to the classifier's
  penultimate-layer features of the samples and another to those of real test digits, and take
  the Fréchet distance between them. 0 means the two feature clouds have the same mean and
  covariance; blurry, noisy or mode-collapsed samples move it up.
* **class coverage**: the histogram of predicted classes, how many classes get at least a given
  share of the samples, its entropy (ln 10 = 2.303 nats for a perfectly balanced generator) and
  the classifier's mean confidence.

FID depends on the number of samples: its estimate is biased upwards, more so for small n
(Binkowski et al. 2018, "Demystifying MMD GANs", section 4). Compare models only at the same
sample count, and read it beside a real-data baseline at that count (real digits that were not
used for the reference statistics).
"""

from __future__ import annotations

import hashlib
import math
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from coursekit import data
from coursekit.checks import check_float
from coursekit.metrics.classifier import _check_dataset, classifier_record, load_classifier
from coursekit.metrics.frechet import frechet_distance, gaussian_stats
from coursekit.metrics.samples import check_samples

__all__ = [
    "MIN_SAMPLES",
    "ClassCoverage",
    "SampleReport",
    "check_samples",
    "class_coverage",
    "classifier_fid",
    "reference_stats",
    "sample_report",
]

MIN_SAMPLES = 500
_TITLES = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST"}


# --------------------------------------------------------------------------- reference statistics

_MEMO: dict[str, tuple[np.ndarray, np.ndarray, int, str]] = {}


def _reference_images(dataset: str) -> tuple[np.ndarray, str]:
    source = data.source(dataset, "test")
    images, _ = data.load(dataset, "test")
    kind = "offline fallback" if source.startswith("fallback") else "real"
    what = f"{len(images):,} {_TITLES[dataset]} test images ({kind}: {source})"
    return images.astype(np.float32) / 255.0, what


def reference_stats(
    reference: Any = None, dataset: str = "mnist"
) -> tuple[np.ndarray, np.ndarray, int, str]:
    """Feature mean [128], covariance [128, 128], count and description of the reference.

    ``reference=None`` means the test split of ``dataset`` as :func:`coursekit.data.load` gives
    it (the 10,000 real test images when available, otherwise the offline ones). Their
    statistics are computed once and cached on disk (``<data cache>/metrics/``), keyed by the
    classifier's hash and the images' own hash, so another data source gets its own entry.
    """
    _check_dataset(dataset)
    clf_sha = classifier_record(dataset)["sha256"]
    if reference is None:
        images, what = _reference_images(dataset)
    else:
        images, what = check_samples(reference, "reference", min_samples=2), ""
    digest = hashlib.sha256(np.ascontiguousarray(images).tobytes()).hexdigest()
    key = f"{dataset}-{clf_sha[:12]}-{digest[:16]}"
    if key in _MEMO:
        return _MEMO[key]
    if reference is not None:
        what = f"{len(images):,} reference images given by the caller"
    cached = _read_cache(key) if reference is None else None
    if cached is None:
        mu, cov = gaussian_stats(load_classifier(dataset).features(images))
        if reference is None:
            _write_cache(key, mu, cov, len(images), what)
        cached = (mu, cov, len(images), what)
    else:  # the description as this process sees the source (paths may read differently)
        cached = (*cached[:3], what)
    _MEMO[key] = cached
    return cached


def _cache_file(key: str):
    from coursekit.data.cache import cache_dir

    return cache_dir() / "metrics" / f"reference-{key}.npz"


def _read_cache(key: str) -> tuple[np.ndarray, np.ndarray, int, str] | None:
    path = _cache_file(key)
    try:
        with np.load(path, allow_pickle=False) as npz:
            return npz["mu"], npz["cov"], int(npz["n"]), str(npz["what"])
    except (OSError, KeyError, ValueError):
        return None


def _write_cache(key: str, mu: np.ndarray, cov: np.ndarray, n: int, what: str) -> None:
    from coursekit.io import atomic_path

    try:
        with atomic_path(_cache_file(key)) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, mu=mu, cov=cov, n=n, what=what)
    except OSError as err:  # a read-only data folder: keep the statistics in memory only
        warnings.warn(f"could not cache the FID reference statistics ({err})", stacklevel=3)


# --------------------------------------------------------------------------- the metrics


def _features_and_probs(images: np.ndarray, dataset: str) -> tuple[np.ndarray, np.ndarray]:
    feats, logits = load_classifier(dataset).features_and_logits(images)
    z = logits.astype(np.float64)
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z)
    return feats, p / p.sum(axis=1, keepdims=True)


def _fid_from_features(feats: np.ndarray, reference: Any, dataset: str) -> tuple[float, str]:
    mu_r, cov_r, _, what = reference_stats(reference, dataset)
    mu, cov = gaussian_stats(feats)
    return frechet_distance(mu, cov, mu_r, cov_r), what


def classifier_fid(
    samples: Any,
    reference: Any = None,
    *,
    dataset: str = "mnist",
    min_samples: int = MIN_SAMPLES,
) -> float:
    """Classifier FID of ``samples`` against ``reference``.

    Args:
        samples: images [n, 28, 28] or [n, 784] in [0, 1] (NumPy or a framework tensor).
        reference: images of the same kind, or None for the real test images of ``dataset``.
        dataset: ``"mnist"`` or ``"fashion_mnist"``: which classifier and reference.
        min_samples: fewer samples give an error (the estimate is too noisy and biased to
            compare); lower it only for quick checks.

    Returns:
        The squared Fréchet distance between the Gaussians fitted to the classifier's
        penultimate-layer features (float64 arithmetic).
    """
    _check_dataset(dataset)
    images = check_samples(samples, "samples", min_samples)
    feats = load_classifier(dataset).features(images)
    return _fid_from_features(feats, reference, dataset)[0]


@dataclass
class ClassCoverage:
    """Which classes a generator produces, as the classifier sees them.

    Attributes:
        histogram: share of samples per predicted class [10], summing to 1.
        counts: number of samples per predicted class [10].
        n_classes: classes with at least ``min_share`` of the samples.
        min_share: the share a class needs to count as covered.
        entropy: entropy of ``histogram`` in nats (ln 10 = 2.303 when balanced).
        confidence: mean of the classifier's top probability (1 = unambiguous images).
    """

    histogram: np.ndarray
    counts: np.ndarray
    n_classes: int
    min_share: float
    entropy: float
    confidence: float

    def __str__(self) -> str:
        shares = " ".join(f"{k}:{100 * s:.0f}%" for k, s in enumerate(self.histogram))
        return (
            f"{self.n_classes}/10 classes (>= {100 * self.min_share:g}% each), entropy "
            f"{self.entropy:.3f} nats (max {math.log(10):.3f}), confidence {self.confidence:.3f}\n"
            f"  {shares}"
        )


def _coverage_from_probs(probs: np.ndarray, min_share: float) -> ClassCoverage:
    counts = np.bincount(probs.argmax(axis=1), minlength=probs.shape[1])
    hist = counts / counts.sum()
    nz = hist[hist > 0]
    return ClassCoverage(
        histogram=hist,
        counts=counts,
        n_classes=int(np.sum(hist >= min_share)),
        min_share=min_share,
        entropy=max(0.0, float(-(nz * np.log(nz)).sum())),
        confidence=float(probs.max(axis=1).mean()),
    )


def _check_share(min_share: float) -> float:
    return check_float(min_share, "min_share", "in (0, 1]",
                       "the share of samples a class needs to count as covered")


def class_coverage(
    samples: Any, *, dataset: str = "mnist", min_share: float = 0.025
) -> ClassCoverage:
    """The histogram of predicted classes of ``samples`` ([n, 28, 28] or [n, 784] in [0, 1]).

    ``min_share`` (default 2.5%, a quarter of a balanced share) decides which classes count
    as covered in ``n_classes``.
    """
    _check_dataset(dataset)
    min_share = _check_share(min_share)
    images = check_samples(samples, "samples", 1)
    return _coverage_from_probs(_features_and_probs(images, dataset)[1], min_share)


@dataclass
class SampleReport:
    """The course's yardstick for one set of samples; ``print(report)`` shows a small table."""

    name: str
    n_samples: int
    fid: float
    coverage: ClassCoverage
    reference: str
    dataset: str = "mnist"
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        rows = [
            ("samples", f"{self.n_samples:,}"),
            ("classifier FID", f"{self.fid:.2f}  (lower is better; compare at equal n)"),
            (
                "classes covered",
                f"{self.coverage.n_classes} / 10 "
                f"(>= {100 * self.coverage.min_share:g}% of samples each)",
            ),
            ("class entropy", f"{self.coverage.entropy:.3f} nats (ln 10 = {math.log(10):.3f})"),
            ("mean confidence", f"{self.coverage.confidence:.3f}"),
            (
                "class shares",
                " ".join(f"{k}:{100 * s:.0f}%" for k, s in enumerate(self.coverage.histogram)),
            ),
            ("reference", self.reference),
        ]
        width = max(len(k) for k, _ in rows)
        title = f"sample report: {self.name}" if self.name else "sample report"
        return "\n".join([title] + [f"  {k:<{width}}  {v}" for k, v in rows])

    def as_dict(self) -> dict[str, Any]:
        """Plain numbers for JSON: name, n_samples, fid, n_classes, entropy, confidence, ..."""
        return {
            "name": self.name,
            "dataset": self.dataset,
            "n_samples": self.n_samples,
            "fid": self.fid,
            "n_classes": self.coverage.n_classes,
            "min_share": self.coverage.min_share,
            "entropy": self.coverage.entropy,
            "confidence": self.coverage.confidence,
            "histogram": [float(s) for s in self.coverage.histogram],
            "reference": self.reference,
            "seconds": self.seconds,
        }


def sample_report(
    samples: Any,
    name: str = "",
    *,
    reference: Any = None,
    dataset: str = "mnist",
    min_samples: int = MIN_SAMPLES,
    min_share: float = 0.025,
) -> SampleReport:
    """Classifier FID and class coverage of ``samples`` in one object (one classifier pass).

    Args:
        samples: images [n, 28, 28] or [n, 784] in [0, 1] (NumPy or a framework tensor),
            n >= ``min_samples``.
        name: what the samples are, for the printed title (e.g. ``"RBM, Gibbs"``).
        reference, dataset, min_samples: as in :func:`classifier_fid`.
        min_share: as in :func:`class_coverage`.
    """
    _check_dataset(dataset)
    min_share = _check_share(min_share)
    if not isinstance(name, str):
        raise ValueError(f"name (what the samples are, for the title) must be a str such as "
                         f"'RBM, Gibbs', got {type(name).__name__} {name!r:.40}")  # fmt: skip
    start = time.perf_counter()
    images = check_samples(samples, "samples", min_samples)
    feats, probs = _features_and_probs(images, dataset)
    fid, what = _fid_from_features(feats, reference, dataset)
    return SampleReport(
        name=name,
        n_samples=len(images),
        fid=fid,
        coverage=_coverage_from_probs(probs, min_share),
        reference=what,
        dataset=dataset,
        seconds=time.perf_counter() - start,
    )
