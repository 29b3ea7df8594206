//! Mamori's storage: one interface over SQLite (the embedded default) and
//! PostgreSQL (scale-out), with versioned migrations shared by both.
//!
//! Every operation that changes data, and every read of a hospital's data,
//! appends an audit record in the same transaction.

mod accounts;
mod advisories;
mod advisory_response;
mod audit;
mod background_jobs;
pub mod backup;
mod blobs;
mod bulk;
mod checklists;
pub mod credentials;
mod data_return;
mod db;
mod deliverables;
mod engagements;
mod error;
mod files;
mod findings;
mod hearings;
mod hospital;
mod labour;
mod ledger;
mod letters;
mod library;
mod lifecycle;
mod migrate;
mod notifications;
mod organisations;
mod programmes;
mod releases;
mod review;
pub mod secret_key;
mod sessions;
mod statistics;
#[cfg(feature = "testing")]
pub mod testing;
mod timeline;
mod tokens;
pub mod walk;

pub use accounts::{Account, LoginOutcome, NewAccount, SecondFactorOutcome, TotpEnrolment};
pub use advisories::{AdvisoryImportSummary, AdvisoryMatch, MatchQuery, RematchSummary};
pub use advisory_response::{AdvisoryResponse, MatchStep, StoredNotice};
pub use audit::{AuditContext, AuditFilter, AuditPage};
pub use background_jobs::BackgroundJob;
pub use blobs::ObjectStorageConfig;
pub use bulk::{BulkCounts, BulkEngagement, BulkLabour, BulkRespondent, noon_ms};
pub use checklists::{
    ChecklistProgress, EngagementChecklist, EngagementProgress, FrameworkRecord, LinkedRespondent,
    MAX_LINK_DAYS, NewProgrammeItem, NewRespondent, NotUnderstoodItem, Respondent, RespondentSheet,
    SUPPLEMENT_FORM, supplement_form, supplement_key,
};
pub use data_return::DataReturnRecord;
pub use db::{Backend, Clock, JST, Store, now_ms};
pub use deliverables::{DeliverableRecord, DeliverableReview, MAX_REVIEW_NOTE};
pub use engagements::{
    CandidateDetails, Engagement, EngagementCounts, EngagementFilter, EngagementOverview,
    EngagementOverviewPage, NewCandidate, Paging,
};
pub use error::StoreError;
pub use files::{MAX_FILE_BYTES, NewFile, StoredFile};
pub use findings::{FindingDraft, FindingRecord, FindingStepRecord};
pub use hearings::{
    ConfirmedAnswer, ConfirmedCells, DEFAULT_INQUIRY_LINK_DAYS, Hearing, InquiryView,
    MaterialRequest, NewHearing, NewInquiry, NewRequest, Participant, VendorInquiry,
};
pub use hospital::{FacilityProfile, HospitalSummary};
pub use labour::{
    DEFAULT_RATE_YEN, EngagementLabour, LabourEntryRecord, LabourWeek, WeekStepRecord,
};
pub use ledger::{
    ChangeAction, ChangeSource, HistoryFilter, ImportOutcome, LedgerChange, LedgerPhoto,
    LedgerRevision, LedgerTablePage, MAX_PHOTO_CAPTION_CHARS, RecordMeta, StoredDeviceModel,
    StoredLedger,
};
pub use letters::{LetterFacts, LetterTemplate, Letterhead};
pub use lifecycle::{
    Agreement, EngagementDetail, Estimate, GeneratedDocument, NewPayment, Order, Payment,
    TransitionRecord,
};
pub use migrate::MigrationReport;
pub use notifications::{Notification, NotificationKind, OutboxMail};
pub use organisations::{NewOrganisation, Organisation};
pub use programmes::{
    CompanyEnrolment, DEFAULT_HONORARIUM_RATE_YEN, Kickoff, Programme, ProgrammeCompany,
    ProgrammeDetail, ProgrammeDocument, ProgrammeFields, Surveyor,
};
pub use releases::{ReleaseFile, ReleaseRecord, RenderedFile};
pub use review::{
    Anchor, DeepDive, DeepDiveStepRecord, InterimReview, QueuedDeepDive, QueuedDeliverable,
    ReviewComment, ReviewQueue, ReviewThread, UnreviewedEngagement,
};
pub use sessions::{Session, SessionInfo};
pub use statistics::StatisticsRelease;
pub use timeline::{TimelineEntry, TimelineStep};
pub use tokens::ApiToken;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
