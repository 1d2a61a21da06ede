#!/usr/bin/env bash
# As run (2026-12-08) from a clone of main at 6eb5465 plus one pilot-only commit (268b748, not on main) that added the
# presets pilotDec1x128 (= tinyFmnist6Lite), pilotDec2x128 and pilotDec2x96. The 2x128 arm was dropped during the run
# (the machine was shared with builds; see decoder2.sh) and the 4x96 arm scores its k-NN at the end only.
# Decoder pilot (issue 29): three decoders for the tinyFmnist6 encoder at equal hours (20 min of quiet-machine
# training each, from measured epoch times 152 / 117 / 98 s per 60k), k-NN of the held-out tenth.
set -u
cd /work/study2/pilot
export MAE4J_CACHE_DIR=/work/study2/cache
R=/work/study2/runs
arm() { local name=$1 preset=$2 epochs=$3
  [ -f "$R/$name.done" ] && return
  local resume=(); [ -f "$R/$name/checkpoint.zip" ] && resume=(--resume "$R/$name/checkpoint.zip")
  local t0=$(date +%s)
  ./mae pretrain --preset $preset --epochs $epochs --warmup-epochs $(awk -v e=$epochs 'BEGIN{print e*0.05}') \
     --knn-every 2 --knn-train 10000 --out "$R/$name" "${resume[@]}" >> "$R/$name.log" 2>&1 && touch "$R/$name.done"
  echo $(( $(date +%s) - t0 )) >> "$R/$name.seconds"
}
arm dec1x128 pilotDec1x128 12
arm dec4x96 tinyFmnist6 8
arm dec2x128 pilotDec2x128 10
