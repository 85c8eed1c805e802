"""make_ntk.py -- empirical NTK over the LoRA parameters of the `qv` adapter (torch.func).

For model in {bert_cls, roberta_cls} writes
  tests/fixtures/ntk/<model>_qv/     the saved adapter tests/fixtures/adapters/<model>_qv (B != 0)
  tests/fixtures/ntk/<model>_qv_b0/  the same adapter with every lora_B set to 0 (PEFT's default-init
                                     state; A kept) -> every lora_A Jacobian, hence every A-tensor kernel,
                                     is exactly 0
each with ntk.safetensors + ntk.json.

Setup
  f(theta; x_i) = logits of the PEFT model (base + adapter, classifier from the adapter file which for
  `qv` equals the base head) for text i, i = 0..n-1, n = 5 (texts 0..4 of texts.json, all single
  sentences). theta = all lora_A and lora_B tensors of the adapter (8 tensors: layers 0,1 x query,value
  x A,B; 1024 scalars). Everything else is frozen. C = num_labels (bert_cls 3, roberta_cls 2).
  Each text is run ALONE (no padding, attention mask all ones). The script also computes the Jacobian of
  the padded batch (right padding + attention mask) and asserts both agree (they must: the mask removes
  the padding; max diff is in ntk.json).
  Computed in float64 (model.double()), stored as float32. A float32 run is compared too (ntk.json).
  J = torch.func.jacrev(lambda p: functional_call(model, p, inputs).logits)(lora_params).

Conventions
  Jacobian of tensor p: J_p [n, C, P_p], P_p = numel(p) flattened row-major over the PEFT tensor shape
  (lora_A [r=4, in=32] -> index r_idx*32 + in_idx; lora_B [out=32, r=4] -> out_idx*4 + r_idx).
  Kernel rows/cols are SAMPLE-MAJOR: row index = i*C + a (sample i, logit a), i.e. J_p.reshape(n*C, P_p).
  tensor kernel   K_p = J_p J_p^T                                   [nC, nC]
  block kernel    K_(l,m) = sum over p in {lora_A, lora_B} of (layer l, module m)   [nC, nC]
  full kernel     K = sum_p K_p = J J^T  (J = all tensors concatenated)             [nC, nC]
  trace kernel    T[i, j] = sum_a K[i*C+a, j*C+a]                                    [n, n]
  sign kernel     S[i*C+a, j*C+b] = sum_p J_p[i,a,:] . s(J_p[j,b,:]),  s(z) = z / (|z| + 1e-8)
                  (NOT symmetric; the second argument is the one passed through s)
  eigenvalues     eigvalsh(K) computed in float64, sorted descending                [nC]

ntk.safetensors (float32):
  kernel_full [nC,nC], kernel_trace [n,n], kernel_sign_full [nC,nC], eigenvalues_full [nC],
  block.<layer>.<module> [nC,nC]          e.g. block.0.query, block.1.value
  tensor.<peft file key> [nC,nC]          e.g. tensor.base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight
  jac.<peft file key> [n, C, P_p]
  param.<peft file key> (the tensor's value, PEFT shape)   -- the theta the NTK was taken at
  logits [n, C]                           f(theta; x_i)
  input_ids.<i> int64 [1, L_i]            the token ids of text i (for self-containment)
"""

from __future__ import annotations

import common as c
import torch
from make_lora import file_name, load_peft

NTK_MODELS = ["bert_cls", "roberta_cls"]
EPS_SIGN = 1e-8


def sign(z):
    return z / (z.abs() + EPS_SIGN)


def jacobians(pm, family, params, inputs_list):
    """dict name -> [n, C, P] for a list of single-text input dicts (each run alone)."""
    from torch.func import functional_call, jacrev

    def f(p, inp):
        return functional_call(pm, p, args=(), kwargs=c.model_inputs(family, inp)).logits

    per = []
    for inp in inputs_list:
        per.append(jacrev(f)(params, inp))
    return {k: torch.cat([j[k] for j in per], 0).flatten(2) for k in params}, f


def kernels(jac: dict, n: int, C: int) -> dict:
    out = {}
    K = 0
    S = 0
    blocks = {}
    for name, J in jac.items():
        Jm = J.reshape(n * C, -1)
        Kp = Jm @ Jm.T
        key = file_name(name)
        out[f"tensor.{key}"] = Kp
        K = K + Kp
        S = S + Jm @ sign(Jm).T
        layer = key.split("encoder.layer.")[1].split(".")[0]
        module = key.split(".lora_")[0].split(".")[-1]
        bk = f"block.{layer}.{module}"
        blocks[bk] = blocks.get(bk, 0) + Kp
    out.update(blocks)
    out["kernel_full"] = K
    out["kernel_sign_full"] = S
    out["kernel_trace"] = K.reshape(n, C, n, C).diagonal(dim1=1, dim2=3).sum(-1)
    out["eigenvalues_full"] = torch.linalg.eigvalsh(K.double()).flip(0)
    return out


def run(model: str, zero_b: bool) -> None:
    family = c.MODEL_SPECS[model][0]
    C = c.MODEL_SPECS[model][2]
    n = c.N_SINGLE
    tok = c.load_tokenizer(c.MODELS / model)
    encs = c.encode_all(tok, c.TEXTS[:n])
    singles = [c.single_inputs(e) for e in encs]

    res = {}
    for dtype in (torch.float64, torch.float32):
        pm = load_peft(model, "qv")
        pm = pm.to(dtype)
        params = {k: v.detach().clone() for k, v in pm.named_parameters() if ".lora_" in k}
        if zero_b:
            params = {k: (torch.zeros_like(v) if ".lora_B." in k else v) for k, v in params.items()}
        jac, f = jacobians(pm, family, params, singles)
        res[dtype] = (pm, params, jac, f)
    pm, params, jac, f = res[torch.float64]
    jac32 = res[torch.float32][2]

    # batched (padded + attention mask) Jacobian must equal the per-text one
    from torch.func import jacrev

    batch = c.pad_batch(encs, pm.config.pad_token_id)
    jb = jacrev(f)(params, batch)
    batch_diff = max(c.maxdiff(jb[k].flatten(2), jac[k]) for k in params)
    assert batch_diff < 1e-10, batch_diff
    jac_scale = max(float(j.abs().max()) for j in jac.values())
    f32_diff = max(c.maxdiff(jac32[k], jac[k]) for k in params)

    ks = kernels(jac, n, C)
    ks32 = kernels(jac32, n, C)
    kfull_f32_rel = c.maxdiff(ks32["kernel_full"], ks["kernel_full"]) / float(ks["kernel_full"].abs().max())
    sign_f32_rel = c.maxdiff(ks32["kernel_sign_full"], ks["kernel_sign_full"]) / float(ks["kernel_sign_full"].abs().max())

    # invariants
    K = ks["kernel_full"]
    assert torch.allclose(K, K.T)
    assert torch.allclose(sum(v for k, v in ks.items() if k.startswith("block.")), K)
    if zero_b:
        for k, v in ks.items():
            if k.startswith("tensor.") and ".lora_A." in k:
                assert float(v.abs().max()) == 0.0, k
        for k, v in jac.items():
            if ".lora_A." in k:
                assert float(v.abs().max()) == 0.0, k

    with torch.no_grad():
        logits = torch.cat([f(params, s) for s in singles], 0)

    t = dict(ks)
    for k in params:
        fk = file_name(k)
        t[f"jac.{fk}"] = jac[k]
        t[f"param.{fk}"] = params[k]
    t["logits"] = logits
    for i, s in enumerate(singles):
        t[f"input_ids.{i}"] = s["input_ids"]
    name = f"{model}_qv" + ("_b0" if zero_b else "")
    d = c.FIXTURES / "ntk" / name
    c.save_tensors(d / "ntk.safetensors", t)
    counts = {file_name(k): v.numel() for k, v in params.items()}
    c.save_json(
        d / "ntk.json",
        {
            "model": model,
            "adapter": c.rel(c.ADAPTERS / f"{model}_qv"),
            "lora_B": "zeroed (PEFT default init state, A from the adapter file)" if zero_b
                      else "as stored in the adapter file (non-zero)",
            "n": n,
            "C": C,
            "text_indices": list(range(n)),
            "inputs": "each text run alone (no padding); padded-batch Jacobian asserted equal",
            "ordering": "rows/cols sample-major: index = i*C + a",
            "param_count_total": sum(counts.values()),
            "param_count_per_tensor": counts,
            "tensor_order": list(counts),
            "blocks": sorted(k for k in t if k.startswith("block.")),
            "sign_kernel": "S[i*C+a, j*C+b] = sum_p J_p[i,a,:] . s(J_p[j,b,:]), s(z)=z/(|z|+1e-8)",
            "compute_dtype": "float64 (stored float32)",
            "max_abs_jacobian": jac_scale,
            "batched_vs_single_jacobian_max_abs_diff_f64": batch_diff,
            "f32_vs_f64_jacobian_max_abs_diff": f32_diff,
            "f32_vs_f64_kernel_full_max_rel_diff": kfull_f32_rel,
            "f32_vs_f64_kernel_sign_full_max_rel_diff": sign_f32_rel,
            "eigenvalues_full": [float(x) for x in ks["eigenvalues_full"]],
        },
    )
    ev = ks["eigenvalues_full"]
    print(f"[ntk] {name}: n={n} C={C} P={sum(counts.values())} |batch-single|={batch_diff:.1e} "
          f"f32 rel(K)={kfull_f32_rel:.1e} rel(S)={sign_f32_rel:.1e} eig=[{float(ev[0]):.4g} .. {float(ev[-1]):.3g}]")


def main():
    c.setup()
    for model in NTK_MODELS:
        for zero_b in (False, True):
            run(model, zero_b)


if __name__ == "__main__":
    main()
