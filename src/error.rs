//! Errors at the edges (reading files, validating, writing outputs). The engine itself cannot fail.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where in an input file a problem is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl Location {
    pub fn at(line: usize, column: usize) -> Location {
        Location {
            line: Some(line),
            column: Some(column),
        }
    }

    pub fn line(line: usize) -> Location {
        Location {
            line: Some(line),
            column: None,
        }
    }

    /// 1-based line and column of byte `offset` in `source`.
    pub fn of_offset(source: &str, offset: usize) -> Location {
        let offset = offset.min(source.len());
        let before = &source[..offset];
        let line = before.matches('\n').count() + 1;
        let column = before.rfind('\n').map_or(before.chars().count(), |nl| {
            before[nl + 1..].chars().count()
        }) + 1;
        Location::at(line, column)
    }
}

/// A problem with something the user gave us: names the file, where, the field, and what is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    pub file: String,
    pub location: Location,
    /// Dotted path of the field, e.g. `traffic[0].arrivals.rate_per_sec`, or a CSV column name.
    pub field: Option<String>,
    pub message: String,
}

impl InputError {
    pub fn new(file: impl Into<String>, message: impl Into<String>) -> InputError {
        InputError {
            file: file.into(),
            location: Location::default(),
            field: None,
            message: message.into(),
        }
    }

    pub fn at(mut self, location: Location) -> InputError {
        self.location = location;
        self
    }

    pub fn field(mut self, field: impl Into<String>) -> InputError {
        self.field = Some(field.into());
        self
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.location.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.location.column {
                write!(f, ":{col}")?;
            }
        }
        f.write_str(": ")?;
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// Every error ratesim reports. Bad input exits with code 2, failed output with code 1.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Input(InputError),
    /// Several input problems at once (e.g. `validate` on many files): one per line, each
    /// line after the first prefixed like the first (`error: `) by the caller's prefix.
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\nerror: "))]
    Inputs(Vec<InputError>),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Usage(String),
}

impl Error {
    pub fn io(path: &Path, source: std::io::Error) -> Error {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Input(_) | Error::Inputs(_) | Error::Usage(_) => 2,
            Error::Io { .. } => 1,
        }
    }
}

impl From<InputError> for Error {
    fn from(e: InputError) -> Error {
        Error::Input(e)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_one_based_lines_and_columns() {
        let src = "a = 1\nbb = 2\n";
        assert_eq!(Location::of_offset(src, 0), Location::at(1, 1));
        assert_eq!(Location::of_offset(src, 6), Location::at(2, 1));
        assert_eq!(Location::of_offset(src, 11), Location::at(2, 6));
    }

    #[test]
    fn message_names_file_place_and_field() {
        let e = InputError::new("s.toml", "must be > 0, got -3")
            .at(Location::at(4, 9))
            .field("traffic[0].arrivals.rate_per_sec");
        assert_eq!(
            e.to_string(),
            "s.toml:4:9: traffic[0].arrivals.rate_per_sec: must be > 0, got -3"
        );
    }
}
