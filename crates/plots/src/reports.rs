//! The charts of each analysis report, built once for both shells (feature `reports`): the CLI
//! writes them as SVG files, the page draws them on canvases.

use ntk_lens_core::data::Task;
use ntk_lens_core::experiment::pooled::{standardized, Outcome};
use ntk_lens_core::experiment::study::pooled_train_loss_label;
use ntk_lens_core::experiment::{
    Candidate, NtkReport, PooledReport, RadiusPoint, StudyReport, SweepReport,
};
use ntk_lens_core::options::{OptimizerKind, Recipe, StepRule};
use ntk_lens_core::spectrum::{Layout, SpectrumKind, WeylReport};
use ntk_lens_core::train::Quality;

use crate::{
    Axis, BarChart, Chart, ColorScale, Correlation, Grouping, Heatmap, LegendPosition, LineChart,
    Orientation, ScatterChart, ScatterPoint, Series,
};

/// How the kernel's rows and columns are ordered in its heatmap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HeatmapOrder {
    /// By the output class of the row, then the sample's label, then the sample: each output
    /// class is a block and each label a sub-block, so a learner sees how one class's outputs
    /// move together (the trace layout and one-output tasks have only the label level).
    #[default]
    ByOutput,
    /// Sample-major as computed (row `i·C + a`), the samples grouped by label.
    BySample,
}

fn class_name(class_names: &[String], l: usize) -> String {
    class_names
        .get(l)
        .cloned()
        .unwrap_or_else(|| format!("class {l}"))
}

/// The heatmap's grouping of the report's rows for `order` (see [`HeatmapOrder`]).
pub fn heatmap_grouping(
    report: &NtkReport,
    class_names: &[String],
    order: HeatmapOrder,
) -> Grouping {
    let per_row = match report.layout {
        Layout::Full => report.classes,
        Layout::Trace => 1,
    };
    output_grouping(&report.labels, per_row, class_names, order)
}

/// The grouping of `labels.len() · per_row` sample-major rows (row `i·per_row + a` is sample
/// `i`'s output `a`) for `order`.
pub fn output_grouping(
    labels: &[usize],
    per_row: usize,
    class_names: &[String],
    order: HeatmapOrder,
) -> Grouping {
    let names: Vec<String> = labels.iter().map(|&l| class_name(class_names, l)).collect();
    if order == HeatmapOrder::BySample || per_row == 1 {
        let labels: Vec<String> = names
            .iter()
            .flat_map(|n| std::iter::repeat_n(n.clone(), per_row))
            .collect();
        return Grouping::from_labels(&labels);
    }
    // Labels in class order, so that the blocks read the same way for every output.
    let mut label_order: Vec<usize> = labels.to_vec();
    label_order.sort_unstable();
    label_order.dedup();
    let mut grouping = Grouping::default();
    for a in 0..per_row {
        for &l in &label_order {
            if !grouping.order.is_empty() {
                grouping.boundaries.push(grouping.order.len());
            }
            grouping.labels.push(format!(
                "out {} · {}",
                class_name(class_names, a),
                class_name(class_names, l)
            ));
            grouping.order.extend(
                labels
                    .iter()
                    .enumerate()
                    .filter(|(_, &x)| x == l)
                    .map(|(i, _)| i * per_row + a),
            );
        }
    }
    grouping
}

/// The kernel as a heatmap, its rows and columns ordered by `order`.
pub fn ntk_heatmap(report: &NtkReport, class_names: &[String], order: HeatmapOrder) -> Chart {
    let how = match (order, report.layout, report.classes) {
        (HeatmapOrder::ByOutput, Layout::Full, c) if c > 1 => "by output class, then label",
        _ => "grouped by label",
    };
    Chart::Heatmap(Heatmap {
        title: format!(
            "NTK ({} × {}, {how})",
            report.kernel.len(),
            report.kernel.len()
        ),
        values: report.kernel.clone(),
        scale: ColorScale::Auto,
        range: None,
        groups: Some(heatmap_grouping(report, class_names, order)),
        value_label: "K(x, x')".into(),
    })
}

/// The eigenvalue (or singular value) spectrum on a log scale.
pub fn ntk_spectrum(report: &NtkReport) -> Chart {
    let what = match report.spectrum_kind {
        SpectrumKind::Eigenvalues => "eigenvalue",
        SpectrumKind::SingularValues => "singular value",
    };
    Chart::Line(LineChart {
        title: format!("Spectrum (κ = {})", kappa_text(report.condition_number)),
        x: Axis::linear("index (descending)"),
        y: Axis::log(what),
        series: vec![Series::from_values("K", &report.eigenvalues).with_markers()],
        legend: LegendPosition::UpperRight,
    })
}

/// Two spectra on one chart (log scale), e.g. a pinned NTK and the current one: `(name,
/// eigenvalues)` each, descending. The index axis is the eigenvalue's rank; two kernels of
/// different sizes end at different ranks.
pub fn spectra_compared(pinned: (&str, &[f64]), current: (&str, &[f64])) -> Chart {
    Chart::Line(LineChart {
        title: "Spectra: pinned and current".into(),
        x: Axis::linear("index (descending)"),
        y: Axis::log("eigenvalue"),
        series: vec![
            Series::from_values(pinned.0, pinned.1)
                .with_markers()
                .dashed()
                .with_color(1),
            Series::from_values(current.0, current.1)
                .with_markers()
                .with_color(0),
        ],
        legend: LegendPosition::UpperRight,
    })
}

/// A kernel block's name as the charts write it: `block.0.query` → `layer 0 · query`.
pub fn block_label(name: &str) -> String {
    name.replace("block.", "layer ").replacen('.', " · ", 1)
}

/// Each block's share of the kernel's trace.
pub fn ntk_block_shares(report: &NtkReport) -> Chart {
    Chart::Bars(BarChart {
        title: "Contribution of each block (share of tr K)".into(),
        value_label: "share of trace".into(),
        categories: report
            .block_summary
            .iter()
            .map(|b| block_label(&b.name))
            .collect(),
        values: report.block_summary.iter().map(|b| b.share).collect(),
        orientation: Orientation::Horizontal,
        percent: true,
        show_values: true,
    })
}

/// `κ` as text (`singular` when not resolvable).
pub fn kappa_text(kappa: Option<f64>) -> String {
    match kappa {
        Some(k) => crate::format_sig(k, 3),
        None => "singular".into(),
    }
}

/// `(λ, value)` for each λ of the sweep that `f` gives a value for.
fn per_lambda(
    report: &SweepReport,
    f: impl Fn(&ntk_lens_core::experiment::SweepPoint) -> Option<f64>,
) -> Vec<(f64, f64)> {
    report
        .results
        .iter()
        .filter_map(|p| f(p).map(|v| (p.lambda, v)))
        .collect()
}

/// The charts of a λ sweep: `(file stem, chart)`: the logit gap, the distance moved, the
/// headline quality and the training loss, each against λ or the step, and, when a λ has it,
/// [`residual_by_eigen_chart`].
pub fn sweep_charts(report: &SweepReport) -> Vec<(&'static str, Chart)> {
    let mut charts = vec![
        ("gap", Chart::Line(gap_chart(report))),
        ("distance", Chart::Line(distance_chart(report))),
        ("accuracy", Chart::Line(quality_chart(report))),
        ("loss", Chart::Line(loss_chart(report))),
    ];
    if report.results.iter().any(|p| p.residual_by_eigen.is_some()) {
        charts.push(("residual_by_eigen", residual_by_eigen_chart(report)));
    }
    charts
}

/// The relative gap between the actual and linearized logits vs λ, on train and eval.
fn gap_chart(report: &SweepReport) -> LineChart {
    LineChart {
        title: "Gap between actual and linearized logits".into(),
        x: Axis::log("λ (proximal strength)"),
        y: Axis::log("relative L2 gap ‖f − f_lin‖ / ‖f_lin‖"),
        series: vec![
            Series::new("train", per_lambda(report, |p| Some(p.gap_train))).with_markers(),
            Series::new("eval", per_lambda(report, |p| p.gap_eval)).with_markers(),
        ],
        legend: LegendPosition::UpperRight,
    }
}

/// The distance moved from θ0 vs λ, actual and linearized, with the bound `‖r0‖/(2√λ)` on the
/// linearized distance at the λ where it holds.
fn distance_chart(report: &SweepReport) -> LineChart {
    let mut series = vec![
        Series::new(
            "actual",
            per_lambda(report, |p| Some(p.param_distance_actual)),
        )
        .with_markers(),
        Series::new(
            "linearized",
            per_lambda(report, |p| Some(p.param_distance_linear)),
        )
        .with_markers(),
    ];
    // Drawn only at the λ where it bounds the linearized run (see `SweepPoint`).
    let bound = per_lambda(report, |p| p.param_distance_bound);
    if !bound.is_empty() {
        series.push(Series::new("bound ‖r0‖/(2√λ) on the linearized", bound).dashed());
    }
    LineChart {
        title: "Distance moved from θ0".into(),
        x: Axis::log("λ (proximal strength)"),
        y: Axis::log("‖θ − θ0‖"),
        series,
        legend: LegendPosition::UpperRight,
    }
}

/// The task's headline quality (accuracy, or Pearson's r for regression) vs λ: train in the
/// first colour, eval in the second, solid for the actual model and dashed for the linearized.
fn quality_chart(report: &SweepReport) -> LineChart {
    let (name, metric) = headline_metric(report.task);
    let eval = |q: &Option<Quality>| q.as_ref().and_then(metric);
    LineChart {
        title: capitalised(name),
        x: Axis::log("λ (proximal strength)"),
        y: Axis::linear(name),
        series: vec![
            Series::new(
                "train, actual",
                per_lambda(report, |p| metric(&p.train_quality_actual)),
            )
            .with_color(0),
            Series::new(
                "train, linearized",
                per_lambda(report, |p| metric(&p.train_quality_linear)),
            )
            .with_color(0)
            .dashed(),
            Series::new(
                "eval, actual",
                per_lambda(report, |p| eval(&p.eval_quality_actual)),
            )
            .with_color(1),
            Series::new(
                "eval, linearized",
                per_lambda(report, |p| eval(&p.eval_quality_linear)),
            )
            .with_color(1)
            .dashed(),
        ],
        legend: LegendPosition::LowerRight,
    }
}

/// The training loss per step of each λ's runs: one colour per λ, solid for the actual run,
/// dashed for the linearized one (where it was run step by step).
fn loss_chart(report: &SweepReport) -> LineChart {
    let mut curves = Vec::new();
    for (k, p) in report.results.iter().enumerate() {
        curves.push(
            Series::from_values(
                format!("λ={} actual", crate::format_sig(p.lambda, 2)),
                &p.loss_curve_actual,
            )
            .with_color(k),
        );
        if !p.loss_curve_linear.is_empty() {
            curves.push(
                Series::from_values(
                    format!("λ={} linear", crate::format_sig(p.lambda, 2)),
                    &p.loss_curve_linear,
                )
                .with_color(k)
                .dashed(),
            );
        }
    }
    LineChart {
        title: "Training loss (solid: actual, dashed: linearized)".into(),
        x: Axis::linear("step"),
        y: Axis::log("loss (data + proximal)"),
        series: curves,
        legend: LegendPosition::UpperRight,
    }
}

/// Training along the kernel's eigen-directions: per λ, the fraction of the start residual left
/// along each eigenvector against its eigenvalue (log–log), dashed for the linearized model
/// (closed form), with markers for the actual model (fractions ≤ 0, where the actual model
/// overshot, are not drawn on the log axis).
pub fn residual_by_eigen_chart(report: &SweepReport) -> Chart {
    residual_by_eigen_at(report, None)
}

/// [`residual_by_eigen_chart`] after `step` steps of the runs (the linearized model's closed
/// form at that step; the actual model is known only at the end, so it is drawn only there).
/// `None`: the end.
pub fn residual_by_eigen_at(report: &SweepReport, step: Option<u64>) -> Chart {
    let mut series = Vec::new();
    for (k, p) in report.results.iter().enumerate() {
        let Some(r) = &p.residual_by_eigen else {
            continue;
        };
        let t = step.unwrap_or(r.steps).min(r.steps);
        let at_t: Vec<f64> = r
            .eigenvalues
            .iter()
            .map(|&mu| {
                let q: f64 = 1.0 - r.lr * (mu + p.lambda);
                p.lambda / (mu + p.lambda) + mu / (mu + p.lambda) * q.powi(t as i32)
            })
            .collect();
        let lambda = crate::format_sig(p.lambda, 2);
        let pairs = |v: &[Option<f64>]| -> Vec<(f64, f64)> {
            r.eigenvalues
                .iter()
                .zip(v)
                .filter_map(|(&mu, f)| Some((mu, (*f)?)))
                .collect()
        };
        let linear: Vec<Option<f64>> = at_t.into_iter().map(Some).collect();
        // One legend entry per λ for the linear curves and one for the dots (their colours
        // follow λ): the legend stays small in the lower left, where the slow directions'
        // fractions, near 1, leave room.
        series.push(
            Series::new(format!("λ={lambda} linear"), pairs(&linear))
                .with_color(k)
                .dashed(),
        );
        if t == r.steps {
            let first = !series.iter().any(|s: &Series| s.points_only);
            series.push(
                Series::new(if first { "actual" } else { "" }, pairs(&shown_actual(r)))
                    .with_color(k)
                    .points_only(),
            );
        }
    }
    let when = match step {
        Some(1) => " after 1 step".to_string(),
        Some(t) => format!(" after {t} steps"),
        None => String::new(),
    };
    Chart::Line(LineChart {
        title: format!("Residual left along each eigen-direction{when}"),
        x: Axis::log("eigenvalue μ_i of the NTK"),
        y: Axis::log("fraction of the start residual left"),
        series,
        legend: LegendPosition::LowerLeft,
    })
}

/// The actual fractions worth drawing: along directions that carry at least a tenth of an even
/// share of the start residual (`|u_iᵀ r_0| ≥ 0.1·‖r_0‖/√d`). Along the others the fraction
/// divides by almost nothing and shows round-off and what nonlinearity moved there, not how
/// training moves that direction.
pub fn shown_actual(r: &ntk_lens_core::linear::ResidualByEigen) -> Vec<Option<f64>> {
    let floor = 0.1 / (r.actual.len().max(1) as f64).sqrt();
    r.actual
        .iter()
        .enumerate()
        .map(|(i, a)| a.filter(|_| r.start_share.get(i).is_none_or(|&s| s >= floor)))
        .collect()
}

/// The headline quality measure of a task, with its name: accuracy for classes, Pearson's r
/// for regression.
fn headline_metric(task: Task) -> (&'static str, fn(&Quality) -> Option<f64>) {
    match task {
        Task::Classification => ("accuracy", |q| q.accuracy),
        Task::Regression => ("Pearson r", |q| q.pearson),
    }
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A candidate's name on a scatter: its blocks for a single block, else its label; "≥ " before
/// it when its κ is a lower bound (beyond the f32 kernel's resolution).
fn candidate_name(c: &Candidate) -> String {
    format!(
        "{}{}",
        if c.kappa_lower_bound { "≥ " } else { "" },
        if c.label == "single" {
            c.blocks.join("+").replace("block.", "")
        } else {
            c.label.clone()
        }
    )
}

/// The corner note of a correlation, when it has both coefficients.
fn given(c: &ntk_lens_core::experiment::Correlation) -> Correlation {
    match (c.pearson, c.spearman) {
        (Some(pearson), Some(spearman)) => Correlation::Given {
            pearson,
            spearman,
            n: c.n,
        },
        _ => Correlation::None,
    }
}

/// The charts of a selection study: κ at init against the train loss and eval accuracy (eval
/// Pearson's r for regression). The κ axis names the shift the study used (`κ(K_S)`, or e.g.
/// `κ(K_S + 0.01·I)`); the loss axis says which train loss it is
/// ([`StudyReport::train_loss_label`]: the final one, or the best epoch's under the recipe
/// after the paper's code).
pub fn study_charts(report: &StudyReport) -> Vec<(&'static str, Chart)> {
    let points = |f: &dyn Fn(&Candidate) -> Option<f64>| {
        report
            .candidates
            .iter()
            .filter_map(|c| {
                Some(ScatterPoint {
                    x: c.kappa?,
                    y: f(c)?,
                    label: Some(candidate_name(c)),
                })
            })
            .collect::<Vec<_>>()
    };
    let (name, metric) = headline_metric(report.task);
    let steps = match (
        report.config.recipe,
        report.config.training.optimizer,
        report.config.step_rule,
    ) {
        (Recipe::Paper, _, _) => "recipe after the paper's code",
        (_, OptimizerKind::Gd, StepRule::PerSubset) => "a step per candidate",
        _ => "one shared step",
    };
    let kappa = format!("{} at init ({steps})", report.config.kappa_symbol());
    vec![
        (
            "kappa_vs_loss",
            Chart::Scatter(ScatterChart {
                title: "κ at initialisation vs train loss".into(),
                x: Axis::log(kappa.clone()),
                y: Axis::linear(report.train_loss_label()),
                points: points(&|c| c.train_loss),
                fit_line: true,
                correlation: given(&report.kappa_vs_loss),
            }),
        ),
        (
            "kappa_vs_accuracy",
            Chart::Scatter(ScatterChart {
                title: format!("κ at initialisation vs eval {name}"),
                x: Axis::log(kappa),
                y: Axis::linear(format!("eval {name}")),
                points: points(&|c| c.eval_quality.as_ref().and_then(metric)),
                fit_line: true,
                correlation: given(&report.kappa_vs_accuracy),
            }),
        ),
    ]
}

/// The charts of pooled studies: every study's candidates in one scatter, log10 κ and the
/// outcome standardized within each study (the points the pooled correlations are computed
/// on), each point labelled `dataset: candidate`, with the pooled correlations.
pub fn pooled_charts(report: &PooledReport) -> Vec<(&'static str, Chart)> {
    let Some(first) = report.studies.first() else {
        return Vec::new();
    };
    let kappa = first.report.config.kappa_symbol();
    let chart = |outcome: Outcome, what: &str, c: &ntk_lens_core::experiment::Correlation| {
        let points = report
            .studies
            .iter()
            .flat_map(|s| {
                standardized(&s.report, outcome)
                    .into_iter()
                    .map(move |(i, x, y)| ScatterPoint {
                        x,
                        y,
                        label: Some(format!(
                            "{}: {}",
                            s.dataset,
                            candidate_name(&s.report.candidates[i])
                        )),
                    })
            })
            .collect();
        Chart::Scatter(ScatterChart {
            title: format!("κ at init vs {what}, pooled within studies (labels: study: candidate)"),
            x: Axis::linear(format!("log10 {kappa}, standardized within each study")),
            y: Axis::linear(format!("{what}, standardized within each study")),
            points,
            fit_line: true,
            correlation: given(c),
        })
    };
    let eval = format!("eval {}", headline_metric(report.task).0);
    let loss = pooled_train_loss_label(report.studies.iter().map(|s| &s.report));
    vec![
        (
            "kappa_vs_loss",
            chart(Outcome::Loss, &loss, &report.kappa_vs_loss),
        ),
        (
            "kappa_vs_accuracy",
            chart(Outcome::Eval, &eval, &report.kappa_vs_accuracy),
        ),
    ]
}

/// Eigenvalues `μ_i` of `K_S`, `K_S + K_l` and Weyl's bounds when block `l` is added (μ for
/// the eigenvalues, as on the rest of the page; λ is the penalty).
pub fn weyl_chart(report: &WeylReport, added: &str) -> Chart {
    Chart::Line(LineChart {
        title: format!("Weyl bounds, adding {}", added.trim_start_matches("block.")),
        x: Axis::linear("index i (descending)"),
        y: Axis::log("eigenvalue μ_i"),
        series: vec![
            Series::from_values("μ_i(K_S)", &report.base).with_color(0),
            Series::from_values("μ_i(K_S + K_l)", &report.sum)
                .with_color(1)
                .with_markers(),
            Series::from_values("lower bound μ_i(K_S) + μ_min(K_l)", &report.lower)
                .with_color(2)
                .dashed(),
            Series::from_values("upper bound μ_i(K_S) + μ_max(K_l)", &report.upper)
                .with_color(3)
                .dashed(),
        ],
        legend: LegendPosition::UpperRight,
    })
}

/// The radius probe (Algorithm 1): `L_avg`, `L_upper` and the relative kernel change vs `r`.
pub fn radius_chart(points: &[RadiusPoint]) -> Chart {
    let pick = |f: fn(&RadiusPoint) -> f64| points.iter().map(|p| (p.radius, f(p))).collect();
    Chart::Line(LineChart {
        title: "How fast the kernel changes around θ0".into(),
        x: Axis::log("radius r = ‖θ − θ0‖"),
        y: Axis::log("max |K_θ − K_θ0| / r  and  ‖ΔK‖/‖K‖"),
        series: vec![
            Series::new("L_avg", pick(|p| p.l_avg)).with_markers(),
            Series::new("L_upper", pick(|p| p.l_upper)).dashed(),
            Series::new("relative change ‖ΔK‖_F/‖K‖_F", pick(|p| p.relative_change)).with_markers(),
        ],
        legend: LegendPosition::LowerRight,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heatmap_orders_by_output_class_then_label() {
        let names = ["neg".to_string(), "pos".to_string()];
        // Samples 0, 1, 2 with labels pos, neg, pos; two outputs each (row i·2 + a).
        let g = output_grouping(&[1, 0, 1], 2, &names, HeatmapOrder::ByOutput);
        assert_eq!(g.order, [2, 0, 4, 3, 1, 5]);
        assert_eq!(g.boundaries, [1, 3, 4]);
        assert_eq!(
            g.labels,
            [
                "out neg · neg",
                "out neg · pos",
                "out pos · neg",
                "out pos · pos"
            ]
        );
        // Sample-major: each sample's two rows together, the samples grouped by label.
        let s = output_grouping(&[1, 0, 1], 2, &names, HeatmapOrder::BySample);
        assert_eq!(s.order, [0, 1, 4, 5, 2, 3]);
        assert_eq!(
            (s.boundaries, s.labels),
            (vec![4], vec!["pos".into(), "neg".into()])
        );
        // One output per sample (trace layout, regression): only the label level.
        let t = output_grouping(&[1, 0, 1], 1, &names, HeatmapOrder::ByOutput);
        assert_eq!(t.order, [0, 2, 1]);
    }
}
