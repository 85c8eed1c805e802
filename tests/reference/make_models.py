"""make_models.py -- tiny random BERT / RoBERTa models, tokenizers and expected forward outputs.

Writes, for name in {bert_base, bert_cls, roberta_base, roberta_cls}:

  tests/fixtures/models/<name>/
    config.json, model.safetensors      HF save_pretrained (safe_serialization) of the randomised model
    tokenizer.json                      tokenizers-library JSON (the file the Rust side reads)
    tokenizer_config.json, special_tokens_map.json   PreTrainedTokenizerFast sidecar files (sanity only)
    expected.safetensors                reference outputs (see below)
    expected.json                       token ids / tokens / type ids per text (no safetensors needed)
  tests/fixtures/models/texts.json      the 6 texts (text 5 is a pair)

Models (seeded; see common.MODEL_SPECS / BERT_CFG / ROBERTA_CFG): hidden 32, 2 layers, 4 heads,
intermediate 64, gelu (exact erf GELU), dropout 0, eval mode, eager attention.
  bert_base    BertModel (with pooler)                           LN eps 1e-12, type_vocab 2, max_pos 64
  bert_cls     BertForSequenceClassification, 3 labels           (pooler -> classifier Linear(32,3))
  roberta_base RobertaModel (with pooler)                        LN eps 1e-5, type_vocab 1, max_pos 66, pad 1
  roberta_cls  RobertaForSequenceClassification, 2 labels        (classifier.dense -> tanh -> classifier.out_proj on <s>)
After HF init EVERY parameter is overwritten with seeded random values (common.randomise_): LayerNorm
weights 1+N(0,0.1), all biases N(0,0.1), embeddings N(0,0.5), Linear weights N(0,1/fan_in).

expected.safetensors tensors (float32 unless noted; B=6 texts, L=longest, H=32):
  batch.input_ids        int64 [B, L]   right-padded with the pad id (BERT 0, RoBERTa 1)
  batch.attention_mask   int64 [B, L]   1 = real token
  batch.token_type_ids   int64 [B, L]   BERT only (pair text 5 has 1s on its second segment; pads 0)
  batch.position_ids     int64 [B, L]   what HF used: BERT arange(L); RoBERTa cumsum(ids!=pad)*(ids!=pad)+pad
                                         (i.e. real tokens 2,3,4,...; pads get 1)
  batch.hidden_states.K  [B, L, H]      K=0: embedding output (after LayerNorm); K=1..2: after layer K
  batch.last_hidden_state [B, L, H]     == batch.hidden_states.2
  batch.pooler_output    [B, H]         bert_base, bert_cls, roberta_base: tanh(W h[:,0] + b)
  batch.logits           [B, C]         cls models only
  single.<i>.<same names>               text i run alone: shapes [1, L_i], [1, L_i, H], [1, C] ...
Padded positions of batch.* hidden states are whatever HF computes (attention mask added as
finfo(float32).min); compare hidden states only where attention_mask == 1.
"""

from __future__ import annotations

import common as c
import torch


def build_models_and_tokenizers():
    import transformers
    from transformers import PreTrainedTokenizerFast

    toks = {"bert": c.build_bert_tokenizer(), "roberta": c.build_roberta_tokenizer()}
    c.save_json(c.MODELS / "texts.json", {"texts": c.TEXTS, "notes": c.TEXT_NOTES})
    for name, (family, cls_name, num_labels, seed) in c.MODEL_SPECS.items():
        tok = toks[family]
        d = c.MODELS / name
        d.mkdir(parents=True, exist_ok=True)
        if family == "bert":
            cfg = transformers.BertConfig(vocab_size=tok.get_vocab_size(), **c.BERT_CFG)
        else:
            cfg = transformers.RobertaConfig(vocab_size=tok.get_vocab_size(), **c.ROBERTA_CFG)
        if num_labels is not None:
            cfg.num_labels = num_labels
        torch.manual_seed(seed)
        model = getattr(transformers, cls_name)(cfg)
        c.randomise_(model, seed)
        model.eval()
        model.save_pretrained(str(d), safe_serialization=True)

        # HF sidecar files (sanity only), then the canonical tokenizer.json written by `tokenizers`.
        if family == "bert":
            hf = PreTrainedTokenizerFast(
                tokenizer_object=tok, unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]",
                cls_token="[CLS]", mask_token="[MASK]", model_max_length=64,
            )
        else:
            hf = PreTrainedTokenizerFast(
                tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                sep_token="</s>", cls_token="<s>", pad_token="<pad>", mask_token="<mask>",
                model_max_length=64,
            )
        hf.save_pretrained(str(d))
        tok.save(str(d / "tokenizer.json"))


@torch.no_grad()
def forward_all(model, family: str, inp: dict, has_pooler: bool) -> dict:
    out = model(**c.model_inputs(family, inp), output_hidden_states=True)
    res = {}
    hs = out.hidden_states
    for k, h in enumerate(hs):
        res[f"hidden_states.{k}"] = h
    res["last_hidden_state"] = hs[-1]
    if hasattr(out, "logits"):
        res["logits"] = out.logits
    if has_pooler:
        if hasattr(out, "pooler_output"):
            res["pooler_output"] = out.pooler_output
        else:  # BertForSequenceClassification: recompute from its pooler (same module it uses)
            res["pooler_output"] = model.bert.pooler(hs[-1])
    return res


def expected_outputs():
    from transformers import AutoTokenizer

    report = {}
    for name, (family, cls_name, num_labels, _) in c.MODEL_SPECS.items():
        d = c.MODELS / name
        tok = c.load_tokenizer(d)
        model = c.load_base_model(name)
        pad_id = model.config.pad_token_id
        has_pooler = name in ("bert_base", "bert_cls", "roberta_base")
        encs = c.encode_all(tok)

        # sanity: HF fast tokenizer loaded from the same dir gives the same ids / mask / type ids
        hf = AutoTokenizer.from_pretrained(str(d))
        hb = hf([t["text"] for t in c.TEXTS[:5]], padding=True, return_tensors="pt")
        pb = c.pad_batch(encs[:5], pad_id)
        assert torch.equal(hb["input_ids"], pb["input_ids"][:, : hb["input_ids"].shape[1]]), name
        assert torch.equal(hb["attention_mask"], pb["attention_mask"][:, : hb["input_ids"].shape[1]]), name
        hp = hf(c.TEXTS[5]["text"], c.TEXTS[5]["text_pair"])
        assert hp["input_ids"] == encs[5].ids, name
        if family == "bert":
            assert hp["token_type_ids"] == encs[5].type_ids, name

        tensors = {}
        batch = c.pad_batch(encs, pad_id)
        tensors["batch.input_ids"] = batch["input_ids"]
        tensors["batch.attention_mask"] = batch["attention_mask"]
        if family == "bert":
            tensors["batch.token_type_ids"] = batch["token_type_ids"]
        tensors["batch.position_ids"] = c.position_ids(family, batch["input_ids"], pad_id)
        bo = forward_all(model, family, batch, has_pooler)
        for k, v in bo.items():
            tensors[f"batch.{k}"] = v

        worst = {}
        for i, e in enumerate(encs):
            s = c.single_inputs(e)
            n = len(e.ids)
            tensors[f"single.{i}.input_ids"] = s["input_ids"]
            tensors[f"single.{i}.attention_mask"] = s["attention_mask"]
            if family == "bert":
                tensors[f"single.{i}.token_type_ids"] = s["token_type_ids"]
            tensors[f"single.{i}.position_ids"] = c.position_ids(family, s["input_ids"], pad_id)
            so = forward_all(model, family, s, has_pooler)
            for k, v in so.items():
                tensors[f"single.{i}.{k}"] = v
                # batched vs single agreement (valid positions only)
                bv = bo[k][i : i + 1]
                if bv.dim() == 3:
                    bv = bv[:, :n]
                worst[k] = max(worst.get(k, 0.0), c.maxdiff(bv, v))
        for k, v in worst.items():
            assert v < 1e-5, (name, k, v)
        c.save_tensors(d / "expected.safetensors", tensors)

        vocab_size = tok.get_vocab_size()
        c.save_json(
            d / "expected.json",
            {
                "model": name,
                "family": family,
                "hf_class": cls_name,
                "num_labels": num_labels,
                "vocab_size": vocab_size,
                "pad_token_id": pad_id,
                "texts": "tests/fixtures/models/texts.json",
                "ids": [e.ids for e in encs],
                "type_ids": [e.type_ids for e in encs],
                "tokens": [e.tokens for e in encs],
                "lengths": [len(e.ids) for e in encs],
                "batch_shape": list(batch["input_ids"].shape),
                "position_ids_rule": (
                    "arange(L) (absolute, from 0)" if family == "bert"
                    else "cumsum(ids != pad_id) * (ids != pad_id) + pad_id  -> 2,3,...; pads get pad_id=1"
                ),
                "batch_vs_single_max_abs_diff": worst,
            },
        )
        report[name] = worst
        print(f"[models] {name}: vocab={vocab_size} batch={list(batch['input_ids'].shape)} "
              f"max|batch-single| = " + ", ".join(f"{k}:{v:.2e}" for k, v in worst.items()))
        for k in ("last_hidden_state", "logits", "pooler_output"):
            if f"batch.{k}" in tensors:
                t = tensors[f"batch.{k}"]
                print(f"         {k}: std={float(t.std()):.3f} max|.|={float(t.abs().max()):.3f}")
    return report


def main():
    c.setup()
    build_models_and_tokenizers()
    expected_outputs()


if __name__ == "__main__":
    main()
