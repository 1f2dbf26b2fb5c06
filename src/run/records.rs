//! Building the records of `steps.jsonl` from the crates' types.

use snuffer_energy::EnergyReport;
use snuffer_policy::{Decision, Evidence, MarginalEvidence, Warning};
use snuffer_rundir::{Action, DecisionRecord, DomainRecord, EnergyRecord, WarningRecord};

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
        Decision::Continue => DecisionRecord::proceed(),
        Decision::Stop(r) => DecisionRecord {
            action: Action::Stop,
            policy: Some(r.policy.clone()),
            message: Some(r.message.clone()),
            evidence: object(&r.evidence),
            warnings: Vec::new(),
        },
    }
}

/// Typed evidence as the flat JSON object the run directory keeps (format 2).
fn object(e: &impl serde::Serialize) -> serde_json::Map<String, serde_json::Value> {
    match serde_json::to_value(e) {
        Ok(serde_json::Value::Object(fields)) => fields,
        _ => serde_json::Map::new(),
    }
}

/// The eval line's decision: a stop with its reason; a continue with the
/// marginal-gain check made at this step, so the log shows the gain per kWh
/// against τ at every evaluation; any warnings in their own list.
pub(super) fn eval_decision_record(
    d: &Decision,
    gauge: Option<&MarginalEvidence>,
    warnings: &[Warning],
) -> DecisionRecord {
    let mut r = decision_record(d);
    if let (Decision::Continue, Some(check)) = (d, gauge) {
        r.policy = Some(Evidence::MarginalGain(*check).policy().to_string());
        r.evidence = object(&Evidence::MarginalGain(*check));
    }
    r.warnings = warnings
        .iter()
        .map(|w| WarningRecord {
            policy: w.policy.clone(),
            message: w.message.clone(),
            evidence: object(&w.evidence),
        })
        .collect();
    r
}
