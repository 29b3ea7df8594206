//! The shared device catalogue: what is true of a model everywhere (vendor,
//! product, CPE candidates, the vendor's MDS/SDS disclosure, end of
//! support), kept once by the secretariat so hospital assets point to it and
//! an advisory matches once per model.

use super::cells::{Column, Input, date_text};
use super::{AssetKind, CellProblem, Cells, LedgerKey, RowRecord};
use crate::cpe::CpeName;
use serde::{Deserialize, Serialize};
use time::Date;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceModel {
    pub key: LedgerKey,
    pub kind: AssetKind,
    pub vendor: String,
    pub product: String,
    pub model: String,
    /// CPE 2.3 names that may describe the model (canonical form).
    pub cpes: Vec<String>,
    /// Where the manufacturer's MDS/SDS (製造業者による医療情報セキュリティ
    /// 開示書) is found: a URL or a document reference.
    pub disclosure: String,
    pub end_of_support: Option<Date>,
    pub notes: String,
}

impl DeviceModel {
    pub fn cpe_names(&self) -> Vec<CpeName> {
        parsed(&self.cpes)
    }
}

/// Stored CPE names (canonical, so they parse), parsed.
pub(crate) fn parsed(cpes: &[String]) -> Vec<CpeName> {
    cpes.iter().filter_map(|c| CpeName::parse(c).ok()).collect()
}

const COLUMNS: &[Column] = &[
    Column::required("key", "機種コード", "model key"),
    Column::required("kind", "種別", "kind").input(Input::Choice(AssetKind::CHOICES)),
    Column::required("vendor", "メーカー", "vendor"),
    Column::required("product", "製品名", "product"),
    Column::new("model", "型番", "model"),
    Column::new("cpes", "CPE候補", "CPE candidates").input(Input::List),
    Column::new("disclosure", "MDS/SDS", "MDS/SDS"),
    Column::new("end_of_support", "サポート終了日", "end of support").input(Input::Date),
    Column::new("notes", "備考", "notes").input(Input::Multiline),
];

/// Reads CPE names from a cell, canonical and without repeats; a malformed
/// name is a problem of `field`.
pub(crate) fn read_cpes(r: &mut super::CellReader, field: &'static str) -> Vec<String> {
    let mut cpes = Vec::new();
    for text in r.list(field) {
        match CpeName::parse_lenient(&text) {
            Ok(name) => {
                let canonical = name.to_string();
                if !cpes.contains(&canonical) {
                    cpes.push(canonical);
                }
            }
            Err(e) => r.add_problem(field, format!("`{text}` is not a CPE name: {e}")),
        }
    }
    cpes
}

impl RowRecord for DeviceModel {
    const COLUMNS: &'static [Column] = COLUMNS;

    fn key(&self) -> &LedgerKey {
        &self.key
    }

    fn from_cells(cells: &Cells) -> Result<Self, Vec<CellProblem>> {
        let mut r = cells.reader();
        let key = r.key("key");
        let kind = r.choice("kind", AssetKind::from_text, None);
        let vendor = r.required("vendor", 200);
        let product = r.required("product", 200);
        let model = r.note("model", 200);
        let cpes = read_cpes(&mut r, "cpes");
        let disclosure = r.note("disclosure", 1000);
        let end_of_support = r.date("end_of_support");
        let notes = r.note("notes", 4000);
        r.finish(|| {
            Some(DeviceModel {
                key: key?,
                kind: kind?,
                vendor,
                product,
                model,
                cpes,
                disclosure,
                end_of_support,
                notes,
            })
        })
    }

    fn to_cells(&self) -> Vec<String> {
        vec![
            self.key.to_string(),
            self.kind.ja().into(),
            self.vendor.clone(),
            self.product.clone(),
            self.model.clone(),
            self.cpes.join("\n"),
            self.disclosure.clone(),
            date_text(self.end_of_support),
            self.notes.clone(),
        ]
    }
}
