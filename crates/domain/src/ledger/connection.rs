//! External connections (seed 資料1 §3.3 ③: the eight kinds to look for,
//! including those the administrator does not know of) and the log of how
//! each was found.

use super::cells::{Column, Input, flag_text, key_text};
use super::{CellProblem, Cells, LedgerKey, RecordKind, RowRecord, labelled_enum, ledger_table};
use serde::{Deserialize, Serialize};
use time::Date;

labelled_enum!(
    /// The seed's eight categories of external connection, in its order.
    ConnectionCategory, "category" {
        Systems => ("systems", "各システム", "systems"),
        NetworkMaintenance => ("network-maintenance", "ネットワーク保守", "network maintenance"),
        ModalityMaintenance => ("modality-maintenance", "CT・MRI等検査機器の保守", "CT, MRI and other modality maintenance"),
        MyNumberCard => ("my-number-card", "マイナカード関係", "My Number Card (online eligibility)"),
        RegionalNetwork => ("regional-network", "地域医療連携", "regional healthcare network"),
        RemoteReading => ("remote-reading", "遠隔読影", "remote image reading"),
        ResearchNetwork => ("research-network", "研究ネットワーク", "research network"),
        RemoteServices => ("remote-services", "各種遠隔サービス", "other remote services"),
    }
);

impl ConnectionCategory {
    /// 1–8, the seed's numbering.
    pub fn number(self) -> usize {
        Self::ALL.iter().position(|c| *c == self).unwrap_or(0) + 1
    }
}

labelled_enum!(
    /// The line or technique the connection uses.
    ConnectionMethod, "method" {
        IpVpn => ("ip-vpn", "IP-VPN", "IP-VPN"),
        InternetVpn => ("internet-vpn", "インターネットVPN", "internet VPN"),
        DedicatedLine => ("dedicated-line", "専用線", "dedicated line"),
        ClosedNetwork => ("closed-network", "閉域網", "closed network"),
        Internet => ("internet", "インターネット", "internet"),
        MobileLine => ("mobile-line", "モバイル回線", "mobile line"),
        RemoteDesktop => ("remote-desktop", "リモートデスクトップ製品", "remote desktop product"),
        Other => ("other", "その他", "other"),
    }
);

labelled_enum!(
    /// Whether the line is up all the time or opened when needed.
    Availability, "availability" {
        AlwaysOn => ("always-on", "常時接続", "always on"),
        OnDemand => ("on-demand", "必要時のみ", "on demand"),
        Unknown => ("unknown", "不明", "unknown"),
    }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalConnection {
    pub key: LedgerKey,
    pub category: ConnectionCategory,
    /// 接続先: the organisation or service at the other end.
    pub counterpart: String,
    pub purpose: String,
    pub method: ConnectionMethod,
    /// The VPN product, carrier or line name.
    pub method_detail: String,
    /// The asset at the hospital's edge (router, VPN gateway).
    pub boundary_device: Option<LedgerKey>,
    pub availability: Availability,
    /// Who approves opening a session (blank: nobody does).
    pub session_approver: String,
    pub logged: Option<bool>,
    /// Whether the system administrator knew of it before the survey.
    pub known_to_administrator: Option<bool>,
    pub notes: String,
}

ledger_table!(ExternalConnection, Connection, connections);

const CONNECTION_COLUMNS: &[Column] = &[
    Column::required("key", "接続番号", "connection key"),
    Column::required("category", "分類", "category")
        .input(Input::Choice(ConnectionCategory::CHOICES)),
    Column::required("counterpart", "接続先", "counterpart"),
    Column::new("purpose", "目的", "purpose").input(Input::Multiline),
    Column::required("method", "接続方法", "method")
        .input(Input::Choice(ConnectionMethod::CHOICES)),
    Column::new("method_detail", "回線・VPN製品", "line or VPN product"),
    Column::new("boundary_device", "境界機器", "boundary device")
        .input(Input::Reference(RecordKind::Asset)),
    Column::new("availability", "接続形態", "always on or on demand")
        .input(Input::Choice(Availability::CHOICES)),
    Column::new("session_approver", "接続の承認者", "session approver"),
    Column::new("logged", "ログ記録", "logged").input(Input::Flag),
    Column::new(
        "known_to_administrator",
        "管理者の把握",
        "known to the administrator",
    )
    .input(Input::Flag),
    Column::new("notes", "備考", "notes").input(Input::Multiline),
];

impl RowRecord for ExternalConnection {
    const COLUMNS: &'static [Column] = CONNECTION_COLUMNS;

    fn key(&self) -> &LedgerKey {
        &self.key
    }

    fn from_cells(cells: &Cells) -> Result<Self, Vec<CellProblem>> {
        let mut r = cells.reader();
        let key = r.key("key");
        let category = r.choice("category", ConnectionCategory::from_text, None);
        let counterpart = r.required("counterpart", 200);
        let purpose = r.note("purpose", 1000);
        let method = r.choice("method", ConnectionMethod::from_text, None);
        let method_detail = r.note("method_detail", 500);
        let boundary_device = r.optional_key("boundary_device");
        let availability = r.choice(
            "availability",
            Availability::from_text,
            Some(Availability::Unknown),
        );
        let session_approver = r.note("session_approver", 200);
        let logged = r.flag("logged");
        let known_to_administrator = r.flag("known_to_administrator");
        let notes = r.note("notes", 4000);
        r.finish(|| {
            Some(ExternalConnection {
                key: key?,
                category: category?,
                counterpart,
                purpose,
                method: method?,
                method_detail,
                boundary_device,
                availability: availability?,
                session_approver,
                logged,
                known_to_administrator,
                notes,
            })
        })
    }

    fn to_cells(&self) -> Vec<String> {
        vec![
            self.key.to_string(),
            self.category.ja().into(),
            self.counterpart.clone(),
            self.purpose.clone(),
            self.method.ja().into(),
            self.method_detail.clone(),
            key_text(&self.boundary_device),
            self.availability.ja().into(),
            self.session_approver.clone(),
            flag_text(self.logged),
            flag_text(self.known_to_administrator),
            self.notes.clone(),
        ]
    }
}

labelled_enum!(
    /// Where a fact about a connection came from.
    InvestigationSource, "source" {
        Interview => ("interview", "ヒアリング", "interview"),
        WalkThrough => ("walk-through", "院内巡回", "walk-through"),
        VendorAnswer => ("vendor-answer", "ベンダー回答", "vendor answer"),
        Document => ("document", "資料", "document"),
    }
);

/// One dated entry of 外部接続先調査履歴.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvestigationEntry {
    pub key: LedgerKey,
    pub connection: LedgerKey,
    pub date: Date,
    /// Who found it (the surveyor's or administrator's name).
    pub investigator: String,
    pub source: InvestigationSource,
    pub finding: String,
}

ledger_table!(InvestigationEntry, Investigation, investigations);

const INVESTIGATION_COLUMNS: &[Column] = &[
    Column::required("key", "履歴番号", "entry key"),
    Column::required("connection", "接続番号", "connection key")
        .input(Input::Reference(RecordKind::Connection)),
    Column::required("date", "調査日", "date").input(Input::Date),
    Column::new("investigator", "調査者", "investigator"),
    Column::required("source", "情報源", "source")
        .input(Input::Choice(InvestigationSource::CHOICES)),
    Column::required("finding", "調査結果", "finding").input(Input::Multiline),
];

impl RowRecord for InvestigationEntry {
    const COLUMNS: &'static [Column] = INVESTIGATION_COLUMNS;

    fn key(&self) -> &LedgerKey {
        &self.key
    }

    fn from_cells(cells: &Cells) -> Result<Self, Vec<CellProblem>> {
        let mut r = cells.reader();
        let key = r.key("key");
        let connection = r.key("connection");
        let date = r.date("date");
        if date.is_none() && r.text("date").is_empty() {
            r.add_problem("date", "must not be empty");
        }
        let investigator = r.note("investigator", 200);
        let source = r.choice("source", InvestigationSource::from_text, None);
        let finding = r.required("finding", 4000);
        r.finish(|| {
            Some(InvestigationEntry {
                key: key?,
                connection: connection?,
                date: date?,
                investigator,
                source: source?,
                finding,
            })
        })
    }

    fn to_cells(&self) -> Vec<String> {
        vec![
            self.key.to_string(),
            self.connection.to_string(),
            self.date.to_string(),
            self.investigator.clone(),
            self.source.ja().into(),
            self.finding.clone(),
        ]
    }
}
