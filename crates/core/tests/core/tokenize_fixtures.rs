//! Token ids equal those of the Python `tokenizers` library on the fixtures' texts
//! (tests/reference/make_models.py wrote them to expected.json).

use ntk_lens_core::model::TokenBatch;
use ntk_lens_core::tokenize::{TextTokenizer, TokenizeError};
use serde_json::Value;

fn fixture(rel: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(rel)
}

fn check_model(name: &str) {
    let dir = fixture(&format!("models/{name}"));
    let expected: Value =
        serde_json::from_slice(&std::fs::read(dir.join("expected.json")).unwrap()).unwrap();
    let texts: Value =
        serde_json::from_slice(&std::fs::read(fixture("models/texts.json")).unwrap()).unwrap();
    let pad = expected["pad_token_id"].as_u64().unwrap() as u32;
    let tok = TextTokenizer::from_bytes(
        &std::fs::read(dir.join("tokenizer.json")).unwrap(),
        "tokenizer.json",
        pad,
        128,
    )
    .unwrap();
    for (i, t) in texts["texts"].as_array().unwrap().iter().enumerate() {
        let text = t["text"].as_str().unwrap();
        let pair = t["text_pair"].as_str();
        let enc = tok.encode(text, pair, i).unwrap();
        let want: Vec<u32> = expected["ids"][i]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as u32)
            .collect();
        assert_eq!(enc.ids, want, "{name} text {i} ids");
        let want_types: Vec<u32> = expected["type_ids"][i]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as u32)
            .collect();
        assert_eq!(enc.type_ids, want_types, "{name} text {i} type ids");
    }
}

#[test]
fn bert_wordpiece_ids_match_python_tokenizers() {
    check_model("bert_cls");
}

#[test]
fn roberta_bpe_ids_match_python_tokenizers() {
    check_model("roberta_cls");
}

#[test]
fn truncation_keeps_special_tokens_and_batches_pad_right() {
    let dir = fixture("models/bert_cls");
    let tok = TextTokenizer::from_bytes(
        &std::fs::read(dir.join("tokenizer.json")).unwrap(),
        "tokenizer.json",
        0,
        5,
    )
    .unwrap();
    let enc = tok
        .encode("the cat sat on the mat and more words", None, 0)
        .unwrap();
    assert_eq!(enc.ids.len(), 5);
    let cls = *enc.ids.first().unwrap();
    let sep = *enc.ids.last().unwrap();
    let full = TextTokenizer::from_bytes(
        &std::fs::read(dir.join("tokenizer.json")).unwrap(),
        "tokenizer.json",
        0,
        128,
    )
    .unwrap()
    .encode("the cat", None, 0)
    .unwrap();
    assert_eq!(cls, full.ids[0]);
    assert_eq!(sep, *full.ids.last().unwrap());
    let batch = TokenBatch::from_texts(&tok, &["the cat sat on the mat", "hi"], None).unwrap();
    assert_eq!((batch.batch, batch.seq_len), (2, 5));
    assert_eq!(&batch.attention_mask[5..], &[1, 1, 1, 0, 0]);
    assert_eq!(&batch.input_ids[8..], &[0, 0]);
}

#[test]
fn a_tokenizer_file_that_is_not_json_is_a_named_error() {
    let err = TextTokenizer::from_bytes(b"{not json", "my-tokenizer.json", 0, 128)
        .err()
        .unwrap();
    assert!(matches!(err, TokenizeError::BadFile { .. }));
    assert!(
        err.to_string()
            .starts_with("my-tokenizer.json: not a valid tokenizer.json"),
        "{err}"
    );
    assert_eq!(
        TextTokenizer::from_bytes(b"{}", "t.json", 0, 2)
            .err()
            .unwrap(),
        TokenizeError::BadMaxLen(2)
    );
}
