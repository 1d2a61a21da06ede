#!/usr/bin/env bash
# Decoder pilot, second part: waits for the 1x128 arm (pid 2812) to end, then the baseline decoder 4x96 at equal
# hours (8 epochs), k-NN at the end only (the curve is not needed for the choice). The 2x128 arm was dropped: the machine is shared with builds this session and the pilot must
# end in time to start the long pretraining.
set -u
cd /work/study2/pilot
export MAE4J_CACHE_DIR=/work/study2/cache
R=/work/study2/runs
while kill -0 2812 2>/dev/null; do sleep 10; done
grep -q '"type":"epoch_end","epoch":12,' $R/dec1x128/metrics.jsonl && touch $R/dec1x128.done
t0=$(date +%s)
./mae pretrain --preset tinyFmnist6 --epochs 8 --warmup-epochs 0.4 --knn-every 8 --knn-train 10000 --out "$R/dec4x96" >> "$R/dec4x96.log" 2>&1 && touch "$R/dec4x96.done"
echo $(( $(date +%s) - t0 )) >> "$R/dec4x96.seconds"
