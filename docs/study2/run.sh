#!/usr/bin/env bash
# Study II (issue 29): where MAE pretraining pays. Pretrain once on all 60,000 Fashion-MNIST training images (no
# labels), then for 1%, 10% and 100% of the labels: fine-tuning and partial fine-tuning of the MAE encoder, a ViT
# from scratch (same recipe, same optimizer steps; at 100% also the same total compute as pretraining +
# fine-tuning), the linear probe and k-NN of the MAE encoder (mean-pooled and cls), and of raw pixels. Three label
# seeds at 1% and 10%, one at 100%. Every step resumes where it stopped: run the script again with the same RUNS.
#
#   docs/study2/run.sh [RUNS]               RUNS: the run folders (default: ../mae4j-study2, outside the clone)
#   STUDY_HOURS=2.4 docs/study2/run.sh      stop cleanly after 2.4 hours (the running step writes its checkpoint)
#   STUDY_ONLY=pretrain docs/study2/run.sh  stop after the pretraining
#   STUDY_SCALE=smoke docs/study2/run.sh    a few hundred images and 1-2 epochs per step: checks the script only
#
# A fresh machine continues the pretraining from the copy committed in docs/study2/continue/ (see its README) when
# RUNS has no checkpoint of its own.
#
# Why these sizes: docs/results.md, "Study II: budget". The decoder is tinyFmnist6Lite's (one block of width 128,
# chosen by the decoder pilot), the fine-tuning recipe small-images (chosen by the recipe pilot on the held-out split).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
R="$(mkdir -p "${1:-$root/../mae4j-study2}" && cd "${1:-$root/../mae4j-study2}" && pwd)"
scale="${STUDY_SCALE:-full}"
deadline=$(( $(date +%s) + $(awk -v h="${STUDY_HOURS:-1000}" 'BEGIN { printf "%d", h * 3600 }') ))

PRESET=tinyFmnist6Lite
if [ "$scale" = full ]; then
  LIMIT=0; P_EPOCHS=200; KNN_EVERY=10; KNN_TRAIN=10000; SEEDS_FEW="0 1 2"
  declare -A F_EPOCHS=([0.01]=100 [0.1]=50 [1]=20)
elif [ "$scale" = smoke ]; then
  LIMIT=1000; P_EPOCHS=2; KNN_EVERY=1; KNN_TRAIN=200; SEEDS_FEW="0 1"
  declare -A F_EPOCHS=([0.1]=2 [1]=1)
else
  echo "study2: STUDY_SCALE must be full or smoke, got '$scale'" >&2; exit 2
fi
P_WARMUP=$(awk -v e=$P_EPOCHS 'BEGIN { print e * 0.05 }')
echo "study II ($scale) in $R; stops by $(date -d @$deadline '+%F %T')"

source "$root/docs/results/steps.sh"
finish() {
  ./mae results --runs "$R" --out "$root/docs/study2" || true
  exit "$1"
}
M=./mae
lim=(--limit $LIMIT)

# 1. MAE pretraining on every training image (no labels), k-NN (mean-pooled features) of a held-out tenth every KNN_EVERY epochs
if [ ! -f "$R/pretrain/checkpoint.zip" ] && [ -f "$root/docs/study2/continue/checkpoint.zip" ] && [ "$scale" = full ]; then
  mkdir -p "$R/pretrain"
  cp "$root/docs/study2/continue/checkpoint.zip" "$root/docs/study2/continue/metrics.jsonl" "$R/pretrain/"
  cp "$root/docs/study2/continue/pretrain.seconds" "$R/pretrain.seconds"
  echo "study2: pretraining continues from the committed copy (docs/study2/continue/)"
fi
step pretrain pretrain mae "$R/pretrain.done" -- \
  $M pretrain --preset $PRESET "${lim[@]}" --epochs $P_EPOCHS --warmup-epochs "$P_WARMUP" --knn-every $KNN_EVERY --knn-train $KNN_TRAIN --knn-pool mean \
  --out "$R/pretrain"
W="$R/pretrain/checkpoint.zip"
[ "${STUDY_ONLY:-}" = pretrain ] && { echo "study2: pretraining done (STUDY_ONLY=pretrain)"; finish 0; }

# 2. per label fraction, cheapest first so that the table fills in that order
for L in $(printf '%s\n' "${!F_EPOCHS[@]}" | sort -g); do
  E=${F_EPOCHS[$L]}
  seeds=$SEEDS_FEW; [ "$L" = 1 ] && seeds=0
  for S in $seeds; do
    tag="l$L-s$S"; lab=(--labels "$L" --label-seed "$S")
    step knn-raw-$tag knn raw-pixels "$R/knn-raw-$tag.json" -- $M knn --raw-pixels --preset $PRESET "${lim[@]}" "${lab[@]}" --out "$R/knn-raw-$tag.json"
    step knn-mae-mean-$tag knn mae "$R/knn-mae-mean-$tag.json" -- $M knn --weights "$W" --pool mean "${lim[@]}" "${lab[@]}" --out "$R/knn-mae-mean-$tag.json"
    step knn-mae-cls-$tag knn mae "$R/knn-mae-cls-$tag.json" -- $M knn --weights "$W" --pool cls "${lim[@]}" "${lab[@]}" --out "$R/knn-mae-cls-$tag.json"
    step linprobe-raw-$tag linprobe raw-pixels "$R/linprobe-raw-$tag/linprobe.json" -- \
      $M linprobe --raw-pixels --preset $PRESET "${lim[@]}" "${lab[@]}" --out "$R/linprobe-raw-$tag"
    step linprobe-mae-mean-$tag linprobe mae "$R/linprobe-mae-mean-$tag/linprobe.json" -- \
      $M linprobe --weights "$W" --pool mean "${lim[@]}" "${lab[@]}" --out "$R/linprobe-mae-mean-$tag"
    step linprobe-mae-cls-$tag linprobe mae "$R/linprobe-mae-cls-$tag/linprobe.json" -- \
      $M linprobe --weights "$W" --pool cls "${lim[@]}" "${lab[@]}" --out "$R/linprobe-mae-cls-$tag"
    ft=(--recipe small-images "${lim[@]}" "${lab[@]}" --epochs "$E" --warmup-epochs "$(awk -v e="$E" 'BEGIN { print e * 0.05 }')")
    step finetune-mae-$tag finetune mae "$R/finetune-mae-$tag/finetune.json" -- $M finetune --weights "$W" "${ft[@]}" --out "$R/finetune-mae-$tag"
    step partial-mae-$tag finetune mae "$R/partial-mae-$tag/finetune.json" -- \
      $M finetune --weights "$W" "${ft[@]}" --trainable-blocks 1 --out "$R/partial-mae-$tag"
    # from scratch: the same recipe and steps, layer decay 1 (layer decay only slows random lower blocks)
    step scratch-$tag scratch none "$R/scratch-$tag/finetune.json" -- \
      $M finetune --random-init --preset $PRESET "${ft[@]}" --layer-decay 1 --out "$R/scratch-$tag"
  done
done

echo "study2: every step done"
finish 0
