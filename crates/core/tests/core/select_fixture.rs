//! Layer selection on a tiny real model: block sums equal recomputed kernels, Weyl bounds hold on
//! real blocks, and the selection study trains every candidate and correlates κ with outcomes.
#![cfg(not(target_family = "wasm"))]

use crate::common::{fixtures, Expected};
use ntk_lens_core::block_on;
use ntk_lens_core::device::cpu_device;
use ntk_lens_core::experiment::{Samples, Strategy, Study, StudyConfig};
use ntk_lens_core::lora::{LoraConfig, LoraModule};
use ntk_lens_core::model::Model;
use ntk_lens_core::ntk::{NtkBlocks, NtkBuilder, NtkOptions};
use ntk_lens_core::spectrum::{weyl, SpectrumOptions};
use ntk_lens_core::steps::Stepwise;
use ntk_lens_core::tokenize::Encoded;
use ntk_lens_core::train::{LossKind, OptimizerKind, TrainConfig};

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
    };
    let eval = Samples {
        rows: vec![4],
        encoded: vec![enc(4)],
        labels: vec![1],
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
        },
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
    }
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
