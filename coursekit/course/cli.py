"""The ``coursekit`` command: ``doctor``, ``data``, ``run``, ``results``, ``slides`` and
``exercises``.

Errors a user can fix (a bad mode, an unknown week, data that cannot be had, a missing build
folder, a folder that cannot be written) print one line ``coursekit: error: ...`` and exit with
status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from coursekit import config, data
from coursekit.course import doctor, exercises, results, runner
from coursekit.course.book.cli import add_book_parser
from coursekit.course.slides.cli import add_slides_parser
from coursekit.io import display_path

DATASETS = ("mnist", "fashion_mnist")


def _cmd_doctor(args: argparse.Namespace) -> int:
    doctor.print_report()
    return 0


def _dataset_names(names: Sequence[str]) -> list[str]:
    """The data sets asked for (all when none is named); an unknown name is an error."""
    unknown = [n for n in names if n not in DATASETS]
    if unknown:
        raise ValueError(f"unknown data set {unknown[0]!r}; expected one of {', '.join(DATASETS)}.")
    return list(dict.fromkeys(names)) or list(DATASETS)


def _cmd_data(args: argparse.Namespace) -> int:
    names = _dataset_names(args.names)
    if args.action == "list":
        print(f"cache folder: {display_path(data.cache_dir())}")
        network = "allowed" if data.network_allowed() else f"off: {data.offline_reason()}"
        print(f"network: {network}")
        for name in names:
            print(f"\n{name}")
            for split in ("train", "test"):
                print(f"  {split:<5}  {data.source(name, split)}")
            for filename, path in data.cached(name).items():
                print(f"  {filename:<28} {display_path(path) if path else '-'}")
        return 0
    for name in names:
        paths = data.fetch(name)
        print(f"{name}: {len(paths)} files verified")
        for path in paths:
            print(f"  {display_path(path)}")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    outcomes = runner.run_course(
        mode=args.mode,
        week=args.week,
        root=Path(args.notebooks),
        build=Path(args.build),
        in_place=args.in_place,
        timeout=args.timeout,
    )
    return 0 if all(r.status == "ok" for r in outcomes) else 1


def _positive_seconds(text: str) -> int:
    """argparse type: a whole number of seconds > 0."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(
            f"must be a positive whole number of seconds, got {text!r}"
        )
    return value


def _cmd_results(args: argparse.Namespace) -> int:
    build = Path(args.build)
    if not build.is_dir():
        what = "a file" if build.exists() else "missing"
        raise ValueError(
            f"--build {display_path(build)} is {what}; it must be the folder a run wrote "
            "(run the labs first with `make run`, or give that folder)"
        )
    if args.records is not None and args.records.exists() and not args.records.is_dir():
        raise ValueError(f"--records {display_path(args.records)} is a file; it must be the "
                         "folder the records are copied to")  # fmt: skip
    folder = build / "results"
    path = results.write_table(args.out or Path(args.build) / "results.md", folder, args.mode)
    print(path.read_text(encoding="utf-8"))
    print(f"written: {path}")
    if args.records is not None:
        copied = results.copy_records(args.records, folder, args.mode)
        print(f"copied {len(copied)} records (with their samples) to {args.records}")
    return 0


def _cmd_exercises(args: argparse.Namespace) -> int:
    exercises.write_student_versions(root=Path(args.notebooks), out=Path(args.out), week=args.week)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and documentation)."""
    parser = argparse.ArgumentParser(
        prog="coursekit",
        description="Deep generative models course: environment check, data and notebook runs.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    doctor_cmd = sub.add_parser("doctor", help="print the environment report")
    doctor_cmd.set_defaults(func=_cmd_doctor)

    data_cmd = sub.add_parser("data", help="list or fetch the data sets")
    data_cmd.add_argument("action", choices=("list", "fetch"))
    data_cmd.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help=f"data sets to list or fetch: {', '.join(DATASETS)} (default: all)",
    )
    data_cmd.set_defaults(func=_cmd_data)

    run_cmd = sub.add_parser("run", help="execute the notebooks into build/ and print a summary")
    run_cmd.add_argument(
        "--mode",
        choices=config.MODES,
        default=None,
        help=f"full or smoke (default: ${config.MODE_ENV}, else full)",
    )
    run_cmd.add_argument("--week", default=None, help="only this week, e.g. 1 or week1")
    run_cmd.add_argument(
        "--notebooks", default="notebooks", help="notebook folder (default: notebooks)"
    )
    run_cmd.add_argument("--build", default="build", help="output folder (default: build)")
    run_cmd.add_argument(
        "--in-place",
        action="store_true",
        help="write the outputs back into the source notebooks (maintainers, full mode)",
    )
    run_cmd.add_argument(
        "--timeout",
        type=_positive_seconds,
        default=3600,
        help="seconds allowed per cell, a positive whole number (default: 3600)",
    )
    run_cmd.set_defaults(func=_cmd_run)

    results_cmd = sub.add_parser(
        "results", help="collect the labs' records into the course-wide results table"
    )
    results_cmd.add_argument("--build", default="build", help="build folder (default: build)")
    results_cmd.add_argument("--mode", choices=config.MODES, default=None,
                             help="only records of this mode (default: all)")
    results_cmd.add_argument("--out", type=Path, default=None,
                             help="the markdown file to write (default: <build>/results.md)")
    results_cmd.add_argument("--records", type=Path, default=None,
                             help="also copy the records and their samples to this folder "
                                  "(make outputs: benchmarks/results/course)")
    results_cmd.set_defaults(func=_cmd_results)

    add_slides_parser(sub)
    add_book_parser(sub)

    exercises_cmd = sub.add_parser(
        "exercises",
        help="student versions of the labs, solutions removed, into build/exercises/",
        description="Write a student version of every notebook with solution regions "
        f"({exercises.BEGIN} ... {exercises.END}): each region replaced by a stub that raises "
        "NotImplementedError, every output cleared. The notebooks themselves are only read.",
    )
    exercises_cmd.add_argument("week", nargs="?", default=None,
                               help="only this week, e.g. 1 or week1 (default: every week)")
    exercises_cmd.add_argument(
        "--notebooks", default="notebooks", help="notebook folder (default: notebooks)"
    )
    exercises_cmd.add_argument("--out", default=str(exercises.EXERCISES_ROOT),
                               help=f"output folder (default: {exercises.EXERCISES_ROOT})")
    exercises_cmd.set_defaults(func=_cmd_exercises)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``coursekit`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, data.DataError) as exc:
        print(f"coursekit: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a read-only or full disk, a file where a folder belongs, ...
        where = f": {exc.filename}" if exc.filename else ""
        print(f"coursekit: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("coursekit: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
