"""make_counts.py -- parameter counts that Hugging Face transformers reports for the tiny fixture models.

Reads (written by make_models.py; run that first):
  tests/fixtures/models/{bert_base,bert_cls,roberta_base,roberta_cls}/{config.json,model.safetensors}

Writes:
  tests/fixtures/models/counts.json   one object per model name (sorted keys, indent 1):
    hf_class                 class transformers loads: AutoModel for *_base, AutoModelForSequenceClassification
                             for *_cls (from_pretrained on the local dir, local_files_only)
    num_parameters           model.num_parameters() (every trainable parameter, shared ones once)
    num_parameters_encoder   the base encoder: *_cls -> model.bert / model.roberta .num_parameters();
                             *_base -> the whole model (same as num_parameters)
    embeddings               parameters of the encoder's `embeddings` submodule (word + position + token type
                             tables and the embedding LayerNorm)
    pooler                   parameters of the encoder's `pooler` (dense 32x32 + bias), 0 if absent:
                             RobertaForSequenceClassification builds its encoder with add_pooling_layer=False;
                             BertForSequenceClassification keeps the pooler (its head reads pooler_output)
    head                     num_parameters - num_parameters_encoder (0 for *_base; the classifier for *_cls:
                             BERT Linear(32, 3); RoBERTa classifier.dense Linear(32, 32) + out_proj Linear(32, 2))
    safetensors_numel        sum of numel over every tensor in model.safetensors (safetensors numpy API). Equals
                             num_parameters: the files hold no buffers (no position_ids / token_type_ids)

Sanity checks: the loaded class is the one in common.MODEL_SPECS, loading reports no missing / unexpected /
mismatched keys, num_parameters() equals the plain sum of numel over model.parameters(), and
safetensors_numel == num_parameters.
"""

from __future__ import annotations

import json

import common as c


def numel(module) -> int:
    return 0 if module is None else sum(p.numel() for p in module.parameters())


def counts_for(name: str) -> dict:
    from safetensors import safe_open
    from transformers import AutoModel, AutoModelForSequenceClassification

    family, cls_name, num_labels, _ = c.MODEL_SPECS[name]
    auto = AutoModelForSequenceClassification if num_labels is not None else AutoModel
    model, info = auto.from_pretrained(
        c.rel(c.MODELS / name), local_files_only=True, output_loading_info=True
    )
    model.eval()
    assert type(model).__name__ == cls_name, (name, type(model).__name__)
    for k in ("missing_keys", "unexpected_keys", "mismatched_keys"):
        assert not info.get(k), (name, k, info[k])

    encoder = getattr(model, family) if num_labels is not None else model
    total = model.num_parameters()
    enc_total = encoder.num_parameters()
    assert total == numel(model), (name, total, numel(model))

    with safe_open(str(c.MODELS / name / "model.safetensors"), framework="np") as f:
        st_numel = sum(int(f.get_tensor(k).size) for k in f.keys())
    assert st_numel == total, (name, st_numel, total)

    return {
        "hf_class": type(model).__name__,
        "num_parameters": int(total),
        "num_parameters_encoder": int(enc_total),
        "embeddings": int(numel(encoder.embeddings)),
        "pooler": int(numel(getattr(encoder, "pooler", None))),
        "head": int(total - enc_total),
        "safetensors_numel": int(st_numel),
    }


def main():
    c.setup()
    out = {}
    for name in c.MODEL_SPECS:
        out[name] = counts_for(name)
        print(f"[counts] {name}: " + ", ".join(f"{k}={v}" for k, v in sorted(out[name].items())))
    path = c.MODELS / "counts.json"
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"[counts] wrote {c.rel(path)}")


if __name__ == "__main__":
    main()
