#!/usr/bin/env bash
# The one-call GPU check (issue 12 §5): Pixel Lab's WebGPU training step (Dawn in Node) beside PyTorch CUDA at the
# same configurations (batch 2, 28×28×1 binary, the bench's reference layers, Adam), one JSON line per model with
# both ms/step and their ratio (goal: WebGPU within 2× of PyTorch CUDA on the same card).
#
#   scripts/gpu-check.sh pack [FILE]   here: build the CLI and pack what the GPU machine needs into one tar
#                                       (default dist/gpu-check.tar, ≤ 64 MiB): this Node binary and dawn.node,
#                                       gzipped, the CLI bundle, the PyTorch reference, this script, the join step
#   scripts/gpu-check.sh run [DIR]     there: unpack (if needed) and run both benches; DIR is an unpacked pack
#                                       (default: this script's folder when packed, else the repository)
#   scripts/gpu-check.sh               both, on this machine: pack, unpack into a temporary folder, run
#
# The GPU machine needs: a Vulkan loader and driver (Dawn picks the adapter; VK_ICD_FILENAMES is left as it is),
# python3 with torch (CUDA), gzip and tar. No network, no Node (it is carried). Environment:
#   GPU_CHECK_STEPS   timed steps per model after a warm-up and a counted step (default 10)
#   GPU_CHECK_MODELS  comma-separated (default: pixelcnn,row-lstm,diagonal-bilstm,gated-pixelcnn)
#   PIXEL_LAB_PYTHON  the Python with torch (default python3)
#   PIXEL_LAB_WEBGPU_SUBMIT_BATCH  dispatches per queue submit (TF.js default 15), to try others on the card
# A line whose adapter is a software one, or whose torch ran on the CPU, says so in "not_a_gpu_figure".
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mode="${1:-all}"

pack() {
  local out="${1:-dist/gpu-check.tar}"
  local root
  root="$(cd "$here/.." && pwd)"
  (cd "$root" && node scripts/build.mjs >/dev/null)
  local dawn
  dawn="$(cd "$root" && node -e "const p=require('path');console.log(p.join(p.dirname(require.resolve('webgpu/package.json')),'dist',process.platform+'-'+process.arch,'dawn.node'))")"
  local stage
  stage="$(mktemp -d)"
  mkdir -p "$stage/gpu-check"
  gzip -9 -c "$(command -v node)" >"$stage/gpu-check/node.gz"
  gzip -9 -c "$dawn" >"$stage/gpu-check/dawn.node.gz"
  cp "$root/dist/cli.cjs" "$root/src/bench/reference/bench_torch.py" "$root/scripts/gpu-check.sh" "$root/scripts/gpu-check-join.mjs" "$stage/gpu-check/"
  mkdir -p "$(dirname "$out")"
  tar -C "$stage" -cf "$out" gpu-check
  rm -rf "$stage"
  local bytes
  bytes=$(stat -c %s "$out")
  if [ "$bytes" -gt $((64 * 1024 * 1024)) ]; then
    echo "gpu-check: $out is $((bytes / 1024 / 1024)) MiB, over the 64 MiB that can be carried" >&2
    exit 1
  fi
  echo "gpu-check: packed $out ($((bytes / 1024 / 1024)) MiB)" >&2
}

run() {
  local dir="${1:-$here}"
  local node cli torch_script join
  if [ -f "$dir/cli.cjs" ]; then
    # An unpacked pack: the carried Node and dawn.node.
    [ -x "$dir/node" ] || { gunzip -c "$dir/node.gz" >"$dir/node"; chmod +x "$dir/node"; }
    [ -f "$dir/dawn.node" ] || gunzip -c "$dir/dawn.node.gz" >"$dir/dawn.node"
    node="$dir/node"
    export PIXEL_LAB_DAWN_NODE="$dir/dawn.node"
    cli="$dir/cli.cjs"
    torch_script="$dir/bench_torch.py"
    join="$dir/gpu-check-join.mjs"
  else
    # The repository, built.
    local root
    root="$(cd "$dir/.." && pwd)"
    node="$(command -v node)"
    cli="$root/dist/cli.cjs"
    torch_script="$root/src/bench/reference/bench_torch.py"
    join="$root/scripts/gpu-check-join.mjs"
  fi
  local models="${GPU_CHECK_MODELS:-pixelcnn,row-lstm,diagonal-bilstm,gated-pixelcnn}"
  local steps="${GPU_CHECK_STEPS:-10}"
  local python="${PIXEL_LAB_PYTHON:-python3}"
  local work
  work="$(mktemp -d)"
  # WebGPU first, then PyTorch, one after the other on the same card.
  if ! "$node" "$cli" bench --backend webgpu --no-sampling --models "$models" --steps "$steps" >"$work/webgpu.jsonl" 2>"$work/webgpu.err"; then
    echo "gpu-check: the WebGPU bench failed: $(grep -v '^\s*at \|^Warning\|^$' "$work/webgpu.err" | tail -1)" >&2
  fi
  local torch_models
  torch_models="$(echo "$models" | tr ',' '\n' | sed -n 's/^pixelcnn$/pixelcnn/p; s/^row-lstm$/rowlstm/p; s/^diagonal-bilstm$/diagbilstm/p' | paste -sd, -)"
  if [ -n "$torch_models" ]; then
    if ! BENCH_BATCH=2 BENCH_DEVICE=cuda "$python" "$torch_script" "$torch_models" >"$work/torch.jsonl" 2>"$work/torch.err"; then
      echo "gpu-check: the PyTorch reference failed: $(tail -1 "$work/torch.err")" >&2
    fi
  fi
  touch "$work/torch.jsonl"
  "$node" "$join" "$work/webgpu.jsonl" "$work/torch.jsonl"
  rm -rf "$work"
}

case "$mode" in
  pack) pack "${2:-}" ;;
  run) run "${2:-}" ;;
  all)
    tmp="$(mktemp -d)"
    pack "$tmp/gpu-check.tar"
    tar -C "$tmp" -xf "$tmp/gpu-check.tar"
    run "$tmp/gpu-check"
    rm -rf "$tmp"
    ;;
  *) echo "usage: scripts/gpu-check.sh [pack [FILE] | run [DIR]]" >&2; exit 2 ;;
esac
