//! A borrowed view of one `steps.jsonl` line, for fast streaming reads.
//!
//! [`snuffer::format::StepRecord`] owns every string (domain names,
//! provenance models, metric names): several allocations per line, which
//! dominate reading a million-line log. This view borrows them from the
//! line instead and only owns the rare parts (forecast, decision, meta).
//! Field names and defaults mirror `StepRecord`; a test checks that both
//! read the same lines alike.

use serde::Deserialize;
use snuffer::format::{DecisionRecord, ForecastRecord, RecordKind};
use snuffer_energy::Provenance;
use std::borrow::Cow;
use std::collections::BTreeMap;

/// Provenance with a borrowed model string.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum ProvenanceView<'a> {
    Counter,
    IntegratedPower,
    Estimated {
        #[serde(borrow)]
        model: Cow<'a, str>,
    },
}

impl ProvenanceView<'_> {
    /// Whether this is the same provenance as `p` (no allocation).
    pub(crate) fn same_as(&self, p: &Provenance) -> bool {
        match (self, p) {
            (ProvenanceView::Counter, Provenance::Counter) => true,
            (ProvenanceView::IntegratedPower, Provenance::IntegratedPower) => true,
            (ProvenanceView::Estimated { model: a }, Provenance::Estimated { model: b }) => a == b,
            _ => false,
        }
    }

    pub(crate) fn to_owned(&self) -> Provenance {
        match self {
            ProvenanceView::Counter => Provenance::Counter,
            ProvenanceView::IntegratedPower => Provenance::IntegratedPower,
            ProvenanceView::Estimated { model } => Provenance::Estimated {
                model: model.to_string(),
            },
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct DomainView<'a> {
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    pub joules: f64,
    #[serde(borrow)]
    pub provenance: ProvenanceView<'a>,
    pub uncertainty: f64,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct EnergyView<'a> {
    pub total_j: f64,
    #[serde(default)]
    pub total_uncertainty: f64,
    #[serde(default, borrow)]
    pub domains: Vec<DomainView<'a>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct LineView<'a> {
    pub kind: RecordKind,
    pub step: u64,
    pub time_s: f64,
    #[serde(default, borrow)]
    pub energy: EnergyView<'a>,
    #[serde(default, borrow)]
    pub metrics: BTreeMap<Cow<'a, str>, Option<f64>>,
    #[serde(default)]
    pub forecast: Option<ForecastRecord>,
    #[serde(default)]
    pub decision: Option<DecisionRecord>,
    #[serde(default)]
    pub meta: Option<serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use snuffer::format::{DomainRecord, EnergyRecord, StepRecord};

    #[test]
    fn reads_what_step_record_writes() {
        let rec = StepRecord {
            kind: RecordKind::Eval,
            step: 7,
            time_s: 1.5,
            energy: EnergyRecord {
                total_j: 12.0,
                total_uncertainty: 0.2,
                domains: vec![
                    DomainRecord {
                        name: "gpu:\"0\"".into(),
                        joules: 10.0,
                        provenance: Provenance::Counter,
                        uncertainty: 0.05,
                    },
                    DomainRecord {
                        name: "cpu-estimate".into(),
                        joules: 2.0,
                        provenance: Provenance::Estimated {
                            model: "a \\ model".into(),
                        },
                        uncertainty: 0.4,
                    },
                ],
            },
            metrics: [("acc".to_string(), Some(0.5)), ("loss".to_string(), None)].into(),
            forecast: None,
            decision: None,
            meta: Some(serde_json::json!({"x": 1})),
        };
        let text = serde_json::to_string(&rec).unwrap();
        let view: LineView<'_> = serde_json::from_str(&text).unwrap();
        assert_eq!(
            (view.kind, view.step, view.time_s),
            (RecordKind::Eval, 7, 1.5)
        );
        assert_eq!(view.energy.total_j, 12.0);
        assert_eq!(view.energy.total_uncertainty, 0.2);
        for (v, r) in view.energy.domains.iter().zip(&rec.energy.domains) {
            assert_eq!(v.name, r.name.as_str());
            assert_eq!(v.joules, r.joules);
            assert!(v.provenance.same_as(&r.provenance));
            assert_eq!(v.provenance.to_owned(), r.provenance);
        }
        assert_eq!(view.metrics.get("acc"), Some(&Some(0.5)));
        assert_eq!(view.metrics.get("loss"), Some(&None));
        assert_eq!(view.meta, rec.meta);
        // A minimal line, as older or hand-written logs have.
        let view: LineView<'_> =
            serde_json::from_str(r#"{"kind":"step","step":3,"time_s":0.1}"#).unwrap();
        assert!(view.energy.domains.is_empty() && view.metrics.is_empty());
    }
}
