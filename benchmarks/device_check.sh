#!/bin/bash
# A GPU session's checks, in two calls that each fit a lent machine's
# 10-minute limit: the GPU tests and GPU throughput; then a short CIFAR-10N
# run on all 50,000 images with CifarResNet18.
#
#   bash benchmarks/device_check.sh OUT_DIR checks
#   bash benchmarks/device_check.sh OUT_DIR cifar CIFAR10N_DIR [EPOCHS]
#
# OUT_DIR receives every log and result file. CIFAR10N_DIR holds CIFAR-10N as
# ../shared/data/cifar10n ships it (cifar10_jpeg.npz, make_cifar10_batches.py,
# CIFAR-10_human.pt). EPOCHS (default 10) sizes that run to a short lease: the
# full benchmark is `bash benchmarks/cifar10n.sh gpu DATA_DIR LABEL_FILE`
# (100 epochs, cleanlab too).
#
# Each step is bounded by `timeout` and its failure does not stop the next, so
# that one call brings back everything that worked; the exit status is that
# of the first step that failed. The last lines printed are a summary table.
set -uo pipefail
out=${1:?OUT_DIR}
what=${2:?checks or cifar}
case "$what" in
checks | cifar) ;;
*) echo "the second argument must be checks or cifar, not '$what'" >&2; exit 2 ;;
esac
mkdir -p "$out"
status=0
summary=()

step() {
  # step NAME SECONDS COMMAND...: run COMMAND, log it to OUT_DIR/NAME.txt.
  local name=$1 seconds=$2
  shift 2
  local start=$SECONDS rc
  timeout "$seconds" "$@" >"$out/$name.txt" 2>&1
  rc=$?
  summary+=("$(printf '%-28s rc=%-3s %5ss' "$name" "$rc" "$((SECONDS - start))")")
  if [ "$rc" -ne 0 ] && [ "$status" -eq 0 ]; then status=$rc; fi
  tail -n 3 "$out/$name.txt"
}

step device 30 python3 -c "import torch, skorch, sknoisy; \
print(torch.__version__, skorch.__version__, torch.cuda.get_device_name())"
case "$what" in
checks)
  step test_gpu 200 python3 -m pytest -q -m gpu tests/test_gpu.py \
    -p no:cacheprovider
  step throughput_mlp 100 python3 benchmarks/throughput.py --device cuda \
    --epochs 20 --repeats 3
  step throughput_cnn32 150 python3 benchmarks/throughput.py --device cuda \
    --model cnn32 --rows 20000 --epochs 3 --repeats 3
  ;;
cifar)
  cifar=${3:?CIFAR10N_DIR}
  epochs=${4:-10}
  step cifar_batches 90 python3 "$cifar/make_cifar10_batches.py" /tmp/cifar
  step cifar10n_worse 420 python3 -m sknoisy benchmark --dataset cifar10n \
    --data-dir /tmp/cifar/cifar-10-batches-py \
    --label-file "$cifar/CIFAR-10_human.pt" --noise human:worse \
    --methods plain,alr,wrong-event --epochs "$epochs" --device cuda \
    --module cifar-resnet18 --results "$out/cifar10n_gpu_short.jsonl" \
    --json "$out/cifar10n_gpu_short.json"
  ;;
esac
printf '%s\n' "${summary[@]}"
exit "$status"
