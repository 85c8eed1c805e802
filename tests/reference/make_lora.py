"""make_lora.py -- PEFT LoRA adapters on bert_cls / roberta_cls and expected logits with them applied.

For model in {bert_cls, roberta_cls} and adapter in {qv, all, qv_layer1} writes
  tests/fixtures/adapters/<model>_<adapter>/
    adapter_config.json, adapter_model.safetensors   exactly as PEFT 0.21.2 save_pretrained writes them
                                                     (its boilerplate README.md model card is deleted)
    expected.safetensors                             outputs with the adapter applied (see below)
and tests/fixtures/adapters/lora_facts.json (PEFT init/forward facts, target-matching findings,
the module list each adapter hit, and the keys in each adapter file).

LoraConfig: r=4, lora_alpha=8 (scaling = alpha/r = 2.0), lora_dropout=0, bias="none",
task_type="SEQ_CLS" (=> modules_to_save=["classifier","score"]), init_lora_weights=True.
  qv         target_modules=["query","value"]
  all        target_modules=["query","key","value","attention.output.dense","intermediate.dense","output.dense"]
             (12 Linear modules: all six encoder Linears in both layers; NOT bert.pooler.dense)
  qv_layer1  target_modules=["query","value"], layers_to_transform=[1]
PEFT initialises A ~ kaiming_uniform(a=sqrt(5)) = U(-1/sqrt(in), 1/sqrt(in)) [r, in] and B = 0 [out, r]
(global torch RNG seeded per adapter). Then every lora_B is overwritten with N(0, 0.1^2) (seeded) so the
adapters change the outputs. For the `all` adapter ONLY, the classifier copy (modules_to_save) is also
perturbed (+N(0, 0.05^2)), so its expected logits test that the head stored in the adapter file is used.
For `qv` and `qv_layer1` the classifier tensors in the file are bit-identical to the base model's.

LoRA forward (PEFT, fan_in_fan_out=False): y = x W^T + b + scaling * (x A^T) B^T.

Adapter file keys (PEFT strips the adapter name "default" and the ModulesToSaveWrapper level):
  base_model.model.<hf path>.lora_A.weight   [r, in]
  base_model.model.<hf path>.lora_B.weight   [out, r]
  base_model.model.classifier.weight / .bias                       (BERT head, [C,32] / [C])
  base_model.model.classifier.dense.{weight,bias}, classifier.out_proj.{weight,bias}   (RoBERTa head)
e.g. base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight

expected.safetensors (float32; B=6 texts padded to the longest, right padding):
  batch.input_ids int64 [B, L], batch.attention_mask int64 [B, L], batch.token_type_ids (BERT only)
  batch.logits [B, C], batch.last_hidden_state [B, L, 32]
  single.<i>.logits [1, C], single.<i>.last_hidden_state [1, L_i, 32]   (text i alone, no padding)
  base.batch.logits [B, C]   the same model WITHOUT the adapter (to see the adapter's effect)
"""

from __future__ import annotations

import os
import sys

if os.environ.get("PYTHONHASHSEED") != "0":  # PEFT stores target_modules as a set -> stable JSON order
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)

import common as c  # noqa: E402
import torch  # noqa: E402

R, ALPHA = 4, 8
B_STD = 0.1
HEAD_STD = 0.05
ADAPTERS = {
    # name: (target_modules, layers_to_transform, seed, perturb_head)
    "qv": (["query", "value"], None, 2001, False),
    "all": (["query", "key", "value", "attention.output.dense", "intermediate.dense", "output.dense"], None, 2002, True),
    "qv_layer1": (["query", "value"], [1], 2003, False),
}
LORA_MODELS = ["bert_cls", "roberta_cls"]


def adapter_dir(model: str, adapter: str):
    return c.ADAPTERS / f"{model}_{adapter}"


def lora_config(adapter: str):
    from peft import LoraConfig

    tm, ltt, _, _ = ADAPTERS[adapter]
    return LoraConfig(
        r=R, lora_alpha=ALPHA, target_modules=tm, layers_to_transform=ltt,
        lora_dropout=0.0, bias="none", task_type="SEQ_CLS",
    )


def load_peft(model: str, adapter: str, dtype=torch.float32):
    """Base fixture model + saved adapter (PeftModel, eval)."""
    from peft import PeftModel

    base = c.load_base_model(model, dtype=dtype)
    pm = PeftModel.from_pretrained(base, c.rel(adapter_dir(model, adapter)))
    pm.eval()
    return pm


def file_name(param_name: str) -> str:
    """PEFT in-memory parameter name -> key in adapter_model.safetensors."""
    return param_name.replace(".default.", ".").replace(".modules_to_save.", ".")


def make_adapter(model: str, adapter: str) -> dict:
    from peft import get_peft_model
    from safetensors import safe_open

    _, _, seed, perturb_head = ADAPTERS[adapter]
    base = c.load_base_model(model)
    torch.manual_seed(seed)  # PEFT's kaiming_uniform_ on lora_A uses the global RNG
    pm = get_peft_model(base, lora_config(adapter))
    g = torch.Generator().manual_seed(seed + 500)
    init_facts = {}
    with torch.no_grad():
        for n, p in pm.named_parameters():
            if ".lora_A." in n:
                fan_in = p.shape[1]
                bound = 1.0 / fan_in**0.5
                assert float(p.abs().max()) <= bound + 1e-7, n
                init_facts.setdefault("A_abs_max_over_bound", []).append(float(p.abs().max()) / bound)
            if ".lora_B." in n:
                assert float(p.abs().max()) == 0.0, n  # PEFT default: B = 0
                p.copy_(B_STD * torch.randn(p.shape, generator=g))
            if perturb_head and ".modules_to_save." in n:
                p.add_(HEAD_STD * torch.randn(p.shape, generator=g))
    modules = sorted({n.split(".lora_")[0] for n, _ in pm.named_parameters() if ".lora_" in n})
    d = adapter_dir(model, adapter)
    pm.save_pretrained(str(d))
    (d / "README.md").unlink(missing_ok=True)  # PEFT's boilerplate model card; not needed
    f = safe_open(str(d / "adapter_model.safetensors"), "pt")
    keys = {k: list(f.get_slice(k).get_shape()) for k in f.keys()}
    # the file holds exactly the in-memory trainable tensors under the stripped names
    mem = {file_name(n): p.detach() for n, p in pm.named_parameters() if p.requires_grad}
    assert set(mem) == set(keys), (set(mem) ^ set(keys))
    for k in keys:
        assert torch.equal(f.get_tensor(k), mem[k]), k
    return {"modules": modules, "file_keys": keys, "init": init_facts}


@torch.no_grad()
def outputs(m, family, inp):
    out = m(**c.model_inputs(family, inp), output_hidden_states=True)
    return out.logits, out.hidden_states[-1]


def expected(model: str, adapter: str) -> dict:
    family = c.MODEL_SPECS[model][0]
    pm = load_peft(model, adapter)
    pad = pm.config.pad_token_id
    tok = c.load_tokenizer(c.MODELS / model)
    encs = c.encode_all(tok)
    batch = c.pad_batch(encs, pad)
    t = {"batch.input_ids": batch["input_ids"], "batch.attention_mask": batch["attention_mask"]}
    if family == "bert":
        t["batch.token_type_ids"] = batch["token_type_ids"]
    logits, hidden = outputs(pm, family, batch)
    t["batch.logits"], t["batch.last_hidden_state"] = logits, hidden
    worst = 0.0
    for i, e in enumerate(encs):
        sl, sh = outputs(pm, family, c.single_inputs(e))
        t[f"single.{i}.logits"], t[f"single.{i}.last_hidden_state"] = sl, sh
        worst = max(worst, c.maxdiff(sl, logits[i : i + 1]), c.maxdiff(sh, hidden[i : i + 1, : len(e.ids)]))
    assert worst < 1e-5, worst
    with pm.disable_adapter():
        base_logits, _ = outputs(pm, family, batch)
    t["base.batch.logits"] = base_logits
    effect = c.maxdiff(base_logits, logits)
    # merged weights give the same logits
    merged = pm.merge_and_unload()
    ml, _ = outputs(merged, family, batch)
    merge_diff = c.maxdiff(ml, logits)
    assert merge_diff < 1e-5, merge_diff
    c.save_tensors(adapter_dir(model, adapter) / "expected.safetensors", t)
    print(f"[lora] {model}_{adapter}: max|batch-single|={worst:.2e}  max|merged-unmerged|={merge_diff:.2e}  "
          f"max|adapter-base| logits={effect:.3f}")
    return {"batch_vs_single_max_abs_diff": worst, "merged_vs_unmerged_max_abs_diff": merge_diff,
            "adapter_vs_base_logits_max_abs_diff": effect}


def target_matching_findings() -> dict:
    """What PEFT's suffix matching hits for a bare "dense" target (documented, not saved as an adapter)."""
    from peft import LoraConfig, get_peft_model

    res = {}
    for model in LORA_MODELS:
        pm = get_peft_model(c.load_base_model(model), LoraConfig(r=R, lora_alpha=ALPHA, target_modules=["dense"], task_type="SEQ_CLS"))
        res[model] = sorted({n.split(".lora_")[0] for n, _ in pm.named_parameters() if ".lora_" in n})
    return res


def main():
    c.setup()
    facts = {
        "peft_version": __import__("peft").__version__,
        "lora_A_init": "nn.init.kaiming_uniform_(A, a=sqrt(5)) on A of shape [r, in_features] "
                       "== U(-1/sqrt(in_features), +1/sqrt(in_features))",
        "lora_B_init": "zeros, shape [out_features, r]",
        "scaling": "lora_alpha / r (use_rslora=False) = 8/4 = 2.0",
        "forward": "y = x W^T + b + scaling * ((dropout(x) A^T) B^T); lora_dropout=0 -> identity",
        "fixture_B": f"every lora_B overwritten with N(0, {B_STD}^2) after PEFT init (seeded)",
        "fixture_head": f"adapter 'all' only: classifier (modules_to_save) += N(0, {HEAD_STD}^2); "
                        "qv/qv_layer1 store the unchanged base head",
        "target_matching": (
            "PEFT 0.21.2 check_target_module_exists: a module key (relative to the wrapped HF model, e.g. "
            "'bert.encoder.layer.0.attention.self.query') matches a list entry t iff key == t or key.endswith('.'+t). "
            "So 'dense' matches attention.output.dense, intermediate.dense, output.dense AND bert.pooler.dense; "
            "'output.dense' also matches attention.output.dense. Modules under modules_to_save ('classifier', "
            "'score' for SEQ_CLS) are always excluded, so RoBERTa's classifier.dense never gets LoRA. "
            "layers_to_transform uses the first '.<name>.<int>.' segment of the key (encoder.layer.<i>)."
        ),
        "target_modules_json_order": "PEFT stores target_modules as a Python set; adapter_config.json lists them "
                                     "in arbitrary (hash) order -- treat as a set",
        "modules_to_save": "task_type SEQ_CLS => modules_to_save=['classifier','score']; the classifier is saved "
                           "in adapter_model.safetensors under base_model.model.classifier.* (no "
                           "'modules_to_save'/'default' in the key) and replaces the base head when loaded",
        "bare_dense_target_hits": target_matching_findings(),
        "adapters": {},
    }
    for model in LORA_MODELS:
        for adapter in ADAPTERS:
            info = make_adapter(model, adapter)
            info.update(expected(model, adapter))
            info["target_modules"] = ADAPTERS[adapter][0]
            info["layers_to_transform"] = ADAPTERS[adapter][1]
            facts["adapters"][f"{model}_{adapter}"] = info
    c.save_json(c.ADAPTERS / "lora_facts.json", facts)


if __name__ == "__main__":
    main()
