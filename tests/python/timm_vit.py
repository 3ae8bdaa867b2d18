"""Plain-PyTorch re-implementation of timm's VisionTransformer (timm >= 0.9).

This is the reference the end-to-end tests compare vitrt against. It follows
timm/models/vision_transformer.py (and deit.py for VisionTransformerDistilled)
module by module, so `state_dict()` has exactly timm's key names and a
checkpoint written from it is what `vitrt-convert` would see from timm.

Covered: PatchEmbed (Conv2d, kernel = stride = patch), class token, DeiT
distillation token, learned pos_embed (incl. `no_embed_class`), pre-norm
blocks with optional LayerScale, final `norm` or `fc_norm`, global_pool
'token' | 'avg', `head` (+ `head_dist`). Not covered: register tokens, 'map'
pooling, dynamic image size, dropout (inference only anyway).

Only torch is needed (no timm).
"""
import torch
import torch.nn as nn


def _pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


class PatchEmbed(nn.Module):
    """Image -> [B, num_patches, embed_dim] via a strided Conv2d (`proj`)."""

    def __init__(self, img_size=224, patch_size=16, in_chans=3, embed_dim=768):
        super().__init__()
        self.img_size = _pair(img_size)
        self.patch_size = _pair(patch_size)
        assert self.img_size[0] % self.patch_size[0] == 0 and self.img_size[1] % self.patch_size[1] == 0
        self.grid_size = (self.img_size[0] // self.patch_size[0], self.img_size[1] // self.patch_size[1])
        self.num_patches = self.grid_size[0] * self.grid_size[1]
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=self.patch_size, stride=self.patch_size, bias=True)
        self.norm = nn.Identity()

    def forward(self, x):
        _, _, h, w = x.shape
        assert (h, w) == self.img_size, f"input {h}x{w} != model {self.img_size}"
        x = self.proj(x)                        # [B, D, gh, gw]
        x = x.flatten(2).transpose(1, 2)        # [B, gh*gw, D], row-major patches
        return self.norm(x)


class Attention(nn.Module):
    def __init__(self, dim, num_heads=8, qkv_bias=False):
        super().__init__()
        assert dim % num_heads == 0, "dim should be divisible by num_heads"
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.scale = self.head_dim ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.q_norm = nn.Identity()
        self.k_norm = nn.Identity()
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)                 # each [B, H, N, hd]
        q, k = self.q_norm(q), self.k_norm(k)
        q = q * self.scale
        attn = (q @ k.transpose(-2, -1)).softmax(dim=-1)
        x = attn @ v
        x = x.transpose(1, 2).reshape(B, N, C)
        return self.proj(x)


class LayerScale(nn.Module):
    def __init__(self, dim, init_values=1e-5):
        super().__init__()
        self.gamma = nn.Parameter(init_values * torch.ones(dim))

    def forward(self, x):
        return x * self.gamma


class Mlp(nn.Module):
    def __init__(self, in_features, hidden_features):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden_features)
        self.act = nn.GELU()                    # exact (erf) GELU
        self.norm = nn.Identity()
        self.fc2 = nn.Linear(hidden_features, in_features)

    def forward(self, x):
        return self.fc2(self.norm(self.act(self.fc1(x))))


class Block(nn.Module):
    def __init__(self, dim, num_heads, mlp_ratio=4.0, qkv_bias=False, init_values=None, eps=1e-6):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.attn = Attention(dim, num_heads=num_heads, qkv_bias=qkv_bias)
        self.ls1 = LayerScale(dim, init_values) if init_values else nn.Identity()
        self.norm2 = nn.LayerNorm(dim, eps=eps)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))
        self.ls2 = LayerScale(dim, init_values) if init_values else nn.Identity()

    def forward(self, x):
        x = x + self.ls1(self.attn(self.norm1(x)))
        x = x + self.ls2(self.mlp(self.norm2(x)))
        return x


class VisionTransformer(nn.Module):
    """timm.models.vision_transformer.VisionTransformer (inference subset).

    With distilled=True it behaves as timm.models.deit.VisionTransformerDistilled:
    tokens [cls, dist, patches], `head_dist`, output (head(x0) + head_dist(x1)) / 2.
    """

    def __init__(self, img_size=224, patch_size=16, in_chans=3, num_classes=1000, global_pool='token',
                 embed_dim=768, depth=12, num_heads=12, mlp_ratio=4.0, qkv_bias=True, init_values=None,
                 class_token=True, no_embed_class=False, fc_norm=None, distilled=False, eps=1e-6):
        super().__init__()
        assert global_pool in ('', 'avg', 'token')
        assert class_token or global_pool != 'token'
        assert not distilled or (class_token and global_pool == 'token')
        use_fc_norm = global_pool == 'avg' if fc_norm is None else fc_norm

        self.num_classes = num_classes
        self.global_pool = global_pool
        self.num_features = self.embed_dim = embed_dim
        self.num_prefix_tokens = (1 if class_token else 0) + (1 if distilled else 0)
        self.no_embed_class = no_embed_class
        self.distilled = distilled

        self.patch_embed = PatchEmbed(img_size, patch_size, in_chans, embed_dim)
        num_patches = self.patch_embed.num_patches

        # Parameter registration order follows timm (cls_token, pos_embed, then
        # deit.py adds dist_token after the base constructor).
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim)) if class_token else None
        embed_len = num_patches if no_embed_class else num_patches + self.num_prefix_tokens
        self.pos_embed = nn.Parameter(torch.randn(1, embed_len, embed_dim) * .02)
        self.norm_pre = nn.Identity()
        self.blocks = nn.Sequential(*[
            Block(embed_dim, num_heads, mlp_ratio, qkv_bias, init_values, eps) for _ in range(depth)])
        self.norm = nn.LayerNorm(embed_dim, eps=eps) if not use_fc_norm else nn.Identity()
        self.fc_norm = nn.LayerNorm(embed_dim, eps=eps) if use_fc_norm else nn.Identity()
        self.head = nn.Linear(embed_dim, num_classes) if num_classes > 0 else nn.Identity()
        if distilled:
            self.dist_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
            self.head_dist = nn.Linear(embed_dim, num_classes) if num_classes > 0 else nn.Identity()

    def _prefix_tokens(self, B):
        toks = []
        if self.cls_token is not None:
            toks.append(self.cls_token.expand(B, -1, -1))
        if self.distilled:
            toks.append(self.dist_token.expand(B, -1, -1))
        return toks

    def _pos_embed(self, x):
        to_cat = self._prefix_tokens(x.shape[0])
        if self.no_embed_class:
            # position embedding covers patches only; prefix tokens get none
            x = x + self.pos_embed
            if to_cat:
                x = torch.cat(to_cat + [x], dim=1)
        else:
            if to_cat:
                x = torch.cat(to_cat + [x], dim=1)
            x = x + self.pos_embed
        return x

    def forward_features(self, x):
        x = self.patch_embed(x)
        x = self._pos_embed(x)
        x = self.norm_pre(x)
        x = self.blocks(x)
        return self.norm(x)

    def forward_head(self, x):
        if self.distilled:
            return (self.head(x[:, 0]) + self.head_dist(x[:, 1])) / 2
        if self.global_pool == 'avg':
            x = x[:, self.num_prefix_tokens:].mean(dim=1)
        elif self.global_pool == 'token':
            x = x[:, 0]
        x = self.fc_norm(x)
        return self.head(x)

    def forward(self, x):
        return self.forward_head(self.forward_features(x))


# timm architecture names -> constructor kwargs (the subset vitrt-convert knows).
_SIZES = {'tiny': (192, 12, 3), 'small': (384, 12, 6), 'base': (768, 12, 12), 'large': (1024, 24, 16)}


def arch_kwargs(name):
    """Constructor kwargs for a timm arch name, e.g. 'deit_tiny_patch16_224'."""
    distilled = '_distilled_' in name
    family, size = name.split('_')[:2]
    assert family in ('vit', 'deit') and size in _SIZES, name
    parts = name.split('_')
    patch = int(next(p for p in parts if p.startswith('patch'))[5:])
    img = int(parts[-1])
    dim, depth, heads = _SIZES[size]
    return dict(img_size=img, patch_size=patch, embed_dim=dim, depth=depth, num_heads=heads,
                distilled=distilled)


def deit_tiny_patch16_224(**kw):
    return VisionTransformer(**{**arch_kwargs('deit_tiny_patch16_224'), **kw})

