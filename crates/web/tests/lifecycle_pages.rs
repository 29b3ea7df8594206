//! The programme and engagement lifecycle through the pages, as people use
//! them: each step posted by the role that owns it, with the CSRF field,
//! on SQLite and (when configured) PostgreSQL.

mod common;

use common::{Browser, PASSWORD, Page, TestApp, Upload};
use mamori_domain::engagement::EngagementState;
use mamori_domain::organisation::{OrgKind, Role};
use mamori_domain::{EngagementId, OrgId};
use mamori_store::{AuditContext, AuditFilter, Letterhead, Store, testing};
use time::macros::date;

/// The number after `prefix` in `text` (an id in a URL).
fn id_after(text: &str, prefix: &str) -> i64 {
    let start = text
        .find(prefix)
        .unwrap_or_else(|| panic!("`{prefix}` not in {text}"))
        + prefix.len();
    text[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap()
}

/// Every id that follows `prefix` in `text`, in order.
fn ids_after(text: &str, prefix: &str) -> Vec<i64> {
    text.match_indices(prefix)
        .filter_map(|(at, _)| {
            text[at + prefix.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse()
                .ok()
        })
        .collect()
}

fn redirected(page: &Page, label: &str) -> String {
    assert_eq!(page.status, 303, "{label}: {}", page.body);
    page.location.clone().unwrap()
}

async fn count(store: &Store, action: &str) -> usize {
    store
        .audit_page(
            None,
            &AuditFilter {
                action: Some(action.into()),
                limit: 1000,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .records
        .len()
}

/// A minimal PDF, as a scanner would make one (only the header is checked).
fn scan(label: &str) -> Vec<u8> {
    format!("%PDF-1.4\n% signed scan of {label}\n%%EOF\n").into_bytes()
}

struct Cast {
    secretariat: OrgId,
    company: OrgId,
    hospital: OrgId,
    sec: Browser,
    co: Browser,
    sup: Browser,
    co_account: mamori_store::Account,
    sup_account: mamori_store::Account,
}

/// A secretariat, a supervisor, a survey company and a hospital, each
/// with an account logged in (the company's is its administrator).
async fn cast(app: &TestApp) -> Cast {
    let secretariat = app
        .org(OrgKind::Secretariat, "医療情報安全研究機構 研究事務局")
        .await;
    let supervisor = app.org(OrgKind::Supervisor, "みなと監査株式会社").await;
    let company = app
        .org(OrgKind::SurveyCompany, "あおば情報セキュリティ株式会社")
        .await;
    let hospital = app.org(OrgKind::Hospital, "湖畔市立総合病院").await;
    app.account(secretariat, "sec@example.jp", Role::Admin)
        .await;
    let sup_account = app
        .account(supervisor, "sup@example.jp", Role::Member)
        .await;
    let co_account = app.account(company, "co@example.jp", Role::Admin).await;
    let (sec, co, sup) = (app.browser(), app.browser(), app.browser());
    for (b, email) in [
        (&sec, "sec@example.jp"),
        (&co, "co@example.jp"),
        (&sup, "sup@example.jp"),
    ] {
        assert_eq!(b.login(email, PASSWORD).await.status, 303, "{email}");
    }
    Cast {
        secretariat,
        company,
        hospital,
        sec,
        co,
        sup,
        co_account,
        sup_account,
    }
}

/// Takes one step on the engagement page and checks the page shows it.
async fn step(b: &Browser, e: i64, to: &str, label: &str) {
    let page = format!("/engagements/{e}");
    let done = b
        .submit(
            &page,
            &format!("{page}/transition"),
            &[("to", to), ("note", &format!("{to} のメモ"))],
        )
        .await;
    redirected(&done, &format!("step to {to}"));
    let shown = b.get(&page).await;
    assert!(
        shown
            .body
            .contains(&format!("class=\"state state-{to}\">{label}")),
        "{to}: {}",
        shown.body
    );
}

#[tokio::test]
async fn the_whole_path_is_walked_in_the_browser_by_the_owning_roles() {
    for db in testing::all().await {
        let label = db.label;
        let app = TestApp::start(db).await;
        app.store().clock().set_today(date!(2026 - 11 - 02));
        let c = cast(&app).await;
        let (sec, co, sup) = (&c.sec, &c.co, &c.sup);

        // The secretariat sets up the programme.
        let created = sec
            .submit(
                "/programmes",
                "/programmes",
                &[
                    ("name", "令和8年度 病院サイバーセキュリティ調査"),
                    ("fiscal_year", "2026"),
                    ("labour_cap_yen", ""),
                    ("honorarium_rate_yen", "¥5,000"),
                    ("checklist_versions", "令和6年度版\n"),
                ],
            )
            .await;
        let location = redirected(&created, "programme");
        let p = id_after(&location, "/programmes/");
        let page_url = format!("/programmes/{p}");
        let page = sec.get(&page_url).await;
        assert!(
            page.body.contains("令和8年度")
                && page.body.contains("¥3,000,000")
                && page.body.contains("ターゲット病院の決定")
                && page.body.contains("value=\"2026-11-15\""),
            "{label}: {}",
            page.body
        );
        let company = c.company.to_string();
        let hospital = c.hospital.to_string();
        redirected(
            &sec.submit(
                &page_url,
                &format!("{page_url}/companies"),
                &[("company", &company), ("invited_on", "2026-10-01")],
            )
            .await,
            "enrol",
        );
        // The company's administrator names its 窓口 itself.
        redirected(
            &co.submit(
                &page_url,
                &format!("{page_url}/companies/{company}"),
                &[
                    ("meeting_on", "2026-10-10"),
                    ("forms_handed_over_on", "2026-10-12"),
                    ("contact_name", "青葉 一郎"),
                    ("contact_email", "madoguchi@aoba.example.jp"),
                    ("contact_phone", "03-0000-0000"),
                ],
            )
            .await,
            "enrolment",
        );
        redirected(
            &sec.submit(
                &page_url,
                &format!("{page_url}/kickoffs"),
                &[
                    ("company", ""),
                    ("held_on", "2026-10-20"),
                    ("attendees", "研究事務局、監督企業、調査担当企業"),
                ],
            )
            .await,
            "kickoff",
        );
        let procedure = b"%PDF-1.4\n% procedure\n%%EOF\n".to_vec();
        redirected(
            &sec.upload(
                &page_url,
                &format!("{page_url}/documents"),
                &[
                    ("title", "各病院調査等手順"),
                    ("version", "第1.1版"),
                    ("issued_on", "2026-10-01"),
                ],
                Some(Upload {
                    field: "file",
                    name: "手順書.pdf",
                    data: procedure.clone(),
                    mime: "application/pdf",
                }),
            )
            .await,
            "document",
        );
        let page = co.get(&page_url).await;
        assert!(
            page.body.contains("青葉 一郎") && page.body.contains("第1.1版"),
            "{label}: {}",
            page.body
        );
        let doc = id_after(&page.body, &format!("{page_url}/documents/"));
        let (status, headers, data) = co.bytes(&format!("{page_url}/documents/{doc}/file")).await;
        assert_eq!(status, 200, "{label}");
        assert_eq!(data, procedure);
        assert!(
            headers["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("attachment"),
            "{label}"
        );

        // The hospital enters as a candidate.
        let added = sec
            .submit(
                &page_url,
                &format!("{page_url}/candidates"),
                &[
                    ("hospital", &hospital),
                    ("company", &company),
                    ("source", "hospital-association"),
                    ("source_detail", "日本病院会 会員意向調査 2026-09"),
                    ("director_name", "湖畔 太郎"),
                    ("contact_department", "医療情報課"),
                    ("contact_title", "課長"),
                    ("contact_name", "山田 花子"),
                    ("contact_email", "yamada@kohan.example.jp"),
                    ("proposed_company", "湖畔システム株式会社"),
                ],
            )
            .await;
        let e = id_after(&redirected(&added, "candidate"), "/engagements/");
        let e_url = format!("/engagements/{e}");
        let page = sec.get(&e_url).await;
        assert!(
            page.body.contains("出入りのシステム会社")
                && page.body.contains("湖畔システム株式会社"),
            "{label}: {}",
            page.body
        );

        step(sec, e, "intent-confirmed", "意向確認済み").await;

        // The pledge: issued, signed with its scan, then the step.
        redirected(
            &sec.submit(
                &e_url,
                &format!("{e_url}/agreements"),
                &[
                    ("kind", "pledge"),
                    ("issued_on", "2026-11-02"),
                    ("valid_from", "2026-11-02"),
                    ("valid_until", "2027-03-31"),
                ],
            )
            .await,
            "issue pledge",
        );
        let pledge = *ids_after(&sec.get(&e_url).await.body, &format!("{e_url}/agreements/"))
            .last()
            .unwrap();
        // A scan of the wrong type, or a signature dated tomorrow, is
        // refused with the field named, and nothing is signed.
        let wrong_type = sec
            .upload(
                &e_url,
                &format!("{e_url}/agreements/{pledge}/sign"),
                &[("signed_on", "2026-11-02")],
                Some(Upload {
                    field: "scan",
                    name: "scan.exe",
                    data: b"MZ".to_vec(),
                    mime: "application/octet-stream",
                }),
            )
            .await;
        assert_eq!(wrong_type.status, 422, "{label}: {}", wrong_type.body);
        assert!(
            wrong_type.body.contains("ファイル (file)")
                && wrong_type.body.contains("type .exe is not accepted"),
            "{label}: {}",
            wrong_type.body
        );
        let future = sec
            .upload(
                &e_url,
                &format!("{e_url}/agreements/{pledge}/sign"),
                &[("signed_on", "2026-11-03")],
                None,
            )
            .await;
        assert_eq!(future.status, 422, "{label}: {}", future.body);
        assert!(
            future.body.contains("締結日 (signed_on)") && future.body.contains("in the future"),
            "{label}: {}",
            future.body
        );
        assert_eq!(count(app.store(), "agreement.signed").await, 0, "{label}");
        redirected(
            &sec.upload(
                &e_url,
                &format!("{e_url}/agreements/{pledge}/sign"),
                &[("signed_on", "2026-11-02")],
                Some(Upload {
                    field: "scan",
                    name: "誓約書_署名済.pdf",
                    data: scan("pledge"),
                    mime: "application/pdf",
                }),
            )
            .await,
            "sign pledge",
        );
        step(sec, e, "pledge-issued", "誓約書発行済み").await;

        // Contract: the company confirmed, the NDA signed, the estimate, the order.
        let refused = sec
            .submit(
                &e_url,
                &format!("{e_url}/transition"),
                &[("to", "contracted")],
            )
            .await;
        assert_eq!(refused.status, 409, "{label}: {}", refused.body);
        assert!(
            refused.body.contains("有効な秘密保持契約（NDA）")
                && refused.body.contains("発注書の発行"),
            "{label}: {}",
            refused.body
        );
        redirected(
            &sec.submit(
                &e_url,
                &format!("{e_url}/confirm-company"),
                &[("confirmed_on", "2026-11-02")],
            )
            .await,
            "confirm company",
        );
        redirected(
            &sec.submit(
                &e_url,
                &format!("{e_url}/agreements"),
                &[
                    ("kind", "nda"),
                    ("valid_from", "2026-11-02"),
                    ("valid_until", "2027-03-31"),
                ],
            )
            .await,
            "issue nda",
        );
        let nda = *ids_after(&sec.get(&e_url).await.body, &format!("{e_url}/agreements/"))
            .last()
            .unwrap();
        assert_ne!(nda, pledge);
        redirected(
            &sec.upload(
                &e_url,
                &format!("{e_url}/agreements/{nda}/sign"),
                &[("signed_on", "2026-11-02")],
                Some(Upload {
                    field: "scan",
                    name: "nda-signed.pdf",
                    data: scan("nda"),
                    mime: "application/pdf",
                }),
            )
            .await,
            "sign nda",
        );
        redirected(
            &co.submit(
                &e_url,
                &format!("{e_url}/estimates"),
                &[
                    ("labour_hours", "240"),
                    ("labour_cost_yen", "2,400,000"),
                    ("trips", "3"),
                    ("travel_yen", "90,000"),
                    ("consumables_yen", "10000"),
                    ("note", "ヒヤリング2回・巡回2回"),
                ],
            )
            .await,
            "estimate",
        );
        let page = sec.get(&e_url).await;
        assert!(page.body.contains("¥2,500,000"), "{label}: total");
        let estimate = id_after(&page.body, "name=\"estimate_id\"><option value=\"");
        redirected(
            &sec.submit(
                &e_url,
                &format!("{e_url}/orders"),
                &[
                    ("estimate_id", &estimate.to_string()),
                    ("order_number", "PO-2026-001"),
                    ("issued_on", "2026-11-02"),
                ],
            )
            .await,
            "order",
        );
        step(sec, e, "contracted", "契約済み（NDA・発注）").await;
        assert!(sec.get(&e_url).await.body.contains("NDA・発注とも有効"));

        // The company surveys, the supervisor reviews, the company submits.
        step(co, e, "scheduling", "日程調整中").await;
        step(co, e, "surveying", "調査中").await;
        step(co, e, "interim-review", "中間確認").await;
        step(sup, e, "reporting", "報告書作成中").await;
        // ① to ⑦ approved, without which the report is not submitted.
        let engagement = app
            .store()
            .engagement_detail(&AuditContext::operator("test"), EngagementId(e))
            .await
            .unwrap()
            .engagement;
        testing::approve_all_deliverables(app.store(), &engagement, &c.co_account, &c.sup_account)
            .await;
        step(co, e, "submitted", "提出済み").await;
        // The secretariat accepts (検収), pays the staff and delivers.
        step(sec, e, "accepted", "検収済み").await;
        redirected(
            &sec.submit(
                &e_url,
                &format!("{e_url}/payments"),
                &[
                    ("kind", "honorarium"),
                    ("person", "山田 花子"),
                    ("department", "医療情報課"),
                    ("title", "課長"),
                    ("hours", "1.5"),
                    ("paid_for_on", "2026-11-02"),
                ],
            )
            .await,
            "payment",
        );
        let order = id_after(&sec.get(&e_url).await.body, &format!("{e_url}/orders/"));
        redirected(
            &sec.submit(
                &e_url,
                &format!("{e_url}/orders/{order}/settle"),
                &[
                    ("settled_hours", "230"),
                    ("settled_amount_yen", "2,300,000"),
                    ("settled_on", "2026-11-02"),
                ],
            )
            .await,
            "settle",
        );
        step(sec, e, "reported", "報告済み").await;
        let page = sec.get(&e_url).await;
        assert!(
            page.body.contains("¥7,500") && page.body.contains("¥2,300,000"),
            "{label}: {}",
            page.body
        );
        let (status, headers, xlsx) = sec.bytes(&format!("{page_url}/payments.xlsx")).await;
        assert_eq!(status, 200, "{label}");
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .contains("spreadsheetml")
        );
        assert!(xlsx.starts_with(b"PK"), "{label}: a zip");

        // Every step is in the audit log.
        let store = app.store();
        for (action, at_least) in [
            ("programme.created", 1),
            ("programme.company-enrolled", 2),
            ("programme.kickoff-recorded", 1),
            ("programme.document-added", 1),
            ("engagement.created", 1),
            ("engagement.transitioned", 10),
            ("engagement.updated", 1),
            ("agreement.issued", 2),
            ("agreement.signed", 2),
            ("estimate.submitted", 1),
            ("order.issued", 1),
            ("order.settled", 1),
            ("payment.recorded", 1),
            ("file.read", 1),
        ] {
            let n = count(store, action).await;
            assert!(n >= at_least, "{label}: {action} {n} < {at_least}");
        }
        let audit = sec.get("/audit?action=engagement.transitioned").await;
        assert!(
            audit.body.contains("調査の段階変更") && audit.body.contains("accepted on 2026-11-02"),
            "{label}: {}",
            audit.body
        );
        // The others were told: the company has notifications, the outbox mails.
        let notes = co.get("/notifications").await;
        assert!(
            notes.body.contains("段階変更") && notes.body.contains("湖畔市立総合病院"),
            "{label}: {}",
            notes.body
        );
        let outbox = sec.get("/outbox").await;
        assert!(
            outbox.body.contains("co@example.jp") && outbox.body.contains("送信待ち"),
            "{label}"
        );
        assert_eq!(co.get("/outbox").await.status, 403, "{label}");
        assert!(store.verify_audit_chain().await.unwrap().is_ok());
        app.db.finish().await;
    }
}

#[tokio::test]
async fn a_step_of_another_role_is_refused_naming_what_is_allowed_and_changes_nothing() {
    for db in testing::all().await {
        let label = db.label;
        let app = TestApp::start(db).await;
        let c = cast(&app).await;
        let programme = testing::add_programme(app.store(), "令和8年度 調査").await;
        let e = testing::add_engagement(
            app.store(),
            programme,
            c.hospital,
            c.company,
            EngagementState::Surveying,
        )
        .await;
        let e_url = format!("/engagements/{}", e.id);
        let before = count(app.store(), "engagement.transitioned").await;

        // Interim results go to the supervisor from the company, not the secretariat.
        let page = c.sec.get(&e_url).await;
        assert!(
            !page.body.contains("<option value=\"interim-review\">"),
            "{label}: not offered"
        );
        let refused = c
            .sec
            .submit(
                &e_url,
                &format!("{e_url}/transition"),
                &[("to", "interim-review")],
            )
            .await;
        assert_eq!(refused.status, 403, "{label}: {}", refused.body);
        assert!(
            refused.body.contains("調査中 → 中間確認")
                && refused.body.contains("この段階変更を行うのは 調査担当企業")
                && refused.body.contains("あなたが行える段階変更: 中止"),
            "{label}: {}",
            refused.body
        );
        // Not a step at all: the allowed next states are named.
        let refused =
            c.co.submit(
                &e_url,
                &format!("{e_url}/transition"),
                &[("to", "accepted")],
            )
            .await;
        assert_eq!(refused.status, 409, "{label}: {}", refused.body);
        assert!(
            refused.body.contains("手順にない段階変更です")
                && refused.body.contains("中間確認")
                && refused.body.contains("中止"),
            "{label}: {}",
            refused.body
        );
        let after = app
            .store()
            .engagement_detail(&AuditContext::operator("test"), e.id)
            .await
            .unwrap();
        assert_eq!(
            after.engagement.state,
            EngagementState::Surveying,
            "{label}"
        );
        assert_eq!(
            count(app.store(), "engagement.transitioned").await,
            before,
            "{label}"
        );
        app.db.finish().await;
    }
}

#[tokio::test]
async fn an_estimate_over_the_cap_is_refused_naming_both_amounts() {
    for db in testing::all().await {
        let label = db.label;
        let app = TestApp::start(db).await;
        let c = cast(&app).await;
        let programme = testing::add_programme(app.store(), "令和8年度 調査").await;
        let e = testing::add_engagement(
            app.store(),
            programme,
            c.hospital,
            c.company,
            EngagementState::PledgeIssued,
        )
        .await;
        let e_url = format!("/engagements/{}", e.id);
        let page = c.co.get(&e_url).await;
        assert!(
            page.body.contains("name=\"labour_cost_yen\""),
            "{label}: form"
        );
        let refused =
            c.co.submit(
                &e_url,
                &format!("{e_url}/estimates"),
                &[
                    ("labour_hours", "320"),
                    ("labour_cost_yen", "3,200,000"),
                    ("trips", "2"),
                    ("travel_yen", "60000"),
                    ("consumables_yen", "0"),
                ],
            )
            .await;
        assert_eq!(refused.status, 422, "{label}: {}", refused.body);
        assert!(
            refused.body.contains("人件費")
                && refused.body.contains("¥3,200,000")
                && refused.body.contains("¥3,000,000")
                && refused.body.contains("¥200,000"),
            "{label}: {}",
            refused.body
        );
        // A typing slip is named too.
        let slip =
            c.co.submit(
                &e_url,
                &format!("{e_url}/estimates"),
                &[("labour_hours", "二百"), ("labour_cost_yen", "1000000")],
            )
            .await;
        assert_eq!(slip.status, 422, "{label}");
        assert!(slip.body.contains("工数（時間）"), "{label}: {}", slip.body);
        let detail = app
            .store()
            .engagement_detail(&AuditContext::operator("test"), e.id)
            .await
            .unwrap();
        assert_eq!(detail.estimates.unwrap().len(), 0, "{label}: nothing saved");
        assert_eq!(count(app.store(), "estimate.submitted").await, 0, "{label}");
        app.db.finish().await;
    }
}

/// Letterheads for both parties, as their pages would set them.
async fn letterheads(store: &Store, c: &Cast) {
    let op = AuditContext::operator("test");
    store
        .set_letterhead(
            &op,
            c.secretariat,
            &Letterhead {
                address: "〒370-0000 群馬県高崎市見本町1-2-3".into(),
                representative: "理事長 佐藤 一郎".into(),
                contact_email: "office@secretariat.example.jp".into(),
            },
        )
        .await
        .unwrap();
    store
        .set_letterhead(
            &op,
            c.company,
            &Letterhead {
                address: "〒105-0000 東京都港区見本9-8-7".into(),
                representative: "代表取締役 田中 次郎".into(),
                contact_email: String::new(),
            },
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn the_nda_is_generated_as_a_japanese_pdf_with_the_parties_and_dates() {
    for db in testing::all().await {
        let label = db.label;
        let app = TestApp::start(db).await;
        app.store().clock().set_today(date!(2026 - 11 - 20));
        let c = cast(&app).await;
        let programme = testing::add_programme(app.store(), "令和8年度 調査").await;
        let e = testing::add_engagement(
            app.store(),
            programme,
            c.hospital,
            c.company,
            EngagementState::IntentConfirmed,
        )
        .await;
        let e_url = format!("/engagements/{}", e.id);

        // Without letterheads the letter names what is missing and where.
        let refused = c
            .sec
            .submit(&e_url, &format!("{e_url}/letters"), &[("kind", "nda")])
            .await;
        assert_eq!(refused.status, 409, "{label}: {}", refused.body);
        assert!(
            refused
                .body
                .contains("秘密保持契約（NDA）がまだ発行されていません"),
            "{label}: {}",
            refused.body
        );
        redirected(
            &c.sec
                .submit(
                    &e_url,
                    &format!("{e_url}/agreements"),
                    &[
                        ("kind", "nda"),
                        ("valid_from", "2026-12-01"),
                        ("valid_until", "2027-03-31"),
                    ],
                )
                .await,
            "issue nda",
        );
        let missing = c
            .sec
            .submit(&e_url, &format!("{e_url}/letters"), &[("kind", "nda")])
            .await;
        assert_eq!(missing.status, 422, "{label}: {}", missing.body);
        assert!(
            missing.body.contains("研究事務局の所在地") && missing.body.contains("組織ページ"),
            "{label}: {}",
            missing.body
        );
        letterheads(app.store(), &c).await;
        // An NDA that ends before it starts is refused with the field named.
        let backwards = c
            .sec
            .submit(
                &e_url,
                &format!("{e_url}/agreements"),
                &[
                    ("kind", "nda"),
                    ("valid_from", "2027-04-01"),
                    ("valid_until", "2027-03-31"),
                ],
            )
            .await;
        assert_eq!(backwards.status, 422, "{label}");
        assert!(
            backwards.body.contains("有効期間の終了日"),
            "{label}: {}",
            backwards.body
        );

        redirected(
            &c.sec
                .submit(&e_url, &format!("{e_url}/letters"), &[("kind", "nda")])
                .await,
            "generate nda",
        );
        let page = c.sec.get(&e_url).await;
        let files = ids_after(&page.body, &format!("{e_url}/files/"));
        assert!(!files.is_empty(), "{label}: {}", page.body);
        let (status, headers, pdf) = c.sec.bytes(&format!("{e_url}/files/{}", files[0])).await;
        assert_eq!(status, 200, "{label}");
        assert_eq!(headers["content-type"], "application/pdf", "{label}");
        assert!(pdf.starts_with(b"%PDF-"), "{label}");
        let text: String = pdf_extract::extract_text_from_mem(&pdf)
            .unwrap()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        for expected in [
            "秘密保持契約書",
            "湖畔市立総合病院",
            "あおば情報セキュリティ株式会社",
            "医療情報安全研究機構研究事務局",
            "2026年12月1日",
            "2027年3月31日",
            "2026年11月20日",
            "第3条から第7条",
        ] {
            assert!(text.contains(expected), "{label}: {expected} not in {text}");
        }
        // The company reads its NDA; the hospital may not.
        let (status, _, _) = c.co.bytes(&format!("{e_url}/files/{}", files[0])).await;
        assert_eq!(status, 200, "{label}: company reads its NDA");
        app.account(c.hospital, "staff@kohan.example.jp", Role::Member)
            .await;
        let staff = app.browser();
        staff.login("staff@kohan.example.jp", PASSWORD).await;
        let seen = staff.get(&e_url).await;
        assert_eq!(seen.status, 200, "{label}");
        assert!(
            !seen.body.contains(&format!("/files/{}", files[0])),
            "{label}: the hospital is not shown the NDA"
        );
        let (status, _, _) = staff.bytes(&format!("{e_url}/files/{}", files[0])).await;
        assert_eq!(status, 403, "{label}: nor can it fetch it");
        assert!(count(app.store(), "letter.generated").await >= 1, "{label}");

        // The request letter (資料2) needs the hospital's director and contact.
        let refused = c
            .sec
            .submit(
                &e_url,
                &format!("{e_url}/letters"),
                &[("kind", "request-letter")],
            )
            .await;
        assert_eq!(refused.status, 422, "{label}");
        assert!(
            refused.body.contains("病院長の氏名"),
            "{label}: {}",
            refused.body
        );
        app.db.finish().await;
    }
}

#[tokio::test]
async fn overdue_flags_follow_the_store_clock() {
    for db in testing::all().await {
        let label = db.label;
        let app = TestApp::start(db).await;
        let c = cast(&app).await;
        let store = app.store();
        // Intent confirmed on 1 October: the company must call by 1 November.
        store.clock().set_today(date!(2026 - 10 - 01));
        let programme = testing::add_programme(store, "令和8年度 調査").await;
        let e = testing::add_engagement(
            store,
            programme,
            c.hospital,
            c.company,
            EngagementState::IntentConfirmed,
        )
        .await;
        let row = |body: &str| body.contains(&format!("href=\"/engagements/{}\"", e.id));

        store.clock().set_today(date!(2026 - 10 - 06));
        let list = c.sec.get("/engagements").await;
        assert!(row(&list.body), "{label}");
        assert!(
            list.body.contains("deadline-upcoming") && list.body.contains("あと26日"),
            "{label}: {}",
            list.body
        );
        assert!(
            !row(&c.sec.get("/engagements?overdue=1").await.body),
            "{label}"
        );

        store.clock().set_today(date!(2026 - 10 - 27));
        let list = c.sec.get("/engagements").await;
        assert!(
            list.body.contains("deadline-soon") && list.body.contains("あと5日"),
            "{label}: {}",
            list.body
        );

        store.clock().set_today(date!(2026 - 11 - 03));
        let overdue = c.sec.get("/engagements?overdue=1").await;
        assert!(row(&overdue.body), "{label}: {}", overdue.body);
        assert!(
            overdue.body.contains("class=\"overdue\"")
                && overdue.body.contains("deadline-overdue")
                && overdue.body.contains("2日超過"),
            "{label}: {}",
            overdue.body
        );
        let detail = c.co.get(&format!("/engagements/{}", e.id)).await;
        assert!(
            detail.body.contains("病院への連絡（意向確認後1か月以内）")
                && detail.body.contains("2日超過"),
            "{label}: {}",
            detail.body
        );
        let dashboard = c.sup.get("/dashboard").await;
        assert!(
            dashboard.body.contains("href=\"/engagements?overdue=1\"")
                && dashboard.body.contains("tile alert"),
            "{label}: {}",
            dashboard.body
        );
        // The timeline draws the same engagement, tinted, as an SVG.
        let (status, headers, svg) = c.sec.bytes("/engagements/timeline.svg?overdue=1").await;
        assert_eq!(status, 200, "{label}");
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("image/svg+xml")
        );
        let svg = String::from_utf8(svg).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.contains("湖畔市立総合病院"),
            "{label}: {svg}"
        );
        // A bad filter is named, not ignored.
        let bad = c.sec.get("/engagements?state=finished").await;
        assert_eq!(bad.status, 400, "{label}");
        assert!(bad.body.contains("finished"), "{label}");

        // Back before the deadline, the flag is gone again.
        store.clock().set_today(date!(2026 - 10 - 06));
        assert!(
            !row(&c.sec.get("/engagements?overdue=1").await.body),
            "{label}"
        );
        app.db.finish().await;
    }
}

#[tokio::test]
async fn letter_templates_are_previewed_refused_and_saved_as_versions() {
    for db in testing::all().await {
        let label = db.label;
        let app = TestApp::start(db).await;
        app.store().clock().set_today(date!(2026 - 11 - 20));
        let c = cast(&app).await;
        letterheads(app.store(), &c).await;
        assert_eq!(c.co.get("/letters/nda").await.status, 403, "{label}");
        let editor = c.sec.get("/letters/nda").await;
        assert!(
            editor.body.contains("{{ company.representative }}")
                && editor.body.contains("標準（版0）"),
            "{label}: {}",
            editor.body
        );
        let preview = c
            .sec
            .submit(
                "/letters/nda",
                "/letters/nda",
                &[
                    ("action", "preview"),
                    ("body", "# 見本\r\n{{ hospital.name }} 殿\r\n"),
                ],
            )
            .await;
        assert_eq!(preview.status, 200, "{label}");
        assert_eq!(preview.headers["content-type"], "application/pdf");
        // A misspelt field is named with its line, and nothing is saved.
        let refused = c
            .sec
            .submit(
                "/letters/nda",
                "/letters/nda",
                &[
                    ("action", "save"),
                    ("body", "一行目\n{{ hospital.nmae }}\n"),
                ],
            )
            .await;
        assert_eq!(refused.status, 422, "{label}");
        assert!(
            refused.body.contains("2行目") && refused.body.contains("hospital.nmae"),
            "{label}: {}",
            refused.body
        );
        assert!(app.store().letter_template("nda").await.unwrap().is_none());
        let body = "{{ secretariat.name }}と{{ company.name }}は{{ hospital.name }}について約す。\n期間 {{ valid_from }}〜{{ valid_until }}（{{ surviving_articles }}は存続）\n";
        redirected(
            &c.sec
                .submit(
                    "/letters/nda",
                    "/letters/nda",
                    &[("action", "save"), ("body", body)],
                )
                .await,
            "save",
        );
        let editor = c.sec.get("/letters/nda").await;
        assert!(
            editor.body.contains("?version=1\">v1</a>"),
            "{label}: {}",
            editor.body
        );
        assert_eq!(count(app.store(), "letter-template.saved").await, 1);

        // The next NDA letter is made from version 1.
        let programme = testing::add_programme(app.store(), "令和8年度 調査").await;
        let e = testing::add_engagement(
            app.store(),
            programme,
            c.hospital,
            c.company,
            EngagementState::Contracted,
        )
        .await;
        let e_url = format!("/engagements/{}", e.id);
        redirected(
            &c.sec
                .submit(&e_url, &format!("{e_url}/letters"), &[("kind", "nda")])
                .await,
            "generate",
        );
        let page = c.sec.get(&e_url).await;
        assert!(page.body.contains("<td>v1</td>"), "{label}: {}", page.body);
        let file = *ids_after(&page.body, &format!("{e_url}/files/"))
            .last()
            .unwrap();
        let (_, _, pdf) = c.sec.bytes(&format!("{e_url}/files/{file}")).await;
        let text: String = pdf_extract::extract_text_from_mem(&pdf)
            .unwrap()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        assert!(
            text.contains("について約す") && text.contains("第3条から第7条は存続"),
            "{label}: {text}"
        );
        app.db.finish().await;
    }
}
