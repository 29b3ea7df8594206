//! A fictional survey programme for `mamori serve --demo`, benchmarks and
//! tests. Every organisation, person and product here is invented; names
//! end in （デモ） so that nobody mistakes them for real ones.

use mamori_domain::agreement::PaymentKind;
use mamori_domain::engagement::EngagementState;
use mamori_domain::organisation::{
    FounderType, HospitalAttributes, Language, OrgKind, Prefecture, RecruitmentRoute, Role,
};
use mamori_domain::policy::{Access, HospitalData};
use mamori_store::walk::walk_to;
use mamori_store::{
    AuditContext, CandidateDetails, ChangeSource, CompanyEnrolment, Engagement, FacilityProfile,
    Letterhead, NewAccount, NewCandidate, NewFile, NewOrganisation, NewPayment, Organisation,
    ProgrammeFields, Store, StoreError,
};
use std::collections::HashMap;
use time::{Date, Duration};

mod advisories;
mod checklists;
mod labour;
mod ledger;
mod report;
mod scale;
mod statistics;

pub use scale::{
    DEFAULT_SEED as DEFAULT_SCALE_SEED, SCALE_COMPANY_COUNT, ScaleOptions, ScaleOutcome,
    ScaleSummary, demo_hospital_names, seed_scale,
};

/// The one password of every demo account. Public: the demo is for trying
/// Mamori out, never for real data.
pub const DEMO_PASSWORD: &str = "mamori-demo-2026";

/// E-mail addresses of the demo accounts (under the reserved `.example` TLD).
pub mod emails {
    pub const SECRETARIAT_ADMIN: &str = "secretariat@demo.mamori.example";
    /// The second member who approves what the first drafts (statistics).
    pub const SECRETARIAT_MEMBER: &str = "secretariat-2@demo.mamori.example";
    pub const SUPERVISOR: &str = "supervisor@demo.mamori.example";
    pub const SURVEYOR_A: &str = "surveyor-a@demo.mamori.example";
    pub const COMPANY_A_ADMIN: &str = "admin-a@demo.mamori.example";
    pub const SURVEYOR_B: &str = "surveyor-b@demo.mamori.example";
    pub const HOSPITAL_STAFF: &str = "hospital@demo.mamori.example";
    /// Staff of the hospital whose report was delivered.
    pub const HOSPITAL_REPORTED_STAFF: &str = "hospital-b@demo.mamori.example";
    /// 白浜記念病院's system administrator: the Ivanti and PACS notices.
    pub const HOSPITAL_INTERIM_STAFF: &str = "hospital-c@demo.mamori.example";
    pub const MINISTRY: &str = "ministry@demo.mamori.example";
    pub const VENDOR: &str = "vendor@demo.mamori.example";
}

/// Names of the demo organisations that tests and benchmarks refer to.
pub mod names {
    pub const SECRETARIAT: &str = "医療情報安全研究機構 研究事務局（デモ）";
    pub const SUPERVISOR: &str = "みなと監査セキュリティ株式会社（デモ）";
    pub const COMPANY_A: &str = "あおば情報セキュリティ株式会社（デモ）";
    pub const COMPANY_B: &str = "さくらネットワーク診断株式会社（デモ）";
    pub const COMPANY_C: &str = "ひかりシステム調査合同会社（デモ）";
    pub const MINISTRY: &str = "医療政策省 医療情報安全室（デモ）";
    pub const VENDOR: &str = "つばさ医療システム株式会社（デモ）";
    /// Surveyed by company A, contracted; its staff has the demo hospital account.
    pub const HOSPITAL_A_SURVEYING: &str = "湖畔市立総合病院（デモ）";
    /// Surveyed by company A, contracted.
    pub const HOSPITAL_A_CONTRACTED: &str = "山手記念病院（デモ）";
    /// Company A's engagement, pledge issued but not yet contracted.
    pub const HOSPITAL_A_PLEDGE: &str = "北浜中央病院（デモ）";
    /// Surveyed by company B, accepted (検収済み).
    pub const HOSPITAL_B_ACCEPTED: &str = "若葉ヶ丘病院（デモ）";
    /// Surveyed by company B, report delivered.
    pub const HOSPITAL_B_REPORTED: &str = "国立みどり医療センター（デモ）";
    /// Company B's engagement, intent confirmed.
    pub const HOSPITAL_B_INTENT: &str = "川辺町立病院（デモ）";
    /// Company C's engagement, declined by the hospital.
    pub const HOSPITAL_C_DECLINED: &str = "星が丘リハビリテーション病院（デモ）";
    /// Surveyed by company C, scheduling visits.
    pub const HOSPITAL_C_SCHEDULING: &str = "港南協同病院（デモ）";
    /// Company C's candidate, intent not yet confirmed.
    pub const HOSPITAL_C_CANDIDATE: &str = "みさき台病院（デモ）";
    /// Company A's engagement in the supervisor's interim review.
    pub const HOSPITAL_A_INTERIM: &str = "白浜記念病院（デモ）";
    /// Company B writing its report.
    pub const HOSPITAL_B_REPORTING: &str = "さつき野総合病院（デモ）";
    /// Company C's report submitted, awaiting acceptance.
    pub const HOSPITAL_C_SUBMITTED: &str = "つつじ丘中央病院（デモ）";
    /// Company B's engagement, withdrawn by the secretariat.
    pub const HOSPITAL_B_WITHDRAWN: &str = "あさひ浜病院（デモ）";
    /// The demo programme.
    pub const PROGRAMME: &str = "医療機関サイバーセキュリティ実態調査（デモ）";
}

struct OrgSpec {
    kind: OrgKind,
    name: &'static str,
    /// Prefecture code, beds, founder, recruitment route.
    hospital: Option<(u8, u32, FounderType, RecruitmentRoute)>,
}

const fn org(kind: OrgKind, name: &'static str) -> OrgSpec {
    OrgSpec {
        kind,
        name,
        hospital: None,
    }
}

const fn hospital(
    name: &'static str,
    prefecture: u8,
    beds: u32,
    founder: FounderType,
    route: RecruitmentRoute,
) -> OrgSpec {
    OrgSpec {
        kind: OrgKind::Hospital,
        name,
        hospital: Some((prefecture, beds, founder, route)),
    }
}

const ORGANISATIONS: &[OrgSpec] = &[
    org(OrgKind::Secretariat, names::SECRETARIAT),
    org(OrgKind::Supervisor, names::SUPERVISOR),
    org(OrgKind::SurveyCompany, names::COMPANY_A),
    org(OrgKind::SurveyCompany, names::COMPANY_B),
    org(OrgKind::SurveyCompany, names::COMPANY_C),
    org(OrgKind::Ministry, names::MINISTRY),
    org(OrgKind::Vendor, names::VENDOR),
    hospital(
        names::HOSPITAL_A_SURVEYING,
        32, // 島根県
        612,
        FounderType::Public,
        RecruitmentRoute::HospitalAssociation,
    ),
    hospital(
        names::HOSPITAL_A_CONTRACTED,
        13, // 東京都
        180,
        FounderType::MedicalCorporation,
        RecruitmentRoute::CompanyReferral,
    ),
    hospital(
        names::HOSPITAL_A_PLEDGE,
        1, // 北海道
        348,
        FounderType::SocialInsurance,
        RecruitmentRoute::ResearchNetwork,
    ),
    hospital(
        names::HOSPITAL_B_ACCEPTED,
        47, // 沖縄県
        52,
        FounderType::Individual,
        RecruitmentRoute::OpenCall,
    ),
    hospital(
        names::HOSPITAL_B_REPORTED,
        27, // 大阪府
        920,
        FounderType::National,
        RecruitmentRoute::HospitalAssociation,
    ),
    hospital(
        names::HOSPITAL_B_INTENT,
        31, // 鳥取県
        99,
        FounderType::Public,
        RecruitmentRoute::ResearchNetwork,
    ),
    hospital(
        names::HOSPITAL_C_DECLINED,
        23, // 愛知県
        150,
        FounderType::MedicalCorporation,
        RecruitmentRoute::CompanyReferral,
    ),
    hospital(
        names::HOSPITAL_C_SCHEDULING,
        40, // 福岡県
        415,
        FounderType::Other,
        RecruitmentRoute::OpenCall,
    ),
    hospital(
        names::HOSPITAL_C_CANDIDATE,
        4, // 宮城県
        120,
        FounderType::MedicalCorporation,
        RecruitmentRoute::HospitalAssociation,
    ),
    hospital(
        names::HOSPITAL_A_INTERIM,
        30, // 和歌山県
        260,
        FounderType::Public,
        RecruitmentRoute::HospitalAssociation,
    ),
    hospital(
        names::HOSPITAL_B_REPORTING,
        10, // 群馬県
        450,
        FounderType::SocialInsurance,
        RecruitmentRoute::ResearchNetwork,
    ),
    hospital(
        names::HOSPITAL_C_SUBMITTED,
        34, // 広島県
        310,
        FounderType::MedicalCorporation,
        RecruitmentRoute::CompanyReferral,
    ),
    hospital(
        names::HOSPITAL_B_WITHDRAWN,
        17, // 石川県
        80,
        FounderType::Individual,
        RecruitmentRoute::HospitalAssociation,
    ),
];

/// (hospital, survey company, state)
const ENGAGEMENTS: &[(&str, &str, EngagementState)] = &[
    (
        names::HOSPITAL_A_SURVEYING,
        names::COMPANY_A,
        EngagementState::Surveying,
    ),
    (
        names::HOSPITAL_A_CONTRACTED,
        names::COMPANY_A,
        EngagementState::Contracted,
    ),
    (
        names::HOSPITAL_A_PLEDGE,
        names::COMPANY_A,
        EngagementState::PledgeIssued,
    ),
    (
        names::HOSPITAL_B_ACCEPTED,
        names::COMPANY_B,
        EngagementState::Accepted,
    ),
    (
        names::HOSPITAL_B_REPORTED,
        names::COMPANY_B,
        EngagementState::Reported,
    ),
    (
        names::HOSPITAL_B_INTENT,
        names::COMPANY_B,
        EngagementState::IntentConfirmed,
    ),
    (
        names::HOSPITAL_C_DECLINED,
        names::COMPANY_C,
        EngagementState::Declined,
    ),
    (
        names::HOSPITAL_C_SCHEDULING,
        names::COMPANY_C,
        EngagementState::Scheduling,
    ),
    (
        names::HOSPITAL_C_CANDIDATE,
        names::COMPANY_C,
        EngagementState::Candidate,
    ),
    (
        names::HOSPITAL_A_INTERIM,
        names::COMPANY_A,
        EngagementState::InterimReview,
    ),
    (
        names::HOSPITAL_B_REPORTING,
        names::COMPANY_B,
        EngagementState::Reporting,
    ),
    (
        names::HOSPITAL_C_SUBMITTED,
        names::COMPANY_C,
        EngagementState::Submitted,
    ),
    (
        names::HOSPITAL_B_WITHDRAWN,
        names::COMPANY_B,
        EngagementState::Withdrawn,
    ),
];

/// Contact persons of the candidate hospitals (department, title, name).
const CONTACTS: &[(&str, &str, &str)] = &[
    ("医療情報部", "部長", "高橋 直子"),
    ("事務部", "課長", "渡辺 剛"),
    ("情報システム課", "係長", "小川 亮"),
    ("経営企画室", "室長", "森 友美"),
];

struct AccountSpec {
    email: &'static str,
    display_name: &'static str,
    org: &'static str,
    role: Role,
    language: Language,
    role_label: &'static str,
}

const ACCOUNTS: &[AccountSpec] = &[
    AccountSpec {
        email: emails::SECRETARIAT_ADMIN,
        display_name: "山田 花子（事務局）",
        org: names::SECRETARIAT,
        role: Role::Admin,
        language: Language::Japanese,
        role_label: "secretariat admin",
    },
    AccountSpec {
        email: emails::SECRETARIAT_MEMBER,
        display_name: "佐藤 健（事務局）",
        org: names::SECRETARIAT,
        role: Role::Member,
        language: Language::Japanese,
        role_label: "secretariat member (approves statistics)",
    },
    AccountSpec {
        email: emails::SUPERVISOR,
        display_name: "佐藤 健（監督）",
        org: names::SUPERVISOR,
        role: Role::Member,
        language: Language::Japanese,
        role_label: "supervisor member",
    },
    AccountSpec {
        email: emails::SURVEYOR_A,
        display_name: "鈴木 一郎（調査員 A社）",
        org: names::COMPANY_A,
        role: Role::Member,
        language: Language::Japanese,
        role_label: "surveyor, company A (member)",
    },
    AccountSpec {
        email: emails::COMPANY_A_ADMIN,
        display_name: "Misaki Takahashi (company A)",
        org: names::COMPANY_A,
        role: Role::Admin,
        language: Language::English,
        role_label: "company A admin (English)",
    },
    AccountSpec {
        email: emails::SURVEYOR_B,
        display_name: "中村 彩（調査員 B社）",
        org: names::COMPANY_B,
        role: Role::Member,
        language: Language::Japanese,
        role_label: "surveyor, company B (member)",
    },
    AccountSpec {
        email: emails::HOSPITAL_STAFF,
        display_name: "田中 誠（システム管理者）",
        org: names::HOSPITAL_A_SURVEYING,
        role: Role::Member,
        language: Language::Japanese,
        role_label: "hospital staff (surveyed by A)",
    },
    AccountSpec {
        email: emails::HOSPITAL_REPORTED_STAFF,
        display_name: "木村 修（情報管理室）",
        org: names::HOSPITAL_B_REPORTED,
        role: Role::Member,
        language: Language::Japanese,
        role_label: "hospital staff (report delivered)",
    },
    AccountSpec {
        email: emails::HOSPITAL_INTERIM_STAFF,
        display_name: "森 恵子（事務長・システム担当）",
        org: names::HOSPITAL_A_INTERIM,
        role: Role::Member,
        language: Language::Japanese,
        role_label: "hospital staff (interim review; Ivanti and PACS notices)",
    },
    AccountSpec {
        email: emails::MINISTRY,
        display_name: "伊藤 由美（担当室）",
        org: names::MINISTRY,
        role: Role::Member,
        language: Language::Japanese,
        role_label: "ministry member",
    },
    AccountSpec {
        email: emails::VENDOR,
        display_name: "小林 翔（ベンダー）",
        org: names::VENDOR,
        role: Role::Member,
        language: Language::Japanese,
        role_label: "vendor member",
    },
];

/// The facility profiles company A's surveyor has filled in.
fn facility_profiles() -> Vec<(&'static str, FacilityProfile)> {
    vec![
        (
            names::HOSPITAL_A_SURVEYING,
            FacilityProfile {
                it_staff_count: Some(4),
                it_staff_skills: "情報システム室 4名（専任2名・兼任2名）。ネットワーク機器の設定変更は委託先が実施。".into(),
                ehr_vendor: "架空電子カルテ MIRAI-EHR（デモ）".into(),
                maintenance_outsourcing: "電子カルテ・部門システム保守: つばさ医療システム（デモ）。院内 LAN と VPN 装置: 地元の SIer（デモ）。".into(),
                notes: "VPN 装置のファームウェア更新履歴を確認中。バックアップは週1回、オフライン保管は未実施。".into(),
                updated_at_ms: None,
                updated_by: None,
            },
        ),
        (
            names::HOSPITAL_A_CONTRACTED,
            FacilityProfile {
                it_staff_count: Some(1),
                it_staff_skills: "事務部の兼任 1名。専門的な対応はベンダーに依頼。".into(),
                ehr_vendor: "架空クラウドカルテ SORA（デモ）".into(),
                maintenance_outsourcing: "ネットワーク・サーバとも保守契約先に一括委託（契約書の確認待ち）。".into(),
                notes: "初回ヒアリング前。チェックリストの事前記入を依頼済み。".into(),
                updated_at_ms: None,
                updated_by: None,
            },
        ),
    ]
}

/// One demo account, as printed at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoAccount {
    pub email: &'static str,
    pub display_name: &'static str,
    pub role: Role,
    pub role_label: &'static str,
    pub org_name: &'static str,
}

/// What the demo created.
#[derive(Debug, Clone)]
pub struct DemoSummary {
    pub organisations: Vec<Organisation>,
    pub engagements: Vec<Engagement>,
    pub accounts: Vec<DemoAccount>,
}

impl DemoSummary {
    /// The organisation of that (demo) name.
    pub fn organisation(&self, name: &str) -> Option<&Organisation> {
        self.organisations.iter().find(|o| o.name == name)
    }
}

/// What `seed_demo_if_empty` found or did.
#[derive(Debug, Clone)]
pub enum DemoOutcome {
    /// The database was empty; the demo programme is in it now.
    Seeded(DemoSummary),
    /// The demo was seeded before: its accounts.
    AlreadyThere(Vec<DemoAccount>),
    /// The database holds other data; nothing was added.
    NotEmpty,
}

/// The demo accounts (as created by [`seed_demo`]).
pub fn demo_accounts() -> Vec<DemoAccount> {
    ACCOUNTS
        .iter()
        .map(|a| DemoAccount {
            email: a.email,
            display_name: a.display_name,
            role: a.role,
            role_label: a.role_label,
            org_name: a.org,
        })
        .collect()
}

/// Seeds the demo when the database has no organisation yet.
pub async fn seed_demo_if_empty(store: &Store) -> Result<DemoOutcome, StoreError> {
    if store.all_organisations().await?.is_empty() {
        return Ok(DemoOutcome::Seeded(seed_demo(store).await?));
    }
    match store.account_by_email(emails::SECRETARIAT_ADMIN).await {
        Ok(_) => Ok(DemoOutcome::AlreadyThere(demo_accounts())),
        Err(StoreError::NotFound { .. }) => Ok(DemoOutcome::NotEmpty),
        Err(e) => Err(e),
    }
}

fn missing(name: &str) -> StoreError {
    StoreError::NotFound {
        what: "demo organisation",
        key: name.to_string(),
    }
}

/// Writes the whole demo programme. Every step goes through the store's
/// ordinary operations, so the audit log records it like any other change.
/// Fails with `Duplicate` if (part of) the demo is already there.
pub async fn seed_demo(store: &Store) -> Result<DemoSummary, StoreError> {
    let operator = AuditContext::operator("demo:seed");

    let mut organisations = Vec::with_capacity(ORGANISATIONS.len());
    for spec in ORGANISATIONS {
        let hospital = match spec.hospital {
            Some((prefecture, beds, founder, route)) => Some(HospitalAttributes::new(
                Prefecture::from_code(prefecture)?,
                beds,
                founder,
                route,
            )?),
            None => None,
        };
        let created = store
            .create_organisation(
                &operator,
                NewOrganisation {
                    kind: spec.kind,
                    name: spec.name.to_string(),
                    hospital,
                },
            )
            .await?;
        organisations.push(created);
    }
    let ids: HashMap<&str, mamori_domain::OrgId> = organisations
        .iter()
        .map(|o| (o.name.as_str(), o.id))
        .collect();
    let id = |name: &str| ids.get(name).copied().ok_or_else(|| missing(name));

    let mut surveyor_a = None;
    for spec in ACCOUNTS {
        let account = store
            .create_account(
                &operator,
                NewAccount {
                    org: id(spec.org)?,
                    email: spec.email.to_string(),
                    display_name: spec.display_name.to_string(),
                    role: spec.role,
                    language: spec.language,
                    password: DEMO_PASSWORD.to_string(),
                },
            )
            .await?;
        if spec.email == emails::SURVEYOR_A {
            surveyor_a = Some(account);
        }
    }

    // The programme runs on dated steps; the clock walks with them and
    // returns to the system clock whatever happens.
    let today = store.today();
    let result = async {
        let engagements = seed_programme(store, &operator, &id).await?;
        checklists::seed_checklists(store, &operator, &engagements, today).await?;
        Ok::<_, StoreError>(engagements)
    }
    .await;
    store.clock().use_system();
    let engagements = result?;

    // Company A's surveyor fills in what it learnt, through the policy like
    // anyone else: only contracted engagements give a grant.
    if let Some(surveyor) = surveyor_a {
        let ctx = AuditContext::for_actor(surveyor.actor(), surveyor.email.clone(), None);
        for (hospital, profile) in facility_profiles() {
            let grant = store
                .authorize(&ctx, id(hospital)?, HospitalData::Ledger, Access::Write)
                .await?;
            store.save_facility_profile(&ctx, &grant, &profile).await?;
        }
        seed_ledgers(store, &ctx, &id).await?;
    }
    // The delivered report, through the people who make and receive it.
    let mut engagements = engagements;
    if let Some(e) = engagements
        .iter_mut()
        .find(|e| e.hospital_name == names::HOSPITAL_B_REPORTED)
    {
        *e = report::seed_report(store, e, store.today()).await?;
    }
    labour::seed_labour(store, &engagements, store.today()).await?;
    // The secretariat imports the advisories: the hospitals they reach are told.
    let secretariat = store.account_by_email(emails::SECRETARIAT_ADMIN).await?;
    let secretariat = AuditContext::for_actor(secretariat.actor(), secretariat.email.clone(), None);
    advisories::seed_advisories(store, &secretariat).await?;
    statistics::seed_statistics(store, &secretariat).await?;

    Ok(DemoSummary {
        organisations,
        engagements,
        accounts: demo_accounts(),
    })
}

/// The secretariat's device catalogue and the ledgers company A's surveyor
/// has recorded, imported as the surveyor would upload them.
async fn seed_ledgers(
    store: &Store,
    surveyor: &AuditContext,
    id: &dyn Fn(&str) -> Result<mamori_domain::OrgId, StoreError>,
) -> Result<(), StoreError> {
    let secretariat = store.account_by_email(emails::SECRETARIAT_ADMIN).await?;
    let secretariat = AuditContext::for_actor(secretariat.actor(), secretariat.email.clone(), None);
    let models = ledger::demo_catalogue();
    store
        .import_device_models(&secretariat, models.clone())
        .await?;
    let today = store.today();
    for (hospital, plan) in [
        (names::HOSPITAL_A_SURVEYING, ledger::lakeside_ledger(today)),
        (names::HOSPITAL_A_INTERIM, ledger::shirahama_ledger(today)),
    ] {
        let mut incoming = plan.incoming;
        ledger::link_catalogue(&mut incoming, &models);
        let grant = store
            .authorize(surveyor, id(hospital)?, HospitalData::Ledger, Access::Write)
            .await?;
        store
            .import_ledger(surveyor, &grant, &incoming, ChangeSource::Import)
            .await?;
    }
    // Company B's surveyor has recorded two more hospitals, so the
    // statistics have enough hospitals to show.
    let surveyor_b = store.account_by_email(emails::SURVEYOR_B).await?;
    let surveyor_b = AuditContext::for_actor(surveyor_b.actor(), surveyor_b.email.clone(), None);
    for (hospital, plan) in [
        (names::HOSPITAL_B_ACCEPTED, ledger::wakabagaoka_ledger()),
        (names::HOSPITAL_B_REPORTING, ledger::satsukino_ledger()),
    ] {
        let grant = store
            .authorize(
                &surveyor_b,
                id(hospital)?,
                HospitalData::Ledger,
                Access::Write,
            )
            .await?;
        store
            .import_ledger(&surveyor_b, &grant, &plan.incoming, ChangeSource::Import)
            .await?;
    }
    Ok(())
}

/// The fiscal year whose survey season (November to May) is closest to `today`.
fn demo_fiscal_year(today: Date) -> i32 {
    if u8::from(today.month()) >= 8 {
        today.year()
    } else {
        today.year() - 1
    }
}

/// The programme, its companies, meetings and library, and one engagement
/// in each state, each step dated a few days after the previous one.
async fn seed_programme(
    store: &Store,
    operator: &AuditContext,
    id: &dyn Fn(&str) -> Result<mamori_domain::OrgId, StoreError>,
) -> Result<Vec<Engagement>, StoreError> {
    let today = store.today();
    let fiscal_year = demo_fiscal_year(today);
    let programme = store
        .create_programme(
            operator,
            &ProgrammeFields {
                name: names::PROGRAMME.to_string(),
                fiscal_year,
                research_lead: "研究代表者 岡本 健一（デモ）".into(),
                labour_cap_yen: None,
                honorarium_rate_yen: None,
                checklist_versions: vec![
                    "令和6年度版 医療機関確認用".into(),
                    "令和6年度版 事業者確認用".into(),
                ],
                notes: "各病院調査等手順に沿って調査する。工数は週1回報告。".into(),
            },
        )
        .await?;
    store
        .set_letterhead(
            operator,
            id(names::SECRETARIAT)?,
            &Letterhead {
                address: "〒100-0000 東京都千代田区架空町1-2-3（デモ）".into(),
                representative: "理事長 青木 守（デモ）".into(),
                contact_email: "office@demo.mamori.example".into(),
            },
        )
        .await?;
    for (company, address, representative) in [
        (
            names::COMPANY_A,
            "〒690-0000 島根県松江市架空町4-5（デモ）",
            "代表取締役 松本 誠",
        ),
        (
            names::COMPANY_B,
            "〒530-0000 大阪府大阪市北区架空町6-7（デモ）",
            "代表取締役 井上 玲奈",
        ),
        (
            names::COMPANY_C,
            "〒810-0000 福岡県福岡市中央区架空町8-9（デモ）",
            "代表社員 木村 大輔",
        ),
    ] {
        store
            .set_letterhead(
                operator,
                id(company)?,
                &Letterhead {
                    address: address.into(),
                    representative: representative.into(),
                    contact_email: String::new(),
                },
            )
            .await?;
    }
    let start = today - Duration::days(70);
    store.clock().set_today(start);
    store
        .add_programme_document(
            operator,
            programme.id,
            "各病院調査等手順（病院向け説明書）",
            "第1.1版",
            Some(start),
            Some(NewFile {
                name: "各病院調査等手順_第1.1版.txt".into(),
                data: "各病院調査等手順（デモ）\n1. 本文書について\n2. 調査協力施設の役割、負担\n3. 調査事項と手順\n4. 調査手順\n5. 誓約書\n".as_bytes().to_vec(),
            }),
        )
        .await?;
    store
        .add_programme_document(
            operator,
            programme.id,
            "調査担当企業向け説明書",
            "第1.0版",
            Some(start),
            None,
        )
        .await?;
    store
        .add_programme_document(
            operator,
            programme.id,
            "調査担当企業工数確認票（資料6）",
            "第1.0版",
            Some(start),
            None,
        )
        .await?;
    let companies = [names::COMPANY_A, names::COMPANY_B, names::COMPANY_C];
    for (n, company) in companies.iter().enumerate() {
        store
            .enrol_company(operator, programme.id, id(company)?, start)
            .await?;
        store
            .update_company_enrolment(
                operator,
                programme.id,
                id(company)?,
                &CompanyEnrolment {
                    meeting_on: Some(start + Duration::days(3)),
                    forms_handed_over_on: Some(start + Duration::days(4)),
                    contact_name: ["松本 誠", "井上 玲奈", "木村 大輔"][n].into(),
                    contact_email: format!("contact-{}@demo.mamori.example", ["a", "b", "c"][n]),
                    contact_phone: format!("03-0000-000{n}"),
                },
            )
            .await?;
    }
    store
        .record_kickoff(
            operator,
            programme.id,
            None,
            start + Duration::days(5),
            "研究事務局、監督企業、調査担当企業3社",
            "手順書第1.1版の説明。週1回の工数報告、情報共有システムの利用を確認。",
        )
        .await?;
    store
        .record_kickoff(
            operator,
            programme.id,
            Some(id(names::COMPANY_A)?),
            start + Duration::days(8),
            "あおば情報セキュリティ、監督企業、研究事務局",
            "A社の小キックオフ。最初の訪問先と日程の見通しを確認。",
        )
        .await?;

    let mut engagements = Vec::with_capacity(ENGAGEMENTS.len());
    for (n, (hospital, company, target)) in ENGAGEMENTS.iter().enumerate() {
        let (department, title, name) = CONTACTS[n % CONTACTS.len()];
        store.clock().set_today(start + Duration::days(10));
        let mut e = store
            .add_candidate(
                operator,
                &NewCandidate {
                    programme: programme.id,
                    hospital: id(hospital)?,
                    company: id(company)?,
                    details: CandidateDetails {
                        source: Some(if n % 3 == 0 {
                            RecruitmentRoute::ResearchNetwork
                        } else {
                            RecruitmentRoute::HospitalAssociation
                        }),
                        source_detail: if n % 3 == 0 {
                            "研究代表者からの依頼".into()
                        } else {
                            "病院団体の会員意向調査（デモ）".into()
                        },
                        director_name: format!(
                            "院長 {}",
                            ["岡田 修", "石井 明美", "前田 浩"][n % 3]
                        ),
                        contact_department: department.into(),
                        contact_title: title.into(),
                        contact_name: name.into(),
                        contact_email: format!("contact{n}@hospital.demo.mamori.example"),
                        proposed_company: (*company).into(),
                    },
                },
            )
            .await?;
        // One step every five days, the last one today at the latest.
        // The delivered report's engagement is walked to 報告書作成 here;
        // its people take the report steps (`report::seed_report`).
        let target = if *hospital == names::HOSPITAL_B_REPORTED {
            &EngagementState::Reporting
        } else {
            target
        };
        let steps: Vec<EngagementState> = if target.is_closed_early() {
            vec![EngagementState::IntentConfirmed, *target]
        } else {
            EngagementState::ALL
                .iter()
                .copied()
                .filter(|s| s.rank().is_some_and(|r| r > 0) && target.has_reached(*s))
                .collect()
        };
        let first = today - Duration::days(5 * steps.len() as i64);
        for (k, step) in steps.iter().enumerate() {
            store
                .clock()
                .set_today(first + Duration::days(5 * k as i64 + 5));
            e = walk_to(store, operator, e, *step).await?;
        }
        engagements.push(e);
    }
    store.clock().set_today(today);
    // Honoraria and a reimbursement for the hospital whose report was delivered.
    if let Some(reported) = engagements
        .iter()
        .find(|e| e.hospital_name == names::HOSPITAL_B_REPORTED)
    {
        for (person, department, title, hours) in [
            ("岡田 修", "病院長", "院長", 1.5),
            ("小川 亮", "情報システム課", "係長", 4.0),
        ] {
            store
                .record_payment(
                    operator,
                    reported.id,
                    &NewPayment {
                        kind: PaymentKind::Honorarium,
                        person: person.into(),
                        department: department.into(),
                        title: title.into(),
                        hours: Some(hours),
                        amount_yen: None,
                        paid_for_on: today - Duration::days(20),
                        note: "チェックリストヒアリング".into(),
                    },
                )
                .await?;
        }
        store
            .record_payment(
                operator,
                reported.id,
                &NewPayment {
                    kind: PaymentKind::Reimbursement,
                    person: "つばさ医療システム（デモ）".into(),
                    department: String::new(),
                    title: String::new(),
                    hours: None,
                    amount_yen: Some(55_000),
                    paid_for_on: today - Duration::days(15),
                    note: "委託事業者への調査協力費".into(),
                },
            )
            .await?;
    }
    Ok(engagements)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mamori_domain::policy::{Access, HospitalData};
    use mamori_store::{LoginOutcome, testing};

    #[test]
    fn the_programme_has_the_shape_the_issue_asks_for() {
        let count = |kind| ORGANISATIONS.iter().filter(|o| o.kind == kind).count();
        assert_eq!(count(OrgKind::Secretariat), 1);
        assert_eq!(count(OrgKind::Supervisor), 1);
        assert_eq!(count(OrgKind::SurveyCompany), 3);
        assert_eq!(count(OrgKind::Hospital), 13);
        assert_eq!(count(OrgKind::Ministry), 1);
        assert_eq!(count(OrgKind::Vendor), 1);
        let hospitals: Vec<_> = ORGANISATIONS.iter().filter_map(|o| o.hospital).collect();
        let mut prefectures: Vec<_> = hospitals.iter().map(|h| h.0).collect();
        prefectures.sort_unstable();
        prefectures.dedup();
        assert_eq!(prefectures.len(), 13, "thirteen different prefectures");
        // Every state of the lifecycle is shown once.
        let mut states: Vec<_> = ENGAGEMENTS.iter().map(|e| e.2).collect();
        states.sort_unstable();
        states.dedup();
        assert_eq!(states.len(), EngagementState::ALL.len());
        assert!(hospitals.iter().any(|h| h.1 < 100) && hospitals.iter().any(|h| h.1 > 500));
        assert!(ORGANISATIONS.iter().all(|o| o.name.ends_with("（デモ）")));
    }

    #[tokio::test]
    async fn seeding_fills_an_empty_database_once() {
        for db in testing::all().await {
            let store = &db.store;
            let DemoOutcome::Seeded(summary) = seed_demo_if_empty(store).await.expect("seed")
            else {
                panic!("{}: empty database not seeded", db.label);
            };
            assert_eq!(summary.organisations.len(), ORGANISATIONS.len());
            assert_eq!(summary.engagements.len(), ENGAGEMENTS.len());
            for account in &summary.accounts {
                let outcome = store
                    .check_login(account.email, DEMO_PASSWORD, None)
                    .await
                    .expect("login");
                assert!(
                    matches!(outcome, LoginOutcome::Success(_)),
                    "{}: {} {outcome:?}",
                    db.label,
                    account.email
                );
            }
            // The hospital staff reads the profile company A filled in.
            let staff = store
                .account_by_email(emails::HOSPITAL_STAFF)
                .await
                .expect("staff");
            let ctx = AuditContext::for_actor(staff.actor(), staff.email.clone(), None);
            let grant = store
                .authorize(&ctx, staff.org_id, HospitalData::Ledger, Access::Read)
                .await
                .expect("own hospital");
            let profile = store.facility_profile(&ctx, &grant).await.expect("read");
            assert_eq!(profile.it_staff_count, Some(4));
            // Its ledger: the vendor's VPN, the connection nobody knew of,
            // the backup with no offline copy, appliances in the catalogue.
            let grant = store
                .authorize(&ctx, staff.org_id, HospitalData::Ledger, Access::Read)
                .await
                .expect("own hospital");
            let ledger = store.ledger(&ctx, &grant).await.expect("ledger").ledger;
            assert!(ledger.assets.len() >= 20, "{}", ledger.assets.len());
            assert_eq!(ledger.connections.len(), 5);
            assert!(
                ledger
                    .connections
                    .iter()
                    .any(|c| c.known_to_administrator == Some(false))
            );
            assert!(ledger.backups.iter().any(|b| !b.has_protected_copy()));
            assert!(ledger.assets.iter().any(|a| a.model_ref.is_some()));
            assert_eq!(ledger.roles.len(), 9);
            // The hospital being surveyed has answered its checklist before the
            // visit, and the network diagram promised "by next week" lapsed.
            let surveyed = summary
                .engagements
                .iter()
                .find(|e| e.hospital_name == names::HOSPITAL_A_SURVEYING)
                .expect("surveyed engagement");
            let checklist = store
                .engagement_checklist(&ctx, surveyed.id)
                .await
                .expect("checklist");
            assert_eq!(checklist.respondents.len(), 4, "{}", db.label);
            assert!(
                checklist
                    .respondents
                    .iter()
                    .filter(|r| r.respondent.submitted_at_ms.is_some())
                    .count()
                    >= 2
            );
            let requests = store
                .material_requests(&ctx, surveyed.id)
                .await
                .expect("requests");
            assert!(requests.iter().any(|r| {
                r.status == mamori_domain::checklist::RequestStatus::NotSubmitted
                    && r.lapsed_on.is_some()
            }));
            assert!(requests.iter().any(|r| r.file_id.is_some()));
            // Company B's surveyor is refused the same hospital.
            let other = store
                .account_by_email(emails::SURVEYOR_B)
                .await
                .expect("surveyor b");
            let ctx = AuditContext::for_actor(other.actor(), other.email.clone(), None);
            assert!(
                store
                    .authorize(&ctx, staff.org_id, HospitalData::Ledger, Access::Read)
                    .await
                    .is_err()
            );
            // The delivered report: the hospital downloaded it and the
            // ministry read it, through the policy and on the record.
            let reported = summary
                .engagements
                .iter()
                .find(|e| e.hospital_name == names::HOSPITAL_B_REPORTED)
                .expect("reported engagement");
            assert_eq!(reported.state, EngagementState::Reported, "{}", db.label);
            let hospital_b = store
                .account_by_email(emails::HOSPITAL_REPORTED_STAFF)
                .await
                .expect("hospital b staff");
            let ctx = AuditContext::for_actor(hospital_b.actor(), hospital_b.email.clone(), None);
            let grant = store
                .authorize(
                    &ctx,
                    reported.hospital_id,
                    HospitalData::Deliverables,
                    Access::Read,
                )
                .await
                .expect("delivered to the hospital");
            let releases = store
                .report_releases(&ctx, &grant, reported.id)
                .await
                .expect("releases");
            assert_eq!(releases.len(), 1, "{}", db.label);
            assert!(releases[0].delivered_at_ms.is_some());
            let downloads = store
                .audit_page(
                    None,
                    &mamori_store::AuditFilter {
                        action: Some("report.downloaded".into()),
                        limit: 100,
                        ..Default::default()
                    },
                )
                .await
                .expect("audit")
                .records;
            let by: Vec<&str> = downloads
                .iter()
                .map(|r| r.content.actor_label.as_str())
                .collect();
            assert!(by.contains(&emails::HOSPITAL_REPORTED_STAFF), "{by:?}");
            assert!(by.contains(&emails::MINISTRY), "{by:?}");
            // Hours: one engagement over its plan, one under with a week
            // never reported, one past 80 %.
            let supervisor = store
                .account_by_email(emails::SUPERVISOR)
                .await
                .expect("supervisor");
            let ctx = AuditContext::for_actor(supervisor.actor(), supervisor.email.clone(), None);
            let rollup = store.labour_rollup(&ctx).await.expect("roll-up");
            let alerts = |hospital: &str| {
                rollup
                    .iter()
                    .find(|l| l.hospital_name == hospital)
                    .map(|l| l.summary.alerts.iter().map(|a| a.kind).collect::<Vec<_>>())
                    .unwrap_or_else(|| panic!("{hospital} in the roll-up"))
            };
            use mamori_domain::labour::AlertKind;
            assert!(
                alerts(names::HOSPITAL_A_INTERIM).contains(&AlertKind::PlanExceeded),
                "{}",
                db.label
            );
            assert!(
                alerts(names::HOSPITAL_A_SURVEYING).contains(&AlertKind::MissingWeek),
                "{}",
                db.label
            );
            assert!(!alerts(names::HOSPITAL_A_SURVEYING).contains(&AlertKind::PlanWarning));
            assert!(
                alerts(names::HOSPITAL_B_REPORTED).contains(&AlertKind::PlanWarning),
                "{}",
                db.label
            );
            assert!(matches!(
                seed_demo_if_empty(store).await.expect("second"),
                DemoOutcome::AlreadyThere(_)
            ));
            assert!(
                matches!(store.verify_audit_chain().await, Ok(Ok(n)) if n > 20),
                "{}",
                db.label
            );
            db.finish().await;
        }
    }
}
