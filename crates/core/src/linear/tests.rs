//! Tests of the linearized model against explicit gradient descent on an explicit random linear
//! model `f̄(x) = f0 + J0 δ`, for which `K = J0 J0ᵀ` is known exactly.

use faer::linalg::solvers::Solve;
use faer::{Mat, Scale, Side};

use super::*;
use crate::spectrum::{Kernel, Layout, SpectrumOptions};
use crate::test_rng::SplitMix64;
use crate::CoreError;

/// An explicit linear model: `n` samples, `C` classes, `P` parameters.
struct Problem {
    n: usize,
    c: usize,
    /// Train Jacobian `J0` `[nC × P]`.
    j: Mat<f64>,
    /// Eval Jacobian `J*` `[mC × P]`.
    j_eval: Mat<f64>,
    f0: Vec<f64>,
    f0_eval: Vec<f64>,
    y: Vec<f64>,
}

impl Problem {
    fn new(seed: u64, n: usize, c: usize, p: usize, m: usize) -> Self {
        let mut rng = SplitMix64::new(seed);
        let j = rng.matrix(n * c, p);
        let j_eval = rng.matrix(m * c, p);
        let f0 = (0..n * c).map(|_| rng.symmetric()).collect();
        let f0_eval = (0..m * c).map(|_| rng.symmetric()).collect();
        let y = (0..n * c).map(|_| rng.symmetric()).collect();
        Problem {
            n,
            c,
            j,
            j_eval,
            f0,
            f0_eval,
            y,
        }
    }

    fn kernel(&self) -> Kernel {
        Kernel::from_mat(self.n, self.c, Layout::Full, &self.j * self.j.transpose()).unwrap()
    }

    /// Row-major `K(x*, X) = J* J0ᵀ`.
    fn cross(&self) -> Vec<f64> {
        let k = &self.j_eval * self.j.transpose();
        (0..k.nrows())
            .flat_map(|r| (0..k.ncols()).map(move |s| (r, s)))
            .map(|(r, s)| k[(r, s)])
            .collect()
    }

    fn fit(&self, lambda: f64) -> KernelRidge {
        KernelRidge::fit(
            &self.kernel(),
            &self.f0,
            &self.y,
            lambda,
            &SpectrumOptions::default(),
        )
        .unwrap()
    }

    /// `J δ` for a matrix `J`.
    fn apply(j: &Mat<f64>, delta: &[f64]) -> Vec<f64> {
        (0..j.nrows())
            .map(|r| (0..j.ncols()).map(|k| j[(r, k)] * delta[k]).sum())
            .collect()
    }

    /// Residual `r = Y − f0 − J0 δ`.
    fn residual(&self, delta: &[f64]) -> Vec<f64> {
        let jd = Self::apply(&self.j, delta);
        (0..self.y.len())
            .map(|r| self.y[r] - self.f0[r] - jd[r])
            .collect()
    }

    /// One explicit step `δ ← δ − η[J0ᵀ(f̄ − Y) + λδ] = δ − η[−J0ᵀ r + λδ]`.
    fn gd_step(&self, delta: &mut [f64], eta: f64, lambda: f64) {
        let r = self.residual(delta);
        for (k, d) in delta.iter_mut().enumerate() {
            let jt_r: f64 = (0..r.len()).map(|i| self.j[(i, k)] * r[i]).sum();
            *d -= eta * (-jt_r + lambda * *d);
        }
    }
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .fold(0.0_f64, |m, (x, y)| m.max((x - y).abs()))
}

#[test]
fn closed_form_equals_long_explicit_gradient_descent() {
    // P < nC (singular K) and P > nC (K positive definite).
    for (seed, p) in [(1_u64, 8_usize), (2, 30)] {
        let prob = Problem::new(seed, 6, 2, p, 4);
        let lambda = 0.3;
        let model = prob.fit(lambda);
        let eta = 1.0 / (model.eigenvalues()[0] + lambda);
        let mut delta = vec![0.0; p];
        for _ in 0..6000 {
            prob.gd_step(&mut delta, eta, lambda);
        }
        // θ̄* − θ0 = J0ᵀ α.
        let alpha = model.alpha();
        let delta_star: Vec<f64> = (0..p)
            .map(|k| (0..alpha.len()).map(|i| prob.j[(i, k)] * alpha[i]).sum())
            .collect();
        assert!(max_diff(&delta, &delta_star) <= 1e-8, "p = {p}");
        // Train predictions f0 + Kα = f0 + J0 δ*.
        let explicit_train: Vec<f64> = Problem::apply(&prob.j, &delta)
            .iter()
            .zip(&prob.f0)
            .map(|(a, b)| a + b)
            .collect();
        assert!(max_diff(&model.train_predictions(), &explicit_train) <= 1e-8);
        // Eval predictions f0(x*) + K(x*, X) α = f0(x*) + J* δ*.
        let explicit_eval: Vec<f64> = Problem::apply(&prob.j_eval, &delta)
            .iter()
            .zip(&prob.f0_eval)
            .map(|(a, b)| a + b)
            .collect();
        let eval = model.predict(&prob.cross(), &prob.f0_eval).unwrap();
        assert!(max_diff(&eval, &explicit_eval) <= 1e-8);
        // Residual and losses at the optimum.
        let fit = model.summary();
        let r = prob.residual(&delta);
        assert!(max_diff(&fit.train_residual, &r) <= 1e-8);
        assert!((fit.data_loss - 0.5 * norm(&r).powi(2)).abs() <= 1e-8);
        let prox = 0.5 * lambda * norm(&delta).powi(2);
        assert!((fit.proximal_loss - prox).abs() <= 1e-8);
        let mu = model.eigenvalues();
        let kappa = (mu[0] + lambda) / (mu[mu.len() - 1] + lambda);
        assert!((fit.condition_number - kappa).abs() <= 1e-12 * kappa);
    }
}

#[test]
fn trajectory_formula_equals_explicit_gradient_descent_step_by_step() {
    let prob = Problem::new(3, 5, 3, 9, 2);
    let lambda = 0.05;
    let model = prob.fit(lambda);
    // Close to the stability edge, so the stiff modes oscillate (q_i < 0).
    let eta = 0.95 * model.max_stable_step();
    let mut delta = vec![0.0; 9];
    let cross = prob.cross();
    let scale = norm(model.residual0());
    let steps: Vec<u64> = (0..=60).collect();
    let traj = model.trajectory(eta, &steps).unwrap();
    assert!(traj.stable && traj.contraction < 1.0);
    for t in 0..=60_u64 {
        let r_explicit = prob.residual(&delta);
        let r_formula = model.residual_at(eta, t).unwrap();
        assert!(
            max_diff(&r_explicit, &r_formula) <= 1e-12 * scale,
            "t = {t}"
        );
        let step = &traj.steps[t as usize];
        let data = 0.5 * norm(&r_explicit).powi(2);
        let dist = norm(&delta);
        assert!(
            (step.data_loss - data).abs() <= 1e-12 * data.max(1.0),
            "t = {t}"
        );
        assert!(
            (step.param_distance - dist).abs() <= 1e-12 * dist.max(1.0),
            "t = {t}"
        );
        let prox = 0.5 * lambda * dist * dist;
        assert!((step.proximal_loss - prox).abs() <= 1e-12 * prox.max(1.0));
        assert!((step.total_loss - data - prox).abs() <= 1e-12 * (data + prox).max(1.0));
        // θ̄_t − θ0 = J0ᵀ β_t and the eval predictions along the way.
        let beta = model.dual_coefficients_at(eta, t).unwrap();
        let delta_beta: Vec<f64> = (0..9)
            .map(|k| (0..beta.len()).map(|i| prob.j[(i, k)] * beta[i]).sum())
            .collect();
        assert!(max_diff(&delta, &delta_beta) <= 1e-12 * dist.max(1.0));
        let eval = model.predict_at(eta, t, &cross, &prob.f0_eval).unwrap();
        let explicit_eval: Vec<f64> = Problem::apply(&prob.j_eval, &delta)
            .iter()
            .zip(&prob.f0_eval)
            .map(|(a, b)| a + b)
            .collect();
        assert!(max_diff(&eval, &explicit_eval) <= 1e-11);
        prob.gd_step(&mut delta, eta, lambda);
    }
    // The total loss never increases under a stable step (convex quadratic, η < 2/L).
    for w in traj.steps.windows(2) {
        assert!(w[1].total_loss <= w[0].total_loss * (1.0 + 1e-12));
    }
    let limit = traj.limit.unwrap();
    let fit = model.summary();
    assert!((limit.data_loss - fit.data_loss).abs() <= 1e-14 * fit.data_loss.max(1.0));
    assert!((limit.proximal_loss - fit.proximal_loss).abs() <= 1e-14);
}

#[test]
fn unstable_step_is_flagged_and_diverges() {
    let prob = Problem::new(4, 4, 2, 12, 1);
    let model = prob.fit(0.1);
    let eta = 1.05 * model.max_stable_step();
    let traj = model.trajectory(eta, &[0, 200]).unwrap();
    assert!(!traj.stable && traj.limit.is_none());
    assert!(traj.steps[1].data_loss > 1e3 * traj.steps[0].data_loss);
    // Huge step counts do not overflow the exponent.
    let stable = model.trajectory(0.5 * model.max_stable_step(), &[u64::MAX / 2]);
    let last = &stable.unwrap().steps[0];
    assert!((last.data_loss - model.summary().data_loss).abs() <= 1e-12);
}

#[test]
fn parameter_distance_formula_matches_explicit_solution_and_bound() {
    for (seed, p) in [(5_u64, 7_usize), (6, 40)] {
        let prob = Problem::new(seed, 6, 2, p, 1);
        for lambda in [1e-3, 0.1, 1.0, 100.0] {
            let model = prob.fit(lambda);
            // Explicit δ* from the primal normal equations (J0ᵀJ0 + λI) δ = J0ᵀ r0 (Cholesky).
            let r0 = model.residual0();
            let gram = prob.j.transpose() * &prob.j + Mat::<f64>::identity(p, p) * Scale(lambda);
            let rhs = Mat::from_fn(p, 1, |k, _| {
                (0..r0.len()).map(|i| prob.j[(i, k)] * r0[i]).sum::<f64>()
            });
            let solved = gram.llt(Side::Lower).unwrap().solve(&rhs);
            let delta: Vec<f64> = (0..p).map(|k| solved[(k, 0)]).collect();
            // The dual route agrees: δ* = J0ᵀ α.
            let alpha = model.alpha();
            let dual: Vec<f64> = (0..p)
                .map(|k| (0..alpha.len()).map(|i| prob.j[(i, k)] * alpha[i]).sum())
                .collect();
            let explicit = norm(&delta);
            assert!(
                max_diff(&dual, &delta) <= 1e-9 * explicit.max(1.0),
                "λ = {lambda}"
            );
            let formula = model.param_distance_sq().sqrt();
            // With P < nC, K has nC − P null eigenvalues that the eigensolver returns as
            // round-off (|μ| ≤ nC·ε·μ_max) and the fit keeps (so that κ(K + λI) matches the NTK
            // report); each adds at most μ c²/λ² to ‖δ‖².
            let null_sq =
                12.0 * f64::EPSILON * model.eigenvalues()[0] * norm(r0).powi(2) / (lambda * lambda);
            assert!(
                (formula * formula - explicit * explicit).abs()
                    <= 1e-10 * explicit.powi(2).max(1e-24) + null_sq,
                "λ = {lambda}: {formula} vs {explicit}"
            );
            let bound = model.param_distance_bound();
            assert!((bound - norm(r0) / (2.0 * lambda.sqrt())).abs() <= 1e-14 * bound);
            assert!(formula <= bound);
            let fit = model.summary();
            assert!((fit.param_distance - formula).abs() <= 1e-14 * formula.max(1.0));
            assert_eq!(fit.rank, p.min(12));
        }
    }
}

#[test]
fn bad_inputs_are_typed_errors() {
    let prob = Problem::new(8, 3, 2, 4, 1);
    let k = prob.kernel();
    let o = SpectrumOptions::default();
    for bad in [0.0, -1.0, f64::NAN] {
        assert!(KernelRidge::fit(&k, &prob.f0, &prob.y, bad, &o).is_err());
    }
    assert!(matches!(
        KernelRidge::fit(&k, &prob.f0[..5], &prob.y, 1.0, &o),
        Err(CoreError::DimensionMismatch { .. })
    ));
    let mut nan = prob.y.clone();
    nan[2] = f64::NAN;
    assert!(matches!(
        KernelRidge::fit(&k, &prob.f0, &nan, 1.0, &o),
        Err(CoreError::NonFinite(_))
    ));
    // Not PSD: −I.
    let neg = Kernel::from_mat(3, 2, Layout::Full, Mat::<f64>::identity(6, 6) * Scale(-1.0));
    assert!(matches!(
        KernelRidge::fit(&neg.unwrap(), &prob.f0, &prob.y, 1.0, &o),
        Err(CoreError::Numerical(_))
    ));
    // Asymmetric.
    let mut m = k.matrix().clone();
    m[(0, 1)] += 1.0;
    let asym = Kernel::from_mat(3, 2, Layout::Full, m).unwrap();
    assert!(KernelRidge::fit(&asym, &prob.f0, &prob.y, 1.0, &o).is_err());
    let model = prob.fit(1.0);
    for eta in [0.0, -0.1, f64::NAN] {
        assert!(model.trajectory(eta, &[1]).is_err());
        assert!(model.residual_at(eta, 1).is_err());
    }
    assert!(model.predict(&[0.0; 5], &[0.0]).is_err());
    assert!(model.predict(&[f64::NAN; 6], &[0.0]).is_err());
}

#[test]
fn ridge_fit_serde_round_trip() {
    let prob = Problem::new(9, 3, 2, 4, 1);
    let fit = prob.fit(0.5).summary();
    let back: RidgeFit = serde_json::from_str(&serde_json::to_string(&fit).unwrap()).unwrap();
    // serde_json may round a float by 1 ulp on parsing.
    assert!(max_diff(&back.alpha, &fit.alpha) <= 4.0 * f64::EPSILON * norm(&fit.alpha));
    assert!((back.param_distance - fit.param_distance).abs() <= 4.0 * f64::EPSILON);
    assert_eq!(back.clamp, fit.clamp);
}

#[test]
fn gated_trajectory_equals_explicit_gradient_descent_with_the_gate() {
    // P < nC: K is singular, as LoRA kernels of many samples are not.
    let prob = Problem::new(5, 6, 2, 9, 3);
    let mut gate_switched = false;
    for lambda in [0.05, 0.5] {
        let model = prob.fit(lambda);
        // Near the stability edge the stiff modes overshoot, so the gate's sign changes.
        let eta = 0.95 * model.max_stable_step();
        let steps = 80;
        let gated = model.gated_trajectory(eta, steps).unwrap();
        assert_eq!(gated.steps.len(), steps as usize + 1);
        let mut delta = vec![0.0; 9];
        let mut gates = Vec::new();
        for t in 0..=steps as usize {
            let r = prob.residual(&delta);
            let data = 0.5 * norm(&r).powi(2);
            let dist = norm(&delta);
            let s = &gated.steps[t];
            assert!(
                (s.data_loss - data).abs() <= 1e-10 * data.max(1.0),
                "t = {t}"
            );
            assert!(
                (s.param_distance - dist).abs() <= 1e-10 * dist.max(1.0),
                "t = {t}"
            );
            if t == steps as usize {
                assert!(max_diff(&gated.residual, &r) <= 1e-10 * norm(&r).max(1.0));
                let via_dual: Vec<f64> = (0..9)
                    .map(|k| {
                        (0..gated.dual.len())
                            .map(|i| prob.j[(i, k)] * gated.dual[i])
                            .sum()
                    })
                    .collect();
                assert!(max_diff(&via_dual, &delta) <= 1e-10 * dist.max(1.0));
                break;
            }
            // The trainer's gate: ⟨∇ ½‖f − y‖², δ⟩ = ⟨−J0ᵀ r, δ⟩ ≥ 0.
            let grad: Vec<f64> = (0..9)
                .map(|k| -(0..r.len()).map(|i| prob.j[(i, k)] * r[i]).sum::<f64>())
                .collect();
            let inner: f64 = grad.iter().zip(&delta).map(|(g, d)| g * d).sum();
            let on = inner >= 0.0;
            gates.push(on);
            for (d, g) in delta.iter_mut().zip(&grad) {
                *d -= eta * (g + if on { lambda * *d } else { 0.0 });
            }
        }
        assert_eq!(gates, gated.gate, "λ = {lambda}");
        assert_eq!(gated.gate_steps(), gates.iter().filter(|&&g| g).count());
        gate_switched |= gates[1..].iter().any(|&g| g) && gates.iter().any(|&g| !g);
    }
    assert!(
        gate_switched,
        "the test never exercised both states of the gate"
    );
}

#[test]
fn ridge_condition_number_equals_the_spectrum_report_at_the_same_lambda() {
    // K = Q diag(μ) Qᵀ with a Householder Q; the two smallest eigenvalues lie below the f32
    // round-off tolerance τ·μ_max (τ = 6·ε_f32 ≈ 7e-7) yet set κ(K + λI) at λ = 1e-6.
    let mu = [1.0, 1e-2, 1e-3, 1e-4, 3e-7, 1e-8];
    let v = [0.3, -0.5, 0.2, 0.7, -0.1, 0.4];
    let vv: f64 = v.iter().map(|x| x * x).sum();
    let q = Mat::from_fn(6, 6, |i, j| {
        f64::from(u8::from(i == j)) - 2.0 * v[i] * v[j] / vv
    });
    let k = Mat::from_fn(6, 6, |i, j| {
        (0..6).map(|l| q[(i, l)] * mu[l] * q[(j, l)]).sum()
    });
    let kernel = Kernel::from_mat(3, 2, Layout::Full, k).unwrap();
    let f0 = vec![0.0; 6];
    let y = vec![1.0, 0.0, 0.0, 1.0, 1.0, 0.0];
    for lambda in [1e-6, 1e-3, 1.0] {
        let opts = SpectrumOptions {
            shifts: vec![lambda],
            ..SpectrumOptions::for_f32(6)
        };
        let report = kernel.spectrum(&opts).unwrap().conditioning[0]
            .kappa
            .unwrap();
        let ridge = KernelRidge::fit(&kernel, &f0, &y, lambda, &opts).unwrap();
        let exact = (1.0 + lambda) / (1e-8 + lambda);
        assert!(
            (ridge.condition_number() - report).abs() <= 1e-6 * report,
            "λ = {lambda}"
        );
        // Both within the eigensolver's round-off (1e-16 · μ_max) of the exact value.
        assert!(
            (report - exact).abs() <= 1e-6 * exact,
            "λ = {lambda}: {report} vs {exact}"
        );
        assert_eq!(ridge.summary().rank, 4);
    }
}

/// Explicit gradient descent on the explicit linear model, projected on the kernel's
/// eigenvectors, leaves exactly the fractions `λ/(μ_i+λ) + μ_i/(μ_i+λ)·(1 − η(μ_i+λ))^T` of the
/// start residual: the actual side of `residual_by_eigen` (a projection of any outputs) equals
/// its linear side when the outputs are the linear model's.
#[test]
fn residual_by_eigen_of_explicit_gradient_descent_is_the_closed_form() {
    let prob = Problem::new(21, 5, 2, 7, 0);
    let lambda = 0.3;
    let ridge = prob.fit(lambda);
    let eta = 0.5 / (ridge.eigenvalues()[0] + lambda);
    let steps = 40;
    let mut delta = vec![0.0; 7];
    for _ in 0..steps {
        prob.gd_step(&mut delta, eta, lambda);
    }
    let f_t: Vec<f64> = Problem::apply(&prob.j, &delta)
        .iter()
        .zip(&prob.f0)
        .map(|(jd, f0)| f0 + jd)
        .collect();
    let r = ridge.residual_by_eigen(eta, steps, &f_t).unwrap();
    assert_eq!(r.eigenvalues, ridge.eigenvalues());
    let mut compared = 0;
    for (i, &mu) in r.eigenvalues.iter().enumerate() {
        let q = 1.0 - eta * (mu + lambda);
        let formula = lambda / (mu + lambda) + mu / (mu + lambda) * q.powi(steps as i32);
        assert!((r.linear[i] - formula).abs() <= 1e-12, "mode {i}");
        assert!((r.floor[i] - lambda / (mu + lambda)).abs() <= 1e-15);
        if let Some(a) = r.actual[i] {
            assert!((a - formula).abs() <= 1e-9, "mode {i}: GD {a} vs {formula}");
            compared += 1;
        }
    }
    // K = J Jᵀ has rank 7 < 10: the null directions have μ = 0 and keep all of their residual.
    assert!(compared >= 7, "{compared}");
    assert!(r.linear.iter().all(|&f| f > 0.0 && f <= 1.0 + 1e-12));
    // The start residual's shares along an orthonormal basis: squares summing to 1, each the
    // projection's size, recomputed here from the eigenvectors.
    let r0 = ridge.residual0();
    let norm0 = r0.iter().map(|v| v * v).sum::<f64>().sqrt();
    assert_eq!(r.start_share.len(), 10);
    assert!((r.start_share.iter().map(|s| s * s).sum::<f64>() - 1.0).abs() < 1e-12);
    for (i, share) in r.start_share.iter().enumerate() {
        let proj: f64 = (0..10).map(|k| ridge.eigen.vectors[(k, i)] * r0[k]).sum();
        assert!((share - proj.abs() / norm0).abs() < 1e-12, "mode {i}");
    }
    assert!(ridge.residual_by_eigen(eta, steps, &f_t[..3]).is_err());
}

/// The step condition `η(μ_max + λ) ≤ 1` of the sweep's Theorem 1 check and its distance bound:
/// within it, ungated GD from θ0 never raises the data loss and stays within `‖r0‖/(2√λ)` at
/// every step; past it (here `η(μ_max + λ) = 1.9`, still stable), the check can fail: the data
/// loss rises at some step. So neither statement holds without the condition.
#[test]
fn step_condition_gives_monotone_descent_within_the_bound() {
    let mut rises_past_the_limit = 0;
    for seed in 0..8 {
        let prob = Problem::new(40 + seed, 6, 2, 30, 1);
        let lambda = 0.3;
        let model = prob.fit(lambda);
        let mu_max = model.eigenvalues()[0];
        let bound = model.param_distance_bound();
        let ts: Vec<u64> = (0..=40).collect();
        let within = model.trajectory(1.0 / (mu_max + lambda), &ts).unwrap();
        for w in within.steps.windows(2) {
            assert!(
                w[1].data_loss <= w[0].data_loss * (1.0 + 1e-12),
                "seed {seed}"
            );
        }
        assert!(within
            .steps
            .iter()
            .all(|s| s.param_distance <= bound * (1.0 + 1e-12)));
        let past = model.trajectory(1.9 / (mu_max + lambda), &ts).unwrap();
        assert!(past.stable);
        if past
            .steps
            .windows(2)
            .any(|w| w[1].data_loss > w[0].data_loss * (1.0 + 1e-9))
        {
            rises_past_the_limit += 1;
        }
    }
    assert!(
        rises_past_the_limit > 0,
        "the check never failed past the limit"
    );
}
