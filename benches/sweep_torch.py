"""sweep_torch.py -- the training half of `ntk-lens sweep` in plain PyTorch, for the benchmark.

Same workload as benches/sweep.sh gives ntk-lens: the first N rows of a JSONL dataset (field
`text`, label `label`, classes = its sorted distinct labels), max length 128, MiniLM (BertModel)
+ a frozen mean-pool linear head for C = 2 classes (as in ntk_torch.py, but drawn as ntk-lens
draws it: N(0, 0.02²), bias 0), PEFT LoRA r = 8, alpha = 8 on query,value of all 6 layers at
PEFT initialisation (B = 0). For each λ, from the same θ0 (all lora_A and lora_B tensors),
`--steps` full-batch gradient-descent steps on

    Σ_i ½‖f(x_i) − onehot(y_i)‖² + (λ/2)‖θ − θ0‖²       (sum over samples, not the mean)

    θ ← θ − lr·(∇Σℓ + λ(θ − θ0))

with the step size of that λ from `--lrs` (sweep.sh passes ntk-lens's `results[i].lr`, so both
sides take the same steps). One padded batch of all N samples per step, padding masked.

Prints one JSON line: {"seconds" (the training loops only), "threads", "n", "steps",
"lambdas", "lrs", "initial_losses", "final_losses"}; a loss is the total (data + proximal) at
θ_t before step t's update, as ntk-lens's `loss_curve_actual`, so "final" is its last entry.
`--curves` adds the per-step "data_curves" and "proximal_curves".

    /tmp/refenv/bin/python benches/sweep_torch.py --model web/models/all-MiniLM-L6-v2 \
        --data web/datasets/uci-yelp.jsonl --lambdas 1e-4,1 --lrs 0.01,0.01 --steps 3 --curves
"""

import argparse
import json
import time

import torch
from peft import LoraConfig, get_peft_model
from tokenizers import Tokenizer
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


def floats(s):
    return [float(v) for v in s.split(",") if v.strip()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--lambdas", type=floats, default=floats("1e-4,1e-3,1e-2,1e-1,1,10,100"))
    ap.add_argument("--lrs", type=floats, required=True, help="one step size per λ")
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--curves", action="store_true", help="also print the per-step losses")
    a = ap.parse_args()
    if len(a.lrs) != len(a.lambdas):
        ap.error(f"{len(a.lambdas)} lambdas but {len(a.lrs)} lrs")
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)

    rows = [json.loads(line) for line in open(a.data) if line.strip()]
    names = sorted({str(r["label"]) for r in rows})  # class indices as ntk-lens: sorted names
    rows = rows[: a.n]
    C = 2
    y = torch.nn.functional.one_hot(
        torch.tensor([names.index(str(r["label"])) for r in rows]), C).float()
    tok = Tokenizer.from_file(f"{a.model}/tokenizer.json")
    tok.no_padding()
    tok.enable_truncation(128)
    enc = [tok.encode(r["text"]).ids for r in rows]
    L = max(len(e) for e in enc)
    ids = torch.zeros(len(enc), L, dtype=torch.long)
    mask = torch.zeros(len(enc), L, dtype=torch.long)
    for i, e in enumerate(enc):
        ids[i, : len(e)] = torch.tensor(e)
        mask[i, : len(e)] = 1

    # SDPA attention (transformers' default; no vmap here, unlike ntk_torch.py): the faster one.
    enc_model = BertModel.from_pretrained(a.model, attn_implementation="sdpa")
    model = MeanPoolClassifier(enc_model, C)
    # The head drawn as ntk-lens draws it (Hugging Face's init: N(0, 0.02²), bias 0), not
    # nn.Linear's default (~1.5x the scale, ~2x the NTK): with ntk-lens's step sizes the
    # latter runs past the edge of stability and collapses to a constant prediction.
    torch.nn.init.normal_(model.classifier.weight, std=enc_model.config.initializer_range)
    torch.nn.init.zeros_(model.classifier.bias)
    cfg = LoraConfig(r=8, lora_alpha=8, target_modules=["query", "value"], lora_dropout=0.0)
    model = get_peft_model(model, cfg).eval()  # freezes everything but the LoRA tensors
    params = [p for k, p in model.named_parameters() if "lora_" in k]
    assert all(p.requires_grad for p in params) and len(params) == 4 * 6
    assert sum(p.requires_grad for p in model.parameters()) == len(params)  # head frozen
    theta0 = [p.detach().clone() for p in params]

    initial, final, data_curves, prox_curves = [], [], [], []
    t0 = time.perf_counter()
    for lam, lr in zip(a.lambdas, a.lrs):
        with torch.no_grad():
            for p, p0 in zip(params, theta0):
                p.copy_(p0)
        dc, pc = [], []
        for _ in range(a.steps):
            data = 0.5 * ((model(ids, mask) - y) ** 2).sum()
            grads = torch.autograd.grad(data, params)
            with torch.no_grad():
                disp = [p - p0 for p, p0 in zip(params, theta0)]
                dc.append(data.item())
                pc.append(0.5 * lam * sum(float((d * d).sum()) for d in disp))
                for p, g, d in zip(params, grads, disp):
                    p.sub_(lr * (g + lam * d))
        initial.append(dc[0] + pc[0])
        final.append(dc[-1] + pc[-1])
        data_curves.append(dc)
        prox_curves.append(pc)
    seconds = time.perf_counter() - t0

    out = {"seconds": seconds, "threads": a.threads, "n": len(enc), "steps": a.steps,
           "lambdas": a.lambdas, "lrs": a.lrs, "initial_losses": initial, "final_losses": final}
    if a.curves:
        out.update(data_curves=data_curves, proximal_curves=prox_curves)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
