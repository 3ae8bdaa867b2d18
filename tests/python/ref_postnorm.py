"""The post-norm ViT of the seed tutorial (../shared/seeds/001_*.txt,
"Vision Transformer (ViT): 开启视觉识别的新纪元"), module for module, so
state_dict() has the seed's key names. Kept as written:

- SelfAttention: ONE Linear(head_dim, head_dim, bias=False) each for
  values / keys / queries, applied to every head's slice of the input;
  softmax(energy / embed_dim ** 0.5) (embed_dim, not head_dim); fc_out.
- TransformerBlock (post-norm): x = norm1(attn(x) + x);
  out = norm2(feed_forward(x) + x); feed_forward = Linear(D, e*D) - ReLU -
  Linear(e*D, D) where e = forward_expansion, which the seed's ViT passes
  as mlp_dim (so the hidden width is mlp_dim * dim). nn.LayerNorm eps 1e-5.
- pos_embedding [1, n+1, D] added to every token; no norm after the blocks;
  mlp_head = Linear(D, mlp_dim) - ReLU - Linear(mlp_dim, classes) on token 0.

Two bugs of the seed are fixed by their evident intent: its forward flattens
the patches with x.flatten(2).flatten(1) (one [N, n*patch_dim] row, which
the patch Linear cannot take) - here each patch is one row, flattened in the
(p1, p2, c) order of its permute(0, 2, 4, 3, 5, 1); and it calls the
nn.Sequential of blocks with (x, mask) while each block takes
(value, key, query, mask) - here every block gets (x, x, x, None).
Dropout is omitted (inference).
"""
import torch
from torch import nn


class SelfAttention(nn.Module):
    def __init__(self, embed_dim, heads):
        super().__init__()
        self.embed_dim = embed_dim
        self.heads = heads
        self.head_dim = embed_dim // heads
        assert self.head_dim * heads == embed_dim, "embed_dim must be divisible by heads"
        self.values = nn.Linear(self.head_dim, self.head_dim, bias=False)
        self.keys = nn.Linear(self.head_dim, self.head_dim, bias=False)
        self.queries = nn.Linear(self.head_dim, self.head_dim, bias=False)
        self.fc_out = nn.Linear(heads * self.head_dim, embed_dim)
        self.scale_dim = embed_dim  # the fixtures' mistake variant sets head_dim

    def forward(self, values, keys, queries, mask):
        N = queries.shape[0]
        value_len, key_len, query_len = values.shape[1], keys.shape[1], queries.shape[1]
        values = self.values(values.reshape(N, value_len, self.heads, self.head_dim))
        keys = self.keys(keys.reshape(N, key_len, self.heads, self.head_dim))
        queries = self.queries(queries.reshape(N, query_len, self.heads, self.head_dim))
        energy = torch.einsum("nqhd,nkhd->nhqk", [queries, keys])
        if mask is not None:
            energy = energy.masked_fill(mask == 0, float("-1e20"))
        attention = torch.softmax(energy / (self.scale_dim ** (1 / 2)), dim=3)
        out = torch.einsum("nhql,nlhd->nqhd", [attention, values]).reshape(N, query_len, self.heads * self.head_dim)
        return self.fc_out(out)


class TransformerBlock(nn.Module):
    def __init__(self, embed_dim, heads, forward_expansion):
        super().__init__()
        self.attention = SelfAttention(embed_dim, heads)
        self.norm1 = nn.LayerNorm(embed_dim)
        self.norm2 = nn.LayerNorm(embed_dim)
        self.feed_forward = nn.Sequential(
            nn.Linear(embed_dim, forward_expansion * embed_dim),
            nn.ReLU(),
            nn.Linear(forward_expansion * embed_dim, embed_dim))

    def forward(self, value, key, query, mask):
        attention = self.attention(value, key, query, mask)
        x = self.norm1(attention + query)
        forward = self.feed_forward(x)
        return self.norm2(forward + x)


class ViT(nn.Module):
    def __init__(self, img_size, patch_size, num_classes, dim, depth, heads, mlp_dim, channels=3):
        super().__init__()
        self.patch_size = patch_size
        self.num_patches = (img_size // patch_size) ** 2
        self.patch_dim = channels * patch_size ** 2
        self.pos_embedding = nn.Parameter(torch.randn(1, self.num_patches + 1, dim))
        self.patch_to_embedding = nn.Linear(self.patch_dim, dim)
        self.cls_token = nn.Parameter(torch.randn(1, 1, dim))
        self.transformer = nn.Sequential(*[TransformerBlock(dim, heads, mlp_dim) for _ in range(depth)])
        self.mlp_head = nn.Sequential(nn.Linear(dim, mlp_dim), nn.ReLU(), nn.Linear(mlp_dim, num_classes))
        self.patch_order = (0, 2, 4, 3, 5, 1)  # the fixtures' mistake variant flattens (c, p1, p2)

    def forward(self, x):
        N, C, H, W = x.shape
        p = self.patch_size
        x = x.view(N, C, H // p, p, W // p, p).permute(*self.patch_order)  # N, h, w, p1, p2, C
        x = x.reshape(N, (H // p) * (W // p), -1)                          # N, n_patches, patch_dim
        patches = self.patch_to_embedding(x)
        x = torch.cat((self.cls_token.expand(N, -1, -1), patches), dim=1)
        x = x + self.pos_embedding
        for block in self.transformer:
            x = block(x, x, x, None)
        return self.mlp_head(x[:, 0])
