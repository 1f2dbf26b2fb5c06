//! `snuffer report` (not implemented yet).

/// Arguments of `snuffer report`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Run the command; returns the exit code.
pub fn run(_args: Args) -> anyhow::Result<u8> {
    anyhow::bail!("`snuffer report` is not implemented yet")
}
