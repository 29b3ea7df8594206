//! The supervisor's talk with a survey company about its deliverables
//! (DESIGN §4 "threaded comments from the supervisor"; the seed's 監督企業
//! read every document and asked for what was vague or missing):
//!
//! - comment threads anchored to a deliverable, optionally to one row of
//!   its frozen content and to a version;
//! - deep-dive requests (深掘り依頼) with a due date, answered by the
//!   company and closed or sent back by the supervisor.
//!
//! This is the review's internal talk: the secretariat reads it, the
//! supervisor and the contracted company take part, nobody else sees it.

use crate::DomainError;
use crate::ledger::labelled_enum;
use crate::organisation::OrgKind;
use crate::policy::{Access, Actor};
use crate::validate;
use serde::{Deserialize, Serialize};
use time::Date;

/// The longest comment, answer or request text.
pub const MAX_COMMENT_CHARS: usize = 4_000;

/// The longest row key a thread or a deep dive is anchored to.
pub const MAX_ROW_KEY_CHARS: usize = 200;

labelled_enum!(
    /// Where a comment thread stands.
    ThreadState, "thread_state" {
        Open => ("open", "未解決", "open"),
        Resolved => ("resolved", "解決済", "resolved"),
    }
);

labelled_enum!(
    /// One step of a thread; each is kept as a comment.
    ThreadAction, "thread_action" {
        /// Starts the thread with its first comment.
        Open => ("open", "指摘", "open"),
        Reply => ("reply", "返信", "reply"),
        Resolve => ("resolve", "解決", "resolve"),
        Reopen => ("reopen", "再開", "reopen"),
    }
);

labelled_enum!(
    /// Where a deep-dive request stands.
    DeepDiveState, "deep_dive_state" {
        Requested => ("requested", "依頼中", "requested"),
        Answered => ("answered", "回答済", "answered"),
        Closed => ("closed", "完了", "closed"),
    }
);

labelled_enum!(
    /// One step of a deep-dive request.
    DeepDiveAction, "deep_dive_action" {
        Request => ("request", "依頼", "request"),
        /// The company's answer, which marks its work done.
        Answer => ("answer", "回答", "answer"),
        Close => ("close", "完了確認", "close"),
        /// Back to the company: the answer is not enough.
        SendBack => ("send-back", "差し戻し", "send back"),
    }
);

/// Whether a step's text may be empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextRule {
    Required,
    Optional,
}

/// One allowed step of a thread or a deep dive: from which state (`None`:
/// it does not exist yet), by which kinds of organisation, to which state,
/// and whether the step needs a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiscussionStep<S: 'static, A: 'static> {
    pub from: Option<S>,
    pub action: A,
    pub to: S,
    pub owners: &'static [OrgKind],
    pub text: TextRule,
}

const SUPERVISOR: &[OrgKind] = &[OrgKind::Supervisor];
const COMPANY: &[OrgKind] = &[OrgKind::SurveyCompany];
const SUPERVISOR_OR_COMPANY: &[OrgKind] = &[OrgKind::Supervisor, OrgKind::SurveyCompany];

/// The organisations that take part in the review talk; the secretariat
/// only reads it.
pub const DISCUSSION_READERS: &[OrgKind] = &[
    OrgKind::Secretariat,
    OrgKind::Supervisor,
    OrgKind::SurveyCompany,
];

type ThreadStep = DiscussionStep<ThreadState, ThreadAction>;
type DeepDiveStep = DiscussionStep<DeepDiveState, DeepDiveAction>;

/// Every allowed thread step. The company may close a thread only by
/// answering it (a resolve with text): it cannot silence a question, and
/// only the supervisor reopens.
pub const THREAD_STEPS: &[ThreadStep] = &[
    DiscussionStep {
        from: None,
        action: ThreadAction::Open,
        to: ThreadState::Open,
        owners: SUPERVISOR,
        text: TextRule::Required,
    },
    DiscussionStep {
        from: Some(ThreadState::Open),
        action: ThreadAction::Reply,
        to: ThreadState::Open,
        owners: SUPERVISOR_OR_COMPANY,
        text: TextRule::Required,
    },
    DiscussionStep {
        from: Some(ThreadState::Open),
        action: ThreadAction::Resolve,
        to: ThreadState::Resolved,
        owners: SUPERVISOR,
        text: TextRule::Optional,
    },
    DiscussionStep {
        from: Some(ThreadState::Open),
        action: ThreadAction::Resolve,
        to: ThreadState::Resolved,
        owners: COMPANY,
        text: TextRule::Required,
    },
    DiscussionStep {
        from: Some(ThreadState::Resolved),
        action: ThreadAction::Reopen,
        to: ThreadState::Open,
        owners: SUPERVISOR,
        text: TextRule::Optional,
    },
];

/// Every allowed deep-dive step. The supervisor may close an unanswered
/// request too (withdrawn); a send-back says why.
pub const DEEP_DIVE_STEPS: &[DeepDiveStep] = &[
    DiscussionStep {
        from: None,
        action: DeepDiveAction::Request,
        to: DeepDiveState::Requested,
        owners: SUPERVISOR,
        text: TextRule::Required,
    },
    DiscussionStep {
        from: Some(DeepDiveState::Requested),
        action: DeepDiveAction::Answer,
        to: DeepDiveState::Answered,
        owners: COMPANY,
        text: TextRule::Required,
    },
    DiscussionStep {
        from: Some(DeepDiveState::Answered),
        action: DeepDiveAction::Close,
        to: DeepDiveState::Closed,
        owners: SUPERVISOR,
        text: TextRule::Optional,
    },
    DiscussionStep {
        from: Some(DeepDiveState::Requested),
        action: DeepDiveAction::Close,
        to: DeepDiveState::Closed,
        owners: SUPERVISOR,
        text: TextRule::Optional,
    },
    DiscussionStep {
        from: Some(DeepDiveState::Answered),
        action: DeepDiveAction::SendBack,
        to: DeepDiveState::Requested,
        owners: SUPERVISOR,
        text: TextRule::Required,
    },
];

/// Why a thread or deep-dive step was refused. Each names what is allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiscussionRefused {
    #[error(
        "{action} is not possible when the {what} is {state}; allowed next: {}",
        list(allowed)
    )]
    NotAStep {
        what: &'static str,
        state: String,
        action: String,
        allowed: Vec<String>,
    },
    #[error("{action} is done by {}; you may: {}", list(owners), list(allowed))]
    NotOwner {
        action: String,
        owners: Vec<String>,
        allowed: Vec<String>,
    },
    #[error("{action} needs a text")]
    TextRequired { action: String },
}

impl DiscussionRefused {
    /// The actions that would have been allowed (slugs).
    pub fn allowed(&self) -> &[String] {
        match self {
            DiscussionRefused::NotAStep { allowed, .. }
            | DiscussionRefused::NotOwner { allowed, .. } => allowed,
            DiscussionRefused::TextRequired { .. } => &[],
        }
    }
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}

/// The slug of a state or action, for the generic rules below.
pub trait Slug: Copy + PartialEq + 'static {
    fn slug_of(self) -> &'static str;
}

impl Slug for ThreadState {
    fn slug_of(self) -> &'static str {
        self.slug()
    }
}
impl Slug for ThreadAction {
    fn slug_of(self) -> &'static str {
        self.slug()
    }
}
impl Slug for DeepDiveState {
    fn slug_of(self) -> &'static str {
        self.slug()
    }
}
impl Slug for DeepDiveAction {
    fn slug_of(self) -> &'static str {
        self.slug()
    }
}

fn slugs<A: Slug>(actions: impl IntoIterator<Item = A>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for a in actions {
        let s = a.slug_of().to_string();
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// The actions `actor` may take from `state`.
fn allowed_in<S: Slug, A: Slug>(
    steps: &[DiscussionStep<S, A>],
    state: Option<S>,
    actor: &Actor,
) -> Vec<A> {
    let mut out: Vec<A> = Vec::new();
    for s in steps
        .iter()
        .filter(|s| s.from == state && s.owners.contains(&actor.org_kind))
    {
        if !out.contains(&s.action) {
            out.push(s.action);
        }
    }
    out
}

/// Decides one step: is it possible from `state`, is it the actor's, and
/// does it carry the text it needs. Returns the new state.
fn decide_in<S: Slug, A: Slug>(
    what: &'static str,
    steps: &[DiscussionStep<S, A>],
    state: Option<S>,
    action: A,
    actor: &Actor,
    text: &str,
) -> Result<S, DiscussionRefused> {
    let possible: Vec<&DiscussionStep<S, A>> = steps
        .iter()
        .filter(|s| s.from == state && s.action == action)
        .collect();
    if possible.is_empty() {
        return Err(DiscussionRefused::NotAStep {
            what,
            state: state.map_or("not started", |s| s.slug_of()).to_string(),
            action: action.slug_of().to_string(),
            allowed: slugs(steps.iter().filter(|s| s.from == state).map(|s| s.action)),
        });
    }
    let Some(step) = possible.iter().find(|s| s.owners.contains(&actor.org_kind)) else {
        let mut owners: Vec<String> = Vec::new();
        for s in &possible {
            for o in s.owners {
                if !owners.iter().any(|x| x == o.slug()) {
                    owners.push(o.slug().to_string());
                }
            }
        }
        return Err(DiscussionRefused::NotOwner {
            action: action.slug_of().to_string(),
            owners,
            allowed: slugs(allowed_in(steps, state, actor)),
        });
    };
    if step.text == TextRule::Required && text.trim().is_empty() {
        return Err(DiscussionRefused::TextRequired {
            action: action.slug_of().to_string(),
        });
    }
    Ok(step.to)
}

/// The thread actions `actor` may take on a thread in `state` (`None`: no
/// thread yet, i.e. whether they may open one).
pub fn thread_actions(state: Option<ThreadState>, actor: &Actor) -> Vec<ThreadAction> {
    allowed_in(THREAD_STEPS, state, actor)
}

/// Decides a thread step (see [`THREAD_STEPS`]); `text` is the comment.
pub fn decide_thread(
    state: Option<ThreadState>,
    action: ThreadAction,
    actor: &Actor,
    text: &str,
) -> Result<ThreadState, DiscussionRefused> {
    decide_in("thread", THREAD_STEPS, state, action, actor, text)
}

/// The deep-dive actions `actor` may take on a request in `state`.
pub fn deep_dive_actions(state: Option<DeepDiveState>, actor: &Actor) -> Vec<DeepDiveAction> {
    allowed_in(DEEP_DIVE_STEPS, state, actor)
}

/// Decides a deep-dive step (see [`DEEP_DIVE_STEPS`]).
pub fn decide_deep_dive(
    state: Option<DeepDiveState>,
    action: DeepDiveAction,
    actor: &Actor,
    text: &str,
) -> Result<DeepDiveState, DiscussionRefused> {
    decide_in("deep dive", DEEP_DIVE_STEPS, state, action, actor, text)
}

/// Whether the actor's organisation takes part in (or reads) the review
/// talk at all: the hospital and the ministry never see it, even once the
/// report is delivered to them.
pub fn may_see_discussion(actor: &Actor) -> bool {
    DISCUSSION_READERS.contains(&actor.org_kind)
}

/// The access a step of the talk asks the policy for: the company takes
/// part with its write access to its deliverables, the supervisor with its
/// comment access (the secretariat has neither and only reads).
pub fn discussion_access(org_kind: OrgKind) -> Access {
    match org_kind {
        OrgKind::SurveyCompany => Access::Write,
        _ => Access::Comment,
    }
}

/// A comment, answer or request text: trimmed, at most
/// [`MAX_COMMENT_CHARS`], no control characters. Emptiness is the step's
/// rule ([`decide_thread`], [`decide_deep_dive`]).
pub fn comment_text(field: &'static str, text: &str) -> Result<String, DomainError> {
    validate::note(field, text, MAX_COMMENT_CHARS)
}

/// A row key to anchor to: trimmed, empty for none, one line, bounded.
pub fn row_key(text: &str) -> Result<Option<String>, DomainError> {
    let key = text.trim();
    if key.is_empty() {
        return Ok(None);
    }
    if key.chars().count() > MAX_ROW_KEY_CHARS {
        return Err(DomainError::invalid(
            "row",
            format!("longer than {MAX_ROW_KEY_CHARS} characters"),
        ));
    }
    if key.chars().any(char::is_control) {
        return Err(DomainError::invalid("row", "contains control characters"));
    }
    Ok(Some(key.to_string()))
}

/// A deep dive's due date may not lie before the day it is asked on.
pub fn check_due(due: Date, today: Date) -> Result<Date, DomainError> {
    if due < today {
        return Err(DomainError::invalid(
            "due",
            format!("{due} is before today ({today})"),
        ));
    }
    Ok(due)
}

/// Whole days from `since` to `today`, never negative: how long a
/// submission has waited for review.
pub fn age_days(since: Date, today: Date) -> i64 {
    (today - since).whole_days().max(0)
}

/// How late a deep dive is: days past its due date while not closed
/// (`None` when on time or closed).
pub fn overdue_days(state: DeepDiveState, due: Date, today: Date) -> Option<i64> {
    let late = (today - due).whole_days();
    (state != DeepDiveState::Closed && late > 0).then_some(late)
}

/// Days before a milestone when its warning shows.
pub const MILESTONE_WARNING_DAYS: i64 = 14;

/// Whether the interim-review milestone warrants a warning: it is past, or
/// due within [`MILESTONE_WARNING_DAYS`].
pub fn milestone_warning(due: Date, today: Date) -> bool {
    (due - today).whole_days() <= MILESTONE_WARNING_DAYS
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::organisation::Role;
    use crate::{AccountId, OrgId};
    use time::macros::date;

    fn actor(org_kind: OrgKind) -> Actor {
        Actor {
            account: AccountId(1),
            org: OrgId(1),
            org_kind,
            role: Role::Member,
        }
    }

    #[test]
    fn the_supervisor_opens_the_company_replies_and_the_supervisor_resolves_and_reopens() {
        let sup = actor(OrgKind::Supervisor);
        let company = actor(OrgKind::SurveyCompany);
        assert_eq!(
            decide_thread(None, ThreadAction::Open, &sup, "確認してください"),
            Ok(ThreadState::Open)
        );
        assert_eq!(
            decide_thread(
                Some(ThreadState::Open),
                ThreadAction::Reply,
                &company,
                "追記しました"
            ),
            Ok(ThreadState::Open)
        );
        assert_eq!(
            decide_thread(Some(ThreadState::Open), ThreadAction::Resolve, &sup, ""),
            Ok(ThreadState::Resolved)
        );
        assert_eq!(
            decide_thread(Some(ThreadState::Resolved), ThreadAction::Reopen, &sup, ""),
            Ok(ThreadState::Open)
        );
        assert_eq!(
            thread_actions(Some(ThreadState::Open), &sup),
            vec![ThreadAction::Reply, ThreadAction::Resolve]
        );
    }

    #[test]
    fn the_company_resolves_only_with_a_reply_and_never_opens_or_reopens() {
        let company = actor(OrgKind::SurveyCompany);
        let err = decide_thread(
            Some(ThreadState::Open),
            ThreadAction::Resolve,
            &company,
            " ",
        )
        .unwrap_err();
        assert_eq!(
            err,
            DiscussionRefused::TextRequired {
                action: "resolve".into()
            }
        );
        assert_eq!(
            decide_thread(
                Some(ThreadState::Open),
                ThreadAction::Resolve,
                &company,
                "修正しました"
            ),
            Ok(ThreadState::Resolved)
        );
        let err = decide_thread(None, ThreadAction::Open, &company, "x").unwrap_err();
        assert!(
            err.to_string().contains("open is done by supervisor"),
            "{err}"
        );
        let err = decide_thread(
            Some(ThreadState::Resolved),
            ThreadAction::Reopen,
            &company,
            "x",
        )
        .unwrap_err();
        assert!(err.to_string().contains("you may: none"), "{err}");
        let err = decide_thread(
            Some(ThreadState::Resolved),
            ThreadAction::Reply,
            &company,
            "x",
        )
        .unwrap_err();
        assert!(
            err.to_string().contains(
                "reply is not possible when the thread is resolved; allowed next: reopen"
            ),
            "{err}"
        );
    }

    #[test]
    fn the_secretariat_reads_but_takes_no_step_and_the_hospital_sees_nothing() {
        let sec = actor(OrgKind::Secretariat);
        assert!(may_see_discussion(&sec));
        assert!(thread_actions(Some(ThreadState::Open), &sec).is_empty());
        let err =
            decide_thread(Some(ThreadState::Open), ThreadAction::Reply, &sec, "x").unwrap_err();
        assert!(
            err.to_string()
                .contains("reply is done by supervisor, survey-company"),
            "{err}"
        );
        for kind in [OrgKind::Hospital, OrgKind::Ministry, OrgKind::Vendor] {
            assert!(!may_see_discussion(&actor(kind)));
        }
    }

    #[test]
    fn a_deep_dive_is_requested_answered_sent_back_and_closed() {
        let sup = actor(OrgKind::Supervisor);
        let company = actor(OrgKind::SurveyCompany);
        let s = decide_deep_dive(None, DeepDiveAction::Request, &sup, "VPN機器の型番").unwrap();
        assert_eq!(s, DeepDiveState::Requested);
        let err = decide_deep_dive(Some(s), DeepDiveAction::Close, &company, "").unwrap_err();
        assert!(err.to_string().contains("you may: answer"), "{err}");
        let s =
            decide_deep_dive(Some(s), DeepDiveAction::Answer, &company, "FortiGate 60F").unwrap();
        assert_eq!(s, DeepDiveState::Answered);
        assert_eq!(
            decide_deep_dive(Some(s), DeepDiveAction::SendBack, &sup, ""),
            Err(DiscussionRefused::TextRequired {
                action: "send-back".into()
            })
        );
        let back = decide_deep_dive(Some(s), DeepDiveAction::SendBack, &sup, "版数も").unwrap();
        assert_eq!(back, DeepDiveState::Requested);
        let closed = decide_deep_dive(Some(s), DeepDiveAction::Close, &sup, "").unwrap();
        assert_eq!(closed, DeepDiveState::Closed);
        let err =
            decide_deep_dive(Some(closed), DeepDiveAction::Answer, &company, "x").unwrap_err();
        assert!(err.to_string().contains("allowed next: none"), "{err}");
        assert_eq!(
            deep_dive_actions(Some(DeepDiveState::Answered), &sup),
            vec![DeepDiveAction::Close, DeepDiveAction::SendBack]
        );
    }

    #[test]
    fn texts_row_keys_and_due_dates_are_checked() {
        assert!(comment_text("text", &"あ".repeat(MAX_COMMENT_CHARS)).is_ok());
        let err = comment_text("text", &"あ".repeat(MAX_COMMENT_CHARS + 1)).unwrap_err();
        assert!(err.to_string().contains("longer than 4000"), "{err}");
        assert!(comment_text("text", "a\u{7}").is_err());
        assert_eq!(row_key("  "), Ok(None));
        assert_eq!(row_key(" C-1 "), Ok(Some("C-1".into())));
        assert!(row_key("a\nb").is_err());
        let today = date!(2026 - 12 - 10);
        assert!(check_due(date!(2026 - 12 - 09), today).is_err());
        assert_eq!(check_due(today, today), Ok(today));
    }

    #[test]
    fn ages_overdue_days_and_the_milestone_warning() {
        let today = date!(2027 - 01 - 10);
        assert_eq!(age_days(date!(2026 - 12 - 31), today), 10);
        assert_eq!(age_days(date!(2027 - 02 - 01), today), 0);
        assert_eq!(
            overdue_days(DeepDiveState::Requested, date!(2027 - 01 - 07), today),
            Some(3)
        );
        assert_eq!(
            overdue_days(DeepDiveState::Answered, date!(2027 - 01 - 07), today),
            Some(3)
        );
        assert_eq!(
            overdue_days(DeepDiveState::Closed, date!(2027 - 01 - 07), today),
            None
        );
        assert_eq!(overdue_days(DeepDiveState::Requested, today, today), None);
        assert!(milestone_warning(date!(2027 - 01 - 15), today));
        assert!(milestone_warning(date!(2027 - 01 - 01), today));
        assert!(!milestone_warning(date!(2027 - 02 - 15), today));
    }
}
