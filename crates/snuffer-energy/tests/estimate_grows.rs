//! The estimate grows with CPU work. This file holds a single test so that it
//! runs alone in its process: the estimate covers the whole process's CPU time,
//! and parallel tests in the same binary would otherwise add their own work.

use snuffer_energy::{CpuPowerModel, CpuSource, EstimateMeter, Meter};
use std::time::{Duration, Instant};

fn spin(d: Duration) {
    let t = Instant::now();
    let mut x = 0u64;
    while t.elapsed() < d {
        x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
    }
}

#[test]
fn busy_loop_yields_more_joules_than_a_sleep_of_the_same_length() -> anyhow::Result<()> {
    let model = CpuPowerModel::for_model(None);
    let per_thread = model.watts_per_thread.0;
    let mut m = EstimateMeter::with_model(CpuSource::SelfProcess, model, true, false)?;
    let j = |m: &mut EstimateMeter| -> anyhow::Result<f64> { Ok(m.read()?[0].joules.0) };
    let a = j(&mut m)?;
    std::thread::sleep(Duration::from_millis(200));
    let b = j(&mut m)?;
    spin(Duration::from_millis(200));
    let c = j(&mut m)?;
    let (slept, busy) = (b - a, c - b);
    assert!(
        busy > 5.0 * slept.max(1e-4),
        "busy {busy} J vs sleep {slept} J"
    );
    // At most 200 ms of one thread's CPU time at the per-thread power (less when
    // the machine is shared and the loop is descheduled).
    let ceiling = per_thread * 0.2 * 1.1;
    assert!(busy <= ceiling, "busy {busy} J above {ceiling} J");
    Ok(())
}
