//! Layer selection on a tiny real model: block sums equal recomputed kernels, Weyl bounds hold on
//! real blocks, and the selection study trains every candidate and correlates κ with outcomes.
#![cfg(not(target_family = "wasm"))]

use crate::common::{fixtures, Expected};
use ntk_lens_core::block_on;
use ntk_lens_core::device::cpu_device;
use ntk_lens_core::experiment::{Samples, StepRule, Strategy, Study, StudyConfig};
use ntk_lens_core::lora::{LoraConfig, LoraModule, LoraSite};
use ntk_lens_core::model::Model;
use ntk_lens_core::ntk::{NtkBlocks, NtkBuilder, NtkOptions};
use ntk_lens_core::options::Recipe;
use ntk_lens_core::spectrum::{weyl, BlockSet, Kernel, Layout, SpectrumOptions};
use ntk_lens_core::steps::Stepwise;
use ntk_lens_core::tokenize::Encoded;
use ntk_lens_core::train::trainer::logits_of;
use ntk_lens_core::train::{default_gd_lr, LossKind, OptimizerKind, TrainConfig, Trainer};

fn setup() -> (Model, Samples, Samples) {
    let device = cpu_device();
    let mut model = Model::from_dir(fixtures().join("models/roberta_cls"), &device).unwrap();
    let modules = [LoraModule::Query, LoraModule::Key, LoraModule::Value];
    model
        .apply_lora(&LoraConfig::new(2, 4.0, &modules), 3)
        .unwrap();
    // A non-zero B, so that A blocks contribute as well (as after some training).
    for (k, s) in model.lora_sites().into_iter().enumerate() {
        let l = model.lora_mut(s).unwrap();
        l.b =
            l.a.clone()
                .transpose()
                .slice([0..l.b.dims()[0], 0..2])
                .mul_scalar(0.5 + k as f64);
    }
    let exp = Expected::open(fixtures().join("ntk/roberta_cls_qv/ntk.safetensors"));
    let enc = |i: usize| {
        let ids = exp.ids(&format!("input_ids.{i}"));
        Encoded {
            type_ids: vec![0; ids.len()],
            ids,
        }
    };
    let train = Samples {
        rows: vec![0, 1, 2, 3],
        encoded: (0..4).map(enc).collect(),
        labels: vec![0, 1, 1, 0],
        scores: None,
    };
    let eval = Samples {
        rows: vec![4],
        encoded: vec![enc(4)],
        labels: vec![1],
        scores: None,
    };
    (model, train, eval)
}

fn ntk(model: &Model, train: &Samples) -> NtkBlocks {
    block_on(
        NtkBuilder::new(model, &train.encoded, &[], NtkOptions::default())
            .unwrap()
            .run(),
    )
    .unwrap()
}

#[test]
fn block_sums_equal_recomputed_kernels_and_weyl_bounds_hold() {
    let (model, train, _) = setup();
    let all = ntk(&model, &train);
    assert_eq!(all.train.len(), 6, "2 layers × query/key/value");
    let subset = ["block.0.query", "block.1.value", "block.1.key"];
    let summed = all.subset(&subset).unwrap().to_row_major();
    // The kernel w.r.t. the subset's parameters only (the other adapters stay in the model).
    let only = NtkOptions {
        blocks: Some(subset.iter().map(|s| s.to_string()).collect()),
        ..NtkOptions::default()
    };
    let recomputed = block_on(
        NtkBuilder::new(&model, &train.encoded, &[], only)
            .unwrap()
            .run(),
    )
    .unwrap();
    assert_eq!(recomputed.train.len(), 3);
    let recomputed = recomputed.total().unwrap().to_row_major();
    let scale = recomputed.iter().fold(0f64, |a, v| a.max(v.abs()));
    let worst = summed
        .iter()
        .zip(&recomputed)
        .fold(0f64, |a, (x, y)| a.max((x - y).abs()));
    eprintln!("block sum vs recomputed: max |Δ| {worst:.2e} (max |K| {scale:.2e})");
    assert!(scale > 0.0 && worst <= 1e-5 * scale);
    // Weyl: adding a real block to a real subset.
    let base = all.subset(&subset[..2]).unwrap();
    let added = all.train.get("block.1.key").unwrap();
    let opts = SpectrumOptions::for_f32(base.dim());
    let report = weyl(&base, added, 0.0, &opts).unwrap();
    let check = report.check();
    assert!(report.psd);
    assert!(check.relative_violation <= 1e-6, "{check:?}");
}

#[test]
fn study_trains_every_candidate_and_correlates_kappa() {
    let (model, train, eval) = setup();
    let blocks = ntk(&model, &train);
    let config = StudyConfig {
        budget: 2,
        strategy: Strategy::GreedyKappa,
        kappa_lambda: 1e-3,
        train: true,
        training: TrainConfig {
            lambda: 1e-3,
            lr: 0.05,
            steps: 5,
            optimizer: OptimizerKind::Gd,
            loss: LossKind::Mse,
            selective: false,
            train_head: false,
            chunk_size: 4,
            ..TrainConfig::default()
        },
        step_rule: StepRule::PerSubset,
        lr: None,
        recipe: Recipe::Theory,
    };
    let user = vec![vec![
        "block.0.query".to_string(),
        "block.1.query".to_string(),
    ]];
    let study = Study::new(&model, train, eval, &blocks, config, &user).unwrap();
    let total = study.total_steps();
    let report = block_on(study.run()).unwrap();
    // 6 singles + the greedy pair (= selected) + all + the user pair.
    assert_eq!(report.candidates.len(), 9, "{:?}", report.candidates);
    assert_eq!(total, 9 * 5);
    assert_eq!(report.selected.len(), 2);
    let greedy = report.greedy.as_ref().unwrap();
    // The greedy first pick is the single block with the smallest κ.
    let best_single = report
        .candidates
        .iter()
        .filter(|c| c.label == "single")
        .min_by(|a, b| a.kappa.unwrap().total_cmp(&b.kappa.unwrap()))
        .unwrap();
    assert_eq!(greedy.steps[0].chosen, best_single.blocks[0]);
    for c in &report.candidates {
        assert!(
            c.train_loss.unwrap().is_finite() && c.eval_acc.is_some(),
            "{c:?}"
        );
        assert!(c.params > 0);
        // A step per candidate from its own kernel: 0.05/(μ_max(K_S) + λ).
        let mu_max = c.lambda_max - 1e-3;
        assert!((c.lr.unwrap() - default_gd_lr(mu_max, 1e-3)).abs() <= 1e-12 * c.lr.unwrap());
        assert!(!c.kappa_lower_bound);
    }
    assert!(
        report.steps.contains("step per candidate"),
        "{}",
        report.steps
    );
    assert_eq!(report.kappa_vs_loss.n, 9);
    assert!(report.kappa_vs_loss.spearman.is_some());
    // More blocks: more parameters, and the kernel only grows (Loewner order).
    let all = report.candidates.iter().find(|c| c.label == "all").unwrap();
    assert!(all.lambda_max >= best_single.lambda_max);
    assert_eq!(
        all.params,
        report
            .candidates
            .iter()
            .filter(|c| c.label == "single")
            .map(|c| c.params)
            .sum::<usize>()
    );
}

#[test]
fn bad_budgets_and_blocks_are_errors() {
    let (model, train, eval) = setup();
    let blocks = ntk(&model, &train);
    let mut config = StudyConfig {
        budget: 0,
        strategy: Strategy::Trace,
        kappa_lambda: 0.0,
        train: false,
        training: TrainConfig::default(),
        step_rule: StepRule::PerSubset,
        lr: None,
        recipe: Recipe::Theory,
    };
    assert!(Study::new(
        &model,
        train.clone(),
        eval.clone(),
        &blocks,
        config.clone(),
        &[]
    )
    .is_err());
    config.budget = 7;
    assert!(Study::new(
        &model,
        train.clone(),
        eval.clone(),
        &blocks,
        config.clone(),
        &[]
    )
    .is_err());
    config.budget = 1;
    let bad = vec![vec!["block.9.query".to_string()]];
    assert!(Study::new(&model, train, eval, &blocks, config, &bad).is_err());
}

#[test]
fn singular_candidates_keep_a_marked_lower_bound_and_shared_steps_use_the_plain_kernel() {
    let (model, train, eval) = setup();
    let real = ntk(&model, &train);
    let (n, c) = (real.n, real.classes);
    let d = n * c;
    // block.0.query replaced by a rank-one kernel v vᵀ: alone, K_S is singular at λ = 0.
    let v: Vec<f64> = (0..d).map(|i| 1.0 + i as f64).collect();
    let rank_one: Vec<f64> = (0..d * d).map(|k| v[k / d] * v[k % d]).collect();
    let mut blocks = BlockSet::new();
    for name in real.train.names() {
        let k = if name == "block.0.query" {
            Kernel::from_row_major(n, c, Layout::Full, &rank_one).unwrap()
        } else {
            real.train.get(name).unwrap().clone()
        };
        blocks.insert(name.clone(), k).unwrap();
    }
    let ntk = NtkBlocks {
        train: blocks,
        ..real.clone()
    };
    let config = StudyConfig {
        budget: 1,
        strategy: Strategy::Trace,
        kappa_lambda: 0.0,
        train: false,
        training: TrainConfig {
            lambda: 1e-2,
            ..TrainConfig::default()
        },
        step_rule: StepRule::Shared,
        lr: None,
        recipe: Recipe::Theory,
    };
    let study = Study::new(
        &model,
        train.clone(),
        eval.clone(),
        &ntk,
        config.clone(),
        &[],
    )
    .unwrap();
    let report = block_on(study.run()).unwrap();
    let singular = report
        .candidates
        .iter()
        .find(|c| c.blocks == ["block.0.query"])
        .unwrap();
    // Not dropped: κ ≥ (1 − τ)/(μ_min/μ_max + τ) ≥ 1/(2τ), τ = d·ε_f32, and marked as a bound.
    let tol = d as f64 * f64::from(f32::EPSILON);
    assert!(singular.kappa_lower_bound, "{singular:?}");
    let bound = singular.kappa.unwrap();
    assert!(bound >= 0.5 / tol && bound <= 1.0 / tol, "{bound}");
    assert!(
        report.notes.iter().any(|n| n.contains("lower bound")),
        "{:?}",
        report.notes
    );
    // Every candidate has a κ: none vanishes.
    assert!(report.candidates.iter().all(|c| c.kappa.is_some()));
    // Shared: one step for all, 0.05/(μ_max(K_all) + λ) from the plain kernel of all blocks.
    let mu_all = ntk
        .total()
        .unwrap()
        .spectrum(&SpectrumOptions::for_f32(d))
        .unwrap()
        .max;
    for cand in &report.candidates {
        assert!((cand.lr.unwrap() - default_gd_lr(mu_all, 1e-2)).abs() <= 1e-15);
    }
    // A given rate contradicts a step per candidate; the sign kernel is refused.
    let contradiction = StudyConfig {
        step_rule: StepRule::PerSubset,
        lr: Some(0.1),
        ..config.clone()
    };
    assert!(Study::new(
        &model,
        train.clone(),
        eval.clone(),
        &ntk,
        contradiction,
        &[]
    )
    .is_err());
    let sign = NtkBlocks {
        kind: ntk_lens_core::ntk::KernelKind::Sign,
        ..ntk.clone()
    };
    assert!(Study::new(&model, train, eval, &sign, config, &[]).is_err());
}

#[test]
fn folding_the_other_adapters_keeps_the_function() {
    // setup() gives every adapter B ≠ 0, like a loaded adapter.
    let (model, train, _) = setup();
    let before = block_on(ntk_lens_core::train::trainer::logits_of(
        &model,
        &train.encoded,
        4,
    ))
    .unwrap();
    let mut frozen = model.clone();
    let keep = [model.lora_sites()[1]];
    frozen.freeze_lora_outside(&keep).unwrap();
    assert_eq!(frozen.lora_sites(), keep.to_vec());
    let after = block_on(ntk_lens_core::train::trainer::logits_of(
        &frozen,
        &train.encoded,
        4,
    ))
    .unwrap();
    let scale = before.iter().fold(0f64, |a, v| a.max(v.abs()));
    let worst = before
        .iter()
        .zip(&after)
        .fold(0f64, |a, (x, y)| a.max((x - y).abs()));
    // f32: W₀ + s·BA rounds once per entry (relative 6e-8), far below 1e-5 of the logits.
    assert!(worst <= 1e-5 * scale, "{worst} vs {scale}");
}

#[test]
fn the_head_block_is_never_a_candidate() {
    let (model, train, eval) = setup();
    let with_head = block_on(
        NtkBuilder::new(
            &model,
            &train.encoded,
            &[],
            NtkOptions {
                params: ntk_lens_core::ntk::ParamSet::LoraAndHead,
                ..NtkOptions::default()
            },
        )
        .unwrap()
        .run(),
    )
    .unwrap();
    assert!(with_head.train.names().iter().any(|n| n == "head"));
    // Ranked by trace among all blocks, the head could be picked, and training it as a LoRA
    // block failed.
    let config = StudyConfig {
        budget: 6,
        strategy: Strategy::Trace,
        kappa_lambda: 1e-3,
        train: false,
        training: TrainConfig::default(),
        step_rule: StepRule::PerSubset,
        lr: None,
        recipe: Recipe::Theory,
    };
    let report = block_on(
        Study::new(&model, train, eval, &with_head, config, &[])
            .unwrap()
            .run(),
    )
    .unwrap();
    assert_eq!(report.selected.len(), 6);
    assert!(report
        .candidates
        .iter()
        .all(|c| c.blocks.iter().all(|b| b != "head")));
}

/// The paper's recipe: Adam at 4e-3, cross-entropy, the head trained, 10 epochs with warm-up,
/// and the epoch with the lowest eval loss counts — checked against the same training run by
/// hand, epoch by epoch.
#[test]
fn the_papers_recipe_keeps_the_best_epoch() {
    let (model, train, eval) = setup();
    let blocks = ntk(&model, &train);
    let config = StudyConfig {
        budget: 1,
        strategy: Strategy::GreedyKappa,
        kappa_lambda: 1e-3,
        train: true,
        training: TrainConfig {
            lambda: 1e-3,
            chunk_size: 4,
            ..TrainConfig::default()
        },
        step_rule: StepRule::PerSubset,
        lr: None,
        recipe: Recipe::Paper,
    };
    let study = Study::new(&model, train.clone(), eval.clone(), &blocks, config, &[]).unwrap();
    let report = block_on(study.run()).unwrap();
    let t = report.config.training;
    assert_eq!(
        (t.optimizer, t.loss, t.train_head),
        (OptimizerKind::Adam, LossKind::Ce, true)
    );
    // 4 samples fit in one batch of 8: one step per epoch, 10 epochs.
    assert_eq!((t.batch_size, t.steps), (Some(8), 10));
    assert!(report.steps.contains("official code"), "{}", report.steps);
    assert!(!report.steps.contains("  "), "{}", report.steps);
    let cand = &report.candidates[0];
    assert_eq!(cand.lr, Some(4e-3));
    // The same run by hand: the candidate's blocks only, the study's settings.
    let mut m = model.clone();
    let sites: Vec<LoraSite> = cand
        .blocks
        .iter()
        .map(|b| LoraSite::from_block_name(b).unwrap())
        .collect();
    m.freeze_lora_outside(&sites).unwrap();
    let cfg = TrainConfig { lr: 4e-3, ..t };
    let mut tr = Trainer::new(&m, &train.encoded, &train.targets(blocks.classes), cfg).unwrap();
    let (mut best, mut best_loss) = (0, f64::INFINITY);
    let mut train_loss_at_best = 0.0;
    for epoch in 1..=10 {
        block_on(tr.step()).unwrap();
        let now = tr.model().unwrap();
        let ev = block_on(logits_of(&now, &eval.encoded, 4)).unwrap();
        let loss = eval.targets(blocks.classes).loss(LossKind::Ce, &ev);
        if loss < best_loss {
            (best, best_loss) = (epoch, loss);
            let tr_logits = block_on(logits_of(&now, &train.encoded, 4)).unwrap();
            train_loss_at_best = train.targets(blocks.classes).loss(LossKind::Ce, &tr_logits);
        }
    }
    eprintln!("best epoch {best} of 10 (eval CE {best_loss:.4})");
    assert_eq!(cand.best_epoch, Some(best));
    let got = cand.train_loss.unwrap();
    assert!(
        (got - train_loss_at_best).abs() <= 1e-6 * got.abs(),
        "{got} vs {train_loss_at_best}"
    );
}
