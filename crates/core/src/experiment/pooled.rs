//! κ at initialisation pooled across studies: several datasets (or configurations) of one
//! model, task, κ shift, recipe and step rule in one scatter, with one Pearson/Spearman over
//! every trained candidate of every study.
//!
//! The studies are pooled *within* studies. Pooling the raw (log10 κ, outcome) pairs would let
//! the studies' levels decide the sign: two studies whose loss falls perfectly as κ grows can
//! pool to a positive coefficient when the study with the larger κ also has the larger loss
//! (e.g. a harder dataset, or losses summed over more samples). So each study's log10 κ and
//! outcome are standardized first (z-scores within the study for the Pearson; ranks within the
//! study, as z-scores, for the Spearman), and the pooled standardized pairs are correlated. The
//! pooled Pearson is then the mean of the studies' own Pearsons weighted by their candidates.
//! A stratified bootstrap (candidates resampled within each study, a fixed seed) gives a 95 %
//! percentile interval for each pooled coefficient.

use serde::{Deserialize, Serialize};

use super::correlation::{pearson, ranks, Correlation};
pub use super::study::Outcome;
use super::study::{kappa_correlations, Candidate, StudyReport};
use crate::data::Task;
use crate::rng::SplitMix64;
use crate::CoreError;

/// The pooling method, as [`PooledReport::method`] names it.
pub const METHOD: &str = "within-study z-scores (Pearson) and within-study ranks (Spearman)";
/// Bootstrap resamples of the pooled coefficients' intervals.
pub const BOOTSTRAP_RESAMPLES: usize = 2000;
/// Seed of the bootstrap, so that the intervals are reproducible.
pub const BOOTSTRAP_SEED: u64 = 28;

/// One study of a pool, named by its dataset (or configuration).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PooledStudy {
    /// The dataset's (or configuration's) name.
    pub dataset: String,
    /// The study.
    pub report: StudyReport,
}

/// One study's own correlations, beside the pooled ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudyCorrelations {
    /// The study's dataset (or configuration).
    pub dataset: String,
    /// log10 κ against final train loss, over this study's candidates.
    pub kappa_vs_loss: Correlation,
    /// log10 κ against eval accuracy (eval Pearson's r for regression), likewise.
    pub kappa_vs_accuracy: Correlation,
}

/// A 95 % bootstrap percentile interval of a pooled Pearson and Spearman: their 2.5th and
/// 97.5th percentiles over [`BOOTSTRAP_RESAMPLES`] stratified resamples. `None` without a
/// pooled coefficient, or when fewer than half of the resamples give one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CorrelationInterval {
    /// `[low, high]` of the pooled Pearson.
    pub pearson: Option<[f64; 2]>,
    /// `[low, high]` of the pooled Spearman.
    pub spearman: Option<[f64; 2]>,
}

/// Studies pooled into one correlation (serde result).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PooledReport {
    /// The studies, in the order given.
    pub studies: Vec<PooledStudy>,
    /// How the studies are pooled ([`METHOD`]).
    pub method: String,
    /// log10 κ against final train loss, pooled within studies over all studies' trained
    /// candidates; `n` counts the pairs that enter (a study with fewer than two pairs, or a
    /// constant κ or loss, adds none).
    pub kappa_vs_loss: Correlation,
    /// log10 κ against eval accuracy (eval Pearson's r for regression), pooled likewise.
    pub kappa_vs_accuracy: Correlation,
    /// The 95 % bootstrap interval of `kappa_vs_loss`.
    pub kappa_vs_loss_interval: CorrelationInterval,
    /// The 95 % bootstrap interval of `kappa_vs_accuracy`.
    pub kappa_vs_accuracy_interval: CorrelationInterval,
    /// Each study's own correlations, in the order of `studies`.
    pub per_study: Vec<StudyCorrelations>,
    /// The task every study shares.
    pub task: Task,
    /// Plain-language notes.
    pub notes: Vec<String>,
}

/// The (index, log10 κ, outcome) of the candidates with both values finite.
fn pairs<'a>(
    candidates: impl IntoIterator<Item = &'a Candidate>,
    outcome: Outcome,
) -> Vec<(usize, f64, f64)> {
    candidates
        .into_iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let (x, y) = (c.kappa?.log10(), outcome.of(c)?);
            (x.is_finite() && y.is_finite()).then_some((i, x, y))
        })
        .collect()
}

/// z-scores of `v` (population standard deviation); `None` with fewer than two values or a
/// constant one.
fn z_scores(v: &[f64]) -> Option<Vec<f64>> {
    if v.len() < 2 {
        return None;
    }
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let sd = (v.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / n).sqrt();
    (sd > 0.0 && sd.is_finite()).then(|| v.iter().map(|a| (a - mean) / sd).collect())
}

/// Within-study z-scores of one study's (log10 κ, outcome) pairs: `(zx, zy)`, or `None` when
/// the study has no within-study variation to add.
fn standardize(x: &[f64], y: &[f64]) -> Option<(Vec<f64>, Vec<f64>)> {
    Some((z_scores(x)?, z_scores(y)?))
}

/// The within-study standardized points of `report`'s candidates for `outcome`: `(candidate
/// index, z of log10 κ, z of the outcome)`, z-scores within this study over its candidates with
/// both values. Empty with fewer than two such candidates or a constant κ or outcome (the
/// pooled scatter draws these points).
pub fn standardized(report: &StudyReport, outcome: Outcome) -> Vec<(usize, f64, f64)> {
    let p = pairs(&report.candidates, outcome);
    let (x, y): (Vec<f64>, Vec<f64>) = p.iter().map(|&(_, x, y)| (x, y)).unzip();
    match standardize(&x, &y) {
        Some((zx, zy)) => p
            .iter()
            .zip(zx.into_iter().zip(zy))
            .map(|(&(i, _, _), (a, b))| (i, a, b))
            .collect(),
        None => Vec::new(),
    }
}

/// Pearson of the pooled within-study z-scores and Spearman of the pooled within-study ranks
/// (as z-scores, so that studies of different sizes weigh alike per candidate), over `studies`
/// given as their candidates.
fn within_studies<'a, I>(studies: impl IntoIterator<Item = I>, outcome: Outcome) -> Correlation
where
    I: IntoIterator<Item = &'a Candidate>,
{
    let (mut zx, mut zy, mut rx, mut ry) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for s in studies {
        let (x, y): (Vec<f64>, Vec<f64>) =
            pairs(s, outcome).iter().map(|&(_, x, y)| (x, y)).unzip();
        // Constant values have constant ranks: both standardize, or neither.
        if let (Some((a, b)), Some((c, d))) =
            (standardize(&x, &y), standardize(&ranks(&x), &ranks(&y)))
        {
            zx.extend(a);
            zy.extend(b);
            rx.extend(c);
            ry.extend(d);
        }
    }
    Correlation {
        n: zx.len(),
        pearson: pearson(&zx, &zy),
        spearman: pearson(&rx, &ry),
    }
}

/// The 2.5th and 97.5th percentiles of `v` (linear interpolation); `None` when fewer than
/// half of the resamples gave a value.
fn percentile_interval(mut v: Vec<f64>) -> Option<[f64; 2]> {
    if v.is_empty() || 2 * v.len() < BOOTSTRAP_RESAMPLES {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let h = q * (v.len() - 1) as f64;
        let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
        v[lo] + (h - lo as f64) * (v[hi] - v[lo])
    };
    Some([at(0.025), at(0.975)])
}

/// The bootstrap intervals of the pooled correlations for `outcomes`: candidates resampled
/// with replacement within each study (each study keeps its size), [`BOOTSTRAP_RESAMPLES`]
/// times from [`BOOTSTRAP_SEED`].
fn intervals<const K: usize>(
    studies: &[PooledStudy],
    outcomes: [(Outcome, &Correlation); K],
) -> [CorrelationInterval; K] {
    if outcomes
        .iter()
        .all(|(_, c)| c.pearson.is_none() && c.spearman.is_none())
    {
        return std::array::from_fn(|_| CorrelationInterval::default());
    }
    let mut rng = SplitMix64::new(BOOTSTRAP_SEED);
    let mut draws: [[Vec<f64>; 2]; K] = std::array::from_fn(|_| [Vec::new(), Vec::new()]);
    for _ in 0..BOOTSTRAP_RESAMPLES {
        let resample: Vec<Vec<&Candidate>> = studies
            .iter()
            .map(|s| {
                let c = &s.report.candidates;
                (0..c.len())
                    .map(|_| &c[rng.below(c.len() as u64) as usize])
                    .collect()
            })
            .collect();
        for ((outcome, _), [p, s]) in outcomes.iter().zip(draws.iter_mut()) {
            let r = within_studies(resample.iter().map(|s| s.iter().copied()), *outcome);
            p.extend(r.pearson);
            s.extend(r.spearman);
        }
    }
    let mut draws = draws.into_iter();
    outcomes.map(|(_, c)| {
        let [p, s] = draws.next().unwrap_or_default();
        CorrelationInterval {
            pearson: c.pearson.and(percentile_interval(p)),
            spearman: c.spearman.and(percentile_interval(s)),
        }
    })
}

/// Refuses studies that differ from the first in task, model, κ shift, recipe or step rule,
/// naming what differs.
fn check_alike(studies: &[PooledStudy]) -> Result<(), CoreError> {
    let first = &studies[0];
    if let Some(other) = studies.iter().find(|s| s.report.task != first.report.task) {
        return Err(CoreError::invalid(
            "studies",
            format!(
                "`{}` is a {} study but `{}` is a {} study; pool studies of one task",
                other.dataset, other.report.task, first.dataset, first.report.task
            ),
        ));
    }
    /// What a study is, in one respect, in words.
    type Facet = fn(&StudyReport) -> String;
    let facets: [(&str, Facet); 4] = [
        ("model", |r| {
            if r.model.is_empty() {
                "(unnamed)".into()
            } else {
                format!("`{}`", r.model)
            }
        }),
        ("κ shift (kappa_lambda)", |r| r.config.kappa_symbol()),
        ("recipe", |r| r.config.recipe.to_string()),
        ("step rule", |r| r.config.step_rule.to_string()),
    ];
    for (what, of) in facets {
        let want = of(&first.report);
        if let Some(other) = studies.iter().find(|s| of(&s.report) != want) {
            return Err(CoreError::invalid(
                "studies",
                format!(
                    "`{}` has {what} {} but `{}` has {want}; pool studies of one {what}",
                    other.dataset,
                    of(&other.report),
                    first.dataset
                ),
            ));
        }
    }
    Ok(())
}

/// Pools `studies` (at least one; all of one task, since accuracy and Pearson's r do not
/// belong on one axis, and of one model, κ shift, recipe and step rule) within studies, with
/// each study's own correlations and a bootstrap interval for the pooled ones.
pub fn pool(studies: Vec<PooledStudy>) -> Result<PooledReport, CoreError> {
    let task = studies
        .first()
        .map(|s| s.report.task)
        .ok_or_else(|| CoreError::invalid("studies", "pool at least one study"))?;
    check_alike(&studies)?;
    let candidates = || studies.iter().map(|s| &s.report.candidates);
    let kappa_vs_loss = within_studies(candidates(), Outcome::Loss);
    let kappa_vs_accuracy = within_studies(candidates(), Outcome::Eval);
    let [kappa_vs_loss_interval, kappa_vs_accuracy_interval] = intervals(
        &studies,
        [
            (Outcome::Loss, &kappa_vs_loss),
            (Outcome::Eval, &kappa_vs_accuracy),
        ],
    );
    let per_study: Vec<StudyCorrelations> = studies
        .iter()
        .map(|s| {
            let (kappa_vs_loss, kappa_vs_accuracy) = kappa_correlations(s.report.candidates.iter());
            StudyCorrelations {
                dataset: s.dataset.clone(),
                kappa_vs_loss,
                kappa_vs_accuracy,
            }
        })
        .collect();
    let mut notes = vec![format!(
        "{} studies pooled ({}) within studies: each study's log10 κ and outcome are \
         standardized first (z-scores for the Pearson, ranks for the Spearman), so the studies' \
         levels (a harder dataset, losses summed over more samples) do not decide the sign.",
        studies.len(),
        studies
            .iter()
            .map(|s| s.dataset.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    )];
    for s in &studies {
        let trained = pairs(&s.report.candidates, Outcome::Loss).len();
        if trained > 0 && standardized(&s.report, Outcome::Loss).is_empty() {
            notes.push(format!(
                "`{}` has fewer than two candidates with κ and a final loss, or a constant one: \
                 it adds nothing to the pooled correlation with the loss.",
                s.dataset
            ));
        }
    }
    if let Some(r) = kappa_vs_loss.spearman {
        let interval = kappa_vs_loss_interval
            .spearman
            .map(|[a, b]| format!(" (95 % bootstrap interval {a:.2} to {b:.2})"))
            .unwrap_or_default();
        let own = per_study
            .iter()
            .map(|s| match s.kappa_vs_loss.spearman {
                Some(r) => format!("{} {r:.2}", s.dataset),
                None => format!("{} –", s.dataset),
            })
            .collect::<Vec<_>>()
            .join(", ");
        notes.push(format!(
            "Pooled log10 κ vs final train loss: Spearman {r:.2}{interval} over {} candidates; \
             each study's own: {own}.",
            kappa_vs_loss.n
        ));
    }
    Ok(PooledReport {
        studies,
        method: METHOD.into(),
        kappa_vs_loss,
        kappa_vs_accuracy,
        kappa_vs_loss_interval,
        kappa_vs_accuracy_interval,
        per_study,
        task,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::study::StudyConfig;
    use crate::options::{Recipe, StepRule, Strategy};
    use crate::train::{Quality, TrainConfig};

    /// A trained candidate with κ = 10^`log_kappa`.
    fn candidate(log_kappa: f64, loss: f64, eval: Option<f64>) -> Candidate {
        Candidate {
            label: "single".into(),
            blocks: vec![format!("block.0.{log_kappa}")],
            params: 1,
            kappa: Some(10f64.powf(log_kappa)),
            kappa_lower_bound: false,
            lr: None,
            lambda_min: 1.0,
            lambda_max: 1.0,
            train_loss: Some(loss),
            train_acc: None,
            eval_acc: eval,
            train_quality: None,
            eval_quality: eval.map(|a| Quality {
                accuracy: Some(a),
                ..Quality::default()
            }),
            best_epoch: None,
        }
    }

    /// A study named `dataset` of the candidates (log10 κ, loss).
    fn study(dataset: &str, points: &[(f64, f64)]) -> PooledStudy {
        let candidates: Vec<Candidate> =
            points.iter().map(|&(k, l)| candidate(k, l, None)).collect();
        let (kappa_vs_loss, kappa_vs_accuracy) = kappa_correlations(candidates.iter());
        PooledStudy {
            dataset: dataset.into(),
            report: StudyReport {
                model: "m".into(),
                config: StudyConfig {
                    budget: 1,
                    strategy: Strategy::AllSingles,
                    kappa_lambda: 0.0,
                    train: true,
                    training: TrainConfig::default(),
                    step_rule: StepRule::PerSubset,
                    lr: None,
                    recipe: Recipe::Theory,
                },
                selected: vec![],
                greedy: None,
                candidates,
                kappa_vs_loss,
                kappa_vs_accuracy,
                task: Task::Classification,
                notes: vec![],
                steps: String::new(),
            },
        }
    }

    /// The example: two studies whose loss falls as κ grows, at different levels.
    fn example() -> Vec<PooledStudy> {
        vec![
            study("A", &[(2.0, 3.0), (2.2, 2.9), (2.4, 2.8), (2.6, 2.7)]),
            study("B", &[(3.0, 6.0), (3.2, 5.9), (3.4, 5.8), (3.6, 5.7)]),
        ]
    }

    /// The raw pooling this module replaced: every pair in one correlation.
    fn raw_pool(studies: &[PooledStudy]) -> Correlation {
        kappa_correlations(studies.iter().flat_map(|s| &s.report.candidates)).0
    }

    fn close(a: Option<f64>, b: f64, tol: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() <= tol)
    }

    #[test]
    fn pooling_within_studies_keeps_each_studys_sign() {
        let studies = example();
        let raw = raw_pool(&studies);
        assert!(close(raw.spearman, 0.5238, 1e-3), "{raw:?}");
        assert!(close(raw.pearson, 0.88, 0.01), "{raw:?}");
        let r = pool(studies).unwrap();
        assert_eq!(r.method, METHOD);
        for s in &r.per_study {
            assert!(close(s.kappa_vs_loss.spearman, -1.0, 1e-12), "{s:?}");
        }
        assert_eq!(r.per_study[1].dataset, "B");
        assert_eq!(r.kappa_vs_loss.n, 8);
        assert!(close(r.kappa_vs_loss.spearman, -1.0, 1e-12), "{r:?}");
        assert!(r.kappa_vs_loss.pearson.unwrap() < 0.0);
        // Every resample keeps each study's perfect fall (or loses a study's variation).
        let i = &r.kappa_vs_loss_interval;
        for [a, b] in [i.spearman.unwrap(), i.pearson.unwrap()] {
            assert!(a <= b && b <= -0.99, "{i:?}");
        }
        // No eval samples: no correlation and no interval.
        assert_eq!(r.kappa_vs_accuracy.pearson, None);
        assert_eq!(r.kappa_vs_accuracy_interval, CorrelationInterval::default());
        // Written under the report's own keys, with the method named.
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["method"], METHOD);
        assert!(json["kappa_vs_loss_interval"]["spearman"].is_array());
        assert_eq!(json["per_study"][0]["dataset"], "A");
    }

    #[test]
    fn a_study_pooled_with_itself_keeps_its_coefficients_and_the_interval_is_reproducible() {
        let a = study(
            "A",
            &[(2.0, 3.0), (2.5, 2.7), (2.2, 2.95), (3.1, 2.8), (2.9, 2.6)],
        );
        let own = a.report.kappa_vs_loss.clone();
        let r = pool(vec![a.clone(), a.clone()]).unwrap();
        assert_eq!(r.kappa_vs_loss.n, 2 * own.n);
        assert!(close(r.kappa_vs_loss.pearson, own.pearson.unwrap(), 1e-12));
        assert!(close(
            r.kappa_vs_loss.spearman,
            own.spearman.unwrap(),
            1e-12
        ));
        let [lo, hi] = r.kappa_vs_loss_interval.pearson.unwrap();
        assert!(lo <= r.kappa_vs_loss.pearson.unwrap() && r.kappa_vs_loss.pearson.unwrap() <= hi);
        assert_eq!(pool(vec![a.clone(), a]).unwrap(), r);
    }

    #[test]
    fn degenerate_studies_give_no_coefficients_and_do_not_panic() {
        // No candidates, one candidate, NaN and infinite outcomes, a constant loss.
        let empty = study("empty", &[]);
        let one = study("one", &[(2.0, 1.0)]);
        let nan = study("nan", &[(2.0, f64::NAN), (2.1, f64::INFINITY), (2.2, 1.0)]);
        let flat = study("flat", &[(2.0, 1.0), (2.1, 1.0), (2.2, 1.0)]);
        let r = pool(vec![empty, one, nan, flat.clone()]).unwrap();
        assert_eq!(r.kappa_vs_loss.n, 0);
        assert_eq!(
            (r.kappa_vs_loss.pearson, r.kappa_vs_loss.spearman),
            (None, None)
        );
        assert_eq!(r.kappa_vs_loss_interval, CorrelationInterval::default());
        assert!(r
            .per_study
            .iter()
            .all(|s| s.kappa_vs_loss.pearson.is_none()));
        assert!(
            r.notes.iter().any(|n| n.contains("`flat`")),
            "{:?}",
            r.notes
        );
        // Untrained candidates: nothing to correlate.
        let mut untrained = flat;
        for c in &mut untrained.report.candidates {
            c.train_loss = None;
        }
        assert_eq!(pool(vec![untrained]).unwrap().kappa_vs_loss.n, 0);
        assert!(pool(vec![]).is_err());
        assert!(standardized(&study("one", &[(2.0, 1.0)]).report, Outcome::Loss).is_empty());
    }

    #[test]
    fn standardized_points_have_zero_mean_and_unit_spread() {
        let s = &example()[1].report;
        let p = standardized(s, Outcome::Loss);
        assert_eq!(p.iter().map(|q| q.0).collect::<Vec<_>>(), vec![0, 1, 2, 3]);
        let mean = p.iter().map(|q| q.1).sum::<f64>() / 4.0;
        let var = p.iter().map(|q| q.2 * q.2).sum::<f64>() / 4.0;
        assert!(mean.abs() < 1e-12 && (var - 1.0).abs() < 1e-12);
        // The eval outcome pools too (accuracy rises with κ here).
        let mut a = example();
        for (k, st) in a.iter_mut().enumerate() {
            for (i, c) in st.report.candidates.iter_mut().enumerate() {
                *c = candidate(
                    c.kappa.unwrap().log10(),
                    1.0,
                    Some(0.5 + 0.1 * i as f64 - k as f64 * 0.3),
                );
            }
        }
        let r = pool(a).unwrap();
        assert!(close(r.kappa_vs_accuracy.spearman, 1.0, 1e-12), "{r:?}");
        assert!(r.kappa_vs_accuracy_interval.spearman.is_some());
    }

    /// Refuses studies that differ in `what`, naming both studies and the difference.
    fn refused(change: impl Fn(&mut StudyReport), expect: &[&str]) {
        let mut s = example();
        change(&mut s[1].report);
        let e = pool(s).unwrap_err().to_string();
        assert!(e.contains("studies"), "{e}");
        for x in ["`B`", "`A`"].iter().chain(expect) {
            assert!(e.contains(x), "{x} in {e}");
        }
    }

    #[test]
    fn studies_that_differ_in_task_model_shift_recipe_or_step_rule_are_refused() {
        refused(
            |r| r.task = Task::Regression,
            &["regression study", "classification study", "one task"],
        );
        refused(
            |r| r.model = "other".into(),
            &["`other`", "`m`", "one model"],
        );
        refused(
            |r| r.config.kappa_lambda = 0.01,
            &["κ(K_S + 0.01·I)", "κ(K_S);", "one κ shift"],
        );
        refused(
            |r| r.config.recipe = Recipe::Paper,
            &["paper", "theory", "one recipe"],
        );
        refused(
            |r| r.config.step_rule = StepRule::Shared,
            &["shared", "per-subset", "one step rule"],
        );
    }
}
