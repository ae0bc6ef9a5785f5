"""The course tooling, on top of everything else and imported by nothing in the package.

* :mod:`~coursekit.course.cli`: the ``coursekit`` command (``doctor``, ``data``, ``run``,
  ``slides``, ``results``);
* :mod:`~coursekit.course.runner`: executes the notebooks (``make run``) and renders them;
* :mod:`~coursekit.course.slides`: notebook -> self-contained reveal.js deck (``make slides``);
* :mod:`~coursekit.course.doctor`: the environment report (``coursekit doctor``);
* :mod:`~coursekit.course.results`: each lab's record of the course-wide results table;
* :mod:`~coursekit.course.families`: week 5, the four families side by side.

Below the runner and the slides, used by both:

* :mod:`~coursekit.course.notebooks`: where the course's notebooks are, and the record of how
  each was run (written by the runner, read by the slides);
* :mod:`~coursekit.course.assets`: the pinned reveal.js and MathJax (npm) and how they are
  inlined into a deck or an HTML render.
"""
