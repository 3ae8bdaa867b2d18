#!/usr/bin/env node
// ONNX Runtime (onnxruntime-node, CPU EP) side of the benchmark: latency of
// one ONNX model at one thread count, in the same shape as vitrt-bench.
//
//   node ort_bench.js --model M.onnx --input X.bin [--threads N] [--runs R] [--warmup W]
//                     [--logits-out Y.bin]
//
// X.bin is one float32 [1, 3, 224, 224] image. Prints one JSON line:
// latency median / p90 of `await session.run` (wall time, so it includes the
// small N-API and promise overhead a Node user pays too) and the process's
// peak RSS. The first warm-up run always happens (even with --warmup 0);
// --logits-out writes its logits (float32 raw), for the correctness check.
// Session: graph optimization 'all' (fuses the dynamic-int8 pattern into
// DynamicQuantizeMatMul), intra-op threads = --threads, sequential.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

function parseArgs(argv) {
  const a = {threads: 1, runs: 20, warmup: 3};
  for (let i = 2; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (!['model', 'input', 'threads', 'runs', 'warmup', 'logits-out'].includes(key) || i + 1 >= argv.length) {
      throw new Error(`bad argument '${argv[i]}'`);
    }
    a[key] = argv[i + 1];
  }
  if (!a.model || !a.input) throw new Error('--model and --input are required');
  for (const k of ['threads', 'runs', 'warmup']) a[k] = parseInt(a[k], 10);
  return a;
}

function median(sorted) {
  const n = sorted.length;
  return n % 2 ? sorted[(n - 1) / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
}

// Nearest-rank, as vitrt-bench.
function percentile(sorted, p) {
  return sorted[Math.max(Math.ceil(p / 100 * sorted.length), 1) - 1];
}

async function main() {
  const a = parseArgs(process.argv);
  const session = await ort.InferenceSession.create(a.model, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: a.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  });
  const bytes = fs.readFileSync(a.input);
  const data = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const feeds = {[session.inputNames[0]]: new ort.Tensor('float32', data, [1, 3, 224, 224])};
  const outName = session.outputNames[0];

  const first = (await session.run(feeds))[outName].data;
  if (a['logits-out']) fs.writeFileSync(a['logits-out'], Buffer.from(first.buffer, first.byteOffset, first.byteLength));
  for (let i = 1; i < a.warmup; i++) await session.run(feeds);

  const ms = [];
  for (let i = 0; i < a.runs; i++) {
    const start = process.hrtime.bigint();
    await session.run(feeds);
    ms.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  ms.sort((x, y) => x - y);
  console.log(JSON.stringify({
    model: path.basename(a.model), ort_version: ort.env.versions.common, threads: a.threads,
    runs: a.runs, warmup: a.warmup, latency_ms_median: median(ms), latency_ms_p90: percentile(ms, 90),
    peak_rss_bytes: process.resourceUsage().maxRSS * 1024,  // maxRSS is in KiB
  }));
}

main().catch(e => { console.error(`ort_bench: ${e.message}`); process.exit(1); });
