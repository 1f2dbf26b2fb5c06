//! Fake powercap trees for unit tests.

use std::path::Path;

/// A powercap root in a temp dir, laid out like the kernel's flat listing.
pub(crate) struct FakePowercap {
    dir: tempfile::TempDir,
}

impl FakePowercap {
    pub(crate) fn new() -> FakePowercap {
        FakePowercap {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub(crate) fn root(&self) -> &Path {
        self.dir.path()
    }

    pub(crate) fn zone(&self, id: &str, name: &str, energy_uj: u64, range_uj: Option<u64>) {
        let z = self.dir.path().join(id);
        std::fs::create_dir_all(&z).expect("zone dir");
        std::fs::write(z.join("name"), format!("{name}\n")).expect("name");
        std::fs::write(z.join("energy_uj"), format!("{energy_uj}\n")).expect("energy");
        if let Some(r) = range_uj {
            std::fs::write(z.join("max_energy_range_uj"), format!("{r}\n")).expect("range");
        }
    }

    pub(crate) fn set(&self, id: &str, energy_uj: u64) {
        std::fs::write(
            self.dir.path().join(id).join("energy_uj"),
            format!("{energy_uj}\n"),
        )
        .expect("energy");
    }
}
