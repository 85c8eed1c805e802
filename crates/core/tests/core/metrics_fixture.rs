//! Task metrics against scikit-learn (MCC, accuracy) and SciPy (Pearson, Spearman with ties):
//! `tests/reference/make_metrics.py` → `tests/fixtures/metrics/expected.json`. Both sides are
//! f64 on the same inputs, so they agree to 1e-12.

use serde_json::Value;

use crate::common::{fixtures, read};
use ntk_lens_core::stats;
use ntk_lens_core::train::Targets;

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn ints(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect()
}

fn close(got: Option<f64>, want: &Value, what: &str) {
    let want = want.as_f64().unwrap();
    let got = got.unwrap_or_else(|| panic!("{what}: no value"));
    assert!((got - want).abs() < 1e-12, "{what}: {got} vs {want}");
}

#[test]
fn task_metrics_match_scikit_learn_and_scipy() {
    let json: Value =
        serde_json::from_slice(&read(&fixtures().join("metrics/expected.json"))).unwrap();
    let cases = json["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 5);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        match case["kind"].as_str().unwrap() {
            "classes" => {
                let (pred, truth) = (ints(&case["predicted"]), ints(&case["truth"]));
                let c = case["classes"].as_u64().unwrap() as usize;
                close(stats::mcc(&pred, &truth, c), &case["mcc"], name);
                // The same through the targets: logits whose largest entry is the prediction.
                let logits: Vec<f64> = pred
                    .iter()
                    .flat_map(|&p| (0..c).map(move |a| f64::from(u8::from(a == p))))
                    .collect();
                let q = Targets::Classes {
                    labels: truth,
                    classes: c,
                }
                .quality(&logits);
                close(q.mcc, &case["mcc"], name);
                close(q.accuracy, &case["accuracy"], name);
            }
            _ => {
                let (x, y) = (floats(&case["x"]), floats(&case["y"]));
                close(stats::pearson(&x, &y), &case["pearson"], name);
                close(stats::spearman(&x, &y), &case["spearman"], name);
                let q = Targets::Scores(y).quality(&x);
                close(q.pearson, &case["pearson"], name);
                close(q.spearman, &case["spearman"], name);
            }
        }
    }
}
