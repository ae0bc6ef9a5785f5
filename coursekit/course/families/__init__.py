"""The four families side by side: the closing notebook's records, table and figures.

Every lab records one row of the course-wide results table
(:mod:`coursekit.course.results`), with its first ``N_COMPARE`` (500) samples. The closing
notebook (week 5) compares those rows at one sample count without training anything::

    from coursekit.course import families
    chosen = families.choose_records()        # which record of each model, and from where
    print(chosen)                              # one line per row: its source; what was passed over
    scores = families.compare(chosen.rows)     # every family, a PCA + GMM baseline and real
    print(scores)                              #   digits scored at n = 500; what was not scored
    families.comparison_table(scores)          # the table at that n
    families.sample_grids(chosen.rows, comparison=scores)  # one grid per family, the baseline's
    families.quality_vs_cost(scores)           # FID at n against training / per-sample time
    families.coverage_histograms(scores)       # the predicted-class histogram of every entry

One concept a module, all re-exported here:

* :mod:`~coursekit.course.families.records`: which records to show (committed or this run's,
  full mode unless smoke is asked for), and what the others share about a row;
* :mod:`~coursekit.course.families.compare`: every family, the baseline and real digits
  scored at one ``n``; mixed ``n`` refused;
* :mod:`~coursekit.course.families.baseline`: PCA + Gaussian mixture in NumPy, the baseline;
* :mod:`~coursekit.course.families.summary`: the markdown texts, every number from the records
  and the scores;
* :mod:`~coursekit.course.families.figures`: sample grids, quality against cost, class coverage.

The subpackage is framework-free: NumPy and matplotlib, imported when a function needs them.
"""

from __future__ import annotations

from coursekit.course.families.baseline import PCAGaussianMixture, fit_pca_gmm
from coursekit.course.families.compare import (
    SAMPLE_KINDS,
    Comparison,
    Entry,
    bernoulli_draws,
    buys_text,
    check_same_n,
    compare,
    comparison_table,
    fid_tie_band,
    fid_verdict,
    seconds_per_sample,
    subsample,
)
from coursekit.course.families.figures import (
    FAMILY_STYLE,
    SMOKE_COLOUR,
    coverage_histograms,
    quality_vs_cost,
    sample_grids,
)
from coursekit.course.families.records import (
    COMMITTED_RECORDS,
    FAMILIES,
    SOURCES,
    Selection,
    choose_records,
    committed_dir,
)
from coursekit.course.families.summary import (
    cost_summary,
    cost_text,
    family_facts,
    likelihood_summary,
    likelihood_text,
    real_digit_fids,
    sample_descriptions,
    table,
)

__all__ = [
    "COMMITTED_RECORDS",
    "FAMILIES",
    "FAMILY_STYLE",
    "SAMPLE_KINDS",
    "SMOKE_COLOUR",
    "SOURCES",
    "Comparison",
    "Entry",
    "PCAGaussianMixture",
    "Selection",
    "bernoulli_draws",
    "buys_text",
    "check_same_n",
    "choose_records",
    "committed_dir",
    "compare",
    "comparison_table",
    "cost_summary",
    "cost_text",
    "coverage_histograms",
    "family_facts",
    "fid_tie_band",
    "fid_verdict",
    "fit_pca_gmm",
    "likelihood_summary",
    "likelihood_text",
    "quality_vs_cost",
    "real_digit_fids",
    "sample_descriptions",
    "sample_grids",
    "seconds_per_sample",
    "subsample",
    "table",
]
