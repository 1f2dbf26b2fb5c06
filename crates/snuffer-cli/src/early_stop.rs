//! The classic early-stopping flags of `snuffer replay` and `snuffer whatif` (`--policy
//! patience` / `--policy target`): every setting of the patience, target and divergence
//! policies, under Snuffer's names and the frameworks' (Keras, Lightning, the Hugging Face
//! Trainer), and the same settings as one `--early-stopping KEY=VALUE,...` string.
//!
//! `--compat keras|lightning|hf` follows that framework's semantics exactly (see
//! `snuffer_policy::compat` for the differences from Snuffer's own).

use anyhow::{bail, Context};
use snuffer_forecast::Direction;
use snuffer_policy::{
    AnyOf, Compat, Divergence, MinSteps, Patience, PatienceConfig, StopPolicy, Target,
    WithDirection,
};

/// Whose early-stopping semantics to follow (`--compat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CompatArg {
    /// Snuffer's own (the default).
    Snuffer,
    /// Keras 3's EarlyStopping.
    Keras,
    /// PyTorch Lightning's EarlyStopping and Trainer(min_steps).
    Lightning,
    /// The Hugging Face Trainer's EarlyStoppingCallback and eval_delay.
    #[value(alias = "transformers")]
    Hf,
}

impl From<CompatArg> for Compat {
    fn from(c: CompatArg) -> Self {
        match c {
            CompatArg::Snuffer => Compat::Snuffer,
            CompatArg::Keras => Compat::Keras,
            CompatArg::Lightning => Compat::Lightning,
            CompatArg::Hf => Compat::Hf,
        }
    }
}

/// Which way the monitored metric is better (`--mode`, Keras's and Lightning's name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ModeArg {
    /// Lower is better (a loss).
    #[value(alias = "lower")]
    Min,
    /// Higher is better (an accuracy).
    #[value(alias = "higher")]
    Max,
}

impl From<ModeArg> for Direction {
    fn from(m: ModeArg) -> Self {
        match m {
            ModeArg::Min => Direction::LowerIsBetter,
            ModeArg::Max => Direction::HigherIsBetter,
        }
    }
}

/// The early-stopping flags (shared by `replay` and `whatif`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct EarlyStopArgs {
    /// patience/target: follow this framework's early-stopping semantics exactly (thresholds,
    /// baseline, NaN handling, patience 0, default patience), e.g. `--compat keras`.
    #[arg(long, value_enum)]
    pub compat: Option<CompatArg>,
    /// patience: evaluations without improvement before stopping (0 acts as 1; under
    /// `--compat hf` 0 stops at the first evaluation). Default 5, or the framework's under
    /// --compat (keras 0, lightning 3, hf 1). E.g. `--patience 3`.
    #[arg(long, visible_alias = "early-stopping-patience")]
    pub patience: Option<u32>,
    /// patience: the absolute margin an improvement must exceed (Keras/Lightning min_delta,
    /// the Trainer's early_stopping_threshold), e.g. `--min-delta 0.001`.
    #[arg(
        long,
        visible_alias = "early-stopping-threshold",
        allow_negative_numbers = true
    )]
    pub min_delta: Option<f64>,
    /// patience: the margin as a fraction of |best| (Snuffer only), e.g.
    /// `--min-delta-relative 0.01` for 1 %.
    #[arg(long, conflicts_with = "min_delta", allow_negative_numbers = true)]
    pub min_delta_relative: Option<f64>,
    /// patience: only an improvement that also beats this value resets the wait (Keras's
    /// baseline), e.g. `--baseline 0.5`.
    #[arg(long, allow_negative_numbers = true)]
    pub baseline: Option<f64>,
    /// patience: ignore evaluations at steps ≤ N, the first N steps (Keras's
    /// start_from_epoch on curves whose steps count epochs, as Keras CSV logs import), e.g.
    /// `--start-from-epoch 2`.
    #[arg(
        long,
        visible_alias = "start-from-epoch",
        conflicts_with = "eval_delay"
    )]
    pub start_from: Option<u64>,
    /// patience: the Trainer's eval_delay: no evaluation counts before step N (the same as
    /// `--start-from N-1`), e.g. `--eval-delay 500`.
    #[arg(long)]
    pub eval_delay: Option<u64>,
    /// The value to reach: `--policy target` stops there; with `--policy patience` it stops
    /// there too (Lightning's stopping_threshold, strict under `--compat lightning`), e.g.
    /// `--target 0.95` or `--stopping-threshold 0.05`.
    #[arg(
        long,
        visible_alias = "stopping-threshold",
        allow_negative_numbers = true
    )]
    pub target: Option<f64>,
    /// Stop at once when the metric is worse than this (Lightning's divergence_threshold), e.g.
    /// `--divergence-threshold 10` for a loss.
    #[arg(
        long,
        visible_alias = "divergence-bound",
        allow_negative_numbers = true
    )]
    pub divergence_threshold: Option<f64>,
    /// Stop at once on a NaN or infinite metric (default on, off under `--compat keras|hf`),
    /// e.g. `--check-finite`.
    #[arg(long, overrides_with = "no_check_finite")]
    pub check_finite: bool,
    /// Do not stop on a NaN or infinite metric: it is then no improvement (Keras), e.g.
    /// `--no-check-finite`.
    #[arg(long, overrides_with = "check_finite")]
    pub no_check_finite: bool,
    /// Hold a stop asked for before step N until step N (Lightning's min_steps; its
    /// min_epochs is min_epochs × steps per epoch), e.g. `--min-steps 1000`.
    #[arg(long)]
    pub min_steps: Option<u64>,
    /// The same settings as KEY=VALUE pairs separated by commas (flags win), keys: compat,
    /// patience, min_delta, min_delta_relative, baseline, start_from, eval_delay, target,
    /// divergence_threshold, check_finite, min_steps, mode; with the frameworks' names as
    /// aliases. E.g. `--early-stopping compat=keras,patience=3,baseline=0.5`.
    #[arg(long)]
    pub early_stopping: Option<String>,
}

/// The resolved settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Semantics.
    pub compat: Compat,
    /// Patience.
    pub patience: u32,
    /// Absolute margin.
    pub min_delta: Option<f64>,
    /// Relative margin.
    pub min_delta_relative: Option<f64>,
    /// Baseline.
    pub baseline: Option<f64>,
    /// Steps ≤ this are ignored.
    pub start_from: u64,
    /// Target / stopping threshold.
    pub target: Option<f64>,
    /// Divergence bound.
    pub divergence_threshold: Option<f64>,
    /// Stop on NaN/inf.
    pub check_finite: bool,
    /// Stops held until this step.
    pub min_steps: Option<u64>,
    /// Monitored direction override.
    pub mode: Option<Direction>,
}

/// Which classic policy to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Patience (plus a target if one is given).
    Patience,
    /// Target (needs one).
    Target,
}

fn number(key: &str, v: &str) -> anyhow::Result<f64> {
    let x: f64 = v
        .trim()
        .parse()
        .with_context(|| format!("--early-stopping {key}: {v:?} is not a number"))?;
    Ok(x)
}

fn whole(key: &str, v: &str) -> anyhow::Result<u64> {
    v.trim().parse().with_context(|| {
        format!("--early-stopping {key}: {v:?} is not a whole number ≥ 0 (e.g. {key}=3)")
    })
}

impl EarlyStopArgs {
    /// The flags given, by name (for the error when the policy takes none of them).
    pub fn given(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        let mut add = |on: bool, name| {
            if on {
                v.push(name)
            }
        };
        add(self.compat.is_some(), "--compat");
        add(self.patience.is_some(), "--patience");
        add(self.min_delta.is_some(), "--min-delta");
        add(self.min_delta_relative.is_some(), "--min-delta-relative");
        add(self.baseline.is_some(), "--baseline");
        add(self.start_from.is_some(), "--start-from");
        add(self.eval_delay.is_some(), "--eval-delay");
        add(
            self.divergence_threshold.is_some(),
            "--divergence-threshold",
        );
        add(self.check_finite, "--check-finite");
        add(self.no_check_finite, "--no-check-finite");
        add(self.min_steps.is_some(), "--min-steps");
        add(self.early_stopping.is_some(), "--early-stopping");
        v
    }

    /// Flags and `--early-stopping` merged (flags win), defaults filled in.
    pub fn resolve(&self, mode: Option<Direction>) -> anyhow::Result<Settings> {
        let mut a = self.clone();
        let mut mode = mode;
        let mut check: Option<bool> = match (self.check_finite, self.no_check_finite) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        };
        if let Some(spec) = self.early_stopping.as_deref() {
            for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let Some((k, v)) = part.split_once('=') else {
                    bail!("--early-stopping expects KEY=VALUE pairs separated by commas, e.g. patience=3,min_delta=0.01; got {part:?}");
                };
                let key = k.trim().to_ascii_lowercase().replace('-', "_");
                let v = v.trim();
                match key.as_str() {
                    "compat" => {
                        let c: Compat = v.parse()?;
                        a.compat.get_or_insert(match c {
                            Compat::Snuffer => CompatArg::Snuffer,
                            Compat::Keras => CompatArg::Keras,
                            Compat::Lightning => CompatArg::Lightning,
                            Compat::Hf => CompatArg::Hf,
                        });
                    }
                    "patience" | "early_stopping_patience" => {
                        let p = whole(&key, v)?;
                        let p = u32::try_from(p).with_context(|| {
                            format!("--early-stopping {key}={v} is too large")
                        })?;
                        a.patience.get_or_insert(p);
                    }
                    "min_delta" | "early_stopping_threshold" => {
                        if a.min_delta_relative.is_none() {
                            a.min_delta.get_or_insert(number(&key, v)?);
                        }
                    }
                    "min_delta_relative" => {
                        if a.min_delta.is_none() {
                            a.min_delta_relative.get_or_insert(number(&key, v)?);
                        }
                    }
                    "baseline" => {
                        a.baseline.get_or_insert(number(&key, v)?);
                    }
                    "start_from" | "start_from_epoch" => {
                        if a.eval_delay.is_none() {
                            a.start_from.get_or_insert(whole(&key, v)?);
                        }
                    }
                    "eval_delay" => {
                        if a.start_from.is_none() {
                            a.eval_delay.get_or_insert(whole(&key, v)?);
                        }
                    }
                    "target" | "stopping_threshold" => {
                        a.target.get_or_insert(number(&key, v)?);
                    }
                    "divergence_threshold" | "divergence_bound" => {
                        a.divergence_threshold.get_or_insert(number(&key, v)?);
                    }
                    "check_finite" => {
                        let b = match v.to_ascii_lowercase().as_str() {
                            "true" | "1" | "yes" | "on" => true,
                            "false" | "0" | "no" | "off" => false,
                            _ => bail!("--early-stopping check_finite={v}: expected true or false"),
                        };
                        check.get_or_insert(b);
                    }
                    "min_steps" => {
                        a.min_steps.get_or_insert(whole(&key, v)?);
                    }
                    "mode" | "direction" | "greater_is_better" => {
                        let d = match v.to_ascii_lowercase().as_str() {
                            "min" | "lower" | "false" => Direction::LowerIsBetter,
                            "max" | "higher" | "true" => Direction::HigherIsBetter,
                            _ => bail!("--early-stopping {key}={v}: expected min or max"),
                        };
                        mode.get_or_insert(d);
                    }
                    _ => bail!(
                        "--early-stopping: unknown key {k:?}; the keys are compat, patience, min_delta, \
                         min_delta_relative, baseline, start_from, eval_delay, target, \
                         divergence_threshold, check_finite, min_steps, mode"
                    ),
                }
            }
        }
        let compat: Compat = a.compat.map(Compat::from).unwrap_or_default();
        for (name, v) in [
            ("--min-delta", a.min_delta),
            ("--min-delta-relative", a.min_delta_relative),
        ] {
            if let Some(d) = v.filter(|d| !(d.is_finite() && *d >= 0.0)) {
                bail!("{name} must be a finite margin ≥ 0, got {d}");
            }
        }
        for (name, v) in [
            ("--baseline", a.baseline),
            ("--target", a.target),
            ("--divergence-threshold", a.divergence_threshold),
        ] {
            if let Some(x) = v.filter(|x| !x.is_finite()) {
                bail!("{name} must be a finite metric value, got {x}");
            }
        }
        Ok(Settings {
            compat,
            patience: a.patience.unwrap_or(compat.default_patience()),
            min_delta: a.min_delta,
            min_delta_relative: a.min_delta_relative,
            baseline: a.baseline,
            start_from: match (a.start_from, a.eval_delay) {
                (Some(s), _) => s,
                (None, Some(d)) => d.saturating_sub(1),
                (None, None) => 0,
            },
            target: a.target,
            divergence_threshold: a.divergence_threshold,
            check_finite: check.unwrap_or(compat.check_finite_default()),
            min_steps: a.min_steps,
            mode,
        })
    }
}

impl Settings {
    /// The patience configuration.
    pub fn patience_config(&self) -> PatienceConfig {
        let mut c = PatienceConfig::new(self.patience)
            .with_start_from(self.start_from)
            .with_compat(self.compat);
        if let Some(d) = self.min_delta {
            c = c.with_min_delta(d);
        }
        if let Some(f) = self.min_delta_relative {
            c = c.with_min_delta_relative(f);
        }
        if let Some(b) = self.baseline {
            c = c.with_baseline(b);
        }
        c
    }

    /// The settings with every step setting multiplied by `scale` (the replay's
    /// [`snuffer_replay::replay::step_scale`] of a curve with fractional steps).
    pub fn scaled(&self, scale: f64) -> Settings {
        let s = |n: u64| (n as f64 * scale).round() as u64;
        Settings {
            start_from: s(self.start_from),
            min_steps: self.min_steps.map(s),
            ..self.clone()
        }
    }

    /// The same settings as `snuffer replay` flags (each preceded by a space).
    pub fn flags(&self) -> String {
        let mut f = format!(" --compat {} --patience {}", self.compat, self.patience);
        let mut add = |name: &str, v: Option<String>| {
            if let Some(v) = v {
                f.push_str(&format!(" --{name} {v}"));
            }
        };
        add("min-delta", self.min_delta.map(|x| x.to_string()));
        add(
            "min-delta-relative",
            self.min_delta_relative.map(|x| x.to_string()),
        );
        add("baseline", self.baseline.map(|x| x.to_string()));
        add(
            "start-from",
            (self.start_from > 0).then(|| self.start_from.to_string()),
        );
        add("target", self.target.map(|x| x.to_string()));
        add(
            "divergence-threshold",
            self.divergence_threshold.map(|x| x.to_string()),
        );
        add("min-steps", self.min_steps.map(|x| x.to_string()));
        add(
            "mode",
            self.mode.map(|d| match d {
                Direction::LowerIsBetter => "min".to_string(),
                Direction::HigherIsBetter => "max".to_string(),
            }),
        );
        f.push_str(if self.check_finite {
            " --check-finite"
        } else {
            " --no-check-finite"
        });
        f
    }

    /// The policy, composed in Lightning's order of checks: the non-finite check, the
    /// target (stopping threshold), the divergence bound, patience; monitored in `mode` when given, its stops
    /// held until `min_steps`.
    pub fn policy(&self, kind: Kind) -> anyhow::Result<Box<dyn StopPolicy>> {
        let mut any =
            AnyOf::new().with(Divergence::non_finite().with_check_finite(self.check_finite));
        match (kind, self.target) {
            (Kind::Target, None) => {
                bail!("--policy target needs --target VALUE (the metric value to reach)")
            }
            (_, Some(t)) => any = any.with(Target::new(t)?.with_compat(self.compat)),
            (Kind::Patience, None) => {}
        }
        if let Some(b) = self.divergence_threshold {
            let bound = Divergence::non_finite().with_check_finite(false);
            any = any.with(bound.with_bound(b)?);
        }
        if kind == Kind::Patience {
            any = any.with(Patience::new(self.patience_config())?);
        }
        let mut policy: Box<dyn StopPolicy> = Box::new(any);
        if let Some(d) = self.mode {
            policy = Box::new(WithDirection::new(policy, d));
        }
        if let Some(n) = self.min_steps {
            policy = Box::new(MinSteps::new(policy, n));
        }
        Ok(policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_string_fills_what_the_flags_leave_and_defaults_follow_compat() {
        let a = EarlyStopArgs {
            patience: Some(7),
            early_stopping: Some(
                "compat=keras, patience=2, start_from_epoch=3, baseline=0.5, mode=max".into(),
            ),
            ..EarlyStopArgs::default()
        };
        let s = a.resolve(None).unwrap();
        assert_eq!(s.compat, Compat::Keras);
        assert_eq!(s.patience, 7, "the flag wins");
        assert_eq!((s.start_from, s.baseline), (3, Some(0.5)));
        assert_eq!(s.mode, Some(Direction::HigherIsBetter));
        assert!(!s.check_finite, "Keras has no non-finite check");
        let hf = EarlyStopArgs {
            compat: Some(CompatArg::Hf),
            eval_delay: Some(10),
            ..EarlyStopArgs::default()
        };
        let s = hf.resolve(None).unwrap();
        assert_eq!((s.patience, s.start_from, s.check_finite), (1, 9, false));
        let plain = EarlyStopArgs::default().resolve(None).unwrap();
        assert_eq!((plain.patience, plain.check_finite), (5, true));
        assert!(plain.policy(Kind::Patience).is_ok());
        assert!(plain.policy(Kind::Target).is_err());
    }

    proptest::proptest! {
        /// Any `--early-stopping` string resolves or is an error naming the flag; never a panic.
        #[test]
        fn any_string_resolves_or_names_the_flag(spec in "[a-z_=,0-9.\\- ]{0,40}") {
            let a = EarlyStopArgs {
                early_stopping: Some(spec.clone()),
                ..EarlyStopArgs::default()
            };
            if let Err(e) = a.resolve(None) {
                let e = format!("{e:#}");
                proptest::prop_assert!(e.contains("--early-stopping") || e.contains("--min-delta")
                    || e.contains("--baseline") || e.contains("--target")
                    || e.contains("--divergence") || e.contains("compat"), "{}: {}", spec, e);
            }
        }
    }

    #[test]
    fn nonsense_is_named() {
        for (spec, want) in [
            ("patience", "KEY=VALUE"),
            ("nope=1", "unknown key"),
            ("patience=-1", "patience"),
            ("min_delta=x", "min_delta"),
            ("check_finite=maybe", "check_finite"),
            ("compat=tf2", "compat"),
            ("min_delta=-1", "--min-delta"),
        ] {
            let a = EarlyStopArgs {
                early_stopping: Some(spec.into()),
                ..EarlyStopArgs::default()
            };
            let e = format!("{:#}", a.resolve(None).unwrap_err());
            assert!(e.contains(want), "{spec}: {e}");
        }
        let bad = EarlyStopArgs {
            compat: Some(CompatArg::Lightning),
            baseline: Some(0.5),
            ..EarlyStopArgs::default()
        };
        let e = bad
            .resolve(None)
            .unwrap()
            .policy(Kind::Patience)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("baseline"), "{e}");
    }
}
