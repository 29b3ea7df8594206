//! The MHLW checklists shipped with Mamori as data files
//! (`data/checklists/*.toml`). The wording is MHLW's; each item keeps where
//! it was seen, so unverified wording stays marked until an administrator
//! imports the official workbook.

use super::Framework;
use crate::DomainError;

/// The shipped files, oldest first: (file name, contents).
const FILES: &[(&str, &str)] = &[(
    "mhlw-r6.toml",
    include_str!("../../../../data/checklists/mhlw-r6.toml"),
)];

/// Every shipped framework, parsed and checked, in edition order.
pub fn builtin_frameworks() -> Result<Vec<Framework>, DomainError> {
    FILES
        .iter()
        .map(|(name, text)| {
            // Name the file: a broken data file is a packaging error.
            Framework::from_toml(text)
                .map_err(|e| DomainError::invalid("builtin framework", format!("{name}: {e}")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_loads() {
        let frameworks = builtin_frameworks().expect("the shipped files load");
        assert_eq!(frameworks.len(), FILES.len());
    }
}
