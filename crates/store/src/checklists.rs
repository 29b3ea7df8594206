//! Checklist frameworks (the shipped MHLW editions, imported workbooks, a
//! programme's own items), the programme's choice of framework, respondents
//! and their self-assessments, with an account or through an expiring link.
//!
//! Frameworks are kept whole and never change in place: a change is a new
//! version, and every answer names the framework version it answers, so an
//! earlier answer stays readable. Every read of a hospital's answers and
//! every write asks the policy for its survey responses and is audited in
//! the same transaction.

use crate::audit::{AuditContext, AuditEntry, append, append_all};
use crate::credentials::{random_token, token_hash};
use crate::db::{Tx, iso_day, parse_optional_day};
use crate::engagements::{Engagement, engagement_in, relationship_in, require_or_refuse};
use crate::error::corrupt;
use crate::{Result, Store, StoreError, now_ms};
use mamori_domain::audit::AuditAction;
use mamori_domain::checklist::{
    self as cl, Answer, AnswerRefused, AnswerStyle, AnswerValue, Audience, Cell, CellKey,
    Completion, Form, Framework, FrameworkOrigin, Item, MAX_ITEM_TEXT, MAX_NOTE, Provenance,
    RespondentRole, Scope, Section,
};
use mamori_domain::engagement::EngagementState;
use mamori_domain::organisation::OrgKind;
use mamori_domain::policy::{Access, HospitalData, may_register_organisations, permits};
use mamori_domain::{AccountId, DomainError, EngagementId, OrgId, ProgrammeId, validate};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use time::Date;

/// The longest a respondent's link may work (it is a key to a hospital's
/// answers in someone's mailbox).
pub const MAX_LINK_DAYS: u32 = 60;
/// The key of the one form of a programme's supplement.
pub const SUPPLEMENT_FORM: &str = "supplement";
const DAY_MS: i64 = 24 * 60 * 60 * 1000;
/// Who installs the shipped frameworks in the audit log.
const INSTALLER: &str = "system:builtin-checklists";

/// One stored version of a framework.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FrameworkRecord {
    pub id: i64,
    pub key: String,
    pub version: i64,
    pub origin: FrameworkOrigin,
    /// The programme whose own items these are (origin programme).
    pub programme_id: Option<ProgrammeId>,
    pub framework: Framework,
    pub created_at_ms: i64,
}

impl FrameworkRecord {
    /// How many items carry a wording not yet checked against the official text.
    pub fn unverified(&self) -> usize {
        self.framework.unverified().len()
    }
}

/// An item a programme asks besides the official ones (seed §3.4: the
/// supply-chain questions added mid-way).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewProgrammeItem {
    pub text_ja: String,
    #[serde(default)]
    pub text_en: String,
    pub scope: Scope,
    /// Form keys of the programme's framework that ask the item; empty: all.
    #[serde(default)]
    pub forms: Vec<String>,
    #[serde(default)]
    pub note_ja: String,
}

/// A person answering one form for one engagement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Respondent {
    pub id: i64,
    pub engagement: EngagementId,
    pub framework_id: i64,
    pub form_key: String,
    pub role: RespondentRole,
    pub name: String,
    /// The hospital account answering; `None`: anyone of the hospital, or a link.
    pub account: Option<AccountId>,
    /// When the last link issued stops working.
    pub link_expires_at_ms: Option<i64>,
    pub submitted_at_ms: Option<i64>,
    pub created_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct NewRespondent {
    pub form_key: String,
    pub role: RespondentRole,
    pub name: String,
    #[serde(default)]
    pub account: Option<AccountId>,
}

/// One respondent's answers and how far they are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RespondentSheet {
    pub respondent: Respondent,
    /// Answers to the programme's framework.
    pub answers: BTreeMap<CellKey, Answer>,
    /// Answers to the programme's own items (any version; the newest wins).
    pub supplement_answers: BTreeMap<CellKey, Answer>,
    /// Over the form and the programme items asked in it.
    pub completion: Completion,
}

/// The checklist of one engagement: what is asked and who answered what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EngagementChecklist {
    pub engagement: EngagementId,
    pub hospital: OrgId,
    pub hospital_name: String,
    /// The programme's framework; `None` until the secretariat sets one.
    pub framework: Option<FrameworkRecord>,
    /// The latest version of the programme's own items.
    pub supplement: Option<FrameworkRecord>,
    pub respondents: Vec<RespondentSheet>,
}

/// What a respondent's link opens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkedRespondent {
    pub respondent: Respondent,
    pub hospital_name: String,
    pub framework: FrameworkRecord,
    pub supplement: Option<FrameworkRecord>,
    pub answers: BTreeMap<CellKey, Answer>,
    pub supplement_answers: BTreeMap<CellKey, Answer>,
    pub completion: Completion,
}

/// One engagement's row in the programme's checklist progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EngagementProgress {
    pub engagement: EngagementId,
    pub hospital: OrgId,
    pub hospital_name: String,
    pub company_name: String,
    pub state: EngagementState,
    pub respondents: usize,
    pub submitted: usize,
    /// Summed over the respondents.
    pub completion: Completion,
}

/// An item respondents marked "did not understand" (理解が困難であった部分),
/// kept to improve the method (seed §3.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotUnderstoodItem {
    pub framework_id: i64,
    pub form_key: String,
    pub item_number: String,
    pub text_ja: String,
    /// How many hospitals had someone who did not understand it.
    pub hospitals: usize,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChecklistProgress {
    pub programme: ProgrammeId,
    pub engagements: Vec<EngagementProgress>,
    /// Most hospitals first, then by item number.
    pub not_understood: Vec<NotUnderstoodItem>,
}

/// The key of a programme's own items, e.g. `programme-3`.
pub fn supplement_key(programme: ProgrammeId) -> String {
    format!("programme-{programme}")
}

/// The scope as the official workbook prints it, for messages.
fn scope_ja(scope: Scope) -> &'static str {
    match scope {
        Scope::Organisation => "組織",
        Scope::WholeSystem => "医療情報システム全般",
        Scope::Server => "サーバ",
        Scope::TerminalPc => "端末PC",
        Scope::NetworkDevice => "ネットワーク機器",
    }
}

/// The part of a supplement that a respondent of `form_key` is asked:
/// its items whose `forms` are empty or name that form.
pub fn supplement_form(supplement: &Framework, form_key: &str) -> Option<Form> {
    let mut form = supplement.forms.first()?.clone();
    for section in &mut form.sections {
        section
            .items
            .retain(|i| i.forms.is_empty() || i.forms.iter().any(|f| f == form_key));
    }
    form.sections.retain(|s| !s.items.is_empty());
    (!form.sections.is_empty()).then_some(form)
}

fn sha256(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn respondent_target(id: i64) -> String {
    format!("checklist-respondent:{id}")
}

/// A short account of an answer for the audit log (no free text).
fn describe(answer: Option<&Answer>) -> String {
    let Some(a) = answer else {
        return "—".into();
    };
    let mut out = a.value.slug().to_string();
    if let Some(d) = a.checked_on {
        out.push_str(&format!(" 確認日={}", iso_day(d)));
    }
    if let Some(d) = a.target_on {
        out.push_str(&format!(" 目標日={}", iso_day(d)));
    }
    if !a.not_understood.is_empty() {
        out.push_str(" +not-understood");
    }
    out
}

/// Names a refused cell by item and, when the item is split by device, scope.
fn name_cell(item: Option<&Item>, key: &CellKey, message: &str) -> String {
    if item.is_some_and(|i| i.cells.len() > 1) {
        let rest = message
            .strip_prefix(&format!("{}: ", key.item))
            .unwrap_or(message);
        format!("{} {}: {rest}", key.item, scope_ja(key.scope))
    } else {
        message.to_string()
    }
}

fn refused_answer(form: &Form, key: &CellKey, refused: AnswerRefused) -> StoreError {
    DomainError::invalid(
        "answer",
        name_cell(form.item(&key.item), key, &refused.to_string()),
    )
    .into()
}

/// Checks one answer against the form it answers (half-way saves allowed).
fn check_answer(
    style: AnswerStyle,
    form: &Form,
    key: &CellKey,
    answer: &Answer,
    today: Date,
) -> Result<Answer> {
    let item = form.item(&key.item).ok_or_else(|| {
        refused_answer(
            form,
            key,
            AnswerRefused::UnknownItem {
                item: key.item.clone(),
            },
        )
    })?;
    let note = validate::note("not_understood", &answer.not_understood, MAX_NOTE)?;
    let answer = Answer {
        not_understood: note,
        ..answer.clone()
    };
    answer
        .check(style, item, key.scope, today, false)
        .map_err(|refused| refused_answer(form, key, refused))?;
    Ok(answer)
}

/// Every gap of a form, one line each, naming the item (and the scope when
/// the item is split by device).
fn gap_lines(
    style: AnswerStyle,
    form: &Form,
    answers: &BTreeMap<CellKey, Answer>,
    today: Date,
) -> Vec<String> {
    cl::submission_gaps(style, form, answers, today)
        .into_iter()
        .map(|(key, message)| name_cell(form.item(&key.item), &key, &message))
        .collect()
}

const FRAMEWORK_SELECT: &str = "SELECT id, key, version, origin, programme_id, definition, created_at FROM checklist_frameworks";

type FrameworkRow = (i64, String, i64, String, Option<i64>, String, i64);

fn framework_record(row: FrameworkRow) -> Result<FrameworkRecord> {
    Ok(FrameworkRecord {
        id: row.0,
        key: row.1,
        version: row.2,
        origin: FrameworkOrigin::parse(&row.3).map_err(corrupt("checklist_frameworks.origin"))?,
        programme_id: row.4.map(ProgrammeId),
        framework: Framework::from_json(&row.5)
            .map_err(corrupt("checklist_frameworks.definition"))?,
        created_at_ms: row.6,
    })
}

async fn framework_in(conn: &mut sqlx::AnyConnection, id: i64) -> Result<FrameworkRecord> {
    let row: Option<FrameworkRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{FRAMEWORK_SELECT} WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.map(framework_record)
        .transpose()?
        .ok_or(StoreError::NotFound {
            what: "checklist framework",
            key: id.to_string(),
        })
}

async fn next_version(tx: &mut Tx, key: &str) -> Result<i64> {
    let latest: Option<i64> =
        sqlx::query_scalar("SELECT MAX(version) FROM checklist_frameworks WHERE key = $1")
            .bind(key)
            .fetch_one(&mut **tx)
            .await?;
    Ok(latest.unwrap_or(0) + 1)
}

/// Stores a new version of `framework` (already normalised).
async fn insert_framework(
    tx: &mut Tx,
    framework: &Framework,
    version: i64,
    origin: FrameworkOrigin,
    programme: Option<ProgrammeId>,
    by: Option<AccountId>,
) -> Result<FrameworkRecord> {
    let json = framework.to_json();
    let now = now_ms();
    let id: i64 = sqlx::query_scalar("INSERT INTO checklist_frameworks (key, version, title_ja, edition_ja, origin, programme_id, definition, sha256, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id")
        .bind(&framework.key)
        .bind(version)
        .bind(&framework.title_ja)
        .bind(&framework.edition_ja)
        .bind(origin.slug())
        .bind(programme.map(|p| p.0))
        .bind(&json)
        .bind(sha256(&json))
        .bind(now)
        .bind(by.map(|a| a.0))
        .fetch_one(&mut **tx)
        .await
        .map_err(StoreError::on_unique(
            "checklist framework version",
            &format!("{} v{version}", framework.key),
        ))?;
    Ok(FrameworkRecord {
        id,
        key: framework.key.clone(),
        version,
        origin,
        programme_id: programme,
        framework: framework.clone(),
        created_at_ms: now,
    })
}

/// What the checklist needs of a programme.
struct ProgrammeChecklist {
    name: String,
    fiscal_year: i64,
    framework_id: Option<i64>,
    supplement_id: Option<i64>,
}

async fn programme_in(
    conn: &mut sqlx::AnyConnection,
    id: ProgrammeId,
) -> Result<ProgrammeChecklist> {
    let row: Option<(String, i64, Option<i64>, Option<i64>)> = sqlx::query_as(
        "SELECT name, fiscal_year, checklist_framework_id, checklist_supplement_id FROM programmes WHERE id = $1",
    )
    .bind(id.0)
    .fetch_optional(conn)
    .await?;
    let (name, fiscal_year, framework_id, supplement_id) = row.ok_or(StoreError::NotFound {
        what: "programme",
        key: id.to_string(),
    })?;
    Ok(ProgrammeChecklist {
        name,
        fiscal_year,
        framework_id,
        supplement_id,
    })
}

#[derive(sqlx::FromRow)]
struct RespondentRow {
    id: i64,
    engagement_id: i64,
    framework_id: i64,
    form_key: String,
    role: String,
    name: String,
    account_id: Option<i64>,
    link_expires_at: Option<i64>,
    submitted_at: Option<i64>,
    created_at: i64,
}

const RESPONDENT_SELECT: &str = "SELECT r.id, r.engagement_id, r.framework_id, r.form_key, r.role, r.name, r.account_id, r.link_expires_at, r.submitted_at, r.created_at FROM checklist_respondents r";

fn respondent(row: RespondentRow) -> Result<Respondent> {
    Ok(Respondent {
        id: row.id,
        engagement: EngagementId(row.engagement_id),
        framework_id: row.framework_id,
        form_key: row.form_key,
        role: RespondentRole::parse(&row.role).map_err(corrupt("checklist_respondents.role"))?,
        name: row.name,
        account: row.account_id.map(AccountId),
        link_expires_at_ms: row.link_expires_at,
        submitted_at_ms: row.submitted_at,
        created_at_ms: row.created_at,
    })
}

async fn respondent_in(conn: &mut sqlx::AnyConnection, id: i64) -> Result<Respondent> {
    let row: Option<RespondentRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{RESPONDENT_SELECT} WHERE r.id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.map(respondent)
        .transpose()?
        .ok_or(StoreError::NotFound {
            what: "respondent",
            key: id.to_string(),
        })
}

#[derive(sqlx::FromRow)]
struct AnswerRow {
    respondent_id: i64,
    framework_id: i64,
    item_number: String,
    scope: String,
    value: String,
    checked_on: Option<String>,
    target_on: Option<String>,
    not_understood: String,
}

const ANSWER_SELECT: &str = "SELECT a.respondent_id, a.framework_id, a.item_number, a.scope, a.value, a.checked_on, a.target_on, a.not_understood FROM checklist_answers a";

/// (respondent, framework, cell, answer)
type StoredAnswer = (i64, i64, CellKey, Answer);

fn stored_answer(row: AnswerRow) -> Result<StoredAnswer> {
    Ok((
        row.respondent_id,
        row.framework_id,
        CellKey::new(
            row.item_number,
            Scope::parse(&row.scope).map_err(corrupt("checklist_answers.scope"))?,
        ),
        Answer {
            value: AnswerValue::parse(&row.value).map_err(corrupt("checklist_answers.value"))?,
            checked_on: parse_optional_day("checklist_answers.checked_on", row.checked_on)?,
            target_on: parse_optional_day("checklist_answers.target_on", row.target_on)?,
            not_understood: row.not_understood,
        },
    ))
}

/// The answers of the respondents that `condition` (on `r`, binding `$1`) picks.
async fn answers_where(
    conn: &mut sqlx::AnyConnection,
    condition: &'static str,
    value: i64,
) -> Result<Vec<StoredAnswer>> {
    let rows: Vec<AnswerRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{ANSWER_SELECT} JOIN checklist_respondents r ON r.id = a.respondent_id WHERE {condition} ORDER BY a.respondent_id, a.framework_id, a.item_number, a.scope"
    )))
    .bind(value)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(stored_answer).collect()
}

async fn upsert_answer(
    tx: &mut Tx,
    respondent: i64,
    framework: i64,
    key: &CellKey,
    answer: &Answer,
    by: Option<AccountId>,
) -> Result<()> {
    sqlx::query("INSERT INTO checklist_answers (respondent_id, framework_id, item_number, scope, value, checked_on, target_on, not_understood, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        ON CONFLICT (respondent_id, framework_id, item_number, scope) DO UPDATE SET value = excluded.value, checked_on = excluded.checked_on, target_on = excluded.target_on, not_understood = excluded.not_understood, updated_at = excluded.updated_at, updated_by = excluded.updated_by")
        .bind(respondent)
        .bind(framework)
        .bind(&key.item)
        .bind(key.scope.slug())
        .bind(answer.value.slug())
        .bind(answer.checked_on.map(iso_day))
        .bind(answer.target_on.map(iso_day))
        .bind(&answer.not_understood)
        .bind(now_ms())
        .bind(by.map(|a| a.0))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The ids of every version of the programme's own items.
async fn supplement_ids(
    conn: &mut sqlx::AnyConnection,
    programme: ProgrammeId,
) -> Result<HashSet<i64>> {
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM checklist_frameworks WHERE key = $1")
        .bind(supplement_key(programme))
        .fetch_all(conn)
        .await?;
    Ok(ids.into_iter().collect())
}

/// Frameworks read once per operation.
#[derive(Default)]
struct FrameworkCache(HashMap<i64, FrameworkRecord>);

impl FrameworkCache {
    async fn get(&mut self, conn: &mut sqlx::AnyConnection, id: i64) -> Result<&FrameworkRecord> {
        if let std::collections::hash_map::Entry::Vacant(slot) = self.0.entry(id) {
            slot.insert(framework_in(conn, id).await?);
        }
        self.0.get(&id).ok_or(StoreError::NotFound {
            what: "checklist framework",
            key: id.to_string(),
        })
    }
}

/// Splits a respondent's answers into the framework's and the programme
/// items' (newest version per cell), and counts completion over both.
fn sheet(
    respondent: Respondent,
    answers: Vec<(i64, CellKey, Answer)>,
    framework: &Framework,
    supplement: Option<&Framework>,
    supplement_ids: &HashSet<i64>,
) -> RespondentSheet {
    let mut own = BTreeMap::new();
    let mut extra: BTreeMap<CellKey, (i64, Answer)> = BTreeMap::new();
    for (fw, key, answer) in answers {
        if fw == respondent.framework_id {
            own.insert(key, answer);
        } else if supplement_ids.contains(&fw) {
            match extra.get(&key) {
                Some((newer, _)) if *newer > fw => {}
                _ => {
                    extra.insert(key, (fw, answer));
                }
            }
        }
    }
    let extra: BTreeMap<CellKey, Answer> = extra.into_iter().map(|(k, (_, a))| (k, a)).collect();
    let mut completion = framework
        .form(&respondent.form_key)
        .map(|form| cl::completion(form, &own))
        .unwrap_or_default();
    if let Some(form) = supplement.and_then(|s| supplement_form(s, &respondent.form_key)) {
        completion.add(cl::completion(&form, &extra));
    }
    RespondentSheet {
        respondent,
        answers: own,
        supplement_answers: extra,
        completion,
    }
}

/// The engagement's checklist as the transaction sees it (no policy, no audit).
pub(crate) async fn checklist_in(
    tx: &mut Tx,
    e: &Engagement,
    only: Option<i64>,
) -> Result<EngagementChecklist> {
    let programme = programme_in(tx, e.programme_id).await?;
    let mut cache = FrameworkCache::default();
    let framework = match programme.framework_id {
        Some(id) => Some(cache.get(tx, id).await?.clone()),
        None => None,
    };
    let supplement = match programme.supplement_id {
        Some(id) => Some(cache.get(tx, id).await?.clone()),
        None => None,
    };
    let extra_ids = supplement_ids(tx, e.programme_id).await?;
    let rows: Vec<RespondentRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{RESPONDENT_SELECT} WHERE r.engagement_id = $1 ORDER BY r.id"
    )))
    .bind(e.id.0)
    .fetch_all(&mut **tx)
    .await?;
    let mut answers: HashMap<i64, Vec<(i64, CellKey, Answer)>> = HashMap::new();
    for (r, fw, key, answer) in answers_where(tx, "r.engagement_id = $1", e.id.0).await? {
        answers.entry(r).or_default().push((fw, key, answer));
    }
    let mut respondents = Vec::new();
    for row in rows {
        if only.is_some_and(|id| id != row.id) {
            continue;
        }
        let r = respondent(row)?;
        let own = cache.get(tx, r.framework_id).await?.framework.clone();
        let mine = answers.remove(&r.id).unwrap_or_default();
        respondents.push(sheet(
            r,
            mine,
            &own,
            supplement.as_ref().map(|s| &s.framework),
            &extra_ids,
        ));
    }
    Ok(EngagementChecklist {
        engagement: e.id,
        hospital: e.hospital_id,
        hospital_name: e.hospital_name.clone(),
        framework,
        supplement,
        respondents,
    })
}

/// Hospital staff answer for themselves or for an unassigned respondent,
/// and only until the self-assessment is submitted; the survey company and
/// the secretariat correct it afterwards.
fn staff_refusal(ctx: &AuditContext, r: &Respondent) -> Option<&'static str> {
    let actor = ctx.actor?;
    if actor.org_kind != OrgKind::Hospital {
        return None;
    }
    if r.account.is_some_and(|a| a != actor.account) {
        return Some("another person's self-assessment");
    }
    if r.submitted_at_ms.is_some() {
        return Some("a submitted self-assessment (the survey company corrects it)");
    }
    None
}

/// Audits a refusal in the caller's transaction, which the caller commits.
async fn audit_refusal(
    tx: &mut Tx,
    ctx: &AuditContext,
    r: &Respondent,
    hospital: OrgId,
    why: &str,
) -> Result<()> {
    append(
        tx,
        ctx,
        AuditAction::AccessDenied,
        respondent_target(r.id),
        Some(hospital),
        format!("write survey-responses: {why}"),
    )
    .await?;
    Ok(())
}

/// The form a respondent answers in `framework_id`: its own framework's
/// form, or the programme items asked in that form (current version only).
async fn answer_target(
    tx: &mut Tx,
    cache: &mut FrameworkCache,
    r: &Respondent,
    programme: ProgrammeId,
    framework_id: i64,
) -> Result<(AnswerStyle, Form)> {
    if framework_id == r.framework_id {
        let record = cache.get(tx, framework_id).await?;
        let form =
            record
                .framework
                .form(&r.form_key)
                .cloned()
                .ok_or_else(|| StoreError::Corrupt {
                    column: "checklist_respondents.form_key",
                    value: r.form_key.clone(),
                })?;
        return Ok((record.framework.answer_style, form));
    }
    let current = programme_in(tx, programme).await?.supplement_id;
    if current == Some(framework_id) {
        let record = cache.get(tx, framework_id).await?;
        return supplement_form(&record.framework, &r.form_key)
            .map(|form| (record.framework.answer_style, form))
            .ok_or_else(|| {
                DomainError::invalid(
                    "framework",
                    format!(
                        "the programme's own items ask nothing of form `{}`",
                        r.form_key
                    ),
                )
                .into()
            });
    }
    Err(DomainError::invalid(
        "framework",
        format!(
            "framework {framework_id} is neither this respondent's checklist nor the programme's current own items"
        ),
    )
    .into())
}

/// Everything a submission still lacks, over the form and the programme items.
async fn submission_gaps_in(
    tx: &mut Tx,
    r: &Respondent,
    e: &Engagement,
    today: Date,
) -> Result<Vec<String>> {
    let c = checklist_in(tx, e, Some(r.id)).await?;
    let mut cache = FrameworkCache::default();
    let own = cache.get(tx, r.framework_id).await?;
    let sheet = c.respondents.first().ok_or(StoreError::NotFound {
        what: "respondent",
        key: r.id.to_string(),
    })?;
    let mut gaps = Vec::new();
    if let Some(form) = own.framework.form(&r.form_key) {
        gaps.extend(gap_lines(
            own.framework.answer_style,
            form,
            &sheet.answers,
            today,
        ));
    }
    if let Some(sup) = &c.supplement
        && let Some(form) = supplement_form(&sup.framework, &r.form_key)
    {
        gaps.extend(gap_lines(
            sup.framework.answer_style,
            &form,
            &sheet.supplement_answers,
            today,
        ));
    }
    Ok(gaps)
}

/// How a link is used, for the audit log.
#[derive(Clone, Copy)]
enum LinkUse {
    Read,
    Save,
    Submit,
}

impl LinkUse {
    fn label(self) -> &'static str {
        match self {
            LinkUse::Read => "read",
            LinkUse::Save => "save",
            LinkUse::Submit => "submit",
        }
    }
}

impl Store {
    /// Installs the shipped MHLW editions: a framework whose key is new, or
    /// whose definition differs from its latest shipped version, gets a new
    /// version; anything already there is left alone. Returns how many
    /// versions were added.
    pub async fn install_builtin_frameworks(&self) -> Result<usize> {
        let shipped = cl::builtin::builtin_frameworks()?;
        let ctx = AuditContext::operator(INSTALLER);
        let mut tx = self.begin_write().await?;
        let mut installed = 0;
        for framework in shipped {
            let latest: Option<String> = sqlx::query_scalar(
                "SELECT definition FROM checklist_frameworks WHERE key = $1 AND origin = $2 ORDER BY version DESC LIMIT 1",
            )
            .bind(&framework.key)
            .bind(FrameworkOrigin::Builtin.slug())
            .fetch_optional(&mut *tx)
            .await?;
            // Compared as values: a change in how JSON is written is no new edition.
            if let Some(json) = latest
                && Framework::from_json(&json).ok().as_ref() == Some(&framework)
            {
                continue;
            }
            let version = next_version(&mut tx, &framework.key).await?;
            let record = insert_framework(
                &mut tx,
                &framework,
                version,
                FrameworkOrigin::Builtin,
                None,
                None,
            )
            .await?;
            append(
                &mut tx,
                &ctx,
                AuditAction::FrameworkInstalled,
                format!("checklist-framework:{}", record.id),
                None,
                format!(
                    "{} v{} {} {} ({} unverified items)",
                    record.key,
                    record.version,
                    record.framework.title_ja,
                    record.framework.edition_ja,
                    record.unverified()
                ),
            )
            .await?;
            installed += 1;
        }
        tx.commit().await?;
        Ok(installed)
    }

    /// Every framework version, by key and version. Frameworks are no
    /// hospital's data: any signed-in person may read them.
    pub async fn frameworks(&self, ctx: &AuditContext) -> Result<Vec<FrameworkRecord>> {
        ctx.require("read checklist frameworks", |_| true)?;
        let rows: Vec<FrameworkRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{FRAMEWORK_SELECT} ORDER BY key, version"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(framework_record).collect()
    }

    pub async fn framework(&self, ctx: &AuditContext, id: i64) -> Result<FrameworkRecord> {
        ctx.require("read checklist frameworks", |_| true)?;
        let mut conn = self.pool.acquire().await?;
        framework_in(&mut conn, id).await
    }

    /// The secretariat loads a framework (e.g. read from the official
    /// workbook) as the next version of its key.
    pub async fn import_framework(
        &self,
        ctx: &AuditContext,
        framework: &Framework,
    ) -> Result<FrameworkRecord> {
        ctx.require("import checklist frameworks", may_register_organisations)?;
        let framework = framework.clone().normalised()?;
        if framework.key.starts_with("programme-") {
            return Err(DomainError::invalid(
                "key",
                "keys starting with `programme-` hold a programme's own items",
            )
            .into());
        }
        let mut tx = self.begin_write().await?;
        let version = next_version(&mut tx, &framework.key).await?;
        let record = insert_framework(
            &mut tx,
            &framework,
            version,
            FrameworkOrigin::Imported,
            None,
            ctx.actor.map(|a| a.account),
        )
        .await?;
        let items: usize = framework.forms.iter().map(|f| f.items().count()).sum();
        append(
            &mut tx,
            ctx,
            AuditAction::FrameworkImported,
            format!("checklist-framework:{}", record.id),
            None,
            format!(
                "{} v{} {} {}: {} forms, {items} items, {} unverified",
                record.key,
                record.version,
                framework.title_ja,
                framework.edition_ja,
                framework.forms.len(),
                record.unverified()
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(record)
    }

    /// The secretariat chooses the framework the programme's hospitals
    /// answer. Respondents without answers follow the change; once anyone
    /// answered another framework the choice is fixed.
    pub async fn set_programme_framework(
        &self,
        ctx: &AuditContext,
        programme: ProgrammeId,
        framework_id: i64,
    ) -> Result<()> {
        ctx.require("set a programme's checklist", may_register_organisations)?;
        let mut tx = self.begin_write().await?;
        let p = programme_in(&mut tx, programme).await?;
        let record = framework_in(&mut tx, framework_id).await?;
        if record.origin == FrameworkOrigin::Programme {
            return Err(DomainError::invalid(
                "framework",
                format!(
                    "{} holds a programme's own items; choose an MHLW edition or an imported workbook",
                    record.key
                ),
            )
            .into());
        }
        let answered: Option<(String, String, i64)> = sqlx::query_as(
            "SELECT r.name, f.key, f.version FROM checklist_answers a
             JOIN checklist_respondents r ON r.id = a.respondent_id
             JOIN engagements e ON e.id = r.engagement_id
             JOIN checklist_frameworks f ON f.id = a.framework_id
             WHERE e.programme_id = $1 AND a.framework_id <> $2 AND f.origin <> $3
             ORDER BY a.id LIMIT 1",
        )
        .bind(programme.0)
        .bind(framework_id)
        .bind(FrameworkOrigin::Programme.slug())
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((name, key, version)) = answered {
            return Err(DomainError::invalid(
                "framework",
                format!(
                    "{name} has already answered {key} v{version}; the programme's checklist can no longer change"
                ),
            )
            .into());
        }
        let followers: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT r.id, r.name, r.form_key FROM checklist_respondents r JOIN engagements e ON e.id = r.engagement_id
             WHERE e.programme_id = $1 AND r.framework_id <> $2 ORDER BY r.id",
        )
        .bind(programme.0)
        .bind(framework_id)
        .fetch_all(&mut *tx)
        .await?;
        for (_, name, form) in &followers {
            if record.framework.form(form).is_none() {
                return Err(DomainError::invalid(
                    "framework",
                    format!("{name} answers form `{form}`, which {} has not", record.key),
                )
                .into());
            }
        }
        if let Some(sup) = p.supplement_id {
            let sup = framework_in(&mut tx, sup).await?;
            for item in sup.framework.forms.iter().flat_map(|f| f.items()) {
                if let Some(form) = item
                    .forms
                    .iter()
                    .find(|f| record.framework.form(f).is_none())
                {
                    return Err(DomainError::invalid(
                        "framework",
                        format!(
                            "programme item {} is asked in form `{form}`, which {} has not",
                            item.number, record.key
                        ),
                    )
                    .into());
                }
            }
        }
        for (id, _, _) in &followers {
            sqlx::query("UPDATE checklist_respondents SET framework_id = $1 WHERE id = $2")
                .bind(framework_id)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "UPDATE programmes SET checklist_framework_id = $1, updated_at = $2 WHERE id = $3",
        )
        .bind(framework_id)
        .bind(now_ms())
        .bind(programme.0)
        .execute(&mut *tx)
        .await?;
        append(
            &mut tx,
            ctx,
            AuditAction::ProgrammeFrameworkSet,
            format!("programme:{programme}"),
            None,
            format!(
                "framework={framework_id} {} v{} {} (was {})",
                record.key,
                record.version,
                record.framework.edition_ja,
                p.framework_id
                    .map(|f| f.to_string())
                    .unwrap_or_else(|| "none".into())
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The secretariat adds an item of the programme's own (P-1, P-2, …):
    /// a new version of the programme's supplement holding every earlier
    /// item and the new one. Earlier answers keep their version.
    pub async fn add_programme_item(
        &self,
        ctx: &AuditContext,
        programme: ProgrammeId,
        item: &NewProgrammeItem,
    ) -> Result<FrameworkRecord> {
        ctx.require("add programme items", may_register_organisations)?;
        let text_ja = validate::note("text_ja", &item.text_ja, MAX_ITEM_TEXT)?;
        if text_ja.is_empty() {
            return Err(DomainError::invalid("text_ja", "is empty").into());
        }
        let text_en = validate::note("text_en", &item.text_en, MAX_ITEM_TEXT)?;
        let note_ja = validate::note("note_ja", &item.note_ja, MAX_NOTE)?;
        let mut tx = self.begin_write().await?;
        let p = programme_in(&mut tx, programme).await?;
        let main_id = p.framework_id.ok_or_else(|| {
            DomainError::invalid(
                "framework",
                "the programme has no checklist framework yet; set one first",
            )
        })?;
        let main = framework_in(&mut tx, main_id).await?;
        let mut forms: Vec<String> = Vec::new();
        for form in &item.forms {
            let form = form.trim().to_string();
            if main.framework.form(&form).is_none() {
                return Err(DomainError::invalid(
                    "forms",
                    format!("`{form}` is not a form of {}", main.key),
                )
                .into());
            }
            if !forms.contains(&form) {
                forms.push(form);
            }
        }
        let key = supplement_key(programme);
        let version = next_version(&mut tx, &key).await?;
        let mut supplement = match p.supplement_id {
            Some(id) => framework_in(&mut tx, id).await?.framework,
            None => Framework {
                key: key.clone(),
                title_ja: "研究班追加項目".into(),
                title_en: "Programme items".into(),
                edition_ja: String::new(),
                edition_en: String::new(),
                fiscal_year: i32::try_from(p.fiscal_year).ok(),
                published: None,
                answer_style: main.framework.answer_style,
                sources: Vec::new(),
                notes: "Items the programme asks besides the official checklist.".into(),
                forms: vec![Form {
                    key: SUPPLEMENT_FORM.into(),
                    audience: Audience::Administrator,
                    title_ja: "研究班追加項目".into(),
                    title_en: "Programme items".into(),
                    sections: vec![Section {
                        number: "P".into(),
                        title_ja: "研究班追加項目".into(),
                        title_en: "Programme items".into(),
                        items: Vec::new(),
                    }],
                }],
            },
        };
        supplement.edition_ja = format!("{} 第{version}版", p.name);
        supplement.edition_en = format!("{} version {version}", p.name);
        // Marks follow the programme's framework, so one sheet reads alike.
        supplement.answer_style = main.framework.answer_style;
        let count: usize = supplement.forms.iter().map(|f| f.items().count()).sum();
        let number = format!("P-{}", count + 1);
        let section = supplement
            .forms
            .first_mut()
            .and_then(|f| f.sections.last_mut())
            .ok_or_else(|| StoreError::Corrupt {
                column: "checklist_frameworks.definition",
                value: format!("{key} has no section"),
            })?;
        section.items.push(Item {
            number: number.clone(),
            text_ja: text_ja.clone(),
            text_en,
            cells: vec![Cell {
                scope: item.scope,
                required_fy: None,
            }],
            scope: None,
            required_fy: None,
            note_ja,
            note_en: String::new(),
            gate: false,
            provenance: Provenance::Programme,
            evidence: format!("{} ({})", p.name, iso_day(self.today())),
            forms: forms.clone(),
        });
        let supplement = supplement.normalised()?;
        let record = insert_framework(
            &mut tx,
            &supplement,
            version,
            FrameworkOrigin::Programme,
            Some(programme),
            ctx.actor.map(|a| a.account),
        )
        .await?;
        sqlx::query(
            "UPDATE programmes SET checklist_supplement_id = $1, updated_at = $2 WHERE id = $3",
        )
        .bind(record.id)
        .bind(now_ms())
        .bind(programme.0)
        .execute(&mut *tx)
        .await?;
        let short: String = text_ja.chars().take(60).collect();
        append(
            &mut tx,
            ctx,
            AuditAction::ProgrammeItemAdded,
            format!("programme:{programme}"),
            None,
            format!(
                "{number} ({}) forms={} framework={} v{}: {short}",
                item.scope,
                if forms.is_empty() {
                    "all".into()
                } else {
                    forms.join(",")
                },
                record.id,
                record.version
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Adds a person who answers one form of the programme's framework for
    /// the engagement: hospital staff, the contracted company or the
    /// secretariat (survey responses, write).
    pub async fn add_respondent(
        &self,
        ctx: &AuditContext,
        engagement: EngagementId,
        new: &NewRespondent,
    ) -> Result<Respondent> {
        let name = validate::display_name("name", &new.name)?;
        let form_key = new.form_key.trim().to_string();
        let today = self.today();
        let mut tx = self.begin_write().await?;
        let e = engagement_in(&mut tx, today, engagement).await?;
        require_or_refuse!(
            tx,
            ctx,
            today,
            &e,
            HospitalData::SurveyResponses,
            Access::Write
        );
        let p = programme_in(&mut tx, e.programme_id).await?;
        let framework_id = p.framework_id.ok_or_else(|| {
            DomainError::invalid(
                "framework",
                "the programme has no checklist framework yet (the secretariat sets it)",
            )
        })?;
        let framework = framework_in(&mut tx, framework_id).await?;
        if framework.framework.form(&form_key).is_none() {
            let known: Vec<&str> = framework
                .framework
                .forms
                .iter()
                .map(|f| f.key.as_str())
                .collect();
            return Err(DomainError::invalid(
                "form_key",
                format!(
                    "`{form_key}` is not a form of {} (forms: {})",
                    framework.key,
                    known.join(", ")
                ),
            )
            .into());
        }
        if let Some(account) = new.account {
            let org: Option<i64> = sqlx::query_scalar("SELECT org_id FROM accounts WHERE id = $1")
                .bind(account.0)
                .fetch_optional(&mut *tx)
                .await?;
            if org != Some(e.hospital_id.0) {
                return Err(DomainError::invalid(
                    "account",
                    format!("account {account} is not an account of {}", e.hospital_name),
                )
                .into());
            }
        }
        let now = now_ms();
        let id: i64 = sqlx::query_scalar("INSERT INTO checklist_respondents (engagement_id, framework_id, form_key, role, name, account_id, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id")
            .bind(engagement.0)
            .bind(framework_id)
            .bind(&form_key)
            .bind(new.role.slug())
            .bind(&name)
            .bind(new.account.map(|a| a.0))
            .bind(now)
            .bind(ctx.actor.map(|a| a.account.0))
            .fetch_one(&mut *tx)
            .await?;
        append(
            &mut tx,
            ctx,
            AuditAction::RespondentAdded,
            respondent_target(id),
            Some(e.hospital_id),
            format!(
                "engagement={engagement} form={form_key} role={} account={}",
                new.role,
                new.account
                    .map(|a| a.to_string())
                    .unwrap_or_else(|| "none".into())
            ),
        )
        .await?;
        let r = respondent_in(&mut tx, id).await?;
        tx.commit().await?;
        Ok(r)
    }

    /// Makes a link for the respondent to answer without an account, valid
    /// for `valid_days` (1–60) by the store's clock. The token is returned
    /// once and only its hash is kept; a new link replaces the old one.
    pub async fn issue_respondent_link(
        &self,
        ctx: &AuditContext,
        respondent_id: i64,
        valid_days: u32,
    ) -> Result<(Respondent, String)> {
        if !(1..=MAX_LINK_DAYS).contains(&valid_days) {
            return Err(DomainError::invalid(
                "valid_days",
                format!("a link works for 1 to {MAX_LINK_DAYS} days"),
            )
            .into());
        }
        let today = self.today();
        let mut tx = self.begin_write().await?;
        let r = respondent_in(&mut tx, respondent_id).await?;
        let e = engagement_in(&mut tx, today, r.engagement).await?;
        require_or_refuse!(
            tx,
            ctx,
            today,
            &e,
            HospitalData::SurveyResponses,
            Access::Write
        );
        if let Some(why) = staff_refusal(ctx, &r) {
            audit_refusal(&mut tx, ctx, &r, e.hospital_id, why).await?;
            tx.commit().await?;
            return Err(StoreError::Forbidden(why));
        }
        if r.submitted_at_ms.is_some() {
            return Err(StoreError::Conflict(format!(
                "{} has already submitted the self-assessment",
                r.name
            )));
        }
        let token = random_token(32);
        let expires = self.clock().now_ms() + i64::from(valid_days) * DAY_MS;
        sqlx::query(
            "UPDATE checklist_respondents SET link_hash = $1, link_expires_at = $2 WHERE id = $3",
        )
        .bind(token_hash(&token))
        .bind(expires)
        .bind(r.id)
        .execute(&mut *tx)
        .await?;
        append(
            &mut tx,
            ctx,
            AuditAction::RespondentLinkIssued,
            respondent_target(r.id),
            Some(e.hospital_id),
            format!("valid {valid_days} days"),
        )
        .await?;
        let r = respondent_in(&mut tx, r.id).await?;
        tx.commit().await?;
        Ok((r, token))
    }

    /// Finds the live respondent behind a link. A refusal (unknown, expired,
    /// already submitted) is audited in `tx` and returned for the caller to
    /// commit; the token itself is never written down.
    async fn link_in(
        &self,
        tx: &mut Tx,
        token: &str,
        client_addr: Option<&str>,
        used_for: LinkUse,
    ) -> Result<std::result::Result<(Respondent, Engagement, AuditContext), StoreError>> {
        let context = |label: String| AuditContext {
            actor: None,
            actor_label: label,
            client_addr: client_addr.map(str::to_string),
        };
        let row: Option<RespondentRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{RESPONDENT_SELECT} WHERE r.link_hash = $1"
        )))
        .bind(token_hash(token.trim()))
        .fetch_optional(&mut **tx)
        .await?;
        let Some(row) = row else {
            append(
                tx,
                &context("link".into()),
                AuditAction::LinkRefused,
                "link:respondent",
                None,
                format!("unknown link ({})", used_for.label()),
            )
            .await?;
            return Ok(Err(StoreError::NotFound {
                what: "link",
                key: "respondent".into(),
            }));
        };
        let r = respondent(row)?;
        let ctx = context(format!("link:respondent:{}", r.id));
        let e = engagement_in(tx, self.today(), r.engagement).await?;
        let refusal = if r.submitted_at_ms.is_some() {
            Some((StoreError::LinkUsed, "already submitted"))
        } else if r
            .link_expires_at_ms
            .is_none_or(|t| t <= self.clock().now_ms())
        {
            Some((StoreError::LinkExpired, "expired"))
        } else if e.state.is_closed_early() {
            // A hospital that left the programme answers nothing more.
            Some((StoreError::LinkExpired, "engagement closed"))
        } else {
            None
        };
        if let Some((err, why)) = refusal {
            append(
                tx,
                &ctx,
                AuditAction::LinkRefused,
                respondent_target(r.id),
                Some(e.hospital_id),
                format!("{why} ({})", used_for.label()),
            )
            .await?;
            return Ok(Err(err));
        }
        Ok(Ok((r, e, ctx)))
    }

    /// What a respondent's link opens: the form, the programme's items and
    /// the answers so far. Audited as a read by `link:respondent:<id>`.
    pub async fn respondent_by_link(
        &self,
        token: &str,
        client_addr: Option<&str>,
    ) -> Result<LinkedRespondent> {
        let mut tx = self.begin_write().await?;
        let (r, e, ctx) = match self
            .link_in(&mut tx, token, client_addr, LinkUse::Read)
            .await?
        {
            Ok(found) => found,
            Err(refused) => {
                tx.commit().await?;
                return Err(refused);
            }
        };
        let c = checklist_in(&mut tx, &e, Some(r.id)).await?;
        let framework = framework_in(&mut tx, r.framework_id).await?;
        let sheet = c
            .respondents
            .into_iter()
            .next()
            .ok_or(StoreError::NotFound {
                what: "respondent",
                key: r.id.to_string(),
            })?;
        append(
            &mut tx,
            &ctx,
            AuditAction::HospitalDataRead,
            respondent_target(r.id),
            Some(e.hospital_id),
            "self-assessment by link",
        )
        .await?;
        tx.commit().await?;
        Ok(LinkedRespondent {
            respondent: sheet.respondent,
            hospital_name: e.hospital_name,
            framework,
            supplement: c.supplement,
            answers: sheet.answers,
            supplement_answers: sheet.supplement_answers,
            completion: sheet.completion,
        })
    }

    /// Saves one answer, checked as a half-way answer (いいえ without 目標日
    /// is kept until the submission). Hospital staff write their own or an
    /// unassigned respondent's answers until submission; the company and the
    /// secretariat may correct afterwards, audited with before and after.
    pub async fn save_answer(
        &self,
        ctx: &AuditContext,
        respondent_id: i64,
        framework_id: i64,
        key: &CellKey,
        answer: &Answer,
    ) -> Result<()> {
        let today = self.today();
        let mut tx = self.begin_write().await?;
        let r = respondent_in(&mut tx, respondent_id).await?;
        let e = engagement_in(&mut tx, today, r.engagement).await?;
        require_or_refuse!(
            tx,
            ctx,
            today,
            &e,
            HospitalData::SurveyResponses,
            Access::Write
        );
        if let Some(why) = staff_refusal(ctx, &r) {
            audit_refusal(&mut tx, ctx, &r, e.hospital_id, why).await?;
            tx.commit().await?;
            return Err(StoreError::Forbidden(why));
        }
        self.save_in(tx, ctx, &r, &e, framework_id, key, answer)
            .await
    }

    /// The same as [`Store::save_answer`], through a respondent's link.
    pub async fn save_answer_by_link(
        &self,
        token: &str,
        framework_id: i64,
        key: &CellKey,
        answer: &Answer,
        client_addr: Option<&str>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let (r, e, ctx) = match self
            .link_in(&mut tx, token, client_addr, LinkUse::Save)
            .await?
        {
            Ok(found) => found,
            Err(refused) => {
                tx.commit().await?;
                return Err(refused);
            }
        };
        self.save_in(tx, &ctx, &r, &e, framework_id, key, answer)
            .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn save_in(
        &self,
        mut tx: Tx,
        ctx: &AuditContext,
        r: &Respondent,
        e: &Engagement,
        framework_id: i64,
        key: &CellKey,
        answer: &Answer,
    ) -> Result<()> {
        let mut cache = FrameworkCache::default();
        let (style, form) =
            answer_target(&mut tx, &mut cache, r, e.programme_id, framework_id).await?;
        let answer = check_answer(style, &form, key, answer, self.today())?;
        let before: Option<AnswerRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{ANSWER_SELECT} WHERE a.respondent_id = $1 AND a.framework_id = $2 AND a.item_number = $3 AND a.scope = $4"
        )))
        .bind(r.id)
        .bind(framework_id)
        .bind(&key.item)
        .bind(key.scope.slug())
        .fetch_optional(&mut *tx)
        .await?;
        let before = before.map(stored_answer).transpose()?.map(|(_, _, _, a)| a);
        upsert_answer(
            &mut tx,
            r.id,
            framework_id,
            key,
            &answer,
            ctx.actor.map(|a| a.account),
        )
        .await?;
        append(
            &mut tx,
            ctx,
            AuditAction::AnswerSaved,
            respondent_target(r.id),
            Some(e.hospital_id),
            format!(
                "framework={framework_id} {} ({}): {} → {}{}",
                key.item,
                key.scope,
                describe(before.as_ref()),
                describe(Some(&answer)),
                if r.submitted_at_ms.is_some() {
                    " (correction after submission)"
                } else {
                    ""
                }
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Loads many answers into one respondent's sheet, all or nothing: every
    /// answer is checked first and the first refusal names its item.
    pub async fn import_answers(
        &self,
        ctx: &AuditContext,
        respondent_id: i64,
        framework_id: i64,
        answers: &BTreeMap<CellKey, Answer>,
    ) -> Result<usize> {
        let today = self.today();
        let mut tx = self.begin_write().await?;
        let r = respondent_in(&mut tx, respondent_id).await?;
        let e = engagement_in(&mut tx, today, r.engagement).await?;
        require_or_refuse!(
            tx,
            ctx,
            today,
            &e,
            HospitalData::SurveyResponses,
            Access::Write
        );
        if let Some(why) = staff_refusal(ctx, &r) {
            audit_refusal(&mut tx, ctx, &r, e.hospital_id, why).await?;
            tx.commit().await?;
            return Err(StoreError::Forbidden(why));
        }
        let mut cache = FrameworkCache::default();
        let (style, form) =
            answer_target(&mut tx, &mut cache, &r, e.programme_id, framework_id).await?;
        let mut checked = Vec::with_capacity(answers.len());
        for (key, answer) in answers {
            checked.push((key, check_answer(style, &form, key, answer, today)?));
        }
        for (key, answer) in &checked {
            upsert_answer(
                &mut tx,
                r.id,
                framework_id,
                key,
                answer,
                ctx.actor.map(|a| a.account),
            )
            .await?;
        }
        append(
            &mut tx,
            ctx,
            AuditAction::AnswersImported,
            respondent_target(r.id),
            Some(e.hospital_id),
            format!(
                "framework={framework_id} count={}{}",
                checked.len(),
                if r.submitted_at_ms.is_some() {
                    " (correction after submission)"
                } else {
                    ""
                }
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(checked.len())
    }

    /// Submits a self-assessment: refused, listing every gap (one per line),
    /// until every cell is answered and every いいえ has its 目標日.
    pub async fn submit_self_assessment(
        &self,
        ctx: &AuditContext,
        respondent_id: i64,
    ) -> Result<Respondent> {
        let today = self.today();
        let mut tx = self.begin_write().await?;
        let r = respondent_in(&mut tx, respondent_id).await?;
        let e = engagement_in(&mut tx, today, r.engagement).await?;
        require_or_refuse!(
            tx,
            ctx,
            today,
            &e,
            HospitalData::SurveyResponses,
            Access::Write
        );
        if let Some(why) = staff_refusal(ctx, &r) {
            audit_refusal(&mut tx, ctx, &r, e.hospital_id, why).await?;
            tx.commit().await?;
            return Err(StoreError::Forbidden(why));
        }
        if r.submitted_at_ms.is_some() {
            return Err(StoreError::Conflict(format!(
                "{} has already submitted the self-assessment",
                r.name
            )));
        }
        self.submit_in(tx, ctx, &r, &e).await
    }

    /// The same as [`Store::submit_self_assessment`], through the link; the
    /// link is used up by it.
    pub async fn submit_by_link(
        &self,
        token: &str,
        client_addr: Option<&str>,
    ) -> Result<Respondent> {
        let mut tx = self.begin_write().await?;
        let (r, e, ctx) = match self
            .link_in(&mut tx, token, client_addr, LinkUse::Submit)
            .await?
        {
            Ok(found) => found,
            Err(refused) => {
                tx.commit().await?;
                return Err(refused);
            }
        };
        self.submit_in(tx, &ctx, &r, &e).await
    }

    async fn submit_in(
        &self,
        mut tx: Tx,
        ctx: &AuditContext,
        r: &Respondent,
        e: &Engagement,
    ) -> Result<Respondent> {
        let gaps = submission_gaps_in(&mut tx, r, e, self.today()).await?;
        if !gaps.is_empty() {
            return Err(DomainError::invalid("answers", gaps.join("\n")).into());
        }
        let done = sqlx::query(
            "UPDATE checklist_respondents SET submitted_at = $1 WHERE id = $2 AND submitted_at IS NULL",
        )
        .bind(self.clock().now_ms())
        .bind(r.id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "{} has already submitted the self-assessment",
                r.name
            )));
        }
        append(
            &mut tx,
            ctx,
            AuditAction::SelfAssessmentSubmitted,
            respondent_target(r.id),
            Some(e.hospital_id),
            format!("engagement={} form={}", e.id, r.form_key),
        )
        .await?;
        let r = respondent_in(&mut tx, r.id).await?;
        tx.commit().await?;
        Ok(r)
    }

    /// The engagement's checklist: framework, programme items, and every
    /// respondent's answers and completion. One audited read.
    pub async fn engagement_checklist(
        &self,
        ctx: &AuditContext,
        engagement: EngagementId,
    ) -> Result<EngagementChecklist> {
        let today = self.today();
        let mut tx = self.begin_read().await?;
        let e = engagement_in(&mut tx, today, engagement).await?;
        require_or_refuse!(
            tx,
            ctx,
            today,
            &e,
            HospitalData::SurveyResponses,
            Access::Read
        );
        let c = checklist_in(&mut tx, &e, None).await?;
        self.finish_read(
            tx,
            ctx,
            format!("checklist:engagement:{engagement}"),
            Some(e.hospital_id),
            "checklist",
        )
        .await?;
        Ok(c)
    }

    /// One respondent's sheet, as the engagement's checklist holding only
    /// that respondent. One audited read.
    pub async fn respondent_sheet(
        &self,
        ctx: &AuditContext,
        respondent_id: i64,
    ) -> Result<EngagementChecklist> {
        let today = self.today();
        let mut tx = self.begin_read().await?;
        let r = respondent_in(&mut tx, respondent_id).await?;
        let e = engagement_in(&mut tx, today, r.engagement).await?;
        require_or_refuse!(
            tx,
            ctx,
            today,
            &e,
            HospitalData::SurveyResponses,
            Access::Read
        );
        let c = checklist_in(&mut tx, &e, Some(r.id)).await?;
        self.finish_read(
            tx,
            ctx,
            respondent_target(r.id),
            Some(e.hospital_id),
            "self-assessment",
        )
        .await?;
        Ok(c)
    }

    /// How far each engagement of the programme the actor may read is, and
    /// which items people most often did not understand. Audited as one
    /// read per hospital included.
    pub async fn checklist_progress(
        &self,
        ctx: &AuditContext,
        programme: ProgrammeId,
    ) -> Result<ChecklistProgress> {
        let today = self.today();
        let mut tx = self.begin_write().await?;
        let p = programme_in(&mut tx, programme).await?;
        let ids: Vec<i64> =
            sqlx::query_scalar("SELECT id FROM engagements WHERE programme_id = $1 ORDER BY id")
                .bind(programme.0)
                .fetch_all(&mut *tx)
                .await?;
        let mut visible: HashMap<OrgId, bool> = HashMap::new();
        let mut engagements = Vec::new();
        for id in ids {
            let e = engagement_in(&mut tx, today, EngagementId(id)).await?;
            let may = match (ctx.actor, visible.get(&e.hospital_id)) {
                (None, _) => true,
                (Some(_), Some(may)) => *may,
                (Some(actor), None) => {
                    let rel = relationship_in(&mut tx, today, &actor, e.hospital_id).await?;
                    let may = permits(rel, HospitalData::SurveyResponses, Access::Read);
                    visible.insert(e.hospital_id, may);
                    may
                }
            };
            if may {
                engagements.push(e);
            }
        }
        let extra_ids = supplement_ids(&mut tx, programme).await?;
        let mut cache = FrameworkCache::default();
        let supplement = match p.supplement_id {
            Some(id) => Some(cache.get(&mut tx, id).await?.clone()),
            None => None,
        };
        let rows: Vec<RespondentRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{RESPONDENT_SELECT} JOIN engagements e ON e.id = r.engagement_id WHERE e.programme_id = $1 ORDER BY r.id"
        )))
        .bind(programme.0)
        .fetch_all(&mut *tx)
        .await?;
        let mut answers: HashMap<i64, Vec<(i64, CellKey, Answer)>> = HashMap::new();
        for (r, fw, key, answer) in answers_where(
            &mut tx,
            "r.engagement_id IN (SELECT id FROM engagements WHERE programme_id = $1)",
            programme.0,
        )
        .await?
        {
            answers.entry(r).or_default().push((fw, key, answer));
        }
        let mut sheets: HashMap<EngagementId, Vec<RespondentSheet>> = HashMap::new();
        let included: HashSet<EngagementId> = engagements.iter().map(|e| e.id).collect();
        for row in rows {
            let r = respondent(row)?;
            if !included.contains(&r.engagement) {
                continue;
            }
            let own = cache.get(&mut tx, r.framework_id).await?.framework.clone();
            let mine = answers.remove(&r.id).unwrap_or_default();
            let s = sheet(
                r,
                mine,
                &own,
                supplement.as_ref().map(|s| &s.framework),
                &extra_ids,
            );
            sheets.entry(s.respondent.engagement).or_default().push(s);
        }
        // (framework, form, item) → hospitals, notes
        type Group = (BTreeSet<OrgId>, Vec<String>);
        let mut groups: BTreeMap<(i64, String, String), Group> = BTreeMap::new();
        let mut out = Vec::new();
        for e in &engagements {
            let mine = sheets.remove(&e.id).unwrap_or_default();
            let mut completion = Completion::default();
            for s in &mine {
                completion.add(s.completion);
                let own = s.answers.iter().map(|(k, a)| {
                    (
                        s.respondent.framework_id,
                        s.respondent.form_key.as_str(),
                        k,
                        a,
                    )
                });
                let extra = supplement.iter().flat_map(|sup| {
                    s.supplement_answers
                        .iter()
                        .map(move |(k, a)| (sup.id, SUPPLEMENT_FORM, k, a))
                });
                for (fw, form, key, answer) in own.chain(extra) {
                    let note = answer.not_understood.trim();
                    if note.is_empty() {
                        continue;
                    }
                    let group = groups
                        .entry((fw, form.to_string(), key.item.clone()))
                        .or_default();
                    group.0.insert(e.hospital_id);
                    if !group.1.iter().any(|n| n == note) {
                        group.1.push(note.to_string());
                    }
                }
            }
            out.push(EngagementProgress {
                engagement: e.id,
                hospital: e.hospital_id,
                hospital_name: e.hospital_name.clone(),
                company_name: e.company_name.clone(),
                state: e.state,
                respondents: mine.len(),
                submitted: mine
                    .iter()
                    .filter(|s| s.respondent.submitted_at_ms.is_some())
                    .count(),
                completion,
            });
        }
        let mut not_understood = Vec::new();
        for ((fw, form, number), (hospitals, notes)) in groups {
            let record = cache.get(&mut tx, fw).await?;
            let text_ja = record
                .framework
                .forms
                .iter()
                .filter(|f| f.key == form || record.origin == FrameworkOrigin::Programme)
                .find_map(|f| f.item(&number))
                .map(|i| i.text_ja.clone())
                .unwrap_or_default();
            not_understood.push(NotUnderstoodItem {
                framework_id: fw,
                form_key: form,
                item_number: number,
                text_ja,
                hospitals: hospitals.len(),
                notes,
            });
        }
        not_understood.sort_by(|a, b| {
            b.hospitals
                .cmp(&a.hospitals)
                .then_with(|| a.item_number.cmp(&b.item_number))
                .then_with(|| a.framework_id.cmp(&b.framework_id))
                .then_with(|| a.form_key.cmp(&b.form_key))
        });
        let hospitals: BTreeSet<OrgId> = engagements.iter().map(|e| e.hospital_id).collect();
        let reads = hospitals
            .into_iter()
            .map(|hospital| {
                AuditEntry::hospital_read(
                    format!("checklist:programme:{programme}"),
                    hospital,
                    "checklist progress",
                )
            })
            .collect();
        append_all(&mut tx, ctx, reads).await?;
        tx.commit().await?;
        Ok(ChecklistProgress {
            programme,
            engagements: out,
            not_understood,
        })
    }
}
