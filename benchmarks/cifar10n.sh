#!/bin/bash
# CIFAR-10N benchmark: plain training, WrongEventClassifier, ALRClassifier and
# cleanlab (5 folds, same network) on CIFAR-10N's human label sets.
#
#   bash benchmarks/cifar10n.sh cpu DATA_DIR LABEL_FILE   # 10,000-image subset, SmallCNN, 20 epochs
#   bash benchmarks/cifar10n.sh gpu DATA_DIR LABEL_FILE   # all 50,000, CifarResNet18, 100 epochs, cuda
#
# DATA_DIR holds the official "CIFAR-10 python version" batches
# (cifar-10-batches-py); LABEL_FILE is CIFAR-10N's CIFAR-10_human.pt. Finished
# results go to benchmarks/results/cifar10n_<kind>.jsonl as they end, keyed by
# every parameter and a hash of sknoisy's source: rerunning the same command
# from the same commit resumes where it stopped (run it from a fixed checkout,
# e.g. a git worktree, while you edit the code).
set -euo pipefail
kind=${1:?cpu or gpu}
data_dir=${2:?DATA_DIR}
label_file=${3:?LABEL_FILE}
case "$kind" in
  cpu) args=(--train-size 10000 --epochs 20 --device cpu) ;;
  gpu) args=(--epochs 100 --device cuda --module cifar-resnet18) ;;
  *) echo "kind must be cpu or gpu" >&2; exit 2 ;;
esac
out=benchmarks/results
for labels in aggre random1 worse; do
  python -m sknoisy benchmark --dataset cifar10n --data-dir "$data_dir" \
    --label-file "$label_file" --noise "human:$labels" \
    --methods plain,wrong-event,alr,cleanlab "${args[@]}" \
    --results "$out/cifar10n_$kind.jsonl" \
    --json "$out/cifar10n_${kind}_$labels.json" \
    --csv "$out/cifar10n_${kind}_$labels.csv"
done
