//! A small table of CPU thermal design power (TDP) figures.
//!
//! The estimate uses TDP ÷ hardware threads as the power of one busy logical
//! CPU, the same assumption CodeCarbon makes (TDP scaled by the process's share
//! of the CPUs). For a CPU not in the table, [`default_watts_per_thread`] is the
//! median of the table's figures.
//!
//! # Sources (every row checked against stored copies, not from memory)
//!
//! - **TDP**: CodeCarbon's `codecarbon/data/hardware/cpu_power.csv`
//!   (repository `mlco2/codecarbon`, MIT licence, commit `b05965e4`, file last
//!   changed in `811df7ff`). All 22 rows match it except the i7-12700K (below).
//! - **Cores, threads and TDP as the manufacturers publish them**: the scrapes
//!   of amd.com and Intel ARK kept beside it in
//!   `codecarbon/data/hardware/cpu_dataset_builder/` (same commit):
//!   `amd_cpu_server_dataset.csv` (EPYC: cores, threads, "Default TDP"),
//!   `amd_cpu_desktop_dataset.csv` (Ryzen, Threadripper: cores, threads,
//!   "Default TDP") and `intel_cpu_ark_dataset.csv` (Xeon Gold/Platinum and the
//!   i5-8250U: total cores and TDP; that file has no thread column).
//! - **Server threads**: `hardware/cpu/{amd,intel}/*.pan` of
//!   `quattor/template-library-standard` (commit `6fa9032a`), which records
//!   model string, cores, `max_threads` and TDP for every EPYC and Xeon
//!   Gold/Platinum row here and agrees with CodeCarbon on each TDP.
//! - **Threads of the remaining Intel rows** (E5-2686 v4, i5-8250U, i7-1165G7,
//!   i7-12700K, i9-13900K; none of them is in either dataset with a thread
//!   count): counts reported by real machines in public repositories
//!   (`lscpu` on an E5-2686 v4 host: 18 cores per socket × 2 threads per core;
//!   BenchmarkDotNet headers "8 logical and 4 physical cores" for the i5-8250U
//!   and i7-1165G7, "20 logical and 12 physical" for the i7-12700K, "32 logical
//!   and 24 physical" for the i9-13900K). These were not checked against an
//!   ark.intel.com page, none being in the searchable stores.
//!
//! The i7-12700K is the one disagreement: `cpu_power.csv` lists 190 W, which is
//! Intel's *Maximum Turbo Power* for that part, whereas every other 12th/13th
//! generation row in that file (e.g. the i9-13900K at 125 W) and this table use
//! *Processor Base Power*, 125 W for the i7-12700K. The row keeps 125 W so that
//! all rows measure the same quantity; the 125 W figure itself comes from
//! secondary sources (hardware-compatibility lists and reviews), not from ARK.
//!
//! Patterns are plain substrings and the longest match wins, so a suffixed
//! variant with different figures (7950X3D, Gold 6130F, Gold 6248R,
//! Platinum 8380H/HL) has its own row; variants with the same figures
//! (EPYC 7313P/7543P/9654P, Ryzen 7 5800X3D, Gold 6130T) share the base row.

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
    // AMD EPYC: 16C/32T, 32C/64T, 64C/128T, 64C/128T, 96C/192T.
    e("EPYC 7313", 155.0, 32),
    e("EPYC 7543", 225.0, 64),
    e("EPYC 7742", 225.0, 128),
    e("EPYC 7763", 280.0, 128),
    e("EPYC 9654", 360.0, 192),
    // AMD desktop/workstation: 64C/128T, 8C/16T, 16C/32T, 16C/32T, 16C/32T.
    e("Threadripper PRO 5995WX", 280.0, 128),
    e("Ryzen 7 5800X", 105.0, 16),
    e("Ryzen 9 5950X", 105.0, 32),
    e("Ryzen 9 7950X", 170.0, 32),
    e("Ryzen 9 7950X3D", 120.0, 32),
    // Intel Xeon: 16C/32T, 16C/32T, 20C/40T, 24C/48T, 40C/80T, 28C/56T,
    // 56C/112T, 18C/36T.
    e("Xeon(R) Gold 6130", 125.0, 32),
    e("Xeon(R) Gold 6130F", 135.0, 32),
    e("Xeon(R) Gold 6248", 150.0, 40),
    e("Xeon(R) Gold 6248R", 205.0, 48),
    e("Xeon(R) Platinum 8380", 270.0, 80),
    e("Xeon(R) Platinum 8380H", 250.0, 56),
    e("Xeon(R) Platinum 8480+", 350.0, 112),
    e("Xeon(R) CPU E5-2686 v4", 145.0, 36),
    // Intel Core: 4C/8T, 4C/8T, 12C (8P+4E)/20T, 24C (8P+16E)/32T.
    e("Core(TM) i5-8250U", 15.0, 8),
    e("Core(TM) i7-1165G7", 28.0, 8),
    // Processor Base Power; CodeCarbon's 190 W is Maximum Turbo Power.
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
/// median of the table's TDP ÷ threads (3.75 W with the current table).
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
            // Longest pattern wins: suffixed variants get their own figures…
            ("AMD Ryzen 9 7950X 16-Core Processor", Some(170.0)),
            ("AMD Ryzen 9 7950X3D 16-Core Processor", Some(120.0)),
            ("Intel(R) Xeon(R) Gold 6248R CPU @ 3.00GHz", Some(205.0)),
            ("Intel(R) Xeon(R) Gold 6130F CPU @ 2.10 GHz", Some(135.0)),
            (
                "Intel(R) Xeon(R) Platinum 8380HL CPU @ 2.90GHz",
                Some(250.0),
            ),
            ("Intel(R) Xeon(R) Platinum 8380 CPU @ 2.30GHz", Some(270.0)),
            // …and same-figure variants share the base row.
            ("AMD EPYC 7313P 16-Core Processor", Some(155.0)),
            ("12th Gen Intel(R) Core(TM) i7-12700K", Some(125.0)),
            ("Intel(R) Xeon(R) CPU E5-2686 v4 @ 2.30GHz", Some(145.0)),
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
        // A median has at most half the values strictly on either side (ties
        // at the median are allowed, as with the current table).
        let below = TDP_TABLE
            .iter()
            .filter(|e| e.watts_per_thread().0 < d)
            .count();
        let above = TDP_TABLE
            .iter()
            .filter(|e| e.watts_per_thread().0 > d)
            .count();
        assert!(below <= TDP_TABLE.len() / 2, "{below} below {d}");
        assert!(above <= TDP_TABLE.len() / 2, "{above} above {d}");
        assert!((2.0..6.0).contains(&d), "{d}");
        // By hand: 22 rows sorted by W/thread; the 11th and 12th are the
        // Ryzen 9 7950X3D (120 W / 32 = 3.75) and the Xeon Gold 6248
        // (150 W / 40 = 3.75), neighboured by EPYC 7543 (225/64 = 3.515625)
        // and Gold 6130 (125/32 = 3.90625). Median = (3.75 + 3.75) / 2.
        assert_eq!(TDP_TABLE.len(), 22);
        assert!((d - 3.75).abs() < 1e-12, "{d}");
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
