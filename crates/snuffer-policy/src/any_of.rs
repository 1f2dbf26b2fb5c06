//! [`AnyOf`]: stop as soon as any member policy says so, reporting the first reason.

use crate::{Decision, Observation, StopPolicy, Warning};

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
}
