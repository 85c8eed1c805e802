//! Spectral analysis against the torch.func NTK fixtures in `tests/fixtures/ntk/*`
//! (made by `tests/reference/make_ntk.py`; kernels computed in float64, stored as f32).

use std::path::{Path, PathBuf};

use ntk_lens_core::spectrum::{weyl, BlockSet, Kernel, Layout, SpectrumKind, SpectrumOptions};
use safetensors::{Dtype, SafeTensors};

const FIXTURES: [&str; 4] = [
    "bert_cls_qv",
    "bert_cls_qv_b0",
    "roberta_cls_qv",
    "roberta_cls_qv_b0",
];
const BLOCKS: [&str; 4] = [
    "block.0.query",
    "block.0.value",
    "block.1.query",
    "block.1.value",
];

fn fixture_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/ntk")
        .join(name)
}

struct Fixture {
    name: String,
    n: usize,
    c: usize,
    bytes: Vec<u8>,
    /// `eigenvalues_full` from `ntk.json` (float64, descending).
    eigenvalues_f64: Vec<f64>,
}

impl Fixture {
    fn load(name: &str) -> Option<Fixture> {
        let dir = fixture_dir(name);
        let bytes = std::fs::read(dir.join("ntk.safetensors")).ok()?;
        let meta: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("ntk.json")).ok()?).ok()?;
        let eigenvalues_f64 = meta["eigenvalues_full"]
            .as_array()?
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        Some(Fixture {
            name: name.to_string(),
            n: meta["n"].as_u64()? as usize,
            c: meta["C"].as_u64()? as usize,
            bytes,
            eigenvalues_f64,
        })
    }

    /// An f32 tensor upcast to f64, with its shape.
    fn tensor(&self, key: &str) -> (Vec<usize>, Vec<f64>) {
        let st = SafeTensors::deserialize(&self.bytes).unwrap();
        let t = st
            .tensor(key)
            .unwrap_or_else(|e| panic!("{}: {key}: {e}", self.name));
        assert_eq!(t.dtype(), Dtype::F32, "{key}");
        let data = t
            .data()
            .chunks_exact(4)
            .map(|b| f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])))
            .collect();
        (t.shape().to_vec(), data)
    }

    fn kernel(&self, key: &str, layout: Layout) -> Kernel {
        let (shape, data) = self.tensor(key);
        let k = Kernel::from_row_major(self.n, self.c, layout, &data).unwrap();
        assert_eq!(shape, vec![k.dim(), k.dim()], "{key}");
        k
    }
}

fn fixtures() -> Vec<Fixture> {
    // The fixtures are committed with the repository; a missing one is a failure, not a skip.
    FIXTURES
        .iter()
        .map(|n| Fixture::load(n).unwrap_or_else(|| panic!("fixture {n} missing or unreadable")))
        .collect()
}

fn rel_frobenius(a: &Kernel, b: &Kernel) -> f64 {
    let (x, y) = (a.to_row_major(), b.to_row_major());
    let diff: f64 = x.iter().zip(&y).map(|(p, q)| (p - q).powi(2)).sum();
    diff.sqrt() / b.frobenius()
}

#[test]
fn eigenvalues_match_float64_reference() {
    for fx in fixtures() {
        let k = fx.kernel("kernel_full", Layout::Full);
        let opts = SpectrumOptions::for_f32(k.dim());
        let s = k.spectrum(&opts).unwrap();
        assert_eq!(s.kind, SpectrumKind::Eigenvalues, "{}", fx.name);
        let (_, reference) = fx.tensor("eigenvalues_full");
        assert_eq!(s.values.len(), reference.len());
        let scale = s.max;
        for (i, (ours, theirs)) in s.values.iter().zip(&reference).enumerate() {
            assert!(
                (ours - theirs).abs() <= 1e-4 * scale,
                "{} λ_{i}: {ours} vs {theirs}",
                fx.name
            );
        }
        // Against the float64 list in ntk.json: only the f32 storage of K separates them
        // (relative kernel error ≈ 4e-7), so 1e-5 of λ_max is ample.
        for (ours, theirs) in s.values.iter().zip(&fx.eigenvalues_f64) {
            assert!((ours - theirs).abs() <= 1e-5 * scale, "{}", fx.name);
        }
        // The kernels are positive definite here: κ is finite and no clamping happened.
        assert!(s.conditioning[0].kappa.is_some());
        assert_eq!(s.clamp.negative_beyond_tolerance, 0);
    }
}

#[test]
fn blocks_sum_to_the_full_kernel_and_trace_matches() {
    for fx in fixtures() {
        let full = fx.kernel("kernel_full", Layout::Full);
        let mut set = BlockSet::new();
        for b in BLOCKS {
            set.insert(b, fx.kernel(b, Layout::Full)).unwrap();
        }
        let rel = rel_frobenius(&set.total().unwrap(), &full);
        assert!(rel <= 1e-5, "{}: relative Frobenius error {rel:e}", fx.name);

        let trace = fx.kernel("kernel_trace", Layout::Trace);
        let rel = rel_frobenius(&full.to_trace(), &trace);
        assert!(rel <= 1e-5, "{}: trace conversion error {rel:e}", fx.name);
    }
}

#[test]
fn weyl_bounds_hold_for_two_blocks() {
    for fx in fixtures() {
        let ks = fx.kernel("block.0.query", Layout::Full);
        let kl = fx.kernel("block.1.value", Layout::Full);
        let opts = SpectrumOptions::for_f32(ks.dim());
        for lambda in [0.0, 0.1] {
            let r = weyl(&ks, &kl, lambda, &opts).unwrap();
            assert!(r.psd, "{}", fx.name);
            let check = r.check();
            assert!(
                check.relative_violation <= 1e-12,
                "{} λ={lambda}: {check:?}",
                fx.name
            );
            if let Some(v) = check.kappa_violation {
                assert!(v <= 1e-9 * r.kappa_bound.unwrap(), "{}: {check:?}", fx.name);
            }
        }
    }
}

#[test]
fn sign_kernel_is_summarised_by_singular_values() {
    for fx in fixtures() {
        let s = fx.kernel("kernel_sign_full", Layout::Full);
        let opts = SpectrumOptions {
            shifts: vec![0.0, 1.0],
            ..SpectrumOptions::for_f32(s.dim())
        };
        let spec = s.spectrum(&opts).unwrap();
        assert_eq!(spec.kind, SpectrumKind::SingularValues, "{}", fx.name);
        assert!(spec.asymmetry > 1e-3, "{}: {}", fx.name, spec.asymmetry);
        assert!(spec.values.windows(2).all(|w| w[0] >= w[1]));
        assert!(spec.values.iter().all(|v| *v >= 0.0));
        // ‖K‖_F² = Σ σ_i².
        let sum_sq: f64 = spec.values.iter().map(|v| v * v).sum();
        let f = s.frobenius();
        assert!((sum_sq.sqrt() - f).abs() <= 1e-12 * f, "{}", fx.name);
    }
}
