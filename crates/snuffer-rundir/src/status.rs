//! How a run ended, told once: [`RunStatus`] weighs `summary.json`, the end of
//! `steps.jsonl` and the files left in the directory, and says which file disagrees.
//!
//! `summary.json` is written last and atomically, so when it exists it decides the status;
//! `steps.jsonl` decides when it does not. A run whose log stops without an end line and
//! without a summary is still running or crashed: when its start line names a process on
//! this machine that no longer exists, it crashed.

use crate::meta::StartMeta;
use crate::records::RecordKind;
use crate::steps::StepView;
use crate::summary::Summary;
use crate::{BEST_WEIGHTS_TMP_FILE, EMISSIONS_FILE, SUMMARY_FILE};
use std::fmt;
use std::path::Path;

/// What `steps.jsonl` says about how a run went, gathered line by line
/// ([`LogFacts::absorb`]) while the log is streamed for something else.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogFacts {
    /// Whole records read.
    pub records: u64,
    /// The start line's settings, if the first line was a start line.
    pub start: Option<StartMeta>,
    /// The end line: `(step, finished)`.
    pub end: Option<(u64, bool)>,
    /// Highest step of any line.
    pub last_step: u64,
    /// Evaluation lines.
    pub evals: u64,
    /// The first stop decision on an evaluation line: `(step, policy)`.
    pub stop: Option<(u64, String)>,
    /// The number of a torn last line, if any (set by the caller from the read's end).
    pub torn_line: Option<u64>,
}

impl LogFacts {
    /// Take one line into account.
    pub fn absorb(&mut self, line: &StepView<'_>) {
        self.records += 1;
        self.last_step = self.last_step.max(line.step);
        match line.kind {
            RecordKind::Start if self.records == 1 => {
                self.start = Some(
                    line.meta
                        .as_ref()
                        .map(StartMeta::from_value)
                        .unwrap_or_default(),
                );
            }
            RecordKind::Eval => {
                self.evals += 1;
                if self.stop.is_none() {
                    if let Some(d) = line.decision.as_ref().filter(|d| d.is_stop()) {
                        let policy = d.policy.clone().unwrap_or_else(|| "the policy".into());
                        self.stop = Some((line.step, policy));
                    }
                }
            }
            RecordKind::End => {
                let finished = line
                    .meta
                    .as_ref()
                    .and_then(|m| m.get("finished"))
                    .and_then(serde_json::Value::as_bool)
                    .unwrap_or(true);
                self.end = Some((line.step, finished));
            }
            _ => {}
        }
    }
}

/// Whether the process that wrote a run still runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writer {
    /// It runs on this machine.
    Alive,
    /// It ran on this machine and is gone.
    Gone,
    /// Unknown (another machine, an older log without a process id, not Linux).
    Unknown,
}

impl Writer {
    /// Looks up the writer named on a start line.
    pub fn of(start: Option<&StartMeta>) -> Writer {
        let Some((pid, host)) = start.and_then(|s| Some((s.pid?, s.host.as_deref()?))) else {
            return Writer::Unknown;
        };
        match this_host() {
            Some(h) if h == host && Path::new("/proc/self").exists() => {
                if Path::new("/proc").join(pid.to_string()).exists() {
                    Writer::Alive
                } else {
                    Writer::Gone
                }
            }
            _ => Writer::Unknown,
        }
    }
}

/// This machine's host name (Linux), recorded on start lines.
pub fn this_host() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
}

/// How a run ended (or that it has not).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RunState {
    /// It ran until the loop ended (`finish()` without a stop).
    Completed {
        /// Steps done.
        steps: u64,
    },
    /// A policy stopped it early (`finish()` after a stop).
    Stopped {
        /// The step of the stop.
        step: u64,
        /// The policy.
        policy: String,
    },
    /// It was dropped without `finish()`: an error or a panic ended the training loop.
    Dropped {
        /// Steps done.
        steps: u64,
    },
    /// No summary and no end line: still running, or crashed (killed, out of memory, a
    /// node that went down).
    Unfinished {
        /// The last step recorded.
        last_step: u64,
        /// The log ends in a torn line (killed while writing, or being written now).
        torn: bool,
        /// Whether the writing process still runs.
        writer: Writer,
    },
}

impl RunState {
    /// Whether the run ended through `finish()`: its totals are complete, so comparing its
    /// energy with another run's measures a saving.
    pub fn is_finished(&self) -> bool {
        matches!(self, RunState::Completed { .. } | RunState::Stopped { .. })
    }
}

impl fmt::Display for RunState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunState::Completed { .. } => f.write_str("ran to its end"),
            RunState::Stopped { step, policy } => {
                write!(f, "stopped early by {policy} at step {step}")
            }
            RunState::Dropped { steps } => write!(
                f,
                "dropped at step {steps} without finish() (an error or a panic ended the loop)"
            ),
            RunState::Unfinished {
                last_step,
                torn,
                writer,
            } => {
                let torn = if *torn {
                    " (steps.jsonl ends in a torn line)"
                } else {
                    ""
                };
                match writer {
                    Writer::Alive => write!(f, "still running (step {last_step})"),
                    Writer::Gone => write!(f, "crashed at step {last_step}{torn}"),
                    Writer::Unknown => write!(
                        f,
                        "did not finish: still running, or crashed at step {last_step}{torn}"
                    ),
                }
            }
        }
    }
}

/// The status of a run directory: one state, what disagrees with it, what is left over.
#[derive(Debug, Clone, PartialEq)]
pub struct RunStatus {
    /// How the run ended.
    pub state: RunState,
    /// Files that disagree with the state, and how (e.g. a `steps.jsonl` cut short while
    /// `summary.json` says the run finished).
    pub disagreements: Vec<String>,
    /// Files a crash left behind (`best.safetensors.tmp`, a summary's temp file).
    pub leftovers: Vec<String>,
}

impl RunStatus {
    /// Weighs the summary (if any), what the log said (if there is one) and the files in
    /// `dir` (see the module docs).
    ///
    /// ```
    /// use snuffer_rundir::{LogFacts, RunState, RunStatus};
    /// // A log cut at step 0: only its start line, no summary, writer unknown.
    /// let log = LogFacts { records: 1, ..LogFacts::default() };
    /// let status = RunStatus::assess(std::path::Path::new("."), None, Some(&log));
    /// assert!(matches!(status.state, RunState::Unfinished { last_step: 0, .. }));
    /// assert!(!status.state.is_finished());
    /// ```
    pub fn assess(dir: &Path, summary: Option<&Summary>, log: Option<&LogFacts>) -> RunStatus {
        let mut disagreements = Vec::new();
        let state = match (summary, log) {
            (Some(s), log) => {
                let state = from_summary(s);
                match log {
                    None => disagreements.push(
                        "steps.jsonl is missing: only summary.json's totals are known, without plots"
                            .to_string(),
                    ),
                    Some(l) => compare_log(s, l, &mut disagreements),
                }
                state
            }
            (None, Some(l)) => match l.end {
                Some((step, finished)) => {
                    disagreements.push(format!(
                        "{SUMMARY_FILE} is missing although steps.jsonl has its end line (at \
                         step {step}): the summary could not be written, or was removed; the \
                         totals come from the last line of steps.jsonl"
                    ));
                    match (&l.stop, finished) {
                        (_, false) => RunState::Dropped { steps: step },
                        (Some((at, policy)), true) => RunState::Stopped {
                            step: *at,
                            policy: policy.clone(),
                        },
                        (None, true) => RunState::Completed { steps: step },
                    }
                }
                None => RunState::Unfinished {
                    last_step: l.last_step,
                    torn: l.torn_line.is_some(),
                    writer: Writer::of(l.start.as_ref()),
                },
            },
            (None, None) => RunState::Unfinished {
                last_step: 0,
                torn: false,
                writer: Writer::Unknown,
            },
        };
        RunStatus {
            state,
            disagreements,
            leftovers: leftovers(dir),
        }
    }

    /// Everything a reader should know beyond the state, as sentences.
    pub fn notes(&self) -> impl Iterator<Item = &String> {
        self.disagreements.iter().chain(&self.leftovers)
    }
}

fn from_summary(s: &Summary) -> RunState {
    match (&s.stop, s.finished) {
        (_, false) => RunState::Dropped { steps: s.steps },
        (Some(d), true) => RunState::Stopped {
            step: s.stop_step().unwrap_or(s.steps),
            policy: d.policy.clone().unwrap_or_else(|| "the policy".into()),
        },
        (None, true) => RunState::Completed { steps: s.steps },
    }
}

fn compare_log(s: &Summary, l: &LogFacts, out: &mut Vec<String>) {
    match l.end {
        None => {
            let torn = match l.torn_line {
                Some(n) => format!(" and a torn line {n}"),
                None => String::new(),
            };
            out.push(format!(
                "steps.jsonl disagrees with {SUMMARY_FILE}: it stops at step {} without its \
                 end line{torn} (cut or damaged after the run), while the summary records {} \
                 steps; totals come from the summary, plots cover only what steps.jsonl kept",
                l.last_step, s.steps
            ));
        }
        Some((step, finished)) => {
            if finished != s.finished {
                out.push(format!(
                    "steps.jsonl's end line says finished = {finished}, {SUMMARY_FILE} says {}; \
                     the summary, written last, is taken",
                    s.finished
                ));
            }
            if step != s.steps {
                out.push(format!(
                    "steps.jsonl ends at step {step}, {SUMMARY_FILE} records {} steps; the \
                     summary is taken",
                    s.steps
                ));
            }
        }
    }
}

/// Temp files a crash can leave in a run directory, with what they mean.
fn leftovers(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    if dir.join(BEST_WEIGHTS_TMP_FILE).exists() {
        out.push(format!(
            "{BEST_WEIGHTS_TMP_FILE} is left over: the run was killed while saving its best \
             weights; best.safetensors, if present, holds the previous best (the next save \
             replaces the temp file)"
        ));
    }
    for file in [SUMMARY_FILE, EMISSIONS_FILE] {
        if dir.join(format!(".{file}.tmp")).exists() {
            out.push(format!(
                ".{file}.tmp is left over: the run was killed while writing {file}"
            ));
        }
    }
    out
}
