//! Atomic file writes for the host tools (`std` feature): a reader, or a
//! crash, sees the old file or the new one, never half of one. The trainer
//! writes every output through [`write_atomic_creating_dirs`] (its run and
//! model folders appear as needed), the simulator through [`write_atomic`]
//! (a PNG path in a missing folder is an error).

use std::format;
use std::io::{self, Write};
use std::path::Path;

/// The error `e` of `step` on `path`, naming both.
fn named(step: &str, path: &Path) -> impl FnOnce(io::Error) -> io::Error {
    let step = format!("{step} {}", path.display());
    move |e: io::Error| io::Error::new(e.kind(), format!("{step}: {e}"))
}

/// The folder `path` is written in.
fn folder_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// [`write_atomic`], creating the folder of `path` (and its parents) first.
pub fn write_atomic_creating_dirs(path: &Path, bytes: &[u8]) -> io::Result<()> {
    std::fs::create_dir_all(folder_of(path)).map_err(named("creating the folder of", path))?;
    write_atomic(path, bytes)
}

/// Writes `bytes` to `path` via a temporary file in the same folder (which
/// must exist), flushed to disk (`fsync`), made readable like a file from
/// `std::fs::write` (0644 on Unix), then renamed over `path`. Errors name
/// the file and the step that failed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let named = |step: &str| named(step, path);
    let dir = folder_of(path);
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(named("creating a temporary file for"))?;
    tmp.write_all(bytes).map_err(named("writing"))?;
    // Temporary files are created private (0600).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(named("setting permissions of"))?;
    }
    tmp.as_file().sync_all().map_err(named("flushing"))?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .map_err(named("renaming into"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{write_atomic, write_atomic_creating_dirs};

    #[test]
    fn replaces_whole_files_and_names_the_file_on_failure() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/out.bin");
        let err = write_atomic(&path, b"first").unwrap_err();
        assert!(std::format!("{err}").contains("out.bin"), "{err}");
        assert!(!path.parent().unwrap().exists(), "no folder made");
        write_atomic_creating_dirs(&path, b"first").unwrap();
        write_atomic(&path, b"second, longer").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second, longer");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o644);
        }
        // No temporary file is left behind.
        let names: std::vec::Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [std::ffi::OsString::from("out.bin")]);
        // A folder in the way: the error names the file, the old one stays.
        let blocked = path.join("inner.bin");
        let err = write_atomic_creating_dirs(&blocked, b"x").unwrap_err();
        assert!(std::format!("{err}").contains("inner.bin"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), b"second, longer");
    }
}
