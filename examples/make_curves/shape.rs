//! What a curve does (improves, starts late, turns down, …), for the summary table.

use crate::grid::Task;
use crate::train::{Point, RunResult};

/// What a curve does, judged on the metric flipped so that higher is better.
/// Flags are not exclusive; thresholds are in units of the run's own gain
/// (best − first value) and the task's typical gain (median over its runs).
#[derive(Default, Debug, Clone, Copy)]
pub struct Shape {
    /// Best value beats the first by ≥ 10 % of the task's typical gain.
    pub improves: bool,
    /// Less than 10 % of the run's gain is reached in the first 20 % of the plan,
    /// and the run does improve: a plateau before learning starts.
    pub late_start: bool,
    /// After 40 % of the plan, best-so-far jumps by ≥ 10 % of the run's gain
    /// between two consecutive evaluations.
    pub late_jump: bool,
    /// Final value worse than the best by ≥ 10 % of the run's gain (no NaN):
    /// validation loss turning up, accuracy sagging.
    pub turns_down: bool,
    /// Final value no better than the first evaluation although the best was
    /// (it gave back everything it had gained: collapse or heavy overfitting),
    /// or a non-finite value somewhere.
    pub ends_below_first: bool,
    /// A NaN or infinite metric somewhere.
    pub non_finite: bool,
    /// Best-so-far still improves by ≥ 1 % of the gain over the last 10 % of the plan.
    pub improving_at_end: bool,
}

pub fn shape(points: &[Point], higher: bool, task_gain: f64, steps: u64) -> Shape {
    let sign = if higher { 1.0 } else { -1.0 };
    let v: Vec<f64> = points.iter().map(|p| sign * p.metric).collect();
    let mut s = Shape {
        non_finite: v.iter().any(|x| !x.is_finite()),
        ..Shape::default()
    };
    let finite: Vec<(u64, f64)> = points
        .iter()
        .zip(&v)
        .filter(|(_, x)| x.is_finite())
        .map(|(p, &x)| (p.step, x))
        .collect();
    let Some(&(_, first)) = finite.first() else {
        return s;
    };
    let best = finite.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    let gain = best - first;
    s.improves = gain >= 0.1 * task_gain && gain > 0.0;
    let last = *v.last().unwrap_or(&f64::NAN);
    if s.improves {
        let frac = |step: u64| step as f64 / steps as f64;
        let reached = finite
            .iter()
            .find(|p| p.1 - first >= 0.1 * gain)
            .map(|p| frac(p.0))
            .unwrap_or(1.0);
        s.late_start = reached > 0.2;
        let mut bsf = f64::NEG_INFINITY;
        let mut bsf_at_90 = f64::NEG_INFINITY;
        for &(step, x) in &finite {
            let prev = bsf;
            bsf = bsf.max(x);
            if frac(step) > 0.4 && prev.is_finite() && bsf - prev >= 0.1 * gain {
                s.late_jump = true;
            }
            if frac(step) <= 0.9 {
                bsf_at_90 = bsf;
            }
        }
        s.improving_at_end = bsf - bsf_at_90 >= 0.01 * gain;
        if last.is_finite() {
            s.turns_down = best - last >= 0.1 * gain;
        }
    }
    s.ends_below_first = s.non_finite || (gain > 0.0 && last <= first);
    s
}

/// One markdown table row of shape counts for a task.
pub fn summarise(task: &Task, results: &[(u64, RunResult)], cpu_s: f64) -> String {
    let higher = task.metric.higher_is_better();
    let sign = if higher { 1.0 } else { -1.0 };
    let mut gains: Vec<f64> = results
        .iter()
        .filter_map(|(_, r)| {
            let v: Vec<f64> = r
                .points
                .iter()
                .map(|p| sign * p.metric)
                .filter(|x| x.is_finite())
                .collect();
            let first = *v.first()?;
            Some(v.iter().copied().fold(f64::NEG_INFINITY, f64::max) - first)
        })
        .collect();
    gains.sort_by(f64::total_cmp);
    let task_gain = gains.get(gains.len() / 2).copied().unwrap_or(0.0);
    let shapes: Vec<Shape> = results
        .iter()
        .map(|(steps, r)| shape(&r.points, higher, task_gain, *steps))
        .collect();
    let count = |f: fn(&Shape) -> bool| shapes.iter().filter(|s| f(s)).count();
    let pts: Vec<usize> = results.iter().map(|(_, r)| r.points.len()).collect();
    let (lo, hi) = (
        pts.iter().min().copied().unwrap_or(0),
        pts.iter().max().copied().unwrap_or(0),
    );
    format!(
        "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.0} |",
        task.name,
        task.metric.name(),
        results.len(),
        if lo == hi {
            lo.to_string()
        } else {
            format!("{lo}–{hi}")
        },
        count(|s| s.improves),
        count(|s| s.late_start),
        count(|s| s.late_jump),
        count(|s| s.turns_down),
        count(|s| s.ends_below_first),
        count(|s| s.non_finite),
        count(|s| s.improving_at_end),
        cpu_s
    )
}
