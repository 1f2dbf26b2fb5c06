//! The curves-CSV reader: recorded learning curves, one row per evaluation.
//!
//! Format (see the project's design notes, "Curves CSV"): required columns
//! `source,task,run_id,step,metric,metric_name,higher_is_better`, optional
//! `epoch_time_s` (seconds since the previous row) and `energy_j` (joules since
//! the previous row); any other column is ignored. Rows of one run — keyed by
//! `(task, run_id)` — are grouped in order of first appearance, then sorted by
//! step (stably, so duplicate steps keep file order).
//!
//! Non-finite metric values (`NaN`, `inf`) are kept as they are: they are data
//! (a diverged run), and the divergence rule and the scorers deal with them.
//!
//! [`read_curves`] holds every run; [`CurvesFile`] reads a file of any size in two passes,
//! handing out each run (or each task's runs, [`Grouping`]) as soon as it is complete.
//!
//! ```
//! use snuffer_replay::curves::read_curves_from;
//! let csv = "source,task,run_id,step,metric,metric_name,higher_is_better,epoch_time_s\n\
//!            s,t,r1,2,0.5,acc,true,10\n\
//!            s,t,r1,1,0.2,acc,true,10\n\
//!            s,t,r2,1,NaN,acc,true,\n";
//! let runs = read_curves_from(csv.as_bytes())?;
//! assert_eq!(runs.len(), 2);
//! assert_eq!(runs[0].steps, vec![1.0, 2.0]);
//! assert_eq!(runs[0].epoch_time_s, Some(vec![10.0, 10.0]));
//! assert!(runs[1].metrics[0].is_nan());
//! assert_eq!(runs[1].epoch_time_s, None); // a column counts only if every row has it
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::CurvesError;
use snuffer_energy::lines::LineLimited;
use snuffer_energy::{Joules, Watts};

mod stream;
use snuffer_forecast::Direction;
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
pub use stream::{CurvesFile, Grouping, RunGroup, RunGroups, RunInfo};

/// Columns every curves CSV must have.
pub const REQUIRED_COLUMNS: [&str; 7] = [
    "source",
    "task",
    "run_id",
    "step",
    "metric",
    "metric_name",
    "higher_is_better",
];

/// One recorded run: its points sorted by step.
#[derive(Debug, Clone, PartialEq)]
pub struct CurveRun {
    /// Where the run comes from (e.g. `opda`).
    pub source: String,
    /// The task (dataset/benchmark).
    pub task: String,
    /// The run's id, unique within its task.
    pub run_id: String,
    /// The metric's name (of the run's first row).
    pub metric_name: String,
    /// Whether larger metric values are better.
    pub higher_is_better: bool,
    /// Steps, ascending.
    pub steps: Vec<f64>,
    /// Metric values in the metric's own units; may hold NaN or ±inf.
    pub metrics: Vec<f64>,
    /// Seconds since the previous row, if every row of the run has it.
    pub epoch_time_s: Option<Vec<f64>>,
    /// Joules since the previous row, if every row of the run has it.
    pub energy_j: Option<Vec<f64>>,
}

/// How to turn a run's rows into energy when the file has no `energy_j`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EnergyAssumptions {
    /// Power to multiply `epoch_time_s` by.
    pub power: Watts,
    /// Energy of one training step, used when neither energy nor time is recorded.
    pub step_energy: Joules,
}

impl Default for EnergyAssumptions {
    /// 1 kW and 1 J per step: whatever the constants, a power or a per-step
    /// energy that is the same for every row only rescales τ.
    fn default() -> Self {
        EnergyAssumptions {
            power: Watts(1000.0),
            step_energy: Joules(1.0),
        }
    }
}

/// Where a run's energy figures come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnergyBasis {
    /// The recorded `energy_j` column.
    Recorded,
    /// `epoch_time_s` × an assumed power.
    TimeTimesPower,
    /// Step deltas × an assumed energy per step.
    StepsTimesStepEnergy,
}

impl CurveRun {
    /// Number of points.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// True when the run has no points (never true for runs from [`read_curves`]).
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The metric's direction.
    pub fn direction(&self) -> Direction {
        if self.higher_is_better {
            Direction::HigherIsBetter
        } else {
            Direction::LowerIsBetter
        }
    }

    /// Which energy rule [`CurveRun::cumulative_energy`] applies to this run.
    pub fn energy_basis(&self) -> EnergyBasis {
        if self.energy_j.is_some() {
            EnergyBasis::Recorded
        } else if self.epoch_time_s.is_some() {
            EnergyBasis::TimeTimesPower
        } else {
            EnergyBasis::StepsTimesStepEnergy
        }
    }

    /// Cumulative energy at each row: `energy_j` if recorded, else `epoch_time_s` × power,
    /// else the step delta (from step 0 for the first row) × the energy per step.
    /// Non-decreasing; matches the scorers' `build_runs`.
    pub fn cumulative_energy(&self, assumptions: EnergyAssumptions) -> Vec<Joules> {
        let per_row: Vec<f64> = match (&self.energy_j, &self.epoch_time_s) {
            (Some(e), _) => e.clone(),
            (None, Some(t)) => t.iter().map(|s| s * assumptions.power.0).collect(),
            (None, None) => {
                let mut prev = 0.0;
                self.steps
                    .iter()
                    .map(|&s| {
                        let d = (s - prev).max(0.0);
                        prev = s;
                        d * assumptions.step_energy.0
                    })
                    .collect()
            }
        };
        let mut total = 0.0;
        per_row
            .into_iter()
            .map(|e| {
                total += e.max(0.0);
                Joules(total)
            })
            .collect()
    }
}

/// Read a curves CSV file.
pub fn read_curves(path: &Path) -> Result<Vec<CurveRun>, CurvesError> {
    let file = std::fs::File::open(path).map_err(|source| CurvesError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    read_curves_named(file, &path.display().to_string())
}

/// Read curves CSV text from any reader (errors name the origin `<input>`).
pub fn read_curves_from<R: Read>(reader: R) -> Result<Vec<CurveRun>, CurvesError> {
    read_curves_named(reader, "<input>")
}

/// Column positions in the header.
pub(crate) struct Columns {
    required: [usize; 7],
    epoch_time_s: Option<usize>,
    energy_j: Option<usize>,
}

/// One row, parsed and checked, borrowing its text fields from the record.
pub(crate) struct Row<'r> {
    pub(crate) source: &'r str,
    pub(crate) task: &'r str,
    pub(crate) run_id: &'r str,
    pub(crate) metric_name: &'r str,
    pub(crate) higher_is_better: bool,
    pub(crate) step: f64,
    pub(crate) metric: f64,
    pub(crate) time: Option<f64>,
    pub(crate) energy: Option<f64>,
    pub(crate) line: u64,
}

/// A CSV reader set up as every curves reader needs it
/// (lines bounded by [`MAX_LINE_BYTES`](snuffer_energy::lines::MAX_LINE_BYTES), so a
/// damaged or sparse file is an error, not an allocation the size of the file).
pub(crate) fn csv_reader<R: Read>(reader: R) -> csv::Reader<LineLimited<R>> {
    let reader = LineLimited::new(reader);
    csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(reader)
}

/// Reads the header and finds the columns.
pub(crate) fn header<R: Read>(
    rdr: &mut csv::Reader<R>,
    origin: &str,
) -> Result<Columns, CurvesError> {
    let header = rdr.headers().map_err(|e| csv_error(origin, &e))?.clone();
    locate_columns(&header, origin)
}

/// Reads the next record into `record`; `false` at the end of the input.
pub(crate) fn next_record<R: Read>(
    rdr: &mut csv::Reader<R>,
    record: &mut csv::StringRecord,
    origin: &str,
) -> Result<bool, CurvesError> {
    rdr.read_record(record).map_err(|e| csv_error(origin, &e))
}

/// Parses and checks one record; `None` for a blank line (not a row).
pub(crate) fn parse_row<'r>(
    record: &'r csv::StringRecord,
    cols: &Columns,
    origin: &str,
) -> Result<Option<Row<'r>>, CurvesError> {
    let line = record.position().map(|p| p.line()).unwrap_or(0);
    // A blank line in the middle of a file is not a row.
    if record.iter().all(str::is_empty) {
        return Ok(None);
    }
    let field = |i: usize| record.get(i).unwrap_or("");
    let [source, task, run_id, step, metric, metric_name, hib] = cols.required;
    let ctx =
        |column: &str, value: &str, problem: &str| bad_value(origin, line, column, value, problem);
    let step_v = parse_f64(field(step))
        .filter(|s| s.is_finite() && *s >= 0.0)
        .ok_or_else(|| {
            ctx(
                "step",
                field(step),
                "the step must be a finite number ≥ 0 (steps count from 0)",
            )
        })?;
    let metric_v = parse_f64(field(metric)).ok_or_else(|| {
        ctx(
            "metric",
            field(metric),
            "the metric must be a number (NaN and inf are accepted)",
        )
    })?;
    let hib_v = parse_bool(field(hib)).ok_or_else(|| {
        ctx(
            "higher_is_better",
            field(hib),
            "expected true/false (or 1/0, yes/no)",
        )
    })?;
    let optional = |col: Option<usize>, name: &str| -> Result<Option<f64>, CurvesError> {
        match col.map(field) {
            None | Some("") => Ok(None),
            Some(raw) => parse_f64(raw)
                .filter(|v| v.is_finite() && *v >= 0.0)
                .map(Some)
                .ok_or_else(|| {
                    ctx(
                        name,
                        raw,
                        "expected a finite number ≥ 0, or an empty field when unknown",
                    )
                }),
        }
    };
    Ok(Some(Row {
        source: field(source),
        task: field(task),
        run_id: field(run_id),
        metric_name: field(metric_name),
        higher_is_better: hib_v,
        step: step_v,
        metric: metric_v,
        time: optional(cols.epoch_time_s, "epoch_time_s")?,
        energy: optional(cols.energy_j, "energy_j")?,
        line,
    }))
}

pub(crate) fn bad_value(
    origin: &str,
    line: u64,
    column: &str,
    value: &str,
    problem: &str,
) -> CurvesError {
    CurvesError::BadValue {
        origin: origin.to_string(),
        line,
        column: column.to_string(),
        value: value.to_string(),
        problem: problem.to_string(),
    }
}

/// The error for a row whose direction differs from its run's first row (at `first_line`).
pub(crate) fn direction_change(
    origin: &str,
    row: &Row<'_>,
    first_line: u64,
    first: bool,
) -> CurvesError {
    bad_value(
        origin,
        row.line,
        "higher_is_better",
        if row.higher_is_better {
            "true"
        } else {
            "false"
        },
        &format!(
            "run {}/{} changes direction (line {first_line} said {first}); one run has one \
             metric direction",
            row.task, row.run_id
        ),
    )
}

/// One run while it is being collected: rows in file order, with optional columns per row.
pub(crate) struct Building {
    run: CurveRun,
    times: Vec<Option<f64>>,
    energies: Vec<Option<f64>>,
    pub(crate) first_line: u64,
}

impl Building {
    /// A run started by its first row.
    pub(crate) fn new(row: &Row<'_>) -> Building {
        Building {
            run: CurveRun {
                source: row.source.to_string(),
                task: row.task.to_string(),
                run_id: row.run_id.to_string(),
                metric_name: row.metric_name.to_string(),
                higher_is_better: row.higher_is_better,
                steps: Vec::new(),
                metrics: Vec::new(),
                epoch_time_s: None,
                energy_j: None,
            },
            times: Vec::new(),
            energies: Vec::new(),
            first_line: row.line,
        }
    }

    /// The run's direction (of its first row).
    pub(crate) fn higher_is_better(&self) -> bool {
        self.run.higher_is_better
    }

    /// Rows collected so far.
    pub(crate) fn len(&self) -> usize {
        self.run.steps.len()
    }

    /// Add a row of this run; an error when its direction differs from the run's.
    pub(crate) fn push(&mut self, row: &Row<'_>, origin: &str) -> Result<(), CurvesError> {
        if self.higher_is_better() != row.higher_is_better {
            return Err(direction_change(
                origin,
                row,
                self.first_line,
                self.higher_is_better(),
            ));
        }
        if self.run.metric_name != row.metric_name {
            return Err(bad_value(
                origin,
                row.line,
                "metric_name",
                row.metric_name,
                &format!(
                    "run {}/{} changes metric (line {} said {:?}); one run has one metric: \
                     give the other metric's rows another run_id",
                    row.task, row.run_id, self.first_line, self.run.metric_name
                ),
            ));
        }
        self.run.steps.push(row.step);
        self.run.metrics.push(row.metric);
        self.times.push(row.time);
        self.energies.push(row.energy);
        Ok(())
    }
}

fn read_curves_named<R: Read>(reader: R, origin: &str) -> Result<Vec<CurveRun>, CurvesError> {
    let mut rdr = csv_reader(reader);
    let cols = header(&mut rdr, origin)?;
    let mut index: HashMap<(String, String), usize> = HashMap::new();
    let mut building: Vec<Building> = Vec::new();
    let mut record = csv::StringRecord::new();
    while next_record(&mut rdr, &mut record, origin)? {
        let Some(row) = parse_row(&record, &cols, origin)? else {
            continue;
        };
        let key = (row.task.to_string(), row.run_id.to_string());
        let slot = match index.get(&key) {
            Some(&i) => i,
            None => {
                index.insert(key, building.len());
                building.push(Building::new(&row));
                building.len() - 1
            }
        };
        building[slot].push(&row, origin)?;
    }
    Ok(building.into_iter().map(finish).collect())
}

/// Sort a run's rows by step and keep the optional columns only when complete.
/// A note when an optional column (`epoch_time_s`, `energy_j`) is filled on some rows of
/// the run and empty on others: a column counts only if every row has it, so the run's
/// energy then comes from the next rule ([`CurveRun::cumulative_energy`]), which must be
/// said, not done silently.
pub(crate) fn partial_columns(b: &Building) -> Option<String> {
    let n = b.len();
    let empty = |v: &[Option<f64>]| v.iter().filter(|x| x.is_none()).count();
    let mut parts = Vec::new();
    for (name, v) in [("energy_j", &b.energies), ("epoch_time_s", &b.times)] {
        let k = empty(v);
        if k > 0 && k < n {
            parts.push(format!("{name} is empty on {k} of its {n} rows"));
        }
    }
    (!parts.is_empty()).then(|| {
        format!(
            "run {}/{}: {}, so that column is not used for it: its energy is {} (fill the \
             empty cells — 0 where nothing was spent — to use the recorded figures)",
            b.run.task,
            b.run.run_id,
            parts.join(" and "),
            match (empty(&b.energies), empty(&b.times)) {
                (0, _) => "the recorded energy_j",
                (_, 0) => "epoch_time_s × the power",
                _ => "steps × the energy per step",
            }
        )
    })
}

pub(crate) fn finish(b: Building) -> CurveRun {
    let Building {
        mut run,
        times,
        energies,
        ..
    } = b;
    let mut order: Vec<usize> = (0..run.steps.len()).collect();
    // Steps are finite (checked on read), so total_cmp is the usual order; sort_by is stable.
    order.sort_by(|&a, &b| run.steps[a].total_cmp(&run.steps[b]));
    let pick = |v: &[f64]| order.iter().map(|&i| v[i]).collect::<Vec<f64>>();
    let complete = |v: &[Option<f64>]| -> Option<Vec<f64>> {
        let all: Option<Vec<f64>> = v.iter().copied().collect();
        all.map(|a| pick(&a))
    };
    run.epoch_time_s = complete(&times);
    run.energy_j = complete(&energies);
    run.steps = pick(&run.steps);
    run.metrics = pick(&run.metrics);
    run
}

fn locate_columns(header: &csv::StringRecord, origin: &str) -> Result<Columns, CurvesError> {
    let find = |name: &str| header.iter().position(|h| h == name);
    let mut required = [0usize; 7];
    let mut missing = Vec::new();
    for (slot, name) in required.iter_mut().zip(REQUIRED_COLUMNS) {
        match find(name) {
            Some(i) => *slot = i,
            None => missing.push(name.to_string()),
        }
    }
    if !missing.is_empty() {
        return Err(CurvesError::MissingColumns {
            origin: origin.to_string(),
            missing,
        });
    }
    Ok(Columns {
        required,
        epoch_time_s: find("epoch_time_s"),
        energy_j: find("energy_j"),
    })
}

fn csv_error(origin: &str, e: &csv::Error) -> CurvesError {
    CurvesError::Csv {
        origin: origin.to_string(),
        line: e.position().map(|p| p.line()).unwrap_or(0),
        message: e.to_string(),
    }
}

/// Parse a float; Rust accepts `NaN`, `inf`, `-inf`, `infinity` (any case).
fn parse_f64(s: &str) -> Option<f64> {
    s.parse::<f64>().ok()
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "t" | "y" => Some(true),
        "false" | "0" | "no" | "f" | "n" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HEAD: &str = "source,task,run_id,step,metric,metric_name,higher_is_better";

    #[test]
    fn a_metric_change_mid_run_and_negative_steps_are_errors() {
        let text = format!("{HEAD}\ns,t,r,1,0.5,acc,true\ns,t,r,2,0.4,loss,true\n");
        let err = read_curves_from(text.as_bytes()).unwrap_err().to_string();
        assert!(
            err.contains("changes metric") && err.contains("line 3") && err.contains("\"acc\""),
            "{err}"
        );
        let text = format!("{HEAD}\ns,t,r,-5,0.5,acc,true\n");
        let err = read_curves_from(text.as_bytes()).unwrap_err().to_string();
        assert!(err.contains("≥ 0") && err.contains("-5"), "{err}");
    }

    #[test]
    fn a_line_longer_than_the_limit_is_an_error_not_an_allocation() {
        let endless = HEAD.as_bytes().chain(std::io::repeat(b'1'));
        let err = read_curves_from(endless).unwrap_err().to_string();
        assert!(err.contains("longer than"), "{err}");
    }

    fn read(s: &str) -> Result<Vec<CurveRun>, CurvesError> {
        read_curves_from(s.as_bytes())
    }

    #[test]
    fn groups_by_task_and_run_in_file_order_then_sorts_by_step() {
        let text = format!(
            "{HEAD},extra\ns,t,b,3,0.3,acc,true,x\ns,t,a,1,0.1,acc,true,x\ns,t,b,1,0.2,acc,true,x\ns,u,b,1,0.9,acc,true,x\n"
        );
        let runs = read(&text).unwrap();
        let ids: Vec<_> = runs
            .iter()
            .map(|r| (r.task.as_str(), r.run_id.as_str()))
            .collect();
        assert_eq!(ids, vec![("t", "b"), ("t", "a"), ("u", "b")]);
        assert_eq!(runs[0].steps, vec![1.0, 3.0]);
        assert_eq!(runs[0].metrics, vec![0.2, 0.3]);
    }

    #[test]
    fn keeps_non_finite_metrics() {
        let text = format!("{HEAD}\ns,t,r,1,nan,loss,false\ns,t,r,2,inf,loss,false\ns,t,r,3,-Infinity,loss,false\n");
        let runs = read(&text).unwrap();
        let m = &runs[0].metrics;
        assert!(m[0].is_nan() && m[1] == f64::INFINITY && m[2] == f64::NEG_INFINITY);
        assert_eq!(runs[0].direction(), Direction::LowerIsBetter);
    }

    #[test]
    fn optional_columns_count_only_when_complete() {
        let text = format!(
            "{HEAD},epoch_time_s,energy_j\ns,t,a,1,0.1,acc,true,2,5\ns,t,a,2,0.2,acc,true,2,\ns,t,b,1,0.1,acc,true,,7\n"
        );
        let runs = read(&text).unwrap();
        assert_eq!(runs[0].epoch_time_s, Some(vec![2.0, 2.0]));
        assert_eq!(runs[0].energy_j, None);
        assert_eq!(runs[1].epoch_time_s, None);
        assert_eq!(runs[1].energy_j, Some(vec![7.0]));
    }

    #[test]
    fn errors_name_line_and_column() {
        let cases: &[(&str, &str, &str)] = &[
            ("s,t,r,x,0.1,acc,true", "line 2", "`step`"),
            ("s,t,r,1,abc,acc,true", "line 2", "`metric`"),
            ("s,t,r,1,0.1,acc,maybe", "line 2", "`higher_is_better`"),
            ("s,t,r,inf,0.1,acc,true", "line 2", "`step`"),
        ];
        for (row, line, col) in cases {
            let err = read(&format!("{HEAD}\n{row}\n")).unwrap_err().to_string();
            assert!(err.contains(line) && err.contains(col), "row {row}: {err}");
        }
        let err = read(&format!(
            "{HEAD},epoch_time_s\ns,t,r,1,0.1,acc,true,1\ns,t,r,2,0.1,acc,true,-1\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("line 3") && err.contains("epoch_time_s"),
            "{err}"
        );
        let err = read(&format!("{HEAD}\ns,t,r,1,0.1,acc\n"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2"), "short row: {err}");
    }

    #[test]
    fn missing_columns_are_named() {
        let err = read("source,task,step,metric\ns,t,1,2\n").unwrap_err();
        match err {
            CurvesError::MissingColumns { missing, .. } => {
                assert_eq!(missing, vec!["run_id", "metric_name", "higher_is_better"])
            }
            other => panic!("expected MissingColumns, got {other}"),
        }
    }

    #[test]
    fn direction_change_within_a_run_is_an_error() {
        let err = read(&format!(
            "{HEAD}\ns,t,r,1,0.1,acc,true\ns,t,r,2,0.1,acc,false\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(err.contains("line 3") && err.contains("direction"), "{err}");
    }

    #[test]
    fn cumulative_energy_follows_the_documented_precedence() {
        let base = CurveRun {
            source: "s".into(),
            task: "t".into(),
            run_id: "r".into(),
            metric_name: "acc".into(),
            higher_is_better: true,
            steps: vec![2.0, 5.0, 6.0],
            metrics: vec![0.1, 0.2, 0.3],
            epoch_time_s: None,
            energy_j: None,
        };
        let a = EnergyAssumptions {
            power: Watts(10.0),
            step_energy: Joules(3.0),
        };
        let j = |v: &[f64]| v.iter().map(|&x| Joules(x)).collect::<Vec<_>>();
        assert_eq!(
            base.cumulative_energy(a),
            j(&[6.0, 15.0, 18.0]),
            "steps × J/step"
        );
        let timed = CurveRun {
            epoch_time_s: Some(vec![1.0, 2.0, 3.0]),
            ..base.clone()
        };
        assert_eq!(
            timed.cumulative_energy(a),
            j(&[10.0, 30.0, 60.0]),
            "time × power"
        );
        assert_eq!(timed.energy_basis(), EnergyBasis::TimeTimesPower);
        let metered = CurveRun {
            energy_j: Some(vec![4.0, 4.0, 4.0]),
            ..timed
        };
        assert_eq!(
            metered.cumulative_energy(a),
            j(&[4.0, 8.0, 12.0]),
            "recorded energy"
        );
    }

    #[test]
    fn empty_input_lacks_columns_and_header_only_gives_no_runs() {
        assert!(matches!(read(""), Err(CurvesError::MissingColumns { .. })));
        assert!(read(&format!("{HEAD}\n")).unwrap().is_empty());
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = read_curves_from(bytes.as_slice());
        }

        #[test]
        fn arbitrary_rows_never_panic(rows in proptest::collection::vec(
            proptest::collection::vec("[a-z0-9.,\"-]{0,6}|nan|inf|true|false|", 0..10), 0..20)) {
            let mut text = format!("{HEAD},epoch_time_s,energy_j\n");
            for r in rows {
                text.push_str(&r.join(","));
                text.push('\n');
            }
            if let Ok(runs) = read(&text) {
                for run in runs {
                    prop_assert_eq!(run.steps.len(), run.metrics.len());
                    prop_assert!(run.steps.windows(2).all(|w| w[0] <= w[1]));
                    let e = run.cumulative_energy(EnergyAssumptions::default());
                    prop_assert!(e.windows(2).all(|w| w[0].0 <= w[1].0));
                }
            }
        }
    }
}
