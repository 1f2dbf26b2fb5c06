//! [`RunBuilder`]: every setting of a run, validated in [`RunBuilder::build`].

use super::curve::Refit;
use super::Run;
use crate::progress::Progress;
use crate::Error;
use snuffer_energy::Meter;
use snuffer_footprint::FootprintConfig;
use snuffer_forecast::{Bounds, Direction, ForecastConfig};
use snuffer_policy::StopPolicy;
use std::path::PathBuf;
use std::time::Duration;

/// Settings of a [`Run`]; start with [`Run::builder`].
pub struct RunBuilder {
    pub(crate) name: String,
    pub(crate) out_dir: Option<PathBuf>,
    pub(crate) sweep: Option<PathBuf>,
    pub(crate) planned_steps: Option<u64>,
    pub(crate) metric_name: String,
    pub(crate) direction: Direction,
    pub(crate) bounds: Bounds,
    pub(crate) forecast: Option<ForecastConfig>,
    pub(crate) policy: Option<Box<dyn StopPolicy>>,
    pub(crate) policy_name: Option<String>,
    pub(crate) meters: Option<Vec<Box<dyn Meter>>>,
    pub(crate) sample_interval: Duration,
    pub(crate) refit: Refit,
    pub(crate) progress: Progress,
    pub(crate) log_every: Option<u64>,
    #[cfg_attr(not(feature = "prometheus"), allow(dead_code))]
    pub(crate) prometheus: Option<String>,
    pub(crate) sinks: Vec<Box<dyn crate::sink::Sink>>,
    pub(crate) footprint: Option<FootprintConfig>,
    pub(crate) emissions: bool,
    pub(crate) project: Option<String>,
    pub(crate) stop_on_nonfinite_loss: bool,
}

impl std::fmt::Debug for RunBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunBuilder")
            .field("name", &self.name)
            .field("out_dir", &self.out_dir)
            .field("planned_steps", &self.planned_steps)
            .field("metric", &(&self.metric_name, self.direction))
            .field("policy", &self.policy_name)
            .field(
                "meters",
                &self
                    .meters
                    .as_ref()
                    .map(|m| m.iter().map(|m| m.name().to_string()).collect::<Vec<_>>()),
            )
            .field("sample_interval", &self.sample_interval)
            .field("refit", &self.refit)
            .field("progress", &self.progress)
            .field("log_every", &self.log_every)
            .finish_non_exhaustive()
    }
}

impl RunBuilder {
    pub(crate) fn new(name: impl Into<String>) -> RunBuilder {
        RunBuilder {
            name: name.into(),
            out_dir: None,
            sweep: None,
            planned_steps: None,
            metric_name: "metric".into(),
            direction: Direction::HigherIsBetter,
            bounds: Bounds::default(),
            forecast: None,
            policy: None,
            policy_name: None,
            meters: None,
            sample_interval: snuffer_energy::DEFAULT_INTERVAL,
            refit: Refit::default(),
            progress: Progress::default(),
            log_every: None,
            prometheus: None,
            sinks: Vec::new(),
            footprint: None,
            emissions: true,
            project: None,
            stop_on_nonfinite_loss: true,
        }
    }

    /// Run directory (created if needed; `steps.jsonl`, `summary.json`,
    /// `emissions.csv` and `best.safetensors` left there by an earlier run are
    /// replaced). Default: `runs/<name>-<UTC timestamp>`, with the link
    /// `runs/latest` pointing at it.
    pub fn out_dir(mut self, dir: impl Into<PathBuf>) -> RunBuilder {
        self.out_dir = Some(dir.into());
        self
    }

    /// Join the sweep in `dir` (created if needed): the run claims its own directory
    /// `<dir>/<name>` (`-2`, `-3`, … when taken, with one atomic `mkdir`, so runs in other
    /// processes or on other machines of a shared file system never collide) and syncs
    /// `steps.jsonl` to disk at each evaluation so they see its curve
    /// ([`snuffer_rundir::Sweep`] reads them). Ignored when [`out_dir`](Self::out_dir) is
    /// given.
    ///
    /// The policy then sees the sweep's other runs that monitor the same metric, each as
    /// far as it was recorded, aligned by the share of its planned steps
    /// ([`Observation::sweep`](snuffer_policy::Observation::sweep);
    /// [`MarginalGain`](snuffer_policy::MarginalGain) also stops a run that cannot be
    /// expected to beat the sweep's best by enough to pay for its energy). That needs
    /// [`planned_steps`](Self::planned_steps) on this run and on the others: a run without
    /// a plan says so once and goes on with the single-run rule. The sweep is re-read on
    /// the forecast's refit cadence; runs whose files are damaged are left out, said once.
    pub fn sweep(mut self, dir: impl Into<PathBuf>) -> RunBuilder {
        self.sweep = Some(dir.into());
        self
    }

    /// Planned length of the run in optimizer steps. Policies judge progress by
    /// the share of the plan done, forecasts target its end, and the summary's
    /// savings compare with it.
    pub fn planned_steps(mut self, steps: u64) -> RunBuilder {
        self.planned_steps = Some(steps);
        self
    }

    /// The monitored metric: its name in the logs and whether higher is
    /// better. Default: `metric`, higher is better.
    pub fn metric(mut self, name: impl Into<String>, direction: Direction) -> RunBuilder {
        self.metric_name = name.into();
        self.direction = direction;
        self
    }

    /// Known bounds of the metric (an accuracy in [0, 1], a loss ≥ 0): the
    /// forecaster never predicts beyond them. Without them (and without bounds in
    /// [`forecast_config`](Self::forecast_config)) they are inferred from the metric's
    /// name and first finite value by [`Bounds::infer`], as `snuffer forecast` and
    /// `snuffer replay` do, and dropped if a later value falls outside them.
    pub fn bounds(mut self, lower: Option<f64>, upper: Option<f64>) -> RunBuilder {
        self.bounds = Bounds { lower, upper };
        self
    }

    /// Replace the forecaster's settings (method, interval scale, …). Its
    /// direction and bounds are overridden by [`metric`](Self::metric) and
    /// [`bounds`](Self::bounds) when those are set.
    pub fn forecast_config(mut self, config: ForecastConfig) -> RunBuilder {
        self.forecast = Some(config);
        self
    }

    /// The stop policy asked at every evaluation (default: none, the run
    /// never stops early). Its [`StopPolicy::name`] is recorded in the logs; use
    /// [`policy_named`](Self::policy_named) for a better description.
    pub fn policy<P: StopPolicy + 'static>(mut self, policy: P) -> RunBuilder {
        let name = policy.name();
        self.policy_name = Some(if name == "policy" {
            // The trait's default name says nothing: use the type's own name.
            let full = std::any::type_name::<P>();
            let base = full.split('<').next().unwrap_or(full);
            base.rsplit("::").next().unwrap_or(base).to_string()
        } else {
            name.to_string()
        });
        self.policy = Some(Box::new(policy));
        self
    }

    /// Like [`policy`](Self::policy), with a description for the logs
    /// (e.g. `"marginal gain, τ = 0.5 acc/kWh"`).
    pub fn policy_named<P: StopPolicy + 'static>(
        mut self,
        description: impl Into<String>,
        policy: P,
    ) -> RunBuilder {
        self.policy = Some(Box::new(policy));
        self.policy_name = Some(description.into());
        self
    }

    /// Energy meters to poll (default: [`snuffer_energy::auto()`], the best
    /// sources of this machine, with a labelled estimate where nothing is
    /// readable).
    pub fn meters(mut self, meters: Vec<Box<dyn Meter>>) -> RunBuilder {
        self.meters = Some(meters);
        self
    }

    /// Time between meter polls (default 100 ms; at least 1 ms).
    pub fn sample_interval(mut self, interval: Duration) -> RunBuilder {
        self.sample_interval = interval;
        self
    }

    /// Refit the forecast every `n` evaluations (default 1).
    pub fn refit_every(mut self, n: u32) -> RunBuilder {
        self.refit = Refit::Every(n);
        self
    }

    /// Refit cadence, including [`Refit::Geometric`].
    pub fn refit(mut self, refit: Refit) -> RunBuilder {
        self.refit = refit;
        self
    }

    /// Progress display on stderr (default [`Progress::Auto`]).
    pub fn progress(mut self, progress: Progress) -> RunBuilder {
        self.progress = progress;
        self
    }

    /// Write a step line to `steps.jsonl` every `n` steps. Default: a thousandth
    /// of the planned steps (about 1 000 lines per run), or every 100 steps
    /// with the interval doubling after each 1 000 lines when the plan is
    /// unknown, so the file stays small on any run length.
    pub fn log_every(mut self, n: u64) -> RunBuilder {
        self.log_every = Some(n);
        self
    }

    /// Serve the run's state for Prometheus at `addr` (`HOST:PORT`, or a bare
    /// port for localhost), updated at every evaluation (a
    /// `prometheus::PrometheusSink`). Needs the cargo feature `prometheus`.
    #[cfg(feature = "prometheus")]
    pub fn prometheus(mut self, addr: impl Into<String>) -> RunBuilder {
        self.prometheus = Some(addr.into());
        self
    }

    /// Send the run's events to one more [`Sink`](crate::sink::Sink) (after the
    /// built-in ones: the log, the progress display, `emissions.csv`, Prometheus).
    pub fn sink(mut self, sink: impl crate::sink::Sink + 'static) -> RunBuilder {
        self.sinks.push(Box::new(sink));
        self
    }

    /// Footprint settings (region, PUE, water, hardware) for the summary's
    /// `footprint` block and `emissions.csv` (default: the world-average
    /// intensity, labelled as such).
    pub fn footprint(mut self, config: FootprintConfig) -> RunBuilder {
        self.footprint = Some(config);
        self
    }

    /// Whether [`Run::finish`] writes `emissions.csv` (default true).
    pub fn emissions(mut self, write: bool) -> RunBuilder {
        self.emissions = write;
        self
    }

    /// The project `emissions.csv` files this run under (CodeCarbon's `project_name`, what
    /// its dashboard groups runs by). Default: the sweep's name for a run of a sweep, else
    /// `snuffer`; the run's own name goes to `experiment_id`.
    pub fn project(mut self, name: impl Into<String>) -> RunBuilder {
        self.project = Some(name.into());
        self
    }

    /// Whether a NaN or infinite training loss ([`Run::record_loss`]) stops
    /// the run at the next evaluation with a `divergence` reason, when a policy
    /// is set (default true), whatever the policy: this is how a diverged loss
    /// stops a run whose metric (an accuracy, say) stays finite. Policies also
    /// see the loss ([`snuffer_policy::Observation::loss`]), so a
    /// [`snuffer_policy::Divergence`] in the policy stops on it even after this
    /// opt-out; build it with `with_check_finite(false)` to ignore losses too.
    pub fn stop_on_nonfinite_loss(mut self, stop: bool) -> RunBuilder {
        self.stop_on_nonfinite_loss = stop;
        self
    }

    /// Validate the settings, create the run directory, start the meters and
    /// write the first line of `steps.jsonl`.
    pub fn build(self) -> Result<Run, Error> {
        self.validate()?;
        Run::start(self)
    }

    fn validate(&self) -> Result<(), Error> {
        self.validate_names()?;
        self.validate_cadence()?;
        self.validate_bounds()
    }

    fn validate_names(&self) -> Result<(), Error> {
        if self.name.trim().is_empty() {
            return bad(
                "builder",
                format!("{:?}", self.name),
                "the run name must not be empty",
            );
        }
        if self.metric_name.trim().is_empty() {
            return bad(
                "metric",
                format!("{:?}", self.metric_name),
                "the metric name must not be empty",
            );
        }
        Ok(())
    }

    fn validate_cadence(&self) -> Result<(), Error> {
        if self.planned_steps == Some(0) {
            return bad(
                "planned_steps",
                "0".into(),
                "at least 1 step, or leave it unset when unknown",
            );
        }
        if self.log_every == Some(0) {
            return bad("log_every", "0".into(), "at least 1 step");
        }
        if self.sample_interval < Duration::from_millis(1) {
            return bad(
                "sample_interval",
                format!("{:?}", self.sample_interval),
                "at least 1 ms (100 ms is a good default)",
            );
        }
        match self.refit {
            Refit::Every(0) => bad("refit_every", "0".into(), "at least 1 evaluation"),
            Refit::Geometric(r) if !(r.is_finite() && r > 1.0) => bad(
                "refit",
                format!("Geometric({r})"),
                "a growth factor above 1, e.g. 1.2",
            ),
            _ => Ok(()),
        }
    }

    fn validate_bounds(&self) -> Result<(), Error> {
        let Bounds { lower, upper } = self.bounds;
        if lower.is_some_and(|v| !v.is_finite()) || upper.is_some_and(|v| !v.is_finite()) {
            return bad(
                "bounds",
                format!("{lower:?}, {upper:?}"),
                "finite numbers or None",
            );
        }
        match (lower, upper) {
            (Some(l), Some(u)) if l >= u => bad(
                "bounds",
                format!("{l}, {u}"),
                "the lower bound must be below the upper bound",
            ),
            _ => Ok(()),
        }
    }
}

/// The error for a setting `name` with `value`, saying what was `expected`.
fn bad(name: &'static str, value: String, expected: &str) -> Result<(), Error> {
    Err(Error::InvalidSetting {
        name,
        value,
        expected: expected.to_string(),
    })
}
