//! Reading a large curves file without holding it.
//!
//! [`CurvesFile::scan`] is a first pass that checks every row, as [`super::read_curves`]
//! does, and counts the rows of each run, so a bad row is reported before any work starts.
//! [`CurvesFile::groups`] is the second pass: it hands out each run (or, with
//! [`Grouping::Task`], all the runs of a task) as soon as its last row has been read, so
//! only the runs still being read are held. In a file whose runs are written one after the
//! other, as they usually are, that is one run at a time, whatever the size of the file.
//! Runs come out exactly as [`super::read_curves`] builds them (sorted by step, optional
//! columns kept only when complete), each with its index in the order of first appearance.
//!
//! ```
//! use snuffer_replay::curves::{CurvesFile, Grouping};
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("curves.csv");
//! std::fs::write(&path, "source,task,run_id,step,metric,metric_name,higher_is_better\n\
//!                        s,t,r1,1,0.2,acc,true\ns,t,r1,2,0.5,acc,true\n\
//!                        s,u,r2,1,0.1,acc,true\ns,t,r3,1,0.3,acc,true\n")?;
//! let file = CurvesFile::scan(&path)?;
//! assert_eq!((file.runs().len(), file.rows()), (3, 4));
//! let per_task: Vec<Vec<usize>> = file
//!     .groups(Grouping::Task)?
//!     .map(|g| g.map(|g| g.indices().collect()))
//!     .collect::<Result<_, _>>()?;
//! assert_eq!(per_task, vec![vec![1], vec![0, 2]]); // task u completes first
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use super::{
    csv_reader, direction_change, finish, header, next_record, parse_row, Building, Columns,
    CurveRun, Row,
};
use crate::CurvesError;
use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};

/// What the first pass learnt about one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunInfo {
    /// The run's task.
    pub task: String,
    /// The run's id.
    pub run_id: String,
    /// Its number of rows.
    pub rows: usize,
}

/// Which runs are handed out together by [`CurvesFile::groups`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Grouping {
    /// Each run on its own.
    #[default]
    Run,
    /// All the runs of a task together, in file order (a sweep replayed in order).
    Task,
}

/// Runs handed out together, each with its index in the order of first appearance;
/// in that order.
#[derive(Debug, Clone, PartialEq)]
pub struct RunGroup {
    /// `(index, run)` pairs, indices ascending.
    pub runs: Vec<(usize, CurveRun)>,
    /// What the reader decided about these runs that changes their figures, in words (an
    /// optional column left empty on some rows of a run, so the run does without it).
    pub notes: Vec<String>,
}

impl RunGroup {
    /// Total rows of the group's runs.
    pub fn rows(&self) -> usize {
        self.runs.iter().map(|(_, r)| r.len()).sum()
    }

    /// The runs' indices, ascending.
    pub fn indices(&self) -> impl Iterator<Item = usize> + '_ {
        self.runs.iter().map(|(i, _)| *i)
    }
}

/// A curves file after its first pass (see the module docs).
#[derive(Debug, Clone)]
pub struct CurvesFile {
    path: PathBuf,
    origin: String,
    runs: Vec<RunInfo>,
    index: HashMap<(String, String), usize>,
    rows: u64,
    bytes: u64,
}

/// How often (in rows) the first pass reports its progress.
const PROGRESS_EVERY: u64 = 16_384;

/// The index of `row`'s run, reusing the previous row's when it has the same key (the
/// usual case, which saves building a key per row).
fn run_of(
    index: &HashMap<(String, String), usize>,
    last: &mut Option<(String, String, usize)>,
    row: &Row<'_>,
) -> Option<usize> {
    if let Some((task, run_id, i)) = last {
        if task == row.task && run_id == row.run_id {
            return Some(*i);
        }
    }
    let i = *index.get(&(row.task.to_string(), row.run_id.to_string()))?;
    *last = Some((row.task.to_string(), row.run_id.to_string(), i));
    Some(i)
}

fn open(path: &Path) -> Result<File, CurvesError> {
    File::open(path).map_err(|source| CurvesError::Io {
        path: path.to_path_buf(),
        source,
    })
}

impl CurvesFile {
    /// First pass over the file at `path`: checks every row (errors name the line and
    /// column, as [`super::read_curves`]'s do) and counts the rows of each run.
    pub fn scan(path: &Path) -> Result<CurvesFile, CurvesError> {
        CurvesFile::scan_with(path, |_| {})
    }

    /// [`CurvesFile::scan`], calling `progress` with the bytes read so far every few
    /// thousand rows (for a progress bar).
    pub fn scan_with(
        path: &Path,
        mut progress: impl FnMut(u64),
    ) -> Result<CurvesFile, CurvesError> {
        let origin = path.display().to_string();
        let file = open(path)?;
        let bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
        let mut rdr = csv_reader(file);
        let cols = header(&mut rdr, &origin)?;
        let mut runs: Vec<RunInfo> = Vec::new();
        // Per run: direction and line of its first row.
        let mut first: Vec<(bool, u64)> = Vec::new();
        let mut index: HashMap<(String, String), usize> = HashMap::new();
        let mut last = None;
        let mut rows = 0u64;
        let mut record = csv::StringRecord::new();
        while next_record(&mut rdr, &mut record, &origin)? {
            let Some(row) = parse_row(&record, &cols, &origin)? else {
                continue;
            };
            let i = match run_of(&index, &mut last, &row) {
                Some(i) => i,
                None => {
                    let i = runs.len();
                    index.insert((row.task.to_string(), row.run_id.to_string()), i);
                    runs.push(RunInfo {
                        task: row.task.to_string(),
                        run_id: row.run_id.to_string(),
                        rows: 0,
                    });
                    first.push((row.higher_is_better, row.line));
                    i
                }
            };
            let (hib, line) = first[i];
            if hib != row.higher_is_better {
                return Err(direction_change(&origin, &row, line, hib));
            }
            runs[i].rows += 1;
            rows += 1;
            if rows.is_multiple_of(PROGRESS_EVERY) {
                progress(record.position().map_or(0, |p| p.byte()));
            }
        }
        progress(bytes);
        Ok(CurvesFile {
            path: path.to_path_buf(),
            origin,
            runs,
            index,
            rows,
            bytes,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The runs in order of first appearance.
    pub fn runs(&self) -> &[RunInfo] {
        &self.runs
    }

    /// Number of rows (blank lines excluded).
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Size of the file in bytes when it was scanned.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Second pass: the runs, grouped by `grouping`, each group as soon as its last row has
    /// been read. Groups come out in the order in which they complete; within a group the
    /// runs are in file order. An error means the file changed since the first pass (or
    /// can no longer be read).
    pub fn groups(&self, grouping: Grouping) -> Result<RunGroups<'_>, CurvesError> {
        let mut rdr = csv_reader(open(&self.path)?);
        let cols = header(&mut rdr, &self.origin)?;
        let (group_of, group_size) = match grouping {
            Grouping::Run => ((0..self.runs.len()).collect(), vec![1; self.runs.len()]),
            Grouping::Task => {
                let mut ids: HashMap<&str, usize> = HashMap::new();
                let mut size: Vec<usize> = Vec::new();
                let of = self
                    .runs
                    .iter()
                    .map(|r| {
                        let next = ids.len();
                        let g = *ids.entry(r.task.as_str()).or_insert(next);
                        if g == size.len() {
                            size.push(0);
                        }
                        size[g] += 1;
                        g
                    })
                    .collect();
                (of, size)
            }
        };
        Ok(RunGroups {
            file: self,
            rdr,
            cols,
            record: csv::StringRecord::new(),
            last: None,
            building: HashMap::new(),
            group_of,
            group_size,
            pending: HashMap::new(),
            pending_notes: HashMap::new(),
            done: false,
        })
    }

    fn changed(&self, line: u64, what: &str) -> CurvesError {
        CurvesError::Changed {
            origin: self.origin.clone(),
            line,
            what: what.to_string(),
        }
    }
}

/// The second pass of a [`CurvesFile`]: an iterator over [`RunGroup`]s.
pub struct RunGroups<'f> {
    file: &'f CurvesFile,
    rdr: csv::Reader<snuffer_energy::lines::LineLimited<File>>,
    cols: Columns,
    record: csv::StringRecord,
    last: Option<(String, String, usize)>,
    /// Runs whose rows are still being read.
    building: HashMap<usize, Building>,
    group_of: Vec<usize>,
    group_size: Vec<usize>,
    /// Finished runs of groups that are not complete yet.
    pending: HashMap<usize, Vec<(usize, CurveRun)>>,
    /// Notes of those runs, by group.
    pending_notes: HashMap<usize, Vec<String>>,
    done: bool,
}

impl std::fmt::Debug for RunGroups<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunGroups")
            .field("file", &self.file.path)
            .field("runs_being_read", &self.building.len())
            .finish()
    }
}

impl RunGroups<'_> {
    /// Reads rows until a group is complete.
    fn advance(&mut self) -> Result<Option<RunGroup>, CurvesError> {
        let file = self.file;
        let origin = file.origin.as_str();
        while next_record(&mut self.rdr, &mut self.record, origin)? {
            let Some(row) = parse_row(&self.record, &self.cols, origin)? else {
                continue;
            };
            let Some(i) = run_of(&file.index, &mut self.last, &row) else {
                return Err(file.changed(row.line, "a run the first pass did not see"));
            };
            let b = self
                .building
                .entry(i)
                .or_insert_with(|| Building::new(&row));
            b.push(&row, origin)?;
            let line = row.line;
            if b.len() > file.runs[i].rows {
                return Err(file.changed(line, "more rows for a run than the first pass"));
            }
            if b.len() < file.runs[i].rows {
                continue;
            }
            let Some(b) = self.building.remove(&i) else {
                continue;
            };
            let g = self.group_of[i];
            if let Some(note) = super::partial_columns(&b) {
                self.pending_notes.entry(g).or_default().push(note);
            }
            let run = finish(b);
            let members = self.pending.entry(g).or_default();
            members.push((i, run));
            if members.len() == self.group_size[g] {
                let mut runs = self.pending.remove(&g).unwrap_or_default();
                runs.sort_by_key(|(i, _)| *i);
                let notes = self.pending_notes.remove(&g).unwrap_or_default();
                return Ok(Some(RunGroup { runs, notes }));
            }
        }
        if !self.building.is_empty() || !self.pending.is_empty() {
            let line = self.record.position().map_or(0, |p| p.line());
            return Err(file.changed(line, "fewer rows than the first pass"));
        }
        Ok(None)
    }
}

impl Iterator for RunGroups<'_> {
    type Item = Result<RunGroup, CurvesError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.advance() {
            Ok(Some(g)) => Some(Ok(g)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::read_curves;
    use super::*;
    use proptest::prelude::*;

    const HEAD: &str =
        "source,task,run_id,step,metric,metric_name,higher_is_better,epoch_time_s,energy_j";

    fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.csv");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    fn collect(file: &CurvesFile, grouping: Grouping) -> Vec<RunGroup> {
        file.groups(grouping)
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap()
    }

    #[test]
    fn interleaved_runs_come_out_when_complete_and_equal_the_one_pass_reader() {
        let text = format!(
            "{HEAD}\ns,t,a,2,0.2,acc,true,1,\ns,t,b,1,0.1,acc,true,1,5\n\ns,u,c,1,0.9,acc,true,,\n\
             s,t,a,1,0.1,acc,true,1,\ns,t,b,2,0.3,acc,true,1,5\n"
        );
        let (_dir, path) = write(&text);
        let file = CurvesFile::scan(&path).unwrap();
        assert_eq!(file.rows(), 5);
        let rows: Vec<usize> = file.runs().iter().map(|r| r.rows).collect();
        assert_eq!(rows, vec![2, 2, 1]);
        let per_run = collect(&file, Grouping::Run);
        let order: Vec<usize> = per_run.iter().flat_map(|g| g.indices()).collect();
        assert_eq!(order, vec![2, 0, 1], "in order of completion");
        let mut runs: Vec<(usize, CurveRun)> = per_run.into_iter().flat_map(|g| g.runs).collect();
        runs.sort_by_key(|r| r.0);
        let whole = read_curves(&path).unwrap();
        assert_eq!(runs.into_iter().map(|r| r.1).collect::<Vec<_>>(), whole);
        let per_task = collect(&file, Grouping::Task);
        let tasks: Vec<Vec<usize>> = per_task.iter().map(|g| g.indices().collect()).collect();
        assert_eq!(tasks, vec![vec![2], vec![0, 1]]);
        assert_eq!(per_task[1].rows(), 4);
    }

    #[test]
    fn the_first_pass_reports_bad_rows_like_the_one_pass_reader() {
        for bad in [
            "s,t,a,1,0.1,acc,true,,\ns,t,a,x,0.1,acc,true,,",
            "s,t,a,1,0.1,acc,true,,\ns,t,a,2,0.1,acc,false,,",
            "s,t,a,1,0.1,acc,true,-1,",
            "s,t,a,1,0.1,acc,true",
        ] {
            let text = format!("{HEAD}\n{bad}\n");
            let (_dir, path) = write(&text);
            let want = read_curves(&path).unwrap_err().to_string();
            let got = CurvesFile::scan(&path).unwrap_err().to_string();
            assert_eq!(got, want, "{bad}");
        }
    }

    #[test]
    fn a_file_changed_between_the_passes_is_an_error() {
        let (_dir, path) = write(&format!(
            "{HEAD}\ns,t,a,1,0.1,acc,true,,\ns,t,a,2,0.2,acc,true,,\n"
        ));
        let file = CurvesFile::scan(&path).unwrap();
        for changed in [
            format!("{HEAD}\ns,t,a,1,0.1,acc,true,,\n"),
            format!(
                "{HEAD}\ns,t,a,1,0.1,acc,true,,\ns,t,a,2,0.2,acc,true,,\ns,t,a,3,0.2,acc,true,,\n"
            ),
            format!("{HEAD}\ns,t,z,1,0.1,acc,true,,\n"),
        ] {
            std::fs::write(&path, &changed).unwrap();
            let err = file
                .groups(Grouping::Run)
                .unwrap()
                .find_map(Result::err)
                .expect("an error");
            assert!(err.to_string().contains("changed while"), "{err}");
        }
    }

    proptest! {
        /// Whatever the order of the rows, both passes give exactly the runs of the
        /// one-pass reader, each once, in groups that are whole runs or whole tasks.
        #[test]
        fn streaming_gives_the_runs_of_the_one_pass_reader(
            rows in proptest::collection::vec(
                (0usize..3, 0usize..4, 0u32..20, prop_oneof![Just(f64::NAN), -1.0f64..1.0], proptest::option::of(0.0f64..10.0)),
                0..60,
            ),
        ) {
            let mut text = format!("{HEAD}\n");
            for (task, run, step, metric, time) in &rows {
                let t = time.map_or(String::new(), |t| t.to_string());
                text.push_str(&format!("s,t{task},r{run},{step},{metric},acc,true,{t},\n"));
            }
            let (_dir, path) = write(&text);
            let whole = read_curves(&path).unwrap();
            let file = CurvesFile::scan(&path).unwrap();
            prop_assert_eq!(file.runs().len(), whole.len());
            for grouping in [Grouping::Run, Grouping::Task] {
                let mut got: Vec<(usize, CurveRun)> = Vec::new();
                for g in collect(&file, grouping) {
                    let tasks: Vec<&str> = g.runs.iter().map(|r| r.1.task.as_str()).collect();
                    prop_assert!(tasks.windows(2).all(|w| w[0] == w[1]));
                    prop_assert!(g.indices().collect::<Vec<_>>().windows(2).all(|w| w[0] < w[1]));
                    got.extend(g.runs);
                }
                got.sort_by_key(|r| r.0);
                prop_assert_eq!(got.iter().map(|r| r.0).collect::<Vec<_>>(), (0..whole.len()).collect::<Vec<_>>());
                // NaN metrics compare unequal: compare their text.
                let show = |r: &CurveRun| format!("{r:?}");
                prop_assert_eq!(
                    got.iter().map(|r| show(&r.1)).collect::<Vec<_>>(),
                    whole.iter().map(show).collect::<Vec<_>>()
                );
            }
        }
    }
}
