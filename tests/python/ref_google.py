"""PyTorch re-implementation of Google's flax ViT (google-research/
vision_transformer, vit_jax/models_vit.py `VisionTransformer`), computed
directly on the flax parameters in their own names and layouts, so a dict
written from `init_params` is what an official .npz checkpoint holds:

  embedding/kernel [P, Q, C, D] (nn.Conv, NHWC, VALID, stride = patch), bias
  cls [1, 1, D]                                  (classifier='token' only)
  Transformer/posembed_input/pos_embedding [1, T, D]  (added to every token)
  Transformer/encoderblock_{i}/LayerNorm_0, LayerNorm_2 {scale, bias}
      .../MultiHeadDotProductAttention_1/{query,key,value}/kernel [D, H, hd],
          bias [H, hd]; out/kernel [H, hd, D], bias [D]
      .../MlpBlock_3/Dense_0, Dense_1 {kernel [in, out], bias}
  Transformer/encoder_norm {scale, bias}
  pre_logits/{kernel, bias}   (representation_size: Dense + tanh)
  head/{kernel [D, classes], bias}

Semantics (Encoder1DBlock): x = x + MHA(LN(x)); x = x + MLP(LN(x)); flax
LayerNorm epsilon 1e-6; MLP activation nn.gelu = jax.nn.gelu, whose
`approximate` defaults to True (tanh form); dot_product_attention scales the
query by head_dim^-0.5. classifier='token' reads token 0 after encoder_norm,
'gap' (no cls token) averages all tokens.
"""
import math

import torch
import torch.nn.functional as F


def init_params(gen, img, patch, chans, dim, depth, heads, mlp, classes, classifier='token',
                representation_size=None, tok_scale=1.0):
    """Random float64 flax parameters (non-trivial scales; see fixture_util.init_module)."""
    from fixture_util import randn
    hd = dim // heads
    gh, gw = img[0] // patch, img[1] // patch
    p = {}

    def dense(name, fan_in, kshape, bshape, gain=1.2):
        p[name + '/kernel'] = randn(gen, kshape, gain / math.sqrt(fan_in))
        p[name + '/bias'] = randn(gen, bshape, 0.1)

    def ln(name):
        p[name + '/scale'] = randn(gen, (dim,), 0.2, 1.0)
        p[name + '/bias'] = randn(gen, (dim,), 0.1)

    fan = patch * patch * chans
    p['embedding/kernel'] = randn(gen, (patch, patch, chans, dim), tok_scale / math.sqrt(fan))
    p['embedding/bias'] = randn(gen, (dim,), 0.1 * tok_scale)
    if classifier == 'token':
        p['cls'] = randn(gen, (1, 1, dim), 0.5 * tok_scale)
    p['Transformer/posembed_input/pos_embedding'] = randn(
        gen, (1, gh * gw + (classifier == 'token'), dim), 0.5 * tok_scale)
    for i in range(depth):
        b = f'Transformer/encoderblock_{i}/'
        ln(b + 'LayerNorm_0')
        for n in ('query', 'key', 'value'):
            dense(b + 'MultiHeadDotProductAttention_1/' + n, dim, (dim, heads, hd), (heads, hd))
        dense(b + 'MultiHeadDotProductAttention_1/out', dim, (heads, hd, dim), (dim,))
        ln(b + 'LayerNorm_2')
        dense(b + 'MlpBlock_3/Dense_0', dim, (dim, mlp), (mlp,))
        dense(b + 'MlpBlock_3/Dense_1', mlp, (mlp, dim), (dim,))
    ln('Transformer/encoder_norm')
    features = dim
    if representation_size:
        dense('pre_logits', dim, (dim, representation_size), (representation_size,))
        features = representation_size
    dense('head', features, (features, classes), (classes,), gain=2.0)
    return p


def layer_norm(x, p, name, eps):
    return F.layer_norm(x, x.shape[-1:], p[name + '/scale'], p[name + '/bias'], eps)


def forward(p, x, eps=1e-6, approximate_gelu=True, attn_scale=None, pool=None):
    """Logits for NCHW `x`. The keyword arguments exist for the fixtures'
    mistake variants: attn_scale overrides head_dim^-0.5, pool ('token' |
    'gap') overrides the classifier implied by the parameters."""
    x = x.to(p['embedding/kernel'].dtype).permute(0, 2, 3, 1)            # NHWC as in JAX
    k = p['embedding/kernel']
    P, Q, C, D = k.shape
    n, H, W, _ = x.shape
    x = x.reshape(n, H // P, P, W // Q, Q, C)
    x = torch.einsum('nhpwqc,pqcd->nhwd', x, k) + p['embedding/bias']   # VALID conv, stride = kernel
    x = x.reshape(n, -1, D)                                              # row-major patches
    if 'cls' in p:
        x = torch.cat([p['cls'].expand(n, -1, -1), x], dim=1)
    x = x + p['Transformer/posembed_input/pos_embedding']
    i = 0
    while f'Transformer/encoderblock_{i}/LayerNorm_0/scale' in p:
        b = f'Transformer/encoderblock_{i}/'
        a = b + 'MultiHeadDotProductAttention_1/'
        y = layer_norm(x, p, b + 'LayerNorm_0', eps)
        q, kk, v = (torch.einsum('ntd,dhe->nthe', y, p[a + f'{s}/kernel']) + p[a + f'{s}/bias']
                    for s in ('query', 'key', 'value'))
        q = q * (attn_scale if attn_scale else q.shape[-1] ** -0.5)
        w = torch.einsum('nqhe,nkhe->nhqk', q, kk).softmax(dim=-1)
        o = torch.einsum('nhqk,nkhe->nqhe', w, v)
        x = x + torch.einsum('nqhe,hed->nqd', o, p[a + 'out/kernel']) + p[a + 'out/bias']
        y = layer_norm(x, p, b + 'LayerNorm_2', eps)
        y = y @ p[b + 'MlpBlock_3/Dense_0/kernel'] + p[b + 'MlpBlock_3/Dense_0/bias']
        y = F.gelu(y, approximate='tanh' if approximate_gelu else 'none')
        x = x + y @ p[b + 'MlpBlock_3/Dense_1/kernel'] + p[b + 'MlpBlock_3/Dense_1/bias']
        i += 1
    x = layer_norm(x, p, 'Transformer/encoder_norm', eps)
    pool = pool or ('token' if 'cls' in p else 'gap')
    x = x[:, 0] if pool == 'token' else x.mean(dim=1)
    if 'pre_logits/kernel' in p:
        x = torch.tanh(x @ p['pre_logits/kernel'] + p['pre_logits/bias'])
    return x @ p['head/kernel'] + p['head/bias']
