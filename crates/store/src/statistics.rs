//! Statistics releases (seed 資料1 §2②, §3.6⑤; 資料3 第1条3): each surveyed
//! hospital reduced to its facts, tables across hospitals, protected by the
//! disclosure rules, drafted by one member of the secretariat and published
//! by another — to the ministry or to the public — then never changed.

use crate::audit::{AuditContext, append};
use crate::{Result, Store, StoreError, now_ms};
use mamori_domain::aggregates::{
    BackupFact, ChecklistFact, ConnectionFact, HospitalFacts, ReleaseAudience, ReleaseState,
    build_tables, check_publication,
};
use mamori_domain::audit::AuditAction;
use mamori_domain::checklist::{AnswerValue, Framework};
use mamori_domain::ledger::{Asset, Availability, Backup, ExternalConnection, Owner};
use mamori_domain::organisation::OrgKind;
use mamori_domain::policy::may_register_organisations;
use mamori_domain::statistics::{DisclosureRules, ProtectedTable, protect};
use mamori_domain::{AccountId, ProgrammeId};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// A statistics release as kept.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatisticsRelease {
    pub id: i64,
    pub number: i64,
    pub programme_id: Option<ProgrammeId>,
    pub audience: ReleaseAudience,
    pub title: String,
    pub k: u32,
    pub hospitals: i64,
    pub state: ReleaseState,
    /// With each suppressed cell's reason for the secretariat; without
    /// (every reason withheld) for everyone else.
    pub tables: Vec<ProtectedTable>,
    pub drafted_by: String,
    pub drafted_at_ms: i64,
    pub decided_by: Option<String>,
    pub decided_at_ms: Option<i64>,
}

/// The engagement states whose hospitals have survey data to count.
const SURVEYED: &str =
    "('surveying', 'interim-review', 'reporting', 'submitted', 'accepted', 'reported')";

fn parse<T: serde::de::DeserializeOwned>(column: &'static str, text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        column,
        value: e.to_string(),
    })
}

type ReleaseRow = (
    i64,
    i64,
    Option<i64>,
    String,
    String,
    i64,
    i64,
    String,
    String,
    Option<String>,
    i64,
    Option<String>,
    Option<i64>,
);

const RELEASE_SELECT: &str = "SELECT r.id, r.number, r.programme_id, r.audience, r.title, r.k, r.hospitals, r.content, r.state,
        d.display_name, r.drafted_at, a.display_name, r.decided_at
     FROM statistics_releases r JOIN accounts d ON d.id = r.drafted_by LEFT JOIN accounts a ON a.id = r.decided_by";

fn release(r: ReleaseRow, with_reasons: bool) -> Result<StatisticsRelease> {
    let tables: Vec<ProtectedTable> = parse("statistics_releases.content", &r.7)?;
    Ok(StatisticsRelease {
        id: r.0,
        number: r.1,
        programme_id: r.2.map(ProgrammeId),
        audience: ReleaseAudience::parse(&r.3)
            .map_err(crate::error::corrupt("statistics_releases.audience"))?,
        title: r.4,
        k: u32::try_from(r.5).unwrap_or(0),
        hospitals: r.6,
        state: ReleaseState::parse(&r.8)
            .map_err(crate::error::corrupt("statistics_releases.state"))?,
        tables: if with_reasons {
            tables
        } else {
            tables.iter().map(ProtectedTable::for_publication).collect()
        },
        drafted_by: r.9.unwrap_or_default(),
        drafted_at_ms: r.10,
        decided_by: r.11,
        decided_at_ms: r.12,
    })
}

fn may_read_statistics(kind: OrgKind) -> bool {
    matches!(
        kind,
        OrgKind::Secretariat | OrgKind::Supervisor | OrgKind::Ministry
    )
}

impl Store {
    /// Every surveyed hospital of `programme` (all programmes when `None`)
    /// reduced to its facts. Internal: only tables protected from them leave.
    async fn hospital_facts(&self, programme: Option<ProgrammeId>) -> Result<Vec<HospitalFacts>> {
        let mut conn = self.pool.acquire().await?;
        let engagements: Vec<(i64, i64, Option<i64>, Option<i64>)> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT e.id, e.hospital_id, o.bed_count, o.prefecture FROM engagements e JOIN organisations o ON o.id = e.hospital_id
                 WHERE e.state IN {SURVEYED} AND ($1 = 0 OR e.programme_id = $1) ORDER BY e.hospital_id, e.id"
            )))
            .bind(programme.map_or(0, |p| p.0))
            .fetch_all(&mut *conn)
            .await?;
        let mut frameworks: HashMap<i64, Framework> = HashMap::new();
        let today = self.today();
        let mut facts: BTreeMap<i64, HospitalFacts> = BTreeMap::new();
        for (engagement, hospital, beds, prefecture) in engagements {
            let f = facts.entry(hospital).or_insert_with(|| HospitalFacts {
                hospital: u64::try_from(hospital).unwrap_or(0),
                beds: beds.and_then(|b| u32::try_from(b).ok()).unwrap_or(0),
                prefecture: prefecture.and_then(|p| u8::try_from(p).ok()).unwrap_or(0),
                ..HospitalFacts::default()
            });
            // Checklist: the latest confirmed answer of a cell, else the hospital's own.
            let answers: Vec<(i64, String, String, Option<String>, String)> = sqlx::query_as(
                "SELECT a.framework_id, r.form_key, a.item_number, c.value, a.value
                 FROM checklist_answers a JOIN checklist_respondents r ON r.id = a.respondent_id
                 LEFT JOIN checklist_confirmations c ON c.id = (
                     SELECT MAX(c2.id) FROM checklist_confirmations c2
                     WHERE c2.respondent_id = a.respondent_id AND c2.framework_id = a.framework_id
                       AND c2.item_number = a.item_number AND c2.scope = a.scope AND c2.value IS NOT NULL)
                 WHERE r.engagement_id = $1 AND r.submitted_at IS NOT NULL",
            )
            .bind(engagement)
            .fetch_all(&mut *conn)
            .await?;
            // An item is はい when every cell answered is はい.
            let mut items: BTreeMap<(i64, String, String), Vec<AnswerValue>> = BTreeMap::new();
            for (framework, form, item, confirmed, own) in answers {
                let value = confirmed.unwrap_or(own);
                if let Ok(v) = AnswerValue::parse(&value) {
                    items.entry((framework, form, item)).or_default().push(v);
                }
            }
            for ((framework, form, item), values) in items {
                if let std::collections::hash_map::Entry::Vacant(slot) = frameworks.entry(framework)
                {
                    let content: String = sqlx::query_scalar(
                        "SELECT definition FROM checklist_frameworks WHERE id = $1",
                    )
                    .bind(framework)
                    .fetch_one(&mut *conn)
                    .await?;
                    slot.insert(parse("checklist_frameworks.definition", &content)?);
                }
                let text = frameworks
                    .get(&framework)
                    .and_then(|fw| fw.forms.iter().find(|x| x.key == form))
                    .and_then(|x| x.item(&item));
                let answered: Vec<&AnswerValue> = values
                    .iter()
                    .filter(|v| **v != AnswerValue::NotApplicable)
                    .collect();
                let answer = if answered.is_empty() {
                    AnswerValue::NotApplicable
                } else if answered.iter().all(|v| **v == AnswerValue::Yes) {
                    AnswerValue::Yes
                } else {
                    AnswerValue::No
                };
                f.checklist.push(ChecklistFact {
                    item: format!("{form}:{item}"),
                    label_ja: text.map(|t| t.text_ja.clone()).unwrap_or_default(),
                    label_en: text.map(|t| t.text_en.clone()).unwrap_or_default(),
                    answer,
                });
            }
            // Labour: the plan (its default rows where none is saved) and the hours booked.
            let planned: Vec<(i64, i64)> = sqlx::query_as(
                "SELECT row_number, hundredths FROM labour_plans WHERE engagement_id = $1",
            )
            .bind(engagement)
            .fetch_all(&mut *conn)
            .await?;
            let plan: f64 = mamori_domain::labour::PLAN_ROWS
                .iter()
                .map(|row| {
                    planned
                        .iter()
                        .find(|(n, _)| *n == i64::from(row.number))
                        .map_or(row.default_hours.as_f64(), |(_, h)| *h as f64 / 100.0)
                })
                .sum();
            let actual: Option<i64> = sqlx::query_scalar(
                "SELECT CAST(SUM(hundredths) AS BIGINT) FROM labour_entries WHERE engagement_id = $1 AND removed_at IS NULL",
            )
            .bind(engagement)
            .fetch_one(&mut *conn)
            .await?;
            if let Some(actual) = actual {
                f.labour = Some((plan, actual as f64 / 100.0));
            }
        }
        // The ledger and the vulnerability cases are the hospital's, whatever the engagement.
        let year_ago = today - time::Duration::days(365);
        for (hospital, f) in facts.iter_mut() {
            let records: Vec<(String, String)> = sqlx::query_as(
                "SELECT kind, body FROM ledger_records WHERE hospital_id = $1 AND deleted_at IS NULL AND kind IN ('asset', 'connection', 'backup')",
            )
            .bind(hospital)
            .fetch_all(&mut *conn)
            .await?;
            for (kind, body) in records {
                match kind.as_str() {
                    "asset" => {
                        let a: Asset = parse("ledger_records.body", &body)?;
                        let n = a.quantity.max(1);
                        f.assets += n;
                        if a.end_of_support.is_some_and(|d| d < today) {
                            f.past_end_of_support += n;
                        }
                        if a.owner == Owner::Vendor {
                            f.vendor_owned += n;
                        }
                    }
                    "connection" => {
                        let c: ExternalConnection = parse("ledger_records.body", &body)?;
                        f.connections.push(ConnectionFact {
                            category: c.category,
                            known_to_administrator: c.known_to_administrator,
                            always_on: c.availability == Availability::AlwaysOn,
                        });
                    }
                    _ => {
                        let b: Backup = parse("ledger_records.body", &body)?;
                        f.backups.push(BackupFact {
                            offline_or_immutable: b.offline_copy == Some(true)
                                || b.immutable_copy == Some(true),
                            generations: b.generations,
                            restore_tested: b.last_restore_test.is_some_and(|d| d >= year_ago),
                        });
                    }
                }
            }
            let cases: Vec<(i64, Option<i64>, Option<i64>)> = sqlx::query_as(
                "SELECT n.created_at,
                        (SELECT MIN(s.at) FROM advisory_match_steps s WHERE s.match_id = m.id),
                        (SELECT MIN(s.at) FROM advisory_match_steps s WHERE s.match_id = m.id AND s.to_state IN ('resolved', 'not-affected'))
                 FROM advisory_matches m JOIN advisory_notices n ON n.id = m.notice_id WHERE m.hospital_id = $1",
            )
            .bind(hospital)
            .fetch_all(&mut *conn)
            .await?;
            let days = |from: i64, to: i64| (to - from).max(0) as f64 / 86_400_000.0;
            for (told, first, closed) in cases {
                if let Some(first) = first {
                    f.first_response_days.push(days(told, first));
                }
                if let Some(closed) = closed {
                    f.closing_days.push(days(told, closed));
                }
            }
        }
        Ok(facts.into_values().collect())
    }

    /// The secretariat drafts a release: the tables computed now and
    /// protected with `k`, every suppressed cell shown to the drafter with
    /// its reason. Nothing is published until a second person approves.
    pub async fn draft_statistics(
        &self,
        ctx: &AuditContext,
        programme: Option<ProgrammeId>,
        audience: ReleaseAudience,
        k: u32,
        title: &str,
    ) -> Result<StatisticsRelease> {
        ctx.require("draft statistics", may_register_organisations)?;
        let rules = DisclosureRules::new(k)?;
        let title = title.trim();
        if title.is_empty() || title.chars().count() > 200 {
            return Err(mamori_domain::DomainError::invalid(
                "title",
                "表題は1〜200文字にしてください / the title needs 1 to 200 characters",
            )
            .into());
        }
        let Some(drafter) = ctx.actor.as_ref().map(|a| a.account) else {
            return Err(StoreError::Forbidden("a release is drafted by a person"));
        };
        let facts = self.hospital_facts(programme).await?;
        let tables: Vec<ProtectedTable> = build_tables(&facts)
            .iter()
            .map(|t| protect(t, &rules))
            .collect();
        let content = serde_json::to_string(&tables)
            .map_err(|e| StoreError::Conflict(format!("statistics: {e}")))?;
        let mut tx = self.begin_write().await?;
        let number: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(number), 0) + 1 FROM statistics_releases")
                .fetch_one(&mut *tx)
                .await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO statistics_releases (number, programme_id, audience, title, k, hospitals, content, state, drafted_by, drafted_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'draft', $8, $9) RETURNING id",
        )
        .bind(number)
        .bind(programme.map(|p| p.0))
        .bind(audience.slug())
        .bind(title)
        .bind(i64::from(k))
        .bind(facts.len() as i64)
        .bind(&content)
        .bind(drafter.0)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?;
        let suppressed: usize = tables.iter().map(|t| t.suppressed().len()).sum();
        append(
            &mut tx,
            ctx,
            AuditAction::StatisticsDrafted,
            format!("statistics:{number}"),
            None,
            format!(
                "{} hospitals, k={k}, {} tables, {suppressed} cells suppressed, for {}",
                facts.len(),
                tables.len(),
                audience.slug()
            ),
        )
        .await?;
        tx.commit().await?;
        self.statistics_release(ctx, id).await
    }

    /// A second member of the secretariat publishes a draft (frozen from
    /// now on), or either discards it.
    pub async fn decide_statistics(
        &self,
        ctx: &AuditContext,
        id: i64,
        to: ReleaseState,
    ) -> Result<StatisticsRelease> {
        ctx.require("publish statistics", may_register_organisations)?;
        let Some(actor) = ctx.actor.as_ref().map(|a| a.account) else {
            return Err(StoreError::Forbidden("a release is approved by a person"));
        };
        let mut tx = self.begin_write().await?;
        let row: Option<(i64, String, i64, String)> = sqlx::query_as(
            "SELECT number, state, drafted_by, audience FROM statistics_releases WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((number, state, drafter, audience)) = row else {
            return Err(StoreError::NotFound {
                what: "statistics release",
                key: id.to_string(),
            });
        };
        let state = ReleaseState::parse(&state)
            .map_err(crate::error::corrupt("statistics_releases.state"))?;
        let action = match to {
            ReleaseState::Published => {
                check_publication(state, AccountId(drafter), actor)?;
                AuditAction::StatisticsPublished
            }
            ReleaseState::Discarded if state == ReleaseState::Draft => {
                AuditAction::StatisticsDiscarded
            }
            _ => {
                return Err(mamori_domain::DomainError::invalid(
                    "state",
                    format!("{} → {} is not a step", state.slug(), to.slug()),
                )
                .into());
            }
        };
        sqlx::query(
            "UPDATE statistics_releases SET state = $1, decided_by = $2, decided_at = $3 WHERE id = $4 AND state = 'draft'",
        )
        .bind(to.slug())
        .bind(actor.0)
        .bind(now_ms())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        append(
            &mut tx,
            ctx,
            action,
            format!("statistics:{number}"),
            None,
            format!("to {audience}"),
        )
        .await?;
        tx.commit().await?;
        self.statistics_release(ctx, id).await
    }

    /// The releases a reader may see: the secretariat every one (with the
    /// reasons); the supervisor and the ministry the published ones.
    pub async fn statistics_releases(&self, ctx: &AuditContext) -> Result<Vec<StatisticsRelease>> {
        ctx.require("read statistics", |a| may_read_statistics(a.org_kind))?;
        let secretariat = ctx
            .actor
            .as_ref()
            .is_none_or(|a| a.org_kind == OrgKind::Secretariat);
        let rows: Vec<ReleaseRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{RELEASE_SELECT} WHERE $1 = 1 OR r.state = 'published' ORDER BY r.number DESC"
        )))
        .bind(i64::from(secretariat))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(|r| release(r, secretariat)).collect()
    }

    pub async fn statistics_release(
        &self,
        ctx: &AuditContext,
        id: i64,
    ) -> Result<StatisticsRelease> {
        self.statistics_releases(ctx)
            .await?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or(StoreError::NotFound {
                what: "statistics release",
                key: id.to_string(),
            })
    }

    /// What anyone may read without logging in: published releases for
    /// the public, every suppression reason withheld.
    pub async fn public_statistics(&self) -> Result<Vec<StatisticsRelease>> {
        let rows: Vec<ReleaseRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{RELEASE_SELECT} WHERE r.state = 'published' AND r.audience = 'public' ORDER BY r.number DESC"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(|r| release(r, false)).collect()
    }
}
