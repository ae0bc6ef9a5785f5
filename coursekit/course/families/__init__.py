"""The four families side by side: the closing notebook's records, table and figures.

Every lab records one row of the course-wide results table
(:mod:`coursekit.course.results`), with its first 64 samples. The closing notebook (week 5)
shows those rows without training anything::

    from coursekit.course import families
    chosen = families.choose_records()        # which record of each model, and from where
    print(chosen)                              # one line per row: its source; what was passed over
    families.sample_grids(chosen.rows)         # one sample grid per family and framework
    families.quality_vs_cost(chosen.rows)      # classifier FID against training / sampling time
    families.coverage_histograms(chosen.rows)  # the predicted-class histogram of every model

One concept a module, all re-exported here:

* :mod:`~coursekit.course.families.records`: which records to show (committed or this run's,
  full mode unless smoke is asked for), and what the others share about a row;
* :mod:`~coursekit.course.families.summary`: the table and the markdown texts, every number
  from the records;
* :mod:`~coursekit.course.families.figures`: sample grids, quality against cost, class coverage.

The subpackage is framework-free: NumPy and matplotlib, imported when a function needs them.
"""

from __future__ import annotations

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
    "SMOKE_COLOUR",
    "SOURCES",
    "Selection",
    "choose_records",
    "committed_dir",
    "cost_summary",
    "cost_text",
    "coverage_histograms",
    "family_facts",
    "likelihood_summary",
    "likelihood_text",
    "quality_vs_cost",
    "real_digit_fids",
    "sample_descriptions",
    "sample_grids",
    "table",
]
