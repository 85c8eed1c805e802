//! Renders every chart to SVG and checks what was drawn.

use crate::heatmap::COLORBAR_STEPS;
use crate::*;

fn count(svg: &str, tag: &str) -> usize {
    svg.matches(&format!("<{tag} ")).count() + svg.matches(&format!("<{tag}>")).count()
}

/// Texts of all `<text>` elements.
fn texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let body = t.split_once('>')?.1;
            Some(body.split("</text>").next()?.trim().to_string())
        })
        .collect()
}

/// Number of `<tag>` elements stroked in `color`.
fn count_stroked(svg: &str, tag: &str, color: Rgb) -> usize {
    let stroke = format!("stroke=\"{}\"", color.to_hex()).to_lowercase();
    svg.lines()
        .filter(|l| l.starts_with(&format!("<{tag} ")) && l.to_lowercase().contains(&stroke))
        .count()
}

fn has_text(svg: &str, s: &str) -> bool {
    texts(svg).iter().any(|t| t == s)
}

/// Dumps the SVG to $NTK_LENS_PLOTS_DUMP/<name>.svg when set (for looking at them).
fn dump(name: &str, svg: &str) {
    if let Ok(dir) = std::env::var("NTK_LENS_PLOTS_DUMP") {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(format!("{dir}/{name}.svg"), svg).unwrap();
    }
}

fn render(chart: &Chart, theme: &Theme) -> String {
    svg_string(600, 400, |a| chart.draw(a, theme)).expect("draws")
}

fn kernel(n: usize) -> Vec<Vec<f64>> {
    (0..n)
        .map(|i| {
            (0..n)
                .map(|j| {
                    ((i as f64 - j as f64) / 3.0).cos() * if (i + j) % 3 == 0 { 1.0 } else { -0.5 }
                })
                .collect()
        })
        .collect()
}

#[test]
fn heatmap_draws_n_by_n_cells_and_colorbar() {
    let n = 7;
    let chart = Heatmap {
        title: "Kernel K".into(),
        values: kernel(n),
        value_label: "K(x, x')".into(),
        ..Default::default()
    };
    let svg = render(&Chart::Heatmap(chart), &Theme::light());
    dump("heatmap", &svg);
    // background + cells + colour bar
    assert_eq!(count(&svg, "rect"), 1 + n * n + COLORBAR_STEPS);
    assert!(has_text(&svg, "Kernel K"));
    assert!(has_text(&svg, "K(x, x&apos;)"));
    // diverging (data have both signs): symmetric colour bar with a 0 tick
    assert!(has_text(&svg, "0"), "{:?}", texts(&svg));
    // no grouping: no separators
    assert_eq!(
        count_stroked(&svg, "polyline", Theme::light().foreground),
        0
    );
}

#[test]
fn heatmap_groups_draw_separators_and_labels() {
    let labels = ["neg", "pos", "neg", "pos", "pos", "neg", "neu"];
    let g = Grouping::from_labels(&labels);
    assert_eq!(g.order, vec![0, 2, 5, 1, 3, 4, 6]);
    assert_eq!(g.boundaries, vec![3, 6]);
    assert_eq!(g.labels, vec!["neg", "pos", "neu"]);
    let n = labels.len();
    let chart = Heatmap {
        title: "grouped".into(),
        values: kernel(n),
        groups: Some(g),
        scale: ColorScale::Sequential,
        ..Default::default()
    };
    let svg = render(&Chart::Heatmap(chart.clone()), &Theme::dark());
    dump("heatmap_grouped", &svg);
    assert_eq!(count(&svg, "rect"), 1 + n * n + COLORBAR_STEPS);
    // two boundaries, a vertical and a horizontal line each
    assert_eq!(count_stroked(&svg, "polyline", Theme::dark().foreground), 4);
    for l in ["neg", "pos", "neu"] {
        // once on the left, once at the bottom
        assert_eq!(texts(&svg).iter().filter(|t| *t == l).count(), 2, "{l}");
    }
    // an invalid permutation falls back to the plain order (no separators), without error
    let mut bad = chart;
    bad.groups.as_mut().unwrap().order[0] = 99;
    let svg = render(&Chart::Heatmap(bad), &Theme::light());
    assert_eq!(
        count_stroked(&svg, "polyline", Theme::light().foreground),
        0
    );
    assert_eq!(count(&svg, "rect"), 1 + n * n + COLORBAR_STEPS);
}

#[test]
fn heatmap_degenerate_inputs() {
    let theme = Theme::light();
    for (name, values) in [
        ("empty", vec![]),
        (
            "nan",
            vec![
                vec![f64::NAN, f64::INFINITY],
                vec![f64::NEG_INFINITY, f64::NAN],
            ],
        ),
    ] {
        let svg = render(
            &Chart::Heatmap(Heatmap {
                title: name.into(),
                values,
                ..Default::default()
            }),
            &theme,
        );
        assert!(has_text(&svg, NO_DATA), "{name}");
        assert!(has_text(&svg, name));
    }
    // single cell, all equal, ragged rows with NaN, huge values: drawn, one rect per cell
    for values in [
        vec![vec![5.0]],
        vec![vec![2.0; 3]; 3],
        vec![vec![1.0, f64::NAN], vec![3.0]],
        vec![vec![1e300, -1e300], vec![f64::MAX, 1e-300]],
    ] {
        let n = values.len();
        let svg = render(
            &Chart::Heatmap(Heatmap {
                values,
                ..Default::default()
            }),
            &theme,
        );
        assert!(!has_text(&svg, NO_DATA));
        assert_eq!(count(&svg, "rect"), 1 + n * n + COLORBAR_STEPS);
    }
    // too small to hold cells: still Ok
    svg_string(60, 30, |a| {
        heatmap(
            a,
            &Heatmap {
                values: kernel(3),
                ..Default::default()
            },
            &theme,
        )
    })
    .unwrap();
}

fn spectrum_chart() -> LineChart {
    LineChart {
        title: "NTK spectrum".into(),
        x: Axis::linear("index"),
        y: Axis::log("eigenvalue"),
        series: vec![
            Series::from_values("K_S", &[10.0, 3.0, 1.0, 0.1, 0.01]),
            Series::from_values("K_S + K_l", &[12.0, 4.0, 1.5, 0.2, 0.02]),
        ],
        ..Default::default()
    }
}

#[test]
fn line_chart_one_polyline_per_series_with_labels() {
    let svg = render(&Chart::Line(spectrum_chart()), &Theme::light());
    dump("line_spectrum", &svg);
    assert!(has_text(&svg, "NTK spectrum"));
    assert!(has_text(&svg, "index"));
    assert!(has_text(&svg, "eigenvalue"));
    assert!(has_text(&svg, "K_S") && has_text(&svg, "K_S + K_l"));
    // one path per series + one legend sample per series
    let t = Theme::light();
    assert_eq!(count_stroked(&svg, "polyline", t.color(0)), 2);
    assert_eq!(count_stroked(&svg, "polyline", t.color(1)), 2);
    assert_eq!(count(&svg, "circle"), 0);
    // log axis: decade labels
    assert!(
        has_text(&svg, "0.1") && has_text(&svg, "10"),
        "{:?}",
        texts(&svg)
    );
}

#[test]
fn line_chart_log_axes_skip_non_positive_values() {
    let chart = LineChart {
        title: "distance vs λ".into(),
        x: Axis::log("λ"),
        y: Axis::log("‖θ − θ₀‖"),
        series: vec![
            // x = 0 and y = -1 are skipped: the line breaks into two runs of 2 points
            Series::new(
                "distance",
                vec![
                    (1e-3, 1.0),
                    (1e-2, 0.5),
                    (0.0, 0.4),
                    (1e-1, 0.3),
                    (1.0, 0.1),
                ],
            ),
            Series::new("only bad", vec![(-1.0, 1.0), (1.0, -1.0), (f64::NAN, 1.0)]),
        ],
        ..Default::default()
    };
    let svg = render(&Chart::Line(chart.clone()), &Theme::light());
    dump("line_loglog", &svg);
    // two runs + one legend sample; the all-bad series is not drawn nor listed
    let t = Theme::light();
    assert_eq!(count_stroked(&svg, "polyline", t.color(0)), 3);
    assert_eq!(count_stroked(&svg, "polyline", t.color(1)), 0);
    assert!(!has_text(&svg, "only bad"));
    assert!(has_text(&svg, "λ"));
    // on linear axes nothing positive-only is skipped: the non-finite point still breaks the line
    let mut linear = chart;
    linear.x.log = false;
    linear.y.log = false;
    let svg = render(&Chart::Line(linear), &Theme::light());
    // "distance": one run of 5 + legend; "only bad": the two finite points + legend
    assert_eq!(count_stroked(&svg, "polyline", t.color(0)), 2);
    assert_eq!(count_stroked(&svg, "polyline", t.color(1)), 2);
}

#[test]
fn line_chart_dashed_bounds_and_markers() {
    let chart = LineChart {
        title: "Weyl bounds".into(),
        x: Axis::linear("index"),
        y: Axis::linear("eigenvalue"),
        series: vec![
            Series::from_values("μ(K_S)", &[4.0, 2.0, 1.0, 0.5]).with_markers(),
            Series::from_values("lower", &[3.5, 1.5, 0.5, 0.1])
                .dashed()
                .with_color(3),
            Series::from_values("upper", &[5.0, 3.0, 2.0, 1.0])
                .dashed()
                .with_color(3),
        ],
        legend: LegendPosition::UpperRight,
    };
    let svg = render(&Chart::Line(chart), &Theme::dark());
    dump("line_weyl", &svg);
    // solid series: its path + legend sample; dashed series are drawn as many short dashes
    assert_eq!(count(&svg, "circle"), 4);
    let t = Theme::dark();
    assert_eq!(count_stroked(&svg, "polyline", t.color(0)), 2);
    let dashes =
        count_stroked(&svg, "polyline", t.color(3)) + count_stroked(&svg, "line", t.color(3));
    assert!(dashes > 2 * 4, "dashes: {dashes}");
    for t in ["μ(K_S)", "lower", "upper", "Weyl bounds"] {
        assert!(has_text(&svg, t), "{t}");
    }
}

#[test]
fn line_chart_degenerate_inputs() {
    let theme = Theme::light();
    let cases: Vec<(&str, Vec<Series>, bool)> = vec![
        ("no series", vec![], true),
        ("empty series", vec![Series::new("a", vec![])], true),
        (
            "nan only",
            vec![Series::new(
                "a",
                vec![(f64::NAN, 1.0), (1.0, f64::INFINITY)],
            )],
            true,
        ),
        (
            "single point",
            vec![Series::new("a", vec![(1.0, 2.0)])],
            false,
        ),
        (
            "all equal",
            vec![Series::new("a", vec![(1.0, 2.0), (1.0, 2.0), (1.0, 2.0)])],
            false,
        ),
        (
            "huge range",
            vec![Series::new(
                "a",
                vec![(-1e308, f64::MAX), (1e308, -f64::MAX), (0.0, 1e-300)],
            )],
            false,
        ),
        (
            "tiny range",
            vec![Series::new("a", vec![(0.0, 1.0), (1.0, 1.0 + 1e-15)])],
            false,
        ),
    ];
    for (name, series, empty) in cases {
        let chart = LineChart {
            title: name.into(),
            x: Axis::linear("x"),
            y: Axis::linear("y"),
            series,
            ..Default::default()
        };
        let svg = render(&Chart::Line(chart.clone()), &theme);
        assert_eq!(has_text(&svg, NO_DATA), empty, "{name}");
        assert!(has_text(&svg, name), "{name}");
        let mut log = chart;
        log.x.log = true;
        log.y.log = true;
        render(&Chart::Line(log), &theme);
    }
    // a single point is drawn as a dot
    let chart = LineChart {
        series: vec![Series::new("a", vec![(1.0, 2.0)])],
        ..Default::default()
    };
    let svg = render(&Chart::Line(chart), &theme);
    assert_eq!(count(&svg, "circle"), 2); // the dot and its legend sample
                                          // log y with only non-positive values: a note that says why
    let chart = LineChart {
        y: Axis::log("y"),
        series: vec![Series::from_values("a", &[0.0, -1.0])],
        ..Default::default()
    };
    let svg = render(&Chart::Line(chart), &theme);
    assert!(has_text(&svg, NO_DATA));
    assert!(svg.contains("log axis"));
}

#[test]
fn scatter_points_labels_fit_and_correlation() {
    let kappa = [1e2, 1e3, 1e4, 1e5, 1e6];
    let loss = [0.2, 0.3, 0.35, 0.5, 0.55];
    let chart = ScatterChart {
        title: "κ at init vs final loss".into(),
        x: Axis::log("κ(K + λI) at init"),
        y: Axis::linear("final loss"),
        points: kappa
            .iter()
            .zip(loss)
            .enumerate()
            .map(|(i, (&x, y))| ScatterPoint {
                x,
                y,
                label: Some(format!("set {i}")),
            })
            .collect(),
        fit_line: true,
        correlation: Correlation::Given {
            pearson: pearson(&kappa.map(f64::log10), &loss),
            spearman: 1.0,
            n: 5,
        },
    };
    let svg = render(&Chart::Scatter(chart.clone()), &Theme::light());
    dump("scatter", &svg);
    assert_eq!(count(&svg, "circle"), 5);
    assert_eq!(count_stroked(&svg, "polyline", Theme::light().color(1)), 1);
    for i in 0..5 {
        assert!(has_text(&svg, &format!("set {i}")));
    }
    let r = pearson(&kappa.map(f64::log10), &loss);
    let note = format!("Pearson r = {r:.3}, Spearman ρ = 1.000, n = 5");
    assert!(has_text(&svg, &note), "{:?}", texts(&svg));
    assert!(has_text(&svg, "κ(K + λI) at init") && has_text(&svg, "final loss"));

    // given numbers are shown as given; non-positive x on the log axis is skipped
    let mut given = chart;
    given.points.push(ScatterPoint {
        x: 0.0,
        y: 1.0,
        label: Some("bad".into()),
    });
    given.correlation = Correlation::Given {
        pearson: 0.5,
        spearman: f64::NAN,
        n: 6,
    };
    given.fit_line = false;
    let svg = render(&Chart::Scatter(given), &Theme::dark());
    assert_eq!(count(&svg, "circle"), 5);
    assert!(!has_text(&svg, "bad"));
    assert_eq!(count_stroked(&svg, "polyline", Theme::dark().color(1)), 0);
    assert!(has_text(&svg, "Pearson r = 0.500, Spearman ρ = n/a, n = 6"));
}

#[test]
fn scatter_degenerate_inputs() {
    let theme = Theme::light();
    let p = |x: f64, y: f64| ScatterPoint { x, y, label: None };
    let empty = ScatterChart {
        title: "s".into(),
        ..Default::default()
    };
    assert!(has_text(&render(&Chart::Scatter(empty), &theme), NO_DATA));
    let nan = ScatterChart {
        points: vec![p(f64::NAN, 1.0)],
        ..Default::default()
    };
    assert!(has_text(&render(&Chart::Scatter(nan), &theme), NO_DATA));
    // one point: drawn, no fit line, correlation n/a
    let one = ScatterChart {
        points: vec![p(1.0, 1.0)],
        fit_line: true,
        correlation: Correlation::Given {
            pearson: f64::NAN,
            spearman: f64::NAN,
            n: 1,
        },
        ..Default::default()
    };
    let svg = render(&Chart::Scatter(one), &theme);
    assert_eq!(count(&svg, "circle"), 1);
    assert_eq!(count_stroked(&svg, "polyline", theme.color(1)), 0);
    assert!(has_text(&svg, "Pearson r = n/a, Spearman ρ = n/a, n = 1"));
    // equal x: no fit line; equal y: a flat one
    let vertical = ScatterChart {
        points: vec![p(1.0, 1.0), p(1.0, 2.0)],
        fit_line: true,
        ..Default::default()
    };
    assert_eq!(
        count_stroked(
            &render(&Chart::Scatter(vertical), &theme),
            "polyline",
            theme.color(1)
        ),
        0
    );
    let flat = ScatterChart {
        points: vec![p(1.0, 1.0), p(2.0, 1.0)],
        fit_line: true,
        ..Default::default()
    };
    assert_eq!(
        count_stroked(
            &render(&Chart::Scatter(flat), &theme),
            "polyline",
            theme.color(1)
        ),
        1
    );
    let huge = ScatterChart {
        points: vec![p(-f64::MAX, 1.0), p(f64::MAX, -1e300)],
        fit_line: true,
        ..Default::default()
    };
    render(&Chart::Scatter(huge), &theme);
}

#[test]
fn bars_one_rect_per_value() {
    let names: Vec<String> = (0..6).map(|l| format!("layer {l} · query")).collect();
    let values = vec![0.3, 0.2, 0.15, 0.15, 0.1, 0.1];
    for orientation in [Orientation::Horizontal, Orientation::Vertical] {
        let chart = BarChart {
            title: "Trace share per block".into(),
            value_label: "share of tr K".into(),
            categories: names.clone(),
            values: values.clone(),
            orientation,
            percent: true,
            show_values: true,
        };
        let svg = render(&Chart::Bars(chart), &Theme::light());
        dump(&format!("bars_{orientation:?}"), &svg);
        assert_eq!(count(&svg, "rect"), 1 + 6, "{orientation:?}");
        assert!(has_text(&svg, "Trace share per block"));
        assert!(has_text(&svg, "share of tr K"));
        assert!(
            has_text(&svg, "30%") && has_text(&svg, "15%"),
            "{:?}",
            texts(&svg)
        );
        assert!(
            texts(&svg)
                .iter()
                .filter(|t| t.starts_with("layer "))
                .count()
                == 6
        );
    }
}

#[test]
fn bars_degenerate_inputs() {
    let theme = Theme::dark();
    let empty = BarChart {
        title: "b".into(),
        ..Default::default()
    };
    assert!(has_text(&render(&Chart::Bars(empty), &theme), NO_DATA));
    let nan = BarChart {
        categories: vec!["a".into()],
        values: vec![f64::NAN],
        ..Default::default()
    };
    assert!(has_text(&render(&Chart::Bars(nan), &theme), NO_DATA));
    // a missing value and a NaN: no bar, "n/a"; all zero; negative; huge
    let mixed = BarChart {
        categories: vec!["a".into(), "b".into(), "c".into()],
        values: vec![1.0, f64::NAN],
        ..Default::default()
    };
    let svg = render(&Chart::Bars(mixed), &theme);
    assert_eq!(count(&svg, "rect"), 2);
    assert_eq!(texts(&svg).iter().filter(|t| *t == "n/a").count(), 2);
    for values in [
        vec![0.0, 0.0],
        vec![-1.0, 2.0],
        vec![f64::MAX, -f64::MAX],
        vec![1e-300, 1e-300],
    ] {
        for orientation in [Orientation::Horizontal, Orientation::Vertical] {
            let c = BarChart {
                categories: vec!["x".into(), "y".into()],
                values: values.clone(),
                orientation,
                show_values: true,
                ..Default::default()
            };
            let svg = render(&Chart::Bars(c), &theme);
            assert_eq!(count(&svg, "rect"), 3, "{values:?}");
        }
    }
}

#[test]
fn svg_string_rejects_zero_size_and_chart_round_trips_through_json() {
    assert!(matches!(
        svg_string(0, 10, |_| Ok(())),
        Err(PlotError::InvalidSize {
            width: 0,
            height: 10
        })
    ));
    let chart = Chart::Line(spectrum_chart());
    let json = serde_json::to_string(&chart).unwrap();
    assert!(json.contains("\"kind\":\"line\""));
    let back: Chart = serde_json::from_str(&json).unwrap();
    assert_eq!(back, chart);
    assert_eq!(back.title(), "NTK spectrum");
    let theme: Theme =
        serde_json::from_str(&serde_json::to_string(&Theme::dark()).unwrap()).unwrap();
    assert_eq!(theme, Theme::dark());
}

#[test]
fn small_and_large_sizes_draw() {
    let charts = [
        Chart::Line(spectrum_chart()),
        Chart::Heatmap(Heatmap {
            values: kernel(4),
            ..Default::default()
        }),
        Chart::Bars(BarChart {
            categories: vec!["a".into()],
            values: vec![1.0],
            ..Default::default()
        }),
        Chart::Scatter(ScatterChart {
            points: vec![ScatterPoint {
                x: 1.0,
                y: 2.0,
                label: None,
            }],
            ..Default::default()
        }),
    ];
    for c in &charts {
        for (w, h) in [(1, 1), (120, 80), (2000, 1400)] {
            svg_string(w, h, |a| c.draw(a, &Theme::light()))
                .unwrap_or_else(|e| panic!("{w}x{h}: {e}"));
        }
    }
}

/// Pearson's r (the test's own, to check the note shows the value it is given).
fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sxx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
    let syy: f64 = y.iter().map(|b| (b - my).powi(2)).sum();
    sxy / (sxx * syy).sqrt()
}

#[cfg(feature = "reports")]
#[test]
fn compared_spectra_draw_both_series_with_their_names() {
    let chart = reports::spectra_compared(
        ("pinned: layers 0–2", &[3.0, 1.0, 0.1, 0.01]),
        ("current: layers 3–5", &[5.0, 2.0, 0.5, 0.2, 0.1, 0.05]),
    );
    let svg = render(&chart, &Theme::light());
    dump("spectra_compared", &svg);
    // One dot per eigenvalue of each spectrum.
    assert_eq!(count(&svg, "circle"), 4 + 6);
    let t = Theme::light();
    // The current spectrum solid (its path and its legend sample), the pinned one dashed.
    assert_eq!(count_stroked(&svg, "polyline", t.color(0)), 2);
    assert!(
        count_stroked(&svg, "line", t.color(1)) + count_stroked(&svg, "polyline", t.color(1)) > 4
    );
    for s in [
        "pinned: layers 0–2",
        "current: layers 3–5",
        "Spectra: pinned and current",
    ] {
        assert!(has_text(&svg, s), "{s}");
    }
}

#[test]
fn points_only_series_draw_dots_and_no_line() {
    let chart = LineChart {
        title: "per direction".into(),
        x: Axis::log("μ"),
        y: Axis::log("left"),
        series: vec![
            Series::new("closed form", vec![(1.0, 1.0), (2.0, 0.5), (4.0, 0.25)]).dashed(),
            Series::new("actual", vec![(1.0, 0.9), (2.0, 0.6), (4.0, 0.2)])
                .points_only()
                .with_color(2),
        ],
        legend: LegendPosition::LowerLeft,
    };
    let svg = render(&Chart::Line(chart), &Theme::light());
    dump("points_only", &svg);
    let t = Theme::light();
    // Three dots and one legend dot; nothing stroked in its colour (no path, no legend line).
    assert_eq!(count(&svg, "circle"), 3 + 1);
    assert_eq!(count_stroked(&svg, "polyline", t.color(2)), 0);
    assert_eq!(count_stroked(&svg, "line", t.color(2)), 0);
    assert!(has_text(&svg, "actual"));
}

#[cfg(feature = "reports")]
#[test]
fn actual_fractions_are_drawn_only_where_the_start_residual_has_a_share() {
    use ntk_lens_core::linear::ResidualByEigen;
    // 4 directions: an even share is 1/2; the floor is a tenth of it, 0.05.
    let r = ResidualByEigen {
        eigenvalues: vec![4.0, 2.0, 1.0, 0.5],
        lr: 0.1,
        steps: 3,
        linear: vec![0.5, 0.6, 0.7, 0.8],
        floor: vec![0.1, 0.2, 0.3, 0.4],
        actual: vec![Some(0.5), Some(3.0), None, Some(0.8)],
        start_share: vec![0.9, 0.01, 0.0, 0.05],
    };
    assert_eq!(
        reports::shown_actual(&r),
        vec![Some(0.5), None, None, Some(0.8)]
    );
    // A report written before the shares were recorded draws every fraction it has.
    let old = ResidualByEigen {
        start_share: vec![],
        ..r
    };
    assert_eq!(reports::shown_actual(&old), old.actual);
}

/// A trained study of the candidates (log10 κ, final loss), with the κ shift `kappa_lambda`.
#[cfg(feature = "reports")]
fn study(kappa_lambda: f64, points: &[(f64, f64)]) -> ntk_lens_core::experiment::StudyReport {
    use ntk_lens_core::experiment::{kappa_correlations, Candidate, StudyConfig, StudyReport};
    use ntk_lens_core::options::{Recipe, StepRule, Strategy};
    let candidates: Vec<Candidate> = points
        .iter()
        .enumerate()
        .map(|(i, &(k, loss))| Candidate {
            label: "single".into(),
            blocks: vec![format!("block.{i}.query")],
            params: 1,
            kappa: Some(10f64.powf(k)),
            kappa_lower_bound: false,
            lr: None,
            lambda_min: 1.0,
            lambda_max: 1.0,
            train_loss: Some(loss),
            train_acc: None,
            eval_acc: None,
            train_quality: None,
            eval_quality: None,
            best_epoch: None,
        })
        .collect();
    let (kappa_vs_loss, kappa_vs_accuracy) = kappa_correlations(candidates.iter());
    StudyReport {
        model: "m".into(),
        config: StudyConfig {
            budget: 1,
            strategy: Strategy::AllSingles,
            kappa_lambda,
            train: true,
            training: Default::default(),
            step_rule: StepRule::PerSubset,
            lr: None,
            recipe: Recipe::Theory,
        },
        selected: vec![],
        greedy: None,
        candidates,
        kappa_vs_loss,
        kappa_vs_accuracy,
        task: Default::default(),
        notes: vec![],
        steps: String::new(),
    }
}

#[cfg(feature = "reports")]
#[test]
fn study_scatter_axis_names_the_kappa_shift_used() {
    let points = [(2.0, 3.0), (2.2, 2.9), (2.4, 2.8)];
    for (lambda, want) in [(0.0, "κ(K_S) at init"), (0.01, "κ(K_S + 0.01·I) at init")] {
        let charts = reports::study_charts(&study(lambda, &points));
        assert_eq!(charts.len(), 2);
        for (_, chart) in &charts {
            let Chart::Scatter(c) = chart else {
                panic!("a scatter")
            };
            assert!(c.x.label.starts_with(want), "{}", c.x.label);
            assert!(!c.x.label.contains('λ'), "{}", c.x.label);
        }
        let svg = render(&charts[0].1, &Theme::light());
        assert!(texts(&svg).iter().any(|t| t.starts_with(want)), "{want}");
    }
}

#[cfg(feature = "reports")]
#[test]
fn pooled_scatter_draws_within_study_z_scores_labelled_by_study() {
    use ntk_lens_core::experiment::{pool, PooledStudy};
    let a = [(2.0, 3.0), (2.2, 2.9), (2.4, 2.8), (2.6, 2.7)];
    let b = [(3.0, 6.0), (3.2, 5.9), (3.4, 5.8), (3.6, 5.7)];
    let report = pool(vec![
        PooledStudy {
            dataset: "A".into(),
            report: study(0.01, &a),
        },
        PooledStudy {
            dataset: "B".into(),
            report: study(0.01, &b),
        },
    ])
    .unwrap();
    let charts = reports::pooled_charts(&report);
    let Chart::Scatter(c) = &charts[0].1 else {
        panic!("a scatter")
    };
    assert_eq!(
        c.x.label,
        "log10 κ(K_S + 0.01·I), standardized within each study"
    );
    assert!(!c.x.log && !c.y.log);
    assert!(c.y.label.contains("standardized within each study"));
    assert!(c.title.contains("within studies"), "{}", c.title);
    assert_eq!(c.points.len(), 8);
    // Each study's points are z-scores: centred, and the loss falls in both.
    for study in ["A: ", "B: "] {
        let p: Vec<&ScatterPoint> = c
            .points
            .iter()
            .filter(|p| p.label.as_deref().is_some_and(|l| l.starts_with(study)))
            .collect();
        assert_eq!(p.len(), 4);
        assert!(p.iter().map(|p| p.x).sum::<f64>().abs() < 1e-9);
        assert!(p.windows(2).all(|w| w[1].x > w[0].x && w[1].y < w[0].y));
    }
    match c.correlation {
        Correlation::Given { spearman, n, .. } => {
            assert!((spearman + 1.0).abs() < 1e-9);
            assert_eq!(n, 8);
        }
        Correlation::None => panic!("the pooled correlation"),
    }
    let svg = render(&charts[0].1, &Theme::light());
    dump("pooled_scatter", &svg);
    assert!(texts(&svg)
        .iter()
        .any(|t| t.starts_with("log10 κ(K_S + 0.01·I)")));
}

#[cfg(feature = "reports")]
#[test]
fn study_loss_axis_says_which_train_loss_it_is() {
    use ntk_lens_core::options::Recipe;
    use ntk_lens_core::train::Quality;
    let points = [(2.0, 3.0), (2.2, 2.9), (2.4, 2.8)];
    // recipe, eval samples, the loss axis, the κ axis's recipe tag
    for (recipe, eval, want, tag) in [
        (
            Recipe::Theory,
            true,
            "final train loss",
            "(a step per candidate)",
        ),
        (
            Recipe::Paper,
            true,
            "train loss at the best epoch (by eval loss)",
            "(recipe after the paper's code)",
        ),
        (
            Recipe::Paper,
            false,
            "train loss at the best epoch (by train loss)",
            "(recipe after the paper's code)",
        ),
    ] {
        let mut report = study(0.0, &points);
        report.config.recipe = recipe;
        for c in &mut report.candidates {
            c.best_epoch = (recipe == Recipe::Paper).then_some(4);
            c.eval_quality = eval.then(|| Quality {
                accuracy: Some(0.5),
                ..Quality::default()
            });
        }
        let charts = reports::study_charts(&report);
        let Chart::Scatter(c) = &charts[0].1 else {
            panic!("a scatter")
        };
        assert_eq!(c.y.label, want);
        assert_eq!(c.title, "κ at initialisation vs train loss");
        assert!(c.x.label.ends_with(tag), "{}", c.x.label);
        assert!(!c.x.label.contains("paper's recipe"), "{}", c.x.label);
        let svg = render(&charts[0].1, &Theme::light());
        assert!(has_text(&svg, want), "{want}");
        // The pooled scatter of two such studies says the same.
        let pooled = ntk_lens_core::experiment::pool(vec![
            ntk_lens_core::experiment::PooledStudy {
                dataset: "A".into(),
                report: report.clone(),
            },
            ntk_lens_core::experiment::PooledStudy {
                dataset: "B".into(),
                report: report.clone(),
            },
        ])
        .unwrap();
        let charts = reports::pooled_charts(&pooled);
        let Chart::Scatter(c) = &charts[0].1 else {
            panic!("a scatter")
        };
        assert_eq!(c.y.label, format!("{want}, standardized within each study"));
    }
}

#[cfg(feature = "reports")]
#[test]
fn weyl_chart_writes_mu_for_eigenvalues() {
    use ntk_lens_core::spectrum::{weyl, Kernel, Layout, SpectrumOptions};
    let k =
        |d: &[f64]| Kernel::from_row_major(2, 1, Layout::Trace, &[d[0], 0.0, 0.0, d[1]]).unwrap();
    let report = weyl(
        &k(&[2.0, 1.0]),
        &k(&[1.0, 0.5]),
        0.0,
        &SpectrumOptions::default(),
    )
    .unwrap();
    let Chart::Line(c) = reports::weyl_chart(&report, "block.3.value") else {
        panic!("a line chart")
    };
    assert_eq!(c.title, "Weyl bounds, adding 3.value");
    assert_eq!(c.y.label, "eigenvalue μ_i");
    let names: Vec<&str> = c.series.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "μ_i(K_S)",
            "μ_i(K_S + K_l)",
            "lower bound μ_i(K_S) + μ_min(K_l)",
            "upper bound μ_i(K_S) + μ_max(K_l)"
        ]
    );
    for text in names
        .iter()
        .chain([&c.title.as_str(), &c.x.label.as_str(), &c.y.label.as_str()])
    {
        assert!(!text.contains('λ'), "{text}");
    }
    let svg = render(&Chart::Line(c.clone()), &Theme::light());
    assert!(has_text(&svg, "μ_i(K_S)"));
}
