//! Shared helpers of the fixture tests: the fixture folder and a reader for the reference
//! tensors (`expected.safetensors`, `ntk.safetensors`, …) written by `tests/reference/`.

use std::path::PathBuf;

use ntk_lens_core::model::TokenBatch;
use safetensors::{Dtype, SafeTensors};

/// `tests/fixtures` of the repository.
pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

/// Reads a file or panics with its path.
pub fn read(path: &PathBuf) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The expected tensors of one fixture file.
pub struct Expected {
    bytes: Vec<u8>,
}

impl Expected {
    pub fn open(path: PathBuf) -> Self {
        Expected { bytes: read(&path) }
    }

    pub fn st(&self) -> SafeTensors<'_> {
        SafeTensors::deserialize(&self.bytes).unwrap()
    }

    pub fn has(&self, name: &str) -> bool {
        self.st().tensor(name).is_ok()
    }

    pub fn shape(&self, name: &str) -> Vec<usize> {
        self.st().tensor(name).unwrap().shape().to_vec()
    }

    pub fn f32(&self, name: &str) -> Vec<f32> {
        let st = self.st();
        let t = st.tensor(name).unwrap_or_else(|_| panic!("no {name}"));
        assert_eq!(t.dtype(), Dtype::F32, "{name}");
        t.data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    }

    pub fn ids(&self, name: &str) -> Vec<u32> {
        let st = self.st();
        let t = st.tensor(name).unwrap_or_else(|_| panic!("no {name}"));
        assert_eq!(t.dtype(), Dtype::I64, "{name}");
        t.data()
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) as u32)
            .collect()
    }

    /// The batch stored under `prefix` (`batch` or `single.<i>`).
    pub fn batch(&self, prefix: &str) -> TokenBatch {
        let shape = self.shape(&format!("{prefix}.input_ids"));
        let types = format!("{prefix}.token_type_ids");
        TokenBatch::new(
            shape[0],
            shape[1],
            self.ids(&format!("{prefix}.input_ids")),
            self.ids(&format!("{prefix}.attention_mask")),
            self.has(&types).then(|| self.ids(&types)),
        )
        .unwrap()
    }
}
