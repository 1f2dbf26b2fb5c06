//! Report placeholder.
