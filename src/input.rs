//! Reading input files the same careful way everywhere: a regular file, of bounded size, in
//! UTF-8, with an error that says where it is not.

use std::io::Read;
use std::path::Path;

use crate::error::{InputError, Location};

/// Largest scenario or limits file read (a 100,000-point sweep fits in well under 1 MiB).
pub const MAX_INPUT_BYTES: u64 = 16 << 20;

/// Reads a whole text file of at most `max_bytes`, naming `what` it is in errors.
pub fn read_text(path: &Path, what: &str, max_bytes: u64) -> Result<String, InputError> {
    let name = path.display().to_string();
    let err = |m: String| InputError::new(&name, m);
    // Look before opening: opening a named pipe would wait for a writer.
    let meta = std::fs::metadata(path).map_err(|e| err(format!("cannot read {what}: {e}")))?;
    if meta.is_dir() {
        return Err(err(format!("this is a folder; give the path of a {what}")));
    }
    if !meta.is_file() {
        return Err(err(format!(
            "not a regular file (a device, pipe or socket); give the path of a {what}"
        )));
    }
    let file = std::fs::File::open(path).map_err(|e| err(format!("cannot read {what}: {e}")))?;
    let mut bytes = Vec::new();
    file.take(max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| err(format!("cannot read {what}: {e}")))?;
    if bytes.len() as u64 > max_bytes {
        return Err(err(format!(
            "the {what} is larger than the {} MiB allowed",
            max_bytes >> 20
        )));
    }
    String::from_utf8(bytes).map_err(|e| {
        let good = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let prefix = std::str::from_utf8(&bytes[..good]).expect("valid up to here");
        err(format!(
            "byte 0x{:02X} is not valid UTF-8: save the {what} as UTF-8 text",
            bytes[good]
        ))
        .at(Location::of_offset(prefix, good))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_utf8_is_located_and_oversized_files_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.toml");
        std::fs::write(&p, b"name = \"a\"\nseed = \xFF1\n").unwrap();
        let e = read_text(&p, "scenario file", MAX_INPUT_BYTES).unwrap_err();
        assert_eq!(e.location, Location::at(2, 8));
        assert!(e.message.contains("0xFF"), "{}", e.message);
        std::fs::write(&p, vec![b'#'; 2048]).unwrap();
        let e = read_text(&p, "scenario file", 1024).unwrap_err();
        assert!(e.message.contains("larger than"), "{}", e.message);
        let e = read_text(dir.path(), "scenario file", 1024).unwrap_err();
        assert!(e.message.contains("folder"), "{}", e.message);
    }
}
