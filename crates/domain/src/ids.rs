use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// An organisation: secretariat, supervisor, survey company, hospital, ministry or vendor.
    OrgId
);
id_type!(
    /// A person's account.
    AccountId
);
id_type!(
    /// One survey of one hospital by one survey company within a programme.
    EngagementId
);
id_type!(
    /// A survey programme: one fiscal year's surveys under one procedure.
    ProgrammeId
);
