//! `emissions.csv`: CodeCarbon's columns and units, so dashboards and
//! notebooks written for CodeCarbon read Snuffer's runs unchanged.
//!
//! The header is CodeCarbon 3.3's `EmissionsData` field order
//! (codecarbon/output_methods/emissions_data.py; fields documented in
//! docs/reference/output.md). Units follow CodeCarbon: energy in kWh, power
//! in W, emissions in kg CO2e, emissions_rate in kg/s, duration in s, water
//! in litres, RAM in GB. A column Snuffer cannot fill (python_version,
//! codecarbon_version, emissions without a footprint, a GPU that was not
//! metered, …) is left empty, never invented.
//!
//! Where the intensity is the world average (no region given), `country_iso_code` is
//! `WLD` and `country_name` `World (average)`; with a fixed, mix or series intensity and no
//! region they are `ZZZ` and `Unknown (… intensity)`: CodeCarbon's dashboard needs both
//! columns filled, and neither names a country the run did not run in. `on_cloud` is `N`
//! unless the caller says otherwise.
//!
//! ```
//! use snuffer_rundir::emissions::{write_emissions_csv, EmissionsContext, COLUMNS};
//! use snuffer_rundir::{DomainTotal, Summary, FORMAT_VERSION};
//! use snuffer_energy::Provenance;
//!
//! let summary = Summary {
//!     format_version: FORMAT_VERSION,
//!     run_name: "demo".into(),
//!     started_at: "2026-11-23T18:00:00Z".into(),
//!     duration_s: 3600.0,
//!     steps: 100,
//!     planned_steps: None,
//!     finished: true,
//!     energy_j: 3.6e6,
//!     energy_uncertainty: 0.05,
//!     provenance: Provenance::Counter,
//!     domains: vec![DomainTotal {
//!         name: "gpu:0".into(),
//!         joules: 3.6e6,
//!         provenance: Provenance::Counter,
//!         uncertainty: 0.05,
//!     }],
//!     metric_name: "val_acc".into(),
//!     higher_is_better: true,
//!     best_step: None,
//!     best_metric: None,
//!     stop: None,
//!     forecast_full_metric: None,
//!     forecast_full_energy_j: None,
//!     forecast_saved_j: None,
//!     footprint: None,
//!     extra: None,
//! };
//! let dir = tempfile::tempdir()?;
//! let path = write_emissions_csv(dir.path(), &summary, &EmissionsContext::new("demo-1"))?;
//! let text = std::fs::read_to_string(path)?;
//! let mut lines = text.lines();
//! assert_eq!(lines.next(), Some(COLUMNS.join(",").as_str()));
//! assert!(lines.next().unwrap().contains(",1000.0,")); // gpu_power: 3.6 MJ over an hour, a float as CodeCarbon writes it
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::error::RunDirError;
use crate::summary::Summary;
use crate::EMISSIONS_FILE;
use snuffer_energy::JOULES_PER_KWH;
use std::path::{Path, PathBuf};

/// `country_iso_code` written for the world-average intensity (the World Bank's code for
/// the world aggregate).
pub const WORLD_ISO_CODE: &str = "WLD";
/// `country_name` written for the world-average intensity.
pub const WORLD_NAME: &str = "World (average)";
/// `country_iso_code` written when the intensity is not tied to a place (ISO 3166 leaves
/// `ZZZ` to users; it names no country).
pub const UNKNOWN_ISO_CODE: &str = "ZZZ";

/// `project_name` of a run that sets no project and joins no sweep: every such run of one
/// machine is one project on CodeCarbon's dashboard, so its timeline shows them together.
pub const DEFAULT_PROJECT: &str = "snuffer";

/// CodeCarbon 3.3's CSV columns, in its order.
pub const COLUMNS: [&str; 38] = [
    "timestamp",
    "project_name",
    "run_id",
    "experiment_id",
    "duration",
    "emissions",
    "emissions_rate",
    "cpu_power",
    "gpu_power",
    "ram_power",
    "cpu_energy",
    "gpu_energy",
    "ram_energy",
    "energy_consumed",
    "water_consumed",
    "country_name",
    "country_iso_code",
    "region",
    "cloud_provider",
    "cloud_region",
    "os",
    "python_version",
    "codecarbon_version",
    "cpu_count",
    "cpu_model",
    "gpu_count",
    "gpu_model",
    "longitude",
    "latitude",
    "ram_total_size",
    "tracking_mode",
    "cpu_utilization_percent",
    "gpu_utilization_percent",
    "ram_utilization_percent",
    "ram_used_gb",
    "on_cloud",
    "pue",
    "wue",
];

/// What the summary does not say: identity, location, hardware, footprint.
/// Every field is optional; `None` leaves the column empty.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EmissionsContext {
    /// `project_name`: what CodeCarbon's dashboard groups runs by (its default is
    /// `codecarbon`; ours, by [`EmissionsContext::for_run`], is the project the user set,
    /// else the sweep's name, else [`DEFAULT_PROJECT`]).
    pub project_name: Option<String>,
    /// `run_id`: the run's identity (e.g. the run directory's name).
    pub run_id: String,
    /// `experiment_id`, next to `run_id`: the run's name (runs made twice under one name,
    /// or one configuration in several sweeps, share it).
    pub experiment_id: Option<String>,
    /// `emissions` in kg CO2e (from snuffer-footprint).
    pub emissions_kg: Option<f64>,
    /// `water_consumed` in litres (from snuffer-footprint).
    pub water_litres: Option<f64>,
    /// `country_name`.
    pub country_name: Option<String>,
    /// `country_iso_code` (ISO 3166-1 alpha-3, as CodeCarbon writes it).
    pub country_iso_code: Option<String>,
    /// `region`.
    pub region: Option<String>,
    /// `cloud_provider`.
    pub cloud_provider: Option<String>,
    /// `cloud_region`.
    pub cloud_region: Option<String>,
    /// `on_cloud` (`Y`/`N`).
    pub on_cloud: Option<bool>,
    /// `os`.
    pub os: Option<String>,
    /// `cpu_count`.
    pub cpu_count: Option<u32>,
    /// `cpu_model`.
    pub cpu_model: Option<String>,
    /// `gpu_count`.
    pub gpu_count: Option<u32>,
    /// `gpu_model` (CodeCarbon writes e.g. `1 x NVIDIA A100-SXM4-40GB`).
    pub gpu_model: Option<String>,
    /// `longitude`.
    pub longitude: Option<f64>,
    /// `latitude`.
    pub latitude: Option<f64>,
    /// `ram_total_size` in GB.
    pub ram_total_gb: Option<f64>,
    /// `tracking_mode`: `machine` (RAPL, NVML: the whole device) or `process`.
    pub tracking_mode: Option<String>,
    /// `pue` (power usage effectiveness) applied to emissions, if any.
    pub pue: Option<f64>,
    /// `wue` (litres per kWh) applied to water, if any.
    pub wue: Option<f64>,
}

impl EmissionsContext {
    /// A context with only the run id; everything else empty.
    pub fn new(run_id: impl Into<String>) -> Self {
        EmissionsContext {
            run_id: run_id.into(),
            ..Default::default()
        }
    }

    /// A context with the facts this machine states about itself (OS, CPU
    /// model and count, RAM): read from /proc and the standard library, never
    /// guessed; what cannot be read stays empty.
    pub fn detect(run_id: impl Into<String>) -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").ok();
        EmissionsContext {
            run_id: run_id.into(),
            os: Some(match release {
                Some(r) => format!("{}-{}-{}", os_name(), r.trim(), std::env::consts::ARCH),
                None => format!("{}-{}", os_name(), std::env::consts::ARCH),
            }),
            cpu_count: std::thread::available_parallelism()
                .ok()
                .and_then(|n| u32::try_from(n.get()).ok()),
            cpu_model: cpuinfo
                .lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string()),
            ram_total_gb: meminfo
                .lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kib| kib.parse::<f64>().ok())
                // CodeCarbon reports GiB-based "GB" (bytes / 1024³).
                .map(|kib| kib / (1024.0 * 1024.0)),
            ..Default::default()
        }
    }
}

impl EmissionsContext {
    /// The context of a finished run: what [`EmissionsContext::detect`] reads; as project
    /// the one set on the run (`RunBuilder::project`, recorded as `extra.project` in
    /// summary.json), else the name of the sweep it joined (`extra.sweep.dir`), else
    /// [`DEFAULT_PROJECT`]; the run's name as `experiment_id`; the tracking mode from the
    /// meters' provenance; and the footprint block's emissions, water, PUE and place (see
    /// the module docs for runs without a region). `on_cloud` is `N`.
    pub fn for_run(summary: &Summary, run_id: impl Into<String>) -> Self {
        let mut ctx = EmissionsContext::detect(run_id);
        ctx.project_name = Some(project_of(summary));
        ctx.experiment_id = Some(summary.run_name.clone());
        let measured = summary.domains.iter().any(|d| !d.provenance.is_estimate());
        ctx.tracking_mode = Some(if measured { "machine" } else { "process" }.to_string());
        ctx.on_cloud = Some(false);
        if let Some(fp) = &summary.footprint {
            let cc = fp.codecarbon();
            ctx.emissions_kg = Some(cc.emissions);
            // No water intensity configured gives 0 L: leave the column empty rather than
            // claim zero.
            ctx.water_litres = Some(fp.water.total.value.0).filter(|l| *l > 0.0);
            ctx.pue = Some(fp.pue);
            ctx.wue = cc.wue;
            let nonempty = |s: String| (!s.is_empty()).then_some(s);
            ctx.region = nonempty(cc.region);
            let (iso, name) = match (nonempty(cc.country_iso_code), nonempty(cc.country_name)) {
                (Some(iso), Some(name)) => (iso, name),
                _ if fp.intensity.source == "world" => (WORLD_ISO_CODE.into(), WORLD_NAME.into()),
                _ => (
                    UNKNOWN_ISO_CODE.into(),
                    format!("Unknown ({} intensity)", fp.intensity.source),
                ),
            };
            ctx.country_iso_code = Some(iso);
            ctx.country_name = Some(name);
        }
        ctx
    }
}

/// The project a run belongs to (see [`EmissionsContext::for_run`]).
fn project_of(summary: &Summary) -> String {
    let extra = summary.extra.as_ref();
    let set = extra
        .and_then(|e| e.project.as_deref())
        .filter(|p| !p.trim().is_empty());
    let sweep = extra
        .and_then(|e| e.sweep.as_ref())
        .and_then(|s| s.dir.file_name())
        .map(|n| n.to_string_lossy().into_owned());
    set.map(str::to_string)
        .or(sweep)
        .unwrap_or_else(|| DEFAULT_PROJECT.to_string())
}

fn os_name() -> &'static str {
    match std::env::consts::OS {
        "linux" => "Linux",
        "macos" => "macOS",
        "windows" => "Windows",
        other => other,
    }
}

/// Which CodeCarbon column a domain's energy belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Cpu,
    Gpu,
    Ram,
    Other,
}

fn kind(domain: &str) -> Kind {
    let d = domain.to_ascii_lowercase();
    if d.starts_with("gpu") {
        Kind::Gpu
    } else if d.contains("dram") || d.starts_with("ram") || d.starts_with("memory") {
        Kind::Ram
    } else if ["cpu", "package", "core", "psys", "uncore"]
        .iter()
        .any(|p| d.starts_with(p))
    {
        Kind::Cpu
    } else {
        Kind::Other
    }
}

/// Quotes a CSV field when it needs it (RFC 4180).
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// A float column as CodeCarbon (pandas) writes it: always with a decimal point
/// (`1.0`, not `1`), the shortest form that reads back the same otherwise.
fn num(v: Option<f64>) -> String {
    v.filter(|v| v.is_finite())
        .map(|v| {
            let s = format!("{v}");
            if s.contains(['.', 'e', 'E']) {
                s
            } else {
                format!("{s}.0")
            }
        })
        .unwrap_or_default()
}

/// The data row for `summary` (same order as [`COLUMNS`]).
pub fn row(summary: &Summary, ctx: &EmissionsContext) -> Vec<String> {
    let duration = summary.duration_s;
    let joules = |k: Kind| -> Option<f64> {
        let mut it = summary
            .domains
            .iter()
            .filter(|d| kind(&d.name) == k)
            .peekable();
        it.peek()?;
        Some(it.map(|d| d.joules).sum())
    };
    let (cpu, gpu, ram) = (joules(Kind::Cpu), joules(Kind::Gpu), joules(Kind::Ram));
    let kwh = |j: Option<f64>| j.map(|j| j / JOULES_PER_KWH);
    let watts = |j: Option<f64>| j.filter(|_| duration > 0.0).map(|j| j / duration);
    let timestamp = chrono::DateTime::parse_from_rfc3339(&summary.started_at)
        .ok()
        .and_then(|t| {
            let d =
                chrono::Duration::from_std(std::time::Duration::try_from_secs_f64(duration).ok()?)
                    .ok()?;
            Some(t.with_timezone(&chrono::Utc) + d)
        })
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S").to_string())
        .unwrap_or_default();
    let text = |s: &Option<String>| s.as_deref().map(field).unwrap_or_default();
    vec![
        timestamp,
        field(ctx.project_name.as_deref().unwrap_or(&summary.run_name)),
        field(&ctx.run_id),
        text(&ctx.experiment_id),
        num(Some(duration)),
        num(ctx.emissions_kg),
        num(ctx
            .emissions_kg
            .filter(|_| duration > 0.0)
            .map(|e| e / duration)),
        num(watts(cpu)),
        num(watts(gpu)),
        num(watts(ram)),
        num(kwh(cpu)),
        num(kwh(gpu)),
        num(kwh(ram)),
        // The whole run's energy, every domain included (CodeCarbon's sum of
        // cpu, gpu and ram; a domain of another kind still counts here).
        num(Some(summary.energy_j / JOULES_PER_KWH)),
        num(ctx.water_litres),
        text(&ctx.country_name),
        text(&ctx.country_iso_code),
        text(&ctx.region),
        text(&ctx.cloud_provider),
        text(&ctx.cloud_region),
        text(&ctx.os),
        String::new(), // python_version: not a Python process
        String::new(), // codecarbon_version: not written by CodeCarbon
        ctx.cpu_count.map(|c| c.to_string()).unwrap_or_default(),
        text(&ctx.cpu_model),
        ctx.gpu_count.map(|c| c.to_string()).unwrap_or_default(),
        text(&ctx.gpu_model),
        num(ctx.longitude),
        num(ctx.latitude),
        num(ctx.ram_total_gb),
        text(&ctx.tracking_mode),
        String::new(), // cpu_utilization_percent: not sampled
        String::new(), // gpu_utilization_percent: not sampled
        String::new(), // ram_utilization_percent: not sampled
        String::new(), // ram_used_gb: not sampled
        ctx.on_cloud
            .map(|c| if c { "Y" } else { "N" }.to_string())
            .unwrap_or_default(),
        num(ctx.pue),
        num(ctx.wue),
    ]
}

/// Writes `<dir>/emissions.csv` (header and one row; temp file + rename) and returns its path.
pub fn write_emissions_csv(
    dir: impl AsRef<Path>,
    summary: &Summary,
    ctx: &EmissionsContext,
) -> Result<PathBuf, RunDirError> {
    let path = dir.as_ref().join(EMISSIONS_FILE);
    let text = format!("{}\n{}\n", COLUMNS.join(","), row(summary, ctx).join(","));
    crate::write_atomically(&path, text.as_bytes())?;
    Ok(path)
}

/// Writes `<dir>/emissions.csv` for a finished run, with [`EmissionsContext::for_run`]
/// (the run id is the directory's name).
pub fn write_emissions(dir: impl AsRef<Path>, summary: &Summary) -> Result<PathBuf, RunDirError> {
    write_emissions_in(dir, summary, None)
}

/// [`write_emissions`] filing the run under `project` (`project_name`) when given.
pub fn write_emissions_in(
    dir: impl AsRef<Path>,
    summary: &Summary,
    project: Option<&str>,
) -> Result<PathBuf, RunDirError> {
    let dir = dir.as_ref();
    let run_id = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| summary.run_name.clone());
    let mut ctx = EmissionsContext::for_run(summary, run_id);
    if let Some(p) = project.filter(|p| !p.trim().is_empty()) {
        ctx.project_name = Some(p.to_string());
    }
    write_emissions_csv(dir, summary, &ctx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DomainTotal, FORMAT_VERSION};
    use snuffer_energy::Provenance;

    /// CodeCarbon's documented CSV columns, copied from
    /// <https://github.com/mlco2/codecarbon/blob/master/codecarbon/output_methods/emissions_data.py>
    /// (`EmissionsData`, CodeCarbon 3.3.0, commit b05965e, 2026-08-08), whose
    /// field order is the CSV header; the fields are described in
    /// docs/reference/output.md of the same repository.
    const CODECARBON_3_3_COLUMNS: &str = "timestamp,project_name,run_id,experiment_id,duration,\
        emissions,emissions_rate,cpu_power,gpu_power,ram_power,cpu_energy,gpu_energy,ram_energy,\
        energy_consumed,water_consumed,country_name,country_iso_code,region,cloud_provider,\
        cloud_region,os,python_version,codecarbon_version,cpu_count,cpu_model,gpu_count,gpu_model,\
        longitude,latitude,ram_total_size,tracking_mode,cpu_utilization_percent,\
        gpu_utilization_percent,ram_utilization_percent,ram_used_gb,on_cloud,pue,wue";

    /// The 2.x header found in published emissions.csv files (e.g. CodeCarbon
    /// 2.3.5 output on the Hugging Face Hub): every one of its columns must
    /// still be there so older notebooks keep working.
    const CODECARBON_2_COLUMNS: &str = "timestamp,project_name,run_id,duration,emissions,\
        emissions_rate,cpu_power,gpu_power,ram_power,cpu_energy,gpu_energy,ram_energy,\
        energy_consumed,country_name,country_iso_code,region,cloud_provider,cloud_region,os,\
        python_version,codecarbon_version,cpu_count,cpu_model,gpu_count,gpu_model,longitude,\
        latitude,ram_total_size,tracking_mode,on_cloud,pue";

    fn summary(domains: &[(&str, f64)]) -> Summary {
        Summary {
            format_version: FORMAT_VERSION,
            run_name: "mnist, small".into(),
            started_at: "2026-11-23T18:00:00+01:00".into(),
            duration_s: 1800.0,
            steps: 10,
            planned_steps: Some(20),
            finished: true,
            energy_j: domains.iter().map(|d| d.1).sum(),
            energy_uncertainty: 0.1,
            provenance: Provenance::Counter,
            domains: domains
                .iter()
                .map(|(n, j)| DomainTotal {
                    name: n.to_string(),
                    joules: *j,
                    provenance: Provenance::Counter,
                    uncertainty: 0.05,
                })
                .collect(),
            metric_name: "acc".into(),
            higher_is_better: true,
            best_step: None,
            best_metric: None,
            stop: None,
            forecast_full_metric: None,
            forecast_full_energy_j: None,
            forecast_saved_j: None,
            footprint: None,
            extra: None,
        }
    }

    /// Splits one CSV line, honouring quotes (the writer's counterpart).
    fn split(line: &str) -> Vec<String> {
        let (mut out, mut cur, mut quoted, mut chars) =
            (vec![], String::new(), false, line.chars().peekable());
        while let Some(c) = chars.next() {
            match (c, quoted) {
                ('"', true) if chars.peek() == Some(&'"') => {
                    cur.push('"');
                    chars.next();
                }
                ('"', _) => quoted = !quoted,
                (',', false) => out.push(std::mem::take(&mut cur)),
                (c, _) => cur.push(c),
            }
        }
        out.push(cur);
        out
    }

    #[test]
    fn header_matches_codecarbon_documented_columns() {
        assert_eq!(COLUMNS.join(","), CODECARBON_3_3_COLUMNS.replace(' ', ""));
        for col in CODECARBON_2_COLUMNS.split(',').map(str::trim) {
            assert!(COLUMNS.contains(&col), "2.x column {col} missing");
        }
    }

    #[test]
    fn units_are_kwh_watts_and_kg() {
        let s = summary(&[
            ("cpu-package:0", 1.8e6),
            ("dram:0", 0.18e6),
            ("gpu:0", 3.6e6),
            ("gpu:1", 3.6e6),
        ]);
        let mut ctx = EmissionsContext::new("run-1");
        ctx.emissions_kg = Some(0.9);
        ctx.country_iso_code = Some("FRA".into());
        let dir = tempfile::tempdir().unwrap();
        let path = write_emissions_csv(dir.path(), &s, &ctx).unwrap();
        let text = std::fs::read_to_string(path).unwrap();
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        let header = split(lines[0]);
        let values = split(lines[1]);
        assert_eq!(header.len(), values.len());
        let get = |c: &str| values[header.iter().position(|h| h == c).unwrap()].clone();
        let f = |c: &str| get(c).parse::<f64>().unwrap();
        let rows: [(&str, f64); 10] = [
            ("duration", 1800.0),
            ("cpu_energy", 0.5), // 1.8 MJ = 0.5 kWh
            ("ram_energy", 0.05),
            ("gpu_energy", 2.0), // both GPUs
            ("energy_consumed", 2.55),
            ("cpu_power", 1000.0), // 1.8 MJ over 1800 s
            ("ram_power", 100.0),
            ("gpu_power", 4000.0),
            ("emissions", 0.9),
            ("emissions_rate", 0.0005),
        ];
        for (col, want) in rows {
            assert!(
                (f(col) - want).abs() < 1e-9,
                "{col}: {} != {want}",
                get(col)
            );
        }
        assert_eq!(get("timestamp"), "2026-11-23T17:30:00", "end time, UTC");
        assert_eq!(
            get("project_name"),
            "mnist, small",
            "quoted field round-trips"
        );
        assert_eq!(get("country_iso_code"), "FRA");
        for col in [
            "python_version",
            "codecarbon_version",
            "water_consumed",
            "gpu_model",
            "on_cloud",
        ] {
            assert_eq!(get(col), "", "{col} must stay empty");
        }
    }

    /// Issue 19: runs of one sweep, or of one user-set project, are one CodeCarbon project;
    /// the run's name goes next to `run_id`; `pue` is a float.
    #[test]
    fn project_is_the_sweep_or_the_set_project_and_pue_a_float() {
        let mut s = summary(&[("cpu-estimate", 36_000.0)]);
        let at = |s: &Summary, c: &str| {
            let values = row(s, &EmissionsContext::for_run(s, "mnist-2"));
            values[COLUMNS.iter().position(|h| *h == c).unwrap()].clone()
        };
        assert_eq!(at(&s, "project_name"), DEFAULT_PROJECT);
        assert_eq!(at(&s, "run_id"), "mnist-2");
        assert_eq!(at(&s, "experiment_id"), "\"mnist, small\"");
        s.extra = serde_json::from_value(
            serde_json::json!({"sweep": {"dir": "runs/lr-search", "reads": 3}}),
        )
        .ok();
        assert_eq!(at(&s, "project_name"), "lr-search");
        s.extra = serde_json::from_value(
            serde_json::json!({"project": "digits", "sweep": {"dir": "runs/lr"}}),
        )
        .ok();
        assert_eq!(at(&s, "project_name"), "digits");
        let fp = snuffer_footprint::run_footprint(
            &snuffer_footprint::FootprintConfig::default(),
            snuffer_energy::Joules(36_000.0),
            std::time::Duration::from_secs(1800),
            None,
        )
        .unwrap();
        s.footprint = Some(fp);
        assert_eq!(at(&s, "pue"), "1.0");
        assert_eq!(row(&s, &EmissionsContext::new("r")).len(), 38);
    }

    #[test]
    fn missing_domains_and_footprint_leave_columns_empty() {
        let s = summary(&[("cpu-estimate", 36_000.0)]);
        let values = row(&s, &EmissionsContext::new("r"));
        let at = |c: &str| values[COLUMNS.iter().position(|h| *h == c).unwrap()].clone();
        assert_eq!(at("gpu_energy"), "");
        assert_eq!(at("gpu_power"), "");
        assert_eq!(at("ram_energy"), "");
        assert_eq!(at("emissions"), "");
        assert_eq!(at("emissions_rate"), "");
        assert_eq!(at("cpu_energy"), "0.01");
    }

    #[test]
    fn domains_are_classified() {
        let rows = [
            ("cpu-package:0", Kind::Cpu),
            ("package-0", Kind::Cpu),
            ("psys", Kind::Cpu),
            ("cpu-estimate", Kind::Cpu),
            ("dram:0", Kind::Ram),
            ("ram-estimate", Kind::Ram),
            ("gpu:3", Kind::Gpu),
            ("fpga", Kind::Other),
        ];
        for (name, want) in rows {
            assert_eq!(kind(name), want, "{name}");
        }
    }

    #[test]
    fn detect_reads_only_facts() {
        let ctx = EmissionsContext::detect("r");
        assert!(ctx.os.is_some());
        assert!(
            ctx.emissions_kg.is_none() && ctx.country_iso_code.is_none() && ctx.gpu_model.is_none()
        );
    }

    /// CodeCarbon's dashboard (carbonboard) needs `country_iso_code`, `country_name` and
    /// `on_cloud`: a run with a region names it, one on the world average says so.
    #[test]
    fn place_and_cloud_columns_are_filled() {
        use snuffer_footprint::{run_footprint, FootprintConfig};
        let cases = [
            (FootprintConfig::default(), "WLD", "World (average)", ""),
            (
                FootprintConfig::default().with_region("FR").unwrap(),
                "FRA",
                "France",
                "FR",
            ),
        ];
        for (cfg, iso, name, region) in cases {
            let mut s = summary(&[("cpu-estimate", 3.6e5)]);
            s.footprint = Some(
                run_footprint(
                    &cfg,
                    snuffer_energy::Joules(3.6e5),
                    std::time::Duration::from_secs(60),
                    None,
                )
                .unwrap(),
            );
            let values = row(&s, &EmissionsContext::for_run(&s, "r"));
            let at = |c: &str| values[COLUMNS.iter().position(|h| *h == c).unwrap()].clone();
            assert_eq!(
                (at("country_iso_code"), at("country_name"), at("region")),
                (iso.to_string(), name.to_string(), region.to_string())
            );
            assert_eq!(at("on_cloud"), "N");
            assert_eq!(
                at("tracking_mode"),
                "machine",
                "counters measure the machine"
            );
            assert!(at("emissions").parse::<f64>().unwrap() > 0.0);
        }
    }
}
