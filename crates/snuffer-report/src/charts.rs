//! The report's charts, drawn with plotters' SVG backend.
//!
//! Every chart is returned as an SVG string so the HTML can inline it and the
//! same bytes go to the `.svg` file. Estimates are drawn dashed and say so in
//! the legend; counters and integrated power are solid.

use crate::error::ReportError;
use crate::load::{EvalPoint, RunData};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
/// A pixel position on the canvas (plotters' backend coordinate).
type BackendCoord = (i32, i32);
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use snuffer_energy::{Joules, JOULES_PER_KWH};

pub(crate) mod replayed;

/// Pixel size of every chart.
pub const CHART_SIZE: (u32, u32) = (960, 480);

/// Margin of the plot area inside a chart (for tests that look at pixels).
pub const PLOT_MARGIN: u32 = 80;

const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(23, 190, 207),
];
const STOP: RGBColor = RGBColor(214, 39, 40);
const BEST: RGBColor = RGBColor(255, 187, 0);
const ORACLE: RGBColor = RGBColor(44, 160, 44);
const FORECAST: RGBColor = RGBColor(148, 103, 189);

/// A labelled series: label, drawn dashed (an estimate), points.
type Line = (String, bool, Vec<(f64, f64)>);
/// One run in the overlay: name, points, stop point.
type RunLine = (String, Vec<(f64, f64)>, Option<EvalPoint>);

/// Colour of the `i`-th series.
pub(crate) fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Smallest and largest finite value, if any.
fn bounds(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((f64::min(lo, v), f64::max(hi, v))),
        })
}

/// Largest magnitude an axis reaches: values beyond are clipped, so that the range's
/// width (`hi − lo`, which the plotting library computes) stays finite. Without it
/// ±9e307 gives an infinite width, and plotters' tick search never ends.
const AXIS_LIMIT: f64 = f64::MAX / 4.0;

/// Padded axis range around `lo..hi`, never empty, its width always finite.
fn pad(lo: f64, hi: f64) -> (f64, f64) {
    let lo = lo.clamp(-AXIS_LIMIT, AXIS_LIMIT);
    let hi = hi.clamp(-AXIS_LIMIT, AXIS_LIMIT);
    if hi - lo < 1e-12 * hi.abs().max(1.0) {
        let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.05 };
        return (lo - pad, hi + pad);
    }
    let pad = (hi - lo) * 0.05;
    (lo - pad, hi + pad)
}

/// The range handed to plotters: both ends within ±`f64::MAX / 3`, so its width is finite
/// (an infinite width never ends plotters' tick search), and never empty.
fn finite_range((lo, hi): (f64, f64)) -> std::ops::Range<f64> {
    let limit = f64::MAX / 3.0;
    let (lo, hi) = (lo.clamp(-limit, limit), hi.clamp(-limit, limit));
    if lo < hi {
        lo..hi
    } else {
        pad(lo, lo).0..pad(lo, lo).1
    }
}

/// Axis range covering `values`, padded, never empty.
fn span(values: impl IntoIterator<Item = f64>) -> (f64, f64) {
    bounds(values).map_or((0.0, 1.0), |(lo, hi)| pad(lo, hi))
}

/// Like [`span`] but starting at zero when nothing is negative.
fn span_from_zero(values: impl IntoIterator<Item = f64>) -> (f64, f64) {
    match bounds(values) {
        None => (0.0, 1.0),
        Some((lo, hi)) if lo >= 0.0 => (0.0, pad(0.0, hi).1),
        Some((lo, hi)) => pad(lo, hi),
    }
}

/// Tick label: four significant digits of the one formatter
/// ([`snuffer_energy::significant`]) without trailing zeros (plotters' default prints
/// `500.0` for steps and long tails for kWh).
fn tick(v: &f64) -> String {
    let v = *v;
    if v == 0.0 || !v.is_finite() {
        return "0".into();
    }
    let s = snuffer_energy::significant(v, 4);
    match s.split_once('e') {
        Some((mantissa, exp)) if mantissa.contains('.') => format!(
            "{}e{exp}",
            mantissa.trim_end_matches('0').trim_end_matches('.')
        ),
        None if s.contains('.') => s.trim_end_matches('0').trim_end_matches('.').to_string(),
        _ => s,
    }
}

/// Dashed legend glyph, so dashed series read as dashed in the legend too.
fn dashed_glyph(
    c: RGBColor,
) -> impl Fn(BackendCoord) -> DashedPathElement<std::vec::IntoIter<BackendCoord>, i32> {
    move |(x, y)| DashedPathElement::new(vec![(x, y), (x + 20, y)], 6, 4, c.stroke_width(2))
}

fn solid_glyph(c: RGBColor) -> impl Fn(BackendCoord) -> PathElement<BackendCoord> {
    move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2))
}

/// Renders `draw` on a fresh SVG canvas and returns the SVG text.
fn render(
    chart: &str,
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<(), ReportError>,
) -> Result<String, ReportError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, CHART_SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|e| ReportError::plot(chart, e))?;
        draw(&root)?;
        root.present().map_err(|e| ReportError::plot(chart, e))?;
    }
    Ok(svg)
}

/// The frame every chart shares: its caption, axis ranges and labels.
struct Frame<'s> {
    /// Chart name, for errors.
    name: &'s str,
    caption: String,
    x: (f64, f64),
    y: (f64, f64),
    x_desc: &'s str,
    y_desc: &'s str,
    /// Width reserved for the y tick labels (wider for joules).
    y_label_area: u32,
}

impl<'s> Frame<'s> {
    /// A metric (y) chart over `x_desc`.
    fn metric(
        name: &'s str,
        caption: String,
        (x, y): ((f64, f64), (f64, f64)),
        x_desc: &'s str,
        metric: &'s str,
    ) -> Frame<'s> {
        Frame {
            name,
            caption,
            x,
            y,
            x_desc,
            y_desc: metric,
            y_label_area: 70,
        }
    }

    /// Builds the axes on `root` and draws the mesh (tick labels, no minor grid).
    fn draw<'a, 'b>(
        &self,
        root: &'a DrawingArea<SVGBackend<'b>, Shift>,
    ) -> Result<
        ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
        ReportError,
    > {
        let mut chart = ChartBuilder::on(root)
            .caption(&self.caption, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(self.y_label_area)
            .build_cartesian_2d(finite_range(self.x), finite_range(self.y))
            .map_err(|e| ReportError::plot(self.name, e))?;
        chart
            .configure_mesh()
            .x_desc(self.x_desc)
            .y_desc(self.y_desc)
            .light_line_style(WHITE.mix(0.0))
            .x_label_formatter(&tick)
            .y_label_formatter(&tick)
            .draw()
            .map_err(|e| ReportError::plot(self.name, e))?;
        Ok(chart)
    }
}

/// Which x axis a metric chart uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MetricAxis {
    Steps,
    Energy,
}

impl MetricAxis {
    fn x(self, p: &EvalPoint) -> f64 {
        match self {
            MetricAxis::Steps => p.step as f64,
            MetricAxis::Energy => p.kwh(),
        }
    }
}

/// The unit an energy axis whose largest value is `max_kwh` reads best in (the one
/// formatter's choice, [`snuffer_energy::Joules::scaled`]), as (units per kWh, name).
fn energy_unit(max_kwh: f64) -> (f64, &'static str) {
    let (value, unit) = Joules::from_kwh(max_kwh).scaled();
    if max_kwh > 0.0 && value.is_finite() {
        (value / max_kwh, unit)
    } else {
        (1.0, "kWh")
    }
}

/// The metric over steps or energy, with forecast band, stop, best and oracle.
pub(crate) fn metric_chart(run: &RunData, axis: MetricAxis) -> Result<String, ReportError> {
    let name = match axis {
        MetricAxis::Steps => "metric over steps",
        MetricAxis::Energy => "metric over energy",
    };
    let metric = run.metric_name.clone().unwrap_or_else(|| "metric".into());
    let points = match axis {
        MetricAxis::Steps => run.metric_by_step.points(),
        MetricAxis::Energy => run.metric_by_kwh.points(),
    };
    // Forecast rows (step, median, lo, hi) mapped onto the chart's x axis; on the
    // energy axis at the run's own forecast of its energy (the table's figure at the end).
    let forecast: Vec<[f64; 4]> = run
        .forecast
        .as_ref()
        .map(|(_, f)| {
            f.path
                .iter()
                .filter(|r| r.iter().all(|v| v.is_finite()))
                .filter_map(|r| {
                    let x = match axis {
                        MetricAxis::Steps => Some(r[0]),
                        MetricAxis::Energy => {
                            run.forecast_energy_at(r[0]).map(|j| j / JOULES_PER_KWH)
                        }
                    }?;
                    Some([x, r[1], r[2], r[3]])
                })
                .collect()
        })
        .unwrap_or_default();
    let marks: Vec<EvalPoint> = [
        run.best,
        run.stop.as_ref().map(|s| s.at),
        run.oracle.as_ref().map(|o| o.at),
    ]
    .into_iter()
    .flatten()
    .filter(|p| p.metric.is_finite())
    .collect();
    // Energy in the unit that reads best (J for a laptop run, kWh for a cluster's).
    let (scale, unit) = match axis {
        MetricAxis::Steps => (1.0, ""),
        MetricAxis::Energy => energy_unit(
            points
                .iter()
                .map(|p| p.0)
                .chain(marks.iter().map(|p| p.kwh()))
                .fold(0.0, f64::max),
        ),
    };
    let points: Vec<(f64, f64)> = points.iter().map(|p| (p.0 * scale, p.1)).collect();
    // Only the part of the forecast beyond the last evaluation is drawn (and named in the
    // legend): a run that went to its end has none.
    let last_x = points.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
    let forecast: Vec<[f64; 4]> = forecast
        .into_iter()
        .map(|r| [r[0] * scale, r[1], r[2], r[3]])
        .filter(|r| r[0] >= last_x)
        .collect();
    let forecast = if forecast.iter().any(|r| r[0] > last_x) {
        forecast
    } else {
        Vec::new()
    };
    let mark_x = |p: &EvalPoint| axis.x(p) * scale;
    let xs = points
        .iter()
        .map(|p| p.0)
        .chain(forecast.iter().map(|r| r[0]))
        .chain(marks.iter().map(mark_x));
    let (x0, x1) = span_from_zero(xs);
    let ys = points
        .iter()
        .map(|p| p.1)
        .chain(forecast.iter().flat_map(|r| [r[2], r[3]]))
        .chain(marks.iter().map(|p| p.metric));
    let (y0, y1) = span(ys);
    let x_desc = match axis {
        MetricAxis::Steps => "optimizer steps".to_string(),
        MetricAxis::Energy => format!("energy ({unit})"),
    };
    render(name, |root| {
        let caption = format!("{} — {metric} over {}", run.run_name, x_desc);
        let mut chart =
            Frame::metric(name, caption, ((x0, x1), (y0, y1)), &x_desc, &metric).draw(root)?;
        if forecast.len() >= 2 {
            let level = run.forecast.as_ref().map_or(0.8, |(_, f)| f.level);
            let at = run.forecast.as_ref().map_or(0, |(s, _)| *s);
            let band: Vec<(f64, f64)> = forecast
                .iter()
                .map(|r| (r[0], r[3]))
                .chain(forecast.iter().rev().map(|r| (r[0], r[2])))
                .collect();
            chart
                .draw_series(std::iter::once(Polygon::new(band, FORECAST.mix(0.18))))
                .map_err(|e| ReportError::plot(name, e))?
                .label(format!(
                    "forecast {:.0} % band (made at step {at})",
                    level * 100.0
                ))
                .legend(|(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 19, y + 5)], FORECAST.mix(0.3).filled())
                });
            chart
                .draw_series(DashedLineSeries::new(
                    forecast.iter().map(|r| (r[0], r[1])),
                    6,
                    4,
                    FORECAST.stroke_width(2),
                ))
                .map_err(|e| ReportError::plot(name, e))?
                .label("forecast median")
                .legend(dashed_glyph(FORECAST));
        }
        if !points.is_empty() {
            chart
                .draw_series(LineSeries::new(
                    points.iter().copied(),
                    colour(0).stroke_width(2),
                ))
                .map_err(|e| ReportError::plot(name, e))?
                .label(format!("{metric} (evaluations)"))
                .legend(solid_glyph(colour(0)));
        }
        if let Some(s) = run.stop.as_ref().filter(|s| s.at.metric.is_finite()) {
            chart
                .draw_series(std::iter::once(Cross::new(
                    (mark_x(&s.at), s.at.metric),
                    8,
                    STOP.stroke_width(3),
                )))
                .map_err(|e| ReportError::plot(name, e))?
                .label(format!("stop at step {}", s.at.step))
                .legend(|(x, y)| Cross::new((x + 9, y), 5, STOP.stroke_width(3)));
        }
        if let Some(b) = run.best.filter(|b| b.metric.is_finite()) {
            chart
                .draw_series(std::iter::once(TriangleMarker::new(
                    (mark_x(&b), b.metric),
                    8,
                    BEST.filled(),
                )))
                .map_err(|e| ReportError::plot(name, e))?
                .label(format!(
                    "best: {} at step {}",
                    snuffer_energy::significant(b.metric, 4),
                    b.step
                ))
                .legend(|(x, y)| TriangleMarker::new((x + 9, y), 6, BEST.filled()));
        }
        if let Some(o) = &run.oracle {
            chart
                .draw_series(std::iter::once(Circle::new(
                    (mark_x(&o.at), o.at.metric),
                    7,
                    ORACLE.stroke_width(3),
                )))
                .map_err(|e| ReportError::plot(name, e))?
                .label(format!(
                    "hindsight oracle (τ = {} /kWh) at step {}",
                    snuffer_energy::significant(o.tau_per_kwh, 4),
                    o.at.step
                ))
                .legend(|(x, y)| Circle::new((x + 9, y), 5, ORACLE.stroke_width(3)));
        }
        draw_legend(&mut chart, SeriesLabelPosition::LowerRight, name)
    })
}

/// A per-domain time chart (power or cumulative energy).
pub(crate) fn domain_chart(run: &RunData, power: bool) -> Result<String, ReportError> {
    let name = if power { "power" } else { "cumulative energy" };
    let series: Vec<Line> = run
        .domains
        .iter()
        .map(|d| {
            let pts = if power {
                d.power.points()
            } else {
                d.energy.points()
            };
            // The legend says what kind of figure each line is; estimates
            // are also drawn dashed.
            let label = match &d.provenance {
                p if p.is_estimate() => format!("{} — estimated (dashed)", d.name),
                p => format!("{} — {p}", d.name),
            };
            (label, d.provenance.is_estimate(), pts)
        })
        .collect();
    let total = (!power && run.domains.len() > 1).then(|| run.total_energy.points());
    let (x0, x1) = span_from_zero(
        series
            .iter()
            .flat_map(|s| s.2.iter().map(|p| p.0))
            .chain(total.iter().flatten().map(|p| p.0)),
    );
    let (y0, y_top) = span_from_zero(
        series
            .iter()
            .flat_map(|s| s.2.iter().map(|p| p.1))
            .chain(total.iter().flatten().map(|p| p.1)),
    );
    // Headroom for the legend, which sits above the lines.
    let y1 = y0 + (y_top - y0) * 1.25;
    let (y_desc, caption) = if power {
        ("power (W)", "power per domain")
    } else {
        ("cumulative energy (J)", "cumulative energy per domain")
    };
    render(name, |root| {
        let mut chart = Frame {
            name,
            caption: format!("{} — {caption}", run.run_name),
            x: (x0, x1),
            y: (y0, y1),
            x_desc: "time since start (s)",
            y_desc,
            y_label_area: 80,
        }
        .draw(root)?;
        for (i, (label, estimate, pts)) in series.iter().enumerate() {
            let c = colour(i);
            if *estimate {
                chart
                    .draw_series(DashedLineSeries::new(
                        pts.iter().copied(),
                        8,
                        5,
                        c.stroke_width(2),
                    ))
                    .map_err(|e| ReportError::plot(name, e))?
                    .label(label.as_str())
                    .legend(dashed_glyph(c));
            } else {
                chart
                    .draw_series(LineSeries::new(pts.iter().copied(), c.stroke_width(2)))
                    .map_err(|e| ReportError::plot(name, e))?
                    .label(label.as_str())
                    .legend(solid_glyph(c));
            }
        }
        if let Some(total) = &total {
            chart
                .draw_series(LineSeries::new(
                    total.iter().copied(),
                    BLACK.stroke_width(1),
                ))
                .map_err(|e| ReportError::plot(name, e))?
                .label(format!("total — {}", total_provenance(run)))
                .legend(solid_glyph(BLACK));
        }
        let position = if power {
            SeriesLabelPosition::UpperRight
        } else {
            SeriesLabelPosition::UpperLeft
        };
        draw_legend(&mut chart, position, name)
    })
}

/// The legend every chart shares: a translucent box at `position`.
fn draw_legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
    name: &str,
) -> Result<(), ReportError> {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .label_font(("sans-serif", 13))
        .draw()
        .map_err(|e| ReportError::plot(name, e))
}

fn total_provenance(run: &RunData) -> String {
    run.domains
        .iter()
        .map(|d| d.provenance.clone())
        .reduce(|a, b| a.combine(&b))
        .map(|p| p.label().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// Metric against energy for several runs on one chart.
pub(crate) fn overlay_chart(runs: &[RunData]) -> Result<String, ReportError> {
    let name = "comparison overlay";
    let series: Vec<RunLine> = runs
        .iter()
        .map(|r| {
            (
                r.run_name.clone(),
                r.metric_by_kwh.points(),
                r.stop.as_ref().map(|s| s.at),
            )
        })
        .collect();
    let (scale, unit) = energy_unit(
        series
            .iter()
            .flat_map(|s| s.1.iter().map(|p| p.0))
            .fold(0.0, f64::max),
    );
    let series: Vec<RunLine> = series
        .into_iter()
        .map(|(name, pts, stop)| {
            let pts = pts.into_iter().map(|(x, y)| (x * scale, y)).collect();
            (name, pts, stop)
        })
        .collect();
    let (x0, x1) = span_from_zero(series.iter().flat_map(|s| s.1.iter().map(|p| p.0)));
    let (y0, y1) = span(series.iter().flat_map(|s| s.1.iter().map(|p| p.1)));
    let x_desc = format!("energy ({unit})");
    let metric = runs
        .iter()
        .find_map(|r| r.metric_name.clone())
        .unwrap_or_else(|| "metric".into());
    render(name, |root| {
        let caption = format!("{metric} against energy");
        let mut chart =
            Frame::metric(name, caption, ((x0, x1), (y0, y1)), &x_desc, &metric).draw(root)?;
        for (i, (label, pts, stop)) in series.iter().enumerate() {
            let c = colour(i);
            chart
                .draw_series(LineSeries::new(pts.iter().copied(), c.stroke_width(2)))
                .map_err(|e| ReportError::plot(name, e))?
                .label(label.as_str())
                .legend(solid_glyph(c));
            if let Some(s) = stop.filter(|s| s.metric.is_finite()) {
                chart
                    .draw_series(std::iter::once(Cross::new(
                        (s.kwh() * scale, s.metric),
                        7,
                        c.stroke_width(3),
                    )))
                    .map_err(|e| ReportError::plot(name, e))?;
            }
        }
        draw_legend(&mut chart, SeriesLabelPosition::LowerRight, name)
    })
}

/// Runs whose names the sweep chart's legend lists; beyond that the lines are unlabelled
/// (the page's table names every run).
const SWEEP_LEGEND_RUNS: usize = 12;

/// Every run of a sweep: the metric over optimizer steps, each stop (×, in the run's
/// colour) and the best run's best point (▲).
pub(crate) fn sweep_chart(runs: &[RunData], best: Option<usize>) -> Result<String, ReportError> {
    let name = "sweep curves";
    let series: Vec<RunLine> = runs
        .iter()
        .map(|r| {
            (
                r.run_name.clone(),
                r.metric_by_step.points(),
                r.stop.as_ref().map(|s| s.at),
            )
        })
        .collect();
    let best_point = best
        .and_then(|i| runs.get(i))
        .and_then(|r| r.best.map(|b| (r.run_name.clone(), b)))
        .filter(|(_, b)| b.metric.is_finite());
    let stops = series
        .iter()
        .filter_map(|s| s.2)
        .filter(|p| p.metric.is_finite());
    let (x0, x1) = span_from_zero(
        series
            .iter()
            .flat_map(|s| s.1.iter().map(|p| p.0))
            .chain(stops.clone().map(|p| p.step as f64)),
    );
    let (y0, y1) = span(
        series
            .iter()
            .flat_map(|s| s.1.iter().map(|p| p.1))
            .chain(stops.map(|p| p.metric)),
    );
    let metric = runs
        .iter()
        .find_map(|r| r.metric_name.clone())
        .unwrap_or_else(|| "metric".into());
    let labelled = series.len() <= SWEEP_LEGEND_RUNS;
    render(name, |root| {
        let caption = format!("{metric} over optimizer steps, {} runs", series.len());
        let mut chart = Frame::metric(
            name,
            caption,
            ((x0, x1), (y0, y1)),
            "optimizer steps",
            &metric,
        )
        .draw(root)?;
        for (i, (label, pts, _)) in series.iter().enumerate() {
            let c = colour(i);
            let drawn = chart
                .draw_series(LineSeries::new(pts.iter().copied(), c.stroke_width(2)))
                .map_err(|e| ReportError::plot(name, e))?;
            if labelled {
                drawn.label(label.as_str()).legend(solid_glyph(c));
            }
        }
        let mut stop_legend = false;
        for (i, (_, _, stop)) in series.iter().enumerate() {
            if let Some(s) = stop.filter(|s| s.metric.is_finite()) {
                let drawn = chart
                    .draw_series(std::iter::once(Cross::new(
                        (s.step as f64, s.metric),
                        7,
                        colour(i).stroke_width(3),
                    )))
                    .map_err(|e| ReportError::plot(name, e))?;
                if !stop_legend {
                    stop_legend = true;
                    drawn
                        .label("stopped by a policy (in the run's colour)")
                        .legend(|(x, y)| Cross::new((x + 9, y), 5, BLACK.stroke_width(3)));
                }
            }
        }
        if let Some((run, b)) = &best_point {
            chart
                .draw_series(std::iter::once(TriangleMarker::new(
                    (b.step as f64, b.metric),
                    9,
                    BEST.filled(),
                )))
                .map_err(|e| ReportError::plot(name, e))?
                .label(format!(
                    "best run {run}: {} at step {}",
                    snuffer_energy::significant(b.metric, 4),
                    b.step
                ))
                .legend(|(x, y)| TriangleMarker::new((x + 9, y), 6, BEST.filled()));
        }
        draw_legend(&mut chart, SeriesLabelPosition::LowerRight, name)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_are_never_empty() {
        let rows = [
            (vec![], (0.0, 1.0)),
            (vec![5.0], (4.75, 5.25)),
            (vec![0.0], (-1.0, 1.0)),
            (vec![f64::NAN, 1.0, 3.0], (0.9, 3.1)),
        ];
        for (vals, want) in rows {
            let got = span(vals.clone());
            assert!(
                (got.0 - want.0).abs() < 1e-9 && (got.1 - want.1).abs() < 1e-9,
                "span({vals:?}) = {got:?}, want {want:?}"
            );
        }
    }

    #[test]
    fn ticks_are_short() {
        let rows = [
            (500.0, "500"),
            (0.5, "0.5"),
            (0.001_234, "0.001234"),
            (0.000_123_4, "0.0001234"),
            (12_345.0, "12345"),
            (2.5e9, "2.5e9"),
            (0.0, "0"),
            (-1.25, "-1.25"),
        ];
        for (v, want) in rows {
            assert_eq!(tick(&v), want, "tick({v})");
        }
    }

    #[test]
    fn huge_alternating_values_give_a_finite_width() {
        for v in [9e307, f64::MAX] {
            let (lo, hi) = span([v, -v, v]);
            assert!((hi - lo).is_finite() && lo < hi, "{v}: {lo}..{hi}");
            let (lo, hi) = span_from_zero([v, 0.0]);
            assert!((hi - lo).is_finite() && lo < hi, "{v}: {lo}..{hi}");
        }
    }

    #[test]
    fn non_negative_data_starts_at_zero() {
        assert_eq!(span_from_zero([2.0, 4.0]).0, 0.0);
        assert!(span_from_zero([-2.0, 4.0]).0 < -2.0);
    }
}
