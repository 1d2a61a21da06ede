#!/usr/bin/env bash
# Side-by-side benchmark: PyTorch (../shared/bench/bench_torch.py) and mae4j (./mae bench), back to back in
# ABBA order on an otherwise idle machine, same environment (OPENBLAS_CORETYPE left as the machine has it).
# Each process runs under /usr/bin/time, whose "max RSS" line (whole process, KiB) is the memory figure.
# Usage: bash docs/bench/run_side_by_side.sh OUTDIR [config: tiny-fmnist|vit-tiny-32|vit-base-224] [step: pretrain|finetune]
# MAE4J_GEMM=openblas in the environment puts every mae4j product on OpenBLAS, as PyTorch's: the ratio then
# measures everything but the gemm kernel (a stand-in for a host where OpenBLAS beats the Java kernel).
set -euo pipefail
out="${1:?output folder}"; cfg="${2:-tiny-fmnist}"; step="${3:-pretrain}"
mkdir -p "$out"
root="$(cd "$(dirname "$0")/../.." && pwd)"
bench="$root/../shared/bench"
case "$cfg" in
  tiny-fmnist) preset=tinyFmnist; batch=256; steps=10 ;;
  vit-tiny-32) preset=vitTiny32; batch=128; steps=10 ;;
  vit-base-224) preset=maeVitBasePatch16; batch=8; steps=3 ;;
  *) echo "unknown config $cfg" >&2; exit 2 ;;
esac
case "$step" in
  pretrain) extra=() ;;
  finetune) extra=(--finetune); batch=$([ "$cfg" = vit-base-224 ] && echo 8 || echo 128); steps=5 ;;
  *) echo "unknown step $step (pretrain or finetune)" >&2; exit 2 ;;
esac
tag="$cfg-$step${MAE4J_GEMM:+-$MAE4J_GEMM}"
timed() { /usr/bin/time -f "max RSS %M KiB, wall %e s" "$@"; }
torch() { timed /usr/bin/python3 "$bench/bench_torch.py" --config "$cfg" --batch "$batch" --steps "$steps" "${extra[@]}" "$@"; }
ours() { timed "$root/mae" bench --config "$preset" --batch "$batch" --steps "$steps" --no-sgemm "${extra[@]}" "$@"; }
"$root/mae" --version > /dev/null   # build first, outside the timings
torch > "$out/$tag-torch-1.txt" 2>&1
ours --json "$out/$tag-mae4j-1.json" > "$out/$tag-mae4j-1.txt" 2>&1
ours --json "$out/$tag-mae4j-2.json" > "$out/$tag-mae4j-2.txt" 2>&1
torch > "$out/$tag-torch-2.txt" 2>&1
[ "$step" = pretrain ] && torch --encoder-only > "$out/$tag-torch-encoder.txt" 2>&1
grep -h "RESULT\|max RSS" "$out/$tag"-torch-*.txt
grep -h "img/s\|max RSS" "$out/$tag"-mae4j-*.txt
