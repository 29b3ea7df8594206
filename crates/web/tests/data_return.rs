//! 情報の返却・削除 through the pages, on every backend: the secretariat
//! reaches it from the hospital's page, downloads the archive, is refused
//! with a message when the typed name is wrong (nothing deleted), erases
//! with the digest the page offers, and sees the record; the hospital's
//! own staff cannot open the page.

mod common;

use common::{PASSWORD, TestApp};
use mamori_domain::engagement::EngagementState;
use mamori_domain::organisation::{OrgKind, Role};
use mamori_domain::policy::{Access, HospitalData};
use mamori_store::{AuditContext, testing};

#[tokio::test]
async fn the_secretariat_returns_and_erases_a_hospitals_data_from_its_page() {
    for db in testing::all().await {
        let label = db.label;
        let app = TestApp::start(db).await;
        let store = app.store();
        let company = app.org(OrgKind::SurveyCompany, "調査A社").await;
        let surveyor = app.account(company, "s@a.example.jp", Role::Member).await;
        let survey = AuditContext::for_actor(surveyor.actor(), surveyor.email.clone(), None);
        let programme = testing::add_programme(store, "令和8年度 調査").await;
        let hospital = app.org(OrgKind::Hospital, "みなと病院").await;
        let other = app.org(OrgKind::Hospital, "やまて病院").await;
        for h in [hospital, other] {
            testing::add_engagement(store, programme, h, company, EngagementState::Surveying).await;
            let grant = store
                .authorize(&survey, h, HospitalData::Ledger, Access::Write)
                .await
                .unwrap();
            store
                .import_ledger(
                    &survey,
                    &grant,
                    &testing::complete_ledger(),
                    mamori_store::ChangeSource::Import,
                )
                .await
                .unwrap();
        }
        let staff = app
            .account(hospital, "staff@minato.example.jp", Role::Admin)
            .await;
        let secretariat = app.org(OrgKind::Secretariat, "事務局").await;
        let clerk = app
            .account(secretariat, "clerk@example.jp", Role::Member)
            .await;

        let page_path = format!("/hospitals/{hospital}/data-return");
        let s = app.browser();
        s.login(&clerk.email, PASSWORD).await;
        let hospital_page = s.get(&format!("/hospitals/{hospital}")).await;
        assert!(
            hospital_page.body.contains(&page_path),
            "{label}: linked from the hospital"
        );
        let page = s.get(&page_path).await;
        assert_eq!(page.status, 200, "{label}");
        assert!(page.body.contains("情報の返却・削除"), "{label}");
        assert!(
            page.body.contains("まだありません"),
            "{label}: no history yet"
        );

        // The archive downloads at once.
        let csrf = page.csrf();
        let archive = s
            .client
            .post(app.url(&format!("{page_path}/archive")))
            .form(&[("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(archive.status(), 200, "{label}");
        let disposition = archive.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            disposition.contains(&format!("mamori-hospital-{hospital}-")),
            "{disposition}"
        );
        let bytes = archive.bytes().await.unwrap();
        assert!(bytes.starts_with(b"PK"), "{label}: a zip");

        // The page now offers that archive's digest to the erasure.
        let page = s.get(&page_path).await;
        assert!(page.body.contains("アーカイブ作成"), "{label}");
        let marker = "name=\"digest\" value=\"";
        let start = page.body.find(marker).expect("digest field") + marker.len();
        let digest = page.body[start..start + 64].to_string();
        assert!(digest.chars().all(|c| c.is_ascii_hexdigit()), "{digest}");

        let refused = s
            .submit(
                &page_path,
                &format!("{page_path}/erase"),
                &[
                    ("digest", &digest),
                    ("confirm_name", "みなと"),
                    ("reason", "病院からの依頼"),
                ],
            )
            .await;
        assert_eq!(refused.status, 422, "{label}");
        assert!(
            refused.body.contains("confirm_name"),
            "{label}: {}",
            refused.body
        );
        let ledger_left = |h| {
            let survey = survey.clone();
            async move {
                let grant = store
                    .authorize(&survey, h, HospitalData::Ledger, Access::Read)
                    .await
                    .unwrap();
                store
                    .ledger(&survey, &grant)
                    .await
                    .unwrap()
                    .ledger
                    .assets
                    .len()
            }
        };
        assert!(ledger_left(hospital).await > 0, "{label}: nothing deleted");

        let erased = s
            .submit(
                &page_path,
                &format!("{page_path}/erase"),
                &[
                    ("digest", &digest),
                    ("confirm_name", "みなと病院"),
                    ("reason", "2026-11-20 病院長の書面"),
                ],
            )
            .await;
        assert_eq!(erased.status, 303, "{label}: {}", erased.body);
        let after = s.get(erased.location.as_deref().unwrap()).await;
        assert!(after.body.contains("削除しました"), "{label}");
        assert!(after.body.contains("削除済み"), "{label}");
        assert!(after.body.contains("2026-11-20 病院長の書面"), "{label}");
        assert_eq!(
            ledger_left(hospital).await,
            0,
            "{label}: the ledger is gone"
        );
        assert!(
            ledger_left(other).await > 0,
            "{label}: the other hospital keeps its ledger"
        );

        // The hospital's own staff neither see nor use the page.
        let h = app.browser();
        h.login(&staff.email, PASSWORD).await;
        assert!(
            !h.get(&format!("/hospitals/{hospital}"))
                .await
                .body
                .contains(&page_path)
        );
        assert_eq!(h.get(&page_path).await.status, 403, "{label}");
    }
}
