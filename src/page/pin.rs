//! A pinned NTK, compared with the current one (NTK tab): what a comparison shows of an NTK
//! ([`NtkSnapshot`]), how a setup is described to a person, and the two block-share lists
//! aligned by block. Pure, so that `cargo test` covers it.
//!
//! What is pinned lives in two places: the setup it was computed with in the address
//! (`pin=`, see [`super::setup::Setup::ntk_query`]) and the snapshot in local storage under
//! [`STORAGE_KEY`] (a spectrum is too long for an address). A link opened in another browser
//! thus names the pinned setup, and offers to compute it, without its numbers.

use ntk_lens_core::experiment::NtkReport;
use ntk_lens_core::options::SampleMethod;
use serde::{Deserialize, Serialize};

use super::setup::{ModelChoice, Setup};

/// The local-storage key of the pinned [`Pinned`] (JSON).
pub const STORAGE_KEY: &str = "ntk-lens-pinned";

/// What the comparison shows of one NTK.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NtkSnapshot {
    /// What was computed, for people (model, LoRA, samples, kernel).
    pub label: String,
    /// Samples.
    pub n: usize,
    /// Output classes.
    pub classes: usize,
    /// Parameters in the Jacobian.
    pub params: usize,
    /// `κ`; `None` when numerically singular.
    pub condition_number: Option<f64>,
    /// Largest eigenvalue.
    pub lambda_max: f64,
    /// Smallest eigenvalue.
    pub lambda_min: f64,
    /// Entropy effective rank.
    pub effective_rank: f64,
    /// Kernel–label alignment.
    pub alignment: f64,
    /// Centred alignment.
    pub alignment_centred: Option<f64>,
    /// The spectrum, descending.
    pub eigenvalues: Vec<f64>,
    /// Each block's share of the trace (`block.<layer>.<module>` or `head`), in model order.
    pub shares: Vec<(String, f64)>,
}

impl NtkSnapshot {
    /// The snapshot of `report`, described by `label`.
    pub fn of(report: &NtkReport, label: String) -> NtkSnapshot {
        NtkSnapshot {
            label,
            n: report.n,
            classes: report.classes,
            params: report.params,
            condition_number: report.condition_number,
            lambda_max: report.lambda_max,
            lambda_min: report.lambda_min,
            effective_rank: report.effective_rank,
            alignment: report.alignment,
            alignment_centred: report.alignment_centred,
            eigenvalues: report.eigenvalues.clone(),
            shares: report
                .block_summary
                .iter()
                .map(|b| (b.name.clone(), b.share))
                .collect(),
        }
    }
}

/// A pinned NTK: the setup it was computed with ([`Setup::ntk_query`]) and its snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pinned {
    /// The pinned setup, as the address's `pin=` holds it.
    pub setup: String,
    /// Its numbers.
    pub snapshot: NtkSnapshot,
}

/// A setup in a few words: model, LoRA (rank, modules, layers), samples and kernel, e.g.
/// `all-MiniLM-L6-v2 · LoRA r = 8 on query, value, all layers · 32 samples (stratified) · plain
/// kernel`. `model_name`: the loaded model's name, when known.
pub fn describe(setup: &Setup, model_name: Option<&str>) -> String {
    let model = match (model_name, &setup.model.choice) {
        (Some(name), _) => name.to_string(),
        (None, ModelChoice::Minilm) => "all-MiniLM-L6-v2".into(),
        (None, ModelChoice::Hub(m)) => m.repo.clone(),
        (None, ModelChoice::Dropped) => "a dropped model".into(),
    };
    let modules: Vec<&str> = setup.lora.targets.iter().map(|m| m.short_name()).collect();
    let layers = match &setup.lora.layers {
        None => "all layers".to_string(),
        Some(l) if l.len() == 1 => format!("layer {}", l[0]),
        Some(l) => format!(
            "layers {}",
            l.iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let samples = match setup.samples.method {
        SampleMethod::Picked => format!("{} picked samples", setup.samples.rows.len()),
        SampleMethod::First => format!("the first {} samples", setup.samples.n),
        SampleMethod::Stratified => format!(
            "{} samples (stratified, seed {})",
            setup.samples.n, setup.samples.seed
        ),
    };
    format!(
        "{model} · LoRA r = {} on {}, {layers} · {samples} · {} kernel",
        setup.lora.r,
        modules.join(", "),
        setup.kernel.kind
    )
}

/// One row of the aligned block shares: the block and its share in the pinned and in the
/// current NTK (`None`: the block is not in that one, e.g. a layer not adapted there).
#[derive(Debug, Clone, PartialEq)]
pub struct AlignedShare {
    /// `block.<layer>.<module>` or `head`.
    pub block: String,
    /// Share of the pinned NTK's trace.
    pub pinned: Option<f64>,
    /// Share of the current NTK's trace.
    pub current: Option<f64>,
}

/// The blocks of both NTKs, one row each, ordered by layer (the head last); within a layer the
/// pinned NTK's module order first, then modules only the current one has.
pub fn aligned_shares(pinned: &[(String, f64)], current: &[(String, f64)]) -> Vec<AlignedShare> {
    let mut rows: Vec<AlignedShare> = pinned
        .iter()
        .map(|(b, s)| AlignedShare {
            block: b.clone(),
            pinned: Some(*s),
            current: None,
        })
        .collect();
    for (b, s) in current {
        match rows.iter_mut().find(|r| &r.block == b) {
            Some(r) => r.current = Some(*s),
            None => rows.push(AlignedShare {
                block: b.clone(),
                pinned: None,
                current: Some(*s),
            }),
        }
    }
    // Stable: the order above is kept within a layer.
    rows.sort_by_key(|r| layer_of(&r.block));
    rows
}

/// The layer of `block.<layer>.<module>`; the head (and anything else) after every layer.
fn layer_of(block: &str) -> usize {
    block
        .strip_prefix("block.")
        .and_then(|rest| rest.split('.').next())
        .and_then(|l| l.parse().ok())
        .unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ntk_lens_core::lora::LoraModule;

    fn shares(names: &[(&str, f64)]) -> Vec<(String, f64)> {
        names.iter().map(|(n, s)| (n.to_string(), *s)).collect()
    }

    #[test]
    fn shares_align_by_block_in_layer_order() {
        // Layers 0–1 (query, value) pinned against layers 1–2 (query, key, value).
        let pinned = shares(&[
            ("block.0.query", 0.1),
            ("block.0.value", 0.4),
            ("block.1.query", 0.1),
            ("block.1.value", 0.4),
        ]);
        let current = shares(&[
            ("block.1.query", 0.2),
            ("block.1.key", 0.1),
            ("block.1.value", 0.2),
            ("block.2.query", 0.2),
            ("block.2.key", 0.1),
            ("block.2.value", 0.2),
        ]);
        let rows = aligned_shares(&pinned, &current);
        let names: Vec<&str> = rows.iter().map(|r| r.block.as_str()).collect();
        assert_eq!(
            names,
            [
                "block.0.query",
                "block.0.value",
                "block.1.query",
                "block.1.value",
                "block.1.key",
                "block.2.query",
                "block.2.key",
                "block.2.value"
            ]
        );
        assert_eq!((rows[0].pinned, rows[0].current), (Some(0.1), None));
        assert_eq!((rows[3].pinned, rows[3].current), (Some(0.4), Some(0.2)));
        assert_eq!((rows[4].pinned, rows[4].current), (None, Some(0.1)));
        // Every share of each NTK is in exactly one row.
        let sum = |f: fn(&AlignedShare) -> Option<f64>| rows.iter().filter_map(f).sum::<f64>();
        assert!((sum(|r| r.pinned) - 1.0).abs() < 1e-12);
        assert!((sum(|r| r.current) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn the_head_comes_after_the_layers() {
        let rows = aligned_shares(
            &shares(&[("block.5.value", 0.5), ("head", 0.5)]),
            &shares(&[("block.0.value", 1.0)]),
        );
        let names: Vec<&str> = rows.iter().map(|r| r.block.as_str()).collect();
        assert_eq!(names, ["block.0.value", "block.5.value", "head"]);
    }

    #[test]
    fn a_setup_reads_as_a_phrase() {
        let mut s = Setup::default();
        s.samples.n = 16;
        s.lora.targets = vec![LoraModule::Query, LoraModule::Value];
        s.lora.layers = Some(vec![0, 1, 2]);
        assert_eq!(
            describe(&s, None),
            "all-MiniLM-L6-v2 · LoRA r = 8 on query, value, layers 0, 1, 2 · 16 samples \
             (stratified, seed 0) · plain kernel"
        );
        let mut first = Setup::default();
        first.samples.method = SampleMethod::First;
        first.samples.n = 4;
        first.lora.layers = Some(vec![5]);
        assert_eq!(
            describe(&first, Some("distilroberta-base")),
            "distilroberta-base · LoRA r = 8 on query, value, layer 5 · the first 4 samples · \
             plain kernel"
        );
    }

    #[test]
    fn a_pin_survives_local_storage() {
        let report_json = Pinned {
            setup: Setup::default().ntk_query(),
            snapshot: NtkSnapshot {
                label: "x".into(),
                n: 2,
                classes: 2,
                params: 10,
                condition_number: None,
                lambda_max: 2.0,
                lambda_min: 0.0,
                effective_rank: 1.5,
                alignment: 0.3,
                alignment_centred: Some(0.1),
                eigenvalues: vec![2.0, 1.0, 0.5, 0.0],
                shares: shares(&[("block.0.value", 1.0)]),
            },
        };
        let text = serde_json::to_string(&report_json).unwrap();
        assert_eq!(serde_json::from_str::<Pinned>(&text).unwrap(), report_json);
    }
}
