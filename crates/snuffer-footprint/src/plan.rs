//! Carbon-aware start: the start time, within a window, that minimises a
//! run's emissions.
//!
//! The run is assumed to draw constant power over its duration D, so its
//! emissions when started at s are E/D · ∫ₛ^{s+D} I(t) dt. With a step-wise
//! series that integral is piecewise linear in s, with kinks only where s or
//! s + D crosses a step boundary; its minimum over the window is therefore at
//! a window end or at one of those kinks. [`plan`] evaluates exactly those
//! candidates (O(n log n) for n points), so the answer is exact, not sampled.
//! Ties go to the earliest start: waiting is only worth it when it saves.
//!
//! A run never spans a [`Gap`] of the series (where no value is known): starts whose run
//! would overlap one are left out, and the gaps within the window are listed in
//! [`Plan::gaps`]. When even the run starting now would span one, there is nothing to
//! compare with, and the answer is an error naming the gap.

use crate::error::short;
use crate::error::{FootprintError, Result};
use crate::quantity::{GramsCo2e, GramsPerKwh};
use crate::series::{add_secs, Gap, IntensitySeries};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use snuffer_energy::Joules;
use std::time::Duration;

/// When the run may happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The earliest start ("now").
    pub earliest_start: DateTime<Utc>,
    /// The time by which the run must have *finished*; `None` means the end
    /// of the series.
    pub deadline: Option<DateTime<Utc>>,
}

/// The best start and what it saves compared with starting now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Start now (the window's earliest start).
    pub now: DateTime<Utc>,
    /// The start that minimises emissions.
    pub best_start: DateTime<Utc>,
    /// When the run ends if started at `best_start`.
    pub best_end: DateTime<Utc>,
    /// The latest start that still finishes by the deadline (or series end).
    pub latest_start: DateTime<Utc>,
    /// Energy of the run, kWh.
    pub energy_kwh: f64,
    /// Duration of the run, s.
    pub duration_s: f64,
    /// Emissions when starting now.
    #[serde(rename = "emissions_now_co2e_g")]
    pub emissions_now: GramsCo2e,
    /// Emissions when starting at `best_start`.
    #[serde(rename = "emissions_best_co2e_g")]
    pub emissions_best: GramsCo2e,
    /// `emissions_now − emissions_best` (≥ 0).
    #[serde(rename = "saved_co2e_g")]
    pub saved: GramsCo2e,
    /// `saved / emissions_now` (0 when emissions now are zero).
    pub saved_fraction: f64,
    /// Mean intensity over the run when starting now.
    #[serde(rename = "mean_intensity_now_g_per_kwh")]
    pub mean_intensity_now: GramsPerKwh,
    /// Mean intensity over the run when starting at `best_start`.
    #[serde(rename = "mean_intensity_best_g_per_kwh")]
    pub mean_intensity_best: GramsPerKwh,
    /// How long to wait before starting, s.
    pub delay_s: f64,
    /// Stretches of the window without intensity data: no run considered overlaps them.
    #[serde(default)]
    pub gaps: Vec<Gap>,
}

/// Finds the start in `window` that minimises the emissions of a run using
/// `energy` at constant power over `duration`, under `series`.
///
/// Errors when the duration is zero, the energy negative or NaN, the window
/// starts outside the series, the run does not fit between the earliest
/// start and the deadline (or the end of the series), the run starting now would span a
/// [`Gap`], no start clear of gaps exists, or the emissions overflow.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use snuffer_energy::Joules;
/// use snuffer_footprint::{plan, GramsPerKwh, IntensitySeries, Window};
/// use std::time::Duration;
/// let t0 = Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap();
/// let h = chrono::Duration::hours(1);
/// let series = IntensitySeries::new(
///     [300.0, 100.0, 100.0, 400.0].iter().enumerate()
///         .map(|(i, &g)| (t0 + h * i as i32, GramsPerKwh(g))).collect(),
/// )?;
/// let p = plan(&series, Joules::from_kwh(2.0), Duration::from_secs(7200),
///              Window { earliest_start: t0, deadline: None })?;
/// assert_eq!(p.best_start, t0 + h);           // the two clean hours
/// assert_eq!(p.emissions_best.0, 200.0);      // 2 kWh at 100 g/kWh
/// assert_eq!(p.emissions_now.0, 400.0);       // 1 kWh at 300 + 1 kWh at 100
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn plan(
    series: &IntensitySeries,
    energy: Joules,
    duration: Duration,
    window: Window,
) -> Result<Plan> {
    let kwh = crate::error::non_negative("energy (kWh)", energy.kwh())?;
    let d = duration.as_secs_f64();
    if d <= 0.0 {
        return Err(FootprintError::InvalidValue {
            what: "duration (s)",
            value: d,
            expected: "expected a run longer than zero (e.g. 90m or 4h)",
        });
    }
    let s0 = series.offset(window.earliest_start);
    let limit = match window.deadline {
        Some(dl) => series.offset(dl).min(series.end_offset()),
        None => series.end_offset(),
    };
    let latest = limit - d;
    if s0 < 0.0 || s0 >= series.end_offset() {
        return Err(FootprintError::OutsideSeries {
            what: "the planning window",
            series_start: series.start().to_rfc3339(),
            series_end: series.end().to_rfc3339(),
            needed_start: window.earliest_start.to_rfc3339(),
            needed_end: add_secs(window.earliest_start, d).to_rfc3339(),
        });
    }
    if latest < s0 - 1e-6 {
        let by = match window.deadline {
            Some(dl) if series.offset(dl) < series.end_offset() => {
                format!("the deadline {}", dl.to_rfc3339())
            }
            _ => format!(
                "the end of the intensity series ({})",
                series.end().to_rfc3339()
            ),
        };
        return Err(FootprintError::MissingInput(format!(
            "a {} run starting at {} cannot finish by {by}; move the deadline later, \
             give a longer series or a shorter run",
            humanise(d),
            window.earliest_start.to_rfc3339(),
        )));
    }
    let latest = latest.max(s0);
    if let Some(hole) = series.hole_overlapping(s0, s0 + d) {
        return Err(series.gap_error(
            "the run starting now",
            hole,
            window.earliest_start,
            add_secs(window.earliest_start, d),
        ));
    }

    // ∫ₛ^{s+D} I, in (g/kWh)·s.
    let cost = |s: f64| series.integral(s, s + d);
    let clear = |c: f64| series.hole_overlapping(c, c + d).is_none();
    let mut candidates: Vec<f64> = vec![s0, latest];
    // Runs ending where a gap starts; those starting where one ends start at a breakpoint.
    let gap_ends = series.holes().iter().map(|h| h.0 - d);
    for c in series
        .breakpoints()
        .flat_map(|b| [b, b - d])
        .chain(gap_ends)
    {
        if c > s0 && c < latest {
            candidates.push(c);
        }
    }
    candidates.retain(|&c| clear(c));
    candidates.sort_by(f64::total_cmp);
    let now_cost = cost(s0);
    let mut best = (s0, now_cost);
    for &c in &candidates {
        let v = cost(c);
        // Strictly better by more than rounding noise: ties keep the earlier start.
        if v < best.1 - 1e-9 * best.1.abs().max(1.0) {
            best = (c, v);
        }
    }
    let emissions = |integral: f64| GramsCo2e(kwh * (integral / d));
    let emissions_now = emissions(now_cost);
    let emissions_best = emissions(best.1);
    if !emissions_now.0.is_finite() {
        return Err(FootprintError::Overflow {
            what: "the emissions of the run",
            detail: format!(
                "{} kWh at a mean of {} g/kWh",
                short(kwh),
                short(now_cost / d)
            ),
        });
    }
    let gaps = series
        .holes()
        .iter()
        .filter(|h| h.1 > s0 && h.0 < limit)
        .map(|&(a, b)| Gap {
            start: add_secs(series.start(), a),
            end: add_secs(series.start(), b),
        })
        .collect();
    let saved = GramsCo2e((emissions_now.0 - emissions_best.0).max(0.0));
    let best_start = add_secs(series.start(), best.0);
    Ok(Plan {
        now: window.earliest_start,
        best_start,
        best_end: add_secs(best_start, d),
        latest_start: add_secs(series.start(), latest),
        energy_kwh: kwh,
        duration_s: d,
        emissions_now,
        emissions_best,
        saved,
        saved_fraction: if emissions_now.0 > 0.0 {
            saved.0 / emissions_now.0
        } else {
            0.0
        },
        mean_intensity_now: GramsPerKwh(now_cost / d),
        mean_intensity_best: GramsPerKwh(best.1 / d),
        delay_s: best.0 - s0,
        gaps,
    })
}

fn humanise(secs: f64) -> String {
    if secs >= 3600.0 {
        format!("{:.2} h", secs / 3600.0)
    } else {
        format!("{:.1} min", secs / 60.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap()
    }
    fn at(min: i64) -> DateTime<Utc> {
        t0() + chrono::Duration::minutes(min)
    }
    fn hourly(values: &[f64]) -> IntensitySeries {
        IntensitySeries::new(
            values
                .iter()
                .enumerate()
                .map(|(i, &v)| (at(60 * i as i64), GramsPerKwh(v)))
                .collect(),
        )
        .unwrap()
    }

    /// Brute force over a one-minute grid, for comparison.
    fn brute(series: &IntensitySeries, d_min: i64, from: i64, to: i64) -> (i64, f64) {
        let mut best = (from, f64::INFINITY);
        for s in from..=to {
            let m = series.mean(at(s), at(s + d_min)).unwrap().0;
            if m < best.1 - 1e-9 {
                best = (s, m);
            }
        }
        best
    }

    #[test]
    fn hand_computed_case_with_a_straddling_optimum() {
        // Hours: 400, 300, 100, 50, 500, 200; a 90-minute run of 3 kWh.
        // Start 02:30 → 04:00: 0.5 h at 100 + 1 h at 50 = 100 (g/kWh)·h, mean 66.67,
        // 3 kWh × 66.67 = 200 g (02:00 gives 125 → 250 g; 03:00 gives 300 → 600 g).
        // Starting now (00:00): 1 h at 400 + 0.5 h at 300 = 550 → 3 × 550/1.5 = 1 100 g.
        let s = hourly(&[400.0, 300.0, 100.0, 50.0, 500.0, 200.0]);
        let p = plan(
            &s,
            Joules::from_kwh(3.0),
            Duration::from_secs(90 * 60),
            Window {
                earliest_start: t0(),
                deadline: None,
            },
        )
        .unwrap();
        assert_eq!(p.best_start, at(150));
        assert_eq!(p.best_end, at(240));
        assert!((p.emissions_best.0 - 200.0).abs() < 1e-9, "{p:?}");
        assert!((p.emissions_now.0 - 1100.0).abs() < 1e-9, "{p:?}");
        assert!((p.saved.0 - 900.0).abs() < 1e-9);
        assert!((p.saved_fraction - 900.0 / 1100.0).abs() < 1e-12);
        assert!((p.mean_intensity_best.0 - 200.0 / 3.0).abs() < 1e-9);
        assert_eq!(p.delay_s, 150.0 * 60.0);
        assert_eq!(p.latest_start, at(360 - 90));
    }

    #[test]
    fn deadline_limits_the_choice() {
        let s = hourly(&[400.0, 300.0, 100.0, 50.0, 500.0, 200.0]);
        // Must finish by 03:00: a 60-minute run; best is 02:00–03:00 at 100 g/kWh.
        let p = plan(
            &s,
            Joules::from_kwh(1.0),
            Duration::from_secs(3600),
            Window {
                earliest_start: t0(),
                deadline: Some(at(180)),
            },
        )
        .unwrap();
        assert_eq!(p.best_start, at(120));
        assert!((p.emissions_best.0 - 100.0).abs() < 1e-9);
        assert_eq!(p.latest_start, at(120));
    }

    #[test]
    fn flat_series_starts_now() {
        let s = hourly(&[200.0, 200.0, 200.0]);
        let p = plan(
            &s,
            Joules::from_kwh(1.0),
            Duration::from_secs(3600),
            Window {
                earliest_start: at(10),
                deadline: None,
            },
        )
        .unwrap();
        assert_eq!(p.best_start, at(10));
        assert_eq!(p.saved.0, 0.0);
    }

    #[test]
    fn exact_search_matches_brute_force() {
        let values = [
            320.0, 280.0, 410.0, 90.0, 150.0, 60.0, 600.0, 120.0, 75.0, 330.0,
        ];
        let s = hourly(&values);
        for d_min in [15, 60, 95, 150, 240] {
            for from in [0, 7, 61] {
                let p = plan(
                    &s,
                    Joules::from_kwh(1.0),
                    Duration::from_secs(d_min as u64 * 60),
                    Window {
                        earliest_start: at(from),
                        deadline: None,
                    },
                )
                .unwrap();
                let (_, m) = brute(&s, d_min, from, 600 - d_min);
                assert!(
                    p.mean_intensity_best.0 <= m + 1e-9,
                    "d={d_min} from={from}: exact {} > brute {m}",
                    p.mean_intensity_best.0
                );
            }
        }
    }

    /// An hourly series with a 20-hour gap after a dirty hour used to pick a start inside
    /// the gap, with the one value before it held for the whole run.
    #[test]
    fn no_start_inside_a_gap() {
        // 00–03 dirty, a clean value at 04:00, nothing until 24:00, then middling hours.
        let mut pts: Vec<_> = [500.0, 500.0, 500.0, 500.0, 10.0]
            .iter()
            .enumerate()
            .map(|(h, &g)| (at(60 * h as i64), GramsPerKwh(g)))
            .collect();
        for h in 24..30 {
            pts.push((at(60 * h), GramsPerKwh(200.0)));
        }
        let s = IntensitySeries::new(pts).unwrap();
        let w = Window {
            earliest_start: t0(),
            deadline: None,
        };
        let p = plan(&s, Joules::from_kwh(1.0), Duration::from_secs(3 * 3600), w).unwrap();
        assert_eq!(p.gaps.len(), 1, "{p:?}");
        assert_eq!((p.gaps[0].start, p.gaps[0].end), (at(5 * 60), at(24 * 60)));
        // The clean hour at 04:00 holds for one hour only: 02:00–05:00 ends at the gap.
        assert_eq!(p.best_start, at(24 * 60), "{p:?}");
        assert!((p.mean_intensity_best.0 - 200.0).abs() < 1e-9, "{p:?}");
        let e = plan(
            &s,
            Joules::from_kwh(1.0),
            Duration::from_secs(3 * 3600),
            Window {
                earliest_start: at(3 * 60),
                deadline: None,
            },
        )
        .unwrap_err();
        assert!(matches!(e, FootprintError::Gap { .. }), "{e}");
        assert!(e.to_string().contains("the run starting now"), "{e}");
    }

    #[test]
    fn overflowing_emissions_are_an_error() {
        let s = hourly(&[1e300, 1e300, 1e300]);
        let e = plan(
            &s,
            Joules::from_kwh(1e10),
            Duration::from_secs(3600),
            Window {
                earliest_start: t0(),
                deadline: None,
            },
        )
        .unwrap_err();
        assert!(matches!(e, FootprintError::Overflow { .. }), "{e}");
        assert!(e.to_string().contains("1e10 kWh"), "{e}");
    }

    #[test]
    fn impossible_windows_are_errors() {
        let s = hourly(&[100.0, 200.0]);
        let w = |min, dl| Window {
            earliest_start: at(min),
            deadline: dl,
        };
        let h = Duration::from_secs(3600);
        let e = plan(&s, Joules(1.0), 3 * h, w(0, None))
            .unwrap_err()
            .to_string();
        assert!(e.contains("cannot finish"), "{e}");
        let e = plan(&s, Joules(1.0), h, w(0, Some(at(30))))
            .unwrap_err()
            .to_string();
        assert!(e.contains("deadline"), "{e}");
        assert!(plan(&s, Joules(1.0), h, w(-5, None)).is_err());
        assert!(plan(&s, Joules(1.0), Duration::ZERO, w(0, None)).is_err());
        assert!(plan(&s, Joules(-1.0), h, w(0, None)).is_err());
        assert!(plan(&s, Joules(f64::NAN), h, w(0, None)).is_err());
    }
}
