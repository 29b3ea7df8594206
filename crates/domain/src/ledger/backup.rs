//! 病院情報システムのバックアップ状況 (成果物 ④): one row per system.

use super::cells::{Column, Input, date_text, flag_text, number_text};
use super::{CellProblem, Cells, LedgerKey, RecordKind, RowRecord, ledger_table};
use serde::{Deserialize, Serialize};
use time::Date;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backup {
    pub key: LedgerKey,
    /// The system (or server) whose data is backed up.
    pub system: LedgerKey,
    /// What is covered (database, images, configuration, …).
    pub data_covered: String,
    /// Full, incremental, replication, snapshot, …
    pub method: String,
    pub frequency: String,
    pub generations: Option<u32>,
    pub media: String,
    pub location: String,
    /// A copy that ransomware on the network cannot reach.
    pub offline_copy: Option<bool>,
    pub immutable_copy: Option<bool>,
    pub encrypted: Option<bool>,
    pub last_restore_test: Option<Date>,
    pub restore_test_result: String,
    pub rpo_hours: Option<u32>,
    pub rto_hours: Option<u32>,
    pub notes: String,
}

ledger_table!(Backup, Backup, backups);

impl Backup {
    /// The seed's question after ransomware cases: is there a copy that an
    /// attacker on the network cannot encrypt?
    pub fn has_protected_copy(&self) -> bool {
        self.offline_copy == Some(true) || self.immutable_copy == Some(true)
    }
}

const COLUMNS: &[Column] = &[
    Column::required("key", "バックアップ番号", "backup key"),
    Column::required("system", "システム", "system").input(Input::Reference(RecordKind::Asset)),
    Column::new("data_covered", "対象データ", "data covered").input(Input::Multiline),
    Column::new("method", "方式", "method"),
    Column::new("frequency", "頻度", "frequency"),
    Column::new("generations", "世代数", "generations").input(Input::Number),
    Column::new("media", "媒体", "media"),
    Column::new("location", "保管場所", "location"),
    Column::new("offline_copy", "オフライン保管", "offline copy").input(Input::Flag),
    Column::new("immutable_copy", "改ざん不可", "immutable copy").input(Input::Flag),
    Column::new("encrypted", "暗号化", "encrypted").input(Input::Flag),
    Column::new("last_restore_test", "最終復元テスト日", "last restore test").input(Input::Date),
    Column::new(
        "restore_test_result",
        "復元テスト結果",
        "restore test result",
    )
    .input(Input::Multiline),
    Column::new("rpo_hours", "RPO（時間）", "RPO (hours)").input(Input::Number),
    Column::new("rto_hours", "RTO（時間）", "RTO (hours)").input(Input::Number),
    Column::new("notes", "備考", "notes").input(Input::Multiline),
];

/// A year of hours: beyond it an RPO or RTO is a typing error.
const MAX_HOURS: u32 = 24 * 366;

impl RowRecord for Backup {
    const COLUMNS: &'static [Column] = COLUMNS;

    fn key(&self) -> &LedgerKey {
        &self.key
    }

    fn from_cells(cells: &Cells) -> Result<Self, Vec<CellProblem>> {
        let mut r = cells.reader();
        let key = r.key("key");
        let system = r.key("system");
        let data_covered = r.note("data_covered", 1000);
        let method = r.note("method", 200);
        let frequency = r.note("frequency", 200);
        let generations = r.number("generations", 10_000);
        let media = r.note("media", 200);
        let location = r.note("location", 200);
        let offline_copy = r.flag("offline_copy");
        let immutable_copy = r.flag("immutable_copy");
        let encrypted = r.flag("encrypted");
        let last_restore_test = r.date("last_restore_test");
        let restore_test_result = r.note("restore_test_result", 1000);
        let rpo_hours = r.number("rpo_hours", MAX_HOURS);
        let rto_hours = r.number("rto_hours", MAX_HOURS);
        let notes = r.note("notes", 4000);
        r.finish(|| {
            Some(Backup {
                key: key?,
                system: system?,
                data_covered,
                method,
                frequency,
                generations,
                media,
                location,
                offline_copy,
                immutable_copy,
                encrypted,
                last_restore_test,
                restore_test_result,
                rpo_hours,
                rto_hours,
                notes,
            })
        })
    }

    fn to_cells(&self) -> Vec<String> {
        vec![
            self.key.to_string(),
            self.system.to_string(),
            self.data_covered.clone(),
            self.method.clone(),
            self.frequency.clone(),
            number_text(self.generations),
            self.media.clone(),
            self.location.clone(),
            flag_text(self.offline_copy),
            flag_text(self.immutable_copy),
            flag_text(self.encrypted),
            date_text(self.last_restore_test),
            self.restore_test_result.clone(),
            number_text(self.rpo_hours),
            number_text(self.rto_hours),
            self.notes.clone(),
        ]
    }
}
