//! `--tuning KEY=VALUE,...`: override the forecaster's cold-start priors
//! ([`snuffer_forecast::Tuning`]) and the stop rule's constants
//! ([`snuffer_policy::RuleTuning`]) from the command line, one surface for both: each key
//! is a field of one of them.

use anyhow::{bail, Context};
use snuffer_forecast::Tuning;
use snuffer_policy::RuleTuning;

/// The forecaster's priors and the stop rule's constants, as `--tuning` left them.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Tunings {
    /// The forecaster's cold-start priors.
    pub forecast: Tuning,
    /// The marginal-gain rule's constants.
    pub rule: RuleTuning,
}

/// Parse `KEY=VALUE,...` into [`Tunings`], every key not named keeping its default. The
/// forecaster's priors are checked here; the rule's constants when the rule is built
/// (`MarginalGain::new`), so a bad one is named the same way whether it came from
/// `--tuning` or from a flag such as `--idle-decay`.
pub fn parse(spec: Option<&str>) -> anyhow::Result<Tunings> {
    parse_with(spec, &[])
}

/// [`parse`], then `flags`: `(KEY, VALUE)` pairs from the rule's own flags (`--idle-decay`
/// is `idle_decay`), which win over the same key in `spec`.
pub fn parse_with(spec: Option<&str>, flags: &[(&str, f64)]) -> anyhow::Result<Tunings> {
    let forecast_keys = keys(serde_json::to_value(Tuning::default()));
    let rule_keys = keys(serde_json::to_value(RuleTuning::default()));
    let mut forecast = serde_json::Map::new();
    let mut rule = serde_json::Map::new();
    let spec = spec.unwrap_or("");
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((k, v)) = part.split_once('=') else {
            bail!("--tuning expects KEY=VALUE pairs separated by commas, e.g. surprise=0.5,consecutive=3; got {part:?}");
        };
        let k = k.trim();
        let value = value(k, v.trim())?;
        if forecast_keys.iter().any(|f| f == k) {
            forecast.insert(k.to_string(), value);
        } else if rule_keys.iter().any(|f| f == k) {
            rule.insert(k.to_string(), value);
        } else {
            bail!(
                "--tuning: unknown key {k:?}; the keys are the forecaster's priors \
                 (snuffer_forecast::Tuning: {}) and the stop rule's constants \
                 (snuffer_policy::RuleTuning: {})",
                forecast_keys.join(", "),
                rule_keys.join(", ")
            );
        }
    }
    for &(k, v) in flags {
        rule.insert(k.to_string(), number(v));
    }
    let forecast: Tuning = serde_json::from_value(serde_json::Value::Object(forecast))
        .map_err(|e| anyhow::anyhow!("--tuning: {e}"))?;
    if let Some((name, value, range)) = forecast.invalid() {
        bail!("--tuning {name}={value} is out of range: expected {range}");
    }
    let rule: RuleTuning = serde_json::from_value(serde_json::Value::Object(rule)).map_err(|e| {
        anyhow::anyhow!("--tuning: {e}; counts (min_evaluations, consecutive, min_references) are whole numbers ≥ 0")
    })?;
    Ok(Tunings { forecast, rule })
}

/// `--tuning` for a command that only forecasts (`snuffer forecast`): the stop rule's keys
/// are refused, naming the command that takes them.
pub fn parse_forecast(spec: Option<&str>) -> anyhow::Result<Tuning> {
    let t = parse(spec)?;
    if t.rule != RuleTuning::default() {
        bail!(
            "--tuning: {} sets the stop rule's constants, which `snuffer forecast` does not use; \
             give it to `snuffer replay` instead (forecast takes: {})",
            spec.unwrap_or(""),
            keys(serde_json::to_value(Tuning::default())).join(", ")
        );
    }
    Ok(t.forecast)
}

/// One value: a number, or shares separated by `/` (`horizon_shares=0.125/0.25/0.5/1`).
fn value(key: &str, v: &str) -> anyhow::Result<serde_json::Value> {
    let one = |s: &str| -> anyhow::Result<f64> {
        let x: f64 = s
            .trim()
            .parse()
            .with_context(|| format!("--tuning {key}: {s:?} is not a number"))?;
        anyhow::ensure!(
            x.is_finite(),
            "--tuning {key}: {s:?} is not a finite number"
        );
        Ok(x)
    };
    if v.contains('/') {
        let items = v
            .split('/')
            .map(one)
            .collect::<anyhow::Result<Vec<f64>>>()?;
        return Ok(serde_json::Value::Array(
            items.into_iter().map(number).collect(),
        ));
    }
    Ok(number(one(v)?))
}

/// A JSON number: a whole number as an integer (so counts read as counts), else a float.
fn number(x: f64) -> serde_json::Value {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        serde_json::json!(x as i64)
    } else {
        serde_json::json!(x)
    }
}

/// The field names of a struct serialised to JSON (`serde_json::to_value(..)`).
fn keys(value: serde_json::Result<serde_json::Value>) -> Vec<String> {
    match value {
        Ok(serde_json::Value::Object(m)) => m.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn overrides_named_keys_and_rejects_nonsense() {
        let t = parse(Some("surprise=0.5, spread_prior=2"))
            .unwrap()
            .forecast;
        assert_eq!(t.surprise, 0.5);
        assert_eq!(t.spread_prior, 2.0);
        assert_eq!(t.gain_sd, Tuning::default().gain_sd);
        assert_eq!(parse(None).unwrap(), Tunings::default());
        for bad in [
            "surprise",
            "nope=1",
            "surprise=x",
            "surprise=-1",
            "consecutive=1.5",
        ] {
            let e = parse(Some(bad)).unwrap_err().to_string();
            assert!(e.contains("--tuning"), "{bad}: {e}");
        }
    }

    #[test]
    fn one_surface_for_the_forecaster_and_the_rule() {
        let t = parse(Some(
            "surprise=1,consecutive=3,idle_decay=0.2,horizon_shares=0.25/0.5/0.75/1",
        ))
        .unwrap();
        assert_eq!(t.forecast.surprise, 1.0);
        assert_eq!(t.rule.consecutive, 3);
        assert_eq!(t.rule.idle_decay, 0.2);
        assert_eq!(t.rule.horizon_shares, [0.25, 0.5, 0.75, 1.0]);
        assert_eq!(
            t.rule.min_evaluations,
            RuleTuning::default().min_evaluations
        );
        // A flag wins over the same key in the string.
        let f = parse_with(
            Some("idle_decay=0.2"),
            &[("idle_decay", 0.3), ("min_references", 4.0)],
        )
        .unwrap();
        assert_eq!((f.rule.idle_decay, f.rule.min_references), (0.3, 4));
        // The unknown-key message lists both sets of keys.
        let e = parse(Some("nope=1")).unwrap_err().to_string();
        assert!(
            e.contains("surprise") && e.contains("best_loss_share"),
            "{e}"
        );
        // `snuffer forecast` takes the forecaster's keys only.
        assert_eq!(parse_forecast(Some("surprise=1")).unwrap().surprise, 1.0);
        let e = parse_forecast(Some("consecutive=3"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("snuffer replay"), "{e}");
    }

    proptest! {
        /// Whatever the text, the parser answers (never panics), and every key it accepts
        /// round-trips: a value it read is the value written.
        #[test]
        fn any_text_is_parsed_or_refused(spec in ".{0,60}") {
            let _ = parse(Some(&spec));
        }

        #[test]
        fn a_share_round_trips(v in 0.0f64..1.0) {
            let t = parse(Some(&format!("best_loss_share={v}"))).unwrap();
            prop_assert_eq!(t.rule.best_loss_share, v);
        }
    }
}
