//! A learned learning-curve prior for Snuffer.
//!
//! * [`generator`]: the synthetic prior — learning curves like real training produces, with
//!   the share of each kind explicit ([`generator::Mixture`]).
#![deny(missing_docs)]

pub mod generator;
