"""Train the same GPT as `anneal train --model PRESET` with PyTorch on CPU and print tokens/s.

Architecture mirrors src/Anneal.Training/Models/Models.cs: byte vocabulary 256, learned positions,
pre-LayerNorm blocks (causal self-attention, 4x GELU-tanh MLP), biases, final LayerNorm, output
projection tied to the token embedding, AdamW(b1=0.9, b2=0.95, eps=1e-8, wd=0.1 on matrices),
global-norm clipping at 1.0. Usage: python3 torch_gpt.py --preset gpt-tiny --steps 30 --batch 16
"""
import argparse, math, os, time
import torch
import torch.nn as nn
import torch.nn.functional as F

PRESETS = {"gpt-tiny": dict(layers=2, heads=4, dim=128, seq=64), "gpt-small": dict(layers=4, heads=8, dim=256, seq=128)}


class Block(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.h = h
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.fc, self.fc2 = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

    def forward(self, x, mask):
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)
        q, k, v = (z.view(b, t, self.h, d // self.h).transpose(1, 2) for z in (q, k, v))
        s = (q @ k.transpose(-2, -1)) / math.sqrt(d // self.h)
        a = F.softmax(s.masked_fill(mask[:t, :t], float("-inf")), dim=-1) @ v
        x = x + self.proj(a.transpose(1, 2).reshape(b, t, d))
        return x + self.fc2(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))


class Gpt(nn.Module):
    def __init__(self, layers, heads, dim, seq, vocab=256):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(vocab, dim), nn.Embedding(seq, dim)
        self.blocks = nn.ModuleList(Block(dim, heads) for _ in range(layers))
        self.lnf = nn.LayerNorm(dim)
        self.register_buffer("mask", torch.triu(torch.ones(seq, seq, dtype=torch.bool), 1))
        for p in self.parameters():
            if p.dim() == 2: nn.init.normal_(p, std=0.02)

    def forward(self, idx, targets):
        t = idx.shape[1]
        x = self.wte(idx) + self.wpe(torch.arange(t))
        for blk in self.blocks: x = blk(x, self.mask)
        logits = self.lnf(x) @ self.wte.weight.t()
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="gpt-tiny", choices=PRESETS)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--data", default=None, help="training text (default: random bytes)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    cfg = PRESETS[a.preset]
    model = Gpt(**cfg)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    other = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": other, "weight_decay": 0.0}], lr=1e-3, betas=(0.9, 0.95), eps=1e-8)
    data = torch.frombuffer(bytearray(open(a.data, "rb").read()), dtype=torch.uint8).long() if a.data else torch.randint(0, 256, (1 << 20,))
    seq, timed, cpu, tokens = cfg["seq"], 0.0, 0.0, 0
    for step in range(a.steps):
        ix = torch.randint(0, len(data) - seq - 1, (a.batch,))
        x = torch.stack([data[i:i + seq] for i in ix]); y = torch.stack([data[i + 1:i + 1 + seq] for i in ix])
        t0, c0 = time.perf_counter(), time.process_time()
        loss = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        if step >= 2:  # the first two steps warm up allocators and kernels (Anneal excludes them too)
            timed += dt; cpu += dc; tokens += a.batch * seq
    print(f"torch {torch.__version__} {a.preset}: loss {loss.item():.4f}, {tokens / timed:.0f} tokens/s (training; {tokens / cpu:.0f} per CPU-second), threads {a.threads}")


if __name__ == "__main__":
    main()
