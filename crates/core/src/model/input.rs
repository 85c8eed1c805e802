//! Token batches (host side): ids, attention mask, token types; right padding; position ids
//! and the additive attention mask as Hugging Face computes them.

use serde::{Deserialize, Serialize};

use super::config::{Family, ModelConfig};
use crate::tokenize::TextTokenizer;
use crate::CoreError;

/// A batch of tokenised sequences, `B × T`, row-major, on the host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenBatch {
    /// Number of sequences `B`.
    pub batch: usize,
    /// Padded length `T`.
    pub seq_len: usize,
    /// Token ids `[B, T]`.
    pub input_ids: Vec<u32>,
    /// 1 for a real token, 0 for padding, `[B, T]`.
    pub attention_mask: Vec<u32>,
    /// Segment ids `[B, T]` (all 0 for single sentences and for RoBERTa).
    pub token_type_ids: Vec<u32>,
}

impl TokenBatch {
    /// A batch from already padded arrays. `token_type_ids` defaults to zeros. Checks the
    /// lengths, that the mask holds only 0/1, and that every row has at least one token.
    pub fn new(
        batch: usize,
        seq_len: usize,
        input_ids: Vec<u32>,
        attention_mask: Vec<u32>,
        token_type_ids: Option<Vec<u32>>,
    ) -> Result<Self, CoreError> {
        let n = batch * seq_len;
        if batch == 0 || seq_len == 0 {
            return Err(CoreError::input("input_ids", "the batch is empty"));
        }
        if input_ids.len() != n {
            return Err(CoreError::input(
                "input_ids",
                format!("{} values for a {batch}×{seq_len} batch", input_ids.len()),
            ));
        }
        if attention_mask.len() != n {
            return Err(CoreError::input(
                "attention_mask",
                format!(
                    "{} values for a {batch}×{seq_len} batch",
                    attention_mask.len()
                ),
            ));
        }
        if attention_mask.iter().any(|&m| m > 1) {
            return Err(CoreError::input("attention_mask", "values must be 0 or 1"));
        }
        if let Some(row) = attention_mask
            .chunks(seq_len)
            .position(|r| r.iter().all(|&m| m == 0))
        {
            return Err(CoreError::input(
                "attention_mask",
                format!("sequence {row} has no token"),
            ));
        }
        let token_type_ids = token_type_ids.unwrap_or_else(|| vec![0; n]);
        if token_type_ids.len() != n {
            return Err(CoreError::input(
                "token_type_ids",
                format!(
                    "{} values for a {batch}×{seq_len} batch",
                    token_type_ids.len()
                ),
            ));
        }
        Ok(TokenBatch {
            batch,
            seq_len,
            input_ids,
            attention_mask,
            token_type_ids,
        })
    }

    /// The first `k` sequences and the rest, each at this batch's padded length (`0 < k < B`;
    /// `None` otherwise).
    pub fn split_at(&self, k: usize) -> Option<(TokenBatch, TokenBatch)> {
        if k == 0 || k >= self.batch {
            return None;
        }
        let cut = k * self.seq_len;
        let part = |batch, range: core::ops::Range<usize>| TokenBatch {
            batch,
            seq_len: self.seq_len,
            input_ids: self.input_ids[range.clone()].to_vec(),
            attention_mask: self.attention_mask[range.clone()].to_vec(),
            token_type_ids: self.token_type_ids[range].to_vec(),
        };
        let end = self.input_ids.len();
        Some((part(k, 0..cut), part(self.batch - k, cut..end)))
    }

    /// Right-pads `sequences` to the longest with `pad_id` (mask 0, token type 0 on pads).
    pub fn from_sequences(
        sequences: &[Vec<u32>],
        token_types: Option<&[Vec<u32>]>,
        pad_id: u32,
    ) -> Result<Self, CoreError> {
        let batch = sequences.len();
        let seq_len = sequences.iter().map(Vec::len).max().unwrap_or(0);
        if let Some(tt) = token_types {
            if tt.len() != batch || tt.iter().zip(sequences).any(|(t, s)| t.len() != s.len()) {
                return Err(CoreError::input(
                    "token_type_ids",
                    "must have one entry per token of every sequence",
                ));
            }
        }
        let mut ids = vec![pad_id; batch * seq_len];
        let mut mask = vec![0; batch * seq_len];
        let mut types = vec![0; batch * seq_len];
        for (i, s) in sequences.iter().enumerate() {
            let row = i * seq_len;
            ids[row..row + s.len()].copy_from_slice(s);
            mask[row..row + s.len()].fill(1);
            if let Some(tt) = token_types {
                types[row..row + s.len()].copy_from_slice(&tt[i]);
            }
        }
        TokenBatch::new(batch, seq_len, ids, mask, Some(types))
    }

    /// Tokenizes a batch of texts (with optional pairs) with `tokenizer` and pads it on the
    /// right with its pad id (see [`TokenBatch::from_sequences`]).
    pub fn from_texts(
        tokenizer: &TextTokenizer,
        texts: &[&str],
        pairs: Option<&[&str]>,
    ) -> Result<Self, CoreError> {
        let encoded = texts
            .iter()
            .enumerate()
            .map(|(i, t)| tokenizer.encode(t, pairs.and_then(|p| p.get(i).copied()), i))
            .collect::<Result<Vec<_>, _>>()?;
        let (ids, types): (Vec<Vec<u32>>, Vec<Vec<u32>>) =
            encoded.into_iter().map(|e| (e.ids, e.type_ids)).unzip();
        TokenBatch::from_sequences(&ids, Some(&types), tokenizer.pad_id())
    }

    /// Sequence `i` (`< batch`) without its padding, as a batch of one.
    pub fn row(&self, i: usize) -> Result<TokenBatch, CoreError> {
        if i >= self.batch {
            return Err(CoreError::input(
                "row",
                format!("{i} is not below the batch size {}", self.batch),
            ));
        }
        let r = i * self.seq_len..(i + 1) * self.seq_len;
        let keep: Vec<usize> = r.clone().filter(|&k| self.attention_mask[k] == 1).collect();
        let pick = |v: &[u32]| keep.iter().map(|&k| v[k]).collect::<Vec<u32>>();
        TokenBatch::new(
            1,
            keep.len(),
            pick(&self.input_ids),
            vec![1; keep.len()],
            Some(pick(&self.token_type_ids)),
        )
    }

    /// Number of real tokens of each sequence.
    pub fn lengths(&self) -> Vec<usize> {
        self.attention_mask
            .chunks(self.seq_len)
            .map(|r| r.iter().filter(|&&m| m == 1).count())
            .collect()
    }

    /// Position ids `[B, T]` as Hugging Face computes them:
    /// * BERT: `0, 1, …, T−1` in every row;
    /// * RoBERTa (`create_position_ids_from_input_ids`): with `m = (input_ids != pad)`,
    ///   `cumsum(m) · m + pad`, i.e. real tokens get `pad+1, pad+2, …` and pads get `pad`.
    ///   It looks at the ids, not at the attention mask.
    pub fn position_ids(&self, family: Family, pad_token_id: u32) -> Vec<u32> {
        match family {
            Family::Bert => (0..self.batch)
                .flat_map(|_| 0..self.seq_len as u32)
                .collect(),
            Family::Roberta => {
                let mut out = Vec::with_capacity(self.input_ids.len());
                for row in self.input_ids.chunks(self.seq_len) {
                    let mut count = 0u32;
                    for &id in row {
                        if id != pad_token_id {
                            count += 1;
                            out.push(count + pad_token_id);
                        } else {
                            out.push(pad_token_id);
                        }
                    }
                }
                out
            }
        }
    }

    /// The additive attention mask over keys, `[B, T]`: 0 for tokens, `f32::MIN` (torch
    /// `finfo(float32).min`, as Hugging Face) for padding.
    pub fn additive_mask(&self) -> Vec<f32> {
        self.attention_mask
            .iter()
            .map(|&m| if m == 1 { 0.0 } else { f32::MIN })
            .collect()
    }

    /// Checks ids, token types and positions against the model's tables, naming the input at
    /// fault; returns the position ids.
    pub fn validate_for(&self, config: &ModelConfig) -> Result<Vec<u32>, CoreError> {
        if let Some(&id) = self
            .input_ids
            .iter()
            .find(|&&id| id as usize >= config.vocab_size)
        {
            return Err(CoreError::input(
                "input_ids",
                format!(
                    "token id {id} is outside the vocabulary 0..{}",
                    config.vocab_size
                ),
            ));
        }
        if let Some(&t) = self
            .token_type_ids
            .iter()
            .find(|&&t| t as usize >= config.type_vocab_size)
        {
            return Err(CoreError::input(
                "token_type_ids",
                format!("type {t} is outside 0..{}", config.type_vocab_size),
            ));
        }
        let positions = self.position_ids(config.family, config.pad_token_id);
        if let Some(&p) = positions
            .iter()
            .find(|&&p| p as usize >= config.max_position_embeddings)
        {
            return Err(CoreError::input(
                "input_ids",
                format!(
                    "the sequence is too long: position {p} exceeds the model's {} positions \
                     (at most {} tokens)",
                    config.max_position_embeddings,
                    config.max_sequence_length()
                ),
            ));
        }
        Ok(positions)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn right_padding_and_masks() {
        let b = TokenBatch::from_sequences(&[vec![5, 6, 7], vec![8]], None, 1).unwrap();
        assert_eq!((b.batch, b.seq_len), (2, 3));
        assert_eq!(b.input_ids, [5, 6, 7, 8, 1, 1]);
        assert_eq!(b.attention_mask, [1, 1, 1, 1, 0, 0]);
        assert_eq!(b.lengths(), [3, 1]);
        let m = b.additive_mask();
        assert_eq!(&m[..4], [0.0; 4]);
        assert_eq!(&m[4..], [f32::MIN, f32::MIN]);
        assert_eq!(b.row(1).unwrap().input_ids, [8]);
    }

    #[test]
    fn split_at_keeps_rows_and_padding() {
        let b = TokenBatch::from_sequences(&[vec![5, 6, 7], vec![8], vec![9, 4]], None, 1).unwrap();
        let (top, bottom) = b.split_at(1).unwrap();
        assert_eq!((top.batch, top.seq_len), (1, 3));
        assert_eq!(top.input_ids, [5, 6, 7]);
        assert_eq!((bottom.batch, bottom.seq_len), (2, 3));
        assert_eq!(bottom.input_ids, [8, 1, 1, 9, 4, 1]);
        assert_eq!(bottom.attention_mask, [1, 0, 0, 1, 1, 0]);
        assert_eq!(bottom.token_type_ids.len(), 6);
        assert!(b.split_at(0).is_none() && b.split_at(3).is_none());
    }

    #[test]
    fn position_ids_follow_hf() {
        let b = TokenBatch::from_sequences(&[vec![0, 9, 9, 2], vec![0, 2]], None, 1).unwrap();
        assert_eq!(b.position_ids(Family::Bert, 0), [0, 1, 2, 3, 0, 1, 2, 3]);
        // RoBERTa, pad = 1: real tokens 2, 3, …; pads 1.
        assert_eq!(b.position_ids(Family::Roberta, 1), [2, 3, 4, 5, 2, 3, 1, 1]);
        // A pad id in the middle of the real tokens keeps position `pad` and does not count
        // (HF looks at the ids, not at the mask).
        let odd = TokenBatch::new(1, 4, vec![0, 1, 7, 2], vec![1; 4], None).unwrap();
        assert_eq!(odd.position_ids(Family::Roberta, 1), [2, 1, 3, 4]);
    }

    #[test]
    fn bad_inputs_name_the_field() {
        let field = |r: Result<TokenBatch, CoreError>| match r {
            Err(CoreError::InvalidInput { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field(TokenBatch::new(1, 2, vec![1], vec![1, 1], None)),
            "input_ids"
        );
        assert_eq!(
            field(TokenBatch::new(1, 2, vec![1, 2], vec![1, 2], None)),
            "attention_mask"
        );
        assert_eq!(
            field(TokenBatch::new(1, 2, vec![1, 2], vec![0, 0], None)),
            "attention_mask"
        );
        assert_eq!(
            field(TokenBatch::from_sequences(
                &[vec![1, 2]],
                Some(&[vec![0]]),
                0
            )),
            "token_type_ids"
        );
        assert_eq!(field(TokenBatch::from_sequences(&[], None, 0)), "input_ids");
    }
}
