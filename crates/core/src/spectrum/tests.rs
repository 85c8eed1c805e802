//! Tests of the spectral analysis on matrices with known spectra and on seeded random PSD
//! matrices.

use faer::Mat;

use super::*;
use crate::test_rng::SplitMix64;
use crate::CoreError;

fn trace_kernel(m: Mat<f64>) -> Kernel {
    let n = m.nrows();
    Kernel::from_mat(n, 1, Layout::Trace, m).unwrap()
}

fn diag(values: &[f64]) -> Kernel {
    let n = values.len();
    trace_kernel(Mat::from_fn(
        n,
        n,
        |i, j| if i == j { values[i] } else { 0.0 },
    ))
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

#[test]
fn spectrum_of_diagonal_matrix() {
    let s = diag(&[3.0, 1.0, 2.0])
        .spectrum(&SpectrumOptions {
            shifts: vec![0.0, 1.0],
            ..Default::default()
        })
        .unwrap();
    assert_eq!(s.kind, SpectrumKind::Eigenvalues);
    for (v, e) in s.values.iter().zip([3.0, 2.0, 1.0]) {
        assert!(close(*v, e, 1e-14), "{:?}", s.values);
    }
    assert_eq!((s.max, s.min), (s.values[0], s.values[2]));
    assert!(close(s.conditioning[0].kappa.unwrap(), 3.0, 1e-13));
    // κ_1 = (3 + 1)/(1 + 1) = 2.
    assert!(close(s.conditioning[1].kappa.unwrap(), 2.0, 1e-13));
    assert!(close(s.effective_rank_trace, 2.0, 1e-14));
    // p = (1/2, 1/3, 1/6).
    let h: f64 = [0.5_f64, 1.0 / 3.0, 1.0 / 6.0]
        .iter()
        .map(|p| -p * p.ln())
        .sum();
    assert!(close(s.effective_rank_entropy, h.exp(), 1e-13));
    assert_eq!(s.clamp.clamped, 0);
    assert_eq!(s.clamp.most_negative, None);
}

#[test]
fn spectrum_of_tridiagonal_matrix() {
    // [[2,-1,0],[-1,2,-1],[0,-1,2]] has eigenvalues 2 + √2, 2, 2 − √2.
    let m = Mat::from_fn(3, 3, |i, j| match i.abs_diff(j) {
        0 => 2.0,
        1 => -1.0,
        _ => 0.0,
    });
    let s = trace_kernel(m)
        .spectrum(&SpectrumOptions::default())
        .unwrap();
    let r2 = 2.0_f64.sqrt();
    for (v, e) in s.values.iter().zip([2.0 + r2, 2.0, 2.0 - r2]) {
        assert!(close(*v, e, 1e-14), "{:?}", s.values);
    }
    let k = s.conditioning[0].kappa.unwrap();
    assert!(close(k, (2.0 + r2) / (2.0 - r2), 1e-12));
    let c = s.conditioning_at(0.5).unwrap();
    assert!(close(c.kappa.unwrap(), (2.5 + r2) / (2.5 - r2), 1e-12));
}

#[test]
fn rank_deficient_spectrum_is_singular_at_zero_and_finite_with_shift() {
    let mut rng = SplitMix64::new(7);
    let k = trace_kernel(rng.psd(8, 3));
    let s = k
        .spectrum(&SpectrumOptions {
            shifts: vec![0.0, 0.25],
            ..Default::default()
        })
        .unwrap();
    let at0 = &s.conditioning[0];
    assert!(at0.numerically_singular);
    assert_eq!(at0.kappa, None);
    // The 5 null eigenvalues are within round-off of 0.
    assert!(s.values[3..]
        .iter()
        .all(|v| v.abs() <= 8.0 * f64::EPSILON * s.max));
    let at = &s.conditioning[1];
    assert!(!at.numerically_singular);
    let expect = (s.max + 0.25) / (s.min + 0.25);
    assert!(close(at.kappa.unwrap(), expect, 1e-12 * expect));
    assert!(close(
        at.kappa.unwrap(),
        (s.max + 0.25) / 0.25,
        1e-10 * expect
    ));
    // Kernel::conditioning agrees with the summary.
    let direct = k.conditioning(0.25, &SpectrumOptions::default()).unwrap();
    assert!(close(
        direct.kappa.unwrap(),
        at.kappa.unwrap(),
        1e-12 * expect
    ));
    assert!(s.effective_rank_trace <= 3.0 + 1e-12);
    assert!(s.effective_rank_entropy <= 3.0 + 1e-12);
}

#[test]
fn round_off_negatives_are_clamped_and_reported() {
    let s = diag(&[1.0, -1e-17, 0.5])
        .spectrum(&SpectrumOptions::default())
        .unwrap();
    assert_eq!(s.values, vec![1.0, 0.5, 0.0]);
    assert_eq!(s.clamp.clamped, 1);
    assert_eq!(s.clamp.most_negative, Some(-1e-17));
    assert_eq!(s.clamp.negative_beyond_tolerance, 0);

    let s = diag(&[1.0, -0.1])
        .spectrum(&SpectrumOptions::default())
        .unwrap();
    assert!(close(s.values[0], 1.0, 1e-15) && close(s.values[1], -0.1, 1e-15));
    assert_eq!(s.clamp.negative_beyond_tolerance, 1);
    let c = s.conditioning_at(0.05).unwrap();
    assert!(c.indefinite);
    assert!(close(c.kappa.unwrap(), 1.05 / 0.05, 1e-12));
}

#[test]
fn asymmetric_kernel_uses_singular_values() {
    // [[1,2],[0,1]] has singular values √2 + 1, √2 − 1.
    let k = Kernel::from_row_major(2, 1, Layout::Trace, &[1.0, 2.0, 0.0, 1.0]).unwrap();
    assert!(close(k.asymmetry(), 1.0, 0.0));
    let s = k
        .spectrum(&SpectrumOptions {
            shifts: vec![0.0, 1.0],
            ..Default::default()
        })
        .unwrap();
    assert_eq!(s.kind, SpectrumKind::SingularValues);
    let r2 = 2.0_f64.sqrt();
    assert!(close(s.values[0], r2 + 1.0, 1e-14) && close(s.values[1], r2 - 1.0, 1e-14));
    assert!(close(
        s.conditioning[0].kappa.unwrap(),
        (r2 + 1.0) / (r2 - 1.0),
        1e-12
    ));
    // K + I = [[2,2],[0,2]]: singular values √5 + 1, √5 − 1.
    let r5 = 5.0_f64.sqrt();
    assert!(close(
        s.conditioning[1].kappa.unwrap(),
        (r5 + 1.0) / (r5 - 1.0),
        1e-12
    ));
    assert!(s.conditioning_at(1.0).is_err());
    // Forcing eigenvalues decomposes the symmetric part [[1,1],[1,1]]: 2, 0.
    let e = k
        .spectrum(&SpectrumOptions {
            method: SpectrumMethod::Eigen,
            ..Default::default()
        })
        .unwrap();
    assert!(close(e.values[0], 2.0, 1e-14) && close(e.values[1], 0.0, 1e-14));
}

#[test]
fn trace_layout_conversion() {
    let (n, c) = (3, 2);
    let mut rng = SplitMix64::new(11);
    let full = Kernel::from_mat(n, c, Layout::Full, rng.matrix(n * c, n * c)).unwrap();
    let tr = full.to_trace();
    assert_eq!((tr.layout(), tr.dim(), tr.classes()), (Layout::Trace, 3, 2));
    let m = full.matrix();
    for i in 0..n {
        for j in 0..n {
            let expect = m[(2 * i, 2 * j)] + m[(2 * i + 1, 2 * j + 1)];
            assert_eq!(tr.matrix()[(i, j)], expect);
        }
    }
    assert_eq!(tr.to_trace(), tr);
    // The trace of the matrix is preserved.
    assert!(close(tr.trace(), full.trace(), 1e-14));
}

#[test]
fn alignment_is_one_for_target_gram() {
    let labels = [0, 2, 1, 2];
    let (n, c) = (4, 3);
    let zero = Kernel::from_mat(n, c, Layout::Full, Mat::zeros(n * c, n * c)).unwrap();
    let target = one_hot_target(&zero, &labels).unwrap();
    let k = Kernel::from_mat(n, c, Layout::Full, target).unwrap();
    let a = label_alignment(&k, &labels).unwrap();
    assert!(close(a.alignment, 1.0, 1e-15));
    assert!(close(a.centred.unwrap(), 1.0, 1e-14));
    // Its class trace is YYᵀ and aligns perfectly in the trace layout.
    let t = label_alignment(&k.to_trace(), &labels).unwrap();
    assert!(close(t.alignment, 1.0, 1e-15));
    // One class only: T = 11ᵀ, A(I, T) = 3/(√3·3) = 1/√3; the centred target is 0.
    let a = label_alignment(&diag(&[1.0, 1.0, 1.0]), &[0, 0, 0]).unwrap();
    assert!(close(a.alignment, 1.0 / 3.0_f64.sqrt(), 1e-15));
    assert_eq!(a.centred, None);
    // K = I (trace) against labels [0,0,1]: ⟨I, T⟩ = 3, ‖I‖ = √3, ‖T‖ = √5.
    let i3 = Kernel::from_mat(3, 2, Layout::Trace, Mat::identity(3, 3)).unwrap();
    let a = label_alignment(&i3, &[0, 0, 1]).unwrap();
    assert!(close(a.alignment, 3.0 / 15.0_f64.sqrt(), 1e-15));
    // A real target vector: K = yyᵀ aligns with y.
    let y = [0.5, -1.0, 2.0];
    let k = trace_kernel(Mat::from_fn(3, 3, |i, j| y[i] * y[j]));
    assert!(close(
        vector_alignment(&k, &y).unwrap().alignment,
        1.0,
        1e-15
    ));
    assert!(vector_alignment(&k, &y[..2]).is_err());
}

#[test]
fn weyl_bounds_hold_on_random_psd_matrices() {
    let mut rng = SplitMix64::new(2024);
    for trial in 0..30 {
        let dim = 4 + trial % 9;
        let rank_s = 1 + (trial * 7) % dim;
        let rank_l = 1 + (trial * 3) % dim;
        let ks = trace_kernel(rng.psd(dim, rank_s));
        let kl = trace_kernel(rng.psd(dim, rank_l));
        let lambda = [0.0, 1e-3, 0.5][trial % 3];
        let r = weyl(&ks, &kl, lambda, &SpectrumOptions::default()).unwrap();
        assert!(r.psd);
        let check = r.check();
        assert!(
            check.relative_violation <= 1e-13,
            "trial {trial}: {check:?}"
        );
        if let Some(v) = check.kappa_violation {
            assert!(
                v <= 1e-9 * r.kappa_bound.unwrap(),
                "trial {trial}: {check:?}"
            );
        }
        // Full rank sum at λ = 0 must have a finite κ and bound when both blocks are full rank.
        if rank_s == dim && rank_l == dim {
            assert!(r.kappa_bound.is_some());
        }
        if lambda > 0.0 {
            assert!(r.kappa_sum.is_some() && r.kappa_bound.is_some());
        }
    }
}

#[test]
fn weyl_bounds_are_tight_for_commuting_diagonals() {
    // diag(3,2,1) + diag(1,1,1): λ_i(sum) = λ_i(S) + 1 exactly, both bounds attained.
    let r = weyl(
        &diag(&[3.0, 2.0, 1.0]),
        &diag(&[1.0, 1.0, 1.0]),
        0.0,
        &SpectrumOptions::default(),
    )
    .unwrap();
    assert_eq!(r.sum, vec![4.0, 3.0, 2.0]);
    assert_eq!(r.lower, r.sum);
    assert_eq!(r.upper, r.sum);
    assert_eq!(r.kappa_bound, Some(2.0));
    assert_eq!(r.check().worst_violation, 0.0);
    // A deliberately wrong report is caught.
    let mut bad = r.clone();
    bad.sum[1] = 3.5;
    let c = bad.check();
    assert_eq!(c.worst_index, Some(1));
    assert!(close(c.worst_violation, 0.5, 1e-15));
}

/// The Layer selection tab's "Adding a block can only raise every eigenvalue μ (Weyl's
/// inequalities bound by how much), but it need not lower κ: the largest eigenvalue can rise
/// more than the smallest."
#[test]
fn adding_a_block_raises_every_eigenvalue_but_need_not_lower_kappa() {
    let opts = SpectrumOptions::default();
    // diag(1, 1) + diag(1, 0): μ = (1, 1) → (2, 1); the largest rises by 1, the smallest by 0,
    // and κ goes from 1 to 2.
    let r = weyl(&diag(&[1.0, 1.0]), &diag(&[1.0, 0.0]), 0.0, &opts).unwrap();
    assert_eq!(r.base, vec![1.0, 1.0]);
    assert_eq!(r.sum, vec![2.0, 1.0]);
    assert_eq!((r.kappa_base, r.kappa_sum), (Some(1.0), Some(2.0)));
    // On random PSD blocks every eigenvalue of the sum is at least the one it replaces (the
    // lower Weyl bound μ_i(K_S) + μ_min(K_l) ≥ μ_i(K_S)), and κ rises in some trials.
    let mut rng = SplitMix64::new(7);
    let mut kappa_rose = 0;
    for trial in 0..40 {
        let dim = 3 + trial % 6;
        let ks = trace_kernel(rng.psd(dim, dim));
        let kl = trace_kernel(rng.psd(dim, 1 + trial % dim));
        let r = weyl(&ks, &kl, 0.0, &opts).unwrap();
        let scale = r.sum[0];
        for (i, (s, b)) in r.sum.iter().zip(&r.base).enumerate() {
            assert!(s - b >= -1e-12 * scale, "trial {trial}, μ_{i}: {b} → {s}");
        }
        if let (Some(before), Some(after)) = (r.kappa_base, r.kappa_sum) {
            if after > before {
                kappa_rose += 1;
            }
        }
    }
    assert!(kappa_rose > 0, "κ never rose in 40 trials");
}

#[test]
fn block_set_sums_and_selection() {
    let mut set = BlockSet::new();
    set.insert("a", diag(&[1.0, 0.0, 0.0])).unwrap();
    set.insert("b", diag(&[0.0, 1.0, 0.0])).unwrap();
    set.insert("c", diag(&[0.0, 0.0, 1.0])).unwrap();
    set.insert("d", diag(&[10.0, 0.0, 0.0])).unwrap();
    assert!(set.insert("a", diag(&[1.0, 1.0, 1.0])).is_err());
    assert!(set.insert("e", diag(&[1.0, 1.0])).is_err());
    assert_eq!(set.total().unwrap(), diag(&[11.0, 1.0, 1.0]));
    assert_eq!(set.sum(&["b", "d"]).unwrap(), diag(&[10.0, 1.0, 0.0]));
    assert!(set.sum::<&str>(&[]).is_err());
    assert!(set.sum(&["a", "a"]).is_err());
    assert!(set.sum(&["zz"]).is_err());

    let opts = SpectrumOptions::default();
    let sel = set.greedy(3, Objective::MinKappa, 0.1, &opts).unwrap();
    // Step 1: κ(a)=κ(b)=κ(c)=11 < κ(d)=101; step 2: a+b (11) beats a+d (111); step 3: κ = 1.
    assert_eq!(sel.chosen(), vec!["a", "b", "c"]);
    assert!(close(
        sel.steps[0].score.conditioning.kappa.unwrap(),
        11.0,
        1e-12
    ));
    assert!(close(
        sel.steps[2].score.conditioning.kappa.unwrap(),
        1.0,
        1e-12
    ));
    assert_eq!(sel.steps[1].candidates.len(), 3);
    let sel = set.greedy(2, Objective::MaxLambdaMin, 0.0, &opts).unwrap();
    assert!(close(sel.steps[1].score.lambda_min, 0.0, 0.0));
    assert!(set.greedy(0, Objective::MinKappa, 0.1, &opts).is_err());
    assert!(set.greedy(5, Objective::MinKappa, 0.1, &opts).is_err());
    assert!(set.greedy(1, Objective::MinKappa, -1.0, &opts).is_err());

    let top = set.top_by_trace(2).unwrap();
    assert_eq!(top[0], ("d".to_string(), 10.0));
    assert_eq!(top[1].0, "a");
    let singles = set.singles(0.1, &opts).unwrap();
    assert_eq!(singles.len(), 4);
    assert!(close(singles[3].conditioning.kappa.unwrap(), 101.0, 1e-10));
    assert!(close(singles[3].lambda_max, 10.1, 1e-14));
}

#[test]
fn greedy_scores_match_direct_subset_scores() {
    let mut rng = SplitMix64::new(99);
    let mut set = BlockSet::new();
    for b in 0..5 {
        let k = Kernel::from_mat(3, 2, Layout::Full, rng.psd(6, 2)).unwrap();
        set.insert(format!("layer{b}.query"), k).unwrap();
    }
    let opts = SpectrumOptions::default();
    for obj in [Objective::MinKappa, Objective::MaxLambdaMin] {
        let sel = set.greedy(4, obj, 0.01, &opts).unwrap();
        for step in &sel.steps {
            let direct = set.score(&step.score.blocks, 0.01, &opts).unwrap();
            let k1 = direct.key(obj);
            let k2 = step.score.key(obj);
            assert!(close(k1, k2, 1e-12 * k1.abs().max(1.0)));
            // The chosen candidate is the best of its step.
            assert!(step.candidates.iter().all(|c| c.key(obj) <= k2));
        }
    }
}

#[test]
fn bad_inputs_are_typed_errors() {
    assert!(matches!(
        Kernel::from_row_major(2, 2, Layout::Full, &[0.0; 15]),
        Err(CoreError::DimensionMismatch { .. })
    ));
    assert!(matches!(
        Kernel::from_row_major(1, 1, Layout::Trace, &[f64::NAN]),
        Err(CoreError::NonFinite(_))
    ));
    assert!(Kernel::from_row_major(0, 1, Layout::Trace, &[]).is_err());
    let k = diag(&[1.0, 2.0]);
    for bad in [-1.0, f64::NAN, f64::INFINITY] {
        assert!(k
            .spectrum(&SpectrumOptions {
                shifts: vec![bad],
                ..Default::default()
            })
            .is_err());
        assert!(k.conditioning(bad, &SpectrumOptions::default()).is_err());
    }
    let full = Kernel::from_mat(1, 2, Layout::Full, Mat::identity(2, 2)).unwrap();
    assert!(k.add(&full).is_err());
    assert!(weyl(&k, &full, 0.0, &SpectrumOptions::default()).is_err());
    let asym = Kernel::from_row_major(2, 1, Layout::Trace, &[1.0, 2.0, 0.0, 1.0]).unwrap();
    assert!(weyl(&asym, &asym, 0.0, &SpectrumOptions::default()).is_err());
    assert!(label_alignment(&k, &[0]).is_err());
    assert!(label_alignment(&k, &[0, 1]).is_err()); // C = 1: label 1 out of range
    let opts = SpectrumOptions {
        rel_tol: Some(2.0),
        ..Default::default()
    };
    assert!(k.spectrum(&opts).is_err());
}

#[test]
fn spectrum_serde_round_trip() {
    let mut rng = SplitMix64::new(5);
    let s = trace_kernel(rng.psd(5, 2))
        .spectrum(&SpectrumOptions::default())
        .unwrap();
    let json = serde_json::to_string(&s).unwrap();
    let back: Spectrum = serde_json::from_str(&json).unwrap();
    // serde_json may round a float by 1 ulp on parsing.
    assert_eq!(back.values.len(), s.values.len());
    for (a, b) in back.values.iter().zip(&s.values) {
        assert!(close(*a, *b, 4.0 * f64::EPSILON * s.max));
    }
    assert_eq!((back.kind, back.layout), (s.kind, s.layout));
    assert_eq!(back.clamp.clamped, s.clamp.clamped);
    let (a, b) = (
        back.clamp.most_negative.unwrap(),
        s.clamp.most_negative.unwrap(),
    );
    assert!(close(a, b, 4.0 * f64::EPSILON * b.abs()));
    assert_eq!(back.conditioning[0].kappa, None);
}
