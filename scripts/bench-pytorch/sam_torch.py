"""The SAM architecture in PyTorch, written for the CPU baseline benchmark.

Written from the project's architecture notes (shared docs/sam-reference.md),
not copied from segment-anything. Parameter names and shapes follow the
official state_dict, so `load_state_dict` accepts official checkpoints and
the project's parity fixtures (bench.py --check-fixture verifies the outputs
against those fixtures before timing anything).
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class LayerNorm2d(nn.Module):
    """Normalises each pixel over the channels (biased variance)."""

    def __init__(self, channels, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x):
        mean = x.mean(1, keepdim=True)
        var = (x - mean).pow(2).mean(1, keepdim=True)
        x = (x - mean) / torch.sqrt(var + self.eps)
        return self.weight[:, None, None] * x + self.bias[:, None, None]


class MLPBlock(nn.Module):
    def __init__(self, dim, hidden, act):
        super().__init__()
        self.lin1 = nn.Linear(dim, hidden)
        self.lin2 = nn.Linear(hidden, dim)
        self.act = act()

    def forward(self, x):
        return self.lin2(self.act(self.lin1(x)))


def relative_positions(rel_pos, size):
    """Rows rel_pos[(i - j) + size - 1] for query i and key j: (size, size, head_dim)."""
    idx = torch.arange(size)[:, None] - torch.arange(size)[None, :] + (size - 1)
    return rel_pos[idx]


class EncoderAttention(nn.Module):
    """Multi-head self-attention with decomposed relative position bias."""

    def __init__(self, dim, heads, size, use_rel_pos=True):
        super().__init__()
        self.heads = heads
        self.head_dim = dim // heads
        self.scale = self.head_dim ** -0.5
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.use_rel_pos = use_rel_pos
        if use_rel_pos:
            self.rel_pos_h = nn.Parameter(torch.zeros(2 * size - 1, self.head_dim))
            self.rel_pos_w = nn.Parameter(torch.zeros(2 * size - 1, self.head_dim))

    def forward(self, x):
        b, h, w, c = x.shape
        qkv = self.qkv(x).reshape(b, h * w, 3, self.heads, self.head_dim)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).reshape(3, b * self.heads, h * w, self.head_dim).unbind(0)
        attn = (q * self.scale) @ k.transpose(-2, -1)
        if self.use_rel_pos:
            rh = relative_positions(self.rel_pos_h, h)  # (qh, kh, d)
            rw = relative_positions(self.rel_pos_w, w)  # (qw, kw, d)
            rq = q.reshape(b * self.heads, h, w, self.head_dim)  # unscaled q
            bias_h = torch.einsum("bhwc,hkc->bhwk", rq, rh)
            bias_w = torch.einsum("bhwc,wkc->bhwk", rq, rw)
            attn = attn.view(b * self.heads, h, w, h, w) + bias_h[:, :, :, :, None] + bias_w[:, :, :, None, :]
            attn = attn.view(b * self.heads, h * w, h * w)
        attn = attn.softmax(dim=-1)
        out = (attn @ v).view(b, self.heads, h, w, self.head_dim).permute(0, 2, 3, 1, 4).reshape(b, h, w, c)
        return self.proj(out)


class EncoderBlock(nn.Module):
    def __init__(self, dim, heads, mlp_ratio, window, grid, eps):
        super().__init__()
        self.window = window
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.attn = EncoderAttention(dim, heads, window if window > 0 else grid)
        self.norm2 = nn.LayerNorm(dim, eps=eps)
        self.mlp = MLPBlock(dim, int(dim * mlp_ratio), nn.GELU)

    def forward(self, x):
        shortcut = x
        x = self.norm1(x)
        if self.window > 0:
            b, h, w, c = x.shape
            s = self.window
            ph, pw = (s - h % s) % s, (s - w % s) % s
            x = F.pad(x, (0, 0, 0, pw, 0, ph))
            hp, wp = h + ph, w + pw
            x = x.view(b, hp // s, s, wp // s, s, c).permute(0, 1, 3, 2, 4, 5).reshape(-1, s, s, c)
            x = self.attn(x)
            x = x.view(b, hp // s, wp // s, s, s, c).permute(0, 1, 3, 2, 4, 5).reshape(b, hp, wp, c)
            x = x[:, :h, :w, :].contiguous()
        else:
            x = self.attn(x)
        x = shortcut + x
        return x + self.mlp(self.norm2(x))


class PatchEmbed(nn.Module):
    def __init__(self, patch, in_chans, dim):
        super().__init__()
        self.proj = nn.Conv2d(in_chans, dim, kernel_size=patch, stride=patch)

    def forward(self, x):
        return self.proj(x).permute(0, 2, 3, 1)


class ImageEncoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg["embed_dim"]
        grid = cfg["img_size"] // cfg["patch_size"]
        self.patch_embed = PatchEmbed(cfg["patch_size"], cfg.get("in_chans", 3), d)
        self.pos_embed = nn.Parameter(torch.zeros(1, grid, grid, d))
        eps = cfg.get("layernorm_eps_encoder", 1e-6)
        self.blocks = nn.ModuleList(
            EncoderBlock(d, cfg["num_heads"], cfg["mlp_ratio"],
                         0 if i in cfg["global_attn_indexes"] else cfg["window_size"], grid, eps)
            for i in range(cfg["depth"]))
        out = cfg["out_chans"]
        ln2d = cfg.get("layernorm2d_eps", 1e-6)
        self.neck = nn.Sequential(
            nn.Conv2d(d, out, 1, bias=False), LayerNorm2d(out, ln2d),
            nn.Conv2d(out, out, 3, padding=1, bias=False), LayerNorm2d(out, ln2d))

    def forward(self, x):
        x = self.patch_embed(x) + self.pos_embed
        for blk in self.blocks:
            x = blk(x)
        return self.neck(x.permute(0, 3, 1, 2))


class PromptEncoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        c = cfg["prompt_embed_dim"]
        grid = cfg["img_size"] // cfg["patch_size"]
        self.embed_dim, self.grid, self.input_size = c, grid, cfg["img_size"]
        self.pe_layer = nn.Module()
        self.pe_layer.register_buffer("positional_encoding_gaussian_matrix", torch.randn(2, c // 2))
        self.point_embeddings = nn.ModuleList(nn.Embedding(1, c) for _ in range(4))
        self.not_a_point_embed = nn.Embedding(1, c)
        mic = cfg["mask_in_chans"]
        ln2d = cfg.get("layernorm2d_eps", 1e-6)
        self.mask_downscaling = nn.Sequential(
            nn.Conv2d(1, mic // 4, 2, stride=2), LayerNorm2d(mic // 4, ln2d), nn.GELU(),
            nn.Conv2d(mic // 4, mic, 2, stride=2), LayerNorm2d(mic, ln2d), nn.GELU(),
            nn.Conv2d(mic, c, 1))
        self.no_mask_embed = nn.Embedding(1, c)

    def fourier(self, coords01):
        z = 2 * math.pi * ((2 * coords01 - 1) @ self.pe_layer.positional_encoding_gaussian_matrix)
        return torch.cat([torch.sin(z), torch.cos(z)], dim=-1)

    def dense_pe(self):
        ys = (torch.arange(self.grid, dtype=torch.float32) + 0.5) / self.grid
        xs = (torch.arange(self.grid, dtype=torch.float32) + 0.5) / self.grid
        grid = torch.stack([xs[None, :].expand(self.grid, -1), ys[:, None].expand(-1, self.grid)], dim=-1)
        return self.fourier(grid).permute(2, 0, 1)[None]

    def forward(self, points, labels, box=None, mask=None):
        b = points.shape[0]
        pts = points + 0.5
        if box is None:
            pts = torch.cat([pts, torch.zeros(b, 1, 2)], dim=1)
            labels = torch.cat([labels, -torch.ones(b, 1, dtype=labels.dtype)], dim=1)
        pe = self.fourier(pts / self.input_size)
        lab = labels[..., None]
        pe = torch.where(lab == -1, torch.zeros_like(pe), pe)
        pe = pe + (lab == -1) * self.not_a_point_embed.weight
        pe = pe + (lab == 0) * self.point_embeddings[0].weight
        pe = pe + (lab == 1) * self.point_embeddings[1].weight
        sparse = pe
        if box is not None:
            corners = self.fourier((box.reshape(b, 2, 2) + 0.5) / self.input_size)
            corners = corners + torch.cat([self.point_embeddings[2].weight, self.point_embeddings[3].weight])[None]
            sparse = torch.cat([sparse, corners], dim=1)
        if mask is not None:
            dense = self.mask_downscaling(mask)
        else:
            dense = self.no_mask_embed.weight.reshape(1, -1, 1, 1).expand(b, -1, self.grid, self.grid)
        return sparse, dense


class DecoderAttention(nn.Module):
    def __init__(self, dim, heads, downsample=1):
        super().__init__()
        inner = dim // downsample
        self.heads = heads
        self.q_proj = nn.Linear(dim, inner)
        self.k_proj = nn.Linear(dim, inner)
        self.v_proj = nn.Linear(dim, inner)
        self.out_proj = nn.Linear(inner, dim)

    def split(self, x):
        b, n, c = x.shape
        return x.reshape(b, n, self.heads, c // self.heads).transpose(1, 2)

    def forward(self, q, k, v):
        q, k, v = self.split(self.q_proj(q)), self.split(self.k_proj(k)), self.split(self.v_proj(v))
        attn = (q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1])
        out = attn.softmax(dim=-1) @ v
        b, h, n, d = out.shape
        return self.out_proj(out.transpose(1, 2).reshape(b, n, h * d))


class TwoWayBlock(nn.Module):
    def __init__(self, dim, heads, mlp_dim, downsample, skip_first_pe, eps):
        super().__init__()
        self.self_attn = DecoderAttention(dim, heads)
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.cross_attn_token_to_image = DecoderAttention(dim, heads, downsample)
        self.norm2 = nn.LayerNorm(dim, eps=eps)
        self.mlp = MLPBlock(dim, mlp_dim, nn.ReLU)
        self.norm3 = nn.LayerNorm(dim, eps=eps)
        self.norm4 = nn.LayerNorm(dim, eps=eps)
        self.cross_attn_image_to_token = DecoderAttention(dim, heads, downsample)
        self.skip_first_pe = skip_first_pe

    def forward(self, queries, keys, query_pe, key_pe):
        if self.skip_first_pe:
            queries = self.self_attn(queries, queries, queries)
        else:
            q = queries + query_pe
            queries = queries + self.self_attn(q, q, queries)
        queries = self.norm1(queries)
        queries = self.norm2(queries + self.cross_attn_token_to_image(queries + query_pe, keys + key_pe, keys))
        queries = self.norm3(queries + self.mlp(queries))
        keys = self.norm4(keys + self.cross_attn_image_to_token(keys + key_pe, queries + query_pe, queries))
        return queries, keys


class TwoWayTransformer(nn.Module):
    def __init__(self, depth, dim, heads, mlp_dim, downsample, eps):
        super().__init__()
        self.layers = nn.ModuleList(
            TwoWayBlock(dim, heads, mlp_dim, downsample, i == 0, eps) for i in range(depth))
        self.final_attn_token_to_image = DecoderAttention(dim, heads, downsample)
        self.norm_final_attn = nn.LayerNorm(dim, eps=eps)

    def forward(self, image, image_pe, tokens):
        keys = image.flatten(2).permute(0, 2, 1)
        key_pe = image_pe.flatten(2).permute(0, 2, 1)
        queries = tokens
        for layer in self.layers:
            queries, keys = layer(queries, keys, tokens, key_pe)
        queries = queries + self.final_attn_token_to_image(queries + tokens, keys + key_pe, keys)
        return self.norm_final_attn(queries), keys


class MLP(nn.Module):
    def __init__(self, dims):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = F.relu(x)
        return x


class MaskDecoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        c = cfg["prompt_embed_dim"]
        self.num_mask_tokens = cfg["num_multimask_outputs"] + 1
        self.transformer = TwoWayTransformer(
            cfg["decoder_depth"], c, cfg["decoder_num_heads"], cfg["decoder_mlp_dim"],
            cfg.get("attention_downsample_rate", 2), cfg.get("layernorm_eps_decoder_transformer", 1e-5))
        self.iou_token = nn.Embedding(1, c)
        self.mask_tokens = nn.Embedding(self.num_mask_tokens, c)
        ln2d = cfg.get("layernorm2d_eps", 1e-6)
        self.output_upscaling = nn.Sequential(
            nn.ConvTranspose2d(c, c // 4, 2, stride=2), LayerNorm2d(c // 4, ln2d), nn.GELU(),
            nn.ConvTranspose2d(c // 4, c // 8, 2, stride=2), nn.GELU())
        self.output_hypernetworks_mlps = nn.ModuleList(
            MLP([c, c, c, c // 8]) for _ in range(self.num_mask_tokens))
        hidden = cfg["iou_head_hidden_dim"]
        self.iou_prediction_head = MLP([c] + [hidden] * (cfg["iou_head_depth"] - 1) + [self.num_mask_tokens])

    def forward(self, image_embedding, image_pe, sparse, dense):
        b = sparse.shape[0]
        out_tokens = torch.cat([self.iou_token.weight, self.mask_tokens.weight])[None].expand(b, -1, -1)
        tokens = torch.cat([out_tokens, sparse], dim=1)
        src = image_embedding.expand(b, -1, -1, -1) + dense
        pos = image_pe.expand(b, -1, -1, -1)
        _, c, h, w = src.shape
        hs, keys = self.transformer(src, pos, tokens)
        up = self.output_upscaling(keys.transpose(1, 2).reshape(b, c, h, w))
        hyper = torch.stack([mlp(hs[:, 1 + i]) for i, mlp in enumerate(self.output_hypernetworks_mlps)], dim=1)
        _, cu, hu, wu = up.shape
        masks = (hyper @ up.reshape(b, cu, hu * wu)).reshape(b, -1, hu, wu)
        return masks, self.iou_prediction_head(hs[:, 0])


class Sam(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.image_encoder = ImageEncoder(cfg)
        self.prompt_encoder = PromptEncoder(cfg)
        self.mask_decoder = MaskDecoder(cfg)


# The official hyper-parameters (build_sam.py), as fixture-style configs.
def official_config(variant):
    dims = {"vit_b": (768, 12, 12, [2, 5, 8, 11]), "vit_l": (1024, 24, 16, [5, 11, 17, 23]),
            "vit_h": (1280, 32, 16, [7, 15, 23, 31])}
    d, depth, heads, glob = dims[variant]
    return {"img_size": 1024, "patch_size": 16, "embed_dim": d, "depth": depth, "num_heads": heads,
            "mlp_ratio": 4, "window_size": 14, "global_attn_indexes": glob, "out_chans": 256,
            "prompt_embed_dim": 256, "mask_in_chans": 16, "decoder_depth": 2, "decoder_mlp_dim": 2048,
            "decoder_num_heads": 8, "iou_head_depth": 3, "iou_head_hidden_dim": 256,
            "num_multimask_outputs": 3}
