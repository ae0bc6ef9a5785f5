"""``python -m coursekit.course.slides [WEEK] ...``: the same as ``coursekit slides``."""

import sys

from coursekit.course.slides.cli import main

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
