//! 情報システム管理体制図 (成果物 ⑦): who is responsible for what, to whom
//! they report, and whom to call, in order, when something happens. Only
//! business contacts are kept (seed 資料2 §2(4): no private personal data).

use super::cells::{Column, Input, key_text, number_text};
use super::{CellProblem, Cells, LedgerKey, RecordKind, RowRecord, labelled_enum, ledger_table};
use serde::{Deserialize, Serialize};

labelled_enum!(
    /// A role in the management structure.
    StructureRoleKind, "role_kind" {
        Executive => ("executive", "経営層", "executive"),
        SecurityOfficer => ("security-officer", "医療情報システム安全管理責任者", "medical information system security officer"),
        SystemAdministrator => ("system-administrator", "システム管理者", "system administrator"),
        DepartmentContact => ("department-contact", "部門担当者", "department contact"),
        IncidentContact => ("incident-contact", "インシデント窓口", "incident contact"),
        Vendor => ("vendor", "ベンダー", "vendor"),
        External => ("external", "外部機関", "external body"),
        Other => ("other", "その他", "other"),
    }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StructureRole {
    pub key: LedgerKey,
    pub kind: StructureRoleKind,
    /// The role as the hospital names it (情報システム室長, 保守担当, 厚生労働省, 所轄警察署).
    pub title: String,
    /// The person's name in that role, if the hospital gives it.
    pub person: String,
    /// Department, or company for a vendor.
    pub organisation: String,
    pub business_phone: String,
    pub business_email: String,
    pub reports_to: Option<LedgerKey>,
    /// What a vendor or department looks after.
    pub responsibilities: String,
    /// Position in the incident contact chain (1 = called first).
    pub incident_order: Option<u32>,
    pub notes: String,
}

ledger_table!(StructureRole, Role, roles);

impl StructureRole {
    /// Outside the hospital: vendors and external bodies.
    pub fn is_outside(&self) -> bool {
        matches!(
            self.kind,
            StructureRoleKind::Vendor | StructureRoleKind::External
        )
    }
}

const COLUMNS: &[Column] = &[
    Column::required("key", "役割番号", "role key"),
    Column::required("kind", "区分", "kind").input(Input::Choice(StructureRoleKind::CHOICES)),
    Column::required("title", "役割・役職", "title"),
    Column::new("person", "担当者", "person"),
    Column::new("organisation", "所属・会社", "department or company"),
    Column::new("business_phone", "業務用電話", "business phone"),
    Column::new("business_email", "業務用メール", "business e-mail"),
    Column::new("reports_to", "報告先", "reports to").input(Input::Reference(RecordKind::Role)),
    Column::new("responsibilities", "担当範囲", "responsibilities").input(Input::Multiline),
    Column::new("incident_order", "緊急連絡順", "incident contact order").input(Input::Number),
    Column::new("notes", "備考", "notes").input(Input::Multiline),
];

impl RowRecord for StructureRole {
    const COLUMNS: &'static [Column] = COLUMNS;

    fn key(&self) -> &LedgerKey {
        &self.key
    }

    fn from_cells(cells: &Cells) -> Result<Self, Vec<CellProblem>> {
        let mut r = cells.reader();
        let key = r.key("key");
        let kind = r.choice("kind", StructureRoleKind::from_text, None);
        let title = r.required("title", 200);
        let person = r.note("person", 200);
        let organisation = r.note("organisation", 200);
        let business_phone = r.note("business_phone", 40);
        if !business_phone.chars().all(|c| {
            c.is_ascii_digit() || matches!(c, '-' | '+' | '(' | ')' | ' ' | '－' | '内' | '線')
        }) {
            r.add_problem(
                "business_phone",
                format!("`{business_phone}` is not a telephone number"),
            );
        }
        let business_email = match r.text("business_email") {
            "" => String::new(),
            text => match crate::validate::email(text) {
                Ok(e) => e,
                Err(_) => {
                    r.add_problem(
                        "business_email",
                        format!("`{text}` is not an e-mail address"),
                    );
                    String::new()
                }
            },
        };
        let reports_to = r.optional_key("reports_to");
        let responsibilities = r.note("responsibilities", 2000);
        let incident_order = r.number("incident_order", 999);
        let notes = r.note("notes", 4000);
        r.finish(|| {
            Some(StructureRole {
                key: key?,
                kind: kind?,
                title,
                person,
                organisation,
                business_phone,
                business_email,
                reports_to,
                responsibilities,
                incident_order,
                notes,
            })
        })
    }

    fn to_cells(&self) -> Vec<String> {
        vec![
            self.key.to_string(),
            self.kind.ja().into(),
            self.title.clone(),
            self.person.clone(),
            self.organisation.clone(),
            self.business_phone.clone(),
            self.business_email.clone(),
            key_text(&self.reports_to),
            self.responsibilities.clone(),
            number_text(self.incident_order),
            self.notes.clone(),
        ]
    }
}
