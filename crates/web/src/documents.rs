//! The glue between the store and the documents crate, shared by the pages
//! and the JSON API: letters filled from an engagement's facts and kept as
//! PDF, the template preview, the payment list workbook and the timeline.

use crate::error::WebError;
use crate::i18n::Tr;
use mamori_documents::DocumentError;
use mamori_documents::dates::{japanese_date, japanese_era_fiscal_year};
use mamori_documents::letters::{LetterKind, MergeField, render_letter};
use mamori_documents::svg::{Timeline, TimelineEvent, TimelineMilestone, TimelineRow};
use mamori_documents::xlsx::{PaymentRow, payment_list_xlsx};
use mamori_domain::agreement::{AgreementKind, PaymentKind, SURVIVING_ARTICLES};
use mamori_domain::organisation::Language;
use mamori_domain::{EngagementId, ProgrammeId};
use mamori_store::{AuditContext, EngagementFilter, LetterFacts, NewFile, Store, TimelineEntry};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use time::{Date, Duration};

/// A documents-crate refusal as a message naming the field or line, in
/// Japanese and English (the caller may not know the reader's language).
pub fn document_error(err: DocumentError) -> WebError {
    let ja = match &err {
        DocumentError::TemplateSyntax { line, message } => {
            format!("{line}行目: ひな形の書き方に誤りがあります（{message}）")
        }
        DocumentError::UnknownField { field, line } => match line {
            Some(line) => format!("{line}行目: 差し込み項目 {field} はこの文書にはありません"),
            None => format!("差し込み項目 {field} はこの文書にはありません"),
        },
        DocumentError::TemplateRender { line, message } => match line {
            Some(line) => format!("{line}行目: ひな形を差し込みできません（{message}）"),
            None => format!("ひな形を差し込みできません（{message}）"),
        },
        DocumentError::TemplateTooLarge { len, max } => {
            format!("ひな形が長すぎます（{len} バイト、上限 {max} バイト）")
        }
        DocumentError::UnknownLetterKind(kind) => format!("文書の種類 {kind} はありません"),
        DocumentError::MissingGlyph { ch, line } => format!(
            "{line}行目: 文字「{ch}」(U+{:04X}) はPDFのフォントにないため使えません",
            u32::from(*ch)
        ),
        DocumentError::InvalidRow { row, field, reason } => {
            format!("{row}行目 {field}: {reason}")
        }
        DocumentError::NotAWorkbook { .. } => "Excelのファイル（.xlsx）ではありません".into(),
        DocumentError::ProtectedOrLegacyWorkbook => {
            "パスワード付き、または古い形式（.xls）のExcelです。パスワードを外し .xlsx で保存してください".into()
        }
        DocumentError::WorkbookTooLarge { bytes, max } => {
            format!("ファイルが大きすぎます（{bytes} バイト、上限 {max} バイト）")
        }
        DocumentError::UnpackedTooLarge { part, max } => {
            format!("展開後のサイズが上限 {max} バイトを超えます（{part}）")
        }
        DocumentError::TooManyRows { sheet, row, max } => {
            format!("シート「{sheet}」: 行が多すぎます（{row}行目にデータ、上限 {max} 行）")
        }
        DocumentError::SheetNotFound { sheet, available } => format!(
            "シート「{sheet}」がありません（あるシート: {}）",
            available.join("、")
        ),
        DocumentError::InvalidColumn {
            sheet,
            field,
            column,
        } => format!("シート「{sheet}」: {field} の列「{column}」は列の記号（A〜XFD）ではありません"),
        DocumentError::RowBeyondData { sheet, row, last } => format!(
            "シート「{sheet}」: 最初のデータ行 {row} 行目はデータの範囲外です（データの最終行: {last}行目）"
        ),
        DocumentError::UnreadableWorkbook { sheet, .. } => match sheet {
            Some(sheet) => format!("シート「{sheet}」を読み取れません"),
            None => "ファイルを読み取れません".into(),
        },
        DocumentError::NoChecklistSheet { sheets, rows } => format!(
            "チェックリストの見出し行（番号・回答）が先頭 {rows} 行にあるシートがありません（シート: {}）",
            sheets.join("、")
        ),
        DocumentError::UnknownForm { sheet, framework, forms } => format!(
            "シート「{sheet}」の項目が {framework} のどの様式とも合いません（様式: {}）",
            forms.join("、")
        ),
        DocumentError::InvalidFramework(_) => "取り込んだチェックリストが正しくありません".into(),
        DocumentError::NotATable { .. } => {
            "CSV または Excel（.xlsx）のファイルではありません".into()
        }
        DocumentError::TableTooLarge { bytes, max } => {
            format!("ファイルが大きすぎます（{bytes} バイト、上限 {max} バイト）")
        }
        DocumentError::UnreadableCsv { line, .. } => {
            format!("CSVの{line}行目を読み取れません")
        }
        DocumentError::Pdf(_) | DocumentError::Xlsx(_) | DocumentError::Archive(_) => {
            return WebError::Internal(err.to_string());
        }
    };
    WebError::BadRequest(format!("{ja} / {err}"))
}

/// 第3条から第7条, from the domain's "3-7".
pub fn surviving_articles_ja() -> String {
    match SURVIVING_ARTICLES.split_once('-') {
        Some((from, to)) => format!("第{from}条から第{to}条"),
        None => format!("第{SURVIVING_ARTICLES}条"),
    }
}

/// Where a missing merge field is entered, in Japanese and English.
fn where_entered(field: &str) -> (&'static str, &'static str) {
    match field.split('.').next().unwrap_or(field) {
        "research_lead" => (
            "調査プログラムのページ（研究代表者）",
            "the programme's page (research lead)",
        ),
        "secretariat" => (
            "研究事務局の組織ページ（所在地・代表者・連絡先）",
            "the secretariat's organisation page (address, representative, contact)",
        ),
        "company" => (
            "調査担当企業の組織ページ（所在地・代表者）",
            "the survey company's organisation page (address, representative)",
        ),
        "hospital" | "contact" | "intent_source" => (
            "この病院調査の候補情報（病院長・担当者）",
            "this engagement's candidate details (director, contact)",
        ),
        _ => ("この病院調査", "this engagement"),
    }
}

/// Fields a letter cannot go out without (names, signatories, addresses).
fn required_fields(kind: LetterKind) -> &'static [&'static str] {
    match kind {
        LetterKind::RequestLetter => &[
            "hospital.name",
            "hospital.director",
            "contact.name",
            "programme.name",
            "secretariat.name",
            "secretariat.address",
            "secretariat.email",
            "research_lead",
            "intent_source",
        ],
        LetterKind::Pledge => &[
            "hospital.name",
            "secretariat.name",
            "secretariat.address",
            "secretariat.representative",
        ],
        LetterKind::Nda => &[
            "hospital.name",
            "secretariat.name",
            "secretariat.address",
            "secretariat.representative",
            "company.name",
            "company.address",
            "company.representative",
        ],
    }
}

fn insert(root: &mut Map<String, Value>, dotted: &str, value: String) {
    match dotted.split_once('.') {
        None => {
            root.insert(dotted.to_string(), Value::String(value));
        }
        Some((head, tail)) => {
            let entry = root
                .entry(head.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(inner) = entry {
                insert(inner, tail, value);
            }
        }
    }
}

fn lookup<'a>(context: &'a Value, dotted: &str) -> Option<&'a str> {
    dotted
        .split('.')
        .try_fold(context, |v, part| v.get(part))
        .and_then(Value::as_str)
}

/// The merge fields of a letter for one engagement, and the agreement the
/// letter is made for (pledge, NDA). Refuses, naming them, when facts the
/// letter needs are missing.
pub fn letter_context(
    facts: &LetterFacts,
    kind: LetterKind,
    today: Date,
) -> Result<(Value, Option<i64>), WebError> {
    let e = &facts.engagement;
    let agreement = match kind {
        LetterKind::RequestLetter => None,
        LetterKind::Pledge => Some(facts.pledge.as_ref().ok_or_else(|| {
            WebError::Conflict(
                "この病院調査には秘密保持誓約書がまだ発行されていません。先に発行してください / No pledge has been issued for this engagement: issue one first".into(),
            )
        })?),
        LetterKind::Nda => Some(facts.nda.as_ref().ok_or_else(|| {
            WebError::Conflict(
                "この病院調査には秘密保持契約（NDA）がまだ発行されていません。先に発行してください / No NDA has been issued for this engagement: issue one first".into(),
            )
        })?),
    };
    let intent_source = if e.candidate.source_detail.trim().is_empty() {
        e.candidate
            .source
            .map(|s| Tr::new(Language::Japanese).value("route", s.slug()))
            .unwrap_or_default()
    } else {
        e.candidate.source_detail.clone()
    };
    let values: Vec<(&str, String)> = vec![
        (
            "issued_on",
            japanese_date(agreement.map(|a| a.issued_on).unwrap_or(today)),
        ),
        ("hospital.name", e.hospital_name.clone()),
        ("hospital.director", e.candidate.director_name.clone()),
        ("contact.department", e.candidate.contact_department.clone()),
        ("contact.title", e.candidate.contact_title.clone()),
        ("contact.name", e.candidate.contact_name.clone()),
        ("programme.name", facts.programme.name.clone()),
        (
            "programme.fiscal_year_label",
            japanese_era_fiscal_year(facts.programme.fiscal_year),
        ),
        ("secretariat.name", facts.secretariat_name.clone()),
        ("secretariat.address", facts.secretariat.address.clone()),
        (
            "secretariat.representative",
            facts.secretariat.representative.clone(),
        ),
        ("secretariat.email", facts.secretariat.contact_email.clone()),
        ("research_lead", facts.programme.research_lead.clone()),
        ("intent_source", intent_source),
        ("company.name", e.company_name.clone()),
        ("company.address", facts.company.address.clone()),
        (
            "company.representative",
            facts.company.representative.clone(),
        ),
        (
            "valid_from",
            agreement
                .map(|a| japanese_date(a.terms.valid_from))
                .unwrap_or_default(),
        ),
        (
            "valid_until",
            agreement
                .map(|a| japanese_date(a.terms.valid_until))
                .unwrap_or_default(),
        ),
        ("surviving_articles", surviving_articles_ja()),
    ];
    let mut root = Map::new();
    for field in kind.fields() {
        let value = values
            .iter()
            .find(|(name, _)| *name == field.name)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default();
        insert(&mut root, field.name, value);
    }
    let context = Value::Object(root);
    let missing: Vec<&MergeField> = kind
        .fields()
        .iter()
        .filter(|f| required_fields(kind).contains(&f.name))
        .filter(|f| lookup(&context, f.name).is_none_or(str::is_empty))
        .collect();
    if !missing.is_empty() {
        let ja = missing
            .iter()
            .map(|f| format!("{}（{}）", f.description_ja, where_entered(f.name).0))
            .collect::<Vec<_>>()
            .join("、");
        let en = missing
            .iter()
            .map(|f| format!("{} ({})", f.description_en, where_entered(f.name).1))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(WebError::BadRequest(format!(
            "{}の作成に必要な情報がありません: {ja} / Missing for the {}: {en}",
            kind.title_ja(),
            kind.title_en().to_lowercase()
        )));
    }
    Ok((context, agreement.map(|a| a.id)))
}

fn pdf_of(kind: LetterKind, template: &str, context: &Value) -> Result<Vec<u8>, WebError> {
    let text = render_letter(template, context).map_err(document_error)?;
    mamori_documents::pdf::letter_pdf(kind.title_ja(), &text).map_err(document_error)
}

/// Makes the letter of `kind` for an engagement from the newest saved
/// template (or the shipped default, version 0), keeps the PDF with the
/// engagement (and its pledge or NDA) and returns the generated document's id.
pub async fn generate_letter(
    store: &Store,
    ctx: &AuditContext,
    engagement: EngagementId,
    kind: LetterKind,
) -> Result<i64, WebError> {
    let facts = store.letter_facts(ctx, engagement).await?;
    let today = store.today();
    let (context, agreement_id) = letter_context(&facts, kind, today)?;
    let (template, version) = match store.letter_template(kind.slug()).await? {
        Some(saved) => (saved.body, saved.version),
        None => (kind.default_template().to_string(), 0),
    };
    let data = pdf_of(kind, &template, &context)?;
    let name = format!(
        "{}-{}-{}.pdf",
        kind.slug(),
        engagement,
        today.to_string().replace('-', "")
    );
    let id = store
        .save_generated_letter(
            ctx,
            engagement,
            kind.slug(),
            version,
            agreement_id,
            NewFile { name, data },
        )
        .await?;
    Ok(id)
}

/// The letter of `kind` rendered from `body` with sample data, as PDF. A
/// template that does not render is refused naming the field or line.
pub fn preview_template(kind: LetterKind, body: &str) -> Result<Vec<u8>, WebError> {
    pdf_of(kind, body, &kind.sample_context())
}

/// Checks an edited template before it is saved (the same rules as the preview).
pub fn check_template(kind: LetterKind, body: &str) -> Result<(), WebError> {
    mamori_documents::letters::check_template(kind, body).map_err(document_error)
}

/// The secretariat's payment list (honoraria and reimbursements) of a programme.
pub async fn payment_list_workbook(
    store: &Store,
    ctx: &AuditContext,
    programme: ProgrammeId,
) -> Result<Vec<u8>, WebError> {
    let payments = store.payment_list(ctx, programme).await?;
    let detail = store.programme_detail(ctx, programme).await?;
    let rows: Vec<PaymentRow> = payments
        .into_iter()
        .map(|p| PaymentRow {
            hospital: p.hospital_name,
            person: p.person,
            department: p.department,
            title: p.title,
            kind: match p.kind {
                PaymentKind::Honorarium => mamori_documents::xlsx::PaymentKind::Honorarium,
                PaymentKind::Reimbursement => mamori_documents::xlsx::PaymentKind::Reimbursement,
            },
            hours: p.hours,
            rate_yen: p.rate_yen,
            amount_yen: p.amount_yen,
            note: p.note,
        })
        .collect();
    let title = format!(
        "{}（{}）謝金・費用 支払一覧",
        detail.programme.name,
        japanese_era_fiscal_year(detail.programme.fiscal_year)
    );
    payment_list_xlsx(&title, &rows).map_err(document_error)
}

/// A date as the reader writes it.
pub fn local_date(tr: Tr, day: Date) -> String {
    match tr.lang {
        Language::Japanese => japanese_date(day),
        Language::English => day.to_string(),
    }
}

/// The timeline of engagements already read (with their steps) against the
/// milestones of their programmes.
pub async fn timeline_from(
    store: &Store,
    tr: Tr,
    entries: &[TimelineEntry],
    programme: Option<ProgrammeId>,
) -> Result<String, WebError> {
    let today = store.today();
    let mut programmes: BTreeMap<ProgrammeId, String> = BTreeMap::new();
    if let Some(p) = programme {
        programmes.insert(p, String::new());
    }
    for entry in entries {
        let e = &entry.overview.engagement;
        programmes.insert(e.programme_id, e.programme_name.clone());
    }
    let several = programmes.len() > 1;
    let mut milestones = Vec::new();
    for (id, name) in &programmes {
        for m in store.milestones(*id).await? {
            let label = tr.value("milestone", m.kind.slug());
            milestones.push(TimelineMilestone {
                date: m.due,
                label: if several {
                    format!("{label}（{name}）")
                } else {
                    label
                },
            });
        }
    }
    let rows: Vec<TimelineRow> = entries
        .iter()
        .map(|entry| {
            let e = &entry.overview.engagement;
            TimelineRow {
                label: e.hospital_name.clone(),
                state_label: format!("{} · {}", tr.value("state", e.state.slug()), e.company_name),
                events: entry
                    .steps
                    .iter()
                    .map(|s| TimelineEvent {
                        date: s.effective_on,
                        label: tr.value("state", s.to.slug()),
                    })
                    .collect(),
                overdue: entry.overview.overdue,
                closed: e.state.is_closed_early(),
            }
        })
        .collect();
    let dates = milestones
        .iter()
        .map(|m| m.date)
        .chain(rows.iter().flat_map(|r| r.events.iter().map(|e| e.date)))
        .chain(std::iter::once(today));
    let (first, last) = dates.fold((today, today), |(lo, hi), d| (lo.min(d), hi.max(d)));
    let start = first - Duration::days(14);
    let end = (last + Duration::days(14)).max(start + Duration::days(60));
    Ok(mamori_documents::svg::timeline_svg(&Timeline {
        start,
        end,
        today,
        milestones,
        rows,
        legend_today: format!("{}（{}）", tr.t("timeline.today"), local_date(tr, today)),
    }))
}

/// The timeline SVG of the engagements the actor may see, narrowed by the filter.
pub async fn timeline_svg(
    store: &Store,
    ctx: &AuditContext,
    tr: Tr,
    filter: &EngagementFilter,
) -> Result<String, WebError> {
    let entries = store.engagement_timeline(ctx, filter).await?;
    timeline_from(store, tr, &entries, filter.programme).await
}

/// The letter kind for a slug, or a refusal listing the kinds.
pub fn letter_kind(slug: &str) -> Result<LetterKind, WebError> {
    LetterKind::parse(slug).map_err(|_| WebError::NotFound)
}

/// The letter made for an agreement of this kind.
pub fn letter_for(kind: AgreementKind) -> LetterKind {
    match kind {
        AgreementKind::Pledge => LetterKind::Pledge,
        AgreementKind::Nda => LetterKind::Nda,
    }
}

/// The two shapes a filled checklist leaves Mamori in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecklistFormat {
    Xlsx,
    Pdf,
}

/// The filled checklist of an engagement (every respondent, or one) in the
/// official workbook's shape, or as PDF; with the file name to save it as.
pub async fn checklist_workbook(
    store: &Store,
    ctx: &AuditContext,
    engagement: EngagementId,
    respondent: Option<i64>,
    format: ChecklistFormat,
) -> Result<(String, Vec<u8>), WebError> {
    let c = store.engagement_checklist(ctx, engagement).await?;
    let framework = c.framework.as_ref().ok_or_else(|| {
        WebError::BadRequest(
            "この調査事業にはチェックリストの版が設定されていません / no checklist version is set for this programme"
                .into(),
        )
    })?;
    let confirmations = store.confirmations(ctx, engagement).await?;
    let today = store.today();
    let chosen: Vec<_> = c
        .respondents
        .iter()
        .filter(|s| respondent.is_none_or(|r| s.respondent.id == r))
        .collect();
    if chosen.is_empty() {
        return Err(WebError::NotFound);
    }
    // The surveyor's confirmed answers go beside the respondent's own.
    let confirmed: Vec<
        BTreeMap<mamori_domain::checklist::CellKey, mamori_domain::checklist::Confirmation>,
    > = chosen
        .iter()
        .map(|s| {
            confirmations
                .get(&s.respondent.id)
                .map(|cells| {
                    cells
                        .iter()
                        .filter(|((f, _), _)| *f == framework.id)
                        .map(|((_, k), v)| {
                            (
                                k.clone(),
                                mamori_domain::checklist::Confirmation {
                                    value: v.value,
                                    open: v.open,
                                },
                            )
                        })
                        .collect()
                })
                .unwrap_or_default()
        })
        .collect();
    let roles: Vec<String> = chosen
        .iter()
        .map(|s| Tr::new(Language::Japanese).value("respondent_role", s.respondent.role.slug()))
        .collect();
    let mut sheets = Vec::new();
    for (i, s) in chosen.iter().enumerate() {
        let Some(form) = framework.framework.form(&s.respondent.form_key) else {
            continue;
        };
        sheets.push(mamori_documents::checklist::FilledSheet {
            framework: &framework.framework,
            form,
            hospital: &c.hospital_name,
            respondent: &s.respondent.name,
            respondent_role: &roles[i],
            answers: &s.answers,
            confirmed: (!confirmed[i].is_empty()).then_some(&confirmed[i]),
            generated_on: today,
        });
    }
    let stem = match chosen.as_slice() {
        [one] if respondent.is_some() => format!(
            "checklist-{}-{}-{}",
            engagement, framework.framework.key, one.respondent.id
        ),
        _ => format!("checklist-{}-{}", engagement, framework.framework.key),
    };
    let bytes = match format {
        ChecklistFormat::Xlsx => mamori_documents::checklist::checklist_xlsx(&sheets),
        ChecklistFormat::Pdf => mamori_documents::checklist::checklist_pdf(&sheets),
    }
    .map_err(document_error)?;
    let ext = match format {
        ChecklistFormat::Xlsx => "xlsx",
        ChecklistFormat::Pdf => "pdf",
    };
    Ok((format!("{stem}.{ext}"), bytes))
}

/// Reads a filled workbook into one respondent's answers: every rejected
/// row is named (sheet, row, column) and then nothing is written.
pub async fn import_checklist_answers(
    store: &Store,
    ctx: &AuditContext,
    engagement: EngagementId,
    respondent: i64,
    file: Option<NewFile>,
) -> Result<usize, WebError> {
    let file = file.ok_or_else(|| {
        WebError::BadRequest("ファイルを選んでください / choose a workbook (.xlsx)".into())
    })?;
    let c = store.engagement_checklist(ctx, engagement).await?;
    let framework = c.framework.as_ref().ok_or_else(|| {
        WebError::BadRequest("no checklist version is set for this programme".into())
    })?;
    let sheet = c
        .respondents
        .iter()
        .find(|s| s.respondent.id == respondent)
        .ok_or(WebError::NotFound)?;
    let read =
        mamori_documents::checklist::read_checklist_answers(&file.data, &framework.framework)
            .map_err(|e| match e {
                DocumentError::Xlsx(_) | DocumentError::Pdf(_) => WebError::BadRequest(format!(
                    "{}: Excelのブックとして読めません / not a readable workbook ({e})",
                    file.name
                )),
                other => document_error(other),
            })?;
    let mine: Vec<_> = read
        .iter()
        .filter(|s| s.form_key == sheet.respondent.form_key)
        .collect();
    let rejected: Vec<String> = read
        .iter()
        .flat_map(|s| s.rejected.iter())
        .map(|r| format!("{} {}{}: {}", r.sheet, r.column, r.row, r.reason))
        .collect();
    if !rejected.is_empty() {
        return Err(WebError::BadRequest(format!(
            "{}: 取り込めない行があります。何も取り込んでいません / rows refused, nothing imported — {}",
            file.name,
            rejected.join("; ")
        )));
    }
    let Some(first) = mine.first() else {
        return Err(WebError::BadRequest(format!(
            "{}: 様式「{}」のシートが見つかりません / no sheet of form `{}` in the workbook",
            file.name, sheet.respondent.form_key, sheet.respondent.form_key
        )));
    };
    if mine.len() > 1 {
        return Err(WebError::BadRequest(format!(
            "{}: 様式「{}」のシートが複数あります（{}）。1枚だけのブックにしてください / several sheets of this form",
            file.name,
            sheet.respondent.form_key,
            mine.iter()
                .map(|s| s.sheet.as_str())
                .collect::<Vec<_>>()
                .join("、")
        )));
    }
    Ok(store
        .import_answers(ctx, respondent, framework.id, &first.answers)
        .await?)
}
