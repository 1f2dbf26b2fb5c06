//! End-to-end tests of `snuffer footprint` and `snuffer plan`, running the built binary.

use std::process::{Command, Output};

fn snuffer(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_snuffer"))
        .args(args)
        .output()
        .expect("the snuffer binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> anyhow::Result<serde_json::Value> {
    assert!(o.status.success(), "failed: {}", stderr(o));
    Ok(serde_json::from_slice(&o.stdout)?)
}

fn close(v: &serde_json::Value, want: f64) -> bool {
    v.as_f64()
        .is_some_and(|x| (x - want).abs() < 1e-9 * want.abs().max(1.0))
}

#[test]
fn footprint_region_json_names_units() -> anyhow::Result<()> {
    // 10 kWh × PUE 1.2 × 56 g/kWh (FR, 2023) = 672 g; water 10 × 0.5 = 5 L.
    let o = snuffer(&[
        "footprint",
        "--kwh",
        "10",
        "--region",
        "fr",
        "--pue",
        "1.2",
        "--wue",
        "0.5",
        "--json",
    ]);
    let v = json(&o)?;
    assert!(close(&v["operational"]["co2e_g"], 672.0), "{v}");
    assert!(close(&v["operational"]["co2e_g_sd"], 672.0 * 0.15), "{v}");
    assert!(close(&v["facility_energy_kwh"], 12.0), "{v}");
    assert!(close(&v["water"]["water_l"], 5.0), "{v}");
    assert_eq!(v["intensity"]["country_iso_code"], "FRA");
    Ok(())
}

#[test]
fn footprint_fixed_intensity_and_text_output() {
    // 2 kWh at 250 g/kWh = 500 g.
    let o = snuffer(&["footprint", "--kwh", "2", "--intensity", "250"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    // The one formatter: three significant digits (issue 19: not `500.000 ± 0.000 g`).
    assert!(out.contains("500 ± 0 g CO2e"), "{out}");
    assert!(out.contains("2.00 kWh from the grid"), "{out}");
}

#[test]
fn footprint_mix_and_embodied() -> anyhow::Result<()> {
    // Half coal (820), half wind (11): 415.5 g/kWh × 1 kWh.
    // 8 × H100 (164 kg, 4 years = 35 064 h) for 2 h: 8·2·164 000/35 064 g.
    let o = snuffer(&[
        "footprint",
        "--kwh",
        "1",
        "--mix",
        "coal=1,wind=1",
        "--duration",
        "2h",
        "--hardware",
        "h100=8",
        "--json",
    ]);
    let v = json(&o)?;
    assert!(close(&v["operational"]["co2e_g"], 415.5), "{v}");
    let emb = 8.0 * 2.0 * 164_000.0 / 35_064.0;
    assert!(close(&v["embodied"]["co2e_g"], emb), "{v}");
    assert!(
        close(&v["operational_plus_embodied"]["co2e_g"], 415.5 + emb),
        "{v}"
    );
    Ok(())
}

#[test]
fn footprint_bad_inputs_are_clear_errors() {
    let cases: &[(&[&str], &str)] = &[
        (&["footprint", "--kwh", "-1"], "≥ 0"),
        (&["footprint", "--kwh", "NaN"], "≥ 0"),
        (&["footprint", "--kwh", "1", "--pue", "0.8"], "PUE"),
        (
            &["footprint", "--kwh", "1", "--intensity", "-5"],
            "carbon intensity",
        ),
        (
            &["footprint", "--kwh", "1", "--region", "FX"],
            "closest known: FI, FR",
        ),
        (
            &[
                "footprint",
                "--kwh",
                "1",
                "--hardware",
                "toaster",
                "--duration",
                "1h",
            ],
            "preset",
        ),
    ];
    for (args, needle) in cases {
        let o = snuffer(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stdout(&o));
        let err = stderr(&o);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    // clap refuses contradictory flags.
    let o = snuffer(&[
        "footprint",
        "--kwh",
        "1",
        "--region",
        "FR",
        "--intensity",
        "3",
    ]);
    assert!(!o.status.success());
}

#[test]
fn footprint_lists_regions() {
    let o = snuffer(&["footprint", "--list-regions"]);
    assert!(o.status.success());
    let out = stdout(&o);
    assert!(
        out.contains("PL") && out.contains("662") && out.contains("world average"),
        "{out}"
    );
}

const SERIES: &str = "timestamp,carbon_intensity_g_per_kwh\n\
2024-05-01T00:00:00Z,400\n\
2024-05-01T01:00:00Z,300\n\
2024-05-01T02:00:00Z,100\n\
2024-05-01T03:00:00Z,50\n\
2024-05-01T04:00:00Z,500\n\
2024-05-01T05:00:00Z,200\n";

#[test]
fn plan_hand_computed_case() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("intensity.csv");
    std::fs::write(&path, SERIES)?;
    let p = path.to_str().unwrap_or_default();
    // 3 kWh over 90 min. Now (00:00): 1 h at 400 + 0.5 h at 300 → mean 366.67 → 1 100 g.
    // Best: 02:30–04:00, 0.5 h at 100 + 1 h at 50 → mean 66.67 → 200 g.
    let o = snuffer(&[
        "plan",
        "--intensity",
        p,
        "--energy-kwh",
        "3",
        "--duration",
        "90m",
        "--now",
        "2024-05-01T00:00:00Z",
        "--json",
    ]);
    let v = json(&o)?;
    assert_eq!(v["best_start"], "2024-05-01T02:30:00Z");
    assert!(close(&v["emissions_best_co2e_g"], 200.0), "{v}");
    assert!(close(&v["emissions_now_co2e_g"], 1100.0), "{v}");
    assert!(close(&v["saved_co2e_g"], 900.0), "{v}");

    // A deadline at 02:00 leaves 00:00–00:30: best is 00:30–02:00 (0.5·400 + 1·300 = 500 → 1 000 g).
    let o = snuffer(&[
        "plan",
        "--intensity",
        p,
        "--energy-kwh",
        "3",
        "--duration",
        "90m",
        "--now",
        "2024-05-01T00:00:00Z",
        "--deadline",
        "2024-05-01T02:00:00Z",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("best start  2024-05-01T00:30:00Z"), "{out}");
    assert!(out.contains("1.00 kg CO2e"), "{out}");

    // Without --now, a historical series is planned from its start, with a note.
    let o = snuffer(&[
        "plan",
        "--intensity",
        p,
        "--energy-kwh",
        "3",
        "--duration",
        "90m",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("outside the series"));
    Ok(())
}

#[test]
fn plan_errors_name_the_problem() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let good = dir.path().join("good.csv");
    std::fs::write(&good, SERIES)?;
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "timestamp,g\n2024-05-01T00:00:00Z,400\n2024-05-01 noon,300\n",
    )?;
    let g = good.to_str().unwrap_or_default();
    let b = bad.to_str().unwrap_or_default();
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "plan",
                "--intensity",
                b,
                "--energy-kwh",
                "1",
                "--duration",
                "1h",
            ],
            "line 3",
        ),
        (
            &[
                "plan",
                "--intensity",
                g,
                "--energy-kwh",
                "-2",
                "--duration",
                "1h",
            ],
            "≥ 0",
        ),
        (
            &[
                "plan",
                "--intensity",
                g,
                "--energy-kwh",
                "1",
                "--duration",
                "7h",
            ],
            "cannot finish",
        ),
        (
            &[
                "plan",
                "--intensity",
                g,
                "--energy-kwh",
                "1",
                "--duration",
                "soon",
            ],
            "90m",
        ),
        (
            &[
                "plan",
                "--intensity",
                g,
                "--energy-kwh",
                "1",
                "--duration",
                "1h",
                "--deadline",
                "tomorrow",
            ],
            "RFC 3339",
        ),
        (
            &[
                "plan",
                "--intensity",
                "/nonexistent/x.csv",
                "--energy-kwh",
                "1",
                "--duration",
                "1h",
            ],
            "cannot read",
        ),
    ];
    for (args, needle) in cases {
        let o = snuffer(args);
        assert!(!o.status.success(), "{args:?} succeeded");
        let err = stderr(&o);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    Ok(())
}

/// Huge but finite inputs: each is a clear error naming what overflowed, never `inf`.
#[test]
fn extreme_values_are_errors_naming_the_input() -> anyhow::Result<()> {
    let rows: [(&[&str], &[&str]); 3] = [
        (
            &["footprint", "--kwh", "1e300", "--intensity", "1e300"],
            &["operational CO2e overflows", "1e300 kWh", "1e300 g/kWh"],
        ),
        (
            &["footprint", "--kwh", "1e308", "--region", "FR"],
            &["--energy-kwh 1e308: too large", "4.99e301 kWh"],
        ),
        (
            &[
                "footprint",
                "--kwh",
                "1",
                "--mix",
                "coal=1e308,gas=1e308",
                "--json",
            ],
            &[],
        ),
    ];
    for (args, needles) in rows {
        let o = snuffer(args);
        let text = format!("{}{}", stdout(&o), stderr(&o));
        assert!(!text.contains("inf"), "{args:?}: {text}");
        if needles.is_empty() {
            // Shares near 1e308 normalise to a 50/50 mix, not to zero.
            let v = json(&o)?;
            assert!(
                close(&v["intensity"]["g_per_kwh"], 0.5 * 820.0 + 0.5 * 490.0),
                "{v}"
            );
            continue;
        }
        assert_eq!(o.status.code(), Some(2), "{args:?}: {text}");
        for n in needles {
            assert!(text.contains(n), "{args:?}: missing {n:?} in {text}");
        }
    }
    let dir = tempfile::tempdir()?;
    let csv = dir.path().join("huge.csv");
    let mut text = String::from("timestamp,g_per_kwh\n");
    for h in 0..6 {
        text.push_str(&format!("2024-05-01T{h:02}:00:00Z,1e308\n"));
    }
    std::fs::write(&csv, text)?;
    let o = snuffer(&[
        "plan",
        "--intensity",
        csv.to_str().unwrap_or_default(),
        "--energy-kwh",
        "1",
        "--duration",
        "1h",
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("line 2") && err.contains("1e308 g/kWh"),
        "{err}"
    );
    assert!(!stdout(&o).contains("inf"), "{}", stdout(&o));
    Ok(())
}

/// An hourly series with a 20-hour hole after a clean hour: the plan used to start inside
/// the hole, holding that one value for the whole run, and said nothing.
#[test]
fn plan_never_starts_inside_a_gap_and_says_so() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let csv = dir.path().join("gap.csv");
    let mut text = String::from("timestamp,g_per_kwh\n");
    for (h, g) in [(0, 500), (1, 500), (2, 500), (3, 500), (4, 10)] {
        text.push_str(&format!("2024-05-01T{h:02}:00:00Z,{g}\n"));
    }
    for h in 0..6 {
        text.push_str(&format!("2024-05-02T{h:02}:00:00Z,200\n"));
    }
    std::fs::write(&csv, text)?;
    let path = csv.to_str().unwrap_or_default();
    let args = |now: &'static str, json: bool| {
        let mut a = vec![
            "plan",
            "--intensity",
            path,
            "--energy-kwh",
            "1",
            "--duration",
            "3h",
            "--now",
            now,
        ];
        if json {
            a.push("--json");
        }
        a
    };
    let v = json(&snuffer(&args("2024-05-01T00:00:00Z", true)))?;
    assert_eq!(v["best_start"], "2024-05-02T00:00:00Z", "{v}");
    assert!(close(&v["mean_intensity_best_g_per_kwh"], 200.0), "{v}");
    assert_eq!(v["gaps"][0]["start"], "2024-05-01T05:00:00Z", "{v}");
    assert_eq!(v["gaps"][0]["end"], "2024-05-02T00:00:00Z", "{v}");
    let o = snuffer(&args("2024-05-01T00:00:00Z", false));
    assert!(
        stdout(&o).contains("no intensity data from 2024-05-01T05:00:00Z to 2024-05-02T00:00:00Z"),
        "{}",
        stdout(&o)
    );
    let o = snuffer(&args("2024-05-01T03:00:00Z", false));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no data from"), "{}", stderr(&o));
    Ok(())
}

/// The current time inside a gap is not "outside the series": the plan says which gap.
#[test]
fn plan_from_now_inside_a_gap_names_the_gap() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let csv = dir.path().join("gap-now.csv");
    let now = chrono::Utc::now();
    let mut text = String::from("timestamp,g_per_kwh\n");
    for h in [-4i64, -3, -2, 20, 21, 22, 23] {
        let t = now + chrono::Duration::hours(h);
        text.push_str(&format!("{},300\n", t.format("%Y-%m-%dT%H:%M:%SZ")));
    }
    std::fs::write(&csv, text)?;
    let o = snuffer(&[
        "plan",
        "--intensity",
        csv.to_str().unwrap_or_default(),
        "--energy-kwh",
        "1",
        "--duration",
        "1h",
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("the run starting now") && err.contains("no data from"),
        "{err}"
    );
    assert!(!err.contains("outside the series"), "{err}");
    Ok(())
}
