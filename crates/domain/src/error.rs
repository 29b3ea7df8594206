use thiserror::Error;

/// Why a value given to the domain was refused. Messages name the field and
/// the reason; the edge translates them for the user.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DomainError {
    #[error("{field}: unknown value `{value}` (valid: {valid})")]
    UnknownValue {
        field: &'static str,
        value: String,
        valid: String,
    },
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
}

impl DomainError {
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        DomainError::Invalid {
            field,
            reason: reason.into(),
        }
    }
}
