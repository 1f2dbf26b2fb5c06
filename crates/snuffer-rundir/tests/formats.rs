//! Both format versions read, and the summary parser holds up to anything.

use proptest::prelude::*;
use snuffer_energy::Provenance;
use snuffer_rundir::{
    parse_summary, read_steps, read_summary, write_summary, Action, DecisionRecord, DomainTotal,
    LogFacts, RunState, RunStatus, Summary, FORMAT_VERSION,
};
use std::path::Path;

const V1: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/v1-run");
/// Written by the tracker before its records were typed (`json!` maps; commit 2fc05d4, the
/// quickstart's early-stopped run, cut to its start line, two step lines, the last two
/// evaluations and the end line).
const V2_UNTYPED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/v2-untyped-run");

/// The typed start meta, end meta and summary extra read every key the untyped tracker
/// wrote, and write them back with the same keys and values.
#[test]
fn untyped_format_2_records_read_typed_and_write_back_the_same() -> anyhow::Result<()> {
    use snuffer_rundir::{EndMeta, StartMeta, SummaryExtra};
    let log = read_steps(Path::new(V2_UNTYPED).join("steps.jsonl"))?;
    let meta = log.meta().expect("a start line").clone();
    let start = StartMeta::from_value(&meta);
    assert_eq!(start.run_name.as_deref(), Some("quickstart-snuffer"));
    assert_eq!(
        (start.planned_steps, start.higher_is_better),
        (Some(6000), Some(true))
    );
    assert_eq!(
        start.bounds.map(|b| (b.lower, b.upper)),
        Some((Some(0.0), Some(1.0)))
    );
    assert_eq!(start.skipped.len(), 2);
    assert_eq!(start.to_value(), meta, "every key and value, back");

    let end = log
        .records
        .last()
        .and_then(|r| r.meta.clone())
        .expect("an end meta");
    let typed: EndMeta = serde_json::from_value(end.clone())?;
    assert_eq!(
        typed,
        EndMeta {
            finished: true,
            stop_step: Some(1100)
        }
    );
    assert_eq!(typed.to_value(), end);

    let raw: serde_json::Value =
        serde_json::from_slice(&std::fs::read(Path::new(V2_UNTYPED).join("summary.json"))?)?;
    let summary = read_summary(V2_UNTYPED)?.expect("a summary");
    let extra: SummaryExtra = summary.extra.clone().expect("an extra block");
    assert!(
        extra.other.is_empty(),
        "no key left untyped: {:?}",
        extra.other
    );
    assert_eq!((extra.stop_step, extra.evaluations), (Some(1100), Some(11)));
    assert_eq!(summary.stop_step(), Some(1100));
    assert!(extra.tau.is_some_and(|t| t > 0.0) && extra.tau_basis.is_some());
    assert_eq!(serde_json::to_value(&extra)?, raw["extra"]);
    assert_eq!(
        serde_json::to_value(&summary)?,
        raw,
        "the whole summary, back"
    );
    Ok(())
}

/// A run directory written by the format-1 tracker (commit 2e35c4f: a patience stop, a
/// footprint for FR, a constant 50 W meter).
#[test]
fn format_1_directories_read_unchanged() -> anyhow::Result<()> {
    let summary = read_summary(V1)?.expect("the fixture has a summary");
    assert_eq!(summary.format_version, 1);
    assert_eq!(summary.steps, 260);
    // `estimated_saved_j` in format 1 is the forecast saving.
    assert!((summary.forecast_saved_j.unwrap() - 7.333653173686432).abs() < 1e-12);
    let footprint = summary.footprint.as_ref().expect("a typed footprint");
    assert_eq!(footprint.intensity.country_iso_code.as_deref(), Some("FRA"));
    let stop = summary.stop.as_ref().expect("a stop");
    assert_eq!(
        (stop.action, stop.policy.as_deref()),
        (Action::Stop, Some("patience"))
    );
    assert_eq!(stop.number("wait"), Some(3.0));

    let log = read_steps(Path::new(V1).join("steps.jsonl"))?;
    assert!(!log.truncated && log.has_end());
    assert_eq!(log.evals().count(), 13);
    let stops: Vec<_> = log
        .evals()
        .filter_map(|e| e.decision.as_ref().filter(|d| d.is_stop()))
        .collect();
    assert_eq!(stops.len(), 1);
    assert_eq!(stops[0].number("best_step"), Some(200.0));

    let mut facts = LogFacts::default();
    snuffer_rundir::read_steps_with(Path::new(V1).join("steps.jsonl"), |l| facts.absorb(&l))?;
    let status = RunStatus::assess(Path::new(V1), Some(&summary), Some(&facts));
    assert_eq!(
        status.state,
        RunState::Stopped {
            step: 260,
            policy: "patience".into()
        }
    );
    assert!(
        status.disagreements.is_empty(),
        "{:?}",
        status.disagreements
    );
    assert_eq!(
        facts.start.and_then(|s| s.metric_name).as_deref(),
        Some("val_acc")
    );
    Ok(())
}

#[test]
fn a_summary_round_trips_and_a_newer_format_is_refused() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut s = read_summary(V1)?.expect("fixture");
    s.format_version = FORMAT_VERSION;
    write_summary(dir.path(), &s)?;
    assert_eq!(read_summary(dir.path())?, Some(s.clone()));
    let text = std::fs::read_to_string(dir.path().join("summary.json"))?;
    assert!(text.contains("\"forecast_saved_j\"") && !text.contains("estimated_saved_j"));

    s.format_version = FORMAT_VERSION + 1;
    let bytes = serde_json::to_vec(&s)?;
    let err = parse_summary(&bytes, Path::new("summary.json")).unwrap_err();
    assert!(err.to_string().contains("upgrade Snuffer"), "{err}");
    assert_eq!(read_summary(dir.path().join("nothing-here"))?, None);
    Ok(())
}

fn summary_strategy() -> impl Strategy<Value = Summary> {
    (
        ("[a-z -]{0,12}", any::<u64>(), proptest::option::of(any::<u64>())),
        (any::<bool>(), proptest::num::f64::POSITIVE, 0.0f64..1.0),
        proptest::collection::vec(("[a-z:0-9]{1,8}", 0.0f64..1e9), 0..4),
        (
            proptest::option::of(proptest::num::f64::NORMAL),
            proptest::option::of(0.0f64..1e9),
            any::<bool>(),
        ),
    )
        .prop_map(|((name, steps, planned), (finished, energy, u), domains, (best, saved, stop))| Summary {
            format_version: FORMAT_VERSION,
            run_name: name,
            started_at: "2026-11-30T10:00:00Z".into(),
            duration_s: energy / 7.0,
            steps,
            planned_steps: planned,
            finished,
            energy_j: energy,
            energy_uncertainty: u,
            provenance: Provenance::IntegratedPower,
            domains: domains
                .into_iter()
                .map(|(n, j)| DomainTotal {
                    name: n,
                    joules: j,
                    provenance: Provenance::Estimated { model: "x \"y\"".into() },
                    uncertainty: u,
                })
                .collect(),
            metric_name: "val_acc".into(),
            higher_is_better: true,
            best_step: planned,
            best_metric: best,
            stop: stop.then(|| DecisionRecord {
                action: Action::Stop,
                policy: Some("marginal_gain".into()),
                message: Some("below τ".into()),
                evidence: serde_json::json!({"kind": "marginal_gain", "tau_per_kwh": energy, "level": "NaN"})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
                warnings: Vec::new(),
            }),
            forecast_full_metric: None,
            forecast_full_energy_j: saved.map(|s| s + energy),
            forecast_saved_j: saved,
            footprint: None,
            extra: Some(snuffer_rundir::SummaryExtra {
                stop_step: Some(steps),
                ..Default::default()
            }),
        })
}

proptest! {
    /// Arbitrary bytes give a summary or an error naming the file, never a panic.
    #[test]
    fn the_summary_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        if let Err(e) = parse_summary(&bytes, Path::new("s.json")) {
            prop_assert!(e.to_string().contains("s.json"));
        }
    }

    /// Near-misses of a real summary (a field cut, a value swapped) never panic either.
    #[test]
    fn mangled_summaries_never_panic(cut in 0usize..4000, junk in "[\\[\\]{}\",:0-9a-z]{0,6}") {
        let text = std::fs::read_to_string(Path::new(V1).join("summary.json")).unwrap();
        let cut = cut.min(text.len());
        let cut = (0..=cut).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
        let mangled = format!("{}{junk}{}", &text[..cut], &text[cut..]);
        let _ = parse_summary(mangled.as_bytes(), Path::new("s.json"));
    }

    /// What is written reads back equal, every number bit for bit.
    #[test]
    fn summaries_round_trip(s in summary_strategy()) {
        let bytes = serde_json::to_vec_pretty(&s).unwrap();
        let back = parse_summary(&bytes, Path::new("s.json")).unwrap();
        prop_assert_eq!(back, s);
    }
}
