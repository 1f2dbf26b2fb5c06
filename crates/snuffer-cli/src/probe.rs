//! `snuffer probe` (not implemented yet).

/// Arguments of `snuffer probe`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Run the command; returns the exit code.
pub fn run(_args: Args) -> anyhow::Result<u8> {
    anyhow::bail!("`snuffer probe` is not implemented yet")
}
