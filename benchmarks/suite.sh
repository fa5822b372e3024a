#!/bin/bash
# The defaults suite (issue #16): every method on eight real tables, four kinds
# of injected noise, three seeds, in one `sknoisy benchmark` run.
#
#   bash benchmarks/suite.sh TABULAR_DIR [NAME] [extra sknoisy benchmark options]
#
# TABULAR_DIR holds satellite, shuttle, dna, adult and diamonds as Parquet
# (../shared/data/tabular here); digits, wine and breast_cancer ship with
# scikit-learn. Tables over 4,000 rows are subsampled per seed (stratified,
# every row of a class under 1,000 rows kept); 60 epochs. Finished results go
# to benchmarks/results/suite_NAME.jsonl as they end, keyed by every parameter
# and a hash of sknoisy's source: rerunning the same command from the same
# commit resumes where it stopped (run it from a fixed checkout, e.g. a git
# worktree, while you edit the code). NAME defaults to "defaults"; the table,
# the won/tied/lost summary and the per-class figures go to
# benchmarks/results/suite_NAME.txt.
set -euo pipefail
tables=${1:?TABULAR_DIR}
name=${2:-defaults}
shift $(( $# >= 2 ? 2 : 1 ))
out=benchmarks/results
python -m sknoisy benchmark \
  --dataset digits wine breast_cancer \
    "$tables/satellite.parquet:class" "$tables/shuttle.parquet:class" \
    "$tables/dna.parquet:class" "$tables/adult.parquet:income" \
    "$tables/diamonds.parquet:cut" \
  --noise symmetric:0.2 symmetric:0.4 pair:0.3 instance:0.3 \
  --seeds 0 1 2 --epochs 60 --max-rows 4000 --ceiling \
  --methods plain,wrong-event,alr,cleanlab \
  --results "$out/suite_$name.jsonl" \
  --json "$out/suite_$name.json" --csv "$out/suite_$name.csv" "$@" \
  > "$out/suite_$name.txt.part"
mv "$out/suite_$name.txt.part" "$out/suite_$name.txt"
