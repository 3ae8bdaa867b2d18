"""Plain-PyTorch re-implementations whose state_dict() keys are those of

- Hugging Face transformers `ViTForImageClassification`
  (models/vit/modeling_vit.py: ViTModel(add_pooling_layer=False) as `vit`,
  ViTEmbeddings / ViTPatchEmbeddings.projection Conv2d, ViTLayer with
  layernorm_before / attention.attention.{query,key,value} /
  attention.output.dense / layernorm_after / intermediate.dense (+ GELU) /
  output.dense, final `vit.layernorm`, `classifier` on token 0). Every
  LayerNorm uses config.layer_norm_eps (ViTConfig default 1e-12); hidden_act
  "gelu" is the exact GELU; scores / sqrt(head_size).
- jeonsworld/ViT-pytorch `VisionTransformer` (models/modeling.py:
  transformer.embeddings.{patch_embeddings Conv2d, position_embeddings,
  cls_token}, transformer.encoder.layer.{i}.{attention_norm, attn.{query,
  key,value,out}, ffn_norm, ffn.fc1, ffn.fc2}, transformer.encoder.encoder_norm,
  `head` on token 0). LayerNorm eps 1e-6; ACT2FN["gelu"] =
  torch.nn.functional.gelu (exact).

Both are pre-norm ViTs: x = x + attn(LN(x)); x = x + mlp(LN(x)); the
position embedding is added to the class token too. Dropout is omitted.
The `act` and `pool` attributes exist for the fixtures' mistake variants.
"""
import torch
from torch import nn
import torch.nn.functional as F


class SelfAttention(nn.Module):
    """query / key / value Linears -> multi-head softmax(q k^T / sqrt(hd)) v."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads, self.head_dim = heads, dim // heads
        self.query, self.key, self.value = nn.Linear(dim, dim), nn.Linear(dim, dim), nn.Linear(dim, dim)

    def split(self, x):
        return x.reshape(x.shape[0], x.shape[1], self.heads, self.head_dim).transpose(1, 2)

    def forward(self, x):
        q, k, v = self.split(self.query(x)), self.split(self.key(x)), self.split(self.value(x))
        w = (q @ k.transpose(-1, -2) / self.head_dim ** 0.5).softmax(dim=-1)
        return (w @ v).transpose(1, 2).reshape(x.shape)


class Holder(nn.Module):
    """A module that only names its children (HF's nested wrappers)."""

    def __init__(self, **children):
        super().__init__()
        for k, v in children.items():
            setattr(self, k, v)


def embed_forward(x, conv, cls_token, pos):
    x = conv(x).flatten(2).transpose(1, 2)
    return torch.cat([cls_token.expand(x.shape[0], -1, -1), x], dim=1) + pos


def pool(x, how):
    return x[:, 0] if how == 'token' else x[:, 1:].mean(dim=1)


class HfLayer(nn.Module):
    def __init__(self, dim, heads, mlp, eps):
        super().__init__()
        self.attention = Holder(attention=SelfAttention(dim, heads), output=Holder(dense=nn.Linear(dim, dim)))
        self.intermediate = Holder(dense=nn.Linear(dim, mlp))
        self.output = Holder(dense=nn.Linear(mlp, dim))
        self.layernorm_before = nn.LayerNorm(dim, eps=eps)
        self.layernorm_after = nn.LayerNorm(dim, eps=eps)
        self.act = F.gelu

    def forward(self, x):
        x = self.attention.output.dense(self.attention.attention(self.layernorm_before(x))) + x
        return self.output.dense(self.act(self.intermediate.dense(self.layernorm_after(x)))) + x


class HfViT(nn.Module):
    """ViTForImageClassification."""

    def __init__(self, img, patch, chans, dim, depth, heads, mlp, classes, eps=1e-12):
        super().__init__()
        n = (img // patch) ** 2
        emb = Holder(cls_token=nn.Parameter(torch.zeros(1, 1, dim)),
                     position_embeddings=nn.Parameter(torch.zeros(1, n + 1, dim)),
                     patch_embeddings=Holder(projection=nn.Conv2d(chans, dim, patch, stride=patch)))
        self.vit = Holder(embeddings=emb,
                          encoder=Holder(layer=nn.ModuleList(HfLayer(dim, heads, mlp, eps) for _ in range(depth))),
                          layernorm=nn.LayerNorm(dim, eps=eps))
        self.classifier = nn.Linear(dim, classes)
        self.pool = 'token'

    def forward(self, x):
        e = self.vit.embeddings
        x = embed_forward(x, e.patch_embeddings.projection, e.cls_token, e.position_embeddings)
        for layer in self.vit.encoder.layer:
            x = layer(x)
        return self.classifier(pool(self.vit.layernorm(x), self.pool))


class JeonsworldBlock(nn.Module):
    def __init__(self, dim, heads, mlp):
        super().__init__()
        self.attention_norm = nn.LayerNorm(dim, eps=1e-6)
        self.ffn_norm = nn.LayerNorm(dim, eps=1e-6)
        self.ffn = Holder(fc1=nn.Linear(dim, mlp), fc2=nn.Linear(mlp, dim))
        self.attn = SelfAttention(dim, heads)
        self.attn.out = nn.Linear(dim, dim)
        self.act = F.gelu

    def forward(self, x):
        x = self.attn.out(self.attn(self.attention_norm(x))) + x
        return self.ffn.fc2(self.act(self.ffn.fc1(self.ffn_norm(x)))) + x


class JeonsworldViT(nn.Module):
    """models/modeling.py VisionTransformer (non-hybrid)."""

    def __init__(self, img, patch, chans, dim, depth, heads, mlp, classes):
        super().__init__()
        n = (img // patch) ** 2
        emb = Holder(patch_embeddings=nn.Conv2d(chans, dim, patch, stride=patch),
                     position_embeddings=nn.Parameter(torch.zeros(1, n + 1, dim)),
                     cls_token=nn.Parameter(torch.zeros(1, 1, dim)))
        layers = nn.ModuleList(JeonsworldBlock(dim, heads, mlp) for _ in range(depth))
        self.transformer = Holder(embeddings=emb,
                                  encoder=Holder(layer=layers, encoder_norm=nn.LayerNorm(dim, eps=1e-6)))
        self.head = nn.Linear(dim, classes)
        self.pool = 'token'

    def forward(self, x):
        e = self.transformer.embeddings
        x = embed_forward(x, e.patch_embeddings, e.cls_token, e.position_embeddings)
        for block in self.transformer.encoder.layer:
            x = block(x)
        return self.head(pool(self.transformer.encoder.encoder_norm(x), self.pool))
