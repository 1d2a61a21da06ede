# Shared by the studies' scripts (docs/results/run.sh, docs/study2/run.sh); sourced, not run. The caller sets
# R (the run folders), deadline (epoch seconds), P_EPOCHS (the pretraining's epochs) and M (./mae), and defines
# finish CODE (writes the report of what is done, then exits).
#
# step NAME PROTOCOL ENCODER RESULT_FILE -- COMMAND...: runs the command unless RESULT_FILE exists, resuming the run
# folder $R/NAME when it holds a checkpoint; records the command (without --resume), its wall seconds and its row.
step() {
  local name="$1" protocol="$2" encoder="$3" result="$4"; shift 5
  [ -e "$result" ] && return 0
  local left=$(( deadline - $(date +%s) ))
  if [ "$left" -lt 120 ]; then echo "study: time budget reached before $name; run again to continue"; finish 0; fi
  local resume=()
  if [ -f "$R/$name/checkpoint.zip" ]; then
    resume=(--resume "$R/$name/checkpoint.zip")
  elif [ -d "$R/$name" ]; then
    rm -rf "${R:?}/$name"   # stopped before its first checkpoint: nothing in it to continue from
  fi
  printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$protocol" "$encoder" "${result#"$R"/}" "${*//$R/RUNS}" > "$R/$name.row"
  echo "== $name ($(date '+%F %T')): $* ${resume[*]}"
  # a segment killed outright (SIGKILL at a session's end) never reached the accounting below: count its time up to
  # its log's last write, so that the study's hours stay the wall clock it really took
  if [ -f "$R/$name.running" ]; then
    if [ -f "$R/$name.log" ]; then
      echo $(( $(stat -c %Y "$R/$name.log") - $(cat "$R/$name.running") )) >> "$R/$name.seconds"
      echo "study: the last $name segment was killed; its time up to its last log line is counted"
    fi
    rm -f "$R/$name.running"
  fi
  local t0 rc=0
  t0=$(date +%s)
  echo "$t0" > "$R/$name.running"
  timeout --signal=TERM --kill-after=600 "$left" "$@" "${resume[@]}" > >(tee -a "$R/$name.log") 2>&1 || rc=$?
  echo $(( $(date +%s) - t0 )) >> "$R/$name.seconds"
  rm -f "$R/$name.running"
  if [ "$rc" = 124 ]; then echo "study: time budget reached during $name (checkpoint written); run again to continue"; finish 0; fi
  # SIGTERM / Ctrl-C to the command itself (a scheduler, the session's end): it saved its checkpoint before exiting
  if [ "$rc" = 143 ] || [ "$rc" = 130 ]; then echo "study: $name stopped by a signal (checkpoint written); run again to continue"; finish 0; fi
  if [ "$rc" != 0 ]; then echo "study: $name failed (exit $rc); see $R/$name.log" >&2; finish "$rc"; fi
  # pretraining writes no result file of its own: it is done when its last epoch is in the metrics
  if [ "$name" = pretrain ] && grep -q "\"type\":\"epoch_end\",\"epoch\":$P_EPOCHS," "$R/pretrain/metrics.jsonl"; then touch "$result"; fi
  if [ ! -e "$result" ]; then echo "study: $name ended without $result; see $R/$name.log" >&2; finish 1; fi
}
