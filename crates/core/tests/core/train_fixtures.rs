//! Proximal LoRA fine-tuning against PyTorch (`tests/reference/make_prox_gd.py`: 5 steps of
//! full-batch GD on bert_cls + `qv` LoRA, λ = 0.1, lr = 0.05, mean squared loss, float64).
//!
//! The fixture's objective is `(1/n) Σ ½‖f − y‖² + (λ/2)‖θ − θ0‖²`; ours is the sum
//! `Σ ½‖f − y‖² + (λ'/2)‖θ − θ0‖²` = n × theirs with `λ' = nλ`, and the same step is taken with
//! `lr' = lr/n`. Tolerance: parameters after 5 steps within 1e-4 absolute (the bound;
//! f32 vs f64 in the fixture differs by 5e-8), losses 1e-5 relative.
#![cfg(not(target_family = "wasm"))]

use crate::common::{fixtures, Expected};
use ntk_lens_core::block_on;
use ntk_lens_core::device::cpu_device;
use ntk_lens_core::model::peft::load_adapter_dir;
use ntk_lens_core::model::Model;
use ntk_lens_core::rng::SplitMix64;
use ntk_lens_core::steps::Stepwise;
use ntk_lens_core::tokenize::Encoded;
use ntk_lens_core::train::trainer::logits_of;
use ntk_lens_core::train::{
    metrics, LossKind, OptimizerKind, Schedule, Targets, TrainConfig, Trainer,
};

const N: usize = 5;

fn setup() -> (Model, Vec<Encoded>, Vec<usize>, Expected) {
    let device = cpu_device();
    let mut m = Model::from_dir(fixtures().join("models/bert_cls"), &device).unwrap();
    load_adapter_dir(&mut m, fixtures().join("adapters/bert_cls_qv")).unwrap();
    let exp = Expected::open(fixtures().join("prox_gd/bert_cls_qv.safetensors"));
    let ids = exp.ids("input_ids");
    let mask = exp.ids("attention_mask");
    let types = exp.ids("token_type_ids");
    let len = ids.len() / N;
    let samples = (0..N)
        .map(|i| {
            let row = i * len..(i + 1) * len;
            let keep = mask[row.clone()].iter().filter(|&&v| v == 1).count();
            Encoded {
                ids: ids[row.clone()][..keep].to_vec(),
                type_ids: types[row][..keep].to_vec(),
            }
        })
        .collect();
    let labels = exp.ids("labels").iter().map(|&l| l as usize).collect();
    (m, samples, labels, exp)
}

/// The fixture's labels as targets over its 3 classes.
fn classes(labels: &[usize]) -> Targets {
    Targets::Classes {
        labels: labels.to_vec(),
        classes: 3,
    }
}

fn gd(lambda: f64, lr: f64, steps: usize, selective: bool) -> TrainConfig {
    TrainConfig {
        lambda,
        lr,
        steps,
        optimizer: OptimizerKind::Gd,
        loss: LossKind::Mse,
        selective,
        train_head: false,
        chunk_size: 2,
        ..TrainConfig::default()
    }
}

#[test]
fn five_proximal_gd_steps_match_pytorch() {
    let (m, samples, labels, exp) = setup();
    let n = N as f64;
    let mut tr = Trainer::new(
        &m,
        &samples,
        &classes(&labels),
        gd(0.1 * n, 0.05 / n, 5, false),
    )
    .unwrap();
    let want_loss = exp.f32("loss");
    for (t, want) in want_loss.iter().take(5).enumerate() {
        let rec = block_on(tr.step()).unwrap();
        let want = f64::from(*want) * n;
        assert!(
            (rec.loss - want).abs() <= 1e-5 * want,
            "step {t}: {} vs {want}",
            rec.loss
        );
    }
    let got = block_on(tr.parameters()).unwrap();
    let mut worst = 0f32;
    let mut k = 0;
    for site in m.lora_sites() {
        for b in [false, true] {
            let want = exp.f32(&format!("theta.5.{}", m.peft_key(site, b)));
            assert_eq!(want.len(), got[k].len());
            for (x, y) in got[k].iter().zip(&want) {
                worst = worst.max((x - y).abs());
            }
            k += 1;
        }
    }
    eprintln!("θ after 5 proximal GD steps: max |ours − PyTorch| = {worst:.2e}");
    assert!(worst <= 1e-4, "{worst}");
    let dist = block_on(tr.param_distance()).unwrap();
    assert!(dist > 0.1, "the parameters moved: {dist}");
}

/// The gradient a step uses (data + proximal) equals a central finite difference of the
/// objective: at `θ1` (one step from the anchor, so `θ1 − θ0 ≠ 0` and the proximal term acts),
/// `⟨∇L(θ1), v⟩` read from the step `θ1 → θ2 = θ1 − η∇L(θ1)` is compared with
/// `(L(θ1 + εv) − L(θ1 − εv)) / 2ε`, `v` the unit direction of `θ1 − θ0`.
#[test]
fn proximal_gradient_matches_finite_differences() {
    let (m, samples, labels, _) = setup();
    let lambda = 3.0;
    let lr = 0.01;
    let mut tr = Trainer::new(&m, &samples, &classes(&labels), gd(lambda, lr, 2, false)).unwrap();
    block_on(tr.step()).unwrap();
    let theta1 = block_on(tr.parameters()).unwrap();
    let at1 = tr.model().unwrap();
    block_on(tr.step()).unwrap();
    let theta2 = block_on(tr.parameters()).unwrap();
    // ∇L(θ1) = (θ1 − θ2)/η.
    let grad: Vec<Vec<f64>> = theta1
        .iter()
        .zip(&theta2)
        .map(|(a, b)| {
            a.iter()
                .zip(b)
                .map(|(x, y)| f64::from(x - y) / lr)
                .collect()
        })
        .collect();
    let theta0 = Trainer::new(&m, &samples, &classes(&labels), gd(lambda, lr, 1, false))
        .map(|t| block_on(t.parameters()).unwrap())
        .unwrap();
    // Direction: θ1 − θ0 (non-zero only through the first step), normalised.
    let v: Vec<Vec<f64>> = theta1
        .iter()
        .zip(&theta0)
        .map(|(a, b)| a.iter().zip(b).map(|(x, y)| f64::from(x - y)).collect())
        .collect();
    let norm = v.iter().flatten().map(|x| x * x).sum::<f64>().sqrt();
    let objective = |eps: f64| {
        let mut model = at1.clone();
        let sites = model.lora_sites();
        let mut k = 0;
        let mut prox = 0.0;
        for s in sites {
            let l = model.lora_mut(s).unwrap();
            for t in [&mut l.a, &mut l.b] {
                let vals: Vec<f32> = theta1[k]
                    .iter()
                    .zip(&v[k])
                    .map(|(x, d)| (f64::from(*x) + eps * d / norm) as f32)
                    .collect();
                prox += vals
                    .iter()
                    .zip(&theta0[k])
                    .map(|(x, y)| f64::from(x - y).powi(2))
                    .sum::<f64>();
                let dims = t.dims();
                *t = ntk_lens_core::burn::prelude::Tensor::<2>::from_data(
                    ntk_lens_core::burn::tensor::TensorData::new(vals, dims),
                    &t.device(),
                );
                k += 1;
            }
        }
        let f = block_on(logits_of(&model, &samples, 8)).unwrap();
        metrics::mse_loss(&f, &labels, 3) + 0.5 * lambda * prox
    };
    let eps = 1e-2;
    let fd = (objective(eps) - objective(-eps)) / (2.0 * eps);
    let analytic: f64 = grad
        .iter()
        .flatten()
        .zip(v.iter().flatten())
        .map(|(g, d)| g * d / norm)
        .sum();
    eprintln!("directional derivative: autodiff {analytic:.6} vs finite difference {fd:.6}");
    assert!(analytic.abs() > 1e-2);
    assert!(
        (fd - analytic).abs() <= 2e-2 * analytic.abs(),
        "{fd} vs {analytic}"
    );
}

/// The selective gate (Eq. 8) applies the proximal term only when ⟨∇Σℓ, θ − θ0⟩ ≥ 0.
#[test]
fn selective_gate_switches_as_specified() {
    let (m, samples, labels, _) = setup();
    let run = |lambda: f64, selective: bool| {
        let mut tr = Trainer::new(
            &m,
            &samples,
            &classes(&labels),
            gd(lambda, 0.01, 6, selective),
        )
        .unwrap();
        for _ in 0..6 {
            block_on(tr.step()).unwrap();
        }
        (tr.history().to_vec(), block_on(tr.parameters()).unwrap())
    };
    let (hist, sel) = run(50.0, true);
    for r in &hist {
        assert_eq!(r.proximal_on, r.grad_dot_displacement >= 0.0, "{r:?}");
    }
    // Plain GD moves against the gradient, so ⟨∇, θ − θ0⟩ < 0 after the first step: gate off.
    assert!(hist[1..].iter().any(|r| !r.proximal_on));
    let (_, free) = run(0.0, false);
    let (_, prox) = run(50.0, false);
    let diff = |a: &Vec<Vec<f32>>, b: &Vec<Vec<f32>>| {
        a.iter()
            .flatten()
            .zip(b.iter().flatten())
            .map(|(x, y)| (x - y).abs())
            .fold(0f32, f32::max)
    };
    if hist
        .iter()
        .all(|r| !r.proximal_on || r.param_distance == 0.0)
    {
        // Every gate was off (or acted at θ = θ0, where the term is 0): same as λ = 0.
        assert!(diff(&sel, &free) < 1e-6);
    }
    // The always-on term does change the run.
    assert!(diff(&prox, &free) > 1e-4);
}

#[test]
fn adam_and_cross_entropy_reduce_the_loss() {
    let (m, samples, labels, _) = setup();
    let cfg = TrainConfig {
        optimizer: OptimizerKind::Adam,
        loss: LossKind::Ce,
        lr: 1e-2,
        lambda: 1e-3,
        steps: 20,
        ..gd(0.0, 1.0, 1, false)
    };
    let mut tr = Trainer::new(&m, &samples, &classes(&labels), cfg).unwrap();
    let first = block_on(tr.step()).unwrap().data_loss;
    let mut last = first;
    while !tr.is_done() {
        last = block_on(tr.step()).unwrap().data_loss;
    }
    assert!(last < 0.5 * first, "{first} → {last}");
}

#[test]
fn bad_settings_are_errors() {
    let (m, samples, labels, _) = setup();
    for cfg in [
        gd(-1.0, 0.1, 1, false),
        gd(0.1, 0.0, 1, false),
        gd(0.1, f64::NAN, 1, false),
        gd(0.1, 0.1, 0, false),
    ] {
        assert!(
            Trainer::new(&m, &samples, &classes(&labels), cfg).is_err(),
            "{cfg:?}"
        );
    }
    assert!(Trainer::new(&m, &samples, &classes(&labels[..2]), gd(0.1, 0.1, 1, false)).is_err());
    assert!(Trainer::new(&m, &samples, &classes(&[9; N]), gd(0.1, 0.1, 1, false)).is_err());
}

/// A minibatch step is a full-batch step on the batch's samples with the gradient scaled by
/// n/b (an unbiased estimate of the full sum); the batches of an epoch partition the samples;
/// a warm-up's first step has step size 0 (as Hugging Face's linear schedule).
#[test]
fn minibatches_and_the_warm_up_schedule() {
    let (m, samples, labels, _) = setup();
    let (b, seed, lr) = (2, 9, 0.05);
    let cfg = TrainConfig {
        batch_size: Some(b),
        seed,
        ..gd(0.5, lr, 6, false)
    };
    let mut tr = Trainer::new(&m, &samples, &classes(&labels), cfg).unwrap();
    assert_eq!(tr.steps_per_epoch(), 3);
    block_on(tr.step()).unwrap();
    let got = block_on(tr.parameters()).unwrap();
    // The batch of step 0: the first b of epoch 0's shuffle.
    let mut order: Vec<usize> = (0..N).collect();
    SplitMix64::derived(seed, &[0]).shuffle(&mut order);
    let picked: Vec<Encoded> = order[..b].iter().map(|&i| samples[i].clone()).collect();
    let picked_labels: Vec<usize> = order[..b].iter().map(|&i| labels[i]).collect();
    // At θ0 the proximal gradient is 0, so the step is −η·(n/b)·Σ_batch ∇ℓ.
    let scaled = gd(0.5, lr * N as f64 / b as f64, 1, false);
    let mut one = Trainer::new(&m, &picked, &classes(&picked_labels), scaled).unwrap();
    block_on(one.step()).unwrap();
    let want = block_on(one.parameters()).unwrap();
    let err = got
        .iter()
        .flatten()
        .zip(want.iter().flatten())
        .map(|(x, y)| (x - y).abs())
        .fold(0f32, f32::max);
    assert!(err < 1e-6, "{err}");
    // An epoch's three batches cover the five samples once: three records, the epoch ends.
    block_on(tr.step()).unwrap();
    block_on(tr.step()).unwrap();
    assert_eq!(tr.steps_done() % tr.steps_per_epoch(), 0);

    // Warm-up: the first step has factor 0, so θ does not move.
    let warm = TrainConfig {
        schedule: Schedule::LinearWarmupDecay { warmup: 0.5 },
        ..gd(0.5, lr, 4, false)
    };
    let mut tr = Trainer::new(&m, &samples, &classes(&labels), warm).unwrap();
    let theta0 = block_on(tr.parameters()).unwrap();
    block_on(tr.step()).unwrap();
    assert_eq!(block_on(tr.parameters()).unwrap(), theta0);
    block_on(tr.step()).unwrap();
    assert_ne!(block_on(tr.parameters()).unwrap(), theta0);
}
