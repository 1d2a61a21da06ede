#!/usr/bin/env bash
# docs/gpu/check.sh [report-file]: the GPU check of mae4j's portable path (engine.Nd4jKernels) on ND4J's CUDA
# 11.6 backend. On a machine with an NVIDIA GPU, a CUDA 11.6 runtime, JDK 17 and Maven (network for the first
# build: the nd4j-cuda-11.6 jars), from any directory:
#   1. builds every module with -Pcuda (clean, so that no CPU-backend jar stays in mae-examples/target/lib);
#   2. runs the parity tests on the CUDA backend: the portable path against the naive loops (KernelsTest), the
#      double-precision gradient checks, the PyTorch reference parity tests (pretraining, fine-tuning, AdamW
#      trajectories) and the op-count test; their fast-path (CpuKernels) cases skip themselves off the CPU backend;
#   3. times ./mae bench on the portable kernels (pretraining for tinyFmnist and vitTiny32, fine-tuning for tinyFmnist);
#   4. writes a short report (GPU, driver, commit, backend, per-class test results, bench lines) to the report file
#      (default docs/gpu/check-report-<UTC time>.md) and the full logs beside it.
# Exit status: 0 when the build and every test passed, 1 otherwise, 2 when there is no GPU to check on.
# Afterwards `mvn clean` before building for the CPU again (target/ then holds the CUDA build). The tests run in
# one reactor (-pl mae-core,mae-examples,src/test): alone, src/test would take mae-core from ~/.m2 with its
# default CPU profile. ND4J 1.0.0-M2.1's CUDA binaries carry kernels up to sm_86 (the root pom): on a newer GPU
# (Hopper, sm_90) they run only if the driver can JIT them, so a failure there may be that, not mae4j.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
report="${1:-$root/docs/gpu/check-report-$stamp.md}"
logs="${report%.md}-logs"

if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
  echo "check.sh: no NVIDIA GPU here (nvidia-smi missing or failing); nothing checked" >&2
  exit 2
fi
mkdir -p "$logs"

# The portable kernels wherever a model picks its own (MaskedAutoencoder.defaultKernels), the bench included.
export MAE4J_KERNELS=portable
export MAE4J_CACHE_DIR="${MAE4J_CACHE_DIR:-/tmp/mae4j-cache}"
tests='KernelsTest,RowScaleKernelsTest,GradClipTest,ParamGroupsTest,GradientCheckTest,VitClassifierTest,ExportRoundTripTest,PortableOpCountTest,ReferenceParityTest,FinetuneParityTest,AdamWTrajectoryTest'
status=0
mvn="${MVN:-mvn}"      # MVN / MAE replace the tools (a dry run of this script's own flow: MVN=true MAE=true)
mae="${MAE:-./mae}"

echo "check.sh: building with -Pcuda (log: $logs/build.log)" >&2
if ! $mvn -B -ntp -Pcuda -DskipTests clean package > "$logs/build.log" 2>&1; then
  echo "check.sh: the -Pcuda build failed; see $logs/build.log" >&2
  status=1
fi
touch mae-examples/target/classes 2>/dev/null || true   # ./mae must not rebuild (for the CPU) over the CUDA build

if [ "$status" -eq 0 ]; then
  echo "check.sh: parity tests on the CUDA backend (log: $logs/tests.log)" >&2
  if ! $mvn -B -ntp -Pcuda -pl mae-core,mae-examples,src/test test -Dtest="$tests" \
       -Dsurefire.failIfNoSpecifiedTests=false > "$logs/tests.log" 2>&1; then
    status=1
  fi
  if ! grep -q 'Loaded \[JCublasBackend\]' "$logs/tests.log"; then
    echo "check.sh: the tests did not run on ND4J's CUDA backend (JCublasBackend); see $logs/tests.log" >&2
    status=1
  fi
  echo "check.sh: ./mae bench on the portable kernels (log: $logs/bench.log)" >&2
  {
    $mae bench --kernels portable --config tinyFmnist --steps 10
    $mae bench --kernels portable --config vitTiny32 --steps 10 --no-sgemm
    $mae bench --kernels portable --config tinyFmnist --finetune --steps 10
  } > "$logs/bench.log" 2>&1 || status=1
fi

{
  echo "# mae4j GPU check, $stamp"
  echo
  echo "- GPU: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | paste -sd ';' -)"
  echo "- CUDA (driver): $(nvidia-smi | sed -n 's/.*CUDA Version: *\([0-9.]*\).*/\1/p' | head -1)"
  echo "- commit: $(git rev-parse HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "- java: $(java -version 2>&1 | head -1)"
  echo "- ND4J backend in the tests: $(grep -o 'Loaded \[[A-Za-z]*\] backend' "$logs/tests.log" 2>/dev/null | sort -u | paste -sd ' ' - || true)"
  echo "- kernels: MAE4J_KERNELS=$MAE4J_KERNELS (Nd4jKernels); overall: $([ "$status" -eq 0 ] && echo PASSED || echo FAILED)"
  echo
  echo "## Tests (surefire, per class)"
  echo
  echo '```'
  cat mae-core/target/surefire-reports/*.txt mae-examples/target/surefire-reports/*.txt src/test/target/surefire-reports/*.txt 2>/dev/null \
    | grep -E '^Tests run|^Test set' || echo "no test reports (did the build fail? $logs/build.log)"
  grep -E 'portable (pretraining|fine-tuning) step' "$logs/tests.log" 2>/dev/null || true
  echo '```'
  echo
  echo "## ./mae bench --kernels portable"
  echo
  echo '```'
  grep -E '^#|img/s|matrix products|sgemm' "$logs/bench.log" 2>/dev/null || echo "no bench output ($logs/bench.log)"
  echo '```'
  echo
  echo "Full logs: $logs/"
} > "$report"
echo "check.sh: report in $report" >&2
exit "$status"
