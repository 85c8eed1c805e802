#!/usr/bin/env python3
"""Writes the bad-input corpus of tests/bad-inputs/ (see README.md there).

Python standard library only; the files it writes are committed (CI runs the corpus through the
CLI without Python: crates/cli/tests/cli/bad_inputs.rs). Deterministic: running it again rewrites
the same bytes. Run from anywhere: `python3 tests/bad-inputs/make.py`.

Model, tokenizer and adapter cases are one broken file each; the test copies a valid folder
(tests/fixtures/models/bert_cls, tests/fixtures/adapters/bert_cls_qv, or mini-model/ here) into a
scratch directory and puts the broken file in place of its namesake. mini-model/ is a valid
one-layer BERT classifier (hidden 8, vocab 140 as the bert_cls tokenizer) of a few kB whose
weights every weights-* case breaks, so that no case carries a 100 kB copy of bert_cls.
"""

import io
import json
import random
import struct
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parent / "fixtures"


def write(name, data):
    path = HERE / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)


# --- safetensors -------------------------------------------------------------------------------


def read_safetensors(path):
    """(header dict without __metadata__, data bytes, metadata)."""
    raw = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    meta = header.pop("__metadata__", None)
    return header, raw[8 + n :], meta


def tensors_of(path):
    """{name: (dtype, shape, bytes)} of a safetensors file."""
    header, data, _ = read_safetensors(path)
    return {
        k: (v["dtype"], v["shape"], data[v["data_offsets"][0] : v["data_offsets"][1]])
        for k, v in header.items()
    }


def safetensors(tensors, header_edit=None):
    """A safetensors file of {name: (dtype, shape, bytes)} in name order (as torch writes them),
    the header padded with spaces to 8 bytes. `header_edit(header)` may break the header after
    the offsets are laid out."""
    header, data, offset = {}, b"", 0
    for name in sorted(tensors):
        dtype, shape, raw = tensors[name]
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        data += raw
        offset += len(raw)
    if header_edit:
        header_edit(header)
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def f32(values):
    return struct.pack(f"<{len(values)}f", *values)


# --- the mini model ----------------------------------------------------------------------------

H, I, LAYERS, VOCAB, POSITIONS, CLASSES = 8, 16, 1, 140, 16, 3


def mini_config():
    config = json.loads((FIXTURES / "models/bert_cls/config.json").read_text())
    config.update(
        hidden_size=H,
        intermediate_size=I,
        num_hidden_layers=LAYERS,
        num_attention_heads=2,
        max_position_embeddings=POSITIONS,
        vocab_size=VOCAB,
    )
    return config


def mini_tensors():
    rng = random.Random(15)

    def normal(*shape):
        n = 1
        for d in shape:
            n *= d
        return ("F32", list(shape), f32([rng.gauss(0.0, 0.2) for _ in range(n)]))

    def norm(prefix):
        return {
            f"{prefix}.weight": ("F32", [H], f32([1.0] * H)),
            f"{prefix}.bias": ("F32", [H], f32([0.0] * H)),
        }

    def dense(prefix, out, inp):
        return {f"{prefix}.weight": normal(out, inp), f"{prefix}.bias": normal(out)}

    t = {
        "bert.embeddings.word_embeddings.weight": normal(VOCAB, H),
        "bert.embeddings.position_embeddings.weight": normal(POSITIONS, H),
        "bert.embeddings.token_type_embeddings.weight": normal(2, H),
        **norm("bert.embeddings.LayerNorm"),
        **dense("bert.pooler.dense", H, H),
        **dense("classifier", CLASSES, H),
    }
    for l in range(LAYERS):
        p = f"bert.encoder.layer.{l}"
        for m in ["query", "key", "value"]:
            t.update(dense(f"{p}.attention.self.{m}", H, H))
        t.update(dense(f"{p}.attention.output.dense", H, H))
        t.update(norm(f"{p}.attention.output.LayerNorm"))
        t.update(dense(f"{p}.intermediate.dense", I, H))
        t.update(dense(f"{p}.output.dense", H, I))
        t.update(norm(f"{p}.output.LayerNorm"))
    return t


def with_value(tensors, name, index, value):
    dtype, shape, raw = tensors[name]
    raw = bytearray(raw)
    raw[4 * index : 4 * index + 4] = f32([value])
    out = dict(tensors)
    out[name] = (dtype, shape, bytes(raw))
    return out


def make_weights():
    t = mini_tensors()
    write("mini-model/config.json", json.dumps(mini_config(), indent=2) + "\n")
    good = safetensors(t)
    write("mini-model/model.safetensors", good)

    write("weights-empty.safetensors", b"")
    # Cut in the middle of the data (inside a tensor).
    write("weights-truncated.safetensors", good[: len(good) - 1000])
    # 16 bytes after the end of the last tensor.
    write("weights-trailing-bytes.safetensors", good + b"\0" * 16)
    # The 8-byte header length says 1 MB; the file has a few hundred bytes.
    write("weights-header-past-end.safetensors", struct.pack("<Q", 1_000_000) + good[8:400])
    # A header length of 2^62: must be refused before anything is allocated.
    write("weights-header-absurd-length.safetensors", struct.pack("<Q", 1 << 62) + good[8:64])
    # The header is not JSON (garbage over its first bytes).
    broken = bytearray(good)
    broken[8:40] = b"#" * 32
    write("weights-header-not-json.safetensors", bytes(broken))

    def overlap(h):
        # The query bias claims the bytes of the tensor before it as well.
        q = h["bert.encoder.layer.0.attention.self.query.bias"]["data_offsets"]
        q[0] -= 32
    write("weights-overlapping-offsets.safetensors", safetensors(t, overlap))

    def out_of_range(h):
        # The last tensor's offsets point 1 MB past the end of the data.
        w = h["classifier.weight"]["data_offsets"]
        h["classifier.weight"]["data_offsets"] = [w[0] + 1_000_000, w[1] + 1_000_000]
    write("weights-offsets-out-of-range.safetensors", safetensors(t, out_of_range))

    def size_mismatch(h):
        # Shape [8] of F32 is 32 bytes; the offsets give it 32 but the shape now says 16.
        h["bert.embeddings.LayerNorm.bias"]["shape"] = [16]
    write("weights-shape-offsets-disagree.safetensors", safetensors(t, size_mismatch))

    i32 = dict(t)
    _, shape, raw = t["bert.encoder.layer.0.attention.self.key.weight"]
    i32["bert.encoder.layer.0.attention.self.key.weight"] = ("I32", shape, raw)
    write("weights-dtype-i32.safetensors", safetensors(i32))

    def unknown_dtype(h):
        h["classifier.weight"]["dtype"] = "Q4_K"
    write("weights-dtype-unknown.safetensors", safetensors(t, unknown_dtype))

    write(
        "weights-nan.safetensors",
        safetensors(with_value(t, "bert.encoder.layer.0.attention.self.query.weight", 5, float("nan"))),
    )
    write(
        "weights-inf.safetensors",
        safetensors(with_value(t, "classifier.weight", 2, float("inf"))),
    )

    def wrong_shape(h):
        # Same bytes, transposed-looking shape: [16, 8] where [8, 16] (out, in) is expected.
        h["bert.encoder.layer.0.output.dense.weight"]["shape"] = [I, H]
    write("weights-wrong-shape.safetensors", safetensors(t, wrong_shape))

    missing = dict(t)
    del missing["bert.encoder.layer.0.attention.self.key.bias"]
    write("weights-missing-tensor.safetensors", safetensors(missing))


# --- config.json -------------------------------------------------------------------------------


def make_configs():
    base = json.loads((FIXTURES / "models/bert_cls/config.json").read_text())

    def cfg(name, **changes):
        c = dict(base)
        for k, v in changes.items():
            if v is None:
                c.pop(k, None)
            else:
                c[k] = v
        write(f"config-{name}.json", json.dumps(c, indent=2) + "\n")

    write("config-not-json.json", '{\n  "model_type": "bert",\n  "hidden_size": 32\n')
    write("config-not-an-object.json", "[32, 4, 2]\n")
    cfg("missing-hidden-size", hidden_size=None)
    cfg("wrong-type-hidden-size", hidden_size="32")
    cfg("heads-not-divisor", num_attention_heads=5)
    cfg("zero-layers", num_hidden_layers=0)
    cfg("negative-intermediate", intermediate_size=-64)
    # 10^12 × 10^6 floats: would be 4 EB if allocated from the config.
    cfg("absurd-vocab", vocab_size=10**12, hidden_size=10**6, num_attention_heads=1)
    # 10^12 layers of the fixture's size.
    cfg("absurd-layers", num_hidden_layers=10**12)
    cfg("unsupported-model-type", model_type="gpt2")
    cfg("pad-outside-vocab", pad_token_id=140)
    cfg("labels-disagree", num_labels=2)


# --- tokenizer.json ----------------------------------------------------------------------------


def make_tokenizers():
    base = json.loads((FIXTURES / "models/bert_cls/tokenizer.json").read_text())

    write("tokenizer-not-json.json", "this is not json {\n")
    t = json.loads(json.dumps(base))
    t["model"]["type"] = "QuantumPiece"
    write("tokenizer-unknown-model.json", json.dumps(t, indent=1) + "\n")

    # The special tokens ([PAD], [UNK], [CLS], [SEP], [MASK]) removed from the vocabulary and
    # from added_tokens; the post-processor still asks for [CLS] and [SEP].
    t = json.loads(json.dumps(base))
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    t["added_tokens"] = []
    vocab = [w for w, _ in sorted(t["model"]["vocab"].items(), key=lambda kv: kv[1]) if w not in special]
    t["model"]["vocab"] = {w: i for i, w in enumerate(vocab)}
    write("tokenizer-no-special-tokens.json", json.dumps(t, indent=1) + "\n")

    # Another model's tokenizer (the tiny RoBERTa's BPE, 361 tokens) beside a model with 140
    # embeddings.
    write(
        "tokenizer-of-another-model.json",
        (FIXTURES / "models/roberta_cls/tokenizer.json").read_bytes(),
    )


# --- adapters ----------------------------------------------------------------------------------


def make_adapters():
    fixture = FIXTURES / "adapters/bert_cls_qv"
    base = json.loads((fixture / "adapter_config.json").read_text())
    tensors = tensors_of(fixture / "adapter_model.safetensors")

    def cfg(name, **changes):
        c = dict(base)
        c.update(changes)
        write(f"adapter-{name}.json", json.dumps(c, indent=2) + "\n")

    write("adapter-config-not-json.json", '{"r": 4, "lora_alpha": 8,\n')
    cfg("target-modules-absent", target_modules=["qkv_proj"])
    cfg("rank-mismatch", r=8)
    cfg("alpha-zero", lora_alpha=0)
    cfg("alpha-negative", lora_alpha=-16)
    cfg("alpha-not-a-number", lora_alpha="sixteen")
    cfg("layers-absent", layers_to_transform=[0, 7])

    # A head for 2 classes where the model (and its config) has 3.
    head = dict(tensors)
    _, _, w = head["base_model.model.classifier.weight"]
    _, _, b = head["base_model.model.classifier.bias"]
    head["base_model.model.classifier.weight"] = ("F32", [2, 32], w[: 2 * 32 * 4])
    head["base_model.model.classifier.bias"] = ("F32", [2], b[:8])
    write("adapter-head-wrong-classes.safetensors", safetensors(head))

    # lora_A/lora_B of a layer 5 the 2-layer model does not have.
    extra = dict(tensors)
    for ab in ["A", "B"]:
        src = f"base_model.model.bert.encoder.layer.1.attention.self.query.lora_{ab}.weight"
        extra[src.replace("layer.1", "layer.5")] = tensors[src]
    write("adapter-keys-for-absent-layer.safetensors", safetensors(extra))

    nan = dict(tensors)
    name = "base_model.model.bert.encoder.layer.0.attention.self.value.lora_B.weight"
    dtype, shape, raw = nan[name]
    nan[name] = (dtype, shape, f32([float("nan")]) + raw[4:])
    write("adapter-nan.safetensors", safetensors(nan))

    good = safetensors(tensors)
    write("adapter-truncated.safetensors", good[: len(good) // 2])


# --- datasets ----------------------------------------------------------------------------------


def make_datasets():
    core_bad = HERE.parent.parent / "crates/core/tests/data/bad"
    for name in ["bad_json.json", "no_header.csv", "non_utf8.csv", "unclosed_quote.csv"]:
        write("data-" + name.replace("_", "-"), (core_bad / name).read_bytes())

    write("data-empty.csv", b"")
    write("data-whitespace-only.jsonl", "\n  \n\t\n")
    write("data-header-only.csv", "text,label\n")
    write("data-one-class.csv", "text,label\nGood food,positive\nNice staff,positive\nFine view,positive\n")
    write(
        "data-mixed-label-types.jsonl",
        '{"text": "Great food", "label": 1}\n{"text": "Awful", "label": 0}\n'
        '{"text": "So so", "label": "neutral"}\n',
    )
    # Three classes, as the bert_cls head has: the accepted files must run through `ntk`.
    rows = ["the cat sat on the mat,a", "hi there,b", "the dog ran,c"]
    long_text = ("the cat sat on the mat " * 500)[:10_000]
    assert len(long_text) == 10_000
    write(
        "data-text-10000-chars.jsonl",
        "".join(json.dumps({"text": t, "label": l}) + "\n" for t, l in
                [("hi there", "b"), (long_text, "a"), ("the dog ran", "c")]),
    )
    write(
        "data-text-10001-chars.jsonl",
        "".join(json.dumps({"text": t, "label": l}) + "\n" for t, l in
                [("hi there", "b"), (long_text + "s", "a"), ("the dog ran", "a")]),
    )
    write("data-embedded-nul.csv", "text,label\nthe cat\x00sat,a\nhi there,b\nthe dog ran,c\n")
    # CRLF, LF and a lone CR (classic Mac) in one file.
    write("data-mixed-line-endings.csv", "text,label\r\nthe cat sat,a\nhi there,b\r\nthe dog ran,c\rthe end,b\n")
    write("data-bom.csv", "\ufefftext,label\n" + "\n".join(rows) + "\n")
    write("data-utf16.csv", ("text,label\n" + "\n".join(rows) + "\n").encode("utf-16"))
    write("data-duplicate-header.csv", "text,label,text\nthe cat sat,a,hi\nhi there,b,yo\n")
    write("data-field-count.csv", "text,label\nthe cat sat,a\nhi there,b,extra\n")
    write("data-no-text-column.csv", "id,value\n1,0.5\n2,0.7\n")
    # `score` is a label name and `id` the only other column: the guess took the ids as the texts.
    write("data-numeric-text-column.csv", "id,score\n1,0.5\n2,0.7\n3,0.1\n4,0.9\n5,0.3\n6,0.6\n")
    write("data-array-of-non-objects.json", '[\n  "the cat sat",\n  "hi there",\n  3\n]\n')
    # The rows wrapped in an object (as some exporters write them), not a top-level array.
    write(
        "data-json-wrapped-rows.json",
        '{"rows": [{"text": "the cat sat", "label": "a"}, {"text": "hi there", "label": "b"}]}\n',
    )
    write(
        "data-jsonl-line-not-object.jsonl",
        '{"text": "the cat sat", "label": "a"}\n["hi there", "b"]\n{"text": "the dog ran", "label": "a"}\n',
    )
    write(
        "data-jsonl-missing-label.jsonl",
        '{"text": "the cat sat", "label": "a"}\n{"text": "hi there"}\n{"text": "the dog ran", "label": "b"}\n',
    )
    write(
        "data-jsonl-text-not-string.jsonl",
        '{"text": "the cat sat", "label": "a"}\n{"text": ["hi", "there"], "label": "b"}\n',
    )
    write("data-regression-nan.csv", "text,score\nthe cat sat,0.5\nhi there,nan\nthe dog ran,2.25\n")
    write(
        "data-regression-nan.jsonl",
        '{"text": "the cat sat", "label": 0.5}\n{"text": "hi there", "label": NaN}\n'
        '{"text": "the dog ran", "label": 2.25}\n',
    )
    # A zip archive (a deflated CSV, fixed timestamp) and a PNG, named as data files.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        info = zipfile.ZipInfo("data.csv", date_time=(2024, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, "text,label\n" + "\n".join(rows * 20) + "\n")
    write("data-really-zip.csv", buffer.getvalue())
    png = (
        b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
        + b"\x3a\x7e\x9b\x55" + struct.pack(">I", 10) + b"IDAT" + b"\x78\x9c\x63\x60\x00\x00\x00\x02\x00\x01"
        + b"\xe5\x27\xde\xfc" + struct.pack(">I", 0) + b"IEND" + b"\xae\x42\x60\x82"
    )
    write("data-really-png.jsonl", png)
    # Five rows (the analysis-argument cases read it: --n 9 asks for more than there are).
    write(
        "data-five-rows.jsonl",
        "".join(json.dumps({"text": t, "label": l}) + "\n" for t, l in
                [("the cat sat", "a"), ("hi there", "b"), ("the dog ran", "c"), ("so so", "a"), ("wow", "b")]),
    )


if __name__ == "__main__":
    make_weights()
    make_configs()
    make_tokenizers()
    make_adapters()
    make_datasets()
