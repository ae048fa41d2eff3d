#!/usr/bin/env python3
"""Side-by-side reference for `bloom4j bench muq`: MuQ inference throughput in plain PyTorch (CPU, fp32, random weights).

    /usr/bin/python3 infer/src/bench/python/bench_muq.py --seconds 30 --threads 2
    BLOOM4J_THREADS=2 ./bloom4j bench muq --seconds 30

The model is MuQ-large-msd-iter's inference path at its real shapes (spec muq-and-vq.md §1-§2), written here in plain torch so that
neither torchaudio nor transformers is needed: mel front end (torch.stft, periodic Hann 2048, hop 240, reflect, power 2, HTK mel
128 bands, 10*log10, global mean/std), the conv stem (two Res2dModules with eval BatchNorm, Linear 16384->1024), and 12
wav2vec2-conformer layers (d 1024, 16 heads, FFN 4096 SiLU, rotary on the normed input before q/k, conv module with GLU, depthwise
k=31, BatchNorm, SiLU), then the final LayerNorm. Weights are random (N(0,1)/sqrt(fan_in)); speed does not depend on them.
Printed: seconds per run (best of --repeat after a warm-up) and seconds of audio per second.

BLAS: Debian's python3-torch links the reference BLAS (BLAS_INFO=generic, ~5 GFLOP/s for a 1024^3 sgemm), which would make
every Linear ~20x slower than ND4J's OpenBLAS. For a like-for-like comparison preload the OpenBLAS that ND4J itself ships:

    LD_PRELOAD=~/.javacpp/cache/openblas-0.3.19-1.5.7-linux-x86_64.jar/org/bytedeco/openblas/linux-x86_64/libopenblas_nolapack.so.0 \
    OPENBLAS_CORETYPE=SkylakeX OPENBLAS_NUM_THREADS=2 /usr/bin/python3 infer/src/bench/python/bench_muq.py --threads 2

The script prints its own sgemm rate so a slow BLAS is visible in the result line.
"""
import argparse
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

SR, N_FFT, HOP, N_MELS = 24000, 2048, 240, 128
MEAN, STD = 6.768444971712967, 18.417922652295623


def htk_filterbank(n_freqs=N_FFT // 2 + 1, n_mels=N_MELS, sr=SR):
    all_freqs = torch.linspace(0, sr // 2, n_freqs)
    m_max = 2595.0 * math.log10(1.0 + (sr // 2) / 700.0)
    m_pts = torch.linspace(0.0, m_max, n_mels + 2)
    f_pts = 700.0 * (10 ** (m_pts / 2595.0) - 1.0)
    f_diff = f_pts[1:] - f_pts[:-1]
    slopes = f_pts.unsqueeze(0) - all_freqs.unsqueeze(1)
    down = -1.0 * slopes[:, :-2] / f_diff[:-1]
    up = slopes[:, 2:] / f_diff[1:]
    return torch.clamp(torch.min(down, up), min=0)


class MelFront(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("window", torch.hann_window(N_FFT))
        self.register_buffer("fb", htk_filterbank())

    def forward(self, x):  # [B, L] -> [B, 128, L // 240]
        spec = torch.stft(x, N_FFT, HOP, window=self.window, center=True, pad_mode="reflect", return_complex=True).abs().pow(2)
        mel = torch.matmul(spec.transpose(-1, -2), self.fb).transpose(-1, -2)
        db = 10.0 * torch.log10(torch.clamp(mel, min=1e-10))
        return (db[..., :-1] - MEAN) / STD


class Res2d(nn.Module):
    def __init__(self, i, o):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(i, o, 3, (2, 2), 1), nn.BatchNorm2d(o)
        self.conv2, self.bn2 = nn.Conv2d(o, o, 3, 1, 1), nn.BatchNorm2d(o)
        self.conv3, self.bn3 = nn.Conv2d(i, o, 3, (2, 2), 1), nn.BatchNorm2d(o)

    def forward(self, x):
        a = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(a)) + self.bn3(self.conv3(x)))


class Stem(nn.Module):
    def __init__(self, c=512, d=1024):
        super().__init__()
        self.conv = nn.Sequential(Res2d(1, c), Res2d(c, c))
        self.linear = nn.Linear(c * N_MELS // 4, d)

    def forward(self, mel):  # [B, 128, T] -> [B, T', d]
        x = self.conv(mel.unsqueeze(1))
        b, c, f, t = x.shape
        return self.linear(x.permute(0, 3, 1, 2).reshape(b, t, c * f))


class FFN(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.intermediate_dense, self.output_dense = nn.Linear(d, h), nn.Linear(h, d)

    def forward(self, x):
        return self.output_dense(F.silu(self.intermediate_dense(x)))


def rotate(x, cos, sin, heads):  # rotary on the input viewed as heads (HF wav2vec2-conformer _apply_rotary_embedding)
    b, t, d = x.shape
    x = x.view(b, t, heads, d // heads)
    half = x.shape[-1] // 2
    rot = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
    return (x * cos + rot * sin).view(b, t, d)


class Layer(nn.Module):
    def __init__(self, d=1024, heads=16, ffn=4096, k=31):
        super().__init__()
        self.heads = heads
        self.ffn1_layer_norm, self.ffn1 = nn.LayerNorm(d), FFN(d, ffn)
        self.self_attn_layer_norm = nn.LayerNorm(d)
        self.linear_q, self.linear_k, self.linear_v, self.linear_out = (nn.Linear(d, d) for _ in range(4))
        self.conv_layer_norm = nn.LayerNorm(d)
        self.pointwise_conv1 = nn.Conv1d(d, 2 * d, 1, bias=False)
        self.depthwise_conv = nn.Conv1d(d, d, k, padding=(k - 1) // 2, groups=d, bias=False)
        self.batch_norm = nn.BatchNorm1d(d)
        self.pointwise_conv2 = nn.Conv1d(d, d, 1, bias=False)
        self.ffn2_layer_norm, self.ffn2 = nn.LayerNorm(d), FFN(d, ffn)
        self.final_layer_norm = nn.LayerNorm(d)

    def attention(self, x, cos, sin):
        b, t, d = x.shape
        dh = d // self.heads
        xr = rotate(x, cos, sin, self.heads)
        q = self.linear_q(xr).view(b, t, self.heads, dh).transpose(1, 2)
        k = self.linear_k(xr).view(b, t, self.heads, dh).transpose(1, 2)
        v = self.linear_v(x).view(b, t, self.heads, dh).transpose(1, 2)
        p = torch.softmax(torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(dh), dim=-1)
        return self.linear_out(torch.matmul(p, v).transpose(1, 2).reshape(b, t, d))

    def conv_module(self, x):
        y = self.conv_layer_norm(x).transpose(1, 2)
        y = F.glu(self.pointwise_conv1(y), dim=1)
        y = F.silu(self.batch_norm(self.depthwise_conv(y)))
        return self.pointwise_conv2(y).transpose(1, 2)

    def forward(self, h, cos, sin):
        h = h + 0.5 * self.ffn1(self.ffn1_layer_norm(h))
        h = h + self.attention(self.self_attn_layer_norm(h), cos, sin)
        h = h + self.conv_module(h)
        h = h + 0.5 * self.ffn2(self.ffn2_layer_norm(h))
        return self.final_layer_norm(h)


class Muq(nn.Module):
    def __init__(self, depth=12, d=1024, heads=16):
        super().__init__()
        self.front, self.stem = MelFront(), Stem()
        self.layers = nn.ModuleList(Layer(d, heads) for _ in range(depth))
        self.layer_norm = nn.LayerNorm(d)
        dh = d // heads
        self.register_buffer("inv_freq", 1.0 / (10000 ** (torch.arange(0, dh, 2).float() / dh)))

    def forward(self, wav):
        h = self.stem(self.front(wav))
        t = h.shape[1]
        freqs = torch.einsum("i,j->ij", torch.arange(t).type_as(self.inv_freq), self.inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos()[:, None, :], emb.sin()[:, None, :]
        for layer in self.layers:
            h = layer(h, cos, sin)
        return self.layer_norm(h)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=30.0, help="audio length (default 30 s, one MuQ window)")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    ap.add_argument("--repeat", type=int, default=2, help="timed runs after one warm-up (default 2)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = Muq().eval()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d)):
                fan_in = m.weight[0].numel()
                m.weight.normal_(0, 1 / math.sqrt(fan_in))
    params = sum(p.numel() for p in model.parameters())
    a_ = torch.randn(1024, 1024)
    a_ @ a_
    t0 = time.perf_counter()
    for _ in range(5):
        a_ @ a_
    gemm = 5 * 2 * 1024 ** 3 / (time.perf_counter() - t0) / 1e9
    wav = 0.1 * torch.randn(1, int(a.seconds * SR))
    times = []
    with torch.no_grad():
        out = model(wav)  # warm-up
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            out = model(wav)
            times.append(time.perf_counter() - t0)
    best = min(times)
    print(f"bench muq (torch {torch.__version__}): params={params} audio_s={a.seconds:.1f} tokens={out.shape[1]} threads={a.threads} "
          f"sgemm_gflops={gemm:.0f} runs_s={[round(t, 3) for t in times]} best_s={best:.3f} audio_s_per_s={a.seconds / best:.3f}")


if __name__ == "__main__":
    main()
