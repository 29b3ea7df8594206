//! The checklist hearing through the pages people use, on every backend:
//! a respondent answers on their own page (and by an expiring link without
//! an account), the page's script saves in the background, submission names
//! the gaps, the surveyor records a hearing and confirms answers, a material
//! request lapses a week later, a vendor answers an inquiry once through its
//! link, the filled workbook goes out as Excel and PDF and comes back in,
//! and another hospital reads none of it.

mod common;

use common::{Browser, PASSWORD, Page, TestApp, Upload};
use mamori_domain::OrgId;
use mamori_domain::engagement::EngagementState;
use mamori_domain::organisation::{OrgKind, Role};
use mamori_store::testing;
use time::Duration;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

async fn signed_in(app: &TestApp, org: OrgId, email: &str) -> Browser {
    app.account(org, email, Role::Admin).await;
    let b = app.browser();
    let page = b.login(email, PASSWORD).await;
    assert_eq!(page.status, 303, "login {email}: {}", page.body);
    b
}

/// Every answer cell on a respondent's page: (framework, item, scope).
fn cells(page: &Page) -> Vec<(String, String, String)> {
    let value = |from: &str, name: &str| -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start = from.find(&marker).expect(name) + marker.len();
        let end = from[start..].find('"').unwrap() + start;
        from[start..end].to_string()
    };
    page.body
        .split("class=\"answer\"")
        .skip(1)
        .map(|form| {
            (
                value(form, "framework"),
                value(form, "item"),
                value(form, "scope"),
            )
        })
        .collect()
}

/// The token of the first link on the page under `prefix` ("/r/" or "/v/").
fn token_after(page: &Page, prefix: &str) -> String {
    let start = page
        .body
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix} link on the page"))
        + prefix.len();
    page.body[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

fn respondent_ids(page: &Page, engagement: i64) -> Vec<i64> {
    let marker = format!("/engagements/{engagement}/checklist/respondents/");
    let mut ids: Vec<i64> = page
        .body
        .match_indices(&marker)
        .filter_map(|(at, _)| {
            let digits: String = page.body[at + marker.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse().ok()
        })
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

#[tokio::test]
async fn a_hearing_runs_through_the_pages_from_self_assessment_to_vendor_answer() {
    for db in testing::all().await {
        let label = db.label;
        let app = TestApp::start(db).await;
        let store = app.store();
        let today = store.today();
        let hospital = app.org(OrgKind::Hospital, "出雲みなと病院").await;
        let other_hospital = app.org(OrgKind::Hospital, "石見やまびこ病院").await;
        let company = app.org(OrgKind::SurveyCompany, "しまね情報調査").await;
        let programme = testing::add_programme(store, "令和8年度 病院調査").await;
        testing::set_checklist(store, programme, "mhlw-r6").await;
        let e = testing::add_engagement(
            store,
            programme,
            hospital,
            company,
            EngagementState::Surveying,
        )
        .await;
        let eid = e.id.0;
        let base = format!("/engagements/{eid}/checklist");

        let surveyor = signed_in(&app, company, "surveyor@example.jp").await;
        let staff = signed_in(&app, hospital, "staff@example.jp").await;
        let stranger = signed_in(&app, other_hospital, "other@example.jp").await;

        // The surveyor lists who answers: the administrator and a user.
        for (name, role) in [("情報 太郎", "administrator"), ("看護 花子", "user")] {
            let added = surveyor
                .submit(
                    &base,
                    &format!("{base}/respondents"),
                    &[("name", name), ("role", role), ("form_key", "hospital")],
                )
                .await;
            assert_eq!(added.status, 303, "{label}: {}", added.body);
        }
        let bad = surveyor
            .submit(
                &base,
                &format!("{base}/respondents"),
                &[("name", "x"), ("role", "janitor"), ("form_key", "hospital")],
            )
            .await;
        assert_eq!(bad.status, 422, "{label}");
        assert!(bad.body.contains("role"), "{label}: {}", bad.body);
        let overview = surveyor.get(&base).await;
        assert_eq!(overview.status, 200, "{label}");
        assert!(overview.body.contains("情報 太郎") && overview.body.contains("看護 花子"));
        let ids = respondent_ids(&overview, eid);
        assert_eq!(ids.len(), 2, "{label}: {ids:?}");
        let (admin, user) = (ids[0], ids[1]);
        assert_eq!(
            app.db
                .count("SELECT COUNT(*) FROM checklist_respondents")
                .await,
            2
        );

        // The hospital's staff answers the administrator's form.
        let own = format!("{base}/respondents/{admin}");
        let sheet = staff.get(&own).await;
        assert_eq!(sheet.status, 200, "{label}");
        let all = cells(&sheet);
        assert!(all.len() >= 18, "{label}: {} cells", all.len());
        let checked = today.to_string();
        let target = (today + Duration::days(120)).to_string();
        // A "no" without its 目標日 is kept as a draft but blocks submission.
        let (fw, item, scope) = all[1].clone();
        let saved = staff
            .submit(
                &own,
                &format!("{own}/answer"),
                &[
                    ("framework", &fw),
                    ("item", &item),
                    ("scope", &scope),
                    ("value", "no"),
                    ("checked_on", &checked),
                ],
            )
            .await;
        assert_eq!(saved.status, 303, "{label}: {}", saved.body);
        let submitted = staff.submit(&own, &format!("{own}/submit"), &[]).await;
        assert_eq!(submitted.status, 422, "{label}");
        assert!(
            submitted.body.contains("提出できません") && submitted.body.contains(&item),
            "{label}: {}",
            submitted.body
        );
        // A date in the future is refused with the item named; nothing saved.
        let before = app.db.count("SELECT COUNT(*) FROM checklist_answers").await;
        let tomorrow = (today + Duration::days(1)).to_string();
        let future = staff
            .submit(
                &own,
                &format!("{own}/answer"),
                &[
                    ("framework", &all[2].0),
                    ("item", &all[2].1),
                    ("scope", &all[2].2),
                    ("value", "yes"),
                    ("checked_on", &tomorrow),
                ],
            )
            .await;
        assert_eq!(future.status, 422, "{label}");
        assert!(future.body.contains(&all[2].1), "{label}");
        assert_eq!(
            app.db.count("SELECT COUNT(*) FROM checklist_answers").await,
            before
        );
        // The page's script saves every cell in the background.
        let csrf = staff.get(&own).await.csrf();
        for (n, (fw, item, scope)) in all.iter().enumerate() {
            let (value, unclear) = match n {
                1 => ("no", ""),
                3 => ("unknown", "MDS/SDSが何かわからない"),
                _ => ("yes", ""),
            };
            let response = staff
                .client
                .post(app.url(&format!("{own}/answer")))
                .header("x-requested-with", "fetch")
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("framework", fw),
                    ("item", item),
                    ("scope", scope),
                    ("value", value),
                    ("checked_on", &checked),
                    ("target_on", if value == "no" { &target } else { "" }),
                    ("not_understood", unclear),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{label}: {item} {scope}");
            assert_eq!(response.text().await.unwrap(), "保存しました");
        }
        let submitted = staff.submit(&own, &format!("{own}/submit"), &[]).await;
        assert_eq!(submitted.status, 303, "{label}: {}", submitted.body);
        let done = staff.get(&own).await;
        assert!(done.body.contains("提出済"), "{label}");
        assert!(done.body.contains("MDS/SDSが何かわからない"), "{label}");
        // Submitted answers are no longer changed.
        let late = staff
            .submit(
                &own,
                &format!("{own}/answer"),
                &[
                    ("framework", &all[0].0),
                    ("item", &all[0].1),
                    ("scope", &all[0].2),
                    ("value", "no"),
                ],
            )
            .await;
        assert!(late.status >= 400, "{label}: {}", late.status);

        // The user answers through a link, without an account.
        let issued = surveyor
            .submit(
                &base,
                &format!("{base}/respondents/{user}/link"),
                &[("valid_days", "14")],
            )
            .await;
        assert_eq!(issued.status, 200, "{label}");
        let token = token_after(&issued, "/r/");
        assert!(token.len() >= 20, "{label}: {token}");
        let visitor = app.browser();
        let linked = visitor.get(&format!("/r/{token}")).await;
        assert_eq!(linked.status, 200, "{label}");
        assert!(linked.body.contains("出雲みなと病院"), "{label}");
        let link_cells = cells(&linked);
        assert_eq!(link_cells.len(), all.len(), "{label}");
        let answered = visitor
            .submit(
                &format!("/r/{token}"),
                &format!("/r/{token}/answer"),
                &[
                    ("framework", &link_cells[0].0),
                    ("item", &link_cells[0].1),
                    ("scope", &link_cells[0].2),
                    ("value", "yes"),
                ],
            )
            .await;
        assert_eq!(answered.status, 303, "{label}: {}", answered.body);
        assert_eq!(visitor.get("/r/not-a-real-token-at-all").await.status, 404);

        // The workbook: exported for the administrator, read back for the user.
        let (status, headers, xlsx) = surveyor
            .bytes(&format!("{base}.xlsx?respondent={admin}"))
            .await;
        assert_eq!(status, 200, "{label}");
        assert_eq!(headers["content-type"], XLSX);
        assert!(xlsx.starts_with(b"PK"), "{label}");
        let (status, headers, pdf) = surveyor.bytes(&format!("{base}.pdf")).await;
        assert_eq!(status, 200, "{label}");
        assert_eq!(headers["content-type"], "application/pdf");
        assert!(pdf.starts_with(b"%PDF"), "{label}");
        let refused = surveyor
            .upload(
                &base,
                &format!("{base}/respondents/{user}/import"),
                &[],
                Some(Upload {
                    field: "file",
                    name: "answers.xlsx",
                    data: b"not a workbook".to_vec(),
                    mime: XLSX,
                }),
            )
            .await;
        assert_eq!(refused.status, 422, "{label}: {}", refused.body);
        let imported = surveyor
            .upload(
                &base,
                &format!("{base}/respondents/{user}/import"),
                &[],
                Some(Upload {
                    field: "file",
                    name: "answers.xlsx",
                    data: xlsx,
                    mime: XLSX,
                }),
            )
            .await;
        assert_eq!(imported.status, 303, "{label}: {}", imported.body);
        let answers_of = |r: i64| {
            format!(
                "SELECT COUNT(*) FROM checklist_answers WHERE respondent_id = {r} AND value <> ''"
            )
        };
        assert_eq!(
            app.db.count(&answers_of(user)).await,
            app.db.count(&answers_of(admin)).await,
            "{label}"
        );
        let read_back = staff.get(&format!("{base}/respondents/{user}")).await;
        assert!(
            read_back.body.contains("MDS/SDSが何かわからない"),
            "{label}"
        );

        // The hearing: the administrator two hours; one answer corrected.
        let held = surveyor
            .submit(
                &base,
                &format!("{base}/hearings"),
                &[
                    ("held_on", &checked),
                    ("participant", &admin.to_string()),
                    ("participant_name", "情報 太郎"),
                    ("minutes", "120"),
                    ("participant", ""),
                    ("participant_name", ""),
                    ("minutes", "0"),
                    ("notes", "第1回ヒアリング"),
                ],
            )
            .await;
        assert_eq!(held.status, 303, "{label}: {}", held.body);
        let hearing_url = held.location.clone().expect("hearing page");
        let hearing_url = hearing_url.split('?').next().unwrap().to_string();
        let hearing = surveyor.get(&hearing_url).await;
        assert_eq!(hearing.status, 200, "{label}");
        assert!(hearing.body.contains("情報 太郎"), "{label}");
        // Beside the ledger items, what the hospital's ledger holds (empty
        // here), linked to its table.
        assert!(
            hearing.body.contains("台帳: サーバ 0台")
                && hearing
                    .body
                    .contains(&format!("/hospitals/{}/ledger/asset", hospital.0)),
            "{label}"
        );
        let (fw, item, scope) = &all[0];
        let value_field = format!("value:{fw}:{scope}:{item}");
        let note_field = format!("note:{fw}:{scope}:{item}");
        let confirmed = surveyor
            .submit(
                &hearing_url,
                &format!("{hearing_url}/confirm"),
                &[
                    ("respondent", &admin.to_string()),
                    (&value_field, "no"),
                    (&note_field, "実際には未実施"),
                ],
            )
            .await;
        assert_eq!(confirmed.status, 303, "{label}: {}", confirmed.body);
        let hearing = surveyor.get(&hearing_url).await;
        assert!(hearing.body.contains("実際には未実施"), "{label}");
        assert_eq!(
            app.db
                .count("SELECT COUNT(*) FROM checklist_confirmations")
                .await,
            1,
            "{label}"
        );
        // The hospital reads the hearing; it may not record one.
        assert_eq!(staff.get(&hearing_url).await.status, 200, "{label}");
        let forged = staff
            .submit(
                &hearing_url,
                &format!("{hearing_url}/confirm"),
                &[("respondent", &admin.to_string()), (&value_field, "yes")],
            )
            .await;
        assert_eq!(forged.status, 403, "{label}");

        // Material promised "by next week", then a week and a day pass.
        let raised = surveyor
            .submit(
                &base,
                &format!("/engagements/{eid}/requests"),
                &[
                    ("subject", "ネットワーク構成図（最新版）"),
                    ("party", "hospital"),
                    ("requested_on", &checked),
                ],
            )
            .await;
        assert_eq!(raised.status, 303, "{label}: {}", raised.body);
        assert!(surveyor.get(&base).await.body.contains("依頼中"), "{label}");
        store.clock().set_today(today + Duration::days(8));
        assert_eq!(store.lapse_overdue().await.unwrap(), 1, "{label}");
        let lapsed = surveyor.get(&base).await;
        assert!(lapsed.body.contains("未提出"), "{label}");

        // A vendor inquiry, with the hospital's consent; its link works once.
        let opened = surveyor
            .submit(
                &base,
                &format!("/engagements/{eid}/inquiries"),
                &[
                    ("vendor_name", "つばさ医療システム"),
                    (
                        "question",
                        "VPN装置の機種とファームウェアの版を教えてください。",
                    ),
                    ("consent_given_by", "事務長"),
                    ("consent_on", &(today + Duration::days(8)).to_string()),
                    ("requested_on", &(today + Duration::days(8)).to_string()),
                    ("valid_days", "14"),
                ],
            )
            .await;
        assert_eq!(opened.status, 200, "{label}: {}", opened.body);
        let vendor_token = token_after(&opened, "/v/");
        let vendor = app.browser();
        let inquiry_url = format!("/v/{vendor_token}");
        let inquiry = vendor.get(&inquiry_url).await;
        assert_eq!(inquiry.status, 200, "{label}");
        assert!(inquiry.body.contains("VPN装置の機種"), "{label}");
        let answered = vendor
            .upload(
                &inquiry_url,
                &inquiry_url,
                &[(
                    "answer",
                    "機種 XG-100、ファームウェア 7.2.1、必要時のみ接続",
                )],
                Some(Upload {
                    field: "file",
                    name: "構成.pdf",
                    data: b"%PDF-1.4\n%%EOF\n".to_vec(),
                    mime: "application/pdf",
                }),
            )
            .await;
        assert_eq!(answered.status, 200, "{label}: {}", answered.body);
        assert_eq!(vendor.get(&inquiry_url).await.status, 410, "{label}");
        assert!(
            surveyor
                .get(&base)
                .await
                .body
                .contains("ファームウェア 7.2.1"),
            "{label}"
        );

        // Another hospital reads nothing of it.
        for path in [
            base.clone(),
            format!("{base}/respondents/{admin}"),
            format!("{base}.xlsx"),
            hearing_url.clone(),
        ] {
            let page = stranger.get(&path).await;
            assert!(
                page.status == 403 || page.status == 404,
                "{label}: {path} {}",
                page.status
            );
            assert!(!page.body.contains("情報 太郎"), "{label}: {path}");
        }
        store.clock().use_system();
        app.db.finish().await;
    }
}
