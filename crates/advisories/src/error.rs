//! Why a file or a record was not read.

/// A record (or a whole file) that could not be read, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {reason}")]
pub struct Rejected {
    /// The file, and inside it a JSON path (`$.vulnerabilities[3].cve.id`)
    /// or an XML line (`line 42`).
    pub location: String,
    pub reason: String,
}

impl Rejected {
    pub fn new(location: impl Into<String>, reason: impl Into<String>) -> Rejected {
        Rejected {
            location: location.into(),
            reason: reason.into(),
        }
    }
}

/// The crate's error: a file that cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum AdvisoryError {
    #[error(transparent)]
    Rejected(#[from] Rejected),
    #[error("reading {location}: {source}")]
    Io {
        location: String,
        #[source]
        source: std::io::Error,
    },
}
