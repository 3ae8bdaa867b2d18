#!/usr/bin/python3
"""Write Hugging Face ViT and jeonsworld ViT-pytorch fixtures: fixtures_hf.py OUTDIR [--only NAME...] | --list

Per case, OUTDIR/<name>/ gets the state dict of a ref_hf model (upstream key
names) as model.safetensors and model.pth (torch.save of the dict),
input.npy, expected.npy (float64 logits), convert_args.txt, and for the
--config case its config.json. Each case first checks that the plausible
mistakes of `variants` (tanh GELU, another eps / head count / pooling, q and
k swapped) move the logits well beyond check_parity's tolerance.
"""
import functools
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_util as fu  # noqa: E402
import ref_hf  # noqa: E402

HF_CONFIG = dict(hidden_size=48, num_hidden_layers=2, num_attention_heads=6, intermediate_size=96, image_size=24,
                 patch_size=8, num_channels=3, layer_norm_eps=1e-3, hidden_act='gelu', qkv_bias=True,
                 id2label={str(i): f'class_{i}' for i in range(5)}, architectures=['ViTForImageClassification'])

# name -> (model class, constructor kwargs, vitrt-convert flags, formats, options)
# options: small_act = tiny token embeddings so LayerNorm eps matters;
#          bare = drop the "vit." prefix (a ViTModel-style dict);
#          config = write HF_CONFIG as config.json ("{config}" in the flags);
#          no_probe = plain random weights, without fixture_util.add_gelu_probe's
#          planted outliers (for the fp16/int8 checks; the GELU form is then
#          not visible in the logits, so that variant is not checked).
CASES = {
    'hf_default_eps_small_act': (ref_hf.HfViT, dict(img=16, patch=4, chans=3, dim=32, depth=2, heads=4, mlp=64,
                                                    classes=10), '--heads 4', ('safetensors', 'pth'),
                                 dict(small_act=True)),
    'hf_config_json': (ref_hf.HfViT, dict(img=24, patch=8, chans=3, dim=48, depth=2, heads=6, mlp=96, classes=5,
                                          eps=1e-3), '--config {config}', ('pth', 'safetensors'),
                       dict(small_act=True, config=True)),
    'hf_bare_prefix': (ref_hf.HfViT, dict(img=16, patch=8, chans=1, dim=32, depth=1, heads=2, mlp=48, classes=3),
                       '--heads 2 --mean 0.5 --std 0.5', ('safetensors',), dict(bare=True)),
    'jeonsworld_small_act': (ref_hf.JeonsworldViT, dict(img=32, patch=8, chans=3, dim=32, depth=2, heads=4, mlp=64,
                                                        classes=10), '--heads 4', ('pth', 'safetensors'),
                             dict(small_act=True)),
    'hf_no_probe': (ref_hf.HfViT, dict(img=16, patch=4, chans=3, dim=32, depth=2, heads=4, mlp=64, classes=10),
                    '--heads 4', ('safetensors', 'pth'), dict(no_probe=True)),
    'jeonsworld_no_probe': (ref_hf.JeonsworldViT, dict(img=32, patch=8, chans=3, dim=32, depth=2, heads=4, mlp=64,
                                                       classes=10), '--heads 4', ('pth', 'safetensors'),
                            dict(no_probe=True)),
}


def mlps(model):
    """(fc1, fc2) Linear pairs of every block."""
    if isinstance(model, ref_hf.HfViT):
        return [(l.intermediate.dense, l.output.dense) for l in model.vit.encoder.layer]
    return [(b.ffn.fc1, b.ffn.fc2) for b in model.transformer.encoder.layer]


def variants(model, small_act, gelu_visible):
    out = fu.Variants(model)
    variant = out.add

    def each(cls, fn):
        def edit(m):
            for mod in m.modules():
                if isinstance(mod, cls):
                    fn(mod)
        return edit

    if gelu_visible:
        variant('gelu_tanh', each((ref_hf.HfLayer, ref_hf.JeonsworldBlock),
                                  lambda b: setattr(b, 'act', functools.partial(F.gelu, approximate='tanh'))))
    variant('heads_1', each(ref_hf.SelfAttention, lambda a: a.__dict__.update(heads=1, head_dim=a.heads * a.head_dim)))
    variant('q_k_swapped', each(ref_hf.SelfAttention, lambda a: a.__dict__['_modules'].update(query=a.key, key=a.query)))
    variant('pool_mean', lambda m: setattr(m, 'pool', 'mean'))
    if small_act:
        eps = next(mod.eps for mod in model.modules() if isinstance(mod, torch.nn.LayerNorm))
        other = 1e-12 if eps != 1e-12 else 1e-6
        variant(f'eps_{other:g}', each(torch.nn.LayerNorm, lambda n: setattr(n, 'eps', other)))
    return out


@torch.no_grad()
def make_case(outdir, name, seed):
    cls, kwargs, args, formats, opts = CASES[name]
    gen = torch.Generator().manual_seed(seed)
    model = cls(**kwargs).double().eval()
    sd_names = list(model.state_dict())
    fu.init_module(model, gen, tok_scale=0.01 if opts.get('small_act') else 1.0,
                   token_names=[n for n in sd_names if n.endswith(('cls_token', 'position_embeddings'))],
                   patch_names=[n for n in sd_names if '.patch_embeddings.' in n])
    probe = not opts.get('no_probe')
    if probe:
        for fc1, fc2 in mlps(model):
            fu.add_gelu_probe(fc1.weight, fc1.bias, fc2.weight, fc2.bias, gen, approximate=False)
    x = torch.randn((1, kwargs['chans'], kwargs['img'], kwargs['img']), generator=gen)
    y = model(x.double())
    fu.check_sensitivity(name, y, {k: m(x.double()) for k, m in variants(model, opts.get('small_act'), probe).items()})

    sd = model.state_dict()
    if opts.get('bare'):
        sd = {k[len('vit.'):] if k.startswith('vit.') else k: v for k, v in sd.items()}
    d = os.path.join(outdir, name)
    if opts.get('config'):
        os.makedirs(d, exist_ok=True)
        config = os.path.abspath(os.path.join(d, 'config.json'))
        with open(config, 'w') as f:
            json.dump(HF_CONFIG, f, indent=2)
        args = args.format(config=config)
    fu.write_case(outdir, name, sd, formats, x, y, args)


if __name__ == '__main__':
    fu.main(__doc__, CASES, make_case, seed_base=8000)
