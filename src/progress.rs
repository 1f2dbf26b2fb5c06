//! Live progress of a run on stderr: an indicatif bar on a terminal, plain
//! periodic lines otherwise, nothing when quiet.
//!
//! The bar shows step / planned steps, the latest loss and metric, power (W)
//! and energy (J, kJ, Wh or kWh) — prefixed with `~` and followed by `(est.)` when they
//! come from a model rather than a meter — the forecast final metric with its
//! 80 % interval, and the forecast marginal gain per kWh against τ when known.
//! [`ProgressSink`] is the [`Sink`] that shows it.
//!
//! Nothing here runs in [`Run::step`](crate::Run::step)'s fast path: the bar's
//! position moves when the run reaches a step-log mark (a step count, never a
//! clock check), and everything else is refreshed at evaluations.

use crate::sink::{Eval, Sink};
use snuffer_energy::{significant, Joules, Watts};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// How a run reports progress on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Progress {
    /// A bar when stderr is a terminal, plain lines otherwise (the default).
    #[default]
    Auto,
    /// Always the bar (indicatif hides it when stderr is not a terminal).
    Bar,
    /// Plain lines, about every 10 % of the planned steps (or every 30 s when
    /// the plan is unknown), plus the stop sentence.
    Plain,
    /// Nothing at all.
    Quiet,
}

/// Seconds between plain lines when no 10 % mark is due.
const PLAIN_EVERY: Duration = Duration::from_secs(30);

/// What the display shows, as of an evaluation.
#[derive(Debug, Clone, Default)]
struct Status {
    pub(crate) step: u64,
    pub(crate) loss: Option<f64>,
    pub(crate) metric_name: String,
    pub(crate) metric: Option<f64>,
    pub(crate) power: Option<Watts>,
    pub(crate) energy: Joules,
    pub(crate) estimated: bool,
    /// Forecast at the planned end: (median, lo, hi) at 80 %.
    pub(crate) forecast: Option<(f64, f64, f64)>,
    /// Expected gain per kWh (what the stop rule weighs) and τ, when known.
    pub(crate) gain_per_kwh: Option<f64>,
    pub(crate) tau: Option<f64>,
}

/// Significant digits of metric values in every sentence and table (the report and the
/// quickstart's table use the same).
pub(crate) const METRIC_DIGITS: usize = 4;

/// Three significant digits (losses, rates): the one formatter
/// ([`snuffer_energy::significant`]).
fn sig3(v: f64) -> String {
    significant(v, 3)
}

/// A metric value: [`METRIC_DIGITS`] significant digits.
fn metric(v: f64) -> String {
    significant(v, METRIC_DIGITS)
}

impl Status {
    fn of(e: &Eval<'_>) -> Status {
        Status {
            step: e.line.step,
            loss: e.loss,
            metric_name: e.metric_name.to_string(),
            metric: Some(e.metric),
            power: e.power.map(|p| p.total),
            energy: e.energy.total,
            estimated: e.energy.provenance.is_estimate(),
            forecast: e.forecast.map(|f| (f.median, f.lo, f.hi)),
            gain_per_kwh: e.gain_per_kwh,
            tau: e.tau_per_kwh,
        }
    }
}

/// The status as one line (also the bar's message).
fn status_line(s: &Status) -> String {
    let mut parts = Vec::with_capacity(6);
    if let Some(l) = s.loss {
        parts.push(format!("loss {}", sig3(l)));
    }
    if let Some(m) = s.metric {
        parts.push(format!("{} {}", s.metric_name, metric(m)));
    }
    let (mark, est) = if s.estimated {
        ("~", " (est.)")
    } else {
        ("", "")
    };
    let power = s.power.map(|p| format!("{mark}{p} ")).unwrap_or_default();
    // `Joules` picks J, kJ, Wh or kWh, so a laptop run is not "0.00000384 kWh".
    parts.push(format!("{power}{mark}{}{est}", s.energy));
    if let Some((m, lo, hi)) = s.forecast {
        parts.push(format!(
            "final {} [{}, {}]",
            metric(m),
            metric(lo),
            metric(hi)
        ));
    }
    match (s.gain_per_kwh, s.tau) {
        (Some(g), Some(t)) => parts.push(format!("gain {}/kWh vs τ {}", sig3(g), sig3(t))),
        (Some(g), None) => parts.push(format!("gain {}/kWh", sig3(g))),
        (None, Some(t)) => parts.push(format!("τ {}", sig3(t))),
        (None, None) => {}
    }
    parts.join(" | ")
}

enum Out {
    Bar(indicatif::ProgressBar),
    Plain,
    Quiet,
}

/// The live display of one run: a [`Sink`] that draws the bar or prints plain lines.
pub struct ProgressSink {
    out: Out,
    name: String,
    planned: Option<u64>,
    /// Next step at which the bar's position moves.
    next_bar_step: u64,
    bar_every: u64,
    next_plain_step: u64,
    last_plain: Instant,
}

impl std::fmt::Debug for ProgressSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProgressSink")
            .field("name", &self.name)
            .field("planned", &self.planned)
            .finish_non_exhaustive()
    }
}

impl Sink for ProgressSink {
    fn mark(&mut self, step: u64, at: Instant) {
        self.on_step(step, at);
    }
    fn eval(&mut self, e: &Eval<'_>) -> Result<(), crate::Error> {
        self.on_eval(&Status::of(e));
        Ok(())
    }
    fn say(&mut self, sentence: &str) {
        self.say_line(sentence);
    }
}

impl Drop for ProgressSink {
    fn drop(&mut self) {
        self.close();
    }
}

impl ProgressSink {
    /// The display of run `name` in `mode` (`planned` steps, if known, size the bar).
    pub fn new(mode: Progress, name: &str, planned: Option<u64>) -> ProgressSink {
        let tty = std::io::stderr().is_terminal();
        let out = match mode {
            Progress::Quiet => Out::Quiet,
            Progress::Plain => Out::Plain,
            Progress::Auto if !tty => Out::Plain,
            Progress::Auto | Progress::Bar => Out::Bar(new_bar(name, planned)),
        };
        ProgressSink {
            out,
            name: name.to_string(),
            planned,
            next_bar_step: 0,
            // About 500 position updates over a planned run, 1 per 10 steps otherwise.
            bar_every: planned.map_or(10, |p| (p / 500).max(1)),
            next_plain_step: 0,
            last_plain: Instant::now(),
        }
    }

    /// Move the bar (called at step-log marks, not every step).
    ///
    /// In plain mode, when evaluations are far apart, a position-only line
    /// keeps showing life every 30 s (the figures wait for the next evaluation).
    fn on_step(&mut self, step: u64, now: Instant) {
        match &self.out {
            Out::Bar(bar) if step >= self.next_bar_step => {
                bar.set_position(step);
                self.next_bar_step = step + self.bar_every;
            }
            Out::Plain if now.duration_since(self.last_plain) >= PLAIN_EVERY => {
                self.last_plain = now;
                to_stderr(&format!("[{}] {}", self.name, position(step, self.planned)));
            }
            _ => {}
        }
    }

    /// Refresh after an evaluation.
    fn on_eval(&mut self, s: &Status) {
        match &self.out {
            Out::Quiet => {}
            Out::Bar(bar) => {
                bar.set_position(s.step);
                bar.set_message(status_line(s));
            }
            Out::Plain => {
                let now = Instant::now();
                let by_step = s.step >= self.next_plain_step;
                let by_time = now.duration_since(self.last_plain) >= PLAIN_EVERY;
                if !(by_step || by_time) {
                    return;
                }
                self.next_plain_step = match self.planned {
                    Some(p) => {
                        let tenth = (p / 10).max(1);
                        (s.step / tenth + 1) * tenth
                    }
                    // No plan, no 10 % marks: every 30 s only.
                    None => u64::MAX,
                };
                self.last_plain = now;
                let pos = position(s.step, self.planned);
                to_stderr(&format!("[{}] {pos} | {}", self.name, status_line(s)));
            }
        }
    }

    /// Print one sentence above the bar (or as a plain line).
    fn say_line(&self, sentence: &str) {
        match &self.out {
            Out::Quiet => {}
            Out::Bar(bar) => bar.println(format!("[{}] {sentence}", self.name)),
            Out::Plain => to_stderr(&format!("[{}] {sentence}", self.name)),
        }
    }

    /// Leave the bar where it is, with its last message (once).
    fn close(&mut self) {
        if let Out::Bar(bar) = &self.out {
            bar.abandon();
        }
        self.out = Out::Quiet;
    }
}

/// `step 300/3000 (10 %)`, or `step 300` without a plan.
fn position(step: u64, planned: Option<u64>) -> String {
    match planned {
        Some(p) => format!(
            "step {step}/{p} ({:.0} %)",
            100.0 * step as f64 / p.max(1) as f64
        ),
        None => format!("step {step}"),
    }
}

/// Write a line to stderr, ignoring failures: `eprintln!` panics when
/// stderr is closed, and this runs from `Drop` too.
fn to_stderr(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

fn new_bar(name: &str, planned: Option<u64>) -> indicatif::ProgressBar {
    let target = indicatif::ProgressDrawTarget::stderr();
    let (bar, template) = match planned {
        Some(p) => (
            indicatif::ProgressBar::with_draw_target(Some(p), target),
            "{prefix} [{bar:24}] {pos}/{len} {msg}",
        ),
        None => (
            indicatif::ProgressBar::with_draw_target(None, target),
            "{prefix} {spinner} step {pos} {msg}",
        ),
    };
    if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(name.to_string());
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimated_figures_are_marked() {
        let s = Status {
            step: 10,
            metric_name: "val_acc".into(),
            metric: Some(0.9),
            power: Some(Watts(12.0)),
            energy: Joules(3600.0),
            estimated: true,
            forecast: Some((0.95, 0.93, 0.97)),
            gain_per_kwh: Some(2.0),
            tau: Some(0.5),
            ..Status::default()
        };
        let line = status_line(&s);
        assert!(line.contains("~12.0 W ~3.60 kJ (est.)"), "{line}");
        assert!(line.contains("final 0.9500 [0.9300, 0.9700]"), "{line}");
        assert!(line.contains("gain 2.00/kWh vs τ 0.500"), "{line}");
        let measured = status_line(&Status {
            estimated: false,
            ..s
        });
        assert!(
            !measured.contains('~') && !measured.contains("(est.)"),
            "{measured}"
        );
    }
}
