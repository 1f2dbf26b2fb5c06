//! A bound on line length for every text log the workspace reads (curves CSV, CSV
//! histories, `steps.jsonl`): a reader that fails once a line grows past a limit, so that
//! a parser never allocates a buffer as long as a damaged or sparse file's "line" (a
//! 2 GB sparse `metrics.csv` is 2 GB of zeros without a newline).

use std::io::{self, Read};

/// Longest line any reader accepts: real rows are under a kilobyte, `steps.jsonl` lines
/// with forecasts and evidence a few kilobytes. An engineering bound, not fitted.
pub const MAX_LINE_BYTES: usize = 16 << 20;

/// Passes bytes through from `inner` and fails with [`io::ErrorKind::InvalidData`] once a
/// line (bytes since the last `\n`) is longer than its limit.
#[derive(Debug)]
pub struct LineLimited<R> {
    inner: R,
    limit: usize,
    current: usize,
    line: u64,
}

impl<R: Read> LineLimited<R> {
    /// Limits `inner`'s lines to [`MAX_LINE_BYTES`].
    pub fn new(inner: R) -> LineLimited<R> {
        LineLimited::with_limit(inner, MAX_LINE_BYTES)
    }

    /// Limits `inner`'s lines to `limit` bytes.
    pub fn with_limit(inner: R, limit: usize) -> LineLimited<R> {
        LineLimited {
            inner,
            limit,
            current: 0,
            line: 1,
        }
    }
}

impl<R: Read> Read for LineLimited<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &b in &buf[..n] {
            if b == b'\n' {
                self.current = 0;
                self.line += 1;
            } else {
                self.current += 1;
                if self.current > self.limit {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "line {} is longer than {} bytes, the limit for one line of a log \
                             (the file is damaged, sparse, or not a text log)",
                            self.line, self.limit
                        ),
                    ));
                }
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_fail_short_ones_pass() {
        let mut ok = String::new();
        LineLimited::with_limit("ab\ncd\n".as_bytes(), 2)
            .read_to_string(&mut ok)
            .unwrap();
        assert_eq!(ok, "ab\ncd\n");
        let err = LineLimited::with_limit(io::repeat(0), 1000)
            .read_to_end(&mut Vec::new())
            .unwrap_err();
        assert!(
            err.to_string().contains("line 1 is longer than 1000"),
            "{err}"
        );
    }
}
