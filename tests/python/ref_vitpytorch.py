"""Plain-PyTorch re-implementation of lucidrains vit-pytorch `ViT`, in the
three state-dict layouts it has had over time (no einops needed).

  layout='early'    patch_to_embedding Linear; blocks Residual(PreNorm(fn))
                    -> transformer.layers.{i}.0.fn.norm / .0.fn.fn.to_qkv ...;
                    to_out always present; mlp_head = LayerNorm + Linear
                    (the LayerNorm acts on the pooled vector).
  layout='prenorm'  to_patch_embedding = Rearrange + Linear; PreNorm(fn) with
                    the residual in Transformer.forward -> .0.norm / .0.fn.to_qkv;
                    to_out Identity when heads == 1 and dim_head == dim;
                    mlp_head = LayerNorm + Linear.
  layout='new'      to_patch_embedding = Rearrange + LayerNorm + Linear +
                    LayerNorm; Attention / FeedForward own their LayerNorm
                    (.0.norm, .1.net.0); Transformer.norm over all tokens;
                    mlp_head = Linear. drop_cls_for_mean=True is the newest
                    version: with pool='mean' the class token has 0 rows and
                    pos_embedding covers the patches only. flat=True is
                    1.16 and later (today's HEAD): the same, with cls_token
                    [num_cls, dim] and pos_embedding [tokens, dim], 2-D.

Patches are flattened in (p1 p2 c) order as einops
'b c (h p1) (w p2) -> b (h w) (p1 p2 c)' does; pool='mean' averages every
token, the class token included. LayerNorm eps is torch's default 1e-5.
Module names match upstream, so state_dict() keys are vit-pytorch's.
"""
import torch
import torch.nn as nn


def pair(t):
    return tuple(t) if isinstance(t, (tuple, list)) else (t, t)


class Rearrange(nn.Module):
    """einops Rearrange 'b c (h p1) (w p2) -> b (h w) (p1 p2 c)' (no parameters).

    `order` = 'c p1 p2' flattens like a Conv2d kernel instead: only the
    fixtures' mistake variants set it.
    """

    def __init__(self, p1, p2):
        super().__init__()
        self.p1, self.p2 = p1, p2
        self.order = 'p1 p2 c'

    def forward(self, img):
        b, c, H, W = img.shape
        h, w = H // self.p1, W // self.p2
        x = img.reshape(b, c, h, self.p1, w, self.p2)
        perm = (0, 2, 4, 3, 5, 1) if self.order == 'p1 p2 c' else (0, 2, 4, 1, 3, 5)
        return x.permute(*perm).reshape(b, h * w, c * self.p1 * self.p2)


class FeedForward(nn.Module):
    def __init__(self, dim, hidden_dim, own_norm):
        super().__init__()
        layers = [nn.LayerNorm(dim)] if own_norm else []
        layers += [nn.Linear(dim, hidden_dim), nn.GELU(), nn.Dropout(0.), nn.Linear(hidden_dim, dim), nn.Dropout(0.)]
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


class Attention(nn.Module):
    def __init__(self, dim, heads, dim_head, own_norm, always_project):
        super().__init__()
        inner_dim = dim_head * heads
        project_out = always_project or not (heads == 1 and dim_head == dim)
        self.heads = heads
        self.scale = dim_head ** -0.5
        if own_norm:
            self.norm = nn.LayerNorm(dim)
        self.own_norm = own_norm
        self.to_qkv = nn.Linear(dim, inner_dim * 3, bias=False)
        self.to_out = nn.Sequential(nn.Linear(inner_dim, dim), nn.Dropout(0.)) if project_out else nn.Identity()

    def forward(self, x):
        if self.own_norm:
            x = self.norm(x)
        b, n, _ = x.shape

        def split_heads(t):  # 'b n (h d) -> b h n d'
            return t.reshape(b, n, self.heads, -1).transpose(1, 2)
        q, k, v = map(split_heads, self.to_qkv(x).chunk(3, dim=-1))
        attn = (torch.matmul(q, k.transpose(-1, -2)) * self.scale).softmax(dim=-1)
        out = torch.matmul(attn, v).transpose(1, 2).reshape(b, n, -1)  # 'b h n d -> b n (h d)'
        return self.to_out(out)


class PreNorm(nn.Module):
    def __init__(self, dim, fn):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.fn = fn

    def forward(self, x):
        return self.fn(self.norm(x))


class Residual(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x) + x


class Transformer(nn.Module):
    def __init__(self, layout, dim, depth, heads, dim_head, mlp_dim):
        super().__init__()
        self.layout = layout
        if layout == 'new':
            self.norm = nn.LayerNorm(dim)
        self.layers = nn.ModuleList([])
        for _ in range(depth):
            attn = Attention(dim, heads, dim_head, own_norm=layout == 'new', always_project=layout == 'early')
            ff = FeedForward(dim, mlp_dim, own_norm=layout == 'new')
            if layout == 'early':
                pair_ = [Residual(PreNorm(dim, attn)), Residual(PreNorm(dim, ff))]
            elif layout == 'prenorm':
                pair_ = [PreNorm(dim, attn), PreNorm(dim, ff)]
            else:
                pair_ = [attn, ff]
            self.layers.append(nn.ModuleList(pair_))

    def forward(self, x):
        for attn, ff in self.layers:
            if self.layout == 'early':  # Residual wrappers add the input themselves
                x = ff(attn(x))
            else:
                x = attn(x) + x
                x = ff(x) + x
        return self.norm(x) if self.layout == 'new' else x


class ViT(nn.Module):
    def __init__(self, *, layout, image_size, patch_size, num_classes, dim, depth, heads, mlp_dim,
                 pool='cls', channels=3, dim_head=64, drop_cls_for_mean=False, flat=False):
        super().__init__()
        assert layout in ('early', 'prenorm', 'new') and pool in ('cls', 'mean')
        assert not drop_cls_for_mean or layout == 'new'
        assert not flat or drop_cls_for_mean  # HEAD: num_cls_tokens = 1 if pool == 'cls' else 0
        ih, iw = pair(image_size)
        ph, pw = pair(patch_size)
        assert ih % ph == 0 and iw % pw == 0
        num_patches = (ih // ph) * (iw // pw)
        patch_dim = channels * ph * pw
        num_cls = 0 if drop_cls_for_mean and pool == 'mean' else 1
        self.image_size, self.channels, self.pool, self.layout = (ih, iw), channels, pool, layout

        if layout == 'early':
            self.patchify = Rearrange(ph, pw)  # a plain function upstream: no state-dict entry
            self.pos_embedding = nn.Parameter(torch.randn(1, num_patches + 1, dim))
            self.patch_to_embedding = nn.Linear(patch_dim, dim)
        else:
            stem = [Rearrange(ph, pw)]
            stem += [nn.LayerNorm(patch_dim), nn.Linear(patch_dim, dim), nn.LayerNorm(dim)] if layout == 'new' \
                else [nn.Linear(patch_dim, dim)]
            self.to_patch_embedding = nn.Sequential(*stem)
            self.patchify = self.to_patch_embedding[0]
            self.pos_embedding = nn.Parameter(torch.randn(1, num_patches + num_cls, dim))
        self.cls_token = nn.Parameter(torch.randn(1, num_cls, dim))
        if flat:
            self.pos_embedding = nn.Parameter(self.pos_embedding.data[0])
            self.cls_token = nn.Parameter(self.cls_token.data[0])
        self.flat = flat
        self.transformer = Transformer(layout, dim, depth, heads, dim_head, mlp_dim)
        self.mlp_head = nn.Linear(dim, num_classes) if layout == 'new' else \
            nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, num_classes))

    def embed(self, img):
        assert tuple(img.shape[1:]) == (self.channels,) + self.image_size
        x = self.patch_to_embedding(self.patchify(img)) if self.layout == 'early' else self.to_patch_embedding(img)
        b, n, _ = x.shape
        if self.flat:  # HEAD: repeat '... d -> b ... d', then pos_embedding[:seq]
            x = torch.cat((self.cls_token.expand(b, -1, -1), x), dim=1)
            return x + self.pos_embedding[:x.shape[1]]
        x = torch.cat((self.cls_token.expand(b, -1, -1), x), dim=1)
        return x + self.pos_embedding[:, :n + 1]

    def pool_tokens(self, x):
        return x.mean(dim=1) if self.pool == 'mean' else x[:, 0]

    def forward(self, img):
        return self.mlp_head(self.pool_tokens(self.transformer(self.embed(img))))
