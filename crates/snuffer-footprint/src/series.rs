//! Carbon intensity as a step-wise time series, and energy applied to it
//! over time.
//!
//! A series is a list of `(timestamp, g/kWh)` points: each value holds from
//! its timestamp until the next one. The last value holds for one typical
//! step (the median spacing of the series), so an hourly file covers its
//! last hour; [`IntensitySeries::with_end`] sets the end explicitly.
//! Integrals over the series are exact (sums of rectangles), not sampled.
//!
//! The CSV form has a timestamp column (RFC 3339) and a g/kWh column; a
//! header row is optional (see [`IntensitySeries::from_csv_reader`]).
//!
//! **Gaps.** A value is taken to hold until the next point only while that is at most
//! [`GAP_STEPS`] typical steps away: in an hourly series, a 20-hour hole is missing data,
//! not 20 hours of the last value before it. Beyond that, the value before the hole holds
//! for one typical step and the rest is a [`Gap`]: no value is known there, so a mean or a
//! run over it is an error ([`FootprintError::Gap`]) and [`crate::plan`] only considers
//! runs outside it.

use crate::error::short;
use crate::error::{FootprintError, Result};
use crate::quantity::{GramsCo2e, GramsPerKwh};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use snuffer_energy::Joules;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A spacing longer than this many typical (median) steps is a [`Gap`] in the series.
pub const GAP_STEPS: f64 = 3.0;

/// A stretch of a series without data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    /// Where the value before the gap stops holding (its timestamp plus one typical step).
    pub start: DateTime<Utc>,
    /// The next timestamp of the series.
    pub end: DateTime<Utc>,
}

/// Grid carbon intensity over time, step-wise constant.
#[derive(Debug, Clone, PartialEq)]
pub struct IntensitySeries {
    start: DateTime<Utc>,
    /// Offsets of the points from `start`, seconds, strictly increasing, first = 0.
    offsets: Vec<f64>,
    values: Vec<f64>,
    /// Offset of the end of coverage, seconds (> last offset).
    end: f64,
    /// `cumulative[i]` = ∫ from start to point i, in (g/kWh)·s.
    cumulative: Vec<f64>,
    /// The typical (median) spacing, seconds.
    step: f64,
    /// Offsets `[from, to)` without data (see [`Gap`]), in time order.
    holes: Vec<(f64, f64)>,
}

/// Seconds from `a` to `b` (negative when `b` is before `a`), to the microsecond.
pub(crate) fn secs_between(a: DateTime<Utc>, b: DateTime<Utc>) -> f64 {
    let d = b - a;
    match d.num_microseconds() {
        Some(us) => us as f64 / 1e6,
        None => d.num_milliseconds() as f64 / 1e3,
    }
}

/// `t` plus `secs` seconds (rounded to the microsecond).
pub(crate) fn add_secs(t: DateTime<Utc>, secs: f64) -> DateTime<Utc> {
    t + chrono::Duration::microseconds((secs * 1e6).round() as i64)
}

impl IntensitySeries {
    /// A series from points; the last value holds for the median spacing.
    ///
    /// Needs at least two points, strictly increasing in time, with finite
    /// values ≥ 0.
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use snuffer_footprint::{GramsPerKwh, IntensitySeries};
    /// let t0 = Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap();
    /// let h = chrono::Duration::hours(1);
    /// let s = IntensitySeries::new(vec![(t0, GramsPerKwh(100.0)), (t0 + h, GramsPerKwh(300.0))])?;
    /// assert_eq!(s.end(), t0 + h + h);
    /// // Mean over 00:30–01:30: half an hour at 100, half at 300.
    /// let m = s.mean(t0 + h / 2, t0 + h + h / 2)?;
    /// assert_eq!(m, GramsPerKwh(200.0));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(points: Vec<(DateTime<Utc>, GramsPerKwh)>) -> Result<IntensitySeries> {
        Self::build(points, None, None)
    }

    /// A series whose last value holds until `end` (must be after the last point).
    /// A single point is allowed here.
    pub fn with_end(
        points: Vec<(DateTime<Utc>, GramsPerKwh)>,
        end: DateTime<Utc>,
    ) -> Result<IntensitySeries> {
        Self::build(points, Some(end), None)
    }

    fn build(
        points: Vec<(DateTime<Utc>, GramsPerKwh)>,
        end: Option<DateTime<Utc>>,
        lines: Option<(&[u64], Option<&Path>)>,
    ) -> Result<IntensitySeries> {
        let needed = if end.is_some() { 1 } else { 2 };
        if points.len() < needed {
            return Err(FootprintError::Series(format!(
                "needs at least {needed} point(s) to know how long the last value holds, got {}",
                points.len()
            )));
        }
        let start = points[0].0;
        let mut offsets = Vec::with_capacity(points.len());
        let mut values = Vec::with_capacity(points.len());
        for (i, &(t, GramsPerKwh(v))) in points.iter().enumerate() {
            let where_ = |message: String| match lines {
                Some((lines, path)) => FootprintError::Csv {
                    path: path.map(Path::to_path_buf),
                    line: lines[i],
                    message,
                },
                None => FootprintError::Series(format!("point {i}: {message}")),
            };
            if !(v.is_finite() && v >= 0.0) {
                return Err(where_(format!(
                    "intensity {v} must be a finite number ≥ 0 g/kWh"
                )));
            }
            let off = secs_between(start, t);
            if let Some(&prev) = offsets.last() {
                if off <= prev {
                    return Err(where_(format!(
                        "timestamp {} is not after the previous one ({}); rows must be in \
                         increasing time order without duplicates",
                        t.to_rfc3339(),
                        add_secs(start, prev).to_rfc3339()
                    )));
                }
            }
            offsets.push(off);
            values.push(v);
        }
        let last = offsets[offsets.len() - 1];
        let end = match end {
            Some(e) => {
                let e = secs_between(start, e);
                if e <= last {
                    return Err(FootprintError::Series(
                        "the end of the series must be after its last point".into(),
                    ));
                }
                e
            }
            None => last + median_step(&offsets),
        };
        let step = if offsets.len() >= 2 {
            median_step(&offsets)
        } else {
            end - last
        };
        let mut cumulative = Vec::with_capacity(offsets.len());
        let mut holes = Vec::new();
        let mut acc = 0.0;
        for i in 0..offsets.len() {
            cumulative.push(acc);
            let next = offsets.get(i + 1).copied().unwrap_or(end);
            acc += values[i] * (next - offsets[i]);
            if !acc.is_finite() {
                let at = add_secs(start, offsets[i]);
                let message = format!(
                    "intensity {} g/kWh at {} makes the series' integral overflow; no grid \
                     comes near such values (the dirtiest are about 1 000 g/kWh): check the unit",
                    short(values[i]),
                    at.to_rfc3339()
                );
                return Err(match lines {
                    Some((lines, path)) => FootprintError::Csv {
                        path: path.map(Path::to_path_buf),
                        line: lines[i],
                        message,
                    },
                    None => FootprintError::Series(format!("point {i}: {message}")),
                });
            }
            if i + 1 < offsets.len() && next - offsets[i] > GAP_STEPS * step {
                holes.push((offsets[i] + step, next));
            }
        }
        Ok(IntensitySeries {
            start,
            offsets,
            values,
            end,
            cumulative,
            step,
            holes,
        })
    }

    /// Reads a CSV with a timestamp column (RFC 3339) and a g/kWh column.
    ///
    /// Without a header row the first two columns are used. With one (the
    /// first row's first field is not a timestamp), the time column is the
    /// first whose name contains `time` or `date`, and the intensity column
    /// the first other one whose name contains `intens`, `co2`, `carbon` or
    /// `kwh`, else the first other column. Blank lines are skipped. A bad row
    /// is an error naming its line.
    ///
    /// ```
    /// use snuffer_footprint::IntensitySeries;
    /// let csv = "timestamp,g_per_kwh\n2024-05-01T00:00:00Z,120\n2024-05-01T01:00:00Z,80\n";
    /// let s = IntensitySeries::from_csv_reader(csv.as_bytes())?;
    /// assert_eq!(s.len(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_csv_reader<R: Read>(reader: R) -> Result<IntensitySeries> {
        Self::from_csv_inner(reader, None)
    }

    /// Reads the CSV file at `path` (see [`IntensitySeries::from_csv_reader`]).
    pub fn from_csv_path(path: impl AsRef<Path>) -> Result<IntensitySeries> {
        let path = path.as_ref();
        let file = std::fs::File::open(path).map_err(|source| FootprintError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_csv_inner(file, Some(path.to_path_buf()))
    }

    fn from_csv_inner<R: Read>(mut reader: R, path: Option<PathBuf>) -> Result<IntensitySeries> {
        // Read the (small) file whole: line numbers are then counted from byte
        // offsets, which stay right across blank and comment lines that the
        // csv reader skips without counting.
        let mut text = Vec::new();
        reader
            .read_to_end(&mut text)
            .map_err(|source| FootprintError::Io {
                path: path.clone().unwrap_or_else(|| PathBuf::from("<input>")),
                source,
            })?;
        // A record's position is where the reader started looking for it,
        // before any blank or comment lines it skipped: `lines` steps over those.
        let mut lines = LineCounter::new(&text);
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .comment(Some(b'#'))
            .from_reader(text.as_slice());
        let csv_err = |line: u64, message: String| FootprintError::Csv {
            path: path.clone(),
            line,
            message,
        };
        let mut cols: Option<(usize, usize)> = None;
        let mut points = Vec::new();
        let mut point_lines = Vec::new();
        for (n, rec) in rdr.records().enumerate() {
            let rec = rec.map_err(|e| {
                let line = e
                    .position()
                    .map(|p| lines.line_of(p.byte()))
                    .unwrap_or(n as u64 + 1);
                csv_err(line, format!("unreadable CSV row: {e}"))
            })?;
            let line = rec
                .position()
                .map(|p| lines.line_of(p.byte()))
                .unwrap_or(n as u64 + 1);
            if rec.iter().all(str::is_empty) {
                continue;
            }
            let (tc, vc) = match cols {
                Some(c) => c,
                None => {
                    let c = if parse_time(rec.get(0).unwrap_or("")).is_some() {
                        (0, 1)
                    } else {
                        let c = header_columns(&rec);
                        cols = Some(c);
                        continue;
                    };
                    cols = Some(c);
                    c
                }
            };
            let (Some(ts), Some(val)) = (rec.get(tc), rec.get(vc)) else {
                return Err(csv_err(
                    line,
                    format!(
                        "expected a timestamp and a g/kWh value, found {} field(s)",
                        rec.len()
                    ),
                ));
            };
            let t = parse_time(ts).ok_or_else(|| {
                csv_err(
                    line,
                    format!("timestamp `{ts}` is not RFC 3339 (e.g. 2024-05-01T13:00:00Z)"),
                )
            })?;
            let v: f64 = val.parse().map_err(|_| {
                csv_err(line, format!("intensity `{val}` is not a number of g/kWh"))
            })?;
            points.push((t, GramsPerKwh(v)));
            point_lines.push(line);
        }
        if points.len() < 2 {
            return Err(FootprintError::Series(format!(
                "{}needs at least two rows (timestamp, g/kWh), found {}",
                path.as_ref()
                    .map(|p| format!("{}: ", p.display()))
                    .unwrap_or_default(),
                points.len()
            )));
        }
        Self::build(points, None, Some((&point_lines, path.as_deref())))
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether the series has no points (never true for a built series).
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// First instant covered.
    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }

    /// End of coverage (exclusive).
    pub fn end(&self) -> DateTime<Utc> {
        add_secs(self.start, self.end)
    }

    /// The points, as given.
    pub fn points(&self) -> impl Iterator<Item = (DateTime<Utc>, GramsPerKwh)> + '_ {
        self.offsets
            .iter()
            .zip(&self.values)
            .map(|(&o, &v)| (add_secs(self.start, o), GramsPerKwh(v)))
    }

    /// Whether `[a, b]` lies within the series' coverage, clear of its [`Gap`]s.
    pub fn covers(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> bool {
        let (oa, ob) = (self.offset(a), self.offset(b));
        oa >= 0.0 && ob <= self.end + 1e-6 && oa <= ob && self.hole_overlapping(oa, ob).is_none()
    }

    /// Intensity in force at `t`, if covered (`None` in a [`Gap`]).
    pub fn at(&self, t: DateTime<Utc>) -> Option<GramsPerKwh> {
        let o = self.offset(t);
        if o < 0.0 || o >= self.end || self.holes.iter().any(|&(h0, h1)| o >= h0 && o < h1) {
            return None;
        }
        Some(GramsPerKwh(self.values[self.index_at(o)]))
    }

    /// The stretches without data (see the module docs), in time order.
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use snuffer_footprint::{GramsPerKwh, IntensitySeries};
    /// let t0 = Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap();
    /// let h = chrono::Duration::hours(1);
    /// // Hourly, then nothing from 03:00 until 23:00.
    /// let hours = [0, 1, 2, 22, 23, 24];
    /// let s = IntensitySeries::new(hours.iter().map(|&i| (t0 + h * i, GramsPerKwh(100.0))).collect())?;
    /// let gaps = s.gaps();
    /// assert_eq!((gaps[0].start, gaps[0].end), (t0 + h * 3, t0 + h * 22));
    /// assert!(s.at(t0 + h * 10).is_none());
    /// assert!(s.mean(t0, t0 + h * 5).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn gaps(&self) -> Vec<Gap> {
        self.holes
            .iter()
            .map(|&(a, b)| Gap {
                start: add_secs(self.start, a),
                end: add_secs(self.start, b),
            })
            .collect()
    }

    /// The first hole that `(a, b)` overlaps (touching its ends is not overlapping).
    ///
    /// The holes are sorted and disjoint, so only the first one ending after `a` can be the
    /// first that overlaps: a binary search, O(log holes).
    pub(crate) fn hole_overlapping(&self, a: f64, b: f64) -> Option<(f64, f64)> {
        let first = self.holes.partition_point(|&(_, h1)| h1 <= a);
        self.holes
            .get(first)
            .copied()
            .filter(|&(h0, h1)| (a < h1 && b > h0) || (a == b && a >= h0 && a < h1))
    }

    /// Holes, as offsets `[from, to)`.
    pub(crate) fn holes(&self) -> &[(f64, f64)] {
        &self.holes
    }

    /// The error for `what`, needing `[a, b]`, which overlaps `hole`.
    pub(crate) fn gap_error(
        &self,
        what: &'static str,
        hole: (f64, f64),
        a: DateTime<Utc>,
        b: DateTime<Utc>,
    ) -> FootprintError {
        FootprintError::Gap {
            what,
            gap_start: add_secs(self.start, hole.0).to_rfc3339(),
            gap_end: add_secs(self.start, hole.1).to_rfc3339(),
            hours: (hole.1 - hole.0) / 3600.0,
            step_min: self.step / 60.0,
            needed: format!("{} to {}", a.to_rfc3339(), b.to_rfc3339()),
        }
    }

    /// Time-weighted mean intensity over `[a, b]` (the value at `a` when `a == b`).
    pub fn mean(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> Result<GramsPerKwh> {
        self.check_covers("the interval", a, b)?;
        let (oa, ob) = (self.offset(a), self.offset(b));
        if ob - oa <= 0.0 {
            return Ok(GramsPerKwh(self.values[self.index_at(oa)]));
        }
        Ok(GramsPerKwh(self.integral(oa, ob) / (ob - oa)))
    }

    /// Emissions of `energy` spent at constant power from `start` for `duration`.
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use snuffer_energy::Joules;
    /// use snuffer_footprint::{GramsPerKwh, IntensitySeries};
    /// use std::time::Duration;
    /// let t0 = Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap();
    /// let h = chrono::Duration::hours(1);
    /// let s = IntensitySeries::new(vec![(t0, GramsPerKwh(100.0)), (t0 + h, GramsPerKwh(300.0))])?;
    /// // 2 kWh over two hours: 1 kWh at 100 g + 1 kWh at 300 g = 400 g.
    /// let g = s.emissions_constant_power(t0, Duration::from_secs(7200), Joules::from_kwh(2.0))?;
    /// assert!((g.0 - 400.0).abs() < 1e-9);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn emissions_constant_power(
        &self,
        start: DateTime<Utc>,
        duration: Duration,
        energy: Joules,
    ) -> Result<GramsCo2e> {
        let end = add_secs(start, duration.as_secs_f64());
        let mean = self.mean(start, end)?;
        Ok(mean.emissions(energy))
    }

    /// Emissions of a run given as cumulative energy readings
    /// `(time, joules since an arbitrary origin)`.
    ///
    /// Between two readings the energy is spread evenly (constant power);
    /// the run's energy is the last reading minus the first. Times must
    /// increase strictly and energy must not decrease.
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use snuffer_energy::Joules;
    /// use snuffer_footprint::{GramsPerKwh, IntensitySeries};
    /// let t0 = Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap();
    /// let h = chrono::Duration::hours(1);
    /// let s = IntensitySeries::new(vec![(t0, GramsPerKwh(100.0)), (t0 + h, GramsPerKwh(300.0))])?;
    /// // 3 kWh in the first hour, 1 kWh in the second: 300 + 300 = 600 g.
    /// let profile = [
    ///     (t0, Joules(0.0)),
    ///     (t0 + h, Joules::from_kwh(3.0)),
    ///     (t0 + h + h, Joules::from_kwh(4.0)),
    /// ];
    /// assert!((s.emissions_of_profile(&profile)?.0 - 600.0).abs() < 1e-9);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn emissions_of_profile(&self, profile: &[(DateTime<Utc>, Joules)]) -> Result<GramsCo2e> {
        validate_profile(profile)?;
        if let (Some(first), Some(last)) = (profile.first(), profile.last()) {
            self.check_covers("the run", first.0, last.0)?;
        }
        let mut total = 0.0;
        for w in profile.windows(2) {
            let ((ta, ea), (tb, eb)) = (w[0], w[1]);
            let de = eb.0 - ea.0;
            if de == 0.0 {
                continue;
            }
            total += self.mean(ta, tb)?.emissions(Joules(de)).0;
        }
        Ok(GramsCo2e(total))
    }

    pub(crate) fn check_covers(
        &self,
        what: &'static str,
        a: DateTime<Utc>,
        b: DateTime<Utc>,
    ) -> Result<()> {
        let (oa, ob) = (self.offset(a), self.offset(b));
        if let Some(hole) = self.hole_overlapping(oa, ob) {
            return Err(self.gap_error(what, hole, a, b));
        }
        if self.covers(a, b) {
            Ok(())
        } else {
            Err(FootprintError::OutsideSeries {
                what,
                series_start: self.start().to_rfc3339(),
                series_end: self.end().to_rfc3339(),
                needed_start: a.to_rfc3339(),
                needed_end: b.to_rfc3339(),
            })
        }
    }

    /// Seconds from the series start to `t`.
    pub(crate) fn offset(&self, t: DateTime<Utc>) -> f64 {
        secs_between(self.start, t)
    }

    /// Offset of the end of coverage, seconds.
    pub(crate) fn end_offset(&self) -> f64 {
        self.end
    }

    /// Breakpoint offsets (points and end), seconds.
    pub(crate) fn breakpoints(&self) -> impl Iterator<Item = f64> + '_ {
        self.offsets
            .iter()
            .copied()
            .chain(std::iter::once(self.end))
    }

    /// Index of the step in force at offset `o` (clamped to the series).
    fn index_at(&self, o: f64) -> usize {
        self.offsets.partition_point(|&x| x <= o).saturating_sub(1)
    }

    /// ∫ from offset `a` to `b` (`a ≤ b`, clamped to coverage), (g/kWh)·s: within one
    /// interval its value × the width, exactly; across intervals the partial first and last
    /// ones plus the whole ones between. (The difference of two running integrals from the
    /// series' start loses every digit over a 10 ns window, and its mean could fall below
    /// the series' minimum.)
    pub(crate) fn integral(&self, a: f64, b: f64) -> f64 {
        let (a, b) = (a.clamp(0.0, self.end), b.clamp(0.0, self.end));
        let (i, j) = (self.index_at(a), self.index_at(b));
        if i == j {
            return self.values[i] * (b - a);
        }
        let first = self.values[i] * (self.offsets[i + 1] - a);
        let last = self.values[j] * (b - self.offsets[j]);
        first + (self.cumulative[j] - self.cumulative[i + 1]) + last
    }
}

/// Line numbers (1-based) of byte offsets into a text, for offsets that mostly increase:
/// each call counts newlines only from the previous offset, so numbering every record of
/// a file costs O(file size) in all, not O(size) per record.
struct LineCounter<'a> {
    text: &'a [u8],
    /// An offset already counted, and the number of newlines before it.
    pos: usize,
    newlines: u64,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a [u8]) -> Self {
        LineCounter {
            text,
            pos: 0,
            newlines: 0,
        }
    }

    /// The line of the first line at or after `byte` that is neither blank nor a `#`
    /// comment (the csv reader skips those without counting them).
    fn line_of(&mut self, byte: u64) -> u64 {
        let text = self.text;
        let mut pos = usize::try_from(byte).unwrap_or(usize::MAX).min(text.len());
        while pos < text.len() {
            let end = text[pos..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(text.len(), |i| pos + i);
            let line = &text[pos..end];
            let blank = line.iter().all(|b| b.is_ascii_whitespace());
            if !(blank || line.first() == Some(&b'#')) {
                break;
            }
            pos = end + 1;
        }
        let pos = pos.min(text.len());
        if pos < self.pos {
            self.pos = 0;
            self.newlines = 0;
        }
        let count = |s: &[u8]| s.iter().filter(|&&b| b == b'\n').count() as u64;
        self.newlines += count(&text[self.pos..pos]);
        self.pos = pos;
        1 + self.newlines
    }
}

fn validate_profile(profile: &[(DateTime<Utc>, Joules)]) -> Result<()> {
    for (i, &(_, e)) in profile.iter().enumerate() {
        if !e.0.is_finite() {
            return Err(FootprintError::InvalidValue {
                what: "energy reading (J)",
                value: e.0,
                expected: "expected finite cumulative joules",
            });
        }
        if i > 0 {
            let (tp, ep) = profile[i - 1];
            if profile[i].0 <= tp {
                return Err(FootprintError::Series(format!(
                    "energy reading {i} ({}) is not after the previous one ({}); readings \
                     must increase in time",
                    profile[i].0.to_rfc3339(),
                    tp.to_rfc3339()
                )));
            }
            if e.0 < ep.0 {
                return Err(FootprintError::InvalidValue {
                    what: "energy reading (J)",
                    value: e.0,
                    expected: "cumulative energy must not decrease",
                });
            }
        }
    }
    Ok(())
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn header_columns(rec: &csv::StringRecord) -> (usize, usize) {
    let names: Vec<String> = rec.iter().map(|s| s.to_ascii_lowercase()).collect();
    let tc = names
        .iter()
        .position(|n| n.contains("time") || n.contains("date"))
        .unwrap_or(0);
    let vc = names
        .iter()
        .enumerate()
        .position(|(i, n)| {
            i != tc
                && ["intens", "co2", "carbon", "kwh"]
                    .iter()
                    .any(|k| n.contains(k))
        })
        .or_else(|| (0..names.len()).find(|&i| i != tc))
        .unwrap_or(1);
    (tc, vc)
}

fn median_step(offsets: &[f64]) -> f64 {
    let mut steps: Vec<f64> = offsets.windows(2).map(|w| w[1] - w[0]).collect();
    steps.sort_by(f64::total_cmp);
    steps[steps.len() / 2]
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    /// The line numbering counted from the start of the text every time.
    fn naive_line_of(text: &[u8], byte: u64) -> u64 {
        let mut pos = (byte as usize).min(text.len());
        while pos < text.len() {
            let end = text[pos..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(text.len(), |i| pos + i);
            let line = &text[pos..end];
            let blank = line.iter().all(|b| b.is_ascii_whitespace());
            if !(blank || line.first() == Some(&b'#')) {
                break;
            }
            pos = end + 1;
        }
        let pos = pos.min(text.len());
        1 + text[..pos].iter().filter(|&&b| b == b'\n').count() as u64
    }

    proptest! {
        #[test]
        fn line_counter_equals_counting_from_the_start(
            text in "[a#\n ,1]{0,60}",
            offsets in prop::collection::vec(0u64..70, 0..12),
        ) {
            let bytes = text.as_bytes();
            let mut counter = LineCounter::new(bytes);
            let mut sorted = offsets.clone();
            sorted.sort_unstable();
            // Increasing offsets (the reader's), then arbitrary ones (an error's).
            for o in sorted.into_iter().chain(offsets) {
                prop_assert_eq!(counter.line_of(o), naive_line_of(bytes, o));
            }
        }
    }

    #[test]
    fn plan_over_many_holes_finds_the_same_overlaps_as_a_scan() {
        // Three hourly points, then a day and a half missing: hundreds of holes.
        let mut points = Vec::new();
        for i in 0..400i64 {
            for h in 0..3 {
                points.push((
                    t(0, 0) + chrono::Duration::hours(40 * i + h),
                    GramsPerKwh((i + h) as f64),
                ));
            }
        }
        let s = IntensitySeries::new(points).unwrap();
        assert!(s.holes().len() > 300);
        let scan = |a: f64, b: f64| {
            s.holes()
                .iter()
                .copied()
                .find(|&(h0, h1)| (a < h1 && b > h0) || (a == b && a >= h0 && a < h1))
        };
        for k in 0..6000 {
            let a = k as f64 * 9600.0 - 5000.0;
            for d in [0.0, 1.0, 1800.0, 3600.0, 7200.0, 50_000.0] {
                assert_eq!(s.hole_overlapping(a, a + d), scan(a, a + d), "{a} {d}");
            }
        }
    }

    fn t(h: i64, m: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap()
            + chrono::Duration::hours(h)
            + chrono::Duration::minutes(m)
    }

    fn hourly(values: &[f64]) -> IntensitySeries {
        IntensitySeries::new(
            values
                .iter()
                .enumerate()
                .map(|(i, &v)| (t(i as i64, 0), GramsPerKwh(v)))
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn integrals_by_hand() {
        let s = hourly(&[100.0, 200.0, 400.0]);
        assert_eq!(s.end(), t(3, 0));
        // 00:30–02:30: 0.5 h·100 + 1 h·200 + 0.5 h·400 = 450 over 2 h → 225.
        assert_eq!(s.mean(t(0, 30), t(2, 30)).unwrap(), GramsPerKwh(225.0));
        assert_eq!(s.at(t(1, 59)), Some(GramsPerKwh(200.0)));
        assert_eq!(s.at(t(3, 0)), None);
        // Zero-length interval: the value in force.
        assert_eq!(s.mean(t(2, 0), t(2, 0)).unwrap(), GramsPerKwh(400.0));
    }

    #[test]
    fn profile_with_uneven_power() {
        let s = hourly(&[100.0, 200.0, 400.0]);
        // 1 kWh from 00:30 to 01:30 (mean 150) then 2 kWh from 01:30 to 02:30 (mean 300):
        // 150 + 600 = 750 g.
        let p = [
            (t(0, 30), Joules(5.0)),
            (t(1, 30), Joules(5.0) + Joules::from_kwh(1.0)),
            (t(2, 30), Joules(5.0) + Joules::from_kwh(3.0)),
        ];
        let g = s.emissions_of_profile(&p).unwrap();
        assert!((g.0 - 750.0).abs() < 1e-9, "{g}");
    }

    #[test]
    fn outside_coverage_is_an_error() {
        let s = hourly(&[100.0, 200.0]);
        let e = s.mean(t(1, 0), t(2, 30)).unwrap_err().to_string();
        assert!(e.contains("extend the series"), "{e}");
        assert!(s.mean(t(-1, 0), t(1, 0)).is_err());
    }

    #[test]
    fn a_long_hole_is_a_gap_not_the_last_value_held() {
        // Hourly 00–04, then nothing until 24:00 (a 20-hour hole), then hourly again.
        let pts: Vec<_> = [0, 1, 2, 3, 4, 24, 25, 26]
            .iter()
            .map(|&h| (t(h, 0), GramsPerKwh(100.0 + h as f64)))
            .collect();
        let s = IntensitySeries::new(pts).unwrap();
        assert_eq!(
            s.gaps(),
            vec![Gap {
                start: t(5, 0),
                end: t(24, 0)
            }]
        );
        assert_eq!(
            s.at(t(4, 30)),
            Some(GramsPerKwh(104.0)),
            "holds one typical step"
        );
        assert_eq!(s.at(t(5, 0)), None);
        assert_eq!(s.at(t(24, 0)), Some(GramsPerKwh(124.0)));
        let e = s.mean(t(3, 0), t(6, 0)).unwrap_err();
        assert!(matches!(e, FootprintError::Gap { .. }), "{e}");
        let text = e.to_string();
        assert!(
            text.contains("19.0 h") && text.contains("fill the gap"),
            "{text}"
        );
        // Touching the gap's ends is fine.
        assert!(s.mean(t(3, 0), t(5, 0)).is_ok());
        assert!(s.mean(t(24, 0), t(26, 0)).is_ok());
        // Two missing hours are not a gap: the value holds.
        let s = hourly(&[1.0, 2.0, 3.0, 4.0]);
        assert!(s.gaps().is_empty());
    }

    #[test]
    fn an_overflowing_integral_names_the_point() {
        let csv = "2024-05-01T00:00:00Z,1e308\n2024-05-01T01:00:00Z,1e308\n";
        let e = IntensitySeries::from_csv_reader(csv.as_bytes()).unwrap_err();
        assert!(matches!(e, FootprintError::Csv { line: 1, .. }), "{e}");
        assert!(e.to_string().contains("1e308 g/kWh"), "{e}");
    }

    #[test]
    fn bad_profiles_are_errors() {
        let s = hourly(&[100.0, 200.0]);
        let back = [(t(0, 30), Joules(0.0)), (t(0, 10), Joules(1.0))];
        assert!(s.emissions_of_profile(&back).is_err());
        let down = [(t(0, 0), Joules(5.0)), (t(0, 10), Joules(1.0))];
        assert!(s.emissions_of_profile(&down).is_err());
        let nan = [(t(0, 0), Joules(f64::NAN))];
        assert!(s.emissions_of_profile(&nan).is_err());
    }

    #[test]
    fn csv_with_and_without_header() {
        let with = "time,region,carbon_intensity_g_per_kwh\n\
                    2024-05-01T00:00:00Z,FR,50\n\n2024-05-01T01:00:00+01:00,FR,70\n\
                    2024-05-01T01:00:00Z,FR,90\n";
        // The second row is 00:00Z written with an offset: a duplicate.
        let e = IntensitySeries::from_csv_reader(with.as_bytes()).unwrap_err();
        assert!(matches!(e, FootprintError::Csv { line: 4, .. }), "{e}");

        let ok = "# comment\n2024-05-01T00:00:00Z,50\n2024-05-01T00:30:00Z,70\n";
        let s = IntensitySeries::from_csv_reader(ok.as_bytes()).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s.end(), t(1, 0));
    }

    #[test]
    fn csv_errors_name_their_line() {
        let cases = [
            (
                "timestamp,g\n2024-05-01T00:00:00Z,50\nyesterday,3\n",
                3,
                "RFC 3339",
            ),
            (
                "timestamp,g\n2024-05-01T00:00:00Z,50\n2024-05-01T01:00:00Z,x\n",
                3,
                "not a number",
            ),
            (
                "timestamp,g\n2024-05-01T00:00:00Z,-5\n2024-05-01T01:00:00Z,3\n",
                2,
                "≥ 0",
            ),
            (
                "timestamp,g\n2024-05-01T00:00:00Z,NaN\n2024-05-01T01:00:00Z,3\n",
                2,
                "≥ 0",
            ),
            (
                "2024-05-01T00:00:00Z,5\n2024-05-01T01:00:00Z\n",
                2,
                "found 1 field",
            ),
            (
                "a,b\n2024-05-01T02:00:00Z,5\n2024-05-01T01:00:00Z,3\n",
                3,
                "increasing",
            ),
        ];
        for (text, line, needle) in cases {
            match IntensitySeries::from_csv_reader(text.as_bytes()) {
                Err(FootprintError::Csv {
                    line: l, message, ..
                }) => {
                    assert_eq!(l, line, "{text:?}: {message}");
                    assert!(message.contains(needle), "{text:?}: {message}");
                }
                other => panic!("{text:?}: expected a CSV error, got {other:?}"),
            }
        }
        assert!(
            IntensitySeries::from_csv_reader("t,g\n2024-05-01T00:00:00Z,5\n".as_bytes()).is_err()
        );
    }
}
