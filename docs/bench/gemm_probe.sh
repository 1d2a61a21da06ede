#!/usr/bin/env bash
# The Java gemm kernel alone, per product shape, on one thread (mae-core's GemmProbe): median thread CPU time of
# 15 samples, GFLOP/s and a hash of the result's bits. Compare two builds by running this in each checkout (ABAB).
# Usage: bash docs/bench/gemm_probe.sh "M12800 N96 K384 NN" "M3328 N192 K768 NT" ...
#        bash docs/bench/gemm_probe.sh @shapes.txt        (one shape per line, e.g. the keys of a gemm-choice-*.json)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
[ -d "$root/mae-core/target/test-classes" ] || (cd "$root" && mvn -B -q -o -DskipTests install)
args=("$@")
if [ "${1:-}" != "" ] && [ "${1:0:1}" = "@" ]; then mapfile -t args < "${1:1}"; fi
[ ${#args[@]} -gt 0 ] || { echo "usage: gemm_probe.sh SHAPE... | @FILE" >&2; exit 2; }
exec java --add-modules jdk.incubator.vector \
  -cp "$root/mae-core/target/test-classes:$root/mae-core/target/classes:$root/mae-examples/target/lib/*" \
  org.mae4j.engine.GemmProbe "${args[@]}" 2> >(grep -v "incubator" >&2)
