//! The one error type of this crate.

/// Everything that can go wrong in this crate: configuring a policy.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// A policy or replay setting is out of its domain.
    #[error("invalid setting `{name}` = {value}: {expected}")]
    InvalidSetting {
        /// The setting.
        name: String,
        /// The offending value, as text.
        value: String,
        /// What is allowed.
        expected: String,
    },
}
