"""Plain-PyTorch MoCo v3 ViTs: facebookresearch/moco-v3 vits.py and the ViT
parts of moco/builder.py, on top of timm_vit.py (timm's VisionTransformer).

- VisionTransformerMoCo: timm ViT with vits.py's fixed 2-D sin-cos position
  embedding (zero for the class token) and, with conv_stem=True, its ConvStem
  (4 x [Conv3x3 stride 2, BatchNorm2d, ReLU] then a 1x1 Conv2d).
- MoCoViT: the pretraining model (builder.py MoCo_ViT): base_encoder and
  momentum_encoder whose `head` is the 3-layer projection MLP, and the
  2-layer predictor. Its inference output is base_encoder(x).
`state_dict()` names are therefore those of real MoCo v3 checkpoints (before
DataParallel's 'module.' prefix).
"""
import torch
import torch.nn as nn

import timm_vit


def sincos_2d(grid_h, grid_w, dim, temperature=10000.):
    """vits.py build_2d_sincos_position_embedding: [1, 1 + h*w, dim]."""
    grid_w_, grid_h_ = torch.arange(grid_w, dtype=torch.float32), torch.arange(grid_h, dtype=torch.float32)
    grid_w_, grid_h_ = torch.meshgrid(grid_w_, grid_h_, indexing='ij')   # vits.py: default 'ij'
    assert dim % 4 == 0
    pos_dim = dim // 4
    omega = torch.arange(pos_dim, dtype=torch.float32) / pos_dim
    omega = 1. / (temperature ** omega)
    out_w = torch.einsum('m,d->md', [grid_w_.flatten(), omega])
    out_h = torch.einsum('m,d->md', [grid_h_.flatten(), omega])
    pos = torch.cat([torch.sin(out_w), torch.cos(out_w), torch.sin(out_h), torch.cos(out_h)], dim=1)[None]
    return torch.cat([torch.zeros([1, 1, dim]), pos], dim=1)


class ConvStem(nn.Module):
    """vits.py ConvStem (patch 16 = four stride-2 convolutions)."""

    def __init__(self, img_size=224, patch_size=16, in_chans=3, embed_dim=768):
        super().__init__()
        assert patch_size == 16 and embed_dim % 8 == 0
        self.img_size = timm_vit._pair(img_size)
        self.patch_size = (patch_size, patch_size)
        self.grid_size = (self.img_size[0] // patch_size, self.img_size[1] // patch_size)
        self.num_patches = self.grid_size[0] * self.grid_size[1]
        stem, input_dim, output_dim = [], in_chans, embed_dim // 8
        for _ in range(4):
            stem += [nn.Conv2d(input_dim, output_dim, kernel_size=3, stride=2, padding=1, bias=False),
                     nn.BatchNorm2d(output_dim), nn.ReLU(inplace=True)]
            input_dim, output_dim = output_dim, output_dim * 2
        stem.append(nn.Conv2d(input_dim, embed_dim, kernel_size=1))
        self.proj = nn.Sequential(*stem)

    def forward(self, x):
        assert tuple(x.shape[2:]) == self.img_size
        return self.proj(x).flatten(2).transpose(1, 2)


class VisionTransformerMoCo(timm_vit.VisionTransformer):
    def __init__(self, conv_stem=False, **kwargs):
        super().__init__(**kwargs)
        if conv_stem:
            self.patch_embed = ConvStem(kwargs.get('img_size', 224), kwargs.get('patch_size', 16),
                                        kwargs.get('in_chans', 3), self.embed_dim)
        gh, gw = self.patch_embed.grid_size
        self.pos_embed = nn.Parameter(sincos_2d(gh, gw, self.embed_dim), requires_grad=False)


def build_mlp(num_layers, input_dim, mlp_dim, output_dim, last_bn=True):
    """builder.py MoCo._build_mlp."""
    mlp = []
    for l in range(num_layers):
        dim1 = input_dim if l == 0 else mlp_dim
        dim2 = output_dim if l == num_layers - 1 else mlp_dim
        mlp.append(nn.Linear(dim1, dim2, bias=False))
        if l < num_layers - 1:
            mlp += [nn.BatchNorm1d(dim2), nn.ReLU(inplace=True)]
        elif last_bn:
            mlp.append(nn.BatchNorm1d(dim2, affine=False))   # SimCLR's design, no gamma/beta
    return nn.Sequential(*mlp)


class MoCoViT(nn.Module):
    """builder.py MoCo_ViT, inference only: forward(x) = base_encoder(x)."""

    def __init__(self, dim=256, mlp_dim=4096, **vit_kwargs):
        super().__init__()
        self.base_encoder = VisionTransformerMoCo(num_classes=mlp_dim, **vit_kwargs)
        self.momentum_encoder = VisionTransformerMoCo(num_classes=mlp_dim, **vit_kwargs)
        hidden_dim = self.base_encoder.head.weight.shape[1]
        self.base_encoder.head = build_mlp(3, hidden_dim, mlp_dim, dim)
        self.momentum_encoder.head = build_mlp(3, hidden_dim, mlp_dim, dim)
        self.predictor = build_mlp(2, dim, mlp_dim, dim, False)

    def forward(self, x):
        return self.base_encoder(x)


# moco-v3 vits.py architectures.
ARCHS = {
    'vit_small': dict(embed_dim=384, depth=12, num_heads=12),
    'vit_base': dict(embed_dim=768, depth=12, num_heads=12),
    'vit_conv_small': dict(embed_dim=384, depth=11, num_heads=12, conv_stem=True),
    'vit_conv_base': dict(embed_dim=768, depth=11, num_heads=12, conv_stem=True),
}
