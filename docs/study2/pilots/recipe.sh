#!/usr/bin/env bash
# Recipe pilot (issue 29): which fine-tuning recipe Study II uses, chosen on the held-out tenth of the training set
# (never the test set: the runs below score it only because ./mae finetune always does at the end; the choice reads
# val_top1 of metrics.jsonl). ENCODER: the study's pretraining checkpoint as far as it has got (a copy, so that the
# running pretraining is not read mid-write); scratch is the same recipe on a random init with layer decay 1. 1% of the labels (60 per
# class, label seed 0), 100 epochs, the held-out split scored every 5 epochs.
#
#   docs/study2/pilots/recipe.sh ENCODER.zip RUNS
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
cd "$root"
W="$1"; R="$(mkdir -p "$2" && cd "$2" && pwd)"
common=(--labels 0.01 --label-seed 0 --epochs 100 --warmup-epochs 5 --val-every 5)
arm() { local name=$1; shift
  [ -f "$R/$name/finetune.json" ] && return
  local resume=(); [ -f "$R/$name/checkpoint.zip" ] && resume=(--resume "$R/$name/checkpoint.zip")
  local t0; t0=$(date +%s)
  echo "== $name ($(date '+%F %T')): $*" | tee -a "$R/$name.log"
  ./mae finetune "${common[@]}" "$@" --out "$R/$name" "${resume[@]}" >> "$R/$name.log" 2>&1
  echo $(( $(date +%s) - t0 )) >> "$R/$name.seconds"
}
arm mae-small --weights "$W" --recipe small-images
arm mae-reference --weights "$W" --recipe reference
arm scratch-small --random-init --preset tinyFmnist6Lite --recipe small-images --layer-decay 1
arm scratch-reference --random-init --preset tinyFmnist6Lite --recipe reference --layer-decay 1
# variants of small-images on the MAE encoder: layer decay 0.85, RandomResizedCrop >= 0.35, random erasing 0.1
arm mae-small-ld085 --weights "$W" --recipe small-images --layer-decay 0.85
arm mae-small-rrc035 --weights "$W" --recipe small-images --crop-scale 0.35
arm mae-small-re01 --weights "$W" --recipe small-images --reprob 0.1
# the best held-out top-1 of each arm (the epoch it chose), for the table in docs/results.md
for m in "$R"/*/metrics.jsonl; do
  python3 - "$m" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if '"epoch_end"' in l and 'val_top1' in l]
if rows:
    best = max(rows, key=lambda r: r['val_top1'])
    print(f"{sys.argv[1].split('/')[-2]:20s} held-out best {100 * best['val_top1']:.2f}% at epoch {best['epoch']} (last {100 * rows[-1]['val_top1']:.2f}%)")
EOF
done
