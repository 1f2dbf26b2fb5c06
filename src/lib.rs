//! Snuffer: stop training runs that have stopped paying for their energy.
//!
//! (crate docs: to be completed — open with a runnable example.)
#![deny(missing_docs)]

pub mod format;

pub use snuffer_energy as energy;
pub use snuffer_footprint as footprint;
pub use snuffer_forecast as forecast;
pub use snuffer_policy as policy;
