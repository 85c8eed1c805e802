//! Tokenization with Hugging Face `tokenizer.json` files (the `tokenizers` crate), the same on
//! native and wasm.
//!
//! Padding and truncation settings stored in the file are switched off (all-MiniLM-L6-v2's file,
//! for instance, pads every text to 128); this module truncates to `max_len` itself, and batches
//! are padded on the right by the model's batches ([`crate::model::TokenBatch::from_texts`]).

use serde::{Deserialize, Serialize};
use thiserror::Error;
use tokenizers::{Tokenizer, TruncationDirection};

/// Longest sequence the tool accepts (BERT/RoBERTa position tables are 512 long).
pub const MAX_LEN_LIMIT: usize = 512;
/// The default maximum length in tokens, special tokens included.
pub const DEFAULT_MAX_LEN: usize = 128;

/// A tokenizer problem, naming the file and what was expected.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum TokenizeError {
    /// The tokenizer file could not be read.
    #[error("{file}: not a valid tokenizer.json ({message})")]
    BadFile {
        /// The file's name as the user knows it.
        file: String,
        /// What the parser said.
        message: String,
    },
    /// Encoding a text failed.
    #[error("could not tokenize text {index}: {message}")]
    Encode {
        /// The text's position in its batch (0-based).
        index: usize,
        /// What the tokenizer said.
        message: String,
    },
    /// `max_len` out of range.
    #[error("max length must be between 3 and {MAX_LEN_LIMIT} tokens, got {0}")]
    BadMaxLen(usize),
    /// The tokenizer has more tokens than the model has embeddings (another model's tokenizer).
    #[error(
        "invalid model input `tokenizer.json`: its vocabulary has {tokens} tokens but the model \
         has embeddings for {vocab_size} (config.json vocab_size); is it the tokenizer of another \
         model?"
    )]
    VocabularyTooLarge {
        /// The tokenizer's vocabulary size, added tokens included.
        tokens: usize,
        /// The model's embedding rows (`config.json` `vocab_size`).
        vocab_size: usize,
    },
}

/// One tokenized text: ids, token type ids and the number of real (non-pad) tokens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Encoded {
    /// Token ids, special tokens included.
    pub ids: Vec<u32>,
    /// Token type (segment) ids: 0 for the first text, 1 for the second of a pair.
    pub type_ids: Vec<u32>,
}

/// The indices of `samples` sorted by token length (stable). Batches of neighbours in this order
/// pad least; computations that batch by it put results back with [`restore_order`].
pub fn length_order(samples: &[Encoded]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..samples.len()).collect();
    order.sort_by_key(|&i| samples[i].ids.len());
    order
}

/// Rows of `width` values computed in `order` (row `k` belongs to sample `order[k]`), put back
/// in sample order.
pub fn restore_order<T: Copy + Default>(sorted: &[T], order: &[usize], width: usize) -> Vec<T> {
    let mut out = vec![T::default(); sorted.len()];
    for (k, &i) in order.iter().enumerate() {
        out[i * width..(i + 1) * width].copy_from_slice(&sorted[k * width..(k + 1) * width]);
    }
    out
}

/// The `(token, id)` pairs a `tokenizer.json`'s post-processor inserts (`[CLS]`, `[SEP]`, `<s>`,
/// `</s>`…), from its template, its BERT/RoBERTa processing or a sequence of them.
fn special_tokens(processor: &serde_json::Value, out: &mut Vec<(String, u32)>) {
    use serde_json::Value;
    let pair = |v: &Value| -> Option<(String, u32)> {
        Some((
            v.get(0)?.as_str()?.to_string(),
            u32::try_from(v.get(1)?.as_u64()?).ok()?,
        ))
    };
    match processor.get("type").and_then(Value::as_str) {
        Some("TemplateProcessing") => {
            if let Some(map) = processor.get("special_tokens").and_then(Value::as_object) {
                for t in map.values() {
                    let tokens = t.get("tokens").and_then(Value::as_array);
                    let ids = t.get("ids").and_then(Value::as_array);
                    for (tok, id) in tokens.into_iter().flatten().zip(ids.into_iter().flatten()) {
                        if let (Some(tok), Some(id)) = (tok.as_str(), id.as_u64()) {
                            if let Ok(id) = u32::try_from(id) {
                                out.push((tok.to_string(), id));
                            }
                        }
                    }
                }
            }
        }
        Some("BertProcessing" | "RobertaProcessing") => {
            out.extend(
                ["cls", "sep"]
                    .iter()
                    .filter_map(|k| pair(processor.get(k)?)),
            );
        }
        Some("Sequence") => {
            for p in processor
                .get("processors")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                special_tokens(p, out);
            }
        }
        _ => {}
    }
}

/// The first special token the post-processor inserts whose id the vocabulary does not give
/// it: `(token, id, what the vocabulary has)`.
fn special_token_mismatch(inner: &Tokenizer) -> Option<(String, u32, Option<u32>)> {
    // The post-processor as JSON, from the parsed tokenizer: parsing the whole file a second
    // time cost a sixth of a small NTK's run.
    let json = serde_json::to_value(inner.get_post_processor()?).ok()?;
    let mut pairs = Vec::new();
    special_tokens(&json, &mut pairs);
    pairs.into_iter().find_map(|(token, id)| {
        let found = inner.token_to_id(&token);
        (found != Some(id)).then_some((token, id, found))
    })
}

/// A tokenizer loaded from a `tokenizer.json`.
#[derive(Clone)]
pub struct TextTokenizer {
    inner: Tokenizer,
    pad_id: u32,
    max_len: usize,
}

impl TextTokenizer {
    /// Loads a tokenizer from the bytes of a `tokenizer.json`. `file` names it in errors;
    /// `pad_id` is the model's padding id (config.json `pad_token_id`).
    pub fn from_bytes(
        bytes: &[u8],
        file: &str,
        pad_id: u32,
        max_len: usize,
    ) -> Result<Self, TokenizeError> {
        if !(3..=MAX_LEN_LIMIT).contains(&max_len) {
            return Err(TokenizeError::BadMaxLen(max_len));
        }
        let mut inner = Tokenizer::from_bytes(bytes).map_err(|e| TokenizeError::BadFile {
            file: file.to_string(),
            message: e.to_string(),
        })?;
        if let Some((token, id, found)) = special_token_mismatch(&inner) {
            let found = match found {
                None => "has no such token".to_string(),
                Some(other) => format!("gives it id {other}"),
            };
            return Err(TokenizeError::BadFile {
                file: file.to_string(),
                message: format!(
                    "its post-processor adds the special token `{token}` as id {id}, but its \
                     vocabulary {found}: the special tokens the model needs are missing"
                ),
            });
        }
        inner.with_padding(None);
        inner
            .with_truncation(None)
            .map_err(|e| TokenizeError::BadFile {
                file: file.to_string(),
                message: e.to_string(),
            })?;
        Ok(TextTokenizer {
            inner,
            pad_id,
            max_len,
        })
    }

    /// The maximum length in tokens.
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// The padding id.
    pub fn pad_id(&self) -> u32 {
        self.pad_id
    }

    /// Size of the vocabulary, added tokens included.
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// `Ok` when every token id fits the model's embedding table of `vocab_size` rows; a
    /// tokenizer with more tokens (another model's) is refused, rather than the first text whose
    /// ids fall outside the table.
    pub fn check_fits(&self, vocab_size: usize) -> Result<(), TokenizeError> {
        if self.vocab_size() <= vocab_size {
            return Ok(());
        }
        Err(TokenizeError::VocabularyTooLarge {
            tokens: self.vocab_size(),
            vocab_size,
        })
    }

    /// Tokenizes one text (or a pair), with special tokens, truncated to `max_len` (the longer
    /// of a pair is cut first, as Hugging Face's `longest_first` does).
    pub fn encode(
        &self,
        text: &str,
        pair: Option<&str>,
        index: usize,
    ) -> Result<Encoded, TokenizeError> {
        let err = |e: tokenizers::Error| TokenizeError::Encode {
            index,
            message: e.to_string(),
        };
        let mut first = self.inner.encode(text, false).map_err(err)?;
        let mut second = match pair {
            Some(p) => Some(self.inner.encode(p, false).map_err(err)?),
            None => None,
        };
        let special = self.inner.get_post_processor().map_or(0, |p| {
            tokenizers::tokenizer::PostProcessor::added_tokens(p, second.is_some())
        });
        let budget = self.max_len.saturating_sub(special);
        // longest_first: remove one token at a time from the longer sequence.
        let (mut a, mut b) = (first.len(), second.as_ref().map_or(0, |s| s.len()));
        while a + b > budget {
            if a >= b {
                a -= 1;
            } else {
                b -= 1;
            }
        }
        first.truncate(a, 0, TruncationDirection::Right);
        if let Some(s) = second.as_mut() {
            s.truncate(b, 0, TruncationDirection::Right);
        }
        let done = self.inner.post_process(first, second, true).map_err(err)?;
        Ok(Encoded {
            ids: done.get_ids().to_vec(),
            type_ids: done.get_type_ids().to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vocabulary check's message is the one it had as a `CoreError::InvalidInput`.
    #[test]
    fn a_too_large_vocabulary_names_the_file_and_both_sizes() {
        let e = TokenizeError::VocabularyTooLarge {
            tokens: 50265,
            vocab_size: 30522,
        };
        let before = crate::CoreError::input(
            "tokenizer.json",
            "its vocabulary has 50265 tokens but the model has embeddings for 30522 (config.json \
             vocab_size); is it the tokenizer of another model?",
        );
        assert_eq!(e.to_string(), before.to_string());
        assert_eq!(crate::CoreError::from(e).to_string(), before.to_string());
    }
}
