//! The response to advisories (issue 8 item 4; seed 資料1 基本構想 ②):
//! the notice each hospital receives, the analyst's confirmation of
//! unsure matches, the escalation of untouched cases to the secretariat,
//! and the counts the secretariat and the ministry follow ("N hospitals
//! affected by X, M closed").

use crate::advisories::{AdvisoryMatch, MatchQuery, advisory_facts, matches_in};
use crate::audit::{AuditContext, append};
use crate::db::{Tx, iso_day, parse_iso_day};
use crate::hospital::{recheck, require};
use crate::notifications::{NotificationKind, notify_accounts};
use crate::{Result, Store, StoreError, now_ms};
use mamori_advisories::notice::{Notice, NoticeCase, build_notice};
use mamori_domain::OrgId;
use mamori_domain::audit::AuditAction;
use mamori_domain::ledger::{Asset, StructureRole};
use mamori_domain::organisation::OrgKind;
use mamori_domain::policy::{Access, HospitalData, HospitalGrant, may_register_organisations};
use mamori_domain::triage::{MatchReview, TriageState, check_review_step, escalation};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// A notice as kept: numbered per hospital.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredNotice {
    pub id: i64,
    pub hospital_id: OrgId,
    pub number: i64,
    pub created_at_ms: i64,
    pub notice: Notice,
}

/// One step of a case: a triage step, who took it and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MatchStep {
    pub from: String,
    pub to: String,
    pub note: String,
    pub actor: String,
    pub at_ms: i64,
    pub due_on: Option<String>,
}

/// Where the response to one advisory stands across the hospitals told of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AdvisoryResponse {
    pub advisory_id: i64,
    pub advisory: String,
    pub source: String,
    pub title: String,
    pub cvss: Option<f64>,
    pub kev: bool,
    /// Hospitals with at least one case.
    pub hospitals: usize,
    /// Hospitals whose every case is 対応済 or 影響なし.
    pub closed: usize,
    /// Of the closed: hospitals that found themselves not affected.
    pub not_affected: usize,
    /// Hospitals with a case past its due date.
    pub overdue: usize,
    pub cases: usize,
    pub escalated_cases: usize,
}

fn parse_body<T: serde::de::DeserializeOwned>(column: &'static str, body: &str) -> Result<T> {
    serde_json::from_str(body).map_err(|e| StoreError::Corrupt {
        column,
        value: e.to_string(),
    })
}

/// The current records of one kind of a hospital's ledger, by key.
async fn ledger_bodies<T: serde::de::DeserializeOwned>(
    tx: &mut Tx,
    hospital: i64,
    kind: &str,
) -> Result<Vec<(String, T)>> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT record_key, body FROM ledger_records WHERE hospital_id = $1 AND kind = $2 AND deleted_at IS NULL ORDER BY record_key",
    )
    .bind(hospital)
    .bind(kind)
    .fetch_all(&mut **tx)
    .await?;
    rows.into_iter()
        .map(|(k, b)| Ok((k, parse_body("ledger_records.body", &b)?)))
        .collect()
}

/// Active accounts of the organisations of `kind`, or of one organisation.
async fn recipients(
    tx: &mut Tx,
    kind: Option<OrgKind>,
    org: Option<i64>,
) -> Result<Vec<(i64, String)>> {
    Ok(sqlx::query_as(
        "SELECT a.id, a.email FROM accounts a JOIN organisations o ON o.id = a.org_id
         WHERE a.disabled = 0 AND (o.kind = $1 OR o.id = $2)",
    )
    .bind(kind.map(|k| k.slug()).unwrap_or("-"))
    .bind(org.unwrap_or(0))
    .fetch_all(&mut **tx)
    .await?)
}

type ResponseRow = (i64, i64, String, Option<String>, Option<i64>);
type StepRow = (String, String, String, Option<String>, i64, Option<String>);
type PendingRow = (i64, i64, i64, String, String, String, Option<String>);

impl Store {
    /// Sends each hospital with cases it has not been told of one notice
    /// listing them, and notifies its staff. Returns the notices sent.
    pub async fn issue_notices(&self, ctx: &AuditContext) -> Result<usize> {
        ctx.require("issue advisory notices", may_register_organisations)?;
        let today = self.today();
        let mut tx = self.begin_write().await?;
        let rows: Vec<PendingRow> = sqlx::query_as(
            "SELECT id, advisory_id, hospital_id, asset_key, method, confidence, due_on FROM advisory_matches
             WHERE notice_id IS NULL AND review IN ('not-needed', 'confirmed') AND state <> 'withdrawn'
             ORDER BY hospital_id, id",
        )
        .fetch_all(&mut *tx)
        .await?;
        let mut by_hospital: BTreeMap<i64, Vec<PendingRow>> = BTreeMap::new();
        for r in rows {
            by_hospital.entry(r.2).or_default().push(r);
        }
        let mut sent = 0;
        for (hospital, cases) in by_hospital {
            let name: String = sqlx::query_scalar("SELECT name FROM organisations WHERE id = $1")
                .bind(hospital)
                .fetch_one(&mut *tx)
                .await?;
            let assets: HashMap<String, Asset> = ledger_bodies(&mut tx, hospital, "asset")
                .await?
                .into_iter()
                .collect();
            let roles: Vec<StructureRole> = ledger_bodies(&mut tx, hospital, "role")
                .await?
                .into_iter()
                .map(|(_, r)| r)
                .collect();
            let ids: Vec<i64> = cases.iter().map(|c| c.1).collect();
            let facts = advisory_facts(&mut tx, &ids).await?;
            let mut told = Vec::new();
            let mut notice_cases = Vec::new();
            for c in &cases {
                // An asset deleted since the match is withdrawn by the next re-match.
                let (Some(asset), Some(f)) = (assets.get(&c.3), facts.get(&c.1)) else {
                    continue;
                };
                let due_on = match &c.6 {
                    Some(d) => parse_iso_day("advisory_matches.due_on", d)?,
                    None => today,
                };
                told.push(c.0);
                notice_cases.push(NoticeCase {
                    match_id: c.0,
                    advisory: &f.advisory,
                    kev: f.kev.as_ref(),
                    asset,
                    method: &c.4,
                    confidence: &c.5,
                    due_on,
                });
            }
            if told.is_empty() {
                continue;
            }
            let notice = build_notice(&name, today, &notice_cases, &roles);
            let content = serde_json::to_string(&notice)
                .map_err(|e| StoreError::Conflict(format!("notice: {e}")))?;
            let number: i64 = sqlx::query_scalar(
                "SELECT COALESCE(MAX(number), 0) + 1 FROM advisory_notices WHERE hospital_id = $1",
            )
            .bind(hospital)
            .fetch_one(&mut *tx)
            .await?;
            // The store's clock: escalation counts days from it.
            let now = self.clock().now_ms();
            let notice_id: i64 = sqlx::query_scalar(
                "INSERT INTO advisory_notices (hospital_id, number, content, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(hospital)
            .bind(number)
            .bind(&content)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            for id in &told {
                sqlx::query("UPDATE advisory_matches SET notice_id = $1 WHERE id = $2")
                    .bind(notice_id)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            let kev = notice.advisories.iter().filter(|a| a.kev.is_some()).count();
            append(
                &mut tx,
                ctx,
                AuditAction::AdvisoryNoticeIssued,
                format!("notice:{hospital}:{number}"),
                Some(OrgId(hospital)),
                format!(
                    "{} advisories ({kev} known exploited), {} cases",
                    notice.advisories.len(),
                    told.len()
                ),
            )
            .await?;
            let to = recipients(&mut tx, None, Some(hospital)).await?;
            notify_accounts(
                &mut tx,
                None,
                NotificationKind::AdvisoryNotice,
                &serde_json::json!({
                    "hospital": name,
                    "hospital_id": hospital,
                    "number": number,
                    "advisories": notice.advisories.len(),
                    "cases": told.len(),
                    "kev": kev,
                }),
                &format!("advisory-notice:{notice_id}"),
                to,
            )
            .await?;
            sent += 1;
        }
        tx.commit().await?;
        Ok(sent)
    }

    /// A secretariat analyst confirms a match found by vendor and product
    /// only (the hospital is then told), or dismisses it with a reason.
    pub async fn review_match(
        &self,
        ctx: &AuditContext,
        match_id: i64,
        to: MatchReview,
        note: &str,
    ) -> Result<AdvisoryMatch> {
        ctx.require("review advisory matches", may_register_organisations)?;
        let mut tx = self.begin_write().await?;
        let row: Option<(String, i64)> =
            sqlx::query_as("SELECT review, hospital_id FROM advisory_matches WHERE id = $1")
                .bind(match_id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((review, hospital)) = row else {
            return Err(StoreError::NotFound {
                what: "advisory match",
                key: match_id.to_string(),
            });
        };
        let from = MatchReview::parse(&review)
            .map_err(crate::error::corrupt("advisory_matches.review"))?;
        let note = check_review_step(from, to, note)?;
        sqlx::query(
            "UPDATE advisory_matches SET review = $1, review_note = $2, reviewed_by = $3, reviewed_at = $4 WHERE id = $5",
        )
        .bind(to.slug())
        .bind(&note)
        .bind(ctx.actor.as_ref().map(|a| a.account.0))
        .bind(now_ms())
        .bind(match_id)
        .execute(&mut *tx)
        .await?;
        append(
            &mut tx,
            ctx,
            AuditAction::AdvisoryMatchReviewed,
            format!("match:{match_id}"),
            Some(OrgId(hospital)),
            format!("{} → {}", from.slug(), to.slug()),
        )
        .await?;
        tx.commit().await?;
        if to.is_visible() {
            self.issue_notices(ctx).await?;
        }
        let mut conn = self.pool.acquire().await?;
        matches_in(
            &mut conn,
            &MatchQuery {
                id: Some(match_id),
                ..MatchQuery::default()
            },
        )
        .await?
        .pop()
        .ok_or(StoreError::Conflict(format!("match {match_id} vanished")))
    }

    /// Sends the secretariat the cases a hospital left untouched a week
    /// after its notice, or let pass their due date; each case once.
    /// Returns the cases escalated.
    pub async fn escalate_cases(&self) -> Result<usize> {
        let today = self.today();
        let ctx = AuditContext::operator("case escalation");
        let mut tx = self.begin_write().await?;
        let rows: Vec<(i64, i64, String, Option<String>, i64, String)> = sqlx::query_as(
            "SELECT m.id, m.hospital_id, m.state, m.due_on, n.created_at, o.name
             FROM advisory_matches m JOIN advisory_notices n ON n.id = m.notice_id JOIN organisations o ON o.id = m.hospital_id
             WHERE m.escalated_at IS NULL AND m.state IN ('unconfirmed', 'affected', 'in-progress')
             ORDER BY m.hospital_id, m.id",
        )
        .fetch_all(&mut *tx)
        .await?;
        let mut by_hospital: BTreeMap<(i64, String), Vec<(i64, &'static str)>> = BTreeMap::new();
        for (id, hospital, state, due_on, notified_ms, name) in rows {
            let state = TriageState::parse(&state)
                .map_err(crate::error::corrupt("advisory_matches.state"))?;
            let due = due_on
                .map(|d| parse_iso_day("advisory_matches.due_on", &d))
                .transpose()?;
            let notified = crate::db::day_of_ms(notified_ms);
            if let Some(why) = escalation(state, notified, due, today) {
                let why = match why {
                    mamori_domain::triage::Escalation::Untouched => "untouched",
                    mamori_domain::triage::Escalation::Overdue => "overdue",
                };
                by_hospital
                    .entry((hospital, name))
                    .or_default()
                    .push((id, why));
            }
        }
        let now = now_ms();
        let mut escalated = 0;
        let secretariat = recipients(&mut tx, Some(OrgKind::Secretariat), None).await?;
        for ((hospital, name), cases) in by_hospital {
            for (id, _) in &cases {
                sqlx::query("UPDATE advisory_matches SET escalated_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            let untouched = cases.iter().filter(|c| c.1 == "untouched").count();
            let overdue = cases.len() - untouched;
            append(
                &mut tx,
                &ctx,
                AuditAction::AdvisoryCasesEscalated,
                format!("matches:{hospital}"),
                Some(OrgId(hospital)),
                format!("{untouched} untouched, {overdue} overdue"),
            )
            .await?;
            notify_accounts(
                &mut tx,
                None,
                NotificationKind::CaseEscalated,
                &serde_json::json!({
                    "hospital": name,
                    "hospital_id": hospital,
                    "untouched": untouched,
                    "overdue": overdue,
                }),
                &format!("case-escalated:{hospital}:{}", cases[0].0),
                secretariat.clone(),
            )
            .await?;
            escalated += cases.len();
        }
        tx.commit().await?;
        Ok(escalated)
    }

    /// Per advisory: how many hospitals were told of it and how many have
    /// closed every case. Counts only, no hospital named: the secretariat,
    /// the supervisor and the ministry read it.
    pub async fn advisory_responses(&self, ctx: &AuditContext) -> Result<Vec<AdvisoryResponse>> {
        ctx.require("read the advisory response", |a| {
            matches!(
                a.org_kind,
                OrgKind::Secretariat | OrgKind::Supervisor | OrgKind::Ministry
            )
        })?;
        let today = iso_day(self.today());
        let mut conn = self.pool.acquire().await?;
        let rows: Vec<ResponseRow> = sqlx::query_as(
            "SELECT advisory_id, hospital_id, state, due_on, escalated_at FROM advisory_matches
             WHERE review IN ('not-needed', 'confirmed') AND state <> 'withdrawn' AND notice_id IS NOT NULL",
        )
        .fetch_all(&mut *conn)
        .await?;
        #[derive(Default)]
        struct Hospital {
            open: bool,
            affected: bool,
            overdue: bool,
        }
        let mut per: BTreeMap<i64, (BTreeMap<i64, Hospital>, usize, usize)> = BTreeMap::new();
        for (advisory, hospital, state, due_on, escalated) in rows {
            let entry = per.entry(advisory).or_default();
            entry.1 += 1;
            entry.2 += usize::from(escalated.is_some());
            let h = entry.0.entry(hospital).or_default();
            let open = !matches!(state.as_str(), "resolved" | "not-affected");
            h.open |= open;
            h.affected |= state != "not-affected";
            h.overdue |= open && due_on.is_some_and(|d| d < today);
        }
        let ids: Vec<i64> = per.keys().copied().collect();
        let facts = advisory_facts(&mut conn, &ids).await?;
        let mut out: Vec<AdvisoryResponse> = per
            .into_iter()
            .filter_map(|(id, (hospitals, cases, escalated))| {
                let f = facts.get(&id)?;
                Some(AdvisoryResponse {
                    advisory_id: id,
                    advisory: f.advisory.id.clone(),
                    source: f.advisory.source.slug().to_string(),
                    title: f.advisory.title.clone(),
                    cvss: f.advisory.cvss.as_ref().map(|c| c.base_score),
                    kev: f.kev.is_some(),
                    hospitals: hospitals.len(),
                    closed: hospitals.values().filter(|h| !h.open).count(),
                    not_affected: hospitals.values().filter(|h| !h.affected).count(),
                    overdue: hospitals.values().filter(|h| h.overdue).count(),
                    cases,
                    escalated_cases: escalated,
                })
            })
            .collect();
        out.sort_by(|a, b| {
            (b.hospitals - b.closed)
                .cmp(&(a.hospitals - a.closed))
                .then(b.kev.cmp(&a.kev))
                .then(b.cvss.unwrap_or(0.0).total_cmp(&a.cvss.unwrap_or(0.0)))
                .then(a.advisory.cmp(&b.advisory))
        });
        Ok(out)
    }

    /// The notices a hospital received, newest first; audited.
    pub async fn hospital_notices(
        &self,
        ctx: &AuditContext,
        grant: &HospitalGrant,
    ) -> Result<Vec<StoredNotice>> {
        require(grant, ctx, HospitalData::Matches, Access::Read)?;
        let mut tx = self.begin_read().await?;
        recheck(&mut tx, grant, self.today()).await?;
        let rows: Vec<(i64, i64, String, i64)> = sqlx::query_as(
            "SELECT id, number, content, created_at FROM advisory_notices WHERE hospital_id = $1 ORDER BY number DESC",
        )
        .bind(grant.hospital().0)
        .fetch_all(&mut *tx)
        .await?;
        self.finish_read(
            tx,
            ctx,
            format!("notices:{}", grant.hospital()),
            Some(grant.hospital()),
            "advisory notices",
        )
        .await?;
        rows.into_iter()
            .map(|(id, number, content, created)| {
                Ok(StoredNotice {
                    id,
                    hospital_id: grant.hospital(),
                    number,
                    created_at_ms: created,
                    notice: parse_body("advisory_notices.content", &content)?,
                })
            })
            .collect()
    }

    /// The steps of one of the hospital's cases, oldest first.
    pub async fn match_steps(
        &self,
        ctx: &AuditContext,
        grant: &HospitalGrant,
        match_id: i64,
    ) -> Result<Vec<MatchStep>> {
        require(grant, ctx, HospitalData::Matches, Access::Read)?;
        let mut conn = self.pool.acquire().await?;
        let rows: Vec<StepRow> = sqlx::query_as(
            "SELECT s.from_state, s.to_state, s.note, a.display_name, s.at, s.due_on
             FROM advisory_match_steps s JOIN advisory_matches m ON m.id = s.match_id
             LEFT JOIN accounts a ON a.id = s.actor_id
             WHERE s.match_id = $1 AND m.hospital_id = $2 ORDER BY s.id",
        )
        .bind(match_id)
        .bind(grant.hospital().0)
        .fetch_all(&mut *conn)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| MatchStep {
                from: r.0,
                to: r.1,
                note: r.2,
                actor: r.3.unwrap_or_default(),
                at_ms: r.4,
                due_on: r.5,
            })
            .collect())
    }
}
