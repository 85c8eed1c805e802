"""Shared helpers for the ntk-lens reference fixture generators.

Everything here is deterministic: fixed texts, hand-written / trained tokenizers,
explicit torch.Generator seeds. All generators call `setup()` first (1 CPU thread,
deterministic algorithms, float32 default dtype).

Paths
-----
REPO      repository root (two levels above this file)
FIXTURES  REPO/tests/fixtures
All paths written into fixture JSON files are relative to REPO.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("RAYON_NUM_THREADS", "1")  # tokenizers' trainer
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
MODELS = FIXTURES / "models"
ADAPTERS = FIXTURES / "adapters"

# ---------------------------------------------------------------------------
# Texts. Index = position in texts.json. Texts 0..4 are single sentences
# (used by the NTK and prox-GD fixtures); text 5 is a sentence pair.
# ---------------------------------------------------------------------------
TEXTS = [
    {"text": "The cat sat on the mat.", "text_pair": None},
    {"text": "Hi!", "text_pair": None},
    {"text": "A happy brown dog jumps over the sleeping cats near the old riverbank.", "text_pair": None},
    {"text": "Wow, really? That's amazing: 42 cats & dogs!", "text_pair": None},
    {"text": "The xylophone quartet played jazz tonight.", "text_pair": None},
    {"text": "Is the movie good?", "text_pair": "Yes, the movie was wonderful and thrilling."},
]
TEXT_NOTES = {
    "0": "plain sentence, all whole-word tokens",
    "1": "shortest: 2 word-level tokens",
    "2": "longest; contains '##' subwords (jump ##s, sleep ##ing, river ##bank)",
    "3": "punctuation (, ? ' : & !) and digits (4 ##2)",
    "4": "out-of-vocabulary words (letters q/x/z are absent from the BERT vocab -> [UNK])",
    "5": "sentence pair (text, text_pair): token_type_ids 0 for [CLS] A [SEP], 1 for B [SEP]",
}

# Sentences 0..4 for NTK / prox-GD.
N_SINGLE = 5

# ---------------------------------------------------------------------------
# Tiny model configs
# ---------------------------------------------------------------------------
COMMON_CFG = dict(
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=4,
    intermediate_size=64,
    hidden_act="gelu",
    hidden_dropout_prob=0.0,
    attention_probs_dropout_prob=0.0,
    initializer_range=0.02,
)
BERT_CFG = dict(COMMON_CFG, max_position_embeddings=64, type_vocab_size=2, layer_norm_eps=1e-12, pad_token_id=0)
ROBERTA_CFG = dict(
    COMMON_CFG,
    max_position_embeddings=66,
    type_vocab_size=1,
    layer_norm_eps=1e-5,
    pad_token_id=1,
    bos_token_id=0,
    eos_token_id=2,
)

MODEL_SPECS = {
    # name: (family, class name, num_labels or None, seed)
    "bert_base": ("bert", "BertModel", None, 1001),
    "bert_cls": ("bert", "BertForSequenceClassification", 3, 1002),
    "roberta_base": ("roberta", "RobertaModel", None, 1003),
    "roberta_cls": ("roberta", "RobertaForSequenceClassification", 2, 1004),
}


def setup() -> None:
    os.chdir(REPO)  # relative paths (e.g. base_model_name_or_path) are relative to the repo root
    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    torch.use_deterministic_algorithms(True)
    torch.set_default_dtype(torch.float32)


# ---------------------------------------------------------------------------
# Tokenizers
# ---------------------------------------------------------------------------
BERT_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
ROBERTA_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]

# Letters q, x, z are deliberately missing (-> any word containing them is [UNK]).
_LETTERS = [c for c in "abcdefghijklmnopqrstuvwxyz" if c not in "qxz"]
_DIGITS = list("0123456789")
_PUNCT = list(".,!?'&:;-\"()")
_WORDS = (
    "the cat sat on mat hi a happy brown dog jump over sleep near old river wow real that "
    "amazing is movie good yes was wonderful and play tonight man guitar stock market fell "
    "love this it film terrible boring i you we he she they in of to for with at by"
).split()
_SUFFIXES = ["##s", "##ing", "##ed", "##ly", "##bank", "##er", "##ful"]


def bert_vocab() -> list[str]:
    vocab = list(BERT_SPECIALS)
    for tok in _PUNCT + _DIGITS + _LETTERS + _WORDS + _SUFFIXES + ["##" + c for c in _LETTERS + _DIGITS]:
        if tok not in vocab:
            vocab.append(tok)
    return vocab


def build_bert_tokenizer():
    """BERT-style WordPiece: BertNormalizer(lowercase), BertPreTokenizer, TemplateProcessing."""
    from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordPiece

    vocab = {t: i for i, t in enumerate(bert_vocab())}
    tok = Tokenizer(WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True
    )
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A:0 [SEP]:0",
        pair="[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
    )
    tok.decoder = decoders.WordPiece(prefix="##")
    tok.add_special_tokens(BERT_SPECIALS)
    return tok


def build_roberta_tokenizer():
    """RoBERTa-style byte-level BPE trained on the fixture texts (full 256-byte alphabet)."""
    from tokenizers import Tokenizer, decoders, pre_tokenizers, processors, trainers
    from tokenizers.models import BPE

    tok = Tokenizer(BPE())  # like roberta-base: no unk_token, no continuing prefix
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    corpus = []
    for t in TEXTS[:4] + TEXTS[5:]:  # text 4 (OOV sentence) is NOT in the BPE training corpus
        corpus.append(t["text"])
        if t["text_pair"]:
            corpus.append(t["text_pair"])
    trainer = trainers.BpeTrainer(
        vocab_size=len(ROBERTA_SPECIALS) + 256 + 100,
        min_frequency=1,
        special_tokens=ROBERTA_SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(corpus, trainer=trainer)
    tok.post_processor = processors.RobertaProcessing(
        sep=("</s>", tok.token_to_id("</s>")),
        cls=("<s>", tok.token_to_id("<s>")),
        trim_offsets=True,
        add_prefix_space=False,
    )
    for i, s in enumerate(ROBERTA_SPECIALS):
        assert tok.token_to_id(s) == i, (s, tok.token_to_id(s))
    return tok


def load_tokenizer(model_dir: Path):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    return tok


def encode_all(tok, texts=TEXTS):
    """List of tokenizers.Encoding, one per text (pairs encoded as pairs)."""
    out = []
    for t in texts:
        if t["text_pair"] is None:
            out.append(tok.encode(t["text"]))
        else:
            out.append(tok.encode(t["text"], t["text_pair"]))
    return out


def pad_batch(encodings, pad_id: int):
    """Right padding to the longest. Returns dict of int64 tensors [B, L]."""
    L = max(len(e.ids) for e in encodings)
    B = len(encodings)
    ids = torch.full((B, L), pad_id, dtype=torch.int64)
    mask = torch.zeros((B, L), dtype=torch.int64)
    tt = torch.zeros((B, L), dtype=torch.int64)
    for i, e in enumerate(encodings):
        n = len(e.ids)
        ids[i, :n] = torch.tensor(e.ids)
        mask[i, :n] = 1
        tt[i, :n] = torch.tensor(e.type_ids)
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": tt}


def single_inputs(enc):
    ids = torch.tensor([enc.ids], dtype=torch.int64)
    return {
        "input_ids": ids,
        "attention_mask": torch.ones_like(ids),
        "token_type_ids": torch.tensor([enc.type_ids], dtype=torch.int64),
    }


def position_ids(family: str, input_ids: torch.Tensor, pad_id: int) -> torch.Tensor:
    """Position ids exactly as HF computes them (for documentation in the fixtures)."""
    if family == "roberta":
        m = input_ids.ne(pad_id).long()
        return torch.cumsum(m, dim=1) * m + pad_id
    L = input_ids.shape[1]
    return torch.arange(L, dtype=torch.int64).unsqueeze(0).expand_as(input_ids).contiguous()


def model_inputs(family: str, inp: dict) -> dict:
    """kwargs for the HF forward. RoBERTa gets no token_type_ids (all zero anyway)."""
    d = {"input_ids": inp["input_ids"], "attention_mask": inp["attention_mask"]}
    if family == "bert":
        d["token_type_ids"] = inp["token_type_ids"]
    return d


# ---------------------------------------------------------------------------
# Randomisation of a freshly initialised model
# ---------------------------------------------------------------------------
def randomise_(model: torch.nn.Module, seed: int) -> None:
    """Overwrite EVERY parameter with seeded random values so nothing is identity/zero
    and activations are O(1):
      * *LayerNorm.weight -> 1 + N(0, 0.1);  every bias (incl. LayerNorm.bias) -> N(0, 0.1)
      * embedding tables (incl. padding rows) -> N(0, 0.5)
      * other 2-D weights [out, in] -> N(0, 1/in)   (variance-preserving)
    Parameters are visited in model.named_parameters() order with one generator.
    """
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            z = torch.randn(p.shape, generator=g, dtype=torch.float32)
            if name.endswith("LayerNorm.weight"):
                p.copy_(1.0 + 0.1 * z)
            elif name.endswith("bias"):
                p.copy_(0.1 * z)
            elif "embeddings" in name:
                p.copy_(0.5 * z)
            elif p.dim() == 2:
                p.copy_(z / math.sqrt(p.shape[1]))
            else:
                raise ValueError(f"unexpected parameter {name} {tuple(p.shape)}")


# ---------------------------------------------------------------------------
# IO helpers
# ---------------------------------------------------------------------------
def save_tensors(path: Path, tensors: dict, metadata: dict | None = None) -> None:
    from safetensors.torch import save_file

    out = {}
    for k, v in tensors.items():
        v = v.detach().cpu()
        if v.is_floating_point():
            v = v.to(torch.float32)
        out[k] = v.contiguous().clone()
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(out, str(path), metadata=metadata or {"format": "pt"})


def save_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(obj, indent=1, sort_keys=False, ensure_ascii=False)
    # keep flat lists of numbers / short strings on one line (readability, smaller diffs)
    text = re.sub(
        r'\[\s*((?:(?:-?[0-9.eE+-]+|"(?:[^"\\]|\\.){0,24}"|null),\s*)*(?:-?[0-9.eE+-]+|"(?:[^"\\]|\\.){0,24}"|null))\s*\]',
        lambda m: "[" + re.sub(r",\n\s*", ", ", m.group(1)) + "]",
        text,
    )
    assert json.loads(text) == json.loads(json.dumps(obj))
    with open(path, "w", encoding="utf-8") as f:
        f.write(text + "\n")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def rel(path: Path) -> str:
    return str(Path(path).resolve().relative_to(REPO))


def maxdiff(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.double() - b.double()).abs().max())


def load_base_model(name: str, dtype=torch.float32):
    """Load a fixture model from tests/fixtures/models/<name> (eager attention, eval mode)."""
    import transformers

    family, cls, _, _ = MODEL_SPECS[name]
    model = getattr(transformers, cls).from_pretrained(
        rel(MODELS / name), attn_implementation="eager", dtype=dtype
    )
    model.eval()
    return model
