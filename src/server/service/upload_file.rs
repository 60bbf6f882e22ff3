//! Uploaded files while they wait for their import, and the rule that they never outlive
//! it: a file being received is a [`TempUpload`], removed when dropped unless handed over
//! to an import; an import's file is removed when the import ends (`import::spawn_run`);
//! and whatever a stopped process left behind is swept when the server starts.

use std::{
    collections::HashSet,
    io,
    path::{Path, PathBuf},
};

/// A file being uploaded (`upload-<random>.tmp` in the upload folder). Dropping it
/// removes the file, so every way out of a handler removes it: an error, a refusal, and
/// the handler's future dropped by the upload deadline or a client that went away.
#[derive(Debug)]
pub struct TempUpload {
    path: PathBuf,
    /// False once the file belongs to an import.
    armed: bool,
}

impl TempUpload {
    /// Creates an empty upload file in `dir` (made if missing).
    pub fn create(dir: &Path) -> io::Result<(Self, tokio::fs::File)> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(format!(
            "upload-{}.tmp",
            crate::server::auth::session::new_token()
        ));
        // Created synchronously (one quick syscall): created on the blocking pool, a file
        // could appear after a cancelled handler's guard had already removed it.
        let file = std::fs::File::create(&path)?;
        let guard = TempUpload { path, armed: true };
        Ok((guard, tokio::fs::File::from_std(file)))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Moves the file to `to`, where an import reads it; it is no longer removed on drop.
    pub fn hand_over(mut self, to: &Path) -> io::Result<()> {
        // Synchronous for the same reason as `create`: a rename finishing after this
        // guard was dropped would leave a file nobody owns.
        std::fs::rename(&self.path, to)?;
        self.armed = false;
        Ok(())
    }
}

impl Drop for TempUpload {
    fn drop(&mut self) {
        if self.armed
            && let Err(e) = std::fs::remove_file(&self.path)
            && e.kind() != io::ErrorKind::NotFound
        {
            tracing::warn!(path = %self.path.display(), error = %e, "cannot remove upload");
        }
    }
}

/// Removes what a stopped process left in the upload folder: uploads cut off mid-way
/// (`upload-*.tmp`) and files of imports that are no longer running (`<id>.csv`). Other
/// files are left alone. Returns how many files were removed.
///
/// Run at start, before the server takes requests: the folder is this instance's, so no
/// upload can be in flight.
pub fn sweep(dir: &Path, running: &HashSet<i64>) -> io::Result<usize> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut removed = 0;
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let orphan = if name.starts_with("upload-") && name.ends_with(".tmp") {
            true
        } else if let Some(id) = name.strip_suffix(".csv") {
            id.parse::<i64>().is_ok_and(|id| !running.contains(&id))
        } else {
            false
        };
        if orphan {
            std::fs::remove_file(entry.path())?;
            tracing::info!(file = %name, "removed a leftover upload");
            removed += 1;
        }
    }
    Ok(removed)
}
