#!/usr/bin/env bash
# GPU check for LRP Lens (issue 9), for a GPU machine without network, run from the repository root with
# node_modules carried along (it installs nothing). It:
#   1. says what GPU and drivers it sees (nvidia-smi, libvulkan, the optional packages present);
#   2. finds which GPU backends start (webgpu: @tensorflow/tfjs-backend-webgpu on the `webgpu` package,
#      Dawn over Vulkan; tensorflow-gpu: @tensorflow/tfjs-node-gpu, CUDA) and prints why the others do not;
#   3. runs the parity test on them (relevance on ../shared/lrp-reference within 1e-4 relative to wasm
#      and to Zennit: server/src/core/compute/parity.test.ts with LRP_LENS_PARITY_BACKENDS);
#   4. runs the benchmark on them next to wasm and prints the figures (JSON at $OUT/gpu-bench.json if
#      $OUT is set);
#   5. the same for ONNX Runtime's GPU providers (onnxruntime-webgpu: bundled in onnxruntime-node;
#      onnxruntime-cuda: when its optional CUDA provider is installed): which start and why not, parity of
#      the relevance graph against Zennit's references and the tfjs engine (lrp-onnx/reference.test.ts with
#      LRP_LENS_PARITY_ORT_PROVIDER) and against the CPU provider (lrp-onnx/ort-providers.test.ts), and the
#      benchmark next to the CPU provider (onnxruntime) and Zennit (JSON at $OUT/gpu-bench-ort.json), plus
#      the 720 x 1440 global-field model (server/src/cli/fixtures/bench-global) on each.
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

# Which of the named backends start here (useEngine: the tfjs backend, and the ONNX Runtime provider an
# onnxruntime-* name asks for); prints them comma-separated, each failure's reason on stderr.
starts() {
  timeout 120 npx tsx -e "
import('./server/src/core/lrp-onnx/ort-providers.ts').then(async ({ useEngine }) => {
  const ok = [];
  for (const b of '$*'.split(' ')) {
    try { await useEngine(b); ok.push(b); console.error(b + ': starts'); }
    catch (e) { console.error(b + ': ' + e.message); }
  }
  console.log(ok.join(','));
  process.exit(0);
});" 2> >(sed 's/^/  /' >&2) | tail -1
}

echo "== which GPU backends start"
AVAILABLE=$(starts webgpu tensorflow-gpu)
echo "available: ${AVAILABLE:-none}"

echo "== which ONNX Runtime GPU providers start"
ORT_AVAILABLE=$(starts onnxruntime-webgpu onnxruntime-cuda)
echo "available: ${ORT_AVAILABLE:-none}"
ORT_PARITY=0
if [ -n "$ORT_AVAILABLE" ]; then
  for b in ${ORT_AVAILABLE//,/ }; do
    p="${b#onnxruntime-}"
    echo "== parity on $b (relevance vs Zennit and the tfjs engine, 1e-4 relative; vs the CPU provider)"
    LRP_LENS_PARITY_ORT_PROVIDER="$p" timeout 900 npx tsx --test server/src/core/lrp-onnx/reference.test.ts 2>&1 | grep -E "worst|^# (pass|fail)|not ok|Error"
    [ "${PIPESTATUS[0]}" = 0 ] || ORT_PARITY=1
    timeout 600 npx tsx --test --test-name-pattern="$b" server/src/core/lrp-onnx/ort-providers.test.ts 2>&1 | grep -E "^# (pass|fail)|not ok|Error"
    [ "${PIPESTATUS[0]}" = 0 ] || ORT_PARITY=1
  done
  echo "ONNX Runtime GPU parity exit status: $ORT_PARITY"
  echo "== benchmark (EpsilonGammaBox, batch 64, ../shared/bench) on $ORT_AVAILABLE, the CPU provider and Zennit"
  timeout 900 npx tsx server/src/cli.ts bench --backends "$ORT_AVAILABLE,onnxruntime" --stream "$STREAM" --runs 5 --zennit | tee "$OUTDIR/gpu-bench-ort.txt"
  timeout 900 npx tsx server/src/cli.ts bench --backends "$ORT_AVAILABLE,onnxruntime" --stream 0 --runs 5 --json > "$OUTDIR/gpu-bench-ort.json" && echo "JSON: $OUTDIR/gpu-bench-ort.json"
  echo "== 720 x 1440 global field (sst_cnn_global.onnx, 8 seeded samples) on $ORT_AVAILABLE and the CPU provider, Zennit in the same run"
  PYTHONPATH=../shared/zennit/src timeout 900 npx tsx server/src/cli.ts bench --model server/src/cli/fixtures/bench-global/sst_cnn_global.onnx \
    --input-shape 8,720,1440,1 --chunk 2 --runs 3 --stream 0 --backends "$ORT_AVAILABLE,onnxruntime" \
    --zennit-script server/src/cli/fixtures/bench-global/sst_cnn_global.py | tee "$OUTDIR/gpu-bench-720.txt"
fi
if [ -z "$AVAILABLE" ] && [ -z "$ORT_AVAILABLE" ]; then echo "no GPU backend could start here: nothing to check"; exit 3; fi
if [ -z "$AVAILABLE" ]; then [ "$ORT_PARITY" = 0 ] || exit 1; exit 0; fi

echo "== parity on $AVAILABLE (relevance vs wasm and Zennit, 1e-4 relative)"
LRP_LENS_PARITY_BACKENDS="$AVAILABLE" timeout 600 npx tsx --test server/src/core/compute/parity.test.ts 2>&1 | grep -E "vs wasm|^# (pass|fail)|not ok|Error" 
PARITY=${PIPESTATUS[0]}
echo "parity exit status: $PARITY"

echo "== benchmark (EpsilonGammaBox, batch 64, ../shared/bench) on $AVAILABLE and wasm"
timeout 900 npx tsx server/src/cli.ts bench --backends "$AVAILABLE,wasm" --stream "$STREAM" --runs 5 | tee "$OUTDIR/gpu-bench.txt"
timeout 900 npx tsx server/src/cli.ts bench --backends "$AVAILABLE" --stream 0 --runs 5 --json > "$OUTDIR/gpu-bench.json" && echo "JSON: $OUTDIR/gpu-bench.json"
[ "$PARITY" = 0 ] && [ "$ORT_PARITY" = 0 ] || exit 1
exit 0
