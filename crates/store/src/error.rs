use mamori_domain::DomainError;
use mamori_domain::policy::Denied;
use thiserror::Error;

/// Everything the store can refuse or fail at. The edge turns these into
/// messages for people; `Database` is never shown verbatim to a user.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("DATABASE_URL: {0}")]
    BadUrl(String),
    #[error("database unreachable: {0}")]
    Unreachable(String),
    #[error(transparent)]
    Invalid(#[from] DomainError),
    #[error("{what} already exists: {value}")]
    Duplicate { what: &'static str, value: String },
    #[error("{what} not found: {key}")]
    NotFound { what: &'static str, key: String },
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error("not allowed: {0}")]
    Forbidden(&'static str),
    #[error(transparent)]
    Transition(#[from] mamori_domain::lifecycle::TransitionRefused),
    #[error("conflict: {0}")]
    Conflict(String),
    /// A link (respondent, vendor inquiry) past its expiry.
    #[error("this link has expired")]
    LinkExpired,
    /// A link that has done its one job (an answered inquiry).
    #[error("this link has been used already")]
    LinkUsed,
    #[error("migration {version} ({name}) was changed after it was applied")]
    MigrationChanged { version: i64, name: String },
    #[error("the database is at schema version {found}, newer than this binary knows ({known})")]
    SchemaTooNew { found: i64, known: i64 },
    #[error("corrupt stored value in {column}: {value}")]
    Corrupt { column: &'static str, value: String },
    #[error("password hashing failed: {0}")]
    Hashing(String),
    /// The secret key from the configuration (MAMORI_SECRET_KEY) is
    /// missing, malformed, or not the one the secrets were sealed with.
    #[error("secret key: {0}")]
    BadSecretKey(String),
    /// The bucket for stored files (MAMORI_S3_*) refused or did not answer.
    #[error("object storage: {0}")]
    ObjectStorage(String),
    /// The shared writer of read records failed; the read was not handed out.
    #[error("audit log: {0}")]
    AuditLog(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl StoreError {
    /// Turns a unique-constraint violation into a `Duplicate`; other errors pass.
    pub(crate) fn on_unique(what: &'static str, value: &str) -> impl FnOnce(sqlx::Error) -> Self {
        move |err| match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Duplicate {
                what,
                value: value.to_string(),
            },
            _ => StoreError::Database(err),
        }
    }
}

pub(crate) fn corrupt(column: &'static str) -> impl FnOnce(DomainError) -> StoreError {
    move |err| StoreError::Corrupt {
        column,
        value: err.to_string(),
    }
}
