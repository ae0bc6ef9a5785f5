"""One yardstick for every generative model of the course: classifier FID and class coverage.

A small CNN digit classifier, trained by the project (:mod:`coursekit.torch.classifier`) and
committed as a framework-free ``.npz`` file, looks at a model's samples::

    from coursekit import metrics
    report = metrics.sample_report(samples, "RBM, Gibbs")   # samples [n, 28, 28] in [0, 1]
    print(report)                     # FID, classes covered, entropy, confidence, reference
    metrics.classifier_fid(samples)   # just the FID
    metrics.class_coverage(samples)   # just the class histogram
    metrics.neighbour_accuracy(train_codes, train_labels, codes, labels)  # labels a code keeps

Inputs are NumPy arrays or framework tensors; everything is evaluated with NumPy, so the
number does not depend on the framework that trained the model. FID depends on the sample
count: compare models at the same count (see :mod:`coursekit.metrics.report`).
"""

from coursekit.metrics.classifier import (
    NumpyClassifier,
    WeightsError,
    classifier_record,
    load_classifier,
)
from coursekit.metrics.codes import neighbour_accuracy, neighbour_labels
from coursekit.metrics.frechet import frechet_distance, gaussian_stats
from coursekit.metrics.report import (
    MIN_SAMPLES,
    ClassCoverage,
    SampleReport,
    check_samples,
    class_coverage,
    classifier_fid,
    reference_stats,
    sample_report,
)

__all__ = [
    "MIN_SAMPLES",
    "ClassCoverage",
    "NumpyClassifier",
    "SampleReport",
    "WeightsError",
    "check_samples",
    "class_coverage",
    "classifier_fid",
    "classifier_record",
    "frechet_distance",
    "gaussian_stats",
    "load_classifier",
    "neighbour_accuracy",
    "neighbour_labels",
    "reference_stats",
    "sample_report",
]
