//! The audit log's hash chain. Each record's hash covers its own content and
//! the previous record's hash, so changing, removing or reordering a record
//! breaks the chain from that point on.

use crate::organisation::slug_enum;
use crate::{AccountId, OrgId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

slug_enum!(
    /// What happened. Stored by slug; the UI translates it.
    AuditAction, "action" {
        LoginSucceeded => "login.succeeded",
        LoginFailed => "login.failed",
        LoginLockedOut => "login.locked-out",
        SecondFactorFailed => "login.second-factor-failed",
        Logout => "logout",
        LogoutEverywhere => "logout.everywhere",
        SessionRevoked => "session.revoked",
        PasswordChanged => "password.changed",
        PasswordReset => "password.reset",
        AccountUnlocked => "account.unlocked",
        TotpEnrolmentStarted => "totp.enrolment-started",
        TotpEnabled => "totp.enabled",
        TotpDisabled => "totp.disabled",
        RecoveryCodesRegenerated => "recovery-codes.regenerated",
        RecoveryCodeUsed => "recovery-code.used",
        PreferencesChanged => "preferences.changed",
        OrganisationCreated => "organisation.created",
        OrganisationUpdated => "organisation.updated",
        AccountCreated => "account.created",
        AccountUpdated => "account.updated",
        TokenCreated => "token.created",
        TokenRevoked => "token.revoked",
        EngagementCreated => "engagement.created",
        EngagementUpdated => "engagement.updated",
        HospitalDataRead => "hospital-data.read",
        HospitalDataWritten => "hospital-data.written",
        AccessDenied => "access.denied",
        AuditExported => "audit.exported",
        ProgrammeCreated => "programme.created",
        ProgrammeUpdated => "programme.updated",
        CompanyEnrolled => "programme.company-enrolled",
        KickoffRecorded => "programme.kickoff-recorded",
        DocumentAdded => "programme.document-added",
        EngagementTransitioned => "engagement.transitioned",
        AgreementIssued => "agreement.issued",
        AgreementSigned => "agreement.signed",
        AgreementRevoked => "agreement.revoked",
        EstimateSubmitted => "estimate.submitted",
        OrderIssued => "order.issued",
        OrderSettled => "order.settled",
        PaymentRecorded => "payment.recorded",
        LetterTemplateSaved => "letter-template.saved",
        LetterGenerated => "letter.generated",
        FileRead => "file.read",
        FrameworkInstalled => "checklist.framework-installed",
        FrameworkImported => "checklist.framework-imported",
        ProgrammeFrameworkSet => "checklist.programme-framework-set",
        ProgrammeItemAdded => "checklist.programme-item-added",
        RespondentAdded => "checklist.respondent-added",
        RespondentLinkIssued => "checklist.respondent-link-issued",
        AnswerSaved => "checklist.answer-saved",
        AnswersImported => "checklist.answers-imported",
        SelfAssessmentSubmitted => "checklist.self-assessment-submitted",
        HearingRecorded => "hearing.recorded",
        AnswersConfirmed => "hearing.answers-confirmed",
        RequestRaised => "request.raised",
        RequestReceived => "request.received",
        RequestLapsed => "request.lapsed",
        InquiryOpened => "inquiry.opened",
        InquiryAnswered => "inquiry.answered",
        InquiryLapsed => "inquiry.lapsed",
        LinkRefused => "link.refused",
        LedgerRecordSaved => "ledger.record-saved",
        LedgerRecordDeleted => "ledger.record-deleted",
        LedgerImported => "ledger.imported",
        LedgerRecordConfirmed => "ledger.record-confirmed",
        LedgerPhotoAdded => "ledger.photo-added",
        CatalogueModelSaved => "catalogue.model-saved",
        CatalogueModelDeleted => "catalogue.model-deleted",
        CatalogueImported => "catalogue.imported",
        DeliverableSubmitted => "deliverable.submitted",
        DeliverableReviewed => "deliverable.reviewed",
        FindingRecorded => "finding.recorded",
        FindingReviewed => "finding.reviewed",
        ReportReleased => "report.released",
        ReportDownloaded => "report.downloaded",
        LabourPlanSaved => "labour.plan-saved",
        LabourHoursRecorded => "labour.hours-recorded",
        LabourHoursRemoved => "labour.hours-removed",
        LabourWeekReported => "labour.week-reported",
        LabourWeekReviewed => "labour.week-reviewed",
        LabourRateSet => "labour.rate-set",
        AdvisoriesImported => "advisories.imported",
        AdvisoriesMatched => "advisories.matched",
        AdvisoryMatchTriaged => "advisories.match-triaged",
        AdvisoryMatchReviewed => "advisories.match-reviewed",
        AdvisoryNoticeIssued => "advisories.notice-issued",
        AdvisoryCasesEscalated => "advisories.cases-escalated",
        StatisticsDrafted => "statistics.drafted",
        StatisticsPublished => "statistics.published",
        StatisticsDiscarded => "statistics.discarded",
        HospitalDataExported => "hospital-data.exported",
        HospitalDataErased => "hospital-data.erased",
        ReviewThreadOpened => "review.thread-opened",
        ReviewCommented => "review.commented",
        ReviewThreadResolved => "review.thread-resolved",
        ReviewThreadReopened => "review.thread-reopened",
        DeepDiveRequested => "deep-dive.requested",
        DeepDiveAnswered => "deep-dive.answered",
        DeepDiveClosed => "deep-dive.closed",
        DeepDiveSentBack => "deep-dive.sent-back",
    }
);

/// The hash before the first record.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The content of one audit record: who, when, what, on what, for which
/// hospital, from where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditContent {
    /// Milliseconds since the Unix epoch (UTC).
    pub occurred_at_ms: i64,
    pub actor_account: Option<AccountId>,
    /// The actor as they were known at the time (e-mail), kept even if the
    /// account is later renamed.
    pub actor_label: String,
    pub actor_org: Option<OrgId>,
    pub action: String,
    /// `kind:id` of what was touched, e.g. `organisation:12`.
    pub target: String,
    pub hospital: Option<OrgId>,
    pub client_addr: Option<String>,
    pub detail: String,
}

/// A stored record: its position in the chain and the two hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub seq: i64,
    pub content: AuditContent,
    pub prev_hash: String,
    pub hash: String,
}

/// SHA-256 over the previous hash, the sequence number and every field,
/// each length-prefixed so that no two different records encode alike.
pub fn chain_hash(prev_hash: &str, seq: i64, content: &AuditContent) -> String {
    let mut hasher = Sha256::new();
    let mut field = |bytes: &[u8]| {
        hasher.update((bytes.len() as u64).to_be_bytes());
        hasher.update(bytes);
    };
    let optional = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    field(b"mamori-audit-v1");
    field(prev_hash.as_bytes());
    field(seq.to_string().as_bytes());
    field(content.occurred_at_ms.to_string().as_bytes());
    field(optional(content.actor_account.map(|a| a.0)).as_bytes());
    field(content.actor_label.as_bytes());
    field(optional(content.actor_org.map(|o| o.0)).as_bytes());
    field(content.action.as_bytes());
    field(content.target.as_bytes());
    field(optional(content.hospital.map(|h| h.0)).as_bytes());
    field(content.client_addr.as_deref().unwrap_or("").as_bytes());
    field(content.detail.as_bytes());
    hex::encode(hasher.finalize())
}

/// Where and why the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("record {seq}: content does not match its hash (changed after it was written)")]
    ContentChanged { seq: i64 },
    #[error("record {seq}: previous-hash link does not match record {previous}")]
    LinkBroken { seq: i64, previous: i64 },
    #[error("record {seq}: expected sequence number {expected} (a record is missing)")]
    Gap { seq: i64, expected: i64 },
    #[error("chain ends at record {last} but the head says {head} (records removed from the end)")]
    Truncated { last: i64, head: i64 },
}

/// Walks records in sequence order and checks each link. Feed it every
/// record from the first; it keeps only the previous hash, so a log of any
/// length is checked in constant memory.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    expected_seq: i64,
    prev_hash: String,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self {
            expected_seq: 1,
            prev_hash: GENESIS_HASH.to_string(),
        }
    }
}

impl ChainVerifier {
    pub fn check(&mut self, record: &AuditRecord) -> Result<(), ChainBreak> {
        if record.seq != self.expected_seq {
            return Err(ChainBreak::Gap {
                seq: record.seq,
                expected: self.expected_seq,
            });
        }
        if record.prev_hash != self.prev_hash {
            return Err(ChainBreak::LinkBroken {
                seq: record.seq,
                previous: record.seq - 1,
            });
        }
        if chain_hash(&record.prev_hash, record.seq, &record.content) != record.hash {
            return Err(ChainBreak::ContentChanged { seq: record.seq });
        }
        self.prev_hash = record.hash.clone();
        self.expected_seq += 1;
        Ok(())
    }

    /// Records checked so far.
    pub fn checked(&self) -> i64 {
        self.expected_seq - 1
    }

    /// Compares the end of the walk with the head the store keeps.
    pub fn finish(&self, head_seq: i64) -> Result<i64, ChainBreak> {
        if self.checked() != head_seq {
            return Err(ChainBreak::Truncated {
                last: self.checked(),
                head: head_seq,
            });
        }
        Ok(self.checked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content(n: i64) -> AuditContent {
        AuditContent {
            occurred_at_ms: 1_700_000_000_000 + n,
            actor_account: Some(AccountId(1)),
            actor_label: "a@example.jp".into(),
            actor_org: Some(OrgId(2)),
            action: AuditAction::HospitalDataRead.slug().into(),
            target: format!("organisation:{n}"),
            hospital: Some(OrgId(n)),
            client_addr: Some("127.0.0.1".into()),
            detail: String::new(),
        }
    }

    fn chain(n: i64) -> Vec<AuditRecord> {
        let mut prev = GENESIS_HASH.to_string();
        (1..=n)
            .map(|seq| {
                let content = content(seq);
                let hash = chain_hash(&prev, seq, &content);
                let record = AuditRecord {
                    seq,
                    content,
                    prev_hash: prev.clone(),
                    hash: hash.clone(),
                };
                prev = hash;
                record
            })
            .collect()
    }

    fn verify(records: &[AuditRecord], head: i64) -> Result<i64, ChainBreak> {
        let mut v = ChainVerifier::default();
        for r in records {
            v.check(r)?;
        }
        v.finish(head)
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(verify(&chain(5), 5), Ok(5));
        assert_eq!(verify(&[], 0), Ok(0));
    }

    #[test]
    fn a_changed_field_names_its_record() {
        let mut records = chain(5);
        records[2].content.detail = "edited".into();
        assert_eq!(
            verify(&records, 5),
            Err(ChainBreak::ContentChanged { seq: 3 })
        );
    }

    #[test]
    fn a_recomputed_hash_breaks_the_next_link() {
        let mut records = chain(5);
        records[1].content.actor_label = "someone@else".into();
        records[1].hash = chain_hash(&records[1].prev_hash, 2, &records[1].content);
        assert_eq!(
            verify(&records, 5),
            Err(ChainBreak::LinkBroken {
                seq: 3,
                previous: 2
            })
        );
    }

    #[test]
    fn removed_records_are_found() {
        let mut records = chain(5);
        records.remove(1);
        assert_eq!(
            verify(&records, 5),
            Err(ChainBreak::Gap {
                seq: 3,
                expected: 2
            })
        );
        let records = chain(5);
        assert_eq!(
            verify(&records[..4], 5),
            Err(ChainBreak::Truncated { last: 4, head: 5 })
        );
    }

    #[test]
    fn field_boundaries_matter() {
        let mut a = content(1);
        let mut b = content(1);
        a.actor_label = "ab".into();
        a.target = "c".into();
        b.actor_label = "a".into();
        b.target = "bc".into();
        assert_ne!(
            chain_hash(GENESIS_HASH, 1, &a),
            chain_hash(GENESIS_HASH, 1, &b)
        );
    }
}
