//! CPU time and resident memory of this process, a process tree, or the whole
//! machine — the inputs of the CPU estimate and of process attribution.
//!
//! `/proc/<pid>/stat` counts in clock ticks (usually 10 ms), too coarse for a
//! training step, so this process's own time comes from
//! `clock_gettime(CLOCK_PROCESS_CPUTIME_ID)` (nanoseconds). A child's time
//! reaches its parent's `cutime` only once reaped, so a [`ProcessTree`] sums
//! the live descendants it finds in `/proc` and, once the root is reaped,
//! takes the exact figure from `wait4`'s rusage via [`ProcessTree::set_final`].

use crate::EnergyError;
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Clock ticks per second for `/proc` times (`sysconf(_SC_CLK_TCK)`, 100 when unknown).
pub fn clock_ticks() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as u64
    } else {
        100
    }
}

fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 {
        p as u64
    } else {
        4096
    }
}

/// CPU time (user + system) of this process, at nanosecond resolution.
pub fn self_cpu_time() -> Result<Duration, EnergyError> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Err(EnergyError::Unavailable {
            source_name: "cpu-estimate".into(),
            message: format!(
                "clock_gettime(CLOCK_PROCESS_CPUTIME_ID) failed: {}",
                std::io::Error::last_os_error()
            ),
        });
    }
    Ok(Duration::new(
        ts.tv_sec.max(0) as u64,
        ts.tv_nsec.clamp(0, 999_999_999) as u32,
    ))
}

/// The fields of `/proc/<pid>/stat` the estimate uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcStat {
    /// Parent process id.
    pub ppid: i32,
    /// utime + stime, in ticks.
    pub own_ticks: u64,
    /// cutime + cstime (reaped children), in ticks.
    pub children_ticks: u64,
    /// Resident set size, in pages.
    pub rss_pages: u64,
}

/// Parse the text of a `/proc/<pid>/stat` file. The command name is in
/// parentheses and may itself contain spaces and parentheses, so fields are
/// counted from the last `)`.
pub fn parse_proc_stat(text: &str) -> Option<ProcStat> {
    let rest = &text[text.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // f[0] is field 3 (state); field n is f[n - 3].
    let num = |n: usize| f.get(n - 3)?.parse::<i64>().ok();
    Some(ProcStat {
        ppid: num(4)? as i32,
        own_ticks: (num(14)?.max(0) + num(15)?.max(0)) as u64,
        children_ticks: (num(16)?.max(0) + num(17)?.max(0)) as u64,
        rss_pages: num(24)?.max(0) as u64,
    })
}

fn read_proc_stat(path: &Path) -> Option<ProcStat> {
    parse_proc_stat(&std::fs::read_to_string(path).ok()?)
}

/// Machine-wide CPU time from the first line of `/proc/stat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SystemCpu {
    /// Time the CPUs spent running something (user, nice, system, irq, softirq), in ticks.
    pub busy_ticks: u64,
    /// All time, idle, iowait and steal included, in ticks.
    pub total_ticks: u64,
}

/// Parse `/proc/stat`.
pub fn parse_system_stat(text: &str) -> Option<SystemCpu> {
    let line = text.lines().find(|l| l.starts_with("cpu "))?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    let at = |i: usize| v.get(i).copied().unwrap_or(0);
    // user nice system idle iowait irq softirq steal (guest is already in user).
    let busy = at(0) + at(1) + at(2) + at(5) + at(6);
    Some(SystemCpu {
        busy_ticks: busy,
        total_ticks: busy + at(3) + at(4) + at(7),
    })
}

/// Read `/proc/stat`.
pub fn system_cpu() -> Result<SystemCpu, EnergyError> {
    let path = Path::new("/proc/stat");
    let text = std::fs::read_to_string(path).map_err(|e| EnergyError::from_io(path, e))?;
    parse_system_stat(&text).ok_or_else(|| EnergyError::Parse {
        path: path.into(),
        message: "no `cpu` line".into(),
    })
}

fn ticks(t: u64) -> Duration {
    Duration::from_secs_f64(t as f64 / clock_ticks() as f64)
}

/// Resident memory of this process, in bytes (`/proc/self/statm`).
pub fn self_rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * page_size())
}

/// Memory in use on the machine (MemTotal − MemAvailable), in bytes.
pub fn system_used_memory_bytes() -> u64 {
    let Ok(text) = std::fs::read_to_string("/proc/meminfo") else {
        return 0;
    };
    let field = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
    };
    match (field("MemTotal:"), field("MemAvailable:")) {
        (Some(t), Some(a)) => t.saturating_sub(a) * 1024,
        _ => 0,
    }
}

#[derive(Debug, Default)]
struct TreeState {
    final_cpu: Option<Duration>,
    max_seen: Duration,
}

/// A handle on a process tree (a root pid and all its descendants), shareable
/// between the thread that waits for the root and the sampler that reads it.
#[derive(Debug, Clone, Default)]
pub struct ProcessTree {
    root: Arc<AtomicI32>,
    state: Arc<Mutex<TreeState>>,
}

impl ProcessTree {
    /// A tree with no root yet (reads zero until [`ProcessTree::set_root`]).
    pub fn new() -> ProcessTree {
        ProcessTree::default()
    }

    /// Start following `pid` and its descendants.
    pub fn set_root(&self, pid: u32) {
        self.root.store(pid as i32, Ordering::SeqCst);
    }

    /// The exact CPU time of the reaped tree (from `wait4`'s rusage); later
    /// reads return it (or the largest value seen, which never decreases).
    pub fn set_final(&self, cpu: Duration) {
        if let Ok(mut s) = self.state.lock() {
            s.final_cpu = Some(cpu);
        }
    }

    /// CPU time of the tree so far and its resident memory in bytes.
    pub fn sample(&self) -> (Duration, u64) {
        let mut state = match self.state.lock() {
            Ok(s) => s,
            Err(p) => p.into_inner(),
        };
        if let Some(f) = state.final_cpu {
            state.max_seen = state.max_seen.max(f);
            return (state.max_seen, 0);
        }
        let root = self.root.load(Ordering::SeqCst);
        if root <= 0 {
            return (Duration::ZERO, 0);
        }
        let (t, rss) = tree_ticks(root);
        // Descendants reaped by init take their time with them; never go back.
        state.max_seen = state.max_seen.max(ticks(t));
        (state.max_seen, rss * page_size())
    }
}

/// Ticks (own + reaped children) and rss pages summed over `root` and its live descendants.
fn tree_ticks(root: i32) -> (u64, u64) {
    let mut stats: HashMap<i32, ProcStat> = HashMap::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            let name = e.file_name();
            let Some(pid) = name.to_str().and_then(|s| s.parse::<i32>().ok()) else {
                continue;
            };
            if let Some(s) = read_proc_stat(&e.path().join("stat")) {
                stats.insert(pid, s);
            }
        }
    }
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    for (pid, s) in &stats {
        children.entry(s.ppid).or_default().push(*pid);
    }
    let (mut t, mut rss) = (0, 0);
    let mut stack = vec![root];
    while let Some(pid) = stack.pop() {
        if let Some(s) = stats.get(&pid) {
            t += s.own_ticks + s.children_ticks;
            rss += s.rss_pages;
        }
        if let Some(c) = children.get(&pid) {
            stack.extend(c);
        }
    }
    (t, rss)
}

/// Whose CPU time an estimate covers.
#[derive(Debug, Clone)]
pub enum CpuSource {
    /// This process (nanosecond clock).
    SelfProcess,
    /// A process tree, e.g. the command run by `snuffer measure`.
    Tree(ProcessTree),
    /// Every process on the machine (`/proc/stat` busy time).
    System,
}

impl CpuSource {
    /// Cumulative CPU time and current resident memory (bytes).
    pub fn sample(&self) -> Result<(Duration, u64), EnergyError> {
        match self {
            CpuSource::SelfProcess => Ok((self_cpu_time()?, self_rss_bytes())),
            CpuSource::Tree(t) => Ok(t.sample()),
            CpuSource::System => Ok((ticks(system_cpu()?.busy_ticks), system_used_memory_bytes())),
        }
    }

    /// Words for provenance strings.
    pub fn describe(&self) -> &'static str {
        match self {
            CpuSource::SelfProcess => "this process's CPU time",
            CpuSource::Tree(_) => "the command's CPU time (process tree)",
            CpuSource::System => "the machine's busy CPU time",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_odd_command_names() {
        let line = "1234 (my (weird) prog) S 1 1234 1234 0 -1 4194304 100 0 0 0 \
                    250 50 7 3 20 0 1 0 100 12345678 300 18446744073709551615";
        let s = parse_proc_stat(line).unwrap();
        assert_eq!(s.ppid, 1);
        assert_eq!(s.own_ticks, 300);
        assert_eq!(s.children_ticks, 10);
        assert_eq!(s.rss_pages, 300);
        assert_eq!(parse_proc_stat("garbage"), None);
        assert_eq!(parse_proc_stat("1 (x) S 1"), None);
    }

    #[test]
    fn parses_system_stat() {
        let s = parse_system_stat("cpu  100 5 20 1000 7 1 2 30 0 0\ncpu0 1 1 1 1\n").unwrap();
        assert_eq!(s.busy_ticks, 128);
        assert_eq!(s.total_ticks, 128 + 1000 + 7 + 30);
        assert_eq!(parse_system_stat("intr 5"), None);
    }

    #[test]
    fn self_clock_has_fine_resolution() {
        let a = self_cpu_time().unwrap();
        let start = std::time::Instant::now();
        while start.elapsed() < Duration::from_millis(3) {}
        let b = self_cpu_time().unwrap();
        // /proc ticks would often show 0 for a 3 ms window.
        assert!(b > a, "{a:?} -> {b:?}");
    }

    #[test]
    fn tree_follows_a_child() {
        let tree = ProcessTree::new();
        assert_eq!(tree.sample().0, Duration::ZERO);
        tree.set_root(std::process::id());
        let _ = tree.sample();
        tree.set_final(Duration::from_secs(1000));
        assert_eq!(tree.sample().0, Duration::from_secs(1000));
    }
}
