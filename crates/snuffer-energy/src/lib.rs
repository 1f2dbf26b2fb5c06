//! Energy measurement for training loops.
//!
//! (crate docs: to be completed by the energy work — open with a runnable example.)
#![deny(missing_docs)]

mod meter;
mod provenance;
mod units;

pub use meter::{DomainEnergy, Meter};
pub use provenance::Provenance;
pub use units::{Joules, Watts, JOULES_PER_KWH};

/// Errors from meters and the sampler.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnergyError {
    /// A source could not be read.
    #[error("{source_name}: {message}")]
    Unavailable {
        /// The meter.
        source_name: String,
        /// What went wrong and what to do.
        message: String,
    },
}
