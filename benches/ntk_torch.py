"""ntk_torch.py -- the plain full NTK of all-MiniLM-L6-v2 + LoRA with torch.func, for the benchmark.

Same setup as `ntk-lens ntk` in benches/ntk.sh: the first N rows of a JSONL dataset (field `text`),
max length 128, MiniLM (BertModel) + a mean-pool linear head for C = 2 classes, PEFT LoRA r = 8,
alpha = 8 on query,value of all 6 layers at PEFT initialisation (B = 0), the Jacobian taken with
respect to every lora_A and lora_B tensor. The kernel is the "jacobian contraction" recipe of the
PyTorch torch.func NTK tutorial (the official code's method): per-sample Jacobians with
vmap(jacrev(f)) over the padded batch, then K = sum over tensors of J J^T, full layout [nC, nC].

Prints one JSON line: {"n", "classes", "seconds", "trace", "top_eigenvalue", "threads"}; peak
memory is measured from outside (/usr/bin/time).
"""

import argparse
import json
import time

import torch
from peft import LoraConfig, get_peft_model
from tokenizers import Tokenizer
from torch.func import functional_call, jacrev, vmap
from transformers import BertModel


class MeanPoolClassifier(torch.nn.Module):
    def __init__(self, encoder, classes):
        super().__init__()
        self.encoder = encoder
        self.classifier = torch.nn.Linear(encoder.config.hidden_size, classes)

    def forward(self, input_ids, attention_mask):
        h = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        m = attention_mask.unsqueeze(-1).to(h.dtype)
        return self.classifier((h * m).sum(1) / m.sum(1).clamp_min(1e-9))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--chunk", type=int, default=8, help="samples per vmap(jacrev) call")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)

    texts = []
    with open(a.data) as f:
        for line in f:
            if line.strip():
                texts.append(json.loads(line)["text"])
            if len(texts) == a.n:
                break
    tok = Tokenizer.from_file(f"{a.model}/tokenizer.json")
    tok.no_padding()
    tok.enable_truncation(128)
    enc = [tok.encode(t).ids for t in texts]
    L = max(len(e) for e in enc)
    ids = torch.zeros(len(enc), L, dtype=torch.long)
    mask = torch.zeros(len(enc), L, dtype=torch.long)
    for i, e in enumerate(enc):
        ids[i, : len(e)] = torch.tensor(e)
        mask[i, : len(e)] = 1

    enc_model = BertModel.from_pretrained(a.model, attn_implementation="eager")
    model = MeanPoolClassifier(enc_model, 2)
    cfg = LoraConfig(r=8, lora_alpha=8, target_modules=["query", "value"], lora_dropout=0.0)
    model = get_peft_model(model, cfg).eval()
    params = {k: v.detach() for k, v in model.named_parameters() if "lora_" in k}
    buffers = {k: v.detach() for k, v in model.named_buffers()}

    def f_single(p, i, m):
        out = functional_call(model, (p, buffers), (i.unsqueeze(0), m.unsqueeze(0)))
        return out.squeeze(0)

    t0 = time.perf_counter()
    jacs = {k: [] for k in params}
    for s in range(0, len(enc), a.chunk):
        j = vmap(jacrev(f_single), (None, 0, 0))(params, ids[s : s + a.chunk], mask[s : s + a.chunk])
        for k in params:
            jacs[k].append(j[k].flatten(2))  # [m, C, P]
    n, C = len(enc), 2
    K = torch.zeros(n * C, n * C, dtype=torch.float32)
    for k in params:
        J = torch.cat(jacs[k], 0).reshape(n * C, -1)
        K += J @ J.T
    seconds = time.perf_counter() - t0
    ev = torch.linalg.eigvalsh(K.double())
    print(json.dumps({
        "n": n, "classes": C, "seconds": seconds, "trace": float(K.trace()),
        "top_eigenvalue": float(ev[-1]), "threads": a.threads,
        "params": int(sum(v.numel() for v in params.values())),
    }))


if __name__ == "__main__":
    main()
