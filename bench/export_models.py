"""Export the reference ViTs: weights for vitrt-convert, ONNX fp32 and an
ORT-style dynamic int8 rewrite of it, all from the same random-init weights.

  python3 export_models.py --out DIR [--models NAME...] [--opset 17]

writes, per model, into DIR (existing files are kept):
  {name}.pt             state_dict, timm layout (vitrt-convert reads it directly)
  {name}_fp32.onnx      torch.onnx.export, batch 1, 1x3x224x224, constant folding
  {name}_int8dyn.onnx   MatMul weights -> int8 (DynamicQuantizeLinear + MatMulInteger)

The int8 rewrite mirrors what onnxruntime.quantization.quantize_dynamic does by
default (QOperator / IntegerOps mode, weight_type=QInt8, per_channel=False,
reduce_range=False, MatMulConstBOnly=True, op_types_to_quantize=['MatMul']):
  for every MatMul whose B input is a float initializer:
    A  -> DynamicQuantizeLinear -> (A_q uint8, A_scale, A_zp)
    B  -> int8, symmetric per-tensor, range [-127, 127], zp 0, scale = absmax/127
    MatMulInteger(A_q, B_q, A_zp, B_zp) -> Cast(float) -> Mul(A_scale * B_scale)
At load time ORT's graph optimizer fuses that pattern into the contrib op
DynamicQuantizeMatMul.  Conv (patch embed) and the Gemm head stay fp32, as
with op_types_to_quantize=['MatMul'].  Written with the onnx Python API:
onnxruntime's own quantization tool needs the onnxruntime wheel, which Debian
does not package.
"""
import argparse
import os
import sys

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

import ref_vit
import vit_dims


# Each file is written under a temporary name and renamed when complete, so an
# interrupted run leaves nothing that a later one would reuse.
def export_fp32(name, out_dir, opset):
    m = ref_vit.build(name)
    torch.save(m.state_dict(), os.path.join(out_dir, f"{name}.pt.tmp"))
    os.replace(os.path.join(out_dir, f"{name}.pt.tmp"), os.path.join(out_dir, f"{name}.pt"))
    path = os.path.join(out_dir, f"{name}_fp32.onnx")
    with torch.no_grad():
        torch.onnx.export(
            m, ref_vit.example_input(), path + ".tmp", opset_version=opset, do_constant_folding=True,
            input_names=["input"], output_names=["logits"])
    os.replace(path + ".tmp", path)
    return path


def quantize_weight_int8_symmetric(w):
    absmax = float(np.abs(w).max())
    scale = absmax / 127.0 if absmax > 0 else 1.0
    q = np.clip(np.rint(w / scale), -127, 127).astype(np.int8)
    return q, np.float32(scale)


def dynamic_quantize_matmuls(src, dst):
    model = onnx.load(src)
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    new_nodes = []
    dq_cache = {}   # activation name -> (q, scale, zp) so a shared input is quantized once
    n_q = 0
    for node in g.node:
        b = node.input[1] if node.op_type == "MatMul" else None
        if b is None or b not in inits or inits[b].data_type != TensorProto.FLOAT:
            new_nodes.append(node)
            continue
        w = numpy_helper.to_array(inits[b])
        if w.ndim != 2:
            new_nodes.append(node)
            continue
        n_q += 1
        a = node.input[0]
        if a not in dq_cache:
            q, s, z = a + "_quantized", a + "_scale", a + "_zero_point"
            new_nodes.append(helper.make_node(
                "DynamicQuantizeLinear", [a], [q, s, z], name=a + "_QuantizeLinear"))
            dq_cache[a] = (q, s, z)
        aq, ascale, azp = dq_cache[a]
        wq, wscale = quantize_weight_int8_symmetric(w)
        wq_name, ws_name, wz_name = b + "_quantized", b + "_scale", b + "_zero_point"
        g.initializer.append(numpy_helper.from_array(wq, wq_name))
        g.initializer.append(numpy_helper.from_array(np.array(wscale, np.float32), ws_name))
        g.initializer.append(numpy_helper.from_array(np.array(0, np.int8), wz_name))
        base = node.name or node.output[0]
        mi_out = node.output[0] + "_output_quantized"
        new_nodes.append(helper.make_node(
            "MatMulInteger", [aq, wq_name, azp, wz_name], [mi_out], name=base + "_quant"))
        cast_out = mi_out + "_cast_output"
        new_nodes.append(helper.make_node(
            "Cast", [mi_out], [cast_out], name=mi_out + "_cast", to=TensorProto.FLOAT))
        sm_out = base + "_quant_scales_mul:0"
        new_nodes.append(helper.make_node(
            "Mul", [ascale, ws_name], [sm_out], name=base + "_quant_scales_mul"))
        new_nodes.append(helper.make_node(
            "Mul", [cast_out, sm_out], [node.output[0]], name=base + "_quant_output_scale_mul"))
    # drop the now-unused float weights
    used = {i for n in new_nodes for i in n.input}
    keep = [t for t in g.initializer if t.name in used]
    del g.initializer[:]
    g.initializer.extend(keep)
    del g.node[:]
    g.node.extend(new_nodes)
    onnx.checker.check_model(model)
    onnx.save(model, dst + ".tmp")
    os.replace(dst + ".tmp", dst)
    return n_q


def export(names, out_dir, opset=17):
    """Writes the missing files of every model in `names` into out_dir."""
    os.makedirs(out_dir, exist_ok=True)
    for name in names:
        fp32 = os.path.join(out_dir, f"{name}_fp32.onnx")
        int8 = os.path.join(out_dir, f"{name}_int8dyn.onnx")
        if not os.path.exists(fp32):  # written after {name}.pt
            export_fp32(name, out_dir, opset)
            print(f"exported {fp32} ({os.path.getsize(fp32) / 2**20:.1f} MiB)", flush=True)
        if not os.path.exists(int8):
            n = dynamic_quantize_matmuls(fp32, int8)
            print(f"quantized {n} MatMuls -> {int8} ({os.path.getsize(int8) / 2**20:.1f} MiB)",
                  flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", nargs="+", default=list(vit_dims.CONFIGS), choices=list(vit_dims.CONFIGS))
    ap.add_argument("--out", required=True)
    ap.add_argument("--opset", type=int, default=17)
    args = ap.parse_args()
    export(args.models, args.out, args.opset)


if __name__ == "__main__":
    sys.exit(main())
