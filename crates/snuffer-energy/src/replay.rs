//! Replaying a recorded trace as a meter.
//!
//! The CSV has a header and a `time_s` column plus either `power_w` (power
//! samples, integrated with the trapezoid rule) or `energy_j` (a cumulative
//! energy reading). Other columns are ignored. Time is measured from the
//! first row and played back against the wall clock from the meter's
//! creation; after the last row the energy stays at its final value.

use crate::{DomainEnergy, EnergyError, Joules, Meter, Provenance};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What the trace's value column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceKind {
    /// `power_w`: power samples.
    Power,
    /// `energy_j`: cumulative energy.
    Energy,
}

/// A parsed trace: seconds since the first row and cumulative joules there.
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    /// What the file held.
    pub kind: TraceKind,
    /// (seconds since the first row, cumulative joules), time non-decreasing.
    pub points: Vec<(f64, f64)>,
}

impl Trace {
    /// Read and validate a trace file.
    pub fn from_csv(path: &Path) -> Result<Trace, EnergyError> {
        let file = std::fs::File::open(path).map_err(|e| EnergyError::from_io(path, e))?;
        Trace::from_reader(file, path)
    }

    /// Parse a trace from any reader; `path` is only used in messages.
    pub fn from_reader(reader: impl std::io::Read, path: &Path) -> Result<Trace, EnergyError> {
        let row_err = |line: u64, message: String| EnergyError::TraceRow {
            path: path.to_path_buf(),
            line,
            message,
        };
        let mut text = String::new();
        let mut reader = reader;
        reader
            .read_to_string(&mut text)
            .map_err(|e| EnergyError::from_io(path, e))?;
        // Rows are parsed one line at a time so that every error names its line
        // exactly, blank lines included.
        let split = |line: &str| -> Result<csv::StringRecord, String> {
            let mut r = csv::ReaderBuilder::new()
                .has_headers(false)
                .trim(csv::Trim::All)
                .from_reader(line.as_bytes());
            match r.records().next() {
                Some(rec) => rec.map_err(|e| e.to_string()),
                None => Ok(csv::StringRecord::new()),
            }
        };
        let mut lines = text.lines().enumerate().map(|(i, l)| (i as u64 + 1, l));
        let headers = match lines.next() {
            Some((_, h)) => split(h).map_err(|e| row_err(1, e))?,
            None => return Err(row_err(1, "the trace is empty; expected a header".into())),
        };
        let col = |n: &str| headers.iter().position(|h| h == n);
        let time =
            col("time_s").ok_or_else(|| row_err(1, "no `time_s` column in the header".into()))?;
        let (kind, value) = match (col("power_w"), col("energy_j")) {
            (Some(p), None) => (TraceKind::Power, p),
            (None, Some(e)) => (TraceKind::Energy, e),
            (Some(_), Some(_)) => {
                return Err(row_err(
                    1,
                    "give either `power_w` or `energy_j`, not both".into(),
                ))
            }
            (None, None) => {
                return Err(row_err(
                    1,
                    "expected a `power_w` or `energy_j` column".into(),
                ))
            }
        };
        let mut points: Vec<(f64, f64)> = Vec::new();
        let mut first: Option<(f64, f64)> = None;
        let mut last_power = 0.0;
        for (line, raw_line) in lines {
            if raw_line.trim().is_empty() {
                continue;
            }
            let rec = split(raw_line).map_err(|e| row_err(line, e))?;
            let field = |i: usize, name: &str| -> Result<f64, EnergyError> {
                let raw = rec.get(i).unwrap_or("");
                let v: f64 = raw
                    .parse()
                    .map_err(|_| row_err(line, format!("`{name}` is {raw:?}, not a number")))?;
                if !v.is_finite() || v < 0.0 {
                    return Err(row_err(
                        line,
                        format!("`{name}` must be finite and ≥ 0, got {v}"),
                    ));
                }
                Ok(v)
            };
            let t = field(time, "time_s")?;
            let v = field(
                value,
                if kind == TraceKind::Power {
                    "power_w"
                } else {
                    "energy_j"
                },
            )?;
            let (t0, v0) = *first.get_or_insert((t, v));
            let rel = t - t0;
            let cum = match (kind, points.last()) {
                (_, Some(&(pt, _))) if rel < pt => {
                    return Err(row_err(
                        line,
                        format!("time goes back ({t} s after {} s)", pt + t0),
                    ))
                }
                (TraceKind::Energy, Some(&(_, pe))) if v - v0 < pe => {
                    return Err(row_err(
                        line,
                        format!("cumulative energy decreases ({v} J)"),
                    ))
                }
                (TraceKind::Energy, _) => v - v0,
                (TraceKind::Power, Some(&(pt, pe))) => pe + (last_power + v) / 2.0 * (rel - pt),
                (TraceKind::Power, None) => 0.0,
            };
            last_power = v;
            points.push((rel, cum));
        }
        if points.is_empty() {
            return Err(row_err(1, "the trace has no data rows".into()));
        }
        Ok(Trace { kind, points })
    }

    /// Cumulative energy `at` after the first row (linear between rows, constant after the last).
    pub fn cumulative_at(&self, at: Duration) -> Joules {
        let t = at.as_secs_f64();
        let i = self.points.partition_point(|p| p.0 <= t);
        let j = match (i, self.points.get(i), self.points.get(i.wrapping_sub(1))) {
            (0, _, _) => 0.0,
            (_, None, Some(p)) => p.1,
            (_, Some(b), Some(a)) if b.0 > a.0 => a.1 + (b.1 - a.1) * (t - a.0) / (b.0 - a.0),
            (_, _, Some(a)) => a.1,
            _ => 0.0,
        };
        Joules(j)
    }
}

/// Plays a [`Trace`] back as a meter.
#[derive(Debug, Clone)]
pub struct ReplayMeter {
    path: PathBuf,
    trace: Trace,
    domain: String,
    uncertainty: f64,
    start: Instant,
}

impl ReplayMeter {
    /// Load `path`; the domain is named `replay` (see [`ReplayMeter::with_domain`]).
    pub fn from_csv(path: impl AsRef<Path>) -> Result<ReplayMeter, EnergyError> {
        let path = path.as_ref().to_path_buf();
        let trace = Trace::from_csv(&path)?;
        Ok(ReplayMeter {
            path,
            trace,
            domain: "replay".into(),
            uncertainty: 0.05,
            start: Instant::now(),
        })
    }

    /// Name the replayed domain (e.g. `gpu:0`).
    pub fn with_domain(mut self, domain: impl Into<String>) -> ReplayMeter {
        self.domain = domain.into();
        self
    }

    /// The trace being replayed.
    pub fn trace(&self) -> &Trace {
        &self.trace
    }
}

impl Meter for ReplayMeter {
    fn name(&self) -> &str {
        "replay"
    }
    fn read(&mut self) -> Result<Vec<DomainEnergy>, EnergyError> {
        Ok(vec![DomainEnergy {
            domain: self.domain.clone(),
            joules: self.trace.cumulative_at(self.start.elapsed()),
            provenance: match self.trace.kind {
                TraceKind::Power => Provenance::IntegratedPower,
                TraceKind::Energy => Provenance::Counter,
            },
            uncertainty: self.uncertainty,
        }])
    }
}

impl ReplayMeter {
    /// Where the trace came from.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(text: &str) -> Result<Trace, EnergyError> {
        Trace::from_reader(text.as_bytes(), Path::new("trace.csv"))
    }

    #[test]
    fn power_trace_is_integrated() {
        let t = parse("time_s,power_w\n10,100\n11,200\n13,200\n").unwrap();
        assert_eq!(t.kind, TraceKind::Power);
        assert_eq!(t.cumulative_at(Duration::ZERO), Joules(0.0));
        assert_eq!(t.cumulative_at(Duration::from_secs(1)), Joules(150.0));
        assert_eq!(t.cumulative_at(Duration::from_secs(2)), Joules(350.0));
        assert_eq!(t.cumulative_at(Duration::from_secs(60)), Joules(550.0));
    }

    #[test]
    fn energy_trace_is_relative_to_the_first_row() {
        let t = parse("energy_j,time_s,note\n1000,0,a\n1010,1,b\n").unwrap();
        assert_eq!(t.cumulative_at(Duration::from_millis(500)), Joules(5.0));
    }

    #[test]
    fn bad_rows_name_their_line() {
        let rows = [
            ("time_s,power_w\n0,1\n1,abc\n", 3, "not a number"),
            ("time_s,power_w\n0,1\n\n2,-5\n", 4, "≥ 0"),
            ("time_s,energy_j\n0,10\n1,5\n", 3, "decreases"),
            ("time_s,power_w\n5,1\n4,1\n", 3, "time goes back"),
            ("time_s,watts\n0,1\n", 1, "power_w"),
            ("time_s,power_w\n", 1, "no data rows"),
        ];
        for (text, line, needle) in rows {
            match parse(text) {
                Err(EnergyError::TraceRow {
                    line: l, message, ..
                }) => {
                    assert_eq!(l, line, "{text:?}: {message}");
                    assert!(message.contains(needle), "{text:?}: {message}");
                }
                other => panic!("{text:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn missing_file_is_a_clear_error() {
        let err = ReplayMeter::from_csv("/nonexistent/trace.csv").unwrap_err();
        assert!(err.to_string().contains("/nonexistent/trace.csv"), "{err}");
    }

    proptest! {
        #[test]
        fn arbitrary_power_traces_never_go_negative(rows in prop::collection::vec((0.0f64..10.0, 0.0f64..1e4), 1..40), q in 0.0f64..500.0) {
            let mut t = 0.0;
            let mut text = String::from("time_s,power_w\n");
            for (dt, p) in rows { t += dt; text += &format!("{t},{p}\n"); }
            let trace = parse(&text).unwrap();
            let e = trace.cumulative_at(Duration::from_secs_f64(q)).0;
            prop_assert!(e.is_finite() && e >= 0.0);
        }
    }
}
