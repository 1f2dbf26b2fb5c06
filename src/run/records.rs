//! Building the records of `steps.jsonl` from the crates' types.

use crate::format::{DecisionRecord, DomainRecord, EnergyRecord};
use snuffer_energy::EnergyReport;
use snuffer_policy::{Decision, Evidence, MarginalEvidence, Warning};
use std::collections::BTreeMap;

/// NaN and infinities are written as `null`.
pub(super) fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

pub(super) fn energy_record(r: &EnergyReport) -> EnergyRecord {
    EnergyRecord {
        total_j: r.total.0,
        total_uncertainty: r.uncertainty,
        domains: domain_records(r),
    }
}

/// Each domain of `r` with its joules, provenance and uncertainty.
pub(super) fn domain_records(r: &EnergyReport) -> Vec<DomainRecord> {
    r.domains
        .iter()
        .map(|d| DomainRecord {
            name: d.domain.clone(),
            joules: d.joules.0,
            provenance: d.provenance.clone(),
            uncertainty: d.uncertainty,
        })
        .collect()
}

pub(super) fn decision_record(d: &Decision) -> DecisionRecord {
    match d {
        Decision::Continue => DecisionRecord {
            action: "continue".into(),
            policy: None,
            message: None,
            evidence: BTreeMap::new(),
        },
        Decision::Stop(r) => DecisionRecord {
            action: "stop".into(),
            policy: Some(r.policy.clone()),
            message: Some(r.message.clone()),
            evidence: numbers(&r.evidence),
        },
    }
}

/// The finite numbers of typed evidence, by field name (`tau_per_kwh`, …; the fields of
/// a nested object such as a budget's limit are taken as they are).
fn numbers(e: &Evidence) -> BTreeMap<String, f64> {
    fn collect(v: serde_json::Value, out: &mut BTreeMap<String, f64>) {
        if let serde_json::Value::Object(fields) = v {
            for (k, v) in fields {
                match v.as_f64() {
                    Some(x) if x.is_finite() => {
                        out.insert(k, x);
                    }
                    _ => collect(v, out),
                }
            }
        }
    }
    let mut out = BTreeMap::new();
    if let Ok(v) = serde_json::to_value(e) {
        collect(v, &mut out);
    }
    out
}

/// The eval line's decision: a stop with its reason; a continue with the
/// marginal-gain numbers and any warnings, so the log shows the gain per kWh
/// against τ at every evaluation.
pub(super) fn eval_decision_record(
    d: &Decision,
    gauge: Option<&MarginalEvidence>,
    warnings: &[Warning],
) -> DecisionRecord {
    let mut r = decision_record(d);
    if matches!(d, Decision::Continue) {
        if let Some(check) = gauge {
            r.policy = Some("marginal_gain".into());
            r.evidence.insert(
                "optimistic_rate_per_kwh".into(),
                check.optimistic_rate_per_kwh,
            );
            r.evidence.insert("tau_per_kwh".into(), check.tau_per_kwh);
            r.evidence.retain(|_, v| v.is_finite());
        }
        if !warnings.is_empty() {
            r.policy = Some(warnings[0].policy.clone());
            r.message = Some(
                warnings
                    .iter()
                    .map(|w| w.message.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
            );
            for w in warnings {
                r.evidence.extend(numbers(&w.evidence));
            }
        }
    }
    r
}
