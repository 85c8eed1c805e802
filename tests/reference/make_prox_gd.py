"""make_prox_gd.py -- T=5 steps of full-batch proximal gradient descent on bert_cls + `qv` LoRA.

Writes tests/fixtures/prox_gd/bert_cls_qv.safetensors and bert_cls_qv.json.

Definition (exact):
  model      tests/fixtures/models/bert_cls + adapter tests/fixtures/adapters/bert_cls_qv (B != 0)
  theta      the 8 LoRA tensors (lora_A [4,32], lora_B [32,4] of query/value in layers 0,1; 1024 scalars).
             Trainable: theta only. Base weights AND the classifier head are frozen.
  theta0     theta at step 0 (the adapter file's values); the proximal anchor.
  data       texts 0..4 of texts.json (n=5 single sentences), labels y = LABELS below, C = 3,
             targets Y = onehot(y) [n, C] (float).
  f(theta)   logits [n, C]; computed on the right-padded batch with attention mask (identical to running
             each text alone; asserted).
  L(theta)   = (1/n) * sum_i 0.5 * ||f(theta; x_i) - Y_i||^2  +  (lambda/2) * ||theta - theta0||^2
             (||.|| over ALL theta entries together; lambda = 0.1)
  step       theta_{t+1} = theta_t - lr * grad L(theta_t),  lr = 0.05, plain GD (no momentum/decay),
             all tensors updated simultaneously; t = 0..T-1, T = 5.
  Computed in float64, stored float32 (a float32 run is compared; diff in the JSON).

bert_cls_qv.safetensors (float32 unless noted; <key> = PEFT adapter-file key, e.g.
base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight):
  labels int64 [n], targets [n, C]
  input_ids / attention_mask / token_type_ids   int64 [n, L]   the padded batch used
  theta.<t>.<key>   t = 0..T      parameters after t steps (theta.0 = theta0)
  grad.<t>.<key>    t = 0..T-1    grad L(theta_t) (total: data + prox)
  logits.<t>        t = 0..T      [n, C]
  loss [T+1], loss_data [T+1], loss_prox [T+1]    L(theta_t) and its two terms
"""

from __future__ import annotations

import common as c
import torch
from make_lora import file_name, load_peft

MODEL = "bert_cls"
LABELS = [0, 2, 1, 1, 0]
LAMBDA = 0.1
LR = 0.05
T = 5


def run(dtype):
    from torch.func import functional_call, grad

    family = c.MODEL_SPECS[MODEL][0]
    C = c.MODEL_SPECS[MODEL][2]
    n = c.N_SINGLE
    pm = load_peft(MODEL, "qv").to(dtype)
    tok = c.load_tokenizer(c.MODELS / MODEL)
    encs = c.encode_all(tok, c.TEXTS[:n])
    batch = c.pad_batch(encs, pm.config.pad_token_id)
    y = torch.tensor(LABELS, dtype=torch.int64)
    Y = torch.nn.functional.one_hot(y, C).to(dtype)
    theta0 = {k: v.detach().clone() for k, v in pm.named_parameters() if ".lora_" in k}

    def logits(p, inp=batch):
        return functional_call(pm, p, args=(), kwargs=c.model_inputs(family, inp)).logits

    def parts(p):
        data = 0.5 * ((logits(p) - Y) ** 2).sum() / n
        prox = 0.5 * LAMBDA * sum(((p[k] - theta0[k]) ** 2).sum() for k in p)
        return data, prox

    def loss(p):
        d, q = parts(p)
        return d + q

    # sanity: padded batch == each text alone
    with torch.no_grad():
        single = torch.cat([logits(theta0, c.single_inputs(e)) for e in encs], 0)
        assert c.maxdiff(single, logits(theta0)) < (1e-12 if dtype == torch.float64 else 1e-5)

    g_fn = grad(loss)
    theta = dict(theta0)
    rec = {"theta": [], "grad": [], "logits": [], "loss": [], "loss_data": [], "loss_prox": []}
    for t in range(T + 1):
        with torch.no_grad():
            d, q = parts(theta)
            rec["theta"].append(theta)
            rec["logits"].append(logits(theta))
            rec["loss"].append(float(d + q))
            rec["loss_data"].append(float(d))
            rec["loss_prox"].append(float(q))
        if t == T:
            break
        g = g_fn(theta)
        rec["grad"].append(g)
        theta = {k: theta[k] - LR * g[k] for k in theta}
    return rec, batch, y, Y


def main():
    c.setup()
    rec, batch, y, Y = run(torch.float64)
    rec32, _, _, _ = run(torch.float32)
    t = {"labels": y, "targets": Y}
    t.update({k: batch[k] for k in ("input_ids", "attention_mask", "token_type_ids")})
    for s, th in enumerate(rec["theta"]):
        for k, v in th.items():
            t[f"theta.{s}.{file_name(k)}"] = v
    for s, g in enumerate(rec["grad"]):
        for k, v in g.items():
            t[f"grad.{s}.{file_name(k)}"] = v
    for s, lg in enumerate(rec["logits"]):
        t[f"logits.{s}"] = lg
    for k in ("loss", "loss_data", "loss_prox"):
        t[k] = torch.tensor(rec[k])
    d = c.FIXTURES / "prox_gd"
    c.save_tensors(d / f"{MODEL}_qv.safetensors", t)

    theta_f32_diff = max(c.maxdiff(rec32["theta"][T][k], rec["theta"][T][k]) for k in rec["theta"][T])
    loss_f32_diff = max(abs(a - b) for a, b in zip(rec32["loss"], rec["loss"]))
    step_norm = sum(float(((rec["theta"][T][k] - rec["theta"][0][k]) ** 2).sum()) for k in rec["theta"][0]) ** 0.5
    c.save_json(
        d / f"{MODEL}_qv.json",
        {
            "model": c.rel(c.MODELS / MODEL),
            "adapter": c.rel(c.ADAPTERS / f"{MODEL}_qv"),
            "trainable": "lora_A and lora_B of the qv adapter only (8 tensors, 1024 scalars); base and classifier frozen",
            "text_indices": list(range(c.N_SINGLE)),
            "labels": LABELS,
            "C": c.MODEL_SPECS[MODEL][2],
            "loss": "L(theta) = (1/n) sum_i 0.5*||f(theta;x_i) - onehot(y_i)||^2 + (lambda/2)*||theta - theta0||^2",
            "theta0": "the adapter's stored values (= theta.0)",
            "update": "theta_{t+1} = theta_t - lr * grad L(theta_t)",
            "lambda": LAMBDA,
            "lr": LR,
            "T": T,
            "compute_dtype": "float64 (stored float32)",
            "loss_per_step": rec["loss"],
            "loss_data_per_step": rec["loss_data"],
            "loss_prox_per_step": rec["loss_prox"],
            "norm_theta_T_minus_theta_0": step_norm,
            "f32_vs_f64_theta_T_max_abs_diff": theta_f32_diff,
            "f32_vs_f64_loss_max_abs_diff": loss_f32_diff,
        },
    )
    print(f"[prox_gd] loss per step: {[round(x, 6) for x in rec['loss']]}  prox: {[f'{x:.2e}' for x in rec['loss_prox']]}")
    print(f"[prox_gd] |theta_T - theta_0| = {step_norm:.4f}; f32 vs f64: theta_T {theta_f32_diff:.1e}, loss {loss_f32_diff:.1e}")


if __name__ == "__main__":
    main()
