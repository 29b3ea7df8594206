//! The demo's checklist hearings: the programme answers the 令和6年度版
//! checklist with one supply-chain item of its own; at the hospital being
//! surveyed the director, the system administrator and a user have answered
//! before the visit, the vendor has its own form, the surveyor has
//! reconciled the answers in a hearing, and one material request has gone
//! "not submitted" by itself.

use super::names;
use mamori_domain::checklist::{
    Answer, AnswerValue, CellKey, Confirmation, Form, RequestParty, RespondentRole, Scope,
};
use mamori_store::{
    AuditContext, Engagement, NewFile, NewHearing, NewInquiry, NewProgrammeItem, NewRequest,
    NewRespondent, Participant, Store, StoreError,
};
use std::collections::BTreeMap;
use time::{Date, Duration, Month};

/// The framework every demo engagement answers.
pub const DEMO_FRAMEWORK: &str = "mhlw-r6";

/// How one respondent answers: items answered いいえ, items they did not
/// understand (with what they wrote), and whether they stop half-way.
pub(super) struct Answering {
    no: &'static [&'static str],
    unclear: &'static [(&'static str, &'static str)],
    stop_after: Option<usize>,
}

pub(super) const DIRECTOR: Answering = Answering {
    no: &["3-(3)"],
    unclear: &[
        (
            "2-(3)",
            "MDS/SDSという書類を見たことがなく、何を確認すればよいかわからない。",
        ),
        (
            "2-(7)",
            "ファームウェアの更新は業者任せで、院内で確認する方法がわからない。",
        ),
    ],
    stop_after: None,
};

pub(super) const ADMINISTRATOR: Answering = Answering {
    no: &["2-(3)", "2-(9)", "3-(3)"],
    unclear: &[(
        "2-(6)",
        "アクセスログの「管理」が保存だけでよいのか、定期的な確認まで含むのかわからない。",
    )],
    stop_after: None,
};

const USER: Answering = Answering {
    no: &[],
    unclear: &[
        ("2-(3)", "MDS/SDSとは何か。"),
        ("2-(8)", "接続元制限という言葉の意味がわからない。"),
    ],
    stop_after: Some(9),
};

/// A user who answered every item (the delivered report's hospital).
pub(super) const USER_COMPLETE: Answering = Answering {
    no: &["2-(9)"],
    unclear: &[("2-(3)", "MDS/SDSとは何か。")],
    stop_after: None,
};

const VENDOR: Answering = Answering {
    no: &["2-(9)"],
    unclear: &[],
    stop_after: Some(6),
};

/// The last day of the fiscal year `today` falls in: the 目標日 the seed's
/// hospitals wrote for an item not yet met.
fn fiscal_year_end(today: Date) -> Date {
    let year = if u8::from(today.month()) >= 4 {
        today.year() + 1
    } else {
        today.year()
    };
    Date::from_calendar_date(year, Month::March, 31).unwrap_or(today)
}

pub(super) fn answers_for(form: &Form, how: &Answering, on: Date) -> BTreeMap<CellKey, Answer> {
    let mut answers = BTreeMap::new();
    for (n, (item, cell)) in form.cells().enumerate() {
        if how.stop_after.is_some_and(|last| n >= last) {
            break;
        }
        let unclear = how
            .unclear
            .iter()
            .find(|(number, _)| *number == item.number)
            .map(|(_, note)| note.to_string());
        let value = if unclear.is_some() {
            AnswerValue::Unknown
        } else if how.no.contains(&item.number.as_str()) {
            AnswerValue::No
        } else {
            AnswerValue::Yes
        };
        answers.insert(
            CellKey::new(item.number.clone(), cell.scope),
            Answer {
                value,
                checked_on: Some(on),
                target_on: (value == AnswerValue::No).then(|| fiscal_year_end(on)),
                not_understood: unclear.unwrap_or_default(),
            },
        );
    }
    answers
}

/// A small PDF standing for a scanned document handed over by the hospital.
fn scanned(label: &str) -> NewFile {
    NewFile {
        name: format!("{label}.pdf"),
        data: format!("%PDF-1.4\n% {label}（デモ）\n%%EOF\n").into_bytes(),
    }
}

/// Seeds the checklist hearing of the engagement being surveyed, and the
/// self-assessments of the one in interim review. `today` is the demo's day;
/// the clock is moved to the dates of each step and left at `today`.
pub async fn seed_checklists(
    store: &Store,
    operator: &AuditContext,
    engagements: &[Engagement],
    today: Date,
) -> Result<(), StoreError> {
    let programme = match engagements.first() {
        Some(e) => e.programme_id,
        None => return Ok(()),
    };
    let framework = store
        .frameworks(operator)
        .await?
        .into_iter()
        .filter(|f| f.key == DEMO_FRAMEWORK)
        .max_by_key(|f| f.version)
        .ok_or_else(|| StoreError::NotFound {
            what: "checklist framework",
            key: DEMO_FRAMEWORK.into(),
        })?;
    store
        .set_programme_framework(operator, programme, framework.id)
        .await?;
    let hospital_form = framework
        .framework
        .form("hospital")
        .cloned()
        .ok_or_else(|| StoreError::NotFound {
            what: "checklist form",
            key: "hospital".into(),
        })?;
    let vendor_form = framework.framework.form("vendor").cloned();

    let by_hospital = |name: &str| {
        engagements
            .iter()
            .find(|e| e.hospital_name == name)
            .ok_or_else(|| StoreError::NotFound {
                what: "demo engagement",
                key: name.to_string(),
            })
    };
    let surveyed = by_hospital(names::HOSPITAL_A_SURVEYING)?;
    let interim = by_hospital(names::HOSPITAL_A_INTERIM)?;
    let staff = store
        .account_by_email(super::emails::HOSPITAL_STAFF)
        .await
        .ok()
        .map(|a| a.id);

    // The engagement in interim review: both forms submitted a month ago,
    // before the programme added its own item.
    store.clock().set_today(today - Duration::days(30));
    for (name, role, how) in [
        ("院長 石井 明美", RespondentRole::Director, &DIRECTOR),
        (
            "システム管理者 小川 亮",
            RespondentRole::Administrator,
            &ADMINISTRATOR,
        ),
    ] {
        let r = store
            .add_respondent(
                operator,
                interim.id,
                &NewRespondent {
                    form_key: hospital_form.key.clone(),
                    role,
                    name: name.into(),
                    account: None,
                },
            )
            .await?;
        let answers = answers_for(&hospital_form, how, today - Duration::days(30));
        store
            .import_answers(operator, r.id, framework.id, &answers)
            .await?;
        store.submit_self_assessment(operator, r.id).await?;
    }
    // Before the first visit: the respondents answer (seed 資料4 §3.2).
    let answered_on = today - Duration::days(12);
    store.clock().set_today(answered_on);
    let mut people = Vec::new();
    for (name, role, account, how, submit) in [
        (
            "院長 岡田 修",
            RespondentRole::Director,
            None,
            &DIRECTOR,
            true,
        ),
        (
            "田中 誠（情報システム課）",
            RespondentRole::Administrator,
            staff,
            &ADMINISTRATOR,
            true,
        ),
        (
            "看護部 主任 森 友美",
            RespondentRole::User,
            None,
            &USER,
            false,
        ),
    ] {
        let r = store
            .add_respondent(
                operator,
                surveyed.id,
                &NewRespondent {
                    form_key: hospital_form.key.clone(),
                    role,
                    name: name.into(),
                    account,
                },
            )
            .await?;
        let answers = answers_for(&hospital_form, how, answered_on);
        store
            .import_answers(operator, r.id, framework.id, &answers)
            .await?;
        if submit {
            store.submit_self_assessment(operator, r.id).await?;
        }
        people.push((r, answers));
    }
    if let Some(vendor_form) = &vendor_form {
        let r = store
            .add_respondent(
                operator,
                surveyed.id,
                &NewRespondent {
                    form_key: vendor_form.key.clone(),
                    role: RespondentRole::Vendor,
                    name: "つばさ医療システム株式会社（デモ） 保守担当".into(),
                    account: None,
                },
            )
            .await?;
        let answers = answers_for(vendor_form, &VENDOR, answered_on);
        store
            .import_answers(operator, r.id, framework.id, &answers)
            .await?;
        store.issue_respondent_link(operator, r.id, 30).await?;
    }

    // The programme adds a supply-chain question mid-way (seed §3.4).
    store
        .add_programme_item(
            operator,
            programme,
            &NewProgrammeItem {
                text_ja: "保守・委託事業者のセキュリティ管理体制（責任者、連絡先、リモート保守の方法）を確認している。".into(),
                text_en: "The security arrangements of maintenance and outsourcing vendors (person in charge, contact, remote maintenance method) have been checked.".into(),
                scope: Scope::Organisation,
                forms: vec![hospital_form.key.clone()],
                note_ja: "サプライチェーンに関する追加項目（調査事業で追加）".into(),
            },
        )
        .await?;

    // The hearing: the administrator two hours, the others half an hour.
    let heard_on = today - Duration::days(9);
    store.clock().set_today(heard_on);
    let hearing = store
        .record_hearing(
            operator,
            surveyed.id,
            &NewHearing {
                held_on: heard_on,
                participants: people
                    .iter()
                    .map(|(r, _)| Participant {
                        respondent_id: Some(r.id),
                        name: r.name.clone(),
                        minutes: mamori_domain::checklist::planned_hearing_minutes(r.role),
                    })
                    .collect(),
                notes: "第1回ヒヤリング。事前回答をもとに確認。サーバ室の見学は次回。".into(),
            },
        )
        .await?;
    // The administrator's answers, confirmed: the surveyor found the access
    // log kept but never read, and MDS/SDS actually on file.
    if let Some((admin, answers)) = people.get(1) {
        let mut rows = Vec::new();
        for (key, answer) in answers {
            let (value, open, note) = match key.item.as_str() {
                "2-(6)" => (
                    Some(AnswerValue::No),
                    false,
                    "ログは保存のみで確認していない",
                ),
                "2-(3)" => (
                    Some(AnswerValue::Yes),
                    false,
                    "電子カルテ事業者のMDSが保管されていた",
                ),
                "2-(7)" if key.scope == Scope::NetworkDevice => {
                    (None, true, "VPN装置の版は事業者に確認する")
                }
                _ => (Some(answer.value), false, ""),
            };
            rows.push((
                key.clone(),
                framework.id,
                Confirmation { value, open },
                note.to_string(),
            ));
        }
        store
            .confirm_answers(operator, hearing.id, admin.id, &rows)
            .await?;
    }
    // Material promised "by next week".
    store
        .raise_request(
            operator,
            surveyed.id,
            &NewRequest {
                hearing_id: Some(hearing.id),
                subject: "ネットワーク構成図（最新版）".into(),
                party: RequestParty::Hospital,
                vendor_name: String::new(),
                requested_on: heard_on,
                due_on: None,
            },
        )
        .await?;
    let received = store
        .raise_request(
            operator,
            surveyed.id,
            &NewRequest {
                hearing_id: Some(hearing.id),
                subject: "保守契約書の写し（電子カルテ）".into(),
                party: RequestParty::Hospital,
                vendor_name: String::new(),
                requested_on: heard_on,
                due_on: None,
            },
        )
        .await?;
    store.clock().set_today(heard_on + Duration::days(4));
    store
        .receive_request(
            operator,
            received.id,
            heard_on + Duration::days(4),
            Some(scanned("保守契約書_写し")),
            "事務部より受領",
        )
        .await?;
    // The vendor is asked, with the hospital's consent, about its VPN.
    let asked_on = today - Duration::days(3);
    store.clock().set_today(asked_on);
    store
        .raise_request(
            operator,
            surveyed.id,
            &NewRequest {
                hearing_id: None,
                subject: "リモート保守用VPN装置の機種・ファームウェア版".into(),
                party: RequestParty::Vendor,
                vendor_name: names::VENDOR.into(),
                requested_on: asked_on,
                due_on: None,
            },
        )
        .await?;
    store
        .open_vendor_inquiry(
            operator,
            surveyed.id,
            &NewInquiry {
                vendor_name: names::VENDOR.into(),
                vendor_contact: "support@tsubasa.demo.mamori.example".into(),
                question: "貴社がリモート保守に使用しているVPN装置の機種、ファームウェアの版、接続方法（常時接続／必要時のみ）を教えてください。".into(),
                consent_given_by: "事務長 渡辺 剛".into(),
                consent_on: asked_on,
                requested_on: asked_on,
                due_on: None,
                valid_days: 14,
            },
        )
        .await?;
    // Today: the request for the network diagram has passed its week.
    store.clock().set_today(today);
    store.lapse_overdue().await?;
    Ok(())
}
