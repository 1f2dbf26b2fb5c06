//! Helpers shared by the policy crate's integration tests.

/// Deterministic pseudo-random numbers in [0, 1) (a small LCG: no dev-dependency).
pub fn uniform(seed: u64) -> impl FnMut() -> f64 {
    let mut s = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    move || {
        s = s
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Approximately normal noise (sum of 12 uniforms).
#[allow(dead_code)] // not every test binary uses it
pub fn normal(seed: u64) -> impl FnMut() -> f64 {
    let mut u = uniform(seed);
    move || (0..12).map(|_| u()).sum::<f64>() - 6.0
}
