//! Builds a deliverable's content from the data it reports: the checklist
//! answers for ①–③ and the ledger for ④–⑦. Nothing is typed twice, so a
//! report never disagrees with the ledger it came from.

use super::DeliverableKind;
use super::content::{
    BACKUPS, CONNECTIONS, ContentColumn, ContentRow, ContentTable, DEVICES, DeliverableContent,
    INCIDENT_CHAIN, INVESTIGATIONS, LINKS, RESPONDENT, ROLES, SEGMENTS, STATUS_GATED,
    STATUS_UNANSWERED,
};
use crate::DomainError;
use crate::checklist::{
    Answer, AnswerStyle, AnswerValue, CellKey, Confirmation, Form, RespondentRole, Scope, reconcile,
};
use crate::ledger::{
    AssetKind, Backup, Column, ExternalConnection, InvestigationEntry, Ledger, LedgerKey, Link,
    RowRecord, Segment, StructureRole, network_view, org_view,
};
use std::collections::{BTreeMap, HashMap};

fn columns(columns: &[Column]) -> Vec<ContentColumn> {
    columns
        .iter()
        .map(|c| ContentColumn::new(c.ja, c.en))
        .collect()
}

fn table(
    id: &str,
    caption: (&str, &str),
    columns: Vec<ContentColumn>,
    rows: Vec<ContentRow>,
) -> ContentTable {
    ContentTable {
        id: id.to_string(),
        caption_ja: caption.0.to_string(),
        caption_en: caption.1.to_string(),
        columns,
        rows,
    }
}

/// A record's row: its key and its workbook cells.
fn record_row<R: RowRecord>(record: &R) -> ContentRow {
    ContentRow {
        key: record.key().to_string(),
        cells: record.to_cells(),
    }
}

/// The position just after the column `field` of a record kind.
fn after_field<R: RowRecord>(field: &str) -> usize {
    R::COLUMNS
        .iter()
        .position(|c| c.field == field)
        .map_or(R::COLUMNS.len(), |i| i + 1)
}

/// A record kind's columns with extra columns (a name beside a key) put in.
fn columns_with<R: RowRecord>(extra: &[(&str, &str, &str)]) -> Vec<ContentColumn> {
    let mut result = columns(R::COLUMNS);
    // From the last position backwards, so earlier positions stay right.
    let mut extra: Vec<_> = extra
        .iter()
        .map(|(field, ja, en)| (after_field::<R>(field), ContentColumn::new(*ja, *en)))
        .collect();
    extra.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
    for (at, column) in extra {
        result.insert(at, column);
    }
    result
}

/// A record's row with the extra columns' values put in, as `columns_with`.
fn row_with<R: RowRecord>(record: &R, extra: &[(&str, String)]) -> ContentRow {
    let mut row = record_row(record);
    let mut extra: Vec<_> = extra
        .iter()
        .map(|(field, value)| (after_field::<R>(field), value.clone()))
        .collect();
    extra.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
    for (at, value) in extra {
        row.cells.insert(at, value);
    }
    row
}

fn asset_name(ledger: &Ledger, key: Option<&LedgerKey>) -> String {
    key.and_then(|k| ledger.asset(k))
        .map(|a| a.name.clone())
        .unwrap_or_default()
}

/// ④ 病院情報システムのバックアップ状況: one row per backup, in ledger
/// order, with the name of the system beside its key and every field.
pub fn backups_content(ledger: &Ledger) -> DeliverableContent {
    const EXTRA: &[(&str, &str, &str)] = &[("system", "システム名", "system name")];
    let rows = ledger
        .backups
        .iter()
        .map(|b| row_with(b, &[("system", asset_name(ledger, Some(&b.system)))]))
        .collect();
    DeliverableContent {
        kind: DeliverableKind::Backups,
        tables: vec![table(
            BACKUPS,
            ("バックアップ状況", "backup status"),
            columns_with::<Backup>(EXTRA),
            rows,
        )],
        network: None,
        structure: None,
    }
}

/// ⑤ 外部接続先一覧 および 外部接続先調査履歴: the connections in the seed's
/// category order (ledger order within a category), with the boundary
/// device's name, and the investigation log grouped by connection in that
/// order, each connection's entries by date (entries of a connection not in
/// the ledger come last).
pub fn connections_content(ledger: &Ledger) -> DeliverableContent {
    const CONNECTION_EXTRA: &[(&str, &str, &str)] =
        &[("boundary_device", "境界機器名", "boundary device name")];
    const INVESTIGATION_EXTRA: &[(&str, &str, &str)] = &[("connection", "接続先", "counterpart")];
    let mut connections: Vec<&ExternalConnection> = ledger.connections.iter().collect();
    connections.sort_by_key(|c| c.category);
    let position: HashMap<&LedgerKey, usize> = connections
        .iter()
        .enumerate()
        .map(|(i, c)| (&c.key, i))
        .collect();
    let connection_rows = connections
        .iter()
        .map(|c| {
            row_with(
                *c,
                &[(
                    "boundary_device",
                    asset_name(ledger, c.boundary_device.as_ref()),
                )],
            )
        })
        .collect();
    let mut entries: Vec<&InvestigationEntry> = ledger.investigations.iter().collect();
    entries.sort_by(|a, b| {
        let at =
            |e: &InvestigationEntry| position.get(&e.connection).copied().unwrap_or(usize::MAX);
        (at(a), a.date, &a.key).cmp(&(at(b), b.date, &b.key))
    });
    let counterpart = |key: &LedgerKey| {
        position
            .get(key)
            .map(|&i| connections[i].counterpart.clone())
            .unwrap_or_default()
    };
    let entry_rows = entries
        .iter()
        .map(|e| row_with(*e, &[("connection", counterpart(&e.connection))]))
        .collect();
    DeliverableContent {
        kind: DeliverableKind::Connections,
        tables: vec![
            table(
                CONNECTIONS,
                ("外部接続先一覧", "external connections"),
                columns_with::<ExternalConnection>(CONNECTION_EXTRA),
                connection_rows,
            ),
            table(
                INVESTIGATIONS,
                ("外部接続先調査履歴", "investigation log"),
                columns_with::<InvestigationEntry>(INVESTIGATION_EXTRA),
                entry_rows,
            ),
        ],
        network: None,
        structure: None,
    }
}

/// The asset fields the device table of ⑥ shows, in this order.
const DEVICE_FIELDS: &[&str] = &[
    "key",
    "kind",
    "name",
    "system",
    "vendor",
    "product",
    "model",
    "version",
    "os",
    "quantity",
    "location",
    "segment",
    "address",
    "owner",
    "maintenance_vendor",
    "remote_maintenance",
    "remote_method",
    "end_of_support",
    "internet_exposed",
];

/// ⑥ ネットワーク概要図: the view drawn from the ledger, and the tables
/// behind it: segments, devices (every asset but systems, in ledger order,
/// with the system's name) and links.
pub fn network_content(ledger: &Ledger) -> DeliverableContent {
    use crate::ledger::Asset;
    let fields: Vec<usize> = DEVICE_FIELDS
        .iter()
        .filter_map(|f| Asset::COLUMNS.iter().position(|c| c.field == *f))
        .collect();
    let mut device_columns: Vec<ContentColumn> = fields
        .iter()
        .map(|&i| ContentColumn::new(Asset::COLUMNS[i].ja, Asset::COLUMNS[i].en))
        .collect();
    let system_at = DEVICE_FIELDS
        .iter()
        .position(|f| *f == "system")
        .map_or(device_columns.len(), |i| i + 1);
    device_columns.insert(
        system_at,
        ContentColumn::new("所属システム名", "system name"),
    );
    let devices = ledger
        .assets
        .iter()
        .filter(|a| a.kind != AssetKind::System)
        .map(|a| {
            let all = a.to_cells();
            let mut cells: Vec<String> = fields.iter().map(|&i| all[i].clone()).collect();
            cells.insert(system_at, asset_name(ledger, a.system.as_ref()));
            ContentRow {
                key: a.key.to_string(),
                cells,
            }
        })
        .collect();
    DeliverableContent {
        kind: DeliverableKind::Network,
        tables: vec![
            table(
                SEGMENTS,
                ("ネットワークセグメント", "network segments"),
                columns(Segment::COLUMNS),
                ledger.segments.iter().map(record_row).collect(),
            ),
            table(DEVICES, ("機器", "devices"), device_columns, devices),
            table(
                LINKS,
                ("機器間接続", "links"),
                columns(Link::COLUMNS),
                ledger.links.iter().map(record_row).collect(),
            ),
        ],
        network: Some(network_view(ledger)),
        structure: None,
    }
}

/// ⑦ 情報システム管理体制図: the chart drawn from the ledger, the roles with
/// their business contacts (ledger order), and the incident contact chain
/// (first called first).
pub fn structure_content(ledger: &Ledger) -> DeliverableContent {
    let view = org_view(ledger);
    // The same order as the view's chain: by position, then key.
    let mut ordered: Vec<&StructureRole> = ledger
        .roles
        .iter()
        .filter(|r| r.incident_order.is_some())
        .collect();
    ordered.sort_by(|a, b| (a.incident_order, &a.key).cmp(&(b.incident_order, &b.key)));
    let chain_rows = ordered
        .iter()
        .map(|r| ContentRow {
            key: r.key.to_string(),
            cells: vec![
                r.incident_order.map(|o| o.to_string()).unwrap_or_default(),
                r.key.to_string(),
                r.kind.ja().to_string(),
                r.title.clone(),
                r.person.clone(),
                r.organisation.clone(),
                r.business_phone.clone(),
                r.business_email.clone(),
            ],
        })
        .collect();
    let chain_columns = vec![
        ContentColumn::new("連絡順", "order"),
        ContentColumn::new("役割番号", "role key"),
        ContentColumn::new("区分", "kind"),
        ContentColumn::new("役割・役職", "title"),
        ContentColumn::new("担当者", "person"),
        ContentColumn::new("所属・会社", "department or company"),
        ContentColumn::new("業務用電話", "business phone"),
        ContentColumn::new("業務用メール", "business e-mail"),
    ];
    DeliverableContent {
        kind: DeliverableKind::Structure,
        tables: vec![
            table(
                ROLES,
                ("管理体制", "management structure"),
                columns(StructureRole::COLUMNS),
                ledger.roles.iter().map(record_row).collect(),
            ),
            table(
                INCIDENT_CHAIN,
                ("インシデント発生時の連絡順", "incident contact chain"),
                chain_columns,
                chain_rows,
            ),
        ],
        network: None,
        structure: Some(view),
    }
}

/// One respondent's answers to one form, as the checklist records them.
#[derive(Debug, Clone, Copy)]
pub struct RespondentAnswers<'a> {
    /// Stable key of the respondent (the store's id), for the table's id.
    pub key: &'a str,
    /// How the report names the respondent (役職, or a name).
    pub name: &'a str,
    pub role: RespondentRole,
    pub form: &'a Form,
    /// The hospital's self-assessment (with 確認日, 目標日 and what was unclear).
    pub self_assessed: &'a BTreeMap<CellKey, Answer>,
    /// The surveyor's confirmations from the hearings.
    pub confirmed: &'a BTreeMap<CellKey, Confirmation>,
}

fn role_labels(role: RespondentRole) -> (&'static str, &'static str) {
    match role {
        RespondentRole::Director => ("病院長・経営層", "director / executive"),
        RespondentRole::Administrator => ("システム管理者", "system administrator"),
        RespondentRole::User => ("利用者", "user"),
        RespondentRole::Vendor => ("事業者", "vendor"),
        RespondentRole::Other => ("その他", "other"),
    }
}

pub(super) fn scope_ja(scope: Scope) -> &'static str {
    match scope {
        Scope::Organisation => "組織",
        Scope::WholeSystem => "医療情報システム全般",
        Scope::Server => "サーバ",
        Scope::TerminalPc => "端末PC",
        Scope::NetworkDevice => "ネットワーク機器",
    }
}

/// The row key of one cell of a form: item number and scope.
pub(super) fn cell_row_key(key: &CellKey) -> String {
    format!("{}/{}", key.item, key.scope)
}

/// ①②③ チェックリストによる調査結果: one table per respondent of the
/// deliverable's audience (director → ①, administrator → ②, user → ③;
/// others are left out), in the order given; one row per cell of the
/// respondent's form with the self-assessed and the confirmed answer side
/// by side, 確認日 and 目標日 of the self-assessment, what the respondent
/// did not understand, and a status: 未回答 (no answer from either),
/// 対象外 (the gate question, answered no, took the cell out), 継続確認
/// (left open in the hearing), 自己評価と相違, 未確認.
pub fn checklist_content(
    kind: DeliverableKind,
    style: AnswerStyle,
    respondents: &[RespondentAnswers<'_>],
) -> Result<DeliverableContent, DomainError> {
    let Some(roles) = kind.respondent_roles() else {
        return Err(DomainError::invalid(
            "deliverable",
            format!("{} is not built from the checklist", kind.slug()),
        ));
    };
    let columns = vec![
        ContentColumn::new("項目番号", "item"),
        ContentColumn::new("項目", "item text"),
        ContentColumn::new("対象", "scope"),
        ContentColumn::new("自己評価", "self-assessed"),
        ContentColumn::new("確認結果", "confirmed"),
        ContentColumn::new("確認日", "checked on"),
        ContentColumn::new("目標日", "target date"),
        ContentColumn::new("理解が困難であった部分", "what was not understood"),
        ContentColumn::new("状況", "status"),
    ];
    let mark = |v: Option<AnswerValue>| v.map(|v| v.mark(style).to_string()).unwrap_or_default();
    let date = |d: Option<time::Date>| d.map(|d| d.to_string()).unwrap_or_default();
    let mut tables = Vec::new();
    for r in respondents.iter().filter(|r| roles.contains(&r.role)) {
        let lines = reconcile(r.form, r.self_assessed, r.confirmed);
        let gates: Vec<&str> = r
            .form
            .items()
            .filter(|i| i.gate)
            .map(|i| i.number.as_str())
            .collect();
        // The gate closes the form when the best answer to it is no: the
        // confirmed one, or else the respondent's own.
        let closed = lines.iter().any(|l| {
            gates.contains(&l.key.item.as_str())
                && l.confirmed.or(l.self_assessed) == Some(AnswerValue::No)
        });
        let rows = lines
            .iter()
            .map(|line| {
                let item = r.form.item(&line.key.item);
                let own = r.self_assessed.get(&line.key);
                let is_gate = gates.contains(&line.key.item.as_str());
                let status = if line.self_assessed.is_none() && line.confirmed.is_none() {
                    if closed && !is_gate {
                        STATUS_GATED
                    } else {
                        STATUS_UNANSWERED
                    }
                } else if line.open {
                    "継続確認"
                } else if line.differs() {
                    "自己評価と相違"
                } else if line.confirmed.is_none() {
                    "未確認"
                } else {
                    ""
                };
                ContentRow {
                    key: cell_row_key(&line.key),
                    cells: vec![
                        line.key.item.clone(),
                        item.map(|i| i.text_ja.clone()).unwrap_or_default(),
                        scope_ja(line.key.scope).to_string(),
                        mark(line.self_assessed),
                        mark(line.confirmed),
                        date(own.and_then(|a| a.checked_on)),
                        date(own.and_then(|a| a.target_on)),
                        line.not_understood.clone(),
                        status.to_string(),
                    ],
                }
            })
            .collect();
        let (role_ja, role_en) = role_labels(r.role);
        let form_en = if r.form.title_en.is_empty() {
            &r.form.title_ja
        } else {
            &r.form.title_en
        };
        tables.push(ContentTable {
            id: format!("{RESPONDENT}{}", r.key),
            caption_ja: format!("{}（{role_ja}）— {}", r.name, r.form.title_ja),
            caption_en: format!("{} ({role_en}) — {form_en}", r.name),
            columns: columns.clone(),
            rows,
        });
    }
    Ok(DeliverableContent {
        kind,
        tables,
        network: None,
        structure: None,
    })
}
