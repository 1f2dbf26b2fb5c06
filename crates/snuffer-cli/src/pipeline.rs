//! Processing the runs of a curves file on every core, streaming it, results in file order.
//!
//! [`scan`] makes the first pass over the file ([`CurvesFile::scan`]: every row checked, so
//! a bad row stops the command before any work). [`in_order`] makes the second pass, which
//! hands out groups of runs (one run, or all the runs of a task: [`Grouping`]) as soon as
//! their last row has been read; each group is processed on the rayon pool
//! (`RAYON_NUM_THREADS` threads, every core by default) while the next ones are read. At
//! most [`IN_FLIGHT_PER_THREAD`] groups per thread are in flight, so memory follows what is
//! being read and processed, not the size of the file, and the raw text is never held.
//! Results are handed back in the order of the runs' first appearance, whatever the order
//! in which they were computed.
//!
//! Progress (bytes during the first pass, rows and rows per second during the second) goes
//! to stderr with indicatif, only when stderr is a terminal.

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use snuffer_replay::curves::{CurvesFile, Grouping, RunGroup};
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::Path;

/// Groups handed to the pool per worker thread before the reader waits for results: enough
/// to keep every thread busy while a slow group finishes, few enough to bound memory.
pub(crate) const IN_FLIGHT_PER_THREAD: usize = 4;

/// A progress bar on stderr when it is a terminal, hidden otherwise.
fn bar(len: u64, template: &str, prefix: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let style = ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr())
        .with_style(style)
        .with_prefix(prefix.to_string())
}

/// First pass over the curves file at `path`, for the command `what` (progress prefix).
pub(crate) fn scan(path: &Path, what: &str) -> anyhow::Result<CurvesFile> {
    let size = std::fs::metadata(path).map_or(0, |m| m.len());
    let pb = bar(
        size,
        "{prefix}: reading [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec})",
        what,
    );
    let file = CurvesFile::scan_with(path, |b| pb.set_position(b))
        .with_context(|| format!("reading curves from {}", path.display()));
    pb.finish_and_clear();
    file
}

/// Second pass over `file`: `work` runs on the rayon pool for each group (one result per
/// run of the group, in the group's order), and `emit` receives every run's result with its
/// index, in index order (the order of first appearance in the file).
///
/// A panic in `work` (a bug) is an error naming the group's runs rather than a hang or an
/// abort; so is a file that changed since [`scan`].
pub(crate) fn in_order<R, W, E>(
    file: &CurvesFile,
    grouping: Grouping,
    what: &str,
    work: W,
    mut emit: E,
) -> anyhow::Result<()>
where
    R: Send,
    W: Fn(&RunGroup) -> Vec<R> + Sync,
    E: FnMut(usize, R) -> anyhow::Result<()>,
{
    let pb = bar(
        file.rows(),
        "{prefix}: [{bar:30}] {human_pos}/{human_len} rows ({per_sec:0}, {eta} left)",
        what,
    );
    let window = IN_FLIGHT_PER_THREAD * rayon::current_num_threads().max(1);
    let (tx, rx) = std::sync::mpsc::channel::<Done<R>>();
    let mut order = Reorder::default();
    let mut in_flight = 0usize;
    let result = rayon::in_place_scope(|scope| -> anyhow::Result<()> {
        let mut receive = |in_flight: &mut usize| -> anyhow::Result<()> {
            let done = rx
                .recv()
                .context("a worker thread ended without a result")?;
            *in_flight -= 1;
            pb.inc(done.rows as u64);
            let results = done.results.map_err(|panic| {
                anyhow::anyhow!(
                    "internal error while processing {}: {panic} (a bug: please report it \
                     with the command line)",
                    done.names
                )
            })?;
            anyhow::ensure!(
                results.len() == done.indices.len(),
                "internal error: {} results for {} runs ({})",
                results.len(),
                done.indices.len(),
                done.names
            );
            order.add(done.indices.into_iter().zip(results), &mut emit)
        };
        for group in file.groups(grouping)? {
            let group = group?;
            while in_flight >= window {
                receive(&mut in_flight)?;
            }
            let tx = tx.clone();
            let work = &work;
            in_flight += 1;
            scope.spawn(move |_| {
                let results =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(&group)))
                        .map_err(|p| {
                            p.downcast_ref::<&str>()
                                .map(|s| s.to_string())
                                .or_else(|| p.downcast_ref::<String>().cloned())
                                .unwrap_or_else(|| "a panic".to_string())
                        });
                let names = group
                    .runs
                    .iter()
                    .map(|(_, r)| format!("{}/{}", r.task, r.run_id))
                    .collect::<Vec<_>>()
                    .join(", ");
                // The receiver outlives the scope; a send can only fail after an error,
                // when nobody waits for this result any more.
                let _ = tx.send(Done {
                    indices: group.indices().collect(),
                    rows: group.rows(),
                    names,
                    results,
                });
            });
        }
        while in_flight > 0 {
            receive(&mut in_flight)?;
        }
        Ok(())
    });
    pb.finish_and_clear();
    result?;
    anyhow::ensure!(
        order.next == file.runs().len(),
        "internal error: {} of {} runs came back",
        order.next,
        file.runs().len()
    );
    Ok(())
}

/// One group's results, sent back from a worker.
struct Done<R> {
    indices: Vec<usize>,
    rows: usize,
    names: String,
    results: Result<Vec<R>, String>,
}

/// Holds results that arrive early until every run before them has been emitted.
struct Reorder<R> {
    next: usize,
    waiting: BTreeMap<usize, R>,
}

impl<R> Default for Reorder<R> {
    fn default() -> Self {
        Reorder {
            next: 0,
            waiting: BTreeMap::new(),
        }
    }
}

impl<R> Reorder<R> {
    fn add(
        &mut self,
        results: impl IntoIterator<Item = (usize, R)>,
        emit: &mut impl FnMut(usize, R) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        self.waiting.extend(results);
        while let Some(r) = self.waiting.remove(&self.next) {
            emit(self.next, r)?;
            self.next += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_out_in_index_order_whatever_the_arrival() {
        let mut out = Vec::new();
        let mut emit = |i: usize, r: char| -> anyhow::Result<()> {
            out.push((i, r));
            Ok(())
        };
        let mut order = Reorder::default();
        order.add([(2, 'c')], &mut emit).unwrap();
        order.add([(0, 'a'), (3, 'd')], &mut emit).unwrap();
        order.add([(1, 'b')], &mut emit).unwrap();
        assert_eq!(out, vec![(0, 'a'), (1, 'b'), (2, 'c'), (3, 'd')]);
    }

    fn file(dir: &Path, runs: usize) -> CurvesFile {
        let mut text =
            String::from("source,task,run_id,step,metric,metric_name,higher_is_better\n");
        for r in 0..runs {
            for s in 1..=3 {
                text.push_str(&format!("s,t{},r{r},{s},0.{s},acc,true\n", r % 3));
            }
        }
        let path = dir.join("c.csv");
        std::fs::write(&path, text).unwrap();
        CurvesFile::scan(&path).unwrap()
    }

    #[test]
    fn every_run_is_emitted_once_in_file_order_on_a_pool() {
        let dir = tempfile::tempdir().unwrap();
        let f = file(dir.path(), 200);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        for grouping in [Grouping::Run, Grouping::Task] {
            let mut seen = Vec::new();
            pool.install(|| {
                in_order(
                    &f,
                    grouping,
                    "test",
                    |g| {
                        // Uneven work, so groups finish out of order.
                        let spin = (g.runs[0].0 * 7919) % 50;
                        std::thread::sleep(std::time::Duration::from_micros(spin as u64));
                        g.runs.iter().map(|(_, r)| r.run_id.clone()).collect()
                    },
                    |i, id| {
                        seen.push((i, id));
                        Ok(())
                    },
                )
            })
            .unwrap();
            let want: Vec<(usize, String)> = (0..200).map(|i| (i, format!("r{i}"))).collect();
            assert_eq!(seen, want, "{grouping:?}");
        }
    }

    #[test]
    fn a_panicking_worker_is_an_error_naming_the_run_not_a_hang() {
        let dir = tempfile::tempdir().unwrap();
        let f = file(dir.path(), 20);
        let err = in_order(
            &f,
            Grouping::Run,
            "test",
            |g| {
                if g.runs[0].1.run_id == "r7" {
                    panic!("boom");
                }
                vec![()]
            },
            |_, ()| Ok(()),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("t1/r7") && err.contains("boom"), "{err}");
    }
}
