//! Charts and a page for recorded runs replayed under a stop policy (`snuffer whatif`): the
//! recorded curve, where the policy would have stopped, and the best point; drawn with the
//! same frame, colours and legend as the run reports.

use super::{colour, draw_legend, render, solid_glyph, span, span_from_zero, Frame, BEST, STOP};
use crate::error::ReportError;
use crate::html::{page, Figure};
use crate::table::Row;
use plotters::prelude::*;

/// A recorded run replayed under a stop policy, to plot.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayedRun {
    /// Chart caption (e.g. the run's path and format).
    pub title: String,
    /// The metric's name (the y axis).
    pub metric_name: String,
    /// The recorded evaluations: (step, metric); non-finite values are left out of the line.
    pub points: Vec<(f64, f64)>,
    /// Where the policy would have stopped: (step, metric there), if it would have.
    pub stop: Option<(f64, f64)>,
    /// The best evaluation of the whole recorded run: (step, metric).
    pub best: Option<(f64, f64)>,
}

/// The SVG chart of one replayed run.
pub fn replayed_chart(run: &ReplayedRun) -> Result<String, ReportError> {
    let name = "replayed run";
    let line: Vec<(f64, f64)> = run
        .points
        .iter()
        .copied()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    let marks: Vec<(f64, f64)> = [run.stop, run.best]
        .into_iter()
        .flatten()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    let (x0, x1) = span_from_zero(line.iter().chain(&marks).map(|p| p.0));
    let (y0, y1) = span(line.iter().chain(&marks).map(|p| p.1));
    render(name, |root| {
        let mut chart = Frame {
            name,
            caption: run.title.clone(),
            x: (x0, x1),
            y: (y0, y1),
            x_desc: "step",
            y_desc: run.metric_name.as_str(),
            y_label_area: 70,
        }
        .draw(root)?;
        if !line.is_empty() {
            chart
                .draw_series(LineSeries::new(
                    line.iter().copied(),
                    colour(0).stroke_width(2),
                ))
                .map_err(|e| ReportError::plot(name, e))?
                .label(format!("{} (recorded evaluations)", run.metric_name))
                .legend(solid_glyph(colour(0)));
        }
        if let Some((x, y)) = run.stop.filter(|(x, y)| x.is_finite() && y.is_finite()) {
            chart
                .draw_series(std::iter::once(Cross::new((x, y), 8, STOP.stroke_width(3))))
                .map_err(|e| ReportError::plot(name, e))?
                .label(format!("would have stopped at step {x}"))
                .legend(|(x, y)| Cross::new((x + 9, y), 5, STOP.stroke_width(3)));
        }
        if let Some((x, y)) = run.best.filter(|(x, y)| x.is_finite() && y.is_finite()) {
            chart
                .draw_series(std::iter::once(TriangleMarker::new(
                    (x, y),
                    8,
                    BEST.filled(),
                )))
                .map_err(|e| ReportError::plot(name, e))?
                .label(format!("best of the whole run: {y:.4} at step {x}"))
                .legend(|(x, y)| TriangleMarker::new((x + 9, y), 6, BEST.filled()));
        }
        draw_legend(&mut chart, SeriesLabelPosition::LowerRight, name)
    })
}

/// A chart on the page: the file it was written to, its caption and the SVG.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageChart {
    /// File name the SVG is also written to.
    pub file: String,
    /// Caption under it.
    pub caption: String,
    /// The SVG text.
    pub svg: String,
}

/// A self-contained HTML page (inline SVG, no scripts) with notes, a table and charts, in the
/// run reports' style.
pub fn replayed_page(
    title: &str,
    subtitle: &str,
    notes: &[String],
    rows: &[Row],
    charts: &[PageChart],
) -> String {
    let figures: Vec<Figure<'_>> = charts
        .iter()
        .map(|c| Figure {
            file: &c.file,
            caption: &c.caption,
            svg: &c.svg,
        })
        .collect();
    page(title, subtitle, notes, rows, &figures)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_marks_the_stop_and_the_best_point() {
        let run = ReplayedRun {
            title: "runs/a (tensorboard)".into(),
            metric_name: "eval/accuracy".into(),
            points: vec![(100.0, 0.5), (200.0, f64::NAN), (300.0, 0.8), (400.0, 0.79)],
            stop: Some((300.0, 0.8)),
            best: Some((300.0, 0.8)),
        };
        let svg = replayed_chart(&run).unwrap();
        assert!(svg.contains("would have stopped at step 300"), "stop label");
        assert!(
            svg.contains("best of the whole run: 0.8000 at step 300"),
            "best label"
        );
        let empty = ReplayedRun {
            points: vec![],
            stop: None,
            best: None,
            ..run
        };
        assert!(
            replayed_chart(&empty).is_ok(),
            "no points still draws a frame"
        );
    }

    #[test]
    fn the_page_is_well_formed() {
        let chart = PageChart {
            file: "run-01.svg".into(),
            caption: "a <run>".into(),
            svg: "<svg xmlns=\"http://www.w3.org/2000/svg\"/>".into(),
        };
        let html = replayed_page("What if", "sub", &["an estimate".into()], &[], &[chart]);
        let opts = roxmltree::ParsingOptions {
            allow_dtd: true,
            ..roxmltree::ParsingOptions::default()
        };
        let parsed = roxmltree::Document::parse_with_options(&html, opts);
        assert!(parsed.is_ok(), "{parsed:?}");
        assert!(html.contains("a &lt;run&gt;") && html.contains("an estimate"));
    }
}
