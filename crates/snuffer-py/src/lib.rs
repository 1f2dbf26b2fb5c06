//! `snuffer._native`: the Rust run tracker of the `snuffer` facade as a Python extension
//! module (PyO3, abi3 for CPython 3.9+). The Python package `snuffer` (in `python/snuffer`)
//! re-exports it and adds the framework callbacks; nothing here re-implements the core:
//! a [`Run`](snuffer::Run) built by [`RunBuilder`](snuffer::RunBuilder) does the metering,
//! forecasting, deciding and writing of the run directory.
//!
//! Energy of several ranks (torch.distributed): every rank reads its own meters
//! ([`NodeMeter`]); rank 0's run polls its own meters plus one [`PeerMeter`] per other rank,
//! whose cumulative readings the Python side sets from the gathered figures before each
//! evaluation, so the run's energy is the sum of the ranks' and each rank's domains stay
//! apart (with their provenance) in `steps.jsonl` and `summary.json`.

use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;
use snuffer::energy::cputime::{CpuSource, ProcessTree};
use snuffer::energy::{
    auto_with, AutoConfig, ConstantMeter, DomainEnergy, EnergyError, Joules, Meter, Provenance,
    Watts,
};
use snuffer::forecast::Direction;
use snuffer::policy::{
    AnyOf, Budget, Decision as RustDecision, Divergence, MarginalGain, MarginalGainConfig,
    Patience, PatienceConfig, Target, Tau,
};
use snuffer::Progress;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The meters' polling interval of a run started from Python, in seconds.
const DEFAULT_SAMPLE_INTERVAL_S: f64 = 0.5;

create_exception!(
    _native,
    SnufferError,
    PyException,
    "An error from Snuffer's Rust core; the message is the Rust error's, naming the input and the fix."
);

/// A Rust error as a Python exception with the Rust message (settings as `ValueError`).
fn py_err(e: snuffer::Error) -> PyErr {
    match e {
        snuffer::Error::InvalidSetting { .. } => PyValueError::new_err(e.to_string()),
        other => SnufferError::new_err(other.to_string()),
    }
}

fn value_err(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// A JSON value as the Python object `json.loads` makes of it.
fn to_py<'py, T: serde::Serialize>(py: Python<'py>, value: &T) -> PyResult<Bound<'py, PyAny>> {
    let text = serde_json::to_string(value).map_err(|e| SnufferError::new_err(e.to_string()))?;
    py.import("json")?.call_method1("loads", (text,))
}

/// A domain as Python sees it: `(name, provenance label, model or None, uncertainty)`.
type DomainSpec = (String, String, Option<String>, f64);

/// Meters to poll.
type Meters = Vec<Box<dyn Meter>>;

/// A source not used: `(source, reason)`.
type Skip = (String, String);

/// A meter that renames its domains (`rank1@node-a:cpu-estimate`), so the ranks of one job
/// stay apart in the run directory.
struct Prefixed {
    name: String,
    prefix: String,
    inner: Box<dyn Meter>,
}

impl Meter for Prefixed {
    fn name(&self) -> &str {
        &self.name
    }
    fn read(&mut self) -> Result<Vec<DomainEnergy>, EnergyError> {
        let mut domains = self.inner.read()?;
        for d in &mut domains {
            d.domain = format!("{}{}", self.prefix, d.domain);
        }
        Ok(domains)
    }
}

/// The cumulative energy another rank reported, set from Python before each evaluation.
struct SharedMeter {
    name: String,
    domains: Arc<Mutex<Vec<DomainEnergy>>>,
}

impl Meter for SharedMeter {
    fn name(&self) -> &str {
        &self.name
    }
    fn read(&mut self) -> Result<Vec<DomainEnergy>, EnergyError> {
        Ok(match self.domains.lock() {
            Ok(d) => d.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        })
    }
}

/// `meters` with every domain named `prefix` + its own name (a rank's or a node's energy
/// kept apart in one run directory).
fn prefixed(meters: Meters, prefix: &str) -> Meters {
    meters
        .into_iter()
        .map(|m| {
            Box::new(Prefixed {
                name: m.name().to_string(),
                prefix: prefix.to_string(),
                inner: m,
            }) as Box<dyn Meter>
        })
        .collect()
}

/// This process's meters: the facade's automatic choice (RAPL, NVML, else the labelled
/// estimate over this Python process and its children, e.g. DataLoader workers), or a
/// user-given constant power.
fn local_meters(power_w: Option<f64>, per_process_only: bool) -> PyResult<(Meters, Vec<Skip>)> {
    if let Some(w) = power_w {
        let m = ConstantMeter::new("power", Watts(w)).map_err(value_err)?;
        return Ok((vec![Box::new(m)], Vec::new()));
    }
    let tree = ProcessTree::new();
    tree.set_root(std::process::id());
    let sel = auto_with(AutoConfig {
        cpu_source: CpuSource::Tree(tree),
        // Another rank of this node reads the node-wide counters (RAPL, every GPU).
        gpu: !per_process_only,
        ..AutoConfig::default()
    });
    let mut skipped: Vec<Skip> = sel
        .skipped
        .iter()
        .map(|s| (s.source.clone(), s.reason.clone()))
        .collect();
    let mut meters = Vec::new();
    for mut m in sel.meters {
        if per_process_only {
            // Keep only figures that belong to this process: the estimate. A node-wide
            // counter is read once per node, by its local rank 0.
            let per_process = m
                .read()
                .map(|d| d.iter().all(|d| d.provenance.is_estimate()))
                .unwrap_or(false);
            if !per_process {
                skipped.push((
                    m.name().to_string(),
                    "node-wide counter: read once per node, by local rank 0".into(),
                ));
                continue;
            }
        }
        meters.push(m);
    }
    Ok((meters, skipped))
}

fn provenance_of(label: &str, model: Option<String>) -> PyResult<Provenance> {
    Ok(match label {
        "counter" => Provenance::Counter,
        "integrated_power" => Provenance::IntegratedPower,
        "estimated" => Provenance::Estimated {
            model: model.unwrap_or_else(|| "estimate (another rank)".into()),
        },
        other => {
            return Err(PyValueError::new_err(format!(
                "unknown provenance {other:?}: expected \"counter\", \"integrated_power\" or \"estimated\""
            )))
        }
    })
}

fn describe(d: &DomainEnergy) -> DomainSpec {
    let model = match &d.provenance {
        Provenance::Estimated { model } => Some(model.clone()),
        _ => None,
    };
    (
        d.domain.clone(),
        d.provenance.label().to_string(),
        model,
        d.uncertainty,
    )
}

/// The energy meters of this process (one rank of a job): cumulative joules per domain since
/// it was created.
///
/// `NodeMeter()` takes the machine's best sources (RAPL, NVML, else the labelled CPU-time
/// estimate over this process and its children); `per_process_only=True` keeps only the
/// estimate (for local ranks other than 0, whose node's counters local rank 0 reads);
/// `power_w` uses a constant power instead (labelled as an estimate). `prefix` is put before
/// each domain name.
#[pyclass(module = "snuffer._native", unsendable)]
struct NodeMeter {
    meters: Vec<Box<dyn Meter>>,
    skipped: Vec<(String, String)>,
    domains: Vec<DomainSpec>,
}

#[pymethods]
impl NodeMeter {
    #[new]
    #[pyo3(signature = (*, per_process_only = false, power_w = None, prefix = String::new()))]
    fn new(per_process_only: bool, power_w: Option<f64>, prefix: String) -> PyResult<Self> {
        let (meters, skipped) = local_meters(power_w, per_process_only)?;
        let mut meters = prefixed(meters, &prefix);
        let mut domains = Vec::new();
        for m in &mut meters {
            let read = m.read().map_err(|e| SnufferError::new_err(e.to_string()))?;
            domains.extend(read.iter().map(describe));
        }
        Ok(NodeMeter {
            meters,
            skipped,
            domains,
        })
    }

    /// The domains, in reading order: `(name, provenance, model or None, uncertainty)`;
    /// provenance is `"counter"`, `"integrated_power"` or `"estimated"`.
    fn domains(&self) -> Vec<DomainSpec> {
        self.domains.clone()
    }

    /// Sources not used, with why: `[(source, reason)]`.
    #[getter]
    fn skipped(&self) -> Vec<(String, String)> {
        self.skipped.clone()
    }

    /// Cumulative joules of every domain, in the order of `domains()`.
    fn read(&mut self) -> PyResult<Vec<f64>> {
        let mut out = Vec::with_capacity(self.domains.len());
        for m in &mut self.meters {
            let read = m.read().map_err(|e| SnufferError::new_err(e.to_string()))?;
            out.extend(read.iter().map(|d| d.joules.0));
        }
        if out.len() != self.domains.len() {
            return Err(SnufferError::new_err(format!(
                "a meter changed its domains ({} read, {} at the start)",
                out.len(),
                self.domains.len()
            )));
        }
        Ok(out)
    }
}

/// One evaluation's decision.
#[pyclass(module = "snuffer._native", frozen, get_all)]
struct Decision {
    /// Whether the stop policy says stop.
    should_stop: bool,
    /// The stop sentence (what stopped the run and why), or None.
    reason: Option<String>,
    /// The policy that stopped the run (`marginal_gain`, `patience`, `target`,
    /// `divergence`, `budget`, `sweep`), or None.
    policy: Option<String>,
    /// The stop's typed evidence as a dict (`kind` plus the numbers), or None.
    evidence: Option<Py<PyAny>>,
    /// Whether this evaluation is the best so far (save the weights).
    new_best: bool,
    /// Steps done at this evaluation.
    step: u64,
    /// The metric as given.
    metric: f64,
}

#[pymethods]
impl Decision {
    fn __repr__(&self) -> String {
        match &self.reason {
            Some(r) => format!("Decision(stop at step {}: {r})", self.step),
            None => format!("Decision(continue at step {})", self.step),
        }
    }
    fn __bool__(&self) -> bool {
        self.should_stop
    }
}

#[allow(clippy::too_many_arguments)]
fn build_policy(
    policies: &[String],
    tau: Option<f64>,
    tau_relative: Option<f64>,
    schedule: Option<Vec<u64>>,
    warmup_fraction: Option<f64>,
    min_evaluations: Option<usize>,
    consecutive: Option<u32>,
    patience: Option<u32>,
    min_delta: f64,
    target: Option<f64>,
    max_kwh: Option<f64>,
) -> PyResult<(AnyOf, String)> {
    let mut any = AnyOf::new().with(Divergence::non_finite());
    let mut names = vec!["divergence".to_string()];
    for p in policies {
        match p.as_str() {
            "marginal" => {
                let t = match (tau, tau_relative) {
                    (Some(_), Some(_)) => {
                        return Err(PyValueError::new_err(
                            "give either tau (metric units per kWh) or tau_relative, not both",
                        ))
                    }
                    (Some(t), None) => Tau::PerKwh(t),
                    (None, r) => Tau::Relative(r.unwrap_or(0.3)),
                };
                let mut c = MarginalGainConfig::new(t);
                if let Some(s) = &schedule {
                    c = c.with_schedule(s.iter().copied());
                }
                if let Some(f) = warmup_fraction {
                    c = c.with_warmup_fraction(f);
                }
                if let Some(n) = min_evaluations {
                    c = c.with_min_evaluations(n);
                }
                if let Some(k) = consecutive {
                    c = c.with_consecutive(k);
                }
                any = any.with(MarginalGain::new(c).map_err(value_err)?);
                names.push(match t {
                    Tau::PerKwh(v) => format!("marginal gain (tau {v} per kWh)"),
                    Tau::Relative(r) => format!("marginal gain (tau relative {r})"),
                    _ => "marginal gain".into(),
                });
            }
            "patience" => {
                let n = patience.ok_or_else(|| {
                    PyValueError::new_err("policy \"patience\" needs patience=N (evaluations)")
                })?;
                let c = PatienceConfig::new(n).with_min_delta(min_delta);
                any = any.with(Patience::new(c).map_err(value_err)?);
                names.push(format!("patience {n}"));
            }
            "target" => {
                let t = target.ok_or_else(|| {
                    PyValueError::new_err("policy \"target\" needs target=VALUE")
                })?;
                any = any.with(Target::new(t).map_err(value_err)?);
                names.push(format!("target {t}"));
            }
            "budget" => {
                let k = max_kwh.ok_or_else(|| {
                    PyValueError::new_err("policy \"budget\" needs max_kwh=KWH")
                })?;
                any = any.with(Budget::new().with_kwh(k).map_err(value_err)?);
                names.push(format!("budget {k} kWh"));
            }
            "none" => {}
            other => {
                return Err(PyValueError::new_err(format!(
                    "unknown policy {other:?}: expected \"marginal\", \"patience\", \"target\", \"budget\" or \"none\""
                )))
            }
        }
    }
    Ok((any, names.join(" + ")))
}

/// A tracked training run: the Rust core's `snuffer::Run`.
///
/// Call `step()` after every optimizer step (a clock read), `eval(value)` after every
/// evaluation (logs, forecasts, asks the stop policy and returns a `Decision`), and
/// `finish()` at the end (writes `summary.json` and `emissions.csv`, returns the summary as
/// a dict). The run directory is the one the Rust side writes: `snuffer report DIR` reads it.
#[pyclass(module = "snuffer._native", unsendable)]
struct Run {
    run: Option<snuffer::Run>,
    dir: PathBuf,
    name: String,
    peers: Vec<Arc<Mutex<Vec<DomainEnergy>>>>,
    skipped: Vec<(String, String)>,
    summary: Option<Py<PyAny>>,
}

impl Run {
    fn live(&mut self) -> PyResult<&mut snuffer::Run> {
        self.run.as_mut().ok_or_else(|| {
            SnufferError::new_err(format!(
                "run {:?} is finished; start a new snuffer.Run for more steps",
                self.name
            ))
        })
    }
}

#[pymethods]
impl Run {
    #[new]
    #[pyo3(signature = (
        name, *, out_dir = None, sweep = None, planned_steps = None, metric = "metric".to_string(),
        mode = "max".to_string(), bounds = None, policy = None, tau = None,
        tau_relative = None, schedule = None, warmup_fraction = None, min_evaluations = None,
        consecutive = None, patience = None, min_delta = 0.0, target = None, max_kwh = None,
        power_w = None, progress = "quiet".to_string(), project = None, log_every = None,
        sample_interval_s = None, emissions = true, meter_prefix = String::new(),
        per_process_only = false, peers = Vec::new()
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        name: String,
        out_dir: Option<PathBuf>,
        sweep: Option<PathBuf>,
        planned_steps: Option<u64>,
        metric: String,
        mode: String,
        bounds: Option<(Option<f64>, Option<f64>)>,
        policy: Option<&Bound<'_, PyAny>>,
        tau: Option<f64>,
        tau_relative: Option<f64>,
        schedule: Option<Vec<u64>>,
        warmup_fraction: Option<f64>,
        min_evaluations: Option<usize>,
        consecutive: Option<u32>,
        patience: Option<u32>,
        min_delta: f64,
        target: Option<f64>,
        max_kwh: Option<f64>,
        power_w: Option<f64>,
        progress: String,
        project: Option<String>,
        log_every: Option<u64>,
        sample_interval_s: Option<f64>,
        emissions: bool,
        meter_prefix: String,
        per_process_only: bool,
        peers: Vec<Vec<DomainSpec>>,
    ) -> PyResult<Self> {
        let direction = match mode.as_str() {
            "max" => Direction::HigherIsBetter,
            "min" => Direction::LowerIsBetter,
            other => {
                return Err(PyValueError::new_err(format!(
                    "mode {other:?}: expected \"max\" (higher is better, e.g. accuracy) or \"min\" (lower is better, e.g. a loss)"
                )))
            }
        };
        let progress = match progress.as_str() {
            "auto" => Progress::Auto,
            "bar" => Progress::Bar,
            "plain" => Progress::Plain,
            "quiet" => Progress::Quiet,
            other => {
                return Err(PyValueError::new_err(format!(
                    "progress {other:?}: expected \"auto\", \"bar\", \"plain\" or \"quiet\""
                )))
            }
        };
        // One name or a list of names.
        let policy: Vec<String> = match policy {
            None => vec!["marginal".to_string()],
            Some(p) => match p.extract::<String>() {
                Ok(one) => vec![one],
                Err(_) => p.extract::<Vec<String>>().map_err(|_| {
                    PyValueError::new_err(
                        "policy: expected a name (\"marginal\", \"patience\", \"target\", \"budget\", \"none\") or a list of them",
                    )
                })?,
            },
        };
        let (stop_policy, description) = build_policy(
            &policy,
            tau,
            tau_relative,
            schedule,
            warmup_fraction,
            min_evaluations,
            consecutive,
            patience,
            min_delta,
            target,
            max_kwh,
        )?;
        let (own, skipped) = local_meters(power_w, per_process_only)?;
        let mut meters = prefixed(own, &meter_prefix);
        let mut shared = Vec::new();
        for (i, domains) in peers.into_iter().enumerate() {
            let mut start = Vec::new();
            for (domain, prov, model, unc) in domains {
                start.push(DomainEnergy {
                    domain,
                    joules: Joules(0.0),
                    provenance: provenance_of(&prov, model)?,
                    uncertainty: unc,
                });
            }
            let cell = Arc::new(Mutex::new(start));
            meters.push(Box::new(SharedMeter {
                name: format!("peer-{}", i + 1),
                domains: cell.clone(),
            }));
            shared.push(cell);
        }
        let mut b = snuffer::Run::builder(name.clone())
            .metric(metric, direction)
            .policy_named(description, stop_policy)
            .meters(meters)
            .progress(progress)
            .emissions(emissions);
        if let Some(d) = out_dir {
            b = b.out_dir(d);
        }
        if let Some(s) = sweep {
            b = b.sweep(s);
        }
        if let Some(p) = planned_steps {
            b = b.planned_steps(p);
        }
        if let Some((lo, hi)) = bounds {
            b = b.bounds(lo, hi);
        }
        if let Some(p) = project {
            b = b.project(p);
        }
        if let Some(n) = log_every {
            b = b.log_every(n);
        }
        // 0.5 s by default (the Rust side's is 0.1 s): the estimate over the process tree
        // reads /proc for every process at each poll (about 2 % of a core at 0.1 s with 100
        // processes, 0.4 % at 0.5 s); evaluations take a fresh reading anyway.
        let s = sample_interval_s.unwrap_or(DEFAULT_SAMPLE_INTERVAL_S);
        if !(s.is_finite() && s > 0.0) {
            return Err(PyValueError::new_err(format!(
                "sample_interval_s = {s}: expected a positive number of seconds (0.5 is the default)"
            )));
        }
        b = b.sample_interval(Duration::from_secs_f64(s));
        let run = b.build().map_err(py_err)?;
        Ok(Run {
            dir: run.dir().to_path_buf(),
            run: Some(run),
            name,
            peers: shared,
            skipped,
            summary: None,
        })
    }

    /// Stamp one optimizer step (a clock read and a counter; no allocation).
    fn step(&mut self) -> PyResult<()> {
        self.live()?.step();
        Ok(())
    }

    /// Record the latest training loss (a NaN or infinite loss stops the run at the next
    /// evaluation with a `divergence` reason).
    fn record_loss(&mut self, loss: f64) -> PyResult<()> {
        self.live()?.record_loss(loss);
        Ok(())
    }

    /// Set another rank's cumulative joules (in the order of the domains it was declared
    /// with); called by `snuffer.distributed` before each evaluation.
    fn set_peer_energy(&mut self, peer: usize, joules: Vec<f64>) -> PyResult<()> {
        let cell = self.peers.get(peer).ok_or_else(|| {
            PyValueError::new_err(format!(
                "peer {peer}: this run has {} peers",
                self.peers.len()
            ))
        })?;
        let mut domains = match cell.lock() {
            Ok(d) => d,
            Err(p) => p.into_inner(),
        };
        if joules.len() != domains.len() {
            return Err(PyValueError::new_err(format!(
                "peer {peer}: {} readings for {} domains",
                joules.len(),
                domains.len()
            )));
        }
        for (d, j) in domains.iter_mut().zip(joules) {
            if !j.is_finite() || j < 0.0 {
                return Err(PyValueError::new_err(format!(
                    "peer {peer}, domain {}: {j} J is not a finite, non-negative energy",
                    d.domain
                )));
            }
            // Cumulative readings never decrease.
            d.joules = Joules(d.joules.0.max(j));
        }
        Ok(())
    }

    /// Record an evaluation of the monitored metric and ask the stop policy.
    fn eval(&mut self, py: Python<'_>, value: f64) -> PyResult<Decision> {
        let action = self.live()?.eval(value).map_err(py_err)?;
        let (reason, policy, evidence) = match &action.decision {
            RustDecision::Stop(r) => (
                Some(r.message.clone()),
                Some(r.policy.clone()),
                Some(to_py(py, &r.evidence)?.unbind()),
            ),
            _ => (None, None, None),
        };
        Ok(Decision {
            should_stop: action.should_stop(),
            reason,
            policy,
            evidence,
            new_best: action.new_best,
            step: action.step,
            metric: action.metric,
        })
    }

    /// End the run: writes the end line, `summary.json` and `emissions.csv`; returns the
    /// summary as a dict. Calling it again returns the same summary.
    fn finish(&mut self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        if let Some(s) = &self.summary {
            return Ok(s.clone_ref(py));
        }
        self.live()?;
        let Some(run) = self.run.take() else {
            return Err(SnufferError::new_err("run already finished"));
        };
        let summary = run.finish().map_err(py_err)?;
        let obj = to_py(py, &summary)?.unbind();
        self.summary = Some(obj.clone_ref(py));
        Ok(obj)
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (_exc_type = None, _exc = None, _tb = None))]
    fn __exit__(
        &mut self,
        py: Python<'_>,
        _exc_type: Option<Py<PyAny>>,
        _exc: Option<Py<PyAny>>,
        _tb: Option<Py<PyAny>>,
    ) -> PyResult<bool> {
        if self.run.is_some() {
            self.finish(py)?;
        }
        Ok(false)
    }

    /// The run directory.
    #[getter]
    fn dir(&self) -> PathBuf {
        self.dir.clone()
    }

    /// The run's name.
    #[getter]
    fn name(&self) -> String {
        self.name.clone()
    }

    /// Steps stamped so far.
    #[getter]
    fn steps(&self) -> Option<u64> {
        self.run.as_ref().map(|r| r.steps())
    }

    /// The best evaluation so far: `(step, value)`, or None.
    #[getter]
    fn best(&self) -> Option<(u64, f64)> {
        self.run.as_ref().and_then(|r| r.best())
    }

    /// Whether `finish()` was called.
    #[getter]
    fn finished(&self) -> bool {
        self.run.is_none()
    }

    /// Energy so far in joules (the last reading of every meter, peers included).
    #[getter]
    fn energy_j(&self) -> Option<f64> {
        self.run.as_ref().map(|r| r.energy().total.0)
    }

    /// Energy sources not used, with why: `[(source, reason)]`.
    #[getter]
    fn skipped(&self) -> Vec<(String, String)> {
        self.skipped.clone()
    }

    fn __repr__(&self) -> String {
        format!("Run({:?}, dir={:?})", self.name, self.dir)
    }
}

/// The Rust core of the `snuffer` Python package.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Run>()?;
    m.add_class::<Decision>()?;
    m.add_class::<NodeMeter>()?;
    m.add("SnufferError", m.py().get_type::<SnufferError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
