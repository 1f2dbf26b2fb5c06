//! The `snuffer` command line.
//!
//! Each subcommand lives in its own module with its clap `Args` and a `run`
//! function returning the process exit code; this file only dispatches and
//! prints errors with their whole chain.
//!
//! Output to a closed pipe (`snuffer footprint --list-regions | head -1`) ends the
//! process quietly, as it does for `cat` or `grep`: see [`quiet_on_closed_pipe`]. Output
//! that cannot be written (a full disk) ends it with an error: see [`output`].

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// `print!` for this crate: standard output through [`output::print_args`], so that a
/// failed write (a full disk) ends the command with a clear error instead of a panic.
/// Declared before the modules, it is the `print!` every one of them uses.
macro_rules! print {
    ($($arg:tt)*) => {
        $crate::output::print_args(format_args!($($arg)*))
    };
}

/// `println!` for this crate: see `print!`.
macro_rules! println {
    () => {
        $crate::output::print_args(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::output::print_args(format_args!("{}\n", format_args!($($arg)*)))
    };
}

mod output;

mod compare;
mod early_stop;
mod footprint;
mod forecast;
mod marginal;
mod measure;
mod numbers;
mod pipeline;
mod plan;
mod prior_method;
mod probe;
mod replay;
mod report;
mod tuning_arg;
mod values;
mod whatif;

/// Snuffer: stop training runs that have stopped paying for their energy.
#[derive(Debug, Parser)]
#[command(name = "snuffer", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List every energy meter found or skipped (with why), and current power per domain.
    Probe(probe::Args),
    /// Run a command and report the energy it used, per domain.
    Measure(measure::Args),
    /// Forecast the final metric of recorded learning curves from their first part.
    Forecast(forecast::Args),
    /// Apply a stop policy to recorded learning curves and score it against the oracle.
    Replay(replay::Args),
    /// Convert energy into CO2e and water.
    Footprint(footprint::Args),
    /// Find the start time that minimises a run's emissions.
    Plan(plan::Args),
    /// Write an HTML report with plots for a run directory.
    Report(report::Args),
    /// Compare run directories side by side.
    Compare(compare::Args),
    /// What would Snuffer have saved on runs you already have? Replay training logs.
    Whatif(whatif::Args),
}

/// Restore the default action of SIGPIPE, which the Rust runtime ignores.
///
/// With SIGPIPE ignored, a write to a pipe whose reader has gone (`| head`) returns
/// `BrokenPipe` and `println!` panics with a backtrace ("failed printing to stdout"). With
/// the default action the kernel ends the process quietly at that write, as for every
/// Unix filter, whichever subcommand (present or future) was writing and on whichever
/// thread. The shell sees status 141 (128 + SIGPIPE). Sockets are not affected: the
/// standard library writes to them with `MSG_NOSIGNAL`, so a Prometheus client that hangs
/// up never ends `snuffer measure`. Children started by `snuffer measure` get the default
/// action anyway (the standard library resets it before `exec`).
fn quiet_on_closed_pipe() {
    // SAFETY: installing SIG_DFL has no memory-safety preconditions; it runs first in
    // `main`, before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() -> ExitCode {
    quiet_on_closed_pipe();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Probe(a) => probe::run(a),
        Command::Measure(a) => measure::run(a),
        Command::Forecast(a) => forecast::run(a),
        Command::Replay(a) => replay::run(a),
        Command::Footprint(a) => footprint::run(a),
        Command::Plan(a) => plan::run(a),
        Command::Report(a) => report::run(a),
        Command::Compare(a) => compare::run(a),
        Command::Whatif(a) => whatif::run(a),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(2)
        }
    }
}
