//! What the run tells people while it runs: the gain per kWh shown at each
//! evaluation, the stop sentence and the closing sentence, and the energy
//! figures behind them (recent energy per step, forecast savings).

use super::{curve, Run};
use snuffer_energy::{significant, Joules, JOULES_PER_KWH};
use snuffer_policy::MarginalEvidence;
use snuffer_rundir::Summary;

impl Run {
    /// Where forecasts are evaluated: the planned end, else twice the steps done.
    pub(super) fn forecast_target(&self, step: u64) -> f64 {
        self.info
            .planned
            .map_or((2 * step.max(1)) as f64, |p| p as f64)
    }

    /// Recent energy per step (J): [`StepEnergy::per_step_at`](snuffer_energy::StepEnergy)
    /// over the evaluations, the estimate the policy uses too.
    pub(super) fn energy_per_step(&self, step: u64, energy_j: f64) -> Option<f64> {
        self.evals.per_step_at(step as f64, energy_j)
    }

    /// The policy's gain-per-kWh check at this step, if it made one (a
    /// `MarginalGain`, alone or inside an `AnyOf`).
    pub(super) fn policy_gauge(&self, step: u64) -> Option<MarginalEvidence> {
        let check = self.stop.policy.as_ref()?.gain_check()?;
        (check.step == step as f64).then_some(*check.marginal()?)
    }

    /// The expected gain per kWh for display: the policy's own figure when
    /// it reports one, else the forecast's expected gain over the best so far by
    /// the planned end, over the energy the rest of the run will cost.
    pub(super) fn display_gain_per_kwh(&self, step: u64, energy_j: f64) -> Option<f64> {
        if let Some(g) = self.stop.latest_marginal().map(|m| m.gain_rate_per_kwh) {
            return Some(g);
        }
        let f = self.curve.latest()?;
        let planned = self.info.planned?;
        let remaining = planned.checked_sub(step).filter(|r| *r > 0)?;
        let kwh = remaining as f64 * self.energy_per_step(step, energy_j)? / JOULES_PER_KWH;
        let gain = match self.best.best {
            Some((_, best)) => f.expected_excess(planned as f64, best),
            None => f.gain(step as f64, planned as f64, curve::LEVEL).expected,
        };
        (kwh > 0.0 && gain.is_finite()).then(|| gain / kwh)
    }

    /// Why the run stopped, in one sentence with the numbers (the progress
    /// display prints it when the policy first says stop): the step, the
    /// policy and its reason, the energy used by then and the forecast saving
    /// (the same figures as `summary.json`'s `forecast_saved_j`).
    /// `None` while no policy has said stop.
    pub fn stop_sentence(&self) -> Option<String> {
        let stop = self.stop.stop.as_ref()?;
        let of = self
            .info
            .planned
            .map(|p| format!(" of {p}"))
            .unwrap_or_default();
        let mut s = format!(
            "stopped at step {}{of} by {}: {}",
            stop.step,
            stop.reason.policy,
            stop.reason.message.trim_end_matches('.')
        );
        s.push_str(&format!("; {} used by then", Joules(stop.energy_j)));
        if let Some((full, saved)) = stop.savings {
            if full > 0.0 {
                s.push_str(&format!(
                    "; {}",
                    snuffer_rundir::forecast_saving_phrase(Joules(saved), Joules(full))
                ));
            }
        }
        s.push('.');
        Some(s)
    }

    /// Forecast energy of the full planned run and the energy saved by ending
    /// at `step` having used `energy_j` ([`StepEnergy::full_run`](snuffer_energy::StepEnergy),
    /// the estimate behind the policy's share of the planned energy spent, so the two add
    /// up to the whole).
    pub(super) fn savings(&self, step: u64, energy_j: f64) -> Option<(f64, f64)> {
        let planned = self.info.planned?;
        let full = self.evals.full_run(step as f64, energy_j, planned as f64)?;
        Some((full.full_j(), full.remaining_j))
    }

    /// Why a stop that weighs energy was not acted on: the run is too short to measure.
    pub(super) fn too_short_sentence(&self, elapsed: std::time::Duration, joules: f64) -> String {
        format!(
            "too short to measure: {} s and {} so far, under {} sampler intervals of {} s \
             (the meters' cadence); a stop that weighs energy is not acted on until the run \
             can be measured (a smaller sample_interval measures shorter runs)",
            significant(elapsed.as_secs_f64(), 3),
            Joules(joules),
            super::energy::MIN_MEASURED_INTERVALS,
            significant(self.energy.interval().as_secs_f64(), 3)
        )
    }

    pub(super) fn closing_sentence(&self, s: &Summary, finished: bool) -> String {
        let est = if s.provenance.is_estimate() {
            " (est.)"
        } else {
            ""
        };
        let best = match (s.best_step, s.best_metric) {
            (Some(st), Some(m)) => format!(
                ", best {} {} at step {st}",
                self.info.metric_name,
                significant(m, crate::progress::METRIC_DIGITS)
            ),
            _ => String::new(),
        };
        let how = match (&self.stop.stop, finished) {
            (_, false) => "dropped without finish()",
            (Some(_), true) => "stopped early",
            (None, true) => "finished",
        };
        let short = if self.stop.unmeasured_said {
            " (too short to measure at first: stops that weigh energy were not acted on until \
             it had run three sampler intervals)"
        } else {
            ""
        };
        format!(
            "{how} after {} steps: {} in total{est}{short}{best}; summary in {}",
            s.steps,
            Joules(s.energy_j),
            self.info.dir.join(snuffer_rundir::SUMMARY_FILE).display()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::super::state::StopAt;
    use super::*;
    use snuffer_energy::{ConstantMeter, Meter, Watts};
    use snuffer_policy::StopReason;

    fn run(planned: Option<u64>) -> (tempfile::TempDir, Run) {
        let tmp = tempfile::tempdir().expect("temp dir");
        let meter: Box<dyn Meter> =
            Box::new(ConstantMeter::new("gpu:0", Watts(10.0)).expect("meter"));
        let mut b = Run::builder("unit")
            .out_dir(tmp.path())
            .meters(vec![meter])
            .progress(crate::Progress::Quiet);
        if let Some(p) = planned {
            b = b.planned_steps(p);
        }
        let run = b.build().expect("run");
        (tmp, run)
    }

    #[test]
    fn run_is_send() {
        fn send<T: Send>() {}
        send::<Run>();
    }

    #[test]
    fn energy_per_step_uses_the_later_half_of_the_run() {
        let (_tmp, mut r) = run(Some(1000));
        // 1 J/step for the first 500 steps, then 3 J/step.
        for (step, energy_j) in [(100, 100.0), (400, 400.0), (500, 500.0), (800, 1400.0)] {
            r.evals.push(step as f64, energy_j);
        }
        // At step 1000 with 2000 J: base is the eval at step 500 (≤ half of 1000).
        assert_eq!(r.energy_per_step(1000, 2000.0), Some(3.0), "recent rate");
        // No eval at or before half of step 90: measured from the start.
        assert_eq!(r.energy_per_step(90, 45.0), Some(0.5), "from the start");
        assert_eq!(r.energy_per_step(0, 0.0), None, "no steps, no rate");
    }

    #[test]
    fn savings_compare_with_the_planned_run() {
        let (_tmp, mut r) = run(Some(1000));
        r.evals.push(100.0, 0.0);
        // At 250 steps and 300 J: 2 J/step since step 100, 750 steps left → 1 800 J full run.
        assert_eq!(r.savings(250, 300.0), Some((1800.0, 1500.0)));
        assert_eq!(
            r.savings(1000, 900.0),
            Some((900.0, 0.0)),
            "ran to the plan: nothing saved"
        );
        let (_tmp2, unplanned) = run(None);
        assert_eq!(unplanned.savings(250, 300.0), None, "no plan, no claim");
    }

    #[test]
    fn stop_sentence_has_the_numbers() {
        let (_tmp, mut r) = run(Some(1000));
        assert_eq!(r.stop_sentence(), None);
        r.evals.push(100.0, 0.0);
        r.stop.stop = Some(StopAt {
            step: 250,
            reason: StopReason::other(
                "marginal_gain",
                "gain 0.01/kWh is below τ 0.5/kWh.".into(),
                &[],
            ),
            energy_j: 300.0,
            savings: r.savings(250, 300.0),
        });
        let s = r.stop_sentence().expect("a sentence");
        assert!(
            s.starts_with(
                "stopped at step 250 of 1000 by marginal_gain: gain 0.01/kWh is below τ 0.5/kWh;"
            ),
            "{s}"
        );
        assert!(s.contains("; 300 J used by then"), "{s}");
        assert!(
            s.contains("forecast saving 1.50 kJ (83.3 % of the forecast full run)"),
            "{s}"
        );
    }
}
