//! End to end (issue 14): the quickstart's table, its stop line, `summary.json` and the
//! report show the same figures for the same quantity, and a measured saving is never
//! worded like a forecast one.
//!
//! A short quickstart: the same digits MLP and helpers as `examples/quickstart.rs` (its
//! `examples/common` module), a plan small enough for a debug build, trained twice — to the
//! end, and with the marginal-gain policy plus a target of 0.95 so that the run stops
//! whatever the energy estimate does. The stop line is captured with a sink, exactly as the
//! progress display receives it; the table is the quickstart's own function; the summary and
//! the report are read back from disk.
#![cfg(feature = "candle")]

#[path = "../examples/common/mod.rs"]
mod common;

use anyhow::{ensure, Context, Result};
use candle_core::Device;
use common::{comparison_table, train_digits_in, Digits, DigitsConfig};
use snuffer::energy::Joules;
use snuffer::rundir::{read_summary, FORECAST_SAVING, MEASURED_SAVING};
use snuffer::sink::Sink;
use snuffer::Progress;
use std::sync::{Arc, Mutex};

/// Keeps every sentence a run says (the stop line, the closing sentence, …).
#[derive(Clone, Default)]
struct Said(Arc<Mutex<Vec<String>>>);

impl Sink for Said {
    fn say(&mut self, sentence: &str) {
        if let Ok(mut v) = self.0.lock() {
            v.push(sentence.to_string());
        }
    }
}

/// The value of a table row: what follows its label, trimmed.
fn row<'a>(table: &'a str, label: &str) -> Result<&'a str> {
    table
        .lines()
        .find_map(|l| l.strip_prefix(label))
        .map(|rest| rest.trim().trim_start_matches('-').trim())
        .with_context(|| format!("no row {label:?} in\n{table}"))
}

#[test]
fn table_stop_line_summary_and_report_agree() -> Result<()> {
    common::setup_threads();
    let tmp = tempfile::tempdir()?;
    let data = Digits::load(500, 7, &Device::Cpu)?;
    let cfg = DigitsConfig {
        lr: 3e-3,
        hidden: 64,
        seed: 1,
        steps: 800,
        eval_every: 20,
        batch: 64,
    };
    let full = train_digits_in(
        &data,
        cfg,
        "agree-full",
        Some(&tmp.path().join("full")),
        None,
        Progress::Quiet,
        |b| b,
    )?;
    let said = Said::default();
    let policy = common::marginal_policy(0.3)?.with(snuffer::policy::Target::new(0.95)?);
    let sink = said.clone();
    let snuffed = train_digits_in(
        &data,
        cfg,
        "agree-snuffer",
        Some(&tmp.path().join("snuffer")),
        Some(policy),
        Progress::Quiet,
        move |b| b.sink(sink),
    )?;
    let sentences = said.0.lock().map(|v| v.clone()).unwrap_or_default();
    let table = comparison_table(&full, &snuffed);

    // summary.json, read back from disk.
    let f = read_summary(tmp.path().join("full"))?.context("full summary")?;
    let s = read_summary(tmp.path().join("snuffer"))?.context("snuffer summary")?;
    ensure!(s.stop.is_some(), "the run must stop: {sentences:?}");
    let forecast = snuffer::rundir::forecast_saving(
        Joules(s.forecast_saved_j.context("forecast saving")?),
        Joules(s.forecast_full_energy_j.context("forecast full run")?),
    );
    let measured =
        snuffer::rundir::measured_saving(Joules(f.energy_j - s.energy_j), Joules(f.energy_j));

    // The stop line: the forecast saving with the same digits, worded as a forecast.
    let stop_line = sentences
        .iter()
        .find(|l| l.starts_with("stopped at step"))
        .context("a stop line")?;
    let in_line = stop_line
        .split_once(&format!("; {FORECAST_SAVING} "))
        .map(|(_, rest)| rest.trim_end_matches('.'))
        .with_context(|| format!("no forecast saving in {stop_line:?}"))?;
    ensure!(
        in_line == forecast,
        "stop line {in_line:?} vs summary {forecast:?}"
    );
    ensure!(!stop_line.contains("measured"), "{stop_line}");
    // "… used by then" is the energy at the stop, recorded in the summary's extra.
    let at_stop = s
        .extra
        .as_ref()
        .and_then(|e| e.energy_at_stop_j)
        .context("energy at the stop")?;
    ensure!(
        stop_line.contains(&format!("; {} used by then;", Joules(at_stop))),
        "{stop_line}"
    );
    // The closing sentence: the run's total, as summary.json has it.
    let closing = sentences
        .iter()
        .find(|l| l.starts_with("stopped early after"))
        .context("a closing sentence")?;
    ensure!(
        closing.contains(&format!(": {} in total", Joules(s.energy_j))),
        "{closing}"
    );
    // The best metric: four significant digits in the sentence, the table and the report.
    let best = snuffer::energy::significant(s.best_metric.context("best")?, 4);
    ensure!(
        closing.contains(&format!("val_acc {best} at step")),
        "{closing}"
    );
    ensure!(row(&table, "best val_acc @ step")?
        .ends_with(&format!("{best} @ {}", s.best_step.unwrap_or(0))));

    // The table: measured and forecast savings on rows of their own, each with the
    // figures of summary.json.
    // Issue 19: the label says "measured" only when both energies are measurements.
    let label = snuffer::rundir::saving_label(&f.provenance, &s.provenance);
    if f.provenance.is_estimate() {
        ensure!(
            label != MEASURED_SAVING && !table.contains(MEASURED_SAVING),
            "{table}"
        );
    }
    ensure!(
        row(&table, label)? == measured,
        "table {:?} vs summaries {measured:?}",
        row(&table, label)?
    );
    ensure!(
        row(&table, common::FORECAST_ROW)? == forecast,
        "table {:?} vs summary {forecast:?}",
        row(&table, common::FORECAST_ROW)?
    );
    let energy_row = table
        .lines()
        .find(|l| l.starts_with("energy "))
        .context("energy row")?;
    ensure!(
        energy_row.contains(&Joules(f.energy_j).to_string())
            && energy_row.contains(&Joules(s.energy_j).to_string()),
        "{energy_row}"
    );

    // The report: the same forecast saving, and no measured saving it cannot know.
    let report = snuffer_report::Report::from_dir(tmp.path().join("snuffer"))?;
    let rows = report.rows();
    let in_report = rows
        .iter()
        .find(|r| r.label == "Forecast saving")
        .map(|r| r.value.as_str())
        .context("report row")?;
    ensure!(
        in_report == forecast,
        "report {in_report:?} vs {forecast:?}"
    );
    let total = rows
        .iter()
        .find(|r| r.label == "Energy (total)")
        .context("energy row")?;
    ensure!(
        total.value.starts_with(&Joules(s.energy_j).to_string()),
        "{}",
        total.value
    );
    let html = report.html();
    ensure!(html.contains(&forecast) && !html.contains("measured"));
    ensure!(html.contains(&format!("val_acc = {best} at step")));
    Ok(())
}
