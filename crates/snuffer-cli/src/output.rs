//! Everything the command prints on standard output goes through [`print_args`], through
//! the crate's own `print!`/`println!` (declared in `main.rs`, ahead of every module, so no
//! subcommand — present or future — can print another way).
//!
//! A write that fails ends the command there, the way a closed pipe does, but not quietly:
//! a full disk (`ENOSPC`, `> /dev/full`) or an I/O error (`EIO`) is said on stderr, naming
//! the error and what to do, and the process exits with [`WRITE_FAILED`]. The standard
//! library's `println!` panics instead ("failed printing to stdout", exit 101). A closed pipe
//! never gets here: SIGPIPE has its default action (see `quiet_on_closed_pipe` in `main.rs`),
//! so the kernel ends the process quietly at that write (status 141), as before; should it
//! get here anyway (SIGPIPE ignored by whoever started us), it ends quietly too.

use std::io::{ErrorKind, Write};

/// Exit status after standard output could not be written (the command's other errors
/// exit with 2 as well).
pub(crate) const WRITE_FAILED: i32 = 2;

/// Writes `args` to standard output and flushes it; on failure ends the process (see the
/// module's documentation).
pub(crate) fn print_args(args: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    let written = out.write_fmt(args).and_then(|()| out.flush());
    if let Err(e) = written {
        drop(out);
        std::process::exit(fail(&e));
    }
}

/// What to say (on stderr) and the exit status for a failed write to standard output.
fn fail(e: &std::io::Error) -> i32 {
    if e.kind() == ErrorKind::BrokenPipe {
        // The reader has gone: nothing to say, as with the default SIGPIPE action.
        return 128 + libc::SIGPIPE;
    }
    let hint = match e.raw_os_error() {
        Some(libc::ENOSPC) | Some(libc::EDQUOT) => {
            " (the disk holding it is full: free some space or send the output elsewhere)"
        }
        Some(libc::EIO) => " (an I/O error on the device holding it: check the disk)",
        _ => "",
    };
    let _ = writeln!(
        std::io::stderr(),
        "error: cannot write the output to standard output: {e}{hint}"
    );
    WRITE_FAILED
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_is_named_and_fails() {
        let full = std::io::Error::from_raw_os_error(libc::ENOSPC);
        assert_eq!(fail(&full), WRITE_FAILED);
        let pipe = std::io::Error::from(ErrorKind::BrokenPipe);
        assert_eq!(fail(&pipe), 141);
    }
}
