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

/// Parses one `--hardware` value: `NAME` (one device), `NAME=COUNT` or `COUNTxNAME` (the
/// form `snuffer whatif --hardware` also takes); a board variant such as `a100-sxm4` or
/// `h100-pcie` (whatif's names) is charged as its GPU (`a100`, `h100`).
pub(crate) fn parse_hardware(spec: &str) -> anyhow::Result<(HardwareProfile, u32)> {
    let counted = spec
        .split_once(['x', 'X', '×'])
        .and_then(|(n, rest)| Some((rest.trim(), n.trim().parse::<u32>().ok()?)));
    let (name, count) = match (spec.split_once('='), counted) {
        (Some((n, c)), _) => (
            n,
            c.trim()
                .parse::<u32>()
                .with_context(|| format!("--hardware {spec}: count `{c}` is not a whole number"))?,
        ),
        (None, Some((n, c))) => (n, c),
        (None, None) => (spec, 1),
    };
    let lower = name.trim().to_ascii_lowercase();
    let gpu = ["a100", "h100"]
        .into_iter()
        .find(|g| lower.starts_with(&format!("{g}-")));
    let profile = HardwareProfile::preset(gpu.unwrap_or(name))
        .with_context(|| format!("--hardware {spec}"))?;
    Ok((profile, count))
}
