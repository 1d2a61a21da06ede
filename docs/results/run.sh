#!/usr/bin/env bash
# The Fashion-MNIST study of docs/results.md, from a fresh clone: MAE pretraining with k-NN monitoring, then the
# k-NN, linear probe and fine-tuning of its encoder, and every baseline (raw pixels, an untrained encoder, a ViT
# trained from scratch at equal steps and at equal compute). Every step resumes where it stopped: run the script
# again with the same RUNS folder and it goes on. At each stop it rewrites docs/results/results.json and copies
# the pictures (./mae results).
#
#   docs/results/run.sh [RUNS]              RUNS: the run folders (default: ../mae4j-study, outside the clone)
#   STUDY_HOURS=2.5 docs/results/run.sh     stop cleanly after 2.5 hours (the running step writes its checkpoint)
#   STUDY_SCALE=smoke docs/results/run.sh   a few hundred images and 1-2 epochs per step: checks the script only
#
# Why these sizes (docs/results.md, "Budget"): tinyFmnist6 (tinyFmnist with 6 encoder blocks, half its cost) so
# that 50 pretraining and 15 fine-tuning epochs, and a from-scratch run at the same total compute, fit the ~20 h
# of this 2-core machine. Otherwise the reference recipes are unchanged; warmups keep the reference's 5% of the
# epochs (pretraining 40 of 800, fine-tuning 5 of 100).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
R="$(mkdir -p "${1:-$root/../mae4j-study}" && cd "${1:-$root/../mae4j-study}" && pwd)"
scale="${STUDY_SCALE:-full}"
deadline=$(( $(date +%s) + $(awk -v h="${STUDY_HOURS:-1000}" 'BEGIN { printf "%d", h * 3600 }') ))

PRESET=tinyFmnist6
if [ "$scale" = full ]; then
  LIMIT=0; P_EPOCHS=50; F_EPOCHS=15; KNN_EVERY=5; KNN_TRAIN=10000; LP_EPOCHS=90; LP_WARMUP=10; A_EPOCHS=8
elif [ "$scale" = smoke ]; then
  LIMIT=640; P_EPOCHS=2; F_EPOCHS=1; KNN_EVERY=1; KNN_TRAIN=200; LP_EPOCHS=2; LP_WARMUP=1; A_EPOCHS=1
else
  echo "run.sh: STUDY_SCALE must be full or smoke, got '$scale'" >&2; exit 2
fi
P_WARMUP=$(awk -v e=$P_EPOCHS 'BEGIN { print e * 0.05 }')
F_WARMUP=$(awk -v e=$F_EPOCHS 'BEGIN { print e * 0.05 }')
A_WARMUP=$(awk -v e=$A_EPOCHS 'BEGIN { print e * 0.05 }')
echo "study ($scale) in $R; stops by $(date -d @$deadline '+%F %T')"

# step NAME PROTOCOL ENCODER RESULT_FILE -- COMMAND...: docs/results/steps.sh
source "$root/docs/results/steps.sh"

# the report of what is done so far, whatever happens next
finish() {
  ./mae results --runs "$R" --out "$root/docs/results" || true
  exit "$1"
}

M=./mae
lim=(--limit $LIMIT)

# 1. MAE pretraining (norm-pix loss, mask 0.75), k-NN of a held-out tenth every KNN_EVERY epochs
step pretrain pretrain mae "$R/pretrain.done" -- \
  $M pretrain --preset $PRESET "${lim[@]}" --epochs $P_EPOCHS --warmup-epochs "$P_WARMUP" --knn-every $KNN_EVERY --knn-train $KNN_TRAIN \
  --out "$R/pretrain"
W="$R/pretrain/checkpoint.zip"

# 2. k-NN (DINO: k 20, T 0.07, all training images as neighbours) of the test set
step knn-raw knn raw-pixels "$R/knn-raw.json" -- $M knn --raw-pixels --preset $PRESET "${lim[@]}" --out "$R/knn-raw.json"
step knn-random knn random-init "$R/knn-random.json" -- $M knn --random-init --preset $PRESET "${lim[@]}" --out "$R/knn-random.json"
step knn-mae knn mae "$R/knn-mae.json" -- $M knn --weights "$W" "${lim[@]}" --out "$R/knn-mae.json"

# 3. linear probe (the reference's: BatchNorm without affine + linear head, LARS, 90 epochs, cls token)
step linprobe-raw linprobe raw-pixels "$R/linprobe-raw/linprobe.json" -- \
  $M linprobe --raw-pixels --preset $PRESET "${lim[@]}" --epochs $LP_EPOCHS --warmup-epochs $LP_WARMUP --out "$R/linprobe-raw"
step linprobe-random linprobe random-init "$R/linprobe-random/linprobe.json" -- \
  $M linprobe --random-init --preset $PRESET "${lim[@]}" --epochs $LP_EPOCHS --warmup-epochs $LP_WARMUP --out "$R/linprobe-random"
step linprobe-mae linprobe mae "$R/linprobe-mae/linprobe.json" -- \
  $M linprobe --weights "$W" "${lim[@]}" --epochs $LP_EPOCHS --warmup-epochs $LP_WARMUP --out "$R/linprobe-mae"

# 4. fine-tuning (the reference recipe: layer decay 0.75, drop path 0.1, mixup 0.8 / cutmix 1.0, smoothing 0.1,
#    RandAugment, random erasing 0.25; best epoch on a held-out tenth, scored once on the test set)
step finetune-mae finetune mae "$R/finetune-mae/finetune.json" -- \
  $M finetune --weights "$W" "${lim[@]}" --epochs $F_EPOCHS --warmup-epochs "$F_WARMUP" --out "$R/finetune-mae"

# 5. from scratch: the same recipe on a random init, except layer decay 1 (layer decay keeps pretrained lower
#    blocks near their weights; on random weights it would only slow them: the MAE paper's from-scratch recipe
#    has none). Equal optimizer steps, then equal total compute: pretraining's epochs converted into fine-tuning
#    epochs by the two steps' median speeds (images/s in metrics.jsonl, so that other work on the machine during a
#    segment does not count), plus the fine-tuning's epochs.
step scratch-steps scratch none "$R/scratch-steps/finetune.json" -- \
  $M finetune --random-init --preset $PRESET "${lim[@]}" --layer-decay 1 --epochs $F_EPOCHS --warmup-epochs "$F_WARMUP" --out "$R/scratch-steps"
median_speed() { grep '"type":"step"' "$1" | grep -o '"samples_per_s":[0-9.eE+-]*' | cut -d: -f2 | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
images_per_epoch() { grep -o "Trainer - $1: [0-9]* samples" "$2" | head -1 | awk '{ print $4 }'; }
if [ ! -f "$R/scratch-compute.epochs" ]; then
  awk -v pe=$P_EPOCHS -v fe=$F_EPOCHS -v pv="$(median_speed "$R/pretrain/metrics.jsonl")" -v fv="$(median_speed "$R/finetune-mae/metrics.jsonl")" \
      -v pn="$(images_per_epoch pretrain "$R/pretrain.log")" -v fn="$(images_per_epoch finetune "$R/finetune-mae.log")" \
      'BEGIN { printf "%d\n", fe + int(pe * (pn / pv) / (fn / fv) + 0.5) }' > "$R/scratch-compute.epochs"
  echo "equal compute: $(cat "$R/scratch-compute.epochs") epochs from scratch"
fi
S_EPOCHS=$(cat "$R/scratch-compute.epochs")
S_WARMUP=$(awk -v e="$S_EPOCHS" 'BEGIN { print e * 0.05 }')
step scratch-compute scratch none "$R/scratch-compute/finetune.json" -- \
  $M finetune --random-init --preset $PRESET "${lim[@]}" --layer-decay 1 --epochs "$S_EPOCHS" --warmup-epochs "$S_WARMUP" --out "$R/scratch-compute"

# 6. ablations, inside the ~20 h budget, of the two readings in docs/results.md. (a) The probe on the mean of the
#    patch tokens instead of the cls token (it recovered 0.6-1.1 points at pretraining epoch 20). (b) Fine-tuning
#    under-fitted by the reference's ImageNet augmentation: the same recipe with light augmentation (RandomResizedCrop
#    of at least half the image + flip; no RandAugment, mixup, cutmix or random erasing) for A_EPOCHS epochs, from
#    the MAE encoder and from a random init at equal steps, so that what pretraining buys is measured under it too.
step linprobe-mae-mean linprobe mae "$R/linprobe-mae-mean/linprobe.json" -- \
  $M linprobe --weights "$W" "${lim[@]}" --pool mean --epochs $LP_EPOCHS --warmup-epochs $LP_WARMUP --out "$R/linprobe-mae-mean"
LIGHT=(--aa none --mixup 0 --cutmix 0 --reprob 0 --crop-scale 0.5)
step finetune-mae-light finetune mae "$R/finetune-mae-light/finetune.json" -- \
  $M finetune --weights "$W" "${lim[@]}" "${LIGHT[@]}" --epochs $A_EPOCHS --warmup-epochs "$A_WARMUP" --out "$R/finetune-mae-light"
step scratch-light scratch none "$R/scratch-light/finetune.json" -- \
  $M finetune --random-init --preset $PRESET "${lim[@]}" --layer-decay 1 "${LIGHT[@]}" --epochs $A_EPOCHS --warmup-epochs "$A_WARMUP" \
  --out "$R/scratch-light"

echo "study: every step done"
finish 0
