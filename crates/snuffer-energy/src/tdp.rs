//! A small table of CPU thermal design power (TDP) figures.
//!
//! Figures are the manufacturers' own: Intel's product specifications
//! (ark.intel.com, "Processor Base Power"/"TDP") and AMD's product pages
//! (amd.com, "Default TDP"), with hardware thread counts from the same pages.
//! The estimate uses TDP ÷ hardware threads as the power of one busy logical
//! CPU, the same assumption CodeCarbon makes (TDP scaled by the process's share
//! of the CPUs). For a CPU not in the table, [`default_watts_per_thread`] is the
//! median of the table's figures.

use crate::Watts;

/// One row: a substring of `/proc/cpuinfo`'s model name, TDP, hardware threads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TdpEntry {
    /// Matched (case-insensitively) against the model name.
    pub pattern: &'static str,
    /// Thermal design power of the whole package.
    pub tdp: Watts,
    /// Hardware threads of the package.
    pub threads: u32,
}

impl TdpEntry {
    /// Power of one busy hardware thread.
    pub fn watts_per_thread(&self) -> Watts {
        Watts(self.tdp.0 / f64::from(self.threads))
    }
}

const fn e(pattern: &'static str, tdp: f64, threads: u32) -> TdpEntry {
    TdpEntry {
        pattern,
        tdp: Watts(tdp),
        threads,
    }
}

/// The embedded table (see the module docs for the sources).
pub const TDP_TABLE: &[TdpEntry] = &[
    e("EPYC 7313", 155.0, 32),
    e("EPYC 7543", 225.0, 64),
    e("EPYC 7742", 225.0, 128),
    e("EPYC 7763", 280.0, 128),
    e("EPYC 9654", 360.0, 192),
    e("Threadripper PRO 5995WX", 280.0, 128),
    e("Ryzen 7 5800X", 105.0, 16),
    e("Ryzen 9 5950X", 105.0, 32),
    e("Ryzen 9 7950X", 170.0, 32),
    e("Xeon(R) Gold 6130", 125.0, 32),
    e("Xeon(R) Gold 6248", 150.0, 40),
    e("Xeon(R) Platinum 8380", 270.0, 80),
    e("Xeon(R) Platinum 8480", 350.0, 112),
    e("Xeon(R) CPU E5-2686 v4", 145.0, 36),
    e("Core(TM) i5-8250U", 15.0, 8),
    e("Core(TM) i7-1165G7", 28.0, 8),
    e("Core(TM) i7-12700K", 125.0, 20),
    e("Core(TM) i9-13900K", 125.0, 32),
];

/// The table row matching a model name (the longest matching pattern).
pub fn lookup(model_name: &str) -> Option<&'static TdpEntry> {
    let name = model_name.to_ascii_lowercase();
    TDP_TABLE
        .iter()
        .filter(|e| name.contains(&e.pattern.to_ascii_lowercase()))
        .max_by_key(|e| e.pattern.len())
}

/// Power of one busy hardware thread when the CPU is not in the table: the
/// median of the table's TDP ÷ threads (≈ 3.5 W).
pub fn default_watts_per_thread() -> Watts {
    let mut v: Vec<f64> = TDP_TABLE.iter().map(|e| e.watts_per_thread().0).collect();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Watts(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// The model name in `/proc/cpuinfo` text (first `model name` line).
pub fn cpu_model_name(cpuinfo: &str) -> Option<String> {
    cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups() {
        let rows = [
            ("AMD EPYC 7763 64-Core Processor", Some(280.0)),
            ("Intel(R) Xeon(R) Platinum 8480+", Some(350.0)),
            ("11th Gen Intel(R) Core(TM) i7-1165G7 @ 2.80GHz", Some(28.0)),
            ("AMD EPYC", None),
            ("", None),
        ];
        for (name, want) in rows {
            assert_eq!(lookup(name).map(|e| e.tdp.0), want, "{name}");
        }
    }

    #[test]
    fn default_is_the_table_median_and_plausible() {
        let d = default_watts_per_thread().0;
        let below = TDP_TABLE
            .iter()
            .filter(|e| e.watts_per_thread().0 < d)
            .count();
        assert_eq!(below, TDP_TABLE.len() / 2);
        assert!((2.0..6.0).contains(&d), "{d}");
    }

    #[test]
    fn model_name_from_cpuinfo() {
        let text = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7763 64-Core Processor\n";
        assert_eq!(
            cpu_model_name(text).as_deref(),
            Some("AMD EPYC 7763 64-Core Processor")
        );
        assert_eq!(cpu_model_name("processor: 0\n"), None);
    }
}
