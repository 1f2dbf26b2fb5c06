//! [`AnyOf`]: stop as soon as any member policy says so, reporting the first reason.

use crate::{Decision, GainCheck, Observation, StopPolicy, Warning};

/// Composition: every member sees every observation (so each keeps its history), and the
/// first member, in insertion order, that says stop gives the reason.
#[derive(Default)]
pub struct AnyOf {
    members: Vec<Box<dyn StopPolicy>>,
}

impl std::fmt::Debug for AnyOf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.members.iter().map(|m| m.name()))
            .finish()
    }
}

impl AnyOf {
    /// No members (never stops).
    pub fn new() -> Self {
        AnyOf::default()
    }

    /// Add a member; earlier members win ties.
    #[allow(clippy::should_implement_trait)]
    pub fn with<P: StopPolicy + 'static>(mut self, policy: P) -> Self {
        self.members.push(Box::new(policy));
        self
    }

    /// Add a boxed member.
    pub fn push(&mut self, policy: Box<dyn StopPolicy>) {
        self.members.push(policy);
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// True without members.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }
}

impl StopPolicy for AnyOf {
    fn observe(&mut self, obs: &Observation<'_>) -> Decision {
        let mut first = None;
        for m in &mut self.members {
            let d = m.observe(obs);
            if first.is_none() && d.is_stop() {
                first = Some(d);
            }
        }
        first.unwrap_or(Decision::Continue)
    }

    fn name(&self) -> &str {
        "any_of"
    }

    fn reset(&mut self) {
        self.members.iter_mut().for_each(|m| m.reset());
    }

    fn take_warnings(&mut self) -> Vec<Warning> {
        self.members
            .iter_mut()
            .flat_map(|m| m.take_warnings())
            .collect()
    }

    fn note(&self) -> Option<String> {
        self.members.iter().find_map(|m| m.note())
    }

    /// The first member's τ that has one.
    fn tau(&self) -> Option<crate::Tau> {
        self.members.iter().find_map(|m| m.tau())
    }

    /// The most recent check among the members (the first member's on a tie).
    fn gain_check(&self) -> Option<GainCheck> {
        self.members.iter().filter_map(|m| m.gain_check()).fold(
            None,
            |acc: Option<GainCheck>, c| match acc {
                Some(a) if a.step >= c.step => Some(a),
                _ => Some(c),
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::test_support::stop_index;
    use crate::{Divergence, Patience, PatienceConfig, Target};

    #[test]
    fn tau_is_the_first_member_s_that_weighs_energy() -> Result<(), crate::PolicyError> {
        let marginal =
            crate::MarginalGain::new(crate::MarginalGainConfig::new(crate::Tau::Relative(0.1)))?;
        let any = AnyOf::new().with(Target::new(0.9)?).with(marginal);
        assert_eq!(any.tau(), Some(crate::Tau::Relative(0.1)));
        assert_eq!(AnyOf::new().with(Target::new(0.9)?).tau(), None);
        Ok(())
    }
    use snuffer_forecast::Direction::HigherIsBetter as Up;

    #[test]
    fn first_reason_in_order_wins_and_all_members_observe() {
        // At index 1 both fire: 0.1 is no improvement (patience 1) and below the bound 0.2.
        let metrics = [0.5, 0.1];
        let first = |p: &mut AnyOf| -> Option<String> {
            metrics.iter().enumerate().find_map(|(i, &m)| {
                let o = crate::policy::test_support::obs(i as u64 + 1, m, 1.0, 2, Up);
                p.observe(&o).reason().map(|r| r.policy.clone())
            })
        };
        let patience = || Patience::new(PatienceConfig::new(1)).unwrap();
        let bound = || Divergence::non_finite().with_bound(0.2).unwrap();
        let mut a = AnyOf::new().with(patience()).with(bound());
        assert_eq!(a.len(), 2);
        assert_eq!(first(&mut a).as_deref(), Some("patience"));
        let mut b = AnyOf::new().with(bound()).with(patience());
        assert_eq!(first(&mut b).as_deref(), Some("divergence"));
        // Members observe even after an earlier member fired: patience saw both points.
        let _ = Target::new(1.0);
        let mut q = AnyOf::new().with(Divergence::non_finite());
        assert_eq!(stop_index(&mut q, &[0.1, f64::NAN], Up), Some(1));
        assert_eq!(
            stop_index(&mut AnyOf::new(), &[f64::NAN], Up),
            None,
            "empty never stops"
        );
    }

    /// A policy outside this crate that weighs energy its own way: it checks at every
    /// evaluation, a rate of 1/step per kWh against τ = 0.1.
    struct Decay;

    impl StopPolicy for Decay {
        fn observe(&mut self, _obs: &Observation<'_>) -> Decision {
            Decision::Continue
        }
        fn gain_check(&self) -> Option<GainCheck> {
            Some(GainCheck {
                step: 7.0,
                gain_rate_per_kwh: 1.0 / 7.0,
                tau_per_kwh: 0.1,
                log_scale: false,
                consecutive: 0,
                evidence: crate::Evidence::other(&[("rate", 1.0 / 7.0)]),
            })
        }
    }

    #[test]
    fn the_latest_gain_check_of_any_member_policy_is_reported() {
        let marginal = |step: f64| -> GainCheck {
            crate::MarginalEvidence {
                step,
                best: 0.5,
                tau_per_kwh: 0.1,
                gain_rate_per_kwh: 0.05,
                expected_gain: 0.01,
                horizon_step: 10.0,
                horizon_kwh: 0.2,
                energy_share: 0.5,
                surprise_share: 1.0,
                consecutive: 2,
                log_scale: true,
            }
            .into()
        };
        struct Fixed(GainCheck);
        impl StopPolicy for Fixed {
            fn observe(&mut self, _obs: &Observation<'_>) -> Decision {
                Decision::Continue
            }
            fn gain_check(&self) -> Option<GainCheck> {
                Some(self.0.clone())
            }
        }
        let m = marginal(5.0);
        assert!(m.below_tau() && m.log_scale && m.consecutive == 2);
        assert_eq!(m.marginal().map(|e| e.expected_gain), Some(0.01));
        // The other policy's check (step 7) is newer than the marginal one (step 5).
        let a = AnyOf::new().with(Fixed(m.clone())).with(Decay);
        let got = a.gain_check().expect("a check");
        assert_eq!(got.step, 7.0);
        assert!(!got.below_tau() && got.marginal().is_none());
        // A tie goes to the first member; members without checks are passed over.
        let b = AnyOf::new()
            .with(Divergence::non_finite())
            .with(Fixed(marginal(7.0)))
            .with(Decay);
        assert!(b.gain_check().expect("a check").marginal().is_some());
        assert_eq!(
            AnyOf::new().with(Divergence::non_finite()).gain_check(),
            None
        );
    }
}
