//! A safetensors file decoded while it downloads: each tensor is upcast to f32 as soon as its
//! bytes have arrived and its raw bytes are dropped, so a model is never held twice (the file and
//! its tensors). A 331 MB fp32 checkpoint then peaks near its tensors plus the largest one's raw
//! bytes instead of twice its size. An f32 tensor's bytes land straight in its values (on a
//! little-endian machine), neither copied nor allocated a second time: for an fp32 model,
//! touching fresh memory was most of the loading time.
//!
//! The header is checked as the safetensors format requires (and as [`safetensors::SafeTensors`]
//! checks a whole file): a length within 100 MB, JSON entries with a dtype, a shape and offsets
//! that tile the data exactly, each the size its shape and dtype imply.

use std::collections::BTreeMap;

use safetensors::Dtype;
use serde::Deserialize;

use super::weights::{check_finite, upcast, Decoded, WeightFile};
use crate::CoreError;

/// The largest header the format allows.
const MAX_HEADER: u64 = 100_000_000;

/// One tensor's entry in the header.
#[derive(Debug, Deserialize)]
struct RawEntry {
    dtype: Dtype,
    shape: Vec<usize>,
    data_offsets: (usize, usize),
}

/// A tensor still to receive, in file order.
#[derive(Debug)]
struct Entry {
    name: String,
    dtype: Dtype,
    shape: Vec<usize>,
    len: usize,
}

/// Decodes safetensors bytes pushed chunk by chunk (see the module docs).
#[derive(Debug)]
pub struct WeightStream {
    file: String,
    /// The 8-byte length and the header, until the header is parsed.
    head: Vec<u8>,
    /// The tensors still to receive, the next one last.
    todo: Vec<Entry>,
    /// Whether the header has been parsed.
    parsed: bool,
    /// The bytes of the tensor being received.
    pending: Pending,
    decoded: BTreeMap<String, Decoded>,
}

impl WeightStream {
    /// A stream for the file labelled `file` in errors.
    pub fn new(file: &str) -> WeightStream {
        WeightStream {
            file: file.to_string(),
            head: Vec::new(),
            todo: Vec::new(),
            parsed: false,
            pending: Pending::default(),
            decoded: BTreeMap::new(),
        }
    }

    fn error(&self, message: impl Into<String>) -> CoreError {
        CoreError::Safetensors {
            file: self.file.clone(),
            message: message.into(),
        }
    }

    /// Takes the next bytes of the file.
    ///
    /// Errors: a header that is too long, not JSON, or whose offsets do not tile the data;
    /// bytes past the end of the last tensor.
    pub fn push(&mut self, mut chunk: &[u8]) -> Result<(), CoreError> {
        while !self.parsed {
            let need = if self.head.len() < 8 {
                8 - self.head.len()
            } else {
                self.header_end()? - self.head.len()
            };
            let take = need.min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
            chunk = &chunk[take..];
            if self.head.len() >= 8 && self.head.len() == self.header_end()? {
                self.parse_header()?;
            } else if chunk.is_empty() {
                return Ok(());
            }
        }
        while !chunk.is_empty() {
            let Some(entry) = self.todo.last() else {
                return Err(self.error(format!(
                    "{} bytes past the end of the last tensor",
                    chunk.len()
                )));
            };
            let take = (entry.len - self.pending.len()).min(chunk.len());
            if self.pending.is_empty() {
                self.pending = Pending::for_tensor(entry.dtype, entry.len);
            }
            self.pending.extend(&chunk[..take]);
            chunk = &chunk[take..];
            self.finish_tensors()?;
        }
        Ok(())
    }

    /// Decodes every tensor whose bytes are all in (zero-sized ones included).
    fn finish_tensors(&mut self) -> Result<(), CoreError> {
        while let Some(entry) = self.todo.last() {
            if self.pending.len() < entry.len {
                return Ok(());
            }
            let entry = self.todo.pop().ok_or_else(|| self.error("no tensor"))?;
            let values = match std::mem::take(&mut self.pending) {
                Pending::F32 { values, .. } => {
                    check_finite(&self.file, &entry.name, &values).map(|()| Some(values))
                }
                Pending::Raw(raw) => upcast(&self.file, &entry.name, entry.dtype, &raw).map(Some),
            };
            self.decoded.insert(
                entry.name,
                Decoded {
                    shape: entry.shape,
                    values,
                },
            );
        }
        Ok(())
    }

    /// The end of the header (8 + its length), once the length has arrived.
    fn header_end(&self) -> Result<usize, CoreError> {
        let n = u64::from_le_bytes(
            self.head[..8]
                .try_into()
                .map_err(|_| self.error("the file is shorter than 8 bytes"))?,
        );
        if n > MAX_HEADER {
            return Err(self.error(format!(
                "the header length {n} is past the format's limit of {MAX_HEADER} bytes"
            )));
        }
        Ok(8 + n as usize)
    }

    fn parse_header(&mut self) -> Result<(), CoreError> {
        let text = std::str::from_utf8(&self.head[8..])
            .map_err(|e| self.error(format!("the header is not UTF-8: {e}")))?;
        let mut raw: BTreeMap<String, serde_json::Value> = serde_json::from_str(text)
            .map_err(|e| self.error(format!("the header is not valid JSON: {e}")))?;
        raw.remove("__metadata__");
        let mut entries = Vec::with_capacity(raw.len());
        for (name, value) in raw {
            let e: RawEntry = serde_json::from_value(value)
                .map_err(|err| self.error(format!("tensor `{name}`: {err}")))?;
            entries.push((name, e));
        }
        entries.sort_by_key(|(_, e)| e.data_offsets);
        let mut at = 0usize;
        let mut todo = Vec::with_capacity(entries.len());
        for (name, e) in entries {
            let (start, end) = e.data_offsets;
            let size = e
                .shape
                .iter()
                .try_fold(1usize, |a, &d| a.checked_mul(d))
                .and_then(|n| n.checked_mul(e.dtype.bitsize()))
                .map(|bits| bits / 8);
            if start != at || end < start || Some(end - start) != size {
                return Err(self.error(format!(
                    "tensor `{name}`: offsets {start}..{end} do not follow the previous tensor \
                     (at {at}) or do not match its shape {:?} and dtype {:?}",
                    e.shape, e.dtype
                )));
            }
            at = end;
            todo.push(Entry {
                name,
                dtype: e.dtype,
                shape: e.shape,
                len: end - start,
            });
        }
        todo.reverse();
        self.todo = todo;
        self.parsed = true;
        self.head = Vec::new();
        self.finish_tensors()
    }

    /// The decoded file, once every byte has arrived.
    ///
    /// Errors: a file that ended early (naming the tensor it ended in).
    pub fn finish(self) -> Result<WeightFile<'static>, CoreError> {
        if !self.parsed {
            return Err(self.error("the file ended inside its header"));
        }
        if let Some(entry) = self.todo.last() {
            return Err(self.error(format!(
                "the file ended inside tensor `{}` ({} of {} bytes)",
                entry.name,
                self.pending.len(),
                entry.len
            )));
        }
        Ok(WeightFile::decoded(&self.file, self.decoded))
    }
}

/// The bytes of the tensor being received.
#[derive(Debug)]
enum Pending {
    /// Raw bytes, decoded once complete.
    Raw(Vec<u8>),
    /// A little-endian f32 tensor on a little-endian machine: its bytes are its values, written
    /// in place; `filled` bytes have arrived.
    F32 { values: Vec<f32>, filled: usize },
}

impl Default for Pending {
    fn default() -> Self {
        Pending::Raw(Vec::new())
    }
}

impl Pending {
    /// An empty buffer for a tensor of `dtype` and `len` bytes.
    fn for_tensor(dtype: Dtype, len: usize) -> Pending {
        if dtype == Dtype::F32 && cfg!(target_endian = "little") {
            Pending::F32 {
                values: vec![0f32; len / 4],
                filled: 0,
            }
        } else {
            Pending::Raw(Vec::with_capacity(len))
        }
    }

    /// Bytes received so far.
    fn len(&self) -> usize {
        match self {
            Pending::Raw(raw) => raw.len(),
            Pending::F32 { filled, .. } => *filled,
        }
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends `bytes` (no more than the tensor still needs).
    fn extend(&mut self, bytes: &[u8]) {
        match self {
            Pending::Raw(raw) => raw.extend_from_slice(bytes),
            Pending::F32 { values, filled } => {
                let end = *filled + bytes.len();
                bytemuck::cast_slice_mut::<f32, u8>(values)[*filled..end].copy_from_slice(bytes);
                *filled = end;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use safetensors::tensor::TensorView;

    fn file() -> Vec<u8> {
        let a: Vec<u8> = [1.0f32, -2.0, 3.5]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let b: Vec<u8> = [0.5f32, 0.25]
            .iter()
            .flat_map(|&v| half::f16::from_f32(v).to_le_bytes())
            .collect();
        let ids: Vec<u8> = [7i64].iter().flat_map(|v| v.to_le_bytes()).collect();
        let empty: Vec<u8> = Vec::new();
        safetensors::serialize(
            [
                ("a", TensorView::new(Dtype::F32, vec![3], &a).unwrap()),
                ("b", TensorView::new(Dtype::F16, vec![1, 2], &b).unwrap()),
                ("ids", TensorView::new(Dtype::I64, vec![1], &ids).unwrap()),
                ("e", TensorView::new(Dtype::F32, vec![0], &empty).unwrap()),
            ],
            None,
        )
        .unwrap()
    }

    /// Any split of the bytes into chunks decodes to what the whole-file reader reads.
    #[test]
    fn chunked_bytes_decode_like_the_whole_file() {
        let bytes = file();
        let whole = WeightFile::parse("m.safetensors", &bytes).unwrap();
        for size in [1, 3, 8, 9, 50, bytes.len()] {
            let mut stream = WeightStream::new("m.safetensors");
            for chunk in bytes.chunks(size) {
                stream.push(chunk).unwrap();
            }
            let streamed = stream.finish().unwrap();
            let mut names = whole.names();
            names.sort();
            assert_eq!(streamed.names(), names, "chunks of {size}");
            for (name, shape) in [("a", vec![3]), ("b", vec![1, 2]), ("e", vec![0])] {
                assert_eq!(streamed.shape(name), Some(shape.clone()));
                assert_eq!(
                    streamed.read_exact(name, &shape).unwrap(),
                    whole.read_exact(name, &shape).unwrap(),
                    "{name}, chunks of {size}"
                );
            }
            // Unsupported dtypes fail when read, as with the whole file; a second read too.
            assert_eq!(
                streamed.read_exact("ids", &[1]).unwrap_err(),
                whole.read_exact("ids", &[1]).unwrap_err()
            );
            let again = streamed.read_exact("a", &[3]).unwrap_err().to_string();
            assert!(again.contains("read twice"), "{again}");
            assert!(matches!(
                streamed.read_exact("a", &[4]),
                Err(CoreError::TensorShape { .. })
            ));
        }
    }

    #[test]
    fn broken_files_are_errors_naming_what_is_wrong() {
        let bytes = file();
        let run = |b: &[u8]| -> Result<(), CoreError> {
            let mut s = WeightStream::new("m.safetensors");
            s.push(b)?;
            s.finish().map(|_| ())
        };
        let msg = |b: &[u8]| run(b).unwrap_err().to_string();
        assert!(msg(&bytes[..5]).contains("ended inside its header"));
        let cut = msg(&bytes[..bytes.len() - 3]);
        assert!(cut.contains("ended inside tensor `"), "{cut}");
        assert!(cut.contains(" bytes)"), "{cut}");
        let mut long = bytes.clone();
        long.push(0);
        assert!(msg(&long).contains("1 bytes past the end"));
        let mut huge = bytes.clone();
        huge[..8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(msg(&huge).contains("past the format's limit"));
        // Offsets that overlap: the header says `a` starts inside `ids`.
        let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        let header = std::str::from_utf8(&bytes[8..8 + n]).unwrap();
        let bad = header.replacen("[8,20]", "[6,18]", 1);
        assert_ne!(bad, header, "the fixture's offsets: {header}");
        let mut overlap = bytes[..8].to_vec();
        overlap.extend_from_slice(bad.as_bytes());
        overlap.extend_from_slice(&bytes[8 + n..]);
        assert!(
            msg(&overlap).contains("tensor `a`: offsets 6..18 do not follow"),
            "{}",
            msg(&overlap)
        );
        let mut garbage = 4u64.to_le_bytes().to_vec();
        garbage.extend_from_slice(b"{{{{");
        assert!(msg(&garbage).contains("not valid JSON"));
    }
}
