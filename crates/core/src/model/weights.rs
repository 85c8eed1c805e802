//! Reading tensors out of safetensors bytes: dtype upcast to f32, name lookup with optional
//! prefixes, and shape checks that name the tensor. The bytes are a whole file, or tensors
//! already decoded as a download arrived ([`super::weight_stream::WeightStream`]).

use std::cell::RefCell;
use std::collections::BTreeMap;

use burn::prelude::*;
use burn::tensor::TensorData;
use safetensors::{Dtype, SafeTensors};

use crate::CoreError;

/// A parsed safetensors file with a label for error messages.
pub struct WeightFile<'a> {
    file: String,
    source: Source<'a>,
}

/// Where a [`WeightFile`]'s tensors are.
enum Source<'a> {
    /// In the borrowed bytes of the whole file.
    Bytes(SafeTensors<'a>),
    /// Decoded to f32 while the file arrived; each is handed out once (moved, not copied).
    Decoded(RefCell<BTreeMap<String, Decoded>>),
}

/// A tensor decoded by a [`super::weight_stream::WeightStream`].
#[derive(Debug)]
pub(crate) struct Decoded {
    /// Its shape.
    pub shape: Vec<usize>,
    /// Its values (`None` once read), or why they cannot be used (a dtype this tool cannot
    /// read, a value that is not finite).
    pub values: Result<Option<Vec<f32>>, CoreError>,
}

impl<'a> WeightFile<'a> {
    /// Parses safetensors `bytes`; `file` names the file in errors (e.g. `model.safetensors`).
    /// Truncated or corrupt files give [`CoreError::Safetensors`].
    pub fn parse(file: &str, bytes: &'a [u8]) -> Result<Self, CoreError> {
        let tensors = SafeTensors::deserialize(bytes).map_err(|e| CoreError::Safetensors {
            file: file.to_string(),
            message: e.to_string(),
        })?;
        Ok(WeightFile {
            file: file.to_string(),
            source: Source::Bytes(tensors),
        })
    }

    /// A file whose tensors were decoded as it arrived.
    pub(crate) fn decoded(file: &str, tensors: BTreeMap<String, Decoded>) -> WeightFile<'static> {
        WeightFile {
            file: file.to_string(),
            source: Source::Decoded(RefCell::new(tensors)),
        }
    }

    /// The file label given to [`WeightFile::parse`].
    pub fn file(&self) -> &str {
        &self.file
    }

    /// All tensor names in the file.
    pub fn names(&self) -> Vec<String> {
        match &self.source {
            Source::Bytes(t) => t.names().into_iter().map(String::from).collect(),
            Source::Decoded(t) => t.borrow().keys().cloned().collect(),
        }
    }

    /// True when the file holds a tensor of exactly this name.
    pub fn contains(&self, name: &str) -> bool {
        self.shape(name).is_some()
    }

    /// The first of `candidates` present in the file, if any.
    pub fn find<'n>(&self, candidates: &'n [String]) -> Option<&'n str> {
        candidates
            .iter()
            .map(String::as_str)
            .find(|n| self.contains(n))
    }

    /// Reads the tensor stored under the first present name of `candidates`, checks its shape
    /// and upcasts it to f32. `candidates[0]` is the name reported when none is present.
    pub fn read(&self, candidates: &[String], expected: &[usize]) -> Result<Vec<f32>, CoreError> {
        let name = self
            .find(candidates)
            .ok_or_else(|| CoreError::MissingTensor {
                file: self.file.clone(),
                name: candidates.first().cloned().unwrap_or_default(),
                expected: expected.to_vec(),
            })?;
        self.read_exact(name, expected)
    }

    /// Reads the tensor `name`, checks its shape and upcasts it to f32. A decoded file hands
    /// each tensor out once.
    pub fn read_exact(&self, name: &str, expected: &[usize]) -> Result<Vec<f32>, CoreError> {
        let missing = || CoreError::MissingTensor {
            file: self.file.clone(),
            name: name.to_string(),
            expected: expected.to_vec(),
        };
        let found = self.shape(name).ok_or_else(missing)?;
        if found != expected {
            return Err(CoreError::TensorShape {
                file: self.file.clone(),
                name: name.to_string(),
                expected: expected.to_vec(),
                found,
            });
        }
        match &self.source {
            Source::Bytes(t) => {
                let view = t.tensor(name).map_err(|_| missing())?;
                upcast(&self.file, name, view.dtype(), view.data())
            }
            Source::Decoded(t) => {
                let mut t = t.borrow_mut();
                match &mut t.get_mut(name).ok_or_else(missing)?.values {
                    Ok(values) => values.take().ok_or_else(|| CoreError::Safetensors {
                        file: self.file.clone(),
                        message: format!("tensor `{name}` was read twice"),
                    }),
                    Err(e) => Err(e.clone()),
                }
            }
        }
    }

    /// The shape of tensor `name`, if present.
    pub fn shape(&self, name: &str) -> Option<Vec<usize>> {
        match &self.source {
            Source::Bytes(t) => t.tensor(name).ok().map(|v| v.shape().to_vec()),
            Source::Decoded(t) => t.borrow().get(name).map(|d| d.shape.clone()),
        }
    }
}

fn unsupported(file: &str, name: &str, dtype: Dtype) -> CoreError {
    CoreError::Safetensors {
        file: file.to_string(),
        message: format!("tensor `{name}` has dtype {dtype:?}; expected F32, F16, BF16 or F64"),
    }
}

/// The little-endian `data` of tensor `name` of `file` as f32 (F32, F16, BF16 and F64); a
/// value that is not finite (NaN, ±∞, or an F64 past f32's range) is an error naming it.
pub(crate) fn upcast(
    file: &str,
    name: &str,
    dtype: Dtype,
    data: &[u8],
) -> Result<Vec<f32>, CoreError> {
    let out: Vec<f32> = match dtype {
        Dtype::F32 => decode(data, f32::from_le_bytes),
        Dtype::F16 => decode(data, |b| half::f16::from_le_bytes(b).to_f32()),
        Dtype::BF16 => decode(data, |b| half::bf16::from_le_bytes(b).to_f32()),
        Dtype::F64 => decode(data, |b| f64::from_le_bytes(b) as f32),
        other => return Err(unsupported(file, name, other)),
    };
    check_finite(file, name, &out)?;
    Ok(out)
}

/// `Ok` when every value of tensor `name` of `file` is finite, else an error naming the first
/// that is not.
pub(crate) fn check_finite(file: &str, name: &str, values: &[f32]) -> Result<(), CoreError> {
    // A branch-free pass over every value first (it vectorises); the index only on failure.
    let all_finite = values
        .chunks(4096)
        .all(|c| c.iter().fold(true, |ok, v| ok & v.is_finite()));
    if all_finite {
        return Ok(());
    }
    let i = values.iter().position(|v| !v.is_finite()).unwrap_or(0);
    let what = if values[i].is_nan() {
        "a NaN"
    } else {
        "an infinite value"
    };
    Err(CoreError::Safetensors {
        file: file.to_string(),
        message: format!("tensor `{name}` holds {what} at index {i}; weights must be finite"),
    })
}

/// Each `N`-byte little-endian value of `data` through `convert`, into a vector allocated once
/// (a loop the compiler vectorises; collecting from a chunk iterator did not, and decoding was a
/// quarter of loading a model).
fn decode<const N: usize>(data: &[u8], convert: impl Fn([u8; N]) -> f32) -> Vec<f32> {
    let mut out = vec![0f32; data.len() / N];
    for (o, c) in out.iter_mut().zip(data.chunks_exact(N)) {
        let mut bytes = [0u8; N];
        bytes.copy_from_slice(c);
        *o = convert(bytes);
    }
    out
}

/// A rank-`D` float tensor on `device` from row-major host values.
pub fn tensor_from_vec<const D: usize>(
    values: Vec<f32>,
    shape: [usize; D],
    device: &Device,
) -> Tensor<D> {
    Tensor::<D>::from_data(TensorData::new(values, shape), device)
}

#[cfg(test)]
mod tests {
    use super::*;
    use safetensors::tensor::TensorView;

    fn file_with(dtype: Dtype, shape: Vec<usize>, data: &[u8]) -> Vec<u8> {
        let view = TensorView::new(dtype, shape, data).unwrap();
        safetensors::serialize([("w", view)], None).unwrap()
    }

    #[test]
    fn upcasts_f16_bf16_and_f64() {
        let vals = [1.5f32, -0.25, 3.0];
        let f16: Vec<u8> = vals
            .iter()
            .flat_map(|&v| half::f16::from_f32(v).to_le_bytes())
            .collect();
        let bf16: Vec<u8> = vals
            .iter()
            .flat_map(|&v| half::bf16::from_f32(v).to_le_bytes())
            .collect();
        let f64b: Vec<u8> = vals
            .iter()
            .flat_map(|&v| (v as f64).to_le_bytes())
            .collect();
        for (dt, bytes) in [(Dtype::F16, f16), (Dtype::BF16, bf16), (Dtype::F64, f64b)] {
            let file = file_with(dt, vec![3], &bytes);
            let w = WeightFile::parse("t.safetensors", &file).unwrap();
            assert_eq!(w.read_exact("w", &[3]).unwrap(), vals, "{dt:?}");
        }
    }

    #[test]
    fn shape_and_missing_errors_name_the_tensor() {
        let data: Vec<u8> = [1.0f32, 2.0].iter().flat_map(|v| v.to_le_bytes()).collect();
        let file = file_with(Dtype::F32, vec![2], &data);
        let w = WeightFile::parse("m.safetensors", &file).unwrap();
        assert_eq!(
            w.read_exact("w", &[3]),
            Err(CoreError::TensorShape {
                file: "m.safetensors".into(),
                name: "w".into(),
                expected: vec![3],
                found: vec![2],
            })
        );
        let e = w.read(&["bert.x".into(), "x".into()], &[2]).unwrap_err();
        assert!(
            matches!(&e, CoreError::MissingTensor { name, .. } if name == "bert.x"),
            "{e}"
        );
        assert_eq!(w.read(&["v".into(), "w".into()], &[2]).unwrap(), [1.0, 2.0]);
    }

    #[test]
    fn truncated_and_garbage_files_are_typed_errors() {
        let data: Vec<u8> = [1.0f32, 2.0].iter().flat_map(|v| v.to_le_bytes()).collect();
        let file = file_with(Dtype::F32, vec![2], &data);
        for cut in [0, 4, 8, 12, file.len() - 1] {
            let e = WeightFile::parse("m.safetensors", &file[..cut])
                .err()
                .unwrap();
            assert!(matches!(e, CoreError::Safetensors { .. }), "cut {cut}: {e}");
        }
        let e = WeightFile::parse("m.safetensors", &[0xff; 64])
            .err()
            .unwrap();
        assert!(matches!(e, CoreError::Safetensors { .. }), "{e}");
    }

    #[test]
    fn non_finite_weights_are_refused_naming_the_tensor() {
        for (v, what) in [
            (f32::NAN, "a NaN"),
            (f32::NEG_INFINITY, "an infinite value"),
        ] {
            let data: Vec<u8> = [1.0f32, v].iter().flat_map(|x| x.to_le_bytes()).collect();
            let file = file_with(Dtype::F32, vec![2], &data);
            let w = WeightFile::parse("m.safetensors", &file).unwrap();
            let e = w.read_exact("w", &[2]).unwrap_err().to_string();
            assert!(
                e.contains(&format!("tensor `w` holds {what} at index 1")),
                "{e}"
            );
        }
        let big: Vec<u8> = [1e300f64].iter().flat_map(|x| x.to_le_bytes()).collect();
        let file = file_with(Dtype::F64, vec![1], &big);
        let w = WeightFile::parse("m.safetensors", &file).unwrap();
        assert!(
            w.read_exact("w", &[1]).is_err(),
            "1e300 does not fit in f32"
        );
    }

    #[test]
    fn integer_tensors_are_rejected_when_read_as_weights() {
        let data: Vec<u8> = [1i64, 2].iter().flat_map(|v| v.to_le_bytes()).collect();
        let file = file_with(Dtype::I64, vec![2], &data);
        let w = WeightFile::parse("m.safetensors", &file).unwrap();
        assert!(matches!(
            w.read_exact("w", &[2]),
            Err(CoreError::Safetensors { .. })
        ));
    }
}
