//! Mamori's domain: the vocabulary of the survey programme and the rules that
//! do not depend on any database, framework or clock.

pub mod aggregates;
pub mod agreement;
pub mod audit;
pub mod checklist;
pub mod cpe;
pub mod data_return;
pub mod deliverable;
pub mod engagement;
pub mod error;
pub mod ids;
pub mod labour;
pub mod ledger;
pub mod lifecycle;
pub mod organisation;
pub mod policy;
pub mod schedule;
pub mod statistics;
pub mod triage;
pub mod validate;

pub use error::DomainError;
pub use ids::{AccountId, EngagementId, OrgId, ProgrammeId};
