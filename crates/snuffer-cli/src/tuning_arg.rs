//! `--tuning KEY=VALUE,...`: override the forecaster's cold-start priors
//! ([`snuffer_forecast::Tuning`]) from the command line.

use anyhow::{bail, Context};
use snuffer_forecast::Tuning;

/// Parse `KEY=VALUE,...` into a [`Tuning`], every key not named keeping its default.
pub fn parse(spec: Option<&str>) -> anyhow::Result<Tuning> {
    let Some(spec) = spec.filter(|s| !s.trim().is_empty()) else {
        return Ok(Tuning::default());
    };
    let mut map = serde_json::Map::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((k, v)) = part.split_once('=') else {
            bail!("--tuning expects KEY=VALUE pairs separated by commas, e.g. surprise=0.5,spread_prior=1.2; got {part:?}");
        };
        let v: f64 = v
            .trim()
            .parse()
            .with_context(|| format!("--tuning {k}: {v:?} is not a number"))?;
        map.insert(k.trim().to_string(), serde_json::json!(v));
    }
    let tuning: Tuning = serde_json::from_value(serde_json::Value::Object(map)).map_err(|e| {
        anyhow::anyhow!(
            "--tuning: {e}; the keys are the fields of snuffer_forecast::Tuning: {}",
            keys().join(", ")
        )
    })?;
    if let Some((name, value, range)) = tuning.invalid() {
        bail!("--tuning {name}={value} is out of range: expected {range}");
    }
    Ok(tuning)
}

fn keys() -> Vec<String> {
    match serde_json::to_value(Tuning::default()) {
        Ok(serde_json::Value::Object(m)) => m.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_named_keys_and_rejects_nonsense() {
        let t = parse(Some("surprise=0.5, spread_prior=2")).unwrap();
        assert_eq!(t.surprise, 0.5);
        assert_eq!(t.spread_prior, 2.0);
        assert_eq!(t.gain_sd, Tuning::default().gain_sd);
        assert_eq!(parse(None).unwrap(), Tuning::default());
        for bad in ["surprise", "nope=1", "surprise=x", "surprise=-1"] {
            let e = parse(Some(bad)).unwrap_err().to_string();
            assert!(e.contains("--tuning"), "{bad}: {e}");
        }
    }
}
