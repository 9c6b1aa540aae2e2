#!/usr/bin/env bash
# GPU check for LRP Lens (issue 9), for a GPU machine without network, run from the repository root with
# node_modules carried along (it installs nothing). It:
#   1. says what GPU and drivers it sees (nvidia-smi, libvulkan, the optional packages present);
#   2. finds which GPU backends start (webgpu: @tensorflow/tfjs-backend-webgpu on the `webgpu` package,
#      Dawn over Vulkan; tensorflow-gpu: @tensorflow/tfjs-node-gpu, CUDA) and prints why the others do not;
#   3. runs the parity test on them (relevance on ../shared/lrp-reference within 1e-4 relative to wasm
#      and to Zennit: server/src/core/compute/parity.test.ts with LRP_LENS_PARITY_BACKENDS);
#   4. runs the benchmark on them next to wasm and prints the figures (JSON at $OUT/gpu-bench.json if
#      $OUT is set).
# Exit status: 0 when at least one GPU backend ran and passed parity, 3 when none could start, 1 on a failure.
# Usage: bash scripts/gpu-check.sh [STREAM_SAMPLES (default 2048)]
set -u
cd "$(dirname "$0")/.."
STREAM="${1:-2048}"
OUTDIR="${OUT:-/tmp/lrp-gpu-check}"
mkdir -p "$OUTDIR"
echo "== machine"; date -u; uname -m; nproc; uptime
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv || echo "no nvidia-smi"
ldconfig -p 2>/dev/null | grep -E "libvulkan.so.1|libcuda.so.1|libcudnn" || echo "no libvulkan/libcuda/libcudnn in the linker cache"
node --version
for p in webgpu @tensorflow/tfjs-backend-webgpu @tensorflow/tfjs-node-gpu; do
  if [ -d "node_modules/$p" ]; then echo "package $p: present"; else echo "package $p: absent"; fi
done

echo "== which GPU backends start"
AVAILABLE=$(timeout 120 npx tsx -e "
import('./server/src/core/backend.ts').then(async ({ useBackend }) => {
  const ok = [];
  for (const b of ['webgpu', 'tensorflow-gpu']) {
    try { await useBackend(b); ok.push(b); console.error(b + ': starts'); }
    catch (e) { console.error(b + ': ' + e.message); }
  }
  console.log(ok.join(','));
  process.exit(0);
});" 2> >(sed 's/^/  /' >&2) | tail -1)
echo "available: ${AVAILABLE:-none}"
if [ -z "$AVAILABLE" ]; then echo "no GPU backend could start here: nothing to check"; exit 3; fi

echo "== parity on $AVAILABLE (relevance vs wasm and Zennit, 1e-4 relative)"
LRP_LENS_PARITY_BACKENDS="$AVAILABLE" timeout 600 npx tsx --test server/src/core/compute/parity.test.ts 2>&1 | grep -E "vs wasm|^# (pass|fail)|not ok|Error" 
PARITY=${PIPESTATUS[0]}
echo "parity exit status: $PARITY"

echo "== benchmark (EpsilonGammaBox, batch 64, ../shared/bench) on $AVAILABLE and wasm"
timeout 900 npx tsx server/src/cli.ts bench --backends "$AVAILABLE,wasm" --stream "$STREAM" --runs 5 | tee "$OUTDIR/gpu-bench.txt"
timeout 900 npx tsx server/src/cli.ts bench --backends "$AVAILABLE" --stream 0 --runs 5 --json > "$OUTDIR/gpu-bench.json" && echo "JSON: $OUTDIR/gpu-bench.json"
[ "$PARITY" = 0 ] || exit 1
exit 0
