//! Parsers of single flag values (`--duration`, `--service-life`, `--hardware`), kept free of
//! the rest of the command so the fuzz targets in `fuzz/` can include this file as it is.

use anyhow::Context;
use snuffer_footprint::HardwareProfile;
use std::time::Duration;

/// Parses `90m`, `4h`, `1h 30m` (humantime).
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s.trim())
        .map_err(|e| format!("`{s}` is not a duration ({e}); write e.g. `90m`, `4h` or `1h 30m`"))
}

/// Parses one `--hardware` value: `NAME` (one device) or `NAME=COUNT`.
pub(crate) fn parse_hardware(spec: &str) -> anyhow::Result<(HardwareProfile, u32)> {
    let (name, count) = match spec.split_once('=') {
        Some((n, c)) => (
            n,
            c.trim()
                .parse::<u32>()
                .with_context(|| format!("--hardware {spec}: count `{c}` is not a whole number"))?,
        ),
        None => (spec, 1),
    };
    let profile = HardwareProfile::preset(name).with_context(|| format!("--hardware {spec}"))?;
    Ok((profile, count))
}
