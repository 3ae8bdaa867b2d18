#!/usr/bin/python3
"""Write fixtures of the seed's post-norm ViT: fixtures_postnorm.py OUTDIR [--only NAME...] | --list

Per case, OUTDIR/<name>/ gets the state dict of a ref_postnorm.ViT (the
seed's key names) as model.pth (torch.save of the dict) and
model.safetensors, input.npy, expected.npy (float64 logits) and
convert_args.txt. Each case first checks that the plausible mistakes of
`variants` (scores scaled by head_dim^-0.5, pre-norm blocks, patches
flattened (c, p, q), q and k swapped, another eps) move the logits well
beyond check_parity's tolerance.
"""
import os
import sys
import types

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_util as fu  # noqa: E402
import ref_postnorm  # noqa: E402

# name -> (ViT kwargs, vitrt-convert flags, small_act)
CASES = {
    'postnorm_seed': (dict(img_size=16, patch_size=4, num_classes=10, dim=32, depth=2, heads=4, mlp_dim=6),
                      '--heads 4', False),
    # 2 channels of 6x6: a patch width of 72 needs --patch-size.
    'postnorm_patch_flag_small_act': (dict(img_size=24, patch_size=6, num_classes=5, dim=24, depth=2, heads=2,
                                           mlp_dim=5, channels=2),
                                      '--heads 2 --patch-size 6 --mean 0.5 --std 0.5', True),
}


def prenorm_forward(self, value, key, query, mask):
    x = query + self.attention(*(self.norm1(t) for t in (value, key, query)), mask)
    return x + self.feed_forward(self.norm2(x))


def variants(model, small_act):
    out = fu.Variants(model)
    variant = out.add

    def blocks(fn):
        return lambda m: [fn(b) for b in m.transformer]

    variant('scale_head_dim', blocks(lambda b: setattr(b.attention, 'scale_dim', b.attention.head_dim)))
    variant('pre_norm', blocks(lambda b: setattr(b, 'forward', types.MethodType(prenorm_forward, b))))
    variant('patch_c_p_q', lambda m: setattr(m, 'patch_order', (0, 2, 4, 1, 3, 5)))
    variant('q_k_swapped', blocks(lambda b: b.attention._modules.update(queries=b.attention.keys,
                                                                         keys=b.attention.queries)))
    if small_act:
        variant('eps_1e-6', lambda m: [setattr(n, 'eps', 1e-6) for n in m.modules()
                                       if isinstance(n, torch.nn.LayerNorm)])
    return out


@torch.no_grad()
def make_case(outdir, name, seed):
    kwargs, args, small_act = CASES[name]
    gen = torch.Generator().manual_seed(seed)
    model = ref_postnorm.ViT(**kwargs).double().eval()
    fu.init_module(model, gen, tok_scale=0.003 if small_act else 1.0, token_names=('cls_token', 'pos_embedding'),
                   patch_names=('patch_to_embedding.weight', 'patch_to_embedding.bias'))
    if small_act:  # keep norm1's input small AND token-dependent: no constant fc_out bias
        for b in model.transformer:
            b.attention.fc_out.bias.zero_()
    x = torch.randn((1, kwargs.get('channels', 3), kwargs['img_size'], kwargs['img_size']), generator=gen)
    y = model(x.double())
    fu.check_sensitivity(name, y, {k: m(x.double()) for k, m in variants(model, small_act).items()})
    fu.write_case(outdir, name, model.state_dict(), ('pth', 'safetensors'), x, y, args)


if __name__ == '__main__':
    fu.main(__doc__, CASES, make_case, seed_base=9000)
