//! The demo's delivered report, taken the whole way by the people who do
//! it: company B's surveyor records the hospital's answers and ledger and
//! submits ① to ⑦, the supervisor asks for detail on one connection and
//! approves the resubmission, findings are proposed and decided, the
//! company submits the report (a release is rendered), the secretariat
//! accepts (検収) and delivers it; the hospital's staff downloads it and
//! the ministry reads it, so the audit log shows both.

use super::checklists::{ADMINISTRATOR, DEMO_FRAMEWORK, DIRECTOR, USER_COMPLETE, answers_for};
use super::{emails, ledger};
use mamori_domain::checklist::RespondentRole;
use mamori_domain::deliverable::{
    AffectedKind, AffectedRef, DeliverableKind, FindingStep, ReportFile, ReviewAction, Severity,
};
use mamori_domain::engagement::EngagementState;
use mamori_domain::policy::{Access, HospitalData, HospitalGrant};
use mamori_store::{
    Account, AuditContext, ChangeSource, Engagement, FindingDraft, NewRespondent, Store,
    StoreError, supplement_form,
};
use time::Date;

async fn person(store: &Store, email: &str) -> Result<(Account, AuditContext), StoreError> {
    let account = store.account_by_email(email).await?;
    let ctx = AuditContext::for_actor(account.actor(), account.email.clone(), None);
    Ok((account, ctx))
}

async fn grant(
    store: &Store,
    ctx: &AuditContext,
    e: &Engagement,
    data: HospitalData,
    access: Access,
) -> Result<HospitalGrant, StoreError> {
    store.authorize(ctx, e.hospital_id, data, access).await
}

fn finding(
    severity: Severity,
    title: &str,
    detail: &str,
    affected: &[(AffectedKind, &str)],
    recommendation: &str,
) -> FindingDraft {
    FindingDraft {
        severity,
        title: title.into(),
        detail: detail.into(),
        affected: affected
            .iter()
            .map(|(kind, key)| AffectedRef::new(*kind, *key))
            .collect(),
        recommendation: recommendation.into(),
    }
}

/// Takes `e` (in 報告書作成) to 報告済み through its people, `today`.
pub async fn seed_report(
    store: &Store,
    e: &Engagement,
    today: Date,
) -> Result<Engagement, StoreError> {
    let (_, company) = person(store, emails::SURVEYOR_B).await?;
    let (_, supervisor) = person(store, emails::SUPERVISOR).await?;
    let (_, secretariat) = person(store, emails::SECRETARIAT_ADMIN).await?;

    // The hospital's answers, as collected before the visit.
    let framework = store
        .frameworks(&company)
        .await?
        .into_iter()
        .filter(|f| f.key == DEMO_FRAMEWORK)
        .max_by_key(|f| f.version)
        .ok_or_else(|| StoreError::NotFound {
            what: "checklist framework",
            key: DEMO_FRAMEWORK.into(),
        })?;
    let form = framework
        .framework
        .form("hospital")
        .cloned()
        .ok_or_else(|| StoreError::NotFound {
            what: "checklist form",
            key: "hospital".into(),
        })?;
    let supplement = store
        .engagement_checklist(&company, e.id)
        .await?
        .supplement
        .and_then(|s| Some((s.id, supplement_form(&s.framework, &form.key)?)));
    for (name, role, how) in [
        ("院長 前田 浩", RespondentRole::Director, &DIRECTOR),
        (
            "情報管理室長 木村 修",
            RespondentRole::Administrator,
            &ADMINISTRATOR,
        ),
        ("看護部 師長 西田 恵", RespondentRole::User, &USER_COMPLETE),
    ] {
        let r = store
            .add_respondent(
                &company,
                e.id,
                &NewRespondent {
                    form_key: form.key.clone(),
                    role,
                    name: name.into(),
                    account: None,
                },
            )
            .await?;
        let answers = answers_for(&form, how, today);
        store
            .import_answers(&company, r.id, framework.id, &answers)
            .await?;
        // The programme's own items, asked beside the form.
        if let Some((id, form)) = &supplement {
            store
                .import_answers(&company, r.id, *id, &answers_for(form, how, today))
                .await?;
        }
        store.submit_self_assessment(&company, r.id).await?;
    }
    let g = grant(store, &company, e, HospitalData::Ledger, Access::Write).await?;
    store
        .import_ledger(
            &company,
            &g,
            &ledger::midori_ledger(today).incoming,
            ChangeSource::Import,
        )
        .await?;

    // ① to ⑦ submitted; ⑤ goes back once for detail, then all approved.
    for &kind in DeliverableKind::ALL {
        let g = grant(
            store,
            &company,
            e,
            HospitalData::Deliverables,
            Access::Write,
        )
        .await?;
        store.submit_deliverable(&company, &g, e.id, kind).await?;
    }
    let review = |kind, action, note: &'static str| {
        let supervisor = supervisor.clone();
        async move {
            let g = grant(
                store,
                &supervisor,
                e,
                HospitalData::Deliverables,
                Access::Review,
            )
            .await?;
            store
                .review_deliverable(&supervisor, &g, e.id, kind, action, note)
                .await
        }
    };
    review(
        DeliverableKind::Connections,
        ReviewAction::RequestChanges,
        "EX-02 の接続方法と認証方式の詳細を確認してください",
    )
    .await?;
    let g = grant(
        store,
        &company,
        e,
        HospitalData::Deliverables,
        Access::Write,
    )
    .await?;
    store
        .submit_deliverable(&company, &g, e.id, DeliverableKind::Connections)
        .await?;
    for &kind in DeliverableKind::ALL {
        review(kind, ReviewAction::Approve, "").await?;
    }

    // Findings: two accepted, one rejected as covered by another.
    let drafts = [
        finding(
            Severity::High,
            "電子カルテ保守回線が共有IDのみで認証されている",
            "みどりシステムズの保守用VPN（EX-02）は共有IDとパスワードのみで接続でき、多要素認証がない。",
            &[
                (AffectedKind::Connection, "EX-02"),
                (AffectedKind::Asset, "FW-01"),
            ],
            "保守用VPNに多要素認証を導入し、接続の都度、病院側で承認・記録する。",
        ),
        finding(
            Severity::Medium,
            "日次バックアップがオフラインで保管されていない",
            "電子カルテDBの日次バックアップ（B-01）はネットワーク上のNASにのみある。",
            &[(AffectedKind::Backup, "B-01")],
            "少なくとも1世代をネットワークから切り離して保管し、復元テストを年1回行う。",
        ),
        finding(
            Severity::Low,
            "保守回線の利用記録が紙のみ",
            "",
            &[(AffectedKind::Connection, "EX-01")],
            "接続ログを電子的に保存する。",
        ),
    ];
    for draft in &drafts {
        let g = grant(
            store,
            &company,
            e,
            HospitalData::Deliverables,
            Access::Write,
        )
        .await?;
        store.propose_finding(&company, &g, e.id, draft).await?;
    }
    for (number, step, note) in [
        (1, FindingStep::Accept, ""),
        (2, FindingStep::Accept, ""),
        (3, FindingStep::Reject, "指摘1の対策に含まれるため"),
    ] {
        let g = grant(
            store,
            &supervisor,
            e,
            HospitalData::Deliverables,
            Access::Review,
        )
        .await?;
        store
            .review_finding(&supervisor, &g, e.id, number, step, note)
            .await?;
    }

    // The company submits (the package is released), the secretariat
    // accepts and delivers.
    mamori_web::releases::take_step(store, &company, e.id, EngagementState::Submitted, None, "")
        .await
        .map_err(|err| StoreError::Conflict(format!("rendering the demo report: {err}")))??;
    for to in [EngagementState::Accepted, EngagementState::Reported] {
        store.transition(&secretariat, e.id, to, None, "").await?;
    }

    // The hospital downloads its report; the ministry reads it.
    let (_, staff) = person(store, emails::HOSPITAL_REPORTED_STAFF).await?;
    let g = grant(store, &staff, e, HospitalData::Deliverables, Access::Read).await?;
    store
        .release_file(&staff, &g, e.id, 1, ReportFile::Pdf, "ja")
        .await?;
    let (_, ministry) = person(store, emails::MINISTRY).await?;
    let g = grant(
        store,
        &ministry,
        e,
        HospitalData::Deliverables,
        Access::Read,
    )
    .await?;
    store.release_content(&ministry, &g, e.id, 1).await?;
    let g = grant(
        store,
        &ministry,
        e,
        HospitalData::Deliverables,
        Access::Read,
    )
    .await?;
    store
        .release_file(&ministry, &g, e.id, 1, ReportFile::Pdf, "ja")
        .await?;
    Ok(store
        .engagement_detail(&secretariat, e.id)
        .await?
        .engagement)
}
