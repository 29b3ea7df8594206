//! The deliverables of a survey (seed 資料1 §3.5 作成する図面、表、図書 and
//! §3.6; DESIGN §4): what each of ① to ⑦ holds, built from the checklist and
//! the ledger, the supervisor's review of a submitted version, the
//! difference between two versions, and the findings (指摘事項) that make
//! the summary of the report.
//!
//! A version's content is plain data (tables of text, and the diagram views)
//! so the store can freeze it as JSON at submission: a later change to the
//! ledger never changes what was submitted, reviewed or released.

mod build;
mod content;
mod discussion;
mod finding;
mod report;
mod review;

pub use build::{
    RespondentAnswers, backups_content, checklist_content, connections_content, network_content,
    structure_content,
};
pub use content::{
    ContentChange, ContentColumn, ContentRow, ContentTable, DeliverableContent, diff, missing_parts,
};
pub use discussion::{
    DEEP_DIVE_STEPS, DISCUSSION_READERS, DeepDiveAction, DeepDiveState, DiscussionRefused,
    DiscussionStep, MAX_COMMENT_CHARS, MAX_ROW_KEY_CHARS, MILESTONE_WARNING_DAYS, THREAD_STEPS,
    TextRule, ThreadAction, ThreadState, age_days, check_due, comment_text, decide_deep_dive,
    decide_thread, deep_dive_actions, discussion_access, may_see_discussion, milestone_warning,
    overdue_days, row_key, thread_actions,
};
pub use finding::{
    AffectedKind, AffectedRef, Finding, FindingStatus, FindingStep, MAX_FINDING_TEXT,
    MAX_TITLE_CHARS, Severity, finding_step, summary,
};
pub use report::{
    ReportContent, ReportDeliverable, ReportFile, cell_text, not_approved, not_approved_reason,
};
pub use review::{
    DeliverableState, REVIEW_STEPS, ReviewAction, ReviewRefused, ReviewStep, allowed_actions,
    check_complete, decide, next_actions,
};

use crate::checklist::RespondentRole;
use crate::ledger::labelled_enum;
use serde::{Deserialize, Serialize};

labelled_enum!(
    /// The seven deliverables of the seed's §3.5, in its order.
    DeliverableKind, "deliverable" {
        ChecklistExecutive => ("checklist-executive", "チェックリストによる調査結果（経営層向け）", "Checklist results (for executives)"),
        ChecklistAdministrator => ("checklist-administrator", "チェックリストによる調査結果（システム管理者向け）", "Checklist results (for system administrators)"),
        ChecklistUser => ("checklist-user", "チェックリストによる調査結果（利用者向け）", "Checklist results (for users)"),
        Backups => ("backups", "病院情報システムのバックアップ状況（表）", "Backup status of the hospital information systems (table)"),
        Connections => ("connections", "外部接続先一覧 および 外部接続先調査履歴", "External connections and their investigation log"),
        Network => ("network", "ネットワーク概要図", "Network overview diagram"),
        Structure => ("structure", "情報システム管理体制図", "Information system management structure chart"),
    }
);

impl DeliverableKind {
    /// 1–7, the seed's numbering (①–⑦).
    pub fn number(self) -> u8 {
        match self {
            DeliverableKind::ChecklistExecutive => 1,
            DeliverableKind::ChecklistAdministrator => 2,
            DeliverableKind::ChecklistUser => 3,
            DeliverableKind::Backups => 4,
            DeliverableKind::Connections => 5,
            DeliverableKind::Network => 6,
            DeliverableKind::Structure => 7,
        }
    }

    /// The deliverable of a number 1–7.
    pub fn from_number(number: u8) -> Option<DeliverableKind> {
        Self::ALL.iter().copied().find(|k| k.number() == number)
    }

    /// The circled numeral the seed uses: ① … ⑦.
    pub fn mark(self) -> char {
        char::from_u32(0x2460 + u32::from(self.number()) - 1).unwrap_or('?')
    }

    /// ①–③: built from the checklist rather than the ledger.
    pub fn is_checklist(self) -> bool {
        self.respondent_roles().is_some()
    }

    /// The respondents whose answers a checklist deliverable shows (the
    /// seed's three audiences); `None` for ④–⑦. Vendors and other
    /// respondents belong to none of the three.
    pub fn respondent_roles(self) -> Option<&'static [RespondentRole]> {
        match self {
            DeliverableKind::ChecklistExecutive => Some(&[RespondentRole::Director]),
            DeliverableKind::ChecklistAdministrator => Some(&[RespondentRole::Administrator]),
            DeliverableKind::ChecklistUser => Some(&[RespondentRole::User]),
            _ => None,
        }
    }

    /// The checklist deliverable that shows a respondent's answers.
    pub fn for_respondent(role: RespondentRole) -> Option<DeliverableKind> {
        Self::ALL
            .iter()
            .copied()
            .find(|k| k.respondent_roles().is_some_and(|r| r.contains(&role)))
    }
}

#[cfg(test)]
mod tests;
