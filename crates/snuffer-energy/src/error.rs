//! The crate's one error type.

use std::path::PathBuf;

/// Errors from meters and the sampler.
///
/// Every variant says which source, file or line is involved and, where there
/// is one, what to do about it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnergyError {
    /// A source could not be read.
    #[error("{source_name}: {message}")]
    Unavailable {
        /// The meter.
        source_name: String,
        /// What went wrong and what to do.
        message: String,
    },

    /// The kernel refused to let this user read an energy counter.
    #[error(
        "permission denied reading {path}: since Linux 5.10 the RAPL energy counters are readable \
         by root only, because their fine-grained updates leak what a CPU computes (the PLATYPUS \
         power side channel, CVE-2020-8694). To measure as this user, grant read access to a \
         trusted group, e.g. a udev rule `SUBSYSTEM==\"powercap\", ACTION==\"add\", \
         RUN+=\"/bin/chgrp -R energy /sys%p\", RUN+=\"/bin/chmod -R g+r /sys%p\"` (see \
         snuffer-energy's docs) and add yourself to that group; do not make energy_uj \
         world-readable, which reopens the side channel for every user"
    )]
    PermissionDenied {
        /// The file that could not be read.
        path: PathBuf,
    },

    /// A file could not be read (other than for permissions).
    #[error("cannot read {path}: {error}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        error: std::io::Error,
    },

    /// A file held something other than what the kernel documents.
    #[error("unexpected content in {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },

    /// A trace row could not be used.
    #[error("{path}, line {line}: {message}")]
    TraceRow {
        /// The trace file.
        path: PathBuf,
        /// 1-based line number in the file (the header is line 1).
        line: u64,
        /// What is wrong with the row and what is expected.
        message: String,
    },

    /// NVML answered with an error for a device that exists.
    #[error("NVML, {device}: {message}")]
    Gpu {
        /// The device (`gpu:0`, …).
        device: String,
        /// What went wrong.
        message: String,
    },

    /// A configuration value is out of range.
    #[error("invalid setting {setting}: {message}")]
    InvalidConfig {
        /// The setting.
        setting: &'static str,
        /// Why it is invalid and what is expected.
        message: String,
    },

    /// The sampler could not start or has no data for the request.
    #[error("sampler: {message}")]
    Sampler {
        /// What went wrong.
        message: String,
    },
}

impl EnergyError {
    /// Map an I/O error on `path` to the right variant (permission problems get the
    /// explanation and the fix).
    pub fn from_io(path: impl Into<PathBuf>, error: std::io::Error) -> EnergyError {
        let path = path.into();
        if error.kind() == std::io::ErrorKind::PermissionDenied {
            EnergyError::PermissionDenied { path }
        } else {
            EnergyError::Read { path, error }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_error_explains_platypus_and_group_fix() {
        let e = EnergyError::from_io(
            "/sys/class/powercap/intel-rapl:0/energy_uj",
            std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        );
        let msg = e.to_string();
        assert!(matches!(e, EnergyError::PermissionDenied { .. }));
        for needle in ["PLATYPUS", "CVE-2020-8694", "udev", "group", "do not make"] {
            assert!(msg.contains(needle), "message lacks {needle:?}: {msg}");
        }
        assert!(!msg.contains("chmod a+r") && !msg.contains("o+r"), "{msg}");
    }

    #[test]
    fn other_io_errors_keep_the_path() {
        let e = EnergyError::from_io(
            "/x/energy_uj",
            std::io::Error::from(std::io::ErrorKind::NotFound),
        );
        assert!(matches!(e, EnergyError::Read { .. }));
        assert!(e.to_string().contains("/x/energy_uj"));
    }
}
