//! `snuffer forecast` (not implemented yet).

/// Arguments of `snuffer forecast`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Run the command; returns the exit code.
pub fn run(_args: Args) -> anyhow::Result<u8> {
    anyhow::bail!("`snuffer forecast` is not implemented yet")
}
