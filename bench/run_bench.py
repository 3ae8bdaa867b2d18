#!/usr/bin/python3
"""vitrt against ONNX Runtime on DeiT-Ti, ViT-S/16 and ViT-B/16 (random init,
identical weights in both), on this machine's CPU.

  /usr/bin/python3 bench/run_bench.py [--models deit_tiny ...] [--threads 1 2]
      [--runs 25] [--rounds 5] [--warmup 3] [--quick] [--work-dir build/bench]
      [--build-dir build] [--json-out results.json]

Steps: measure the CPU's per-core peaks (peak.cpp); install onnxruntime-node
into the work dir; export each model (export_models.py) and convert the same
weights with vitrt-convert to fp32 / fp16 / int8; check vitrt's logits
against ORT fp32 on one input (fails before any timing if wrong); then time
ORT fp32, ORT int8-dynamic, vitrt fp32, fp16 and int8, interleaved: in each
of --rounds rounds every variant runs once as a fresh process doing
runs/rounds timed runs after --warmup, so the host's drift hits all alike. A
variant's latency is the median of its per-round medians.
Must run with Debian's python3 (numpy; torch and onnx for the export).
"""
import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys

import numpy as np

import vit_dims

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

ALIASES = {"deit_tiny": "deit_tiny_patch16_224", "vit_small": "vit_small_patch16_224",
           "vit_base": "vit_base_patch16_224"}
SHORT = {"deit_tiny_patch16_224": "DeiT-Ti", "vit_small_patch16_224": "ViT-S/16",
         "vit_base_patch16_224": "ViT-B/16"}
# key -> (engine, file suffix in the work dir, peak it is measured against,
# table label). fp16 stores weights only; vitrt computes in fp32, hence the
# fp32 peak. Int8 models run attention (and ORT's patch embed and head) in
# fp32 too, so their % of the int8 peak understates the int8 GEMMs.
VARIANTS = {
    "ort_fp32": ("ort", "_fp32.onnx", "fp32", "ORT fp32"),
    "ort_int8": ("ort", "_int8dyn.onnx", "int8", "ORT int8"),
    "vitrt_fp32": ("vitrt", "_fp32.vitrt", "fp32", "vitrt fp32"),
    "vitrt_fp16": ("vitrt", "_fp16.vitrt", "fp32", "vitrt fp16"),
    "vitrt_int8": ("vitrt", "_int8.vitrt", "int8", "vitrt int8"),
}
PEAK_NAMES = {"int8_vnni_zmm": "int8 vpdpbusd zmm", "int8_vnni_ymm": "int8 vpdpbusd ymm",
              "int8_amx": "int8 AMX tdpbssd"}
# Largest max|vitrt - ORT fp32| / max|ORT fp32| accepted per vitrt dtype. fp32
# must agree to rounding; fp16 and int8 only to their documented error
# (docs/quantization.md: 5.5e-4 and 2.5e-2 on DeiT-Ti), with headroom.
TOLERANCE = {"fp32": 1e-3, "fp16": 1e-2, "int8": 1e-1}
DEBIAN_PACKAGES = ["python3-torch", "python3-onnx", "libopenblas0-pthread"]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def run(cmd, env=None, cwd=None):
    """stdout of cmd; on failure, exits showing its stderr."""
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd)
    if p.returncode != 0:
        sys.exit(f"run_bench: failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr.strip()}")
    return p.stdout


def last_json_line(text):
    return json.loads(text.strip().splitlines()[-1])


def stale(target, *sources):
    return not os.path.exists(target) or any(os.path.getmtime(s) > os.path.getmtime(target)
                                             for s in sources)


# ---- setup -----------------------------------------------------------------

def ensure_debian_packages():
    missing = [p for p in DEBIAN_PACKAGES if subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", p], capture_output=True, text=True
    ).stdout != "install ok installed"]
    if not (shutil.which("node") and shutil.which("npm")):  # any Node.js will do
        missing.append("npm")
    if not missing:
        return
    if os.geteuid() != 0:
        sys.exit(f"run_bench: missing Debian packages; run: sudo apt-get install -y {' '.join(missing)}")
    log(f"installing {' '.join(missing)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run(["apt-get", "update"], env=env)
    run(["apt-get", "install", "-y", "--no-install-recommends", *missing], env=env)


def ensure_ort(work):
    """onnxruntime-node as pinned in bench/package.json, in work/node_modules."""
    shutil.copy(os.path.join(HERE, "package.json"), os.path.join(work, "package.json"))
    with open(os.path.join(HERE, "package.json")) as f:
        pinned = json.load(f)["dependencies"]["onnxruntime-node"]
    installed = os.path.join(work, "node_modules", "onnxruntime-node", "package.json")
    if os.path.exists(installed):
        with open(installed) as f:
            if json.load(f)["version"] == pinned:
                return
    log("npm install onnxruntime-node (CPU binaries are in the package; --ignore-scripts skips "
        "the postinstall, which only fetches CUDA parts)")
    run(["npm", "install", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=work)


def measure_peaks(work):
    exe = os.path.join(work, "peak")
    src = os.path.join(HERE, "peak.cpp")
    run(["g++", "-O3", "-march=native", "-o", exe, src])  # always: -march=native is this machine
    peaks = last_json_line(run([exe]))
    with open("/proc/cpuinfo") as f:
        peaks["cpu"] = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "?")
    return peaks


def node_floor_rss(ort_cmd):
    """Peak RSS of Node.js with the ORT addon loaded and no session: the part
    of ORT's RSS that is not the model."""
    code = "require('onnxruntime-node'); console.log(process.resourceUsage().maxRSS * 1024)"
    return int(run([ort_cmd[0], "-e", code]))


def int8_peak(peaks):
    """Best int8 GMAC/s per core (AMX, else VNNI), None without either."""
    values = [v for k, v in peaks.items() if k.startswith("int8_")]
    return max(values) if values else None


def write_input(work):
    """The pseudo-random image vitrt-bench times on (same LCG, bit for bit),
    as raw float32 for ort_bench.js and .npy for vitrt-run."""
    raw, npy = os.path.join(work, "input.bin"), os.path.join(work, "input.npy")
    if os.path.exists(raw) and os.path.exists(npy):
        return raw, npy
    n = vit_dims.IN_CH * vit_dims.IMG * vit_dims.IMG
    x = np.empty(n, np.float32)
    state, mask = 0x9E3779B97F4A7C15, (1 << 64) - 1
    for i in range(n):
        state = (state * 6364136223846793005 + 1442695040888963407) & mask
        x[i] = ((state >> 40) - (1 << 23)) / float(1 << 23)
    x.tofile(raw)
    np.save(npy, x.reshape(1, vit_dims.IN_CH, vit_dims.IMG, vit_dims.IMG))
    return raw, npy


def prepare_models(models, work, tools):
    missing = [m for m in models if not all(
        os.path.exists(os.path.join(work, m + s)) for s in (".pt", "_fp32.onnx", "_int8dyn.onnx"))]
    if missing:
        log(f"exporting {' '.join(missing)}")
        run([sys.executable, os.path.join(HERE, "export_models.py"), "--out", work, "--models", *missing])
    for m in models:
        pt = os.path.join(work, m + ".pt")
        for dtype in ("fp32", "fp16", "int8"):
            out = os.path.join(work, f"{m}_{dtype}.vitrt")
            # Reconvert when the converter changed: the file format may have too.
            if stale(out, pt, tools["vitrt-convert"]):
                log(f"vitrt-convert {m} {dtype}")
                run([tools["vitrt-convert"], pt, "-o", out, "--arch", m, "--dtype", dtype])


# ---- correctness -------------------------------------------------------------

def check_model(model, threads, work, tools, ort_cmd, inputs):
    """vitrt logits of every dtype vs ORT fp32 on the same input; exits on a
    mismatch, so that a wrong runtime never gets timed."""
    raw, npy = inputs
    ort_out = os.path.join(work, f"{model}_ort_fp32_logits.bin")
    run(ort_cmd + ["--model", os.path.join(work, model + "_fp32.onnx"), "--input", raw,
                   "--runs", "1", "--warmup", "1", "--logits-out", ort_out])
    ref = np.fromfile(ort_out, np.float32)
    result = {}
    for t in threads:
        for dtype in ("fp32", "fp16", "int8"):
            out = os.path.join(work, f"{model}_{dtype}_logits.npy")
            run([tools["vitrt-run"], os.path.join(work, f"{model}_{dtype}.vitrt"), "--tensor", npy,
                 "--logits-out", out, "--threads", str(t), "--top-k", "1"])
            got = np.load(out).ravel()
            max_abs = float(np.abs(got - ref).max())
            rel = max_abs / float(np.abs(ref).max())
            ok = rel <= TOLERANCE[dtype]
            result[f"vitrt_{dtype}_t{t}"] = {"max_abs": max_abs, "rel": rel,
                                             "top1_same": bool(got.argmax() == ref.argmax())}
            print(f"check {SHORT[model]} vitrt {dtype} threads {t} vs ORT fp32: max abs diff "
                  f"{max_abs:.3g} ({rel:.2g} of max |logit|, limit {TOLERANCE[dtype]:g}) "
                  f"{'ok' if ok else 'FAIL'}", flush=True)
            if not ok:
                sys.exit(f"run_bench: vitrt {dtype} logits of {model} (threads {t}) disagree "
                         "with ONNX Runtime: no timing for a wrong runtime")
    return result


# ---- timing ------------------------------------------------------------------

def time_variants(model, threads, args, work, tools, ort_cmd, raw_input):
    """Round-robin over the variants; each round starts every variant's process
    once (rotating who goes first). Returns per variant the per-round results."""
    per_round = math.ceil(args.runs / args.rounds)
    rounds = {k: [] for k in VARIANTS}
    keys = list(VARIANTS)
    for r in range(args.rounds):
        for key in keys[r % len(keys):] + keys[:r % len(keys)]:
            engine, suffix = VARIANTS[key][:2]
            path = os.path.join(work, model + suffix)
            common = ["--threads", str(threads), "--runs", str(per_round), "--warmup", str(args.warmup)]
            if engine == "ort":
                out = last_json_line(run(ort_cmd + ["--model", path, "--input", raw_input] + common))
            else:
                out = last_json_line(run([tools["vitrt-bench"], path, "--json"] + common))
            rounds[key].append(out)
        log(f"  {SHORT[model]} threads {threads} round {r + 1}/{args.rounds}: " + ", ".join(
            f"{k} {rounds[k][-1]['latency_ms_median']:.2f}" for k in keys) + " ms")
    return rounds


def summarize(model, threads, rounds, peaks):
    macs = vit_dims.macs(model)
    peak_per_core = {"fp32": peaks["fp32_fma"], "int8": int8_peak(peaks)}
    out = {"model": model, "threads": threads, "macs": macs, "variants": {}}
    for key, results in rounds.items():
        ms = statistics.median(r["latency_ms_median"] for r in results)
        gmacs = macs / ms / 1e6
        peak = peak_per_core[VARIANTS[key][2]]
        v = {"latency_ms": ms, "round_medians_ms": [r["latency_ms_median"] for r in results],
             "runs": sum(r["runs"] for r in results), "gmac_per_s": gmacs,
             "pct_of_peak": 100 * gmacs / (peak * threads) if peak else None,
             "peak_rss_bytes": max(r["peak_rss_bytes"] for r in results)}
        if "kernels" in results[0]:
            v["kernels"] = results[0]["kernels"]
        out["variants"][key] = v
    lat = {k: v["latency_ms"] for k, v in out["variants"].items()}
    for dtype in ("fp32", "int8"):
        ort, ours = rounds[f"ort_{dtype}"], rounds[f"vitrt_{dtype}"]
        out[f"ort_over_vitrt_{dtype}"] = lat[f"ort_{dtype}"] / lat[f"vitrt_{dtype}"]
        # Per round: the two processes ran minutes apart at most, so a drift
        # of the host's speed mostly cancels in their ratio.
        out[f"ort_over_vitrt_{dtype}_rounds"] = [
            o["latency_ms_median"] / v["latency_ms_median"] for o, v in zip(ort, ours)]
    return out


# ---- report ------------------------------------------------------------------

def table(header, rows):
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    line = lambda cells: "  ".join(str(c).rjust(w) if i else str(c).ljust(w)
                                   for i, (c, w) in enumerate(zip(cells, widths)))
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def report(results, peaks, ort_version, node_rss):
    p8 = int8_peak(peaks)
    lines = [f"CPU: {peaks['cpu']}; ONNX Runtime {ort_version} (onnxruntime-node)",
             f"measured peaks per core, GMAC/s: fp32 FMA {peaks['fp32_fma_isa']} {peaks['fp32_fma']:.1f}"
             + "".join(f", {PEAK_NAMES[k]} {v:.1f}" for k, v in peaks.items() if k in PEAK_NAMES),
             f"% of peak = GMAC/s / (threads x {peaks['fp32_fma']:.1f} for fp32 and fp16"
             + (f", {p8:.1f} for int8)" if p8 else "; no int8 peak)"),
             "", "Latency (median of round medians); ORT/vitrt > 1: vitrt is faster; "
             "in brackets the range of the per-round ratios"]
    key = lambda r: [SHORT[r["model"]], r["threads"]]
    lat = lambda r, k: f"{r['variants'][k]['latency_ms']:.2f}"

    def ratio(r, dtype):
        per_round = r[f"ort_over_vitrt_{dtype}_rounds"]
        return f"{r[f'ort_over_vitrt_{dtype}']:.2f}x [{min(per_round):.2f}-{max(per_round):.2f}]"
    lines.append(table(
        ["model", "thr", "ORT fp32 ms", "vitrt fp32 ms", "ORT/vitrt", "ORT int8 ms", "vitrt int8 ms",
         "ORT/vitrt", "vitrt fp16 ms"],
        [key(r) + [lat(r, "ort_fp32"), lat(r, "vitrt_fp32"), ratio(r, "fp32"),
                   lat(r, "ort_int8"), lat(r, "vitrt_int8"), ratio(r, "int8"),
                   lat(r, "vitrt_fp16")] for r in results]))

    def eff(v):
        pct = f" ({v['pct_of_peak']:.0f}%)" if v["pct_of_peak"] is not None else ""
        return f"{v['gmac_per_s']:.1f}{pct}"
    lines += ["", "GMAC/s achieved (% of peak); GMAC = the model's multiply-accumulates"]
    lines.append(table(["model", "thr", "GMAC", *(v[3] for v in VARIANTS.values())],
                       [key(r) + [f"{r['macs'] / 1e9:.3f}"] + [eff(r["variants"][k]) for k in VARIANTS]
                        for r in results]))
    lines += ["", f"Peak RSS of each process, MiB (ORT's includes Node.js and the addon: "
                  f"{node_rss / 2**20:.0f} MiB without a model)"]
    lines.append(table(["model", "thr", *(v[3] for v in VARIANTS.values()), "vitrt kernels"],
                       [key(r) + [f"{r['variants'][k]['peak_rss_bytes'] / 2**20:.0f}" for k in VARIANTS]
                        + [",".join(sorted({v["kernels"] for v in r["variants"].values() if "kernels" in v}))]
                        for r in results]))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=list(vit_dims.CONFIGS),
                    choices=list(vit_dims.CONFIGS) + list(ALIASES))
    ap.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    ap.add_argument("--runs", type=int, default=25, help="timed runs per variant, all rounds (default 25)")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    ap.add_argument("--warmup", type=int, default=3, help="untimed runs per process (default 3)")
    ap.add_argument("--quick", action="store_true", help="2 rounds of 3 runs, 1 warm-up: to try the script")
    ap.add_argument("--work-dir", default=os.path.join(REPO, "build", "bench"))
    ap.add_argument("--build-dir", default=os.path.join(REPO, "build"), help="where bin/vitrt-* are")
    ap.add_argument("--json-out", help="also write the results as JSON here")
    args = ap.parse_args()
    if args.quick:
        args.runs, args.rounds, args.warmup = 6, 2, 1
    if args.runs < args.rounds or args.rounds < 1:
        ap.error("need --runs >= --rounds >= 1")
    models = list(dict.fromkeys(ALIASES.get(m, m) for m in args.models))

    tools = {t: os.path.join(args.build_dir, "bin", t) for t in ("vitrt-bench", "vitrt-convert", "vitrt-run")}
    for path in tools.values():
        if not os.access(path, os.X_OK):
            sys.exit(f"run_bench: {path} missing; build it: cmake -S . -B build -G Ninja "
                     "-DCMAKE_BUILD_TYPE=Release && ninja -C build vitrt-bench vitrt-convert vitrt-run")
    work = os.path.abspath(args.work_dir)
    os.makedirs(work, exist_ok=True)
    ensure_debian_packages()
    ensure_ort(work)
    ort_cmd = ["node", os.path.join(HERE, "ort_bench.js")]
    os.environ["NODE_PATH"] = os.path.join(work, "node_modules")  # for the child processes

    log("measuring CPU peaks")
    peaks = measure_peaks(work)
    inputs = write_input(work)
    prepare_models(models, work, tools)

    checks = {m: check_model(m, args.threads, work, tools, ort_cmd, inputs) for m in models}
    results, ort_version = [], None
    for m in models:
        for t in args.threads:
            rounds = time_variants(m, t, args, work, tools, ort_cmd, inputs[0])
            ort_version = rounds["ort_fp32"][0]["ort_version"]
            results.append(dict(summarize(m, t, rounds, peaks), check=checks[m]))

    print()
    node_rss = node_floor_rss(ort_cmd)
    print(report(results, peaks, ort_version, node_rss))
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"peaks_gmac_per_s_per_core": peaks, "ort_version": ort_version,
                       "node_floor_rss_bytes": node_rss,
                       "runs": args.runs, "rounds": args.rounds, "warmup": args.warmup,
                       "results": results}, f, indent=1)
        log(f"wrote {args.json_out}")


if __name__ == "__main__":
    main()
