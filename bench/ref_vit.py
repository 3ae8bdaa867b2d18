"""Self-contained PyTorch reference ViT whose state_dict keys match timm's
VisionTransformer (class token, learned pos_embed, pre-norm blocks).

    patch_embed.proj.{weight,bias}, cls_token, pos_embed,
    blocks.N.norm1.{weight,bias}, blocks.N.attn.qkv.{weight,bias},
    blocks.N.attn.proj.{weight,bias}, blocks.N.norm2.{weight,bias},
    blocks.N.mlp.fc1.{weight,bias}, blocks.N.mlp.fc2.{weight,bias},
    norm.{weight,bias}, head.{weight,bias}

LayerNorm eps 1e-6, exact (erf) GELU, qkv bias, mlp_ratio 4, 1000 classes.
No timm dependency; weights are random (fixed seed), so only speed/accuracy
*agreement between engines* is meaningful, not ImageNet accuracy.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from vit_dims import CONFIGS, IMG, IN_CH, MLP_RATIO, NUM_CLASSES, PATCH


class PatchEmbed(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.proj = nn.Conv2d(IN_CH, dim, kernel_size=PATCH, stride=PATCH)

    def forward(self, x):
        x = self.proj(x)                      # B, D, 14, 14
        return x.flatten(2).transpose(1, 2)   # B, 196, D


class Attention(nn.Module):
    def __init__(self, dim, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.scale = self.head_dim ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]      # B, H, N, hd
        attn = (q * self.scale) @ k.transpose(-2, -1)
        attn = attn.softmax(dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(B, N, C)
        return self.proj(x)


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))  # exact erf GELU


class Block(nn.Module):
    def __init__(self, dim, num_heads):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, MLP_RATIO * dim)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        x = x + self.mlp(self.norm2(x))
        return x


class VisionTransformer(nn.Module):
    def __init__(self, dim, depth, num_heads, num_classes=NUM_CLASSES):
        super().__init__()
        self.patch_embed = PatchEmbed(dim)
        num_patches = (IMG // PATCH) ** 2
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, num_patches + 1, dim))
        self.blocks = nn.Sequential(*[Block(dim, num_heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, x):
        x = self.patch_embed(x)
        x = torch.cat((self.cls_token.expand(x.shape[0], -1, -1), x), dim=1)
        x = x + self.pos_embed
        x = self.blocks(x)
        x = self.norm(x)
        return self.head(x[:, 0])


def _init(model):
    for name, p in model.named_parameters():
        if name.endswith("bias"):
            nn.init.normal_(p, std=0.02) if "norm" not in name else nn.init.zeros_(p)
        elif "norm" in name:
            nn.init.ones_(p)
        else:  # linear/conv weights, cls_token, pos_embed
            nn.init.trunc_normal_(p, std=0.02, a=-0.04, b=0.04)


def build(name, seed=0):
    dim, depth, heads = CONFIGS[name]
    torch.manual_seed(seed)
    m = VisionTransformer(dim, depth, heads)
    _init(m)
    return m.eval()


def example_input(seed=1):
    """Tracing input for torch.onnx.export (any values will do)."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(1, 3, IMG, IMG, generator=g)

