//! The background sampler: polls meters into a bounded ring buffer and
//! answers energy questions about any past interval.
//!
//! The training loop never touches the sampler in its hot path: it only takes
//! [`Stamp`]s. Energy of a step is the cumulative energy interpolated linearly
//! at its two boundaries, so a 2 ms step gets its share of a 100 ms sample.
//!
//! **Readings are monotone.** Samples are pushed in the order of their instants
//! (concurrent polls are serialised) and each domain's value never falls. An
//! instant after the latest sample reads the latest sample's value (never an
//! extrapolation, which a later sample could undercut), so readings taken at
//! non-decreasing instants never decrease, per domain, whatever the poll timing.
//! A caller that needs the energy *now* — a run at each evaluation — takes a
//! fresh reading with [`Sampler::read_now`]: instants up to it are then
//! interpolated between real samples and will not change.
//!
//! Memory is bounded: samples hold energy *since the sampler started*, so
//! evicting the oldest loses no energy; the most recently evicted sample is
//! kept as a base, and instants older than it are interpolated between the
//! start and that base (coarser, never wrong in total).

use crate::report::DomainPower;
use crate::{
    DomainEnergy, EnergyError, EnergyReport, Joules, Meter, PowerReport, Provenance, Stamp, Watts,
};
use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Default polling interval.
pub const DEFAULT_INTERVAL: Duration = Duration::from_millis(100);
/// Default ring capacity: one hour at the default interval.
pub const DEFAULT_CAPACITY: usize = 36_000;

/// How often to poll and how many samples to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SamplerConfig {
    /// Time between polls (≥ 1 ms).
    pub interval: Duration,
    /// Samples kept in the ring (≥ 2).
    pub capacity: usize,
}

impl Default for SamplerConfig {
    fn default() -> SamplerConfig {
        SamplerConfig {
            interval: DEFAULT_INTERVAL,
            capacity: DEFAULT_CAPACITY,
        }
    }
}

impl SamplerConfig {
    /// Set the polling interval.
    pub fn with_interval(mut self, interval: Duration) -> SamplerConfig {
        self.interval = interval;
        self
    }

    /// Set the ring capacity.
    pub fn with_capacity(mut self, capacity: usize) -> SamplerConfig {
        self.capacity = capacity;
        self
    }
}

#[derive(Debug, Clone)]
struct Sample {
    at: Instant,
    /// Joules per domain since the sampler started.
    joules: Box<[f64]>,
}

#[derive(Debug, Clone)]
struct DomainMeta {
    name: String,
    provenance: Provenance,
    uncertainty: f64,
}

struct Ring {
    origin: Sample,
    evicted: Option<Sample>,
    samples: VecDeque<Sample>,
    capacity: usize,
    meta: Vec<DomainMeta>,
    errors: u64,
    last_error: Option<String>,
    /// Samples pushed so far.
    taken: u64,
}

struct MeterSlot {
    meter: Box<dyn Meter>,
    /// Readings at sampler start, subtracted from later readings.
    base: Vec<f64>,
    /// Index of the meter's first domain in the sample.
    offset: usize,
}

struct Shared {
    ring: Mutex<Ring>,
    meters: Mutex<Vec<MeterSlot>>,
    stop: Mutex<bool>,
    wake: Condvar,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic in one meter must not take the readers down with it.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Polls meters on a background thread; see the module docs.
///
/// `Sampler` is `Send + Sync`: readers (the training thread) share one small
/// mutex with the poller, held only to copy two samples.
pub struct Sampler {
    shared: Arc<Shared>,
    handle: Option<JoinHandle<()>>,
    start: Instant,
    config: SamplerConfig,
}

impl std::fmt::Debug for Sampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sampler")
            .field("domains", &self.domains())
            .field("config", &self.config)
            .finish()
    }
}

impl Shared {
    /// Read every meter and push one sample; returns its instant.
    fn poll(&self) -> Instant {
        let mut meters = lock(&self.meters);
        let width: usize = lock(&self.ring).meta.len();
        let mut values = vec![f64::NAN; width];
        let mut metas: Vec<Option<DomainEnergy>> = vec![None; width];
        let mut errors = Vec::new();
        for slot in meters.iter_mut() {
            match slot.meter.read() {
                Ok(r) if r.len() == slot.base.len() => {
                    for (i, (d, b)) in r.into_iter().zip(&slot.base).enumerate() {
                        values[slot.offset + i] = (d.joules.0 - b).max(0.0);
                        metas[slot.offset + i] = Some(d);
                    }
                }
                Ok(r) => errors.push(format!(
                    "{} returned {} domains instead of {}",
                    slot.meter.name(),
                    r.len(),
                    slot.base.len()
                )),
                Err(e) => errors.push(e.to_string()),
            }
        }
        // The ring is taken before the meters are released: a concurrent poll (the
        // background thread and `read_now`) cannot push an earlier instant after a later one.
        let mut ring = lock(&self.ring);
        let last_at = ring.samples.back().unwrap_or(&ring.origin).at;
        let at = Instant::now().max(last_at);
        drop(meters);
        let prev = ring.samples.back().unwrap_or(&ring.origin).joules.clone();
        for (i, v) in values.iter_mut().enumerate() {
            // A failed read keeps the previous value; counters never go back.
            if !v.is_finite() || *v < prev[i] {
                *v = prev[i];
            }
        }
        for (m, d) in ring.meta.iter_mut().zip(metas) {
            if let Some(d) = d {
                m.provenance = d.provenance;
                m.uncertainty = d.uncertainty;
            }
        }
        if !errors.is_empty() {
            ring.errors += errors.len() as u64;
            ring.last_error = errors.pop();
        }
        if ring.samples.len() >= ring.capacity {
            ring.evicted = ring.samples.pop_front();
        }
        ring.taken += 1;
        ring.samples.push_back(Sample {
            at,
            joules: values.into_boxed_slice(),
        });
        at
    }
}

impl Ring {
    /// Cumulative joules per domain at `t`.
    fn value_at(&self, t: Instant) -> Vec<f64> {
        let n = self.meta.len();
        if t <= self.origin.at {
            return vec![0.0; n];
        }
        let (a, b): (&Sample, Option<&Sample>) = match self.samples.front() {
            Some(front) if t >= front.at => {
                let i = self.samples.partition_point(|s| s.at <= t);
                match self.samples.get(i) {
                    Some(b) => (&self.samples[i - 1], Some(b)),
                    // After the latest sample: its value, a floor every later sample
                    // keeps (see the module docs; `read_now` brings it up to date).
                    None => return self.samples[i - 1].joules.to_vec(),
                }
            }
            front => match &self.evicted {
                Some(e) if t >= e.at => (e, front),
                Some(e) => (&self.origin, Some(e)),
                None => (&self.origin, front),
            },
        };
        let Some(b) = b else { return a.joules.to_vec() };
        let span = b.at.saturating_duration_since(a.at).as_secs_f64();
        let frac = if span > 0.0 {
            (t.saturating_duration_since(a.at).as_secs_f64() / span).clamp(0.0, 1.0)
        } else {
            1.0
        };
        (0..n)
            .map(|k| a.joules[k] + (b.joules[k] - a.joules[k]) * frac)
            .collect()
    }

    fn report(&self, values: Vec<f64>) -> EnergyReport {
        EnergyReport::from_domains(
            self.meta
                .iter()
                .zip(values)
                .map(|(m, j)| DomainEnergy {
                    domain: m.name.clone(),
                    joules: Joules(if j.is_finite() { j.max(0.0) } else { 0.0 }),
                    provenance: m.provenance.clone(),
                    uncertainty: m.uncertainty,
                })
                .collect(),
        )
    }
}

impl Sampler {
    /// Take a first reading of every meter and start polling.
    ///
    /// Fails if there is no meter, the configuration is out of range, or a
    /// meter's first reading fails.
    pub fn start(
        meters: Vec<Box<dyn Meter>>,
        config: SamplerConfig,
    ) -> Result<Sampler, EnergyError> {
        if meters.is_empty() {
            return Err(EnergyError::Sampler {
                message: "no meter to poll (use `auto()`, which always includes an estimate)"
                    .into(),
            });
        }
        if config.interval < Duration::from_millis(1) {
            return Err(EnergyError::InvalidConfig {
                setting: "sampler interval",
                message: format!("{:?} is below the 1 ms minimum", config.interval),
            });
        }
        if config.capacity < 2 {
            return Err(EnergyError::InvalidConfig {
                setting: "sampler capacity",
                message: format!(
                    "{} samples; at least 2 are needed to interpolate",
                    config.capacity
                ),
            });
        }
        let mut slots = Vec::with_capacity(meters.len());
        let mut meta = Vec::new();
        for mut meter in meters {
            let first = meter.read()?;
            slots.push(MeterSlot {
                base: first.iter().map(|d| d.joules.0).collect(),
                offset: meta.len(),
                meter,
            });
            meta.extend(first.into_iter().map(|d| DomainMeta {
                name: d.domain,
                provenance: d.provenance,
                uncertainty: d.uncertainty,
            }));
        }
        let start = Instant::now();
        let width = meta.len();
        let shared = Arc::new(Shared {
            ring: Mutex::new(Ring {
                origin: Sample {
                    at: start,
                    joules: vec![0.0; width].into_boxed_slice(),
                },
                evicted: None,
                samples: VecDeque::with_capacity(config.capacity.min(4096)),
                capacity: config.capacity,
                meta,
                errors: 0,
                last_error: None,
                taken: 0,
            }),
            meters: Mutex::new(slots),
            stop: Mutex::new(false),
            wake: Condvar::new(),
        });
        let worker = Arc::clone(&shared);
        let interval = config.interval;
        let handle = std::thread::Builder::new()
            .name("snuffer-sampler".into())
            .spawn(move || {
                let mut next = Instant::now() + interval;
                let mut stopped = lock(&worker.stop);
                loop {
                    let now = Instant::now();
                    if *stopped {
                        break;
                    }
                    if now < next {
                        stopped = worker
                            .wake
                            .wait_timeout(stopped, next - now)
                            .map(|(g, _)| g)
                            .unwrap_or_else(|p| p.into_inner().0);
                        continue;
                    }
                    drop(stopped);
                    worker.poll();
                    // Fixed-rate schedule; skip missed ticks instead of bursting.
                    next += interval;
                    let now = Instant::now();
                    if next < now {
                        next = now + interval;
                    }
                    stopped = lock(&worker.stop);
                }
                drop(stopped);
                worker.poll();
            })
            .map_err(|e| EnergyError::Sampler {
                message: format!("cannot start the sampler thread: {e}"),
            })?;
        Ok(Sampler {
            shared,
            handle: Some(handle),
            start,
            config,
        })
    }

    /// When the sampler took its first reading (energy is counted from here).
    pub fn started_at(&self) -> Instant {
        self.start
    }

    /// The configuration in use.
    pub fn config(&self) -> SamplerConfig {
        self.config
    }

    /// Domain names, in report order.
    pub fn domains(&self) -> Vec<String> {
        lock(&self.shared.ring)
            .meta
            .iter()
            .map(|m| m.name.clone())
            .collect()
    }

    /// Instant of the latest sample (the start if none yet).
    pub fn latest(&self) -> Instant {
        let ring = lock(&self.shared.ring);
        ring.samples.back().map_or(ring.origin.at, |s| s.at)
    }

    /// Failed meter reads so far and the latest failure's message.
    pub fn errors(&self) -> (u64, Option<String>) {
        let ring = lock(&self.shared.ring);
        (ring.errors, ring.last_error.clone())
    }

    /// Poll every meter now, on the calling thread (e.g. right after a step
    /// whose energy must not be extrapolated).
    pub fn poll_now(&self) {
        self.shared.poll();
    }

    /// A fresh reading: poll every meter now and return the instant of that sample and
    /// the energy per domain up to it. Instants up to it read final values from then on.
    pub fn read_now(&self) -> (Instant, EnergyReport) {
        let at = self.shared.poll();
        (at, self.cumulative_at(at))
    }

    /// Samples taken so far (background polls and fresh readings, the first reading at the
    /// start not included; evicted samples included).
    pub fn readings(&self) -> u64 {
        lock(&self.shared.ring).taken
    }

    /// Energy per domain since the sampler started, at instant `t`.
    pub fn cumulative_at(&self, t: Instant) -> EnergyReport {
        let ring = lock(&self.shared.ring);
        let v = ring.value_at(t);
        ring.report(v)
    }

    /// Energy per domain between `t0` and `t1` (zero if `t1 ≤ t0`).
    pub fn energy_between(&self, t0: Instant, t1: Instant) -> EnergyReport {
        let ring = lock(&self.shared.ring);
        let a = ring.value_at(t0);
        let b = ring.value_at(t1.max(t0));
        let d = a.iter().zip(b).map(|(a, b)| b - a).collect();
        ring.report(d)
    }

    /// Energy between two stamps (e.g. one training step).
    pub fn energy_of(&self, from: &Stamp, to: &Stamp) -> EnergyReport {
        self.energy_between(from.at, to.at)
    }

    /// Mean power per domain over the `window` that ends at the latest sample.
    pub fn recent_power(&self, window: Duration) -> PowerReport {
        let ring = lock(&self.shared.ring);
        let end = ring.samples.back().map_or(ring.origin.at, |s| s.at);
        let begin = end
            .checked_sub(window)
            .unwrap_or(ring.origin.at)
            .max(ring.origin.at);
        let span = end.saturating_duration_since(begin);
        let a = ring.value_at(begin);
        let b = ring.value_at(end);
        let secs = span.as_secs_f64();
        let domains: Vec<DomainPower> = ring
            .meta
            .iter()
            .zip(a.iter().zip(b))
            .map(|(m, (a, b))| DomainPower {
                domain: m.name.clone(),
                power: Watts(if secs > 0.0 {
                    ((b - a) / secs).max(0.0)
                } else {
                    0.0
                }),
                provenance: m.provenance.clone(),
                uncertainty: m.uncertainty,
            })
            .collect();
        PowerReport {
            total: Watts(domains.iter().map(|d| d.power.0).sum()),
            domains,
            window: span,
        }
    }

    /// Stop polling: take a last reading, join the thread, and return the
    /// energy from the start to that reading.
    pub fn stop(mut self) -> EnergyReport {
        self.shutdown();
        let ring = lock(&self.shared.ring);
        let last = ring
            .samples
            .back()
            .map_or_else(|| ring.origin.joules.to_vec(), |s| s.joules.to_vec());
        ring.report(last)
    }

    fn shutdown(&mut self) {
        if let Some(h) = self.handle.take() {
            *lock(&self.shared.stop) = true;
            self.shared.wake.notify_all();
            // The worker takes the last reading before exiting. A panic inside a
            // meter has already been reported by the thread; nothing to add here.
            let _ = h.join();
        }
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// A meter whose cumulative energy the test sets directly (in millijoules).
    #[derive(Clone, Default)]
    struct Knob(Arc<AtomicU64>);

    impl Meter for Knob {
        fn name(&self) -> &str {
            "knob"
        }
        fn read(&mut self) -> Result<Vec<DomainEnergy>, EnergyError> {
            let mj = self.0.load(Ordering::SeqCst);
            if mj == u64::MAX {
                return Err(EnergyError::Sampler {
                    message: "knob broken".into(),
                });
            }
            Ok(vec![DomainEnergy {
                domain: "knob".into(),
                joules: Joules(mj as f64 / 1e3),
                provenance: Provenance::Counter,
                uncertainty: 0.05,
            }])
        }
    }

    fn slow() -> SamplerConfig {
        // Polls only when the test asks (poll_now), so timing is deterministic.
        SamplerConfig::default().with_interval(Duration::from_secs(3600))
    }

    #[test]
    fn interpolates_between_samples() {
        let knob = Knob::default();
        knob.0.store(5_000, Ordering::SeqCst); // energy before start is not counted
        let s = Sampler::start(vec![Box::new(knob.clone())], slow()).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        knob.0.store(15_000, Ordering::SeqCst);
        s.poll_now();
        let (t0, t1) = (s.started_at(), s.latest());
        let mid = t0 + (t1 - t0) / 2;
        let r = s.cumulative_at(mid);
        assert!((r.total.0 - 5.0).abs() < 1e-6, "{r:?}");
        let e = s.energy_between(mid, t1);
        assert!((e.total.0 - 5.0).abs() < 1e-6, "{e:?}");
        assert_eq!(e.provenance, Provenance::Counter);
        assert_eq!(s.energy_between(t1, t0).total, Joules(0.0));
        assert_eq!(
            s.cumulative_at(t0 - Duration::from_secs(1)).total,
            Joules(0.0)
        );
    }

    #[test]
    fn past_the_latest_sample_reads_it_and_a_fresh_reading_catches_up() {
        let knob = Knob::default();
        let s = Sampler::start(vec![Box::new(knob.clone())], slow()).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        knob.0.store(10_000, Ordering::SeqCst);
        s.poll_now();
        let span = s.latest() - s.started_at();
        let later = s.latest() + span;
        let r = s.cumulative_at(later);
        assert!(
            (r.total.0 - 10.0).abs() < 1e-6,
            "held, not extrapolated: {r:?}"
        );
        // Power falls: an extrapolation would have read 20 J at `later`, above what the
        // next sample shows.
        knob.0.store(12_000, Ordering::SeqCst);
        std::thread::sleep(span);
        let (at, now) = s.read_now();
        assert!(at >= later && (now.total.0 - 12.0).abs() < 1e-6, "{now:?}");
        assert!(s.cumulative_at(later).total.0 >= r.total.0);
        assert_eq!(s.readings(), 2);
    }

    /// One operation of [`readings_never_decrease`]: the meter's counter grows, time passes,
    /// a stamp is taken, the meters are polled, or the oldest stamp not yet read is read.
    #[derive(Debug, Clone)]
    enum Op {
        Grow(u64),
        Sleep(u64),
        Stamp,
        Poll,
        FreshReading,
        ReadOldest,
    }

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        prop_oneof![
            (0u64..50_000).prop_map(Op::Grow),
            (0u64..1_500).prop_map(Op::Sleep),
            Just(Op::Stamp),
            Just(Op::Poll),
            Just(Op::FreshReading),
            Just(Op::ReadOldest),
        ]
    }

    #[test]
    fn bounded_ring_keeps_totals_exact() {
        let knob = Knob::default();
        let s = Sampler::start(vec![Box::new(knob.clone())], slow().with_capacity(3)).unwrap();
        let mut stamps = vec![s.started_at()];
        for k in 1..=10u64 {
            std::thread::sleep(Duration::from_millis(2));
            knob.0.store(k * 1000, Ordering::SeqCst);
            s.poll_now();
            stamps.push(s.latest());
        }
        assert_eq!(lock(&s.shared.ring).samples.len(), 3);
        assert!((s.cumulative_at(s.latest()).total.0 - 10.0).abs() < 1e-9);
        // Instants at evicted samples still answer consistently (coarsely).
        let early = s.cumulative_at(stamps[2]).total.0;
        assert!((0.0..=10.0).contains(&early), "{early}");
        assert!((s.energy_between(stamps[8], stamps[9]).total.0 - 1.0).abs() < 1e-9);
        let total = s.stop();
        assert!((total.total.0 - 10.0).abs() < 1e-9, "{total:?}");
    }

    #[test]
    fn failed_reads_keep_the_last_value_and_are_counted() {
        let knob = Knob::default();
        let s = Sampler::start(vec![Box::new(knob.clone())], slow()).unwrap();
        knob.0.store(2_000, Ordering::SeqCst);
        s.poll_now();
        knob.0.store(u64::MAX, Ordering::SeqCst);
        s.poll_now();
        let (n, msg) = s.errors();
        assert_eq!(n, 1);
        assert!(msg.unwrap_or_default().contains("knob broken"));
        assert!((s.cumulative_at(s.latest()).total.0 - 2.0).abs() < 1e-9);
    }

    #[test]
    fn background_thread_polls_and_stop_takes_a_last_reading() {
        let knob = Knob::default();
        let s = Sampler::start(
            vec![Box::new(knob.clone())],
            SamplerConfig::default().with_interval(Duration::from_millis(5)),
        )
        .unwrap();
        std::thread::sleep(Duration::from_millis(40));
        assert!(lock(&s.shared.ring).samples.len() >= 2);
        knob.0.store(7_000, Ordering::SeqCst);
        let r = s.stop();
        assert_eq!(r.total, Joules(7.0));
    }

    #[test]
    fn recent_power_over_a_window() {
        let knob = Knob::default();
        let s = Sampler::start(vec![Box::new(knob.clone())], slow()).unwrap();
        std::thread::sleep(Duration::from_millis(50));
        knob.0.store(5_000, Ordering::SeqCst);
        s.poll_now();
        let p = s.recent_power(Duration::from_secs(10));
        let expect = 5.0 / p.window.as_secs_f64();
        assert!((p.total.0 - expect).abs() < 1e-6, "{p:?}");
        assert_eq!(p.domains[0].domain, "knob");
    }

    #[test]
    fn rejects_bad_configs() {
        assert!(Sampler::start(vec![], slow()).is_err());
        let bad = slow().with_interval(Duration::ZERO);
        assert!(matches!(
            Sampler::start(vec![Box::new(Knob::default())], bad),
            Err(EnergyError::InvalidConfig { .. })
        ));
        let bad = slow().with_capacity(1);
        assert!(matches!(
            Sampler::start(vec![Box::new(Knob::default())], bad),
            Err(EnergyError::InvalidConfig { .. })
        ));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// Step energies are never negative and add up to the cumulative energy,
        /// whatever the counter increments, ring size and query instants.
        #[test]
        fn step_energies_are_consistent(
            increments in proptest::collection::vec(0u64..5_000_000, 1..40),
            capacity in 2usize..8,
            mut fractions in proptest::collection::vec(0.0f64..1.3, 2..20),
        ) {
            let knob = Knob::default();
            let s = Sampler::start(vec![Box::new(knob.clone())], slow().with_capacity(capacity)).unwrap();
            let mut total = 0u64;
            for inc in increments {
                total += inc;
                knob.0.store(total, Ordering::SeqCst);
                s.poll_now();
            }
            let (t0, t1) = (s.started_at(), s.latest());
            fractions.sort_by(f64::total_cmp);
            let at: Vec<Instant> = fractions.iter().map(|f| t0 + (t1 - t0).mul_f64(*f)).collect();
            let mut sum = 0.0;
            for w in at.windows(2) {
                let e = s.energy_between(w[0], w[1]).total.0;
                proptest::prop_assert!(e.is_finite() && e >= 0.0, "{e}");
                sum += e;
            }
            let whole = s.cumulative_at(at[at.len() - 1]).total.0 - s.cumulative_at(at[0]).total.0;
            proptest::prop_assert!((sum - whole).abs() <= 1e-9 * whole.max(1.0), "{sum} vs {whole}");
            proptest::prop_assert!((s.cumulative_at(t1).total.0 - total as f64 / 1e3).abs() < 1e-6);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
        /// Cumulative energy never decreases per domain: stamps read in the order they were
        /// taken (as a run writes its step and eval lines) give non-decreasing values,
        /// whatever the power does, when the background thread polls (every 1–3 ms) and
        /// where fresh readings and manual polls fall between them.
        #[test]
        fn readings_never_decrease(
            ops in proptest::collection::vec(op(), 1..60),
            interval_ms in 1u64..4,
            two_domains in proptest::bool::ANY,
        ) {
            let (a, b) = (Knob::default(), Knob::default());
            let mut meters: Vec<Box<dyn Meter>> = vec![Box::new(a.clone())];
            if two_domains {
                meters.push(Box::new(b.clone()));
            }
            let s = Sampler::start(
                meters,
                SamplerConfig::default().with_interval(Duration::from_millis(interval_ms)),
            ).unwrap();
            let mut pending: std::collections::VecDeque<Instant> = Default::default();
            let mut last: Option<(Instant, Vec<f64>)> = None;
            let mut check = |at: Instant, r: EnergyReport| -> Result<(), proptest::test_runner::TestCaseError> {
                let v: Vec<f64> = r.domains.iter().map(|d| d.joules.0).collect();
                if let Some((t0, v0)) = &last {
                    if at >= *t0 {
                        for (x0, x) in v0.iter().zip(&v) {
                            proptest::prop_assert!(x >= x0, "{x} J after {x0} J");
                        }
                    }
                }
                if last.as_ref().is_none_or(|(t0, _)| at >= *t0) {
                    last = Some((at, v));
                }
                Ok(())
            };
            for op in ops {
                match op {
                    Op::Grow(mj) => {
                        a.0.fetch_add(mj, Ordering::SeqCst);
                        b.0.fetch_add(mj / 3, Ordering::SeqCst);
                    }
                    Op::Sleep(us) => std::thread::sleep(Duration::from_micros(us)),
                    Op::Stamp => pending.push_back(Instant::now()),
                    Op::Poll => s.poll_now(),
                    Op::FreshReading => {
                        // Stamps taken before it are read first, as a run's eval does.
                        let (at, r) = s.read_now();
                        while let Some(t) = pending.pop_front() {
                            check(t, s.cumulative_at(t))?;
                        }
                        check(at, r)?;
                    }
                    Op::ReadOldest => {
                        if let Some(t) = pending.pop_front() {
                            check(t, s.cumulative_at(t))?;
                        }
                    }
                }
            }
            while let Some(t) = pending.pop_front() {
                check(t, s.cumulative_at(t))?;
            }
            let end = s.stop();
            if let Some((_, v)) = &last {
                for (x0, d) in v.iter().zip(&end.domains) {
                    proptest::prop_assert!(d.joules.0 >= *x0);
                }
            }
        }
    }

    #[test]
    fn sampler_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Sampler>();
    }
}
