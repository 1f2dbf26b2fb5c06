//! Passing termination signals on to the measured command.
//!
//! Batch systems stop a job by signalling the process they started: SLURM's `scancel` and
//! Kubernetes send SIGTERM (SLURM's `--signal` sends SIGUSR1 ahead of the time limit). When
//! that process is `snuffer measure`, the command must get the signal too, or it keeps
//! running, orphaned, while Snuffer reports nothing. So while the command runs, Snuffer
//! catches these signals and sends each one on to it, then waits for it as usual and exits
//! with its status (128 + the signal's number when the signal ended it).
//!
//! Signals that the terminal generates (Ctrl-C, Ctrl-\, a hang-up) already reach the whole
//! foreground process group, the command included: they are not sent a second time. The
//! kernel marks them (`si_code > 0`), while those sent by a process (`kill`, `sigqueue`) have
//! `si_code ≤ 0`.

use std::sync::atomic::{AtomicI32, Ordering};

/// The signals passed on to the command.
pub(crate) const FORWARDED: [libc::c_int; 6] = [
    libc::SIGTERM,
    libc::SIGINT,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
];

/// Pid of the running command; [`NOT_STARTED`] before it starts, [`ENDED`] once it has ended.
static CHILD: AtomicI32 = AtomicI32::new(NOT_STARTED);
const NOT_STARTED: i32 = 0;
const ENDED: i32 = -1;
/// A signal that arrived before the command's pid was known (0: none).
static PENDING: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    // SAFETY: with SA_SIGINFO the kernel passes a valid siginfo_t (or null, handled).
    let sent_by_a_process = unsafe { info.as_ref() }.is_none_or(|i| i.si_code <= 0);
    if !sent_by_a_process {
        return;
    }
    match CHILD.load(Ordering::SeqCst) {
        NOT_STARTED => PENDING.store(sig, Ordering::SeqCst),
        // The command has ended and Snuffer is about to report: nothing left to stop.
        ENDED => {}
        // SAFETY: kill is async-signal-safe; the pid is our own child, not yet reaped.
        pid => unsafe {
            libc::kill(pid, sig);
        },
    }
}

/// Catches [`FORWARDED`] from creation until drop, when their default actions come back.
pub(crate) struct Forwarding {
    _private: (),
}

impl Forwarding {
    /// Install the handlers; call before starting the command so no signal is missed.
    pub(crate) fn install() -> Forwarding {
        CHILD.store(NOT_STARTED, Ordering::SeqCst);
        PENDING.store(0, Ordering::SeqCst);
        for sig in FORWARDED {
            // SAFETY: sigaction is plain data; the handler only touches atomics and calls
            // kill, both async-signal-safe.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                let handler: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                    on_signal;
                action.sa_sigaction = handler as *const () as libc::sighandler_t;
                action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
                libc::sigemptyset(&mut action.sa_mask);
                libc::sigaction(sig, &action, std::ptr::null_mut());
            }
        }
        Forwarding { _private: () }
    }

    /// The command runs as `pid`: from now on signals go to it, starting with any that came
    /// while it was being started.
    pub(crate) fn child_started(&self, pid: libc::pid_t) {
        CHILD.store(pid, Ordering::SeqCst);
        let early = PENDING.swap(0, Ordering::SeqCst);
        if early > 0 {
            // SAFETY: sending a signal to our own child.
            unsafe {
                libc::kill(pid, early);
            }
        }
    }

    /// The command has ended (it is a zombie, not yet reaped): stop sending to its pid
    /// before it can be reused.
    pub(crate) fn child_ended(&self) {
        CHILD.store(ENDED, Ordering::SeqCst);
    }
}

impl Drop for Forwarding {
    fn drop(&mut self) {
        let never_started = CHILD.swap(ENDED, Ordering::SeqCst) == NOT_STARTED;
        for sig in FORWARDED {
            // SAFETY: installing SIG_DFL has no memory-safety preconditions.
            unsafe {
                libc::signal(sig, libc::SIG_DFL);
            }
        }
        // A signal meant for a command that never started is Snuffer's own.
        let early = PENDING.swap(0, Ordering::SeqCst);
        if never_started && early > 0 {
            // SAFETY: raising a signal with its default action.
            unsafe {
                libc::raise(early);
            }
        }
    }
}
