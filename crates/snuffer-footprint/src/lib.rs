//! Footprint placeholder.
