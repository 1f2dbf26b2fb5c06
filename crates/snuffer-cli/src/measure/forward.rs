//! Passing termination signals on to the measured command.
//!
//! Batch systems stop a job by signalling the process they started: SLURM's `scancel` and
//! Kubernetes send SIGTERM (SLURM's `--signal` sends SIGUSR1 ahead of the time limit). When
//! that process is `snuffer measure`, the command must get the signal too, or it keeps
//! running, orphaned, while Snuffer reports nothing. So while the command runs, Snuffer
//! catches these signals and sends each one on to it, then waits for it as usual and exits
//! with its status (128 + the signal's number when the signal ended it).
//!
//! Outside a terminal's foreground (a batch job, a service, a script: see [`own_group`]),
//! the command runs in a process group of its own and each signal goes to that whole group
//! (`kill(-pgid, sig)`): a command started through a shell that forks rather than execs
//! (`sh -c 'sleep 60'` with dash) is stopped with everything it started, not just the shell.
//! Every signal is passed on, including those a terminal generates, since the command's
//! group is not the terminal's.
//!
//! In a terminal's foreground the command shares Snuffer's process group, so that it keeps
//! the terminal (reads input, is stopped by Ctrl-Z). Signals that the terminal generates
//! (Ctrl-C, Ctrl-\, a hang-up) then already reach the whole group, the command included:
//! they are not sent a second time. The kernel marks them (`si_code > 0`), while those sent
//! by a process (`kill`, `sigqueue`) have `si_code ≤ 0`; those go to the command's pid.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

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
/// Whether the command leads a process group of its own (signals go to the group).
static OWN_GROUP: AtomicBool = AtomicBool::new(false);

/// Whether the command should get a process group of its own: yes unless standard input
/// is a terminal whose foreground group is Snuffer's (an interactive shell), where the
/// command must stay in the foreground group to keep the terminal.
pub(crate) fn own_group() -> bool {
    // SAFETY: isatty, tcgetpgrp and getpgrp only read process state.
    unsafe { !(libc::isatty(0) == 1 && libc::tcgetpgrp(0) == libc::getpgrp()) }
}

/// Sends `sig` to the command: its whole process group when it has its own.
fn send(pid: libc::pid_t, sig: libc::c_int) {
    let target = if OWN_GROUP.load(Ordering::SeqCst) {
        -pid
    } else {
        pid
    };
    // SAFETY: kill is async-signal-safe; the pid (and group) is our own child's, not yet
    // reaped.
    unsafe {
        libc::kill(target, sig);
    }
}

extern "C" fn on_signal(sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    // SAFETY: with SA_SIGINFO the kernel passes a valid siginfo_t (or null, handled).
    let sent_by_a_process = unsafe { info.as_ref() }.is_none_or(|i| i.si_code <= 0);
    if !sent_by_a_process && !OWN_GROUP.load(Ordering::SeqCst) {
        return;
    }
    match CHILD.load(Ordering::SeqCst) {
        NOT_STARTED => PENDING.store(sig, Ordering::SeqCst),
        // The command has ended and Snuffer is about to report: nothing left to stop.
        ENDED => {}
        pid => send(pid, sig),
    }
}

/// Catches [`FORWARDED`] from creation until drop, when their default actions come back.
pub(crate) struct Forwarding {
    _private: (),
}

impl Forwarding {
    /// Install the handlers; call before starting the command so no signal is missed.
    /// `own_group`: the command will lead a process group of its own ([`own_group`]).
    pub(crate) fn install(own_group: bool) -> Forwarding {
        OWN_GROUP.store(own_group, Ordering::SeqCst);
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
            send(pid, early);
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
