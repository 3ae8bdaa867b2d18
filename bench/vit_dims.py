"""Dimensions of the benchmarked ViTs and their multiply-accumulate count;
shared by the PyTorch reference (ref_vit.py) and the benchmark driver,
which must not need torch just to do arithmetic."""

CONFIGS = {
    # name: (embed_dim, depth, num_heads)
    "deit_tiny_patch16_224": (192, 12, 3),
    "vit_small_patch16_224": (384, 12, 6),
    "vit_base_patch16_224": (768, 12, 12),
}
IMG, PATCH, IN_CH, NUM_CLASSES, MLP_RATIO = 224, 16, 3, 1000, 4


def macs(name):
    """Multiply-accumulates for one image (batch 1).

    patch-embed : Np * (C*P*P) * D                  (Np = (IMG/P)^2 = 196)
    per block   : 4*N*D*D  (qkv 3ND^2 + proj ND^2)
                + 2*N*N*D  (q@k^T and attn@v, all heads)
                + 2*N*D*4D (fc1 + fc2)             (N = Np + 1 = 197)
    head        : D * NUM_CLASSES  (cls token only)
    LayerNorm/softmax/GELU/bias adds are not counted.
    """
    d, depth, _ = CONFIGS[name]
    np_ = (IMG // PATCH) ** 2
    n = np_ + 1
    patch_embed = np_ * IN_CH * PATCH * PATCH * d
    block = 4 * n * d * d + 2 * n * n * d + 2 * n * d * (MLP_RATIO * d)
    return patch_embed + depth * block + d * NUM_CLASSES
