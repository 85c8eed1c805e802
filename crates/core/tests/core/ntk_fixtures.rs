//! The empirical NTK against torch.func (`tests/reference/make_ntk.py`: jacrev over the LoRA
//! parameters of transformers + peft models, computed in float64, stored as float32).
//!
//! Tolerances: kernels relative Frobenius error ≤ 1e-4 and top eigenvalues ≤ 1e-4 relative (the
//! issue's bound; the fixture's own f32-vs-f64 kernel difference is ~1e-7 relative, so 1e-4
//! leaves room for summation order but catches any missing or mis-scaled block). Fast path vs
//! reference path and chunking invariance: 1e-5 relative (both f32 on the same backend).
#![cfg(not(target_family = "wasm"))]

use crate::common::{fixtures, Expected};
use ntk_lens_core::block_on;
use ntk_lens_core::burn::prelude::*;
use ntk_lens_core::device::cpu_device;
use ntk_lens_core::model::peft::load_adapter_dir;
use ntk_lens_core::model::Model;
use ntk_lens_core::ntk::jacobian::chunk_jacobian;
use ntk_lens_core::ntk::reference::sample_jacobian;
use ntk_lens_core::ntk::{KernelKind, NtkBlocks, NtkBuilder, NtkOptions, ParamSet};
use ntk_lens_core::readback::read_f32;
use ntk_lens_core::spectrum::SpectrumOptions;
use ntk_lens_core::steps::Stepwise;
use ntk_lens_core::tokenize::Encoded;

const N: usize = 5;

fn rel_frob(a: &[f64], b: &[f32]) -> f64 {
    assert_eq!(a.len(), b.len());
    let num: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - f64::from(*y)).powi(2))
        .sum();
    let den: f64 = b.iter().map(|y| f64::from(*y).powi(2)).sum();
    (num / den.max(1e-300)).sqrt()
}

fn rel_frob64(a: &[f64], b: &[f64]) -> f64 {
    let num: f64 = a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum();
    let den: f64 = b.iter().map(|y| y.powi(2)).sum();
    (num / den.max(1e-300)).sqrt()
}

/// The model with the fixture's adapter (B zeroed for the `_b0` fixtures) and the fixture's
/// token ids.
fn setup(model: &str, zero_b: bool) -> (Model, Vec<Encoded>, Expected) {
    let device = cpu_device();
    let mut m = Model::from_dir(fixtures().join("models").join(model), &device).unwrap();
    load_adapter_dir(&mut m, fixtures().join(format!("adapters/{model}_qv"))).unwrap();
    if zero_b {
        for s in m.lora_sites() {
            let l = m.lora_mut(s).unwrap();
            l.b = Tensor::<2>::zeros(l.b.dims(), &device);
        }
    }
    let name = format!("{model}_qv{}", if zero_b { "_b0" } else { "" });
    let exp = Expected::open(fixtures().join(format!("ntk/{name}/ntk.safetensors")));
    let samples = (0..N)
        .map(|i| {
            let ids = exp.ids(&format!("input_ids.{i}"));
            Encoded {
                type_ids: vec![0; ids.len()],
                ids,
            }
        })
        .collect();
    (m, samples, exp)
}

fn compute(model: &Model, train: &[Encoded], eval: &[Encoded], opts: NtkOptions) -> NtkBlocks {
    block_on(NtkBuilder::new(model, train, eval, opts).unwrap().run()).unwrap()
}

fn check_against_fixture(model: &str, zero_b: bool) {
    let (m, samples, exp) = setup(model, zero_b);
    // Chunks of 2: several chunks, with padding inside each.
    let opts = NtkOptions {
        chunk_size: 2,
        ..NtkOptions::default()
    };
    let ntk = compute(&m, &samples, &[], opts.clone());
    let total = ntk.total().unwrap();
    let e = rel_frob(&total.to_row_major(), &exp.f32("kernel_full"));
    eprintln!("{model} b0={zero_b}: kernel_full rel Frobenius error {e:.2e}");
    assert!(e <= 1e-4, "{e}");
    let e = rel_frob(&total.to_trace().to_row_major(), &exp.f32("kernel_trace"));
    assert!(e <= 1e-4, "trace {e}");
    for name in ntk.train.names() {
        let want = exp.f32(name);
        let got = ntk.train.get(name).unwrap().to_row_major();
        let scale: f64 = want.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>();
        if scale == 0.0 {
            assert!(got.iter().all(|v| v.abs() < 1e-12), "{name} should vanish");
        } else {
            let e = rel_frob(&got, &want);
            assert!(e <= 1e-4, "{name}: {e}");
        }
    }
    assert_eq!(ntk.train.len(), 4, "layers 0,1 × query,value");
    let spec = total.spectrum(&SpectrumOptions::default()).unwrap();
    let want = exp.f32("eigenvalues_full");
    for (k, (g, w)) in spec.values.iter().zip(&want).take(3).enumerate() {
        let rel = (g - f64::from(*w)).abs() / f64::from(want[0]);
        assert!(rel <= 1e-4, "eigenvalue {k}: {g} vs {w}");
    }
    // Initial logits.
    let logits = exp.f32("logits");
    for (g, w) in ntk.f0_train.iter().zip(&logits) {
        assert!((g - f64::from(*w)).abs() <= 1e-5, "{g} vs {w}");
    }
    // The sign kernel (asymmetric: second argument through the smooth sign).
    let sign = compute(
        &m,
        &samples,
        &[],
        NtkOptions {
            kernel: KernelKind::Sign,
            ..opts
        },
    );
    let s = sign.total().unwrap();
    let e = rel_frob(&s.to_row_major(), &exp.f32("kernel_sign_full"));
    eprintln!("{model} b0={zero_b}: kernel_sign_full rel Frobenius error {e:.2e}");
    assert!(e <= 1e-4, "sign {e}");
    if !zero_b {
        assert!(s.asymmetry() > 1e-3, "the sign kernel is not symmetric");
    }
}

#[test]
fn bert_kernel_matches_torch_func() {
    check_against_fixture("bert_cls", false);
}

#[test]
fn roberta_kernel_matches_torch_func() {
    check_against_fixture("roberta_cls", false);
}

#[test]
fn at_peft_init_only_b_blocks_contribute_and_match() {
    check_against_fixture("bert_cls", true);
    check_against_fixture("roberta_cls", true);
}

/// The fast path (one pass per chunk) equals the per-sample, per-class autodiff path, for the
/// LoRA blocks and for the head (factored `g ⊗ z` for BERT, two parts for RoBERTa).
#[test]
fn fast_path_equals_reference_path() {
    for model in ["bert_cls", "roberta_cls"] {
        let (m, samples, _) = setup(model, false);
        let fast = block_on(chunk_jacobian(
            &m,
            &samples,
            &NtkOptions {
                params: ParamSet::LoraAndHead,
                ..NtkOptions::default()
            },
        ))
        .unwrap();
        let classes = m.head.as_ref().unwrap().num_classes();
        let mut worst = 0f32;
        let mut scale = 0f32;
        for (i, s) in samples.iter().enumerate() {
            let reference = block_on(sample_jacobian(&m, s, ParamSet::LoraAndHead)).unwrap();
            assert_eq!(reference.len(), fast.blocks.len());
            for (b, want) in reference.iter().enumerate() {
                let f = fast.blocks[b].materialise();
                let p = f.dims()[1];
                assert_eq!(want.len(), classes * p, "block {b}");
                let rows = block_on(read_f32(f.narrow(0, i * classes, classes))).unwrap();
                for (x, y) in rows.iter().zip(want) {
                    worst = worst.max((x - y).abs());
                    scale = scale.max(y.abs());
                }
            }
        }
        eprintln!("{model}: fast vs reference Jacobian max |Δ| {worst:.2e} (max |J| {scale:.2e})");
        assert!(scale > 1e-3);
        assert!(worst <= 1e-5 * scale.max(1.0), "{worst}");
    }
}

/// Chunk size (hence batching and padding) does not change the kernel; the cross kernel equals
/// the corresponding block of a kernel over all samples; the plain head block from the factored
/// form equals the materialised one.
#[test]
fn chunking_cross_kernels_and_head_blocks_are_consistent() {
    let (m, samples, _) = setup("roberta_cls", false);
    let all = |chunk: usize, kind: KernelKind| {
        compute(
            &m,
            &samples,
            &[],
            NtkOptions {
                chunk_size: chunk,
                kernel: kind,
                params: ParamSet::LoraAndHead,
                blocks: None,
            },
        )
    };
    for kind in [KernelKind::Plain, KernelKind::Sign] {
        let one = all(1, kind).total().unwrap().to_row_major();
        let five = all(5, kind).total().unwrap().to_row_major();
        let three = all(3, kind).total().unwrap().to_row_major();
        assert!(rel_frob64(&one, &five) <= 1e-5, "{kind:?}");
        assert!(rel_frob64(&three, &five) <= 1e-5, "{kind:?}");
    }
    let full = all(2, KernelKind::Plain);
    let c = full.classes;
    let split = compute(
        &m,
        &samples[..3],
        &samples[3..],
        NtkOptions {
            chunk_size: 2,
            params: ParamSet::LoraAndHead,
            ..NtkOptions::default()
        },
    );
    let k = full.total().unwrap().to_row_major();
    let cross = split.cross_total();
    let (n, dim) = (3 * c, N * c);
    assert_eq!(cross.len(), 2 * c * n);
    let want: Vec<f64> = (n..dim)
        .flat_map(|r| (0..n).map(move |col| (r, col)))
        .map(|(r, col)| k[r * dim + col])
        .collect();
    assert!(rel_frob64(&cross, &want) <= 1e-5);
    for (g, w) in split.f0_eval.iter().zip(&full.f0_train[n..]) {
        assert!((g - w).abs() < 1e-5);
    }
    // The serde form round-trips (kernels through f32).
    let back = NtkBlocks::from_data(&split.to_data()).unwrap();
    assert_eq!(back.train.names(), split.train.names());
    let (a, b) = (
        back.total().unwrap().to_row_major(),
        split.total().unwrap().to_row_major(),
    );
    assert!(rel_frob64(&a, &b) <= 1e-6);
    assert_eq!(back.cross_total().len(), cross.len());
    let mut bad = split.to_data();
    bad.cross.pop();
    assert!(NtkBlocks::from_data(&bad).is_err());
    // The head block is the head's own NTK: positive, and part of the total.
    let head = full.train.get("head").unwrap();
    assert!(head.trace() > 0.0);
    assert_eq!(full.param_counts.len(), 5);
}

/// The builder sorts samples by length before chunking: handing it the samples in another order
/// gives the same kernel with rows and columns in that order (plain and sign, train and cross,
/// logits), to f32 round-off. The fixture's ids have different lengths, so the sort reorders.
#[test]
fn sample_order_only_permutes_the_kernel() {
    let (m, samples, _) = setup("roberta_cls", false);
    let lengths: Vec<usize> = samples.iter().map(|s| s.ids.len()).collect();
    assert!(lengths.windows(2).any(|w| w[0] != w[1]), "{lengths:?}");
    // perm[k] = the original index of the train sample placed at k; sample 4 is the eval one.
    let perm = [3usize, 0, 2, 1];
    let permuted: Vec<Encoded> = perm.iter().map(|&i| samples[i].clone()).collect();
    for kind in [KernelKind::Plain, KernelKind::Sign] {
        let opts = NtkOptions {
            chunk_size: 2,
            kernel: kind,
            ..NtkOptions::default()
        };
        let a = compute(&m, &samples[..4], &samples[4..], opts.clone());
        let b = compute(&m, &permuted, &samples[4..], opts);
        let c = a.classes;
        let (ka, kb) = (
            a.total().unwrap().to_row_major(),
            b.total().unwrap().to_row_major(),
        );
        let dim = 4 * c;
        let mut worst = 0f64;
        let scale = ka.iter().fold(0f64, |m, v| m.max(v.abs()));
        for (k, &i) in perm[..4].iter().enumerate() {
            for (l, &j) in perm[..4].iter().enumerate() {
                for x in 0..c {
                    for y in 0..c {
                        let got = kb[(k * c + x) * dim + l * c + y];
                        let want = ka[(i * c + x) * dim + j * c + y];
                        worst = worst.max((got - want).abs());
                    }
                }
            }
            for x in 0..c {
                let (g, w) = (b.f0_train[k * c + x], a.f0_train[i * c + x]);
                assert!((g - w).abs() < 1e-5, "logit {k}: {g} vs {w}");
            }
        }
        assert!(worst <= 1e-5 * scale, "{kind:?}: {worst} (scale {scale})");
        // The eval sample against the permuted train columns.
        let (ca, cb) = (a.cross_total(), b.cross_total());
        for (l, &j) in perm[..4].iter().enumerate() {
            for x in 0..c {
                for y in 0..c {
                    let got = cb[x * dim + l * c + y];
                    let want = ca[x * dim + j * c + y];
                    assert!((got - want).abs() <= 1e-5 * scale, "cross {kind:?}");
                }
            }
        }
    }
}

/// At PEFT initialisation (B = 0) the builder never forms the zero `A` columns; the kernel is
/// the same as from the full materialised Jacobian.
#[test]
fn zero_b_blocks_skip_the_a_columns_exactly() {
    use ntk_lens_core::ntk::factor::{gram, BlockFactor};
    use ntk_lens_core::ntk::jacobian::{chunk_jacobian_with, zero_b_sites};
    let (m, samples, _) = setup("bert_cls", true);
    let opts = NtkOptions::default();
    let zero = block_on(zero_b_sites(&m, &opts)).unwrap();
    assert_eq!(zero, vec![true; 4]);
    let (mb, _, _) = setup("bert_cls", false);
    assert_eq!(block_on(zero_b_sites(&mb, &opts)).unwrap(), vec![false; 4]);
    let full = block_on(chunk_jacobian(&m, &samples, &opts)).unwrap();
    let lean = block_on(chunk_jacobian_with(&m, &samples, &opts, &zero)).unwrap();
    for (f, l) in full.blocks.iter().zip(&lean.blocks) {
        assert!(matches!(l, BlockFactor::ZeroLead { .. }));
        assert_eq!(f.params(), l.params());
        let (jf, jl) = (
            block_on(read_f32(f.materialise())).unwrap(),
            block_on(read_f32(l.materialise())).unwrap(),
        );
        assert_eq!(jf, jl);
        for kind in [KernelKind::Plain, KernelKind::Sign] {
            let (kf, kl) = (
                block_on(read_f32(gram(f, f, kind))).unwrap(),
                block_on(read_f32(gram(l, l, kind))).unwrap(),
            );
            let scale = kf.iter().fold(0f32, |m, v| m.max(v.abs()));
            assert!(scale > 0.0);
            for (x, y) in kf.iter().zip(&kl) {
                assert!((x - y).abs() <= 1e-6 * scale, "{kind:?}: {x} vs {y}");
            }
        }
    }
}

#[test]
fn bad_requests_are_errors_not_panics() {
    let (mut m, samples, _) = setup("bert_cls", false);
    assert!(NtkBuilder::new(&m, &[], &[], NtkOptions::default()).is_err());
    let zero = NtkOptions {
        chunk_size: 0,
        ..NtkOptions::default()
    };
    assert!(NtkBuilder::new(&m, &samples, &[], zero).is_err());
    let empty = Encoded {
        ids: vec![],
        type_ids: vec![],
    };
    assert!(NtkBuilder::new(&m, &[empty], &[], NtkOptions::default()).is_err());
    m.remove_lora();
    let e = NtkBuilder::new(&m, &samples, &[], NtkOptions::default())
        .err()
        .unwrap();
    assert!(e.to_string().contains("LoRA"), "{e}");
    m.head = None;
    assert!(NtkBuilder::new(&m, &samples, &[], NtkOptions::default()).is_err());
}

/// A one-output head (regression, C = 1; tests/reference/make_regression.py): the kernel is
/// n × n, and the full kernel, the trace kernel (the same matrix when C = 1), every LoRA block,
/// the sign kernel, all eigenvalues and the initial outputs equal torch.func's. Tolerances as in
/// `check_against_fixture`: kernels 1e-4 relative Frobenius (torch's own f32 run is 3.7e-7 from
/// its f64 reference; the smallest block is 1.1 % of ‖K‖, so a missing block fails), eigenvalues
/// 1e-4·λ_max (Weyl), outputs 1e-5.
#[test]
fn regression_head_kernel_matches_torch_func() {
    let (m, samples, exp) = setup("bert_reg", false);
    assert_eq!(m.head.as_ref().unwrap().num_classes(), 1, "num_labels = 1");
    // Chunks of 2: several chunks, with padding inside each (text lengths 9, 4, 20, 20, 10).
    let opts = NtkOptions {
        chunk_size: 2,
        ..NtkOptions::default()
    };
    let ntk = compute(&m, &samples, &[], opts.clone());
    assert_eq!((ntk.n, ntk.classes), (N, 1));
    assert_eq!(ntk.params(), 1024, "8 LoRA tensors of 128");
    assert_eq!(ntk.f0_train.len(), N);

    let total = ntk.total().unwrap();
    let k = total.to_row_major();
    assert_eq!(k.len(), N * N);
    assert_eq!(exp.shape("kernel_full"), vec![N, N]);
    let e = rel_frob(&k, &exp.f32("kernel_full"));
    eprintln!("bert_reg: kernel_full rel Frobenius error {e:.2e}");
    assert!(e <= 1e-4, "{e}");
    // C = 1: summing over the (single) class changes nothing.
    let trace = total.to_trace().to_row_major();
    assert_eq!(trace, k);
    let e = rel_frob(&trace, &exp.f32("kernel_trace"));
    assert!(e <= 1e-4, "trace {e}");

    // Per-block kernels: layers 0,1 × query,value, each the sum of its lora_A and lora_B kernels.
    let mut names: Vec<&str> = ntk.train.names().iter().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "block.0.query",
            "block.0.value",
            "block.1.query",
            "block.1.value"
        ]
    );
    for name in ntk.train.names() {
        let want = exp.f32(name);
        assert_eq!(want.len(), N * N, "{name}");
        let got = ntk.train.get(name).unwrap().to_row_major();
        let e = rel_frob(&got, &want);
        eprintln!("bert_reg: {name} rel Frobenius error {e:.2e}");
        assert!(e <= 1e-4, "{name}: {e}");
    }

    // Eigenvalues, descending; all n of them.
    let spec = total.spectrum(&SpectrumOptions::default()).unwrap();
    let want = exp.f32("eigenvalues_full");
    assert_eq!((spec.values.len(), want.len()), (N, N));
    for (idx, (g, w)) in spec.values.iter().zip(&want).enumerate() {
        let rel = (g - f64::from(*w)).abs() / f64::from(want[0]);
        assert!(rel <= 1e-4, "eigenvalue {idx}: {g} vs {w}");
    }

    // Initial outputs (one per sample), with the adapter and the head from the adapter file.
    let logits = exp.f32("logits");
    assert_eq!(logits.len(), N);
    for (g, w) in ntk.f0_train.iter().zip(&logits) {
        assert!((g - f64::from(*w)).abs() <= 1e-5, "{g} vs {w}");
    }

    // The sign kernel: n × n, asymmetric (max|S − Sᵀ| / max|S| = 0.18 in the fixture).
    let sign = compute(
        &m,
        &samples,
        &[],
        NtkOptions {
            kernel: KernelKind::Sign,
            ..opts
        },
    );
    let s = sign.total().unwrap();
    let e = rel_frob(&s.to_row_major(), &exp.f32("kernel_sign_full"));
    eprintln!("bert_reg: kernel_sign_full rel Frobenius error {e:.2e}");
    assert!(e <= 1e-4, "sign {e}");
    assert!(s.asymmetry() > 1e-3, "the sign kernel is not symmetric");
}
