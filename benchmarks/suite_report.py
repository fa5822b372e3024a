"""Report a suite from its results files, a later file's rows replacing earlier ones.

After a change to one method, rerun the suite for that method only
(``bash benchmarks/suite.sh DIR NAME --methods wrong-event``) and report it
beside the other methods' rows of the full run:

    python benchmarks/suite_report.py benchmarks/results/suite_defaults.jsonl \\
        benchmarks/results/suite_ido_fix1.jsonl

A row is keyed by data set (its file name), noise setting, seed and method;
the last file holding a key wins. The splits depend on the seed only, so rows
of runs from different code are comparable where the code of the methods they
hold did not change: the report lists which code (``code_fingerprint``) each
method's rows come from.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import os

from sknoisy.benchmark import (
    CEILING,
    MethodResult,
    compare,
    format_class_recalls,
    format_comparison,
    format_table,
    summarise,
)


def data_name(data: str) -> str:
    """A data set's name without the folder it was read from (``PATH:column``
    becomes ``FILE:column``), so that runs from different folders match."""
    path, sep, column = data.rpartition(":")
    return os.path.basename(path) + sep + column if sep else os.path.basename(data)


def load(paths) -> tuple[list[MethodResult], dict]:
    rows, codes = {}, collections.defaultdict(set)
    for path in paths:
        with open(path) as handle:
            for line in handle:
                if not line.strip():
                    continue
                record = json.loads(line)
                context, result = record["context"], record["result"]
                row = MethodResult(**result)
                row.data = data_name(context["data"])
                key = (row.data, row.noise, row.seed, row.method)
                rows[key] = (row, context["code"])
    results = []
    for row, code in rows.values():
        results.append(row)
        codes[row.method].add(code)
    # The ceiling is trained once per data set and seed (its stored noise is
    # the first setting's): show it under every noise setting of the cell.
    settings = {(r.data, r.seed): {} for r in results}  # in order of appearance
    for r in results:
        settings[(r.data, r.seed)][r.noise] = None
    for row in [r for r in results if r.method == CEILING]:
        for noise in settings[(row.data, row.seed)]:
            if noise != row.noise:
                results.append(dataclasses.replace(row, noise=noise))
    # The time ratio is against plain training of the same cell and seed.
    plain = {
        (r.data, r.noise, r.seed): r.fit_seconds for r in results if r.method == "plain"
    }
    for row in results:
        seconds = plain.get((row.data, row.noise, row.seed))
        if seconds:
            row.time_vs_plain = row.fit_seconds / seconds
    return results, codes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", help="JSON-lines results files")
    args = parser.parse_args(argv)
    results, codes = load(args.results)
    print(format_table(summarise(results)))
    print()
    print(format_comparison(compare(results)))
    per_class = format_class_recalls(results)
    if per_class:
        print()
        print(per_class)
    print()
    print(
        "Code of each method's rows: "
        + "; ".join(
            f"{method} {', '.join(sorted(code))}" for method, code in codes.items()
        )
    )


if __name__ == "__main__":
    main()
