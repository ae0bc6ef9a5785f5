"""The course tooling, on top of everything else and imported by nothing in the package.

* :mod:`~coursekit.course.cli`: the ``coursekit`` command (``doctor``, ``data``, ``run``,
  ``slides``, ``results``);
* :mod:`~coursekit.course.runner`: executes the notebooks (``make run``) and renders them;
* :mod:`~coursekit.course.slides`: notebook -> self-contained reveal.js deck (``make slides``);
* :mod:`~coursekit.course.doctor`: the environment report (``coursekit doctor``);
* :mod:`~coursekit.course.results`: each lab's record of the course-wide results table;
* :mod:`~coursekit.course.families`: week 5, the four families side by side.
"""
