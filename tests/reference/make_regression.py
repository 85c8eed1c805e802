"""make_regression.py -- a one-output (regression) BERT, its `qv` LoRA adapter and the torch.func NTK (C = 1).

Writes
  tests/fixtures/models/bert_reg/
    config.json, model.safetensors      HF save_pretrained (safe_serialization) of the randomised model
    tokenizer.json                      tokenizers-library JSON; byte-identical to models/bert_cls/tokenizer.json
                                        (same builder, common.build_bert_tokenizer; asserted)
  tests/fixtures/adapters/bert_reg_qv/
    adapter_config.json, adapter_model.safetensors   exactly as PEFT 0.21.2 save_pretrained writes them
                                                     (its boilerplate README.md model card is deleted)
  tests/fixtures/ntk/bert_reg_qv/
    ntk.safetensors, ntk.json           the empirical NTK over the adapter's LoRA parameters
To keep the fixture small there is NO expected.safetensors for the model or the adapter, no tokenizer
sidecar files, no `_b0` variant and NO jac.* tensors (the other models' fixtures cover those); the logits
with the adapter applied are in ntk.safetensors (`logits`).

Model `bert_reg` (seed 1005): BertForSequenceClassification with num_labels=1 and
problem_type="regression"; otherwise exactly bert_cls (common.BERT_CFG: hidden 32, 2 layers, 4 heads,
intermediate 64, exact erf GELU, LN eps 1e-12, type_vocab 2, max_pos 64, pad 0, dropout 0; eval mode, eager
attention; same WordPiece tokenizer). After HF init EVERY parameter is overwritten by common.randomise_
(LayerNorm weights 1+N(0,0.1), all biases N(0,0.1), embeddings N(0,0.5), Linear weights N(0,1/fan_in)).
Head: pooler (tanh(W h[:,0] + b)) -> classifier Linear(32, 1): the same BERT head as bert_cls with C = 1.
problem_type only selects the loss HF uses when labels are given (MSELoss on logits.squeeze()); the forward,
hence f and the NTK, is the plain logits [n, 1]. config.json has id2label {"0": "LABEL_0"} (no num_labels
key; HF derives num_labels = len(id2label) = 1) and "problem_type": "regression".

Adapter `bert_reg_qv` (seed 2004): as make_lora.py's `qv` -- LoraConfig(r=4, lora_alpha=8, lora_dropout=0,
bias="none", task_type="SEQ_CLS" => modules_to_save=["classifier","score"], target_modules=["query","value"]).
PEFT initialises A ~ U(-1/sqrt(in), 1/sqrt(in)) from the global torch RNG seeded with 2004 and B = 0; then
every lora_B is overwritten with N(0, 0.1^2) (torch.Generator seeded 2004 + 500), so B != 0. The head is NOT
perturbed: the file's base_model.model.classifier.weight [1, 32] / .bias [1] are bit-identical to the base
model's (asserted). File keys: base_model.model.bert.encoder.layer.<l>.attention.self.<query|value>.lora_A.weight
[4, 32], ...lora_B.weight [32, 4] (8 tensors, 1024 scalars) + the 2 classifier tensors.

NTK: exactly make_ntk.py's definition with C = 1 (same helpers: make_ntk.jacobians / make_ntk.kernels).
  f(theta; x_i) = logits [1] of the PEFT model for text i, i = 0..4 (texts 0..4 of texts.json), each text run
  ALONE (no padding); the padded-batch Jacobian is asserted equal. theta = the 8 lora_A / lora_B tensors;
  everything else (base and head) frozen. Computed in float64 (model.double()), stored as float32; a float32
  run is compared (ntk.json). Rows/cols sample-major: index = i*C + a = i (C = 1).
  tensor kernel K_p = J_p J_p^T [n, n]; block kernel K_(l,m) = K_A + K_B of (layer l, module m); full kernel
  K = sum_p K_p; trace kernel (== K for C = 1); sign kernel S = sum_p J_p s(J_p)^T, s(z) = z/(|z|+1e-8);
  eigenvalues = eigvalsh(K) in float64, sorted descending.

ntk.safetensors (float32 unless noted; n = 5, C = 1):
  kernel_full [n,n], kernel_trace [n,n], kernel_sign_full [n,n], eigenvalues_full [n]
  block.<layer>.<module> [n,n]            block.0.query, block.0.value, block.1.query, block.1.value
  tensor.<peft file key> [n,n]            e.g. tensor.base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight
  param.<peft file key> (PEFT shape)      the theta the NTK was taken at (= the adapter file's values)
  logits [n, 1]                           f(theta; x_i)
  base_logits [n, 1]                      the same texts WITHOUT the adapter (to see the adapter's effect)
  input_ids.<i> int64 [1, L_i]            token ids of text i
ntk.json: the same fields as make_ntk.py's (model, adapter, lora_B, n, C, ..., eigenvalues_full) plus
problem_type, head, adapter_file_keys and the batch-vs-single / merged-vs-unmerged logit checks.
"""

from __future__ import annotations

import os
import sys

if os.environ.get("PYTHONHASHSEED") != "0":  # PEFT stores target_modules as a set -> stable JSON order
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)

import common as c  # noqa: E402
import torch  # noqa: E402
from make_lora import ALPHA, B_STD, R, file_name  # noqa: E402
from make_ntk import jacobians, kernels  # noqa: E402

MODEL = "bert_reg"
FAMILY = "bert"
CLS_NAME = "BertForSequenceClassification"
NUM_LABELS = 1
PROBLEM_TYPE = "regression"
MODEL_SEED = 1005  # bert_base..roberta_cls use 1001..1004
ADAPTER = "qv"
TARGETS = ["query", "value"]
ADAPTER_SEED = 2004  # make_lora.py uses 2001..2003


def model_dir():
    return c.MODELS / MODEL


def adapter_dir():
    return c.ADAPTERS / f"{MODEL}_{ADAPTER}"


def load_base(dtype=torch.float32):
    """Like common.load_base_model, for bert_reg (eager attention, eval mode)."""
    import transformers

    model = getattr(transformers, CLS_NAME).from_pretrained(
        c.rel(model_dir()), attn_implementation="eager", dtype=dtype
    )
    model.eval()
    return model


def load_peft(dtype=torch.float32):
    from peft import PeftModel

    pm = PeftModel.from_pretrained(load_base(dtype), c.rel(adapter_dir()))
    pm.eval()
    return pm


def build_model() -> None:
    import transformers

    tok = c.build_bert_tokenizer()
    d = model_dir()
    d.mkdir(parents=True, exist_ok=True)
    cfg = transformers.BertConfig(vocab_size=tok.get_vocab_size(), **c.BERT_CFG)
    cfg.num_labels = NUM_LABELS
    cfg.problem_type = PROBLEM_TYPE
    torch.manual_seed(MODEL_SEED)
    model = getattr(transformers, CLS_NAME)(cfg)
    c.randomise_(model, MODEL_SEED)
    model.eval()
    model.save_pretrained(str(d), safe_serialization=True)
    tok.save(str(d / "tokenizer.json"))
    ref = c.MODELS / "bert_cls" / "tokenizer.json"  # written by make_models.py with the same builder
    assert (d / "tokenizer.json").read_bytes() == ref.read_bytes(), "tokenizer differs from bert_cls's"

    # reload: the config round-trips, nothing is missing, the head has one output
    m, info = getattr(transformers, CLS_NAME).from_pretrained(c.rel(d), output_loading_info=True)
    for k in ("missing_keys", "unexpected_keys", "mismatched_keys"):
        assert not info.get(k), (k, info[k])
    assert m.config.num_labels == 1 and m.config.problem_type == PROBLEM_TYPE
    assert tuple(m.classifier.weight.shape) == (1, c.BERT_CFG["hidden_size"])
    ln = [p.detach() for n, p in m.named_parameters() if n.endswith("LayerNorm.weight")]
    assert all(float((p - 1).abs().max()) > 0.05 for p in ln)  # non-identity LayerNorms


def make_adapter() -> list:
    from peft import LoraConfig, get_peft_model
    from safetensors import safe_open

    base = load_base()
    head = {k: v.detach().clone() for k, v in base.classifier.state_dict().items()}
    torch.manual_seed(ADAPTER_SEED)  # PEFT's kaiming_uniform_ on lora_A uses the global RNG
    cfg = LoraConfig(r=R, lora_alpha=ALPHA, target_modules=TARGETS, lora_dropout=0.0, bias="none",
                     task_type="SEQ_CLS")
    pm = get_peft_model(base, cfg)
    g = torch.Generator().manual_seed(ADAPTER_SEED + 500)
    with torch.no_grad():
        for n, p in pm.named_parameters():
            if ".lora_A." in n:
                assert float(p.abs().max()) <= 1.0 / p.shape[1] ** 0.5 + 1e-7, n
            if ".lora_B." in n:
                assert float(p.abs().max()) == 0.0, n  # PEFT default: B = 0
                p.copy_(B_STD * torch.randn(p.shape, generator=g))
    d = adapter_dir()
    pm.save_pretrained(str(d))
    (d / "README.md").unlink(missing_ok=True)  # PEFT's boilerplate model card; not needed
    f = safe_open(str(d / "adapter_model.safetensors"), "pt")
    keys = sorted(f.keys())
    mem = {file_name(n): p.detach() for n, p in pm.named_parameters() if p.requires_grad}
    assert set(mem) == set(keys), (set(mem) ^ set(keys))
    for k in keys:
        assert torch.equal(f.get_tensor(k), mem[k]), k
    # PEFT stores the (unperturbed) one-output head: modules_to_save for SEQ_CLS
    for k, v in head.items():
        assert torch.equal(f.get_tensor(f"base_model.model.classifier.{k}"), v), k
    assert sum(".lora_" in k for k in keys) == 8 and len(keys) == 10, keys
    return keys


def logit_checks(encs) -> dict:
    """Padded batch vs each text alone, merged vs unmerged, adapter vs base (float32, like make_lora)."""
    pm = load_peft()
    batch = c.pad_batch(encs, pm.config.pad_token_id)
    with torch.no_grad():
        logits = pm(**c.model_inputs(FAMILY, batch)).logits
        single = torch.cat([pm(**c.model_inputs(FAMILY, c.single_inputs(e))).logits for e in encs], 0)
        with pm.disable_adapter():
            base = torch.cat([pm(**c.model_inputs(FAMILY, c.single_inputs(e))).logits for e in encs], 0)
        merged = pm.merge_and_unload()
        ml = merged(**c.model_inputs(FAMILY, batch)).logits
    assert logits.shape == (len(encs), 1)
    bs, mu = c.maxdiff(single, logits), c.maxdiff(ml, logits)
    assert bs < 1e-5 and mu < 1e-5, (bs, mu)
    return {"base_logits": base, "batch_vs_single_logits_max_abs_diff_f32": bs,
            "merged_vs_unmerged_logits_max_abs_diff_f32": mu,
            "adapter_vs_base_logits_max_abs_diff_f32": c.maxdiff(base, single)}


def ntk(keys: list) -> None:
    n, C = c.N_SINGLE, NUM_LABELS
    tok = c.load_tokenizer(model_dir())
    encs = c.encode_all(tok, c.TEXTS[:n])
    singles = [c.single_inputs(e) for e in encs]
    checks = logit_checks(encs)

    res = {}
    for dtype in (torch.float64, torch.float32):
        pm = load_peft().to(dtype)
        params = {k: v.detach().clone() for k, v in pm.named_parameters() if ".lora_" in k}
        jac, f = jacobians(pm, FAMILY, params, singles)
        res[dtype] = (pm, params, jac, f)
    pm, params, jac, f = res[torch.float64]
    jac32 = res[torch.float32][2]

    # batched (padded + attention mask) Jacobian must equal the per-text one
    from torch.func import jacrev

    batch = c.pad_batch(encs, pm.config.pad_token_id)
    jb = jacrev(f)(params, batch)
    batch_diff = max(c.maxdiff(jb[k].flatten(2), jac[k]) for k in params)
    assert batch_diff < 1e-10, batch_diff
    assert all(tuple(j.shape[:2]) == (n, C) for j in jac.values())
    jac_scale = max(float(j.abs().max()) for j in jac.values())
    f32_diff = max(c.maxdiff(jac32[k], jac[k]) for k in params)

    ks = kernels(jac, n, C)
    ks32 = kernels(jac32, n, C)
    kfull_f32_rel = c.maxdiff(ks32["kernel_full"], ks["kernel_full"]) / float(ks["kernel_full"].abs().max())
    sign_f32_rel = c.maxdiff(ks32["kernel_sign_full"], ks["kernel_sign_full"]) / float(ks["kernel_sign_full"].abs().max())

    K = ks["kernel_full"]
    assert K.shape == (n * C, n * C)
    assert torch.allclose(K, K.T)
    assert torch.allclose(sum(v for k, v in ks.items() if k.startswith("block.")), K)
    assert torch.equal(ks["kernel_trace"], K)  # C = 1: the trace over classes is the kernel itself
    assert float(ks["eigenvalues_full"][-1]) > 0

    with torch.no_grad():
        logits = torch.cat([f(params, s) for s in singles], 0)
    assert c.maxdiff(logits, checks["base_logits"]) > 1e-3  # the adapter changes the output

    t = dict(ks)
    for k in params:
        t[f"param.{file_name(k)}"] = params[k]
    t["logits"] = logits
    t["base_logits"] = checks.pop("base_logits")
    for i, s in enumerate(singles):
        t[f"input_ids.{i}"] = s["input_ids"]
    name = f"{MODEL}_{ADAPTER}"
    d = c.FIXTURES / "ntk" / name
    c.save_tensors(d / "ntk.safetensors", t)
    counts = {file_name(k): v.numel() for k, v in params.items()}
    c.save_json(
        d / "ntk.json",
        {
            "model": MODEL,
            "adapter": c.rel(adapter_dir()),
            "lora_B": "as stored in the adapter file (non-zero)",
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
            "problem_type": PROBLEM_TYPE,
            "head": "BERT pooler -> classifier Linear(32, 1); frozen; stored in the adapter file "
                    "(modules_to_save) bit-identical to the base model's",
            "adapter_file_keys": keys,
            "jacobians": "not stored (jac.* omitted to keep the fixture small)",
            **checks,
        },
    )
    ev = ks["eigenvalues_full"]
    print(f"[regression] {name}: n={n} C={C} P={sum(counts.values())} |batch-single|={batch_diff:.1e} "
          f"f32 rel(K)={kfull_f32_rel:.1e} rel(S)={sign_f32_rel:.1e} eig=[{float(ev[0]):.4g} .. {float(ev[-1]):.3g}] "
          f"logits={[round(float(x), 4) for x in logits.flatten()]}")


def main():
    c.setup()
    build_model()
    keys = make_adapter()
    ntk(keys)


if __name__ == "__main__":
    main()
