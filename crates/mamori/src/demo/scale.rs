//! `mamori demo --scale N`: a nationwide synthetic dataset on top of the
//! demo programme, for load benchmarks and for trying the pages with the
//! number of hospitals a national programme would have.
//!
//! Everything is invented and deterministic from the seed: hospitals
//! spread over the 47 prefectures roughly as Japan's ~8,100 hospitals are,
//! with a realistic spread of beds and founders, names ending in （デモ）;
//! engagements in every state of the lifecycle across the demo programme
//! and three more fiscal-year programmes; ledgers of 50–2,000 assets
//! (servers, network devices, terminals, medical devices with vendor,
//! product, version and, where one exists, a CPE name) for hospitals past
//! the walk-through; self-assessments of the hospitals that answered; and
//! the companies' labour hours with their weekly reports.
//!
//! The bulk writes go through `mamori_store`'s `bulk_*` functions, which
//! check every row by the domain's rules and record one audit entry per
//! batch. A second run on the same database is refused (see
//! [`ScaleOutcome::Refused`]): the generator is not idempotent, it adds.

use super::checklists::DEMO_FRAMEWORK;
use super::{DEMO_PASSWORD, DemoOutcome, emails, names, seed_demo_if_empty};
use indicatif::{ProgressBar, ProgressStyle};
use mamori_domain::agreement::EstimateFigures;
use mamori_domain::checklist::{Answer, AnswerValue, CellKey, Form, RespondentRole};
use mamori_domain::engagement::EngagementState;
use mamori_domain::labour::{Hours, LabourEntry, WeekState, week_of};
use mamori_domain::ledger::{
    Asset, AssetKind, Availability, Backup, ConnectionCategory, ConnectionMethod,
    ExternalConnection, Ledger, LedgerKey, Owner, RemoteMaintenance, Segment, SegmentKind,
};
use mamori_domain::organisation::{
    FounderType, HospitalAttributes, Language, OrgKind, Prefecture, RecruitmentRoute, Role,
};
use mamori_domain::{AccountId, EngagementId, OrgId, ProgrammeId};
use mamori_store::{
    AuditContext, BulkCounts, BulkEngagement, BulkLabour, BulkRespondent, CandidateDetails,
    NewAccount, NewOrganisation, ProgrammeFields, Store, StoreError,
};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::IsTerminal;
use std::time::Instant;
use time::{Date, Duration, Month};

/// The seed when none is given: the same dataset on every machine.
pub const DEFAULT_SEED: u64 = 20_261_127;

/// Hospitals written per batch (one transaction and one audit record per
/// table kind and batch).
const BATCH: usize = 250;

/// Hospitals per prefecture (JIS order), the weights hospitals are spread
/// by. Source: 厚生労働省 医療施設調査 (approximate, rounded; about 8,100
/// hospitals in all).
const PREFECTURE_HOSPITALS: [u32; 47] = [
    537, 90, 90, 136, 66, 66, 123, // 北海道・東北
    172, 105, 127, 342, 287, 635, 336, // 関東
    123, 105, 91, 66, 59, 125, 98, 169, 317, // 中部
    92, 57, 161, 507, 346, 75, 81, // 近畿
    43, 47, 159, 232, 142, // 中国
    106, 87, 135, 121, // 四国
    452, 95, 146, 207, 153, 136, 232, 89, // 九州・沖縄
];

/// Region of a prefecture code, for the companies that work there.
fn region(prefecture: u8) -> usize {
    match prefecture {
        1 => 0,
        2..=7 => 1,
        8..=14 => 2,
        15..=23 => 3,
        24..=30 => 4,
        31..=35 => 5,
        36..=39 => 6,
        _ => 7,
    }
}

/// The synthetic survey companies and the regions (see [`region`]) they
/// work in. The first name marks a database that has had a `--scale` run.
const COMPANIES: &[(&str, &[usize])] = &[
    ("北斗セキュリティ調査株式会社（デモ）", &[0, 1]),
    ("みちのく情報安全株式会社（デモ）", &[1]),
    ("首都圏病院IT監査株式会社（デモ）", &[2]),
    ("関東ネットワーク診断株式会社（デモ）", &[2, 3]),
    ("北陸メディカルITサービス株式会社（デモ）", &[3]),
    ("東海情報保全株式会社（デモ）", &[3, 4]),
    ("近畿医療システム診断株式会社（デモ）", &[4]),
    ("瀬戸内セキュリティサービス株式会社（デモ）", &[5, 6]),
    ("四国ネットワーク監査合同会社（デモ）", &[6]),
    ("九州セキュアネット株式会社（デモ）", &[7]),
    ("南国情報セキュリティ株式会社（デモ）", &[7]),
    (
        "全国医療サイバー調査株式会社（デモ）",
        &[0, 1, 2, 3, 4, 5, 6, 7],
    ),
];

/// How many synthetic companies a run adds (each with one surveyor).
pub const SCALE_COMPANY_COUNT: usize = COMPANIES.len();

/// The names of the demo programme's own hospitals (not synthetic).
pub fn demo_hospital_names() -> Vec<&'static str> {
    super::ORGANISATIONS
        .iter()
        .filter(|o| o.kind == OrgKind::Hospital)
        .map(|o| o.name)
        .collect()
}

/// The demo's own companies join in their home regions.
const DEMO_COMPANY_REGIONS: &[(&str, usize)] = &[
    (names::COMPANY_A, 5),
    (names::COMPANY_B, 4),
    (names::COMPANY_C, 7),
];

/// What to generate.
#[derive(Debug, Clone)]
pub struct ScaleOptions {
    pub hospitals: usize,
    pub seed: u64,
}

/// What a run wrote.
#[derive(Debug, Clone)]
pub struct ScaleSummary {
    pub hospitals: usize,
    pub companies: usize,
    pub programmes: Vec<String>,
    pub states: BTreeMap<EngagementState, usize>,
    pub prefectures: usize,
    pub ledgers: usize,
    pub smallest_ledger: usize,
    pub largest_ledger: usize,
    pub counts: BulkCounts,
    /// Rows per table after the run.
    pub tables: Vec<(&'static str, i64)>,
    pub elapsed: std::time::Duration,
}

/// What `seed_scale` found or did.
#[derive(Debug, Clone)]
pub enum ScaleOutcome {
    Done(ScaleSummary),
    /// Nothing was changed, for the reason given.
    Refused(String),
}

/// SplitMix64: small, fast and the same everywhere, so a seed gives the
/// same dataset on every machine and with every version of `rand`.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x6d61_6d6f_7269_0001)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + (self.next() % ((hi - lo) as u64 + 1)) as i64
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }

    /// An index drawn by weight.
    fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|w| u64::from(*w)).sum();
        let mut draw = self.next() % total.max(1);
        for (i, w) in weights.iter().enumerate() {
            if draw < u64::from(*w) {
                return i;
            }
            draw -= u64::from(*w);
        }
        weights.len() - 1
    }
}

const PLACES: &[&str] = &[
    "さくら台",
    "みなと",
    "青葉",
    "若葉",
    "ひばりが丘",
    "朝日",
    "大川",
    "緑町",
    "新町",
    "本町",
    "川口",
    "高原",
    "桜川",
    "松原",
    "竹園",
    "梅ヶ丘",
    "白鳥",
    "鶴見",
    "亀山",
    "日向",
    "月見",
    "星野",
    "海辺",
    "湖南",
    "清水",
    "春日",
    "広瀬",
    "富士見",
    "城南",
    "城北",
    "泉",
    "柳川",
    "浜田",
    "旭ヶ丘",
    "花園",
    "緑ヶ丘",
    "光が丘",
    "山の手",
    "中島",
    "北浜",
    "南台",
    "西原",
    "東山",
    "杉並",
    "栗原",
    "藤沢",
    "石田",
    "野々宮",
    "千草",
    "かえで台",
    "つばめ野",
    "しらかば",
];

const KINDS: &[&str] = &[
    "病院",
    "記念病院",
    "中央病院",
    "総合病院",
    "協同病院",
    "第一病院",
    "リハビリテーション病院",
    "脳神経外科病院",
    "循環器病院",
    "整形外科病院",
    "ホスピタル",
    "医療センター",
];

const SURNAMES: &[&str] = &[
    "佐藤",
    "鈴木",
    "高橋",
    "田中",
    "伊藤",
    "渡辺",
    "山本",
    "中村",
    "小林",
    "加藤",
    "吉田",
    "山田",
    "佐々木",
    "山口",
    "松本",
    "井上",
    "木村",
    "林",
    "斎藤",
    "清水",
];
const GIVEN: &[&str] = &[
    "修", "明美", "浩", "直子", "剛", "亮", "友美", "健一", "由美", "誠", "恵子", "大輔", "玲奈",
    "聡", "美咲",
];
const CONTACTS: &[(&str, &str)] = &[
    ("医療情報部", "部長"),
    ("事務部", "課長"),
    ("情報システム課", "係長"),
    ("経営企画室", "室長"),
    ("医事課", "課長"),
];

fn person(rng: &mut Rng) -> String {
    format!("{} {}", rng.pick(SURNAMES), rng.pick(GIVEN))
}

/// Beds: about 35 % 20–99, 32 % 100–199, 13 % 200–299, 13 % 300–499 and
/// 7 % 500 or more (医療施設調査, approximate).
fn beds(rng: &mut Rng) -> u32 {
    let (lo, hi) = match rng.weighted(&[35, 32, 13, 13, 7]) {
        0 => (20, 99),
        1 => (100, 199),
        2 => (200, 299),
        3 => (300, 499),
        _ => {
            // Fewer of the very large ones.
            if rng.chance(75) {
                (500, 799)
            } else {
                (800, 1_200)
            }
        }
    };
    rng.range(lo, hi) as u32
}

fn founder(rng: &mut Rng, beds: u32) -> FounderType {
    use FounderType::*;
    let (types, weights): (&[FounderType], &[u32]) = if beds >= 500 {
        (
            &[National, Public, SocialInsurance, MedicalCorporation, Other],
            &[20, 35, 15, 10, 20],
        )
    } else {
        (
            &[
                National,
                Public,
                SocialInsurance,
                MedicalCorporation,
                Individual,
                Other,
            ],
            &[3, 12, 5, 65, 3, 12],
        )
    };
    types[rng.weighted(weights)]
}

fn hospital_name(rng: &mut Rng, founder: FounderType, taken: &mut HashSet<String>) -> String {
    let place = *rng.pick(PLACES);
    let base = match founder {
        FounderType::National => format!("国立{place}医療センター"),
        FounderType::Public => match rng.next() % 3 {
            0 => format!("{place}市立病院"),
            1 => format!("{place}町立病院"),
            _ => format!("県立{place}病院"),
        },
        FounderType::SocialInsurance => format!("{place}社会保険病院"),
        _ => format!("{place}{}", rng.pick(KINDS)),
    };
    let mut name = format!("{base}（デモ）");
    let mut n = 2;
    while !taken.insert(name.clone()) {
        name = format!("{base} 第{n}（デモ）");
        n += 1;
    }
    name
}

/// One synthetic hospital and where its engagement stands.
struct Plan {
    name: String,
    attributes: HospitalAttributes,
    programme: usize,
    company: usize,
    state: EngagementState,
    /// Surveying hospitals whose walk-through has been done have a ledger.
    walked: bool,
    seed: u64,
}

/// A survey company hospitals are given to.
struct Company {
    id: OrgId,
    name: String,
    /// Its surveyor's account, who books the hours.
    surveyor: Option<AccountId>,
    /// The regions (see [`region`]) it works in.
    regions: Vec<usize>,
}

/// The programmes hospitals are spread over.
struct Prog {
    id: ProgrammeId,
    name: String,
    /// Past fiscal years are closed: their engagements are done.
    closed: bool,
    /// The season: from this day to `until`.
    from: Date,
    until: Date,
}

/// States of the current programmes, by weight (every one present).
const CURRENT_STATES: &[(EngagementState, u32)] = &[
    (EngagementState::Candidate, 8),
    (EngagementState::IntentConfirmed, 7),
    (EngagementState::PledgeIssued, 7),
    (EngagementState::Contracted, 8),
    (EngagementState::Scheduling, 9),
    (EngagementState::Surveying, 14),
    (EngagementState::InterimReview, 10),
    (EngagementState::Reporting, 9),
    (EngagementState::Submitted, 6),
    (EngagementState::Accepted, 5),
    (EngagementState::Reported, 6),
    (EngagementState::Declined, 6),
    (EngagementState::Withdrawn, 5),
];

/// States of the closed programmes.
const CLOSED_STATES: &[(EngagementState, u32)] = &[
    (EngagementState::Reported, 85),
    (EngagementState::Accepted, 3),
    (EngagementState::Declined, 7),
    (EngagementState::Withdrawn, 5),
];

fn draw_state(rng: &mut Rng, table: &[(EngagementState, u32)]) -> EngagementState {
    let weights: Vec<u32> = table.iter().map(|(_, w)| *w).collect();
    table[rng.weighted(&weights)].0
}

/// The steps from candidate to `target`, as `walk_to` takes them.
fn path_to(target: EngagementState) -> Vec<EngagementState> {
    if target.is_closed_early() {
        return vec![EngagementState::IntentConfirmed, target];
    }
    EngagementState::ALL
        .iter()
        .copied()
        .filter(|s| s.rank().is_some_and(|r| r > 0) && target.has_reached(*s))
        .collect()
}

fn fiscal_year(today: Date) -> i32 {
    super::demo_fiscal_year(today)
}

fn date(year: i32, month: Month, day: u8) -> Date {
    Date::from_calendar_date(year, month, day).unwrap_or(Date::MIN)
}

/// Seeds the demo if the database is empty, then adds `options.hospitals`
/// synthetic hospitals. Refuses, changing nothing, when an earlier run's
/// data is there or the database holds data other than the demo.
pub async fn seed_scale(store: &Store, options: &ScaleOptions) -> Result<ScaleOutcome, StoreError> {
    let started = Instant::now();
    let marker = COMPANIES[0].0;
    match store.find_organisation(marker).await {
        Ok(_) => {
            return Ok(ScaleOutcome::Refused(format!(
                "このデータベースには `demo --scale` の合成データが既にあります（{marker}）。空のデータベースで実行してください \
                 / this database already holds synthetic data from an earlier `demo --scale` run ({marker} exists); run it on an empty database"
            )));
        }
        Err(StoreError::NotFound { .. }) => {}
        Err(e) => return Err(e),
    }
    if let DemoOutcome::NotEmpty = seed_demo_if_empty(store).await? {
        return Ok(ScaleOutcome::Refused(
            "このデータベースにはデモ以外のデータがあります。空のデータベースで実行してください \
             / this database holds data other than the demo; `demo --scale` adds to the demo only, run it on an empty database"
                .into(),
        ));
    }
    let operator = AuditContext::operator("demo:scale");
    let today = store.today();
    let fy = fiscal_year(today);
    let mut rng = Rng::new(options.seed);

    // Programmes: the demo's, and three fiscal years of a national one.
    let framework = store
        .frameworks(&operator)
        .await?
        .into_iter()
        .filter(|f| f.key == DEMO_FRAMEWORK)
        .max_by_key(|f| f.version)
        .ok_or_else(|| StoreError::NotFound {
            what: "checklist framework",
            key: DEMO_FRAMEWORK.into(),
        })?;
    let demo_programme = store
        .programmes(&operator)
        .await?
        .into_iter()
        .find(|p| p.name == names::PROGRAMME)
        .ok_or_else(|| StoreError::NotFound {
            what: "programme",
            key: names::PROGRAMME.into(),
        })?;
    let season_start = today - Duration::days(110);
    let mut programmes = Vec::new();
    for year in [fy - 2, fy - 1, fy] {
        let name = format!(
            "令和{}年度 医療機関サイバーセキュリティ実態調査 全国版（デモ）",
            year - 2018
        );
        let p = store
            .create_programme(
                &operator,
                &ProgrammeFields {
                    name: name.clone(),
                    fiscal_year: year,
                    research_lead: "研究代表者 岡本 健一（デモ）".into(),
                    labour_cap_yen: None,
                    honorarium_rate_yen: None,
                    checklist_versions: vec!["令和6年度版 医療機関確認用".into()],
                    notes: "`mamori demo --scale` の合成データ（負荷試験用）。".into(),
                },
            )
            .await?;
        store
            .set_programme_framework(&operator, p.id, framework.id)
            .await?;
        let closed = year < fy;
        programmes.push(Prog {
            id: p.id,
            name,
            closed,
            from: if closed {
                date(year, Month::October, 1)
            } else {
                season_start
            },
            until: if closed {
                date(year + 1, Month::March, 20)
            } else {
                today
            },
        });
    }
    programmes.push(Prog {
        id: demo_programme.id,
        name: demo_programme.name.clone(),
        closed: false,
        from: season_start,
        until: today,
    });
    let programme_weights = [20, 30, 40, 10];

    // Companies: the demo's three and the synthetic ones, each with a
    // surveyor account (the demo password) for benchmarks.
    let mut companies: Vec<Company> = Vec::new();
    for (name, region) in DEMO_COMPANY_REGIONS {
        let org = store.find_organisation(name).await?;
        let surveyor = match *name {
            names::COMPANY_A => Some(emails::SURVEYOR_A),
            names::COMPANY_B => Some(emails::SURVEYOR_B),
            _ => None,
        };
        let account = match surveyor {
            Some(email) => Some(store.account_by_email(email).await?.id),
            None => None,
        };
        companies.push(Company {
            id: org.id,
            name: org.name,
            surveyor: account,
            regions: vec![*region],
        });
    }
    let synthetic: Vec<NewOrganisation> = COMPANIES
        .iter()
        .map(|(name, _)| NewOrganisation {
            kind: OrgKind::SurveyCompany,
            name: (*name).to_string(),
            hospital: None,
        })
        .collect();
    let ids = store
        .bulk_create_organisations(&operator, &synthetic, "demo-scale companies")
        .await?;
    for (n, (id, (name, regions))) in ids.iter().zip(COMPANIES).enumerate() {
        let account = store
            .create_account(
                &operator,
                NewAccount {
                    org: *id,
                    email: format!("surveyor-s{:02}@demo.mamori.example", n + 1),
                    display_name: format!("調査員 S{:02}（デモ）", n + 1),
                    role: Role::Member,
                    language: Language::Japanese,
                    password: DEMO_PASSWORD.to_string(),
                },
            )
            .await?;
        companies.push(Company {
            id: *id,
            name: (*name).to_string(),
            surveyor: Some(account.id),
            regions: regions.to_vec(),
        });
    }
    for p in &programmes {
        for (n, company) in companies.iter().enumerate() {
            // The demo's companies are in the demo programme already.
            if p.id == demo_programme.id && n < DEMO_COMPANY_REGIONS.len() {
                continue;
            }
            store
                .enrol_company(&operator, p.id, company.id, p.from.min(today))
                .await?;
        }
    }
    let supervisor = store.account_by_email(emails::SUPERVISOR).await?.id;

    // Hospitals: where, how large, who, in which programme and state.
    let mut taken: HashSet<String> = store
        .all_organisations()
        .await?
        .into_iter()
        .map(|o| o.name)
        .collect();
    let mut plans = Vec::with_capacity(options.hospitals);
    for n in 0..options.hospitals {
        let prefecture = (rng.weighted(&PREFECTURE_HOSPITALS) + 1) as u8;
        let bed_count = beds(&mut rng);
        let founder_type = founder(&mut rng, bed_count);
        let route = *rng.pick(RecruitmentRoute::ALL);
        let name = hospital_name(&mut rng, founder_type, &mut taken);
        // The first hospitals take every state of the current programme in
        // turn, so that even a small run shows the whole lifecycle.
        let (programme, state) = if let Some((state, _)) = CURRENT_STATES.get(n) {
            (2, *state)
        } else {
            let p = rng.weighted(&programme_weights);
            let table = if programmes[p].closed {
                CLOSED_STATES
            } else {
                CURRENT_STATES
            };
            (p, draw_state(&mut rng, table))
        };
        let serving: Vec<usize> = (0..companies.len())
            .filter(|c| companies[*c].regions.contains(&region(prefecture)))
            .collect();
        let company = *rng.pick(&serving);
        plans.push(Plan {
            name,
            attributes: HospitalAttributes::new(
                Prefecture::from_code(prefecture)?,
                bed_count,
                founder_type,
                route,
            )?,
            programme,
            company,
            state,
            walked: rng.chance(50),
            seed: rng.next(),
        });
    }

    let bar = progress_bar(options.hospitals as u64);
    let mut counts = BulkCounts::default();
    let mut summary = ScaleSummary {
        hospitals: options.hospitals,
        companies: COMPANIES.len(),
        programmes: programmes.iter().map(|p| p.name.clone()).collect(),
        states: BTreeMap::new(),
        prefectures: 0,
        ledgers: 0,
        smallest_ledger: usize::MAX,
        largest_ledger: 0,
        counts: BulkCounts::default(),
        tables: Vec::new(),
        elapsed: std::time::Duration::ZERO,
    };
    let mut prefectures = HashSet::new();
    let hospital_form = framework
        .framework
        .form("hospital")
        .cloned()
        .ok_or_else(|| StoreError::NotFound {
            what: "checklist form",
            key: "hospital".into(),
        })?;
    let mut last_said = 0;
    for (batch_no, batch) in plans.chunks(BATCH).enumerate() {
        let label = format!("demo-scale batch {}", batch_no + 1);
        bar.set_message("病院 / hospitals");
        let orgs: Vec<NewOrganisation> = batch
            .iter()
            .map(|p| NewOrganisation {
                kind: OrgKind::Hospital,
                name: p.name.clone(),
                hospital: Some(p.attributes.clone()),
            })
            .collect();
        let hospital_ids = store
            .bulk_create_organisations(&operator, &orgs, &label)
            .await?;
        bar.set_message("調査 / engagements");
        let mut engagements = Vec::with_capacity(batch.len());
        for (p, hospital) in batch.iter().zip(&hospital_ids) {
            engagements.push(engagement_of(p, *hospital, &programmes, &companies));
            *summary.states.entry(p.state).or_default() += 1;
            prefectures.insert(p.attributes.prefecture);
        }
        let (engagement_ids, c) = store
            .bulk_create_engagements(&operator, &engagements, &label)
            .await?;
        counts.merge(&c);
        bar.set_message("台帳 / ledgers");
        let mut ledgers = Vec::new();
        for (p, hospital) in batch.iter().zip(&hospital_ids) {
            if has_ledger(p) {
                let ledger = ledger_of(p);
                summary.smallest_ledger = summary.smallest_ledger.min(ledger.assets.len());
                summary.largest_ledger = summary.largest_ledger.max(ledger.assets.len());
                ledgers.push((*hospital, ledger));
            }
        }
        summary.ledgers += ledgers.len();
        // Ledgers are the bulk of the data: a few hospitals per transaction.
        while !ledgers.is_empty() {
            let rest = ledgers.split_off(ledgers.len().min(50));
            let chunk = std::mem::replace(&mut ledgers, rest);
            counts.merge(&store.bulk_import_ledgers(&operator, chunk, &label).await?);
        }
        bar.set_message("チェックリスト / checklists");
        let mut respondents = Vec::new();
        let mut labour = Vec::new();
        for ((p, e), id) in batch.iter().zip(&engagements).zip(&engagement_ids) {
            respondents.extend(respondents_of(p, e, *id, framework.id, &hospital_form));
            if let Some(l) = labour_of(p, e, *id, companies[p.company].surveyor, supervisor, today)
            {
                labour.push(l);
            }
        }
        counts.merge(
            &store
                .bulk_add_respondents(&operator, &respondents, &label)
                .await?,
        );
        bar.set_message("工数 / labour hours");
        counts.merge(&store.bulk_record_labour(&operator, &labour, &label).await?);
        bar.inc(batch.len() as u64);
        let done = ((batch_no + 1) * BATCH).min(options.hospitals);
        if bar.is_hidden() && done * 10 / options.hospitals.max(1) > last_said {
            last_said = done * 10 / options.hospitals.max(1);
            eprintln!(
                "  {done}/{} hospitals ({:.0} s)",
                options.hospitals,
                started.elapsed().as_secs_f64()
            );
        }
    }
    bar.finish_and_clear();
    if summary.ledgers == 0 {
        summary.smallest_ledger = 0;
    }
    summary.prefectures = prefectures.len();
    summary.counts = counts;
    summary.tables = store.bulk_table_counts().await?;
    summary.elapsed = started.elapsed();
    Ok(ScaleOutcome::Done(summary))
}

fn progress_bar(total: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{bar:30}] {pos}/{len} {per_sec} ETA {eta} {wide_msg}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// The engagement of a planned hospital: its steps spread over the
/// programme's season, a step every few days, the last today at the latest.
fn engagement_of(
    p: &Plan,
    hospital: OrgId,
    programmes: &[Prog],
    companies: &[Company],
) -> BulkEngagement {
    let mut rng = Rng::new(p.seed);
    let prog = &programmes[p.programme];
    let company = &companies[p.company];
    let steps = path_to(p.state);
    let season = (prog.until - prog.from)
        .whole_days()
        .max(steps.len() as i64 + 2);
    // Closed programmes ran their whole season; current ones are as far
    // along as their state says, so they started within the season.
    let added_on = prog.from + Duration::days(rng.range(0, season / 6));
    let span = (prog.until - added_on).whole_days().max(1);
    let mut dated = Vec::with_capacity(steps.len());
    let mut last = added_on;
    let k = steps.len() as i64;
    for (i, step) in steps.iter().enumerate() {
        let ideal = added_on + Duration::days(span * (i as i64 + 1) / (k + 1));
        let jitter = Duration::days(rng.range(0, (span / (k + 1) / 3).max(0)));
        let on = (ideal - jitter).max(last).min(prog.until);
        dated.push((*step, on));
        last = on;
    }
    let hours = 150 + i64::from(p.attributes.bed_count.min(1_000)) / 8;
    let (department, title) = *rng.pick(CONTACTS);
    BulkEngagement {
        programme: prog.id,
        hospital,
        company: company.id,
        details: CandidateDetails {
            source: Some(p.attributes.recruitment_route),
            source_detail: "全国展開の意向調査（デモ）".into(),
            director_name: format!("院長 {}", person(&mut rng)),
            contact_department: department.into(),
            contact_title: title.into(),
            contact_name: person(&mut rng),
            contact_email: format!(
                "contact-{}@hospital.demo.mamori.example",
                p.seed % 1_000_000_007
            ),
            proposed_company: company.name.clone(),
        },
        added_on,
        steps: dated,
        estimate: EstimateFigures {
            labour_hours: hours as f64,
            labour_cost_yen: hours * 10_000,
            trips: rng.range(2, 4),
            travel_yen: rng.range(20, 120) * 1_000,
            consumables_yen: rng.range(5, 20) * 1_000,
        },
    }
}

fn has_ledger(p: &Plan) -> bool {
    let reached = |s| !p.state.is_closed_early() && p.state.has_reached(s);
    reached(EngagementState::InterimReview) || (p.state == EngagementState::Surveying && p.walked)
}

/// The day the engagement took `state`.
fn entered(e: &BulkEngagement, state: EngagementState) -> Option<Date> {
    e.steps.iter().find(|(s, _)| *s == state).map(|(_, d)| *d)
}

/// The three respondents of the hospital form (director, administrator,
/// a user) for hospitals that have been contacted: answered before the
/// first visit, submitted once the survey is under way.
fn respondents_of(
    p: &Plan,
    e: &BulkEngagement,
    engagement: EngagementId,
    framework_id: i64,
    form: &Form,
) -> Vec<BulkRespondent> {
    let Some(contacted) = entered(e, EngagementState::Scheduling) else {
        return Vec::new();
    };
    if p.state.is_closed_early() {
        return Vec::new();
    }
    let answered_by = entered(e, EngagementState::Surveying);
    let until = answered_by.unwrap_or(e.steps.last().map_or(contacted, |s| s.1));
    let mut rng = Rng::new(p.seed ^ 0xc4ec);
    let mut out = Vec::new();
    for (role, title) in [
        (RespondentRole::Director, "院長"),
        (RespondentRole::Administrator, "システム管理者"),
        (RespondentRole::User, "看護師長"),
    ] {
        let on = contacted + Duration::days(rng.range(0, (until - contacted).whole_days()));
        let submitted = answered_by.is_some();
        // Before the survey, some have stopped half-way.
        let stop_after = if submitted || rng.chance(40) {
            usize::MAX
        } else {
            rng.range(3, 20) as usize
        };
        let no_rate = rng.range(5, 35) as u64;
        let mut answers = BTreeMap::new();
        for (n, (item, cell)) in form.cells().enumerate() {
            if n >= stop_after {
                break;
            }
            let unclear = !item.gate && rng.chance(4);
            let value = if item.gate {
                AnswerValue::Yes
            } else if unclear {
                AnswerValue::Unknown
            } else if rng.chance(no_rate) {
                AnswerValue::No
            } else if rng.chance(3) {
                AnswerValue::NotApplicable
            } else {
                AnswerValue::Yes
            };
            answers.insert(
                CellKey::new(item.number.clone(), cell.scope),
                Answer {
                    value,
                    checked_on: Some(on),
                    target_on: (value == AnswerValue::No).then(|| fiscal_year_end(on)),
                    not_understood: if unclear {
                        "用語の意味がわからない（デモ）。".into()
                    } else {
                        String::new()
                    },
                },
            );
        }
        out.push(BulkRespondent {
            engagement,
            framework_id,
            form_key: form.key.clone(),
            role,
            name: format!("{title} {}", person(&mut rng)),
            added_on: contacted,
            submitted_on: submitted.then_some(on),
            answers,
        });
    }
    out
}

fn fiscal_year_end(on: Date) -> Date {
    let year = if u8::from(on.month()) >= 4 {
        on.year() + 1
    } else {
        on.year()
    };
    date(year, Month::March, 31)
}

/// Rows of the labour-hour sheet the hours go to, in turn.
const LABOUR_ROWS: [u8; 10] = [1, 3, 5, 2, 4, 7, 9, 11, 12, 17];

/// Hours booked twice a week by two people from the contract until the
/// report went in (or today), every finished week reported and most of
/// them acknowledged; one engagement in eight has forgotten a week.
fn labour_of(
    p: &Plan,
    e: &BulkEngagement,
    engagement: EngagementId,
    booked_by: Option<AccountId>,
    supervisor: AccountId,
    today: Date,
) -> Option<BulkLabour> {
    if p.state.is_closed_early() {
        return None;
    }
    let from = entered(e, EngagementState::Contracted)?;
    let until = entered(e, EngagementState::Submitted).unwrap_or(today);
    let mut rng = Rng::new(p.seed ^ 0x1ab0);
    let people = [person(&mut rng), person(&mut rng)];
    let mut entries = Vec::new();
    let mut day = from;
    let mut n = 0usize;
    while day < until {
        let weekday = day.weekday().number_days_from_monday();
        if weekday == 1 || weekday == 3 {
            for who in &people {
                if rng.chance(85) {
                    entries.push(LabourEntry {
                        row: LABOUR_ROWS[n % LABOUR_ROWS.len()],
                        person: who.clone(),
                        worked_on: day,
                        hours: Hours::from_hundredths(rng.range(8, 32) * 25),
                        note: String::new(),
                    });
                    n += 1;
                }
            }
        }
        day += Duration::days(1);
    }
    if entries.is_empty() {
        return None;
    }
    let mut weeks: Vec<Date> = entries.iter().map(|e| week_of(e.worked_on)).collect();
    weeks.dedup();
    weeks.retain(|w| *w < week_of(until.min(today)));
    let forgotten = (rng.chance(12) && weeks.len() > 2).then(|| weeks[weeks.len() - 2]);
    let pending = rng.range(0, 2) as usize;
    let reported: Vec<(Date, WeekState)> = weeks
        .iter()
        .enumerate()
        .filter(|(_, w)| Some(**w) != forgotten)
        .map(|(i, w)| {
            let state =
                if i + pending >= weeks.len() && !p.state.has_reached(EngagementState::Submitted) {
                    WeekState::Submitted
                } else {
                    WeekState::Acknowledged
                };
            (*w, state)
        })
        .collect();
    Some(BulkLabour {
        engagement,
        booked_by,
        reviewed_by: Some(supervisor),
        entries,
        weeks: reported,
    })
}

fn key(text: &str) -> LedgerKey {
    // Keys here are made of ASCII letters, digits and dashes.
    LedgerKey::parse(text).unwrap_or_else(|_| unreachable!("generated ledger key {text}"))
}

/// (vendor, product, versions with their CPE part after `vendor:product:`)
struct Product {
    kind: AssetKind,
    vendor: &'static str,
    product: &'static str,
    model: &'static str,
    os: &'static str,
    /// Versions, and the CPE (without version) when one is in NVD.
    versions: &'static [&'static str],
    cpe: Option<&'static str>,
}

const fn product(
    kind: AssetKind,
    vendor: &'static str,
    product: &'static str,
    model: &'static str,
    os: &'static str,
    versions: &'static [&'static str],
    cpe: Option<&'static str>,
) -> Product {
    Product {
        kind,
        vendor,
        product,
        model,
        os,
        versions,
        cpe,
    }
}

/// A system (電子カルテ, PACS, …): a group of assets, no product data.
const SYSTEM: Product = product(AssetKind::System, "", "", "", "", &["-"], None);

const FIREWALLS: &[Product] = &[
    product(
        AssetKind::Firewall,
        "Fortinet",
        "FortiGate",
        "100F",
        "FortiOS",
        &["6.4.15", "7.0.12", "7.2.8", "7.4.3"],
        Some("cpe:2.3:o:fortinet:fortios"),
    ),
    product(
        AssetKind::Firewall,
        "Palo Alto Networks",
        "PA-440",
        "PA-440",
        "PAN-OS",
        &["10.2.9", "11.0.4", "11.1.2"],
        Some("cpe:2.3:o:paloaltonetworks:pan-os"),
    ),
    product(
        AssetKind::Firewall,
        "ヤマハ",
        "UTX",
        "UTX200",
        "",
        &["1.0.5"],
        None,
    ),
];

const VPNS: &[Product] = &[
    product(
        AssetKind::VpnGateway,
        "Fortinet",
        "FortiGate",
        "60F",
        "FortiOS",
        &["6.4.12", "7.0.12", "7.2.5"],
        Some("cpe:2.3:o:fortinet:fortios"),
    ),
    product(
        AssetKind::VpnGateway,
        "Ivanti",
        "Connect Secure",
        "ISA6000",
        "",
        &["9.1", "22.4", "22.7"],
        Some("cpe:2.3:a:ivanti:connect_secure"),
    ),
    product(
        AssetKind::VpnGateway,
        "Cisco",
        "ASA",
        "ASA 5508-X",
        "ASA Software",
        &["9.8.4", "9.12.4", "9.16.4"],
        Some("cpe:2.3:a:cisco:adaptive_security_appliance_software"),
    ),
    product(
        AssetKind::VpnGateway,
        "SonicWall",
        "SMA",
        "SMA 100",
        "",
        &["10.2.1.9"],
        Some("cpe:2.3:o:sonicwall:sma_100_firmware"),
    ),
];

const ROUTERS: &[Product] = &[
    product(
        AssetKind::Router,
        "Cisco",
        "ISR",
        "1111-8P",
        "IOS XE",
        &["16.9.8", "17.3.4", "17.6.5"],
        Some("cpe:2.3:o:cisco:ios_xe"),
    ),
    product(
        AssetKind::Router,
        "ヤマハ",
        "RTX",
        "RTX1220",
        "",
        &["15.04.04"],
        Some("cpe:2.3:h:yamaha:rtx1220"),
    ),
    product(
        AssetKind::Router,
        "NEC",
        "UNIVERGE IX",
        "IX2106",
        "",
        &["10.7.18"],
        None,
    ),
];

const SWITCHES: &[Product] = &[
    product(
        AssetKind::Switch,
        "アライドテレシス",
        "CentreCOM",
        "x930-28GTX",
        "AlliedWare Plus",
        &["5.5.2"],
        None,
    ),
    product(
        AssetKind::Switch,
        "Cisco",
        "Catalyst",
        "C9300-48P",
        "IOS XE",
        &["17.3.4", "17.9.4"],
        Some("cpe:2.3:o:cisco:ios_xe"),
    ),
    product(
        AssetKind::Switch,
        "HPE",
        "Aruba",
        "2930F",
        "ArubaOS-Switch",
        &["16.10"],
        None,
    ),
];

const WIRELESS: &[Product] = &[
    product(
        AssetKind::Wireless,
        "Cisco",
        "Meraki",
        "MR46",
        "Meraki",
        &["29.7"],
        None,
    ),
    product(
        AssetKind::Wireless,
        "バッファロー",
        "AirStation Pro",
        "WAPM-AX8R",
        "",
        &["1.32"],
        None,
    ),
];

const SERVERS: &[Product] = &[
    product(
        AssetKind::Server,
        "HPE",
        "ProLiant",
        "DL380 Gen10",
        "Windows Server 2019",
        &["-"],
        Some("cpe:2.3:o:microsoft:windows_server_2019"),
    ),
    product(
        AssetKind::Server,
        "Dell",
        "PowerEdge",
        "R750",
        "Windows Server 2016",
        &["-"],
        Some("cpe:2.3:o:microsoft:windows_server_2016"),
    ),
    product(
        AssetKind::Server,
        "NEC",
        "Express5800",
        "R120h",
        "Windows Server 2022",
        &["-"],
        Some("cpe:2.3:o:microsoft:windows_server_2022"),
    ),
    product(
        AssetKind::Server,
        "富士通",
        "PRIMERGY",
        "RX2540 M6",
        "Windows Server 2012 R2",
        &["-"],
        Some("cpe:2.3:o:microsoft:windows_server_2012"),
    ),
    product(
        AssetKind::Server,
        "Dell",
        "PowerEdge",
        "R650",
        "VMware ESXi",
        &["6.7", "7.0", "8.0"],
        Some("cpe:2.3:o:vmware:esxi"),
    ),
    product(
        AssetKind::Server,
        "HPE",
        "ProLiant",
        "DL360 Gen10",
        "Red Hat Enterprise Linux",
        &["7.9", "8.8"],
        Some("cpe:2.3:o:redhat:enterprise_linux"),
    ),
    product(
        AssetKind::Server,
        "Synology",
        "RackStation",
        "RS1221+",
        "DSM",
        &["7.1.1", "7.2"],
        Some("cpe:2.3:o:synology:diskstation_manager"),
    ),
];

const TERMINALS: &[Product] = &[
    product(
        AssetKind::Terminal,
        "NEC",
        "Mate",
        "MKM30",
        "Windows 11 Pro",
        &["23h2"],
        Some("cpe:2.3:o:microsoft:windows_11_23h2"),
    ),
    product(
        AssetKind::Terminal,
        "富士通",
        "ESPRIMO",
        "D7012",
        "Windows 10 Pro",
        &["22h2"],
        Some("cpe:2.3:o:microsoft:windows_10_22h2"),
    ),
    product(
        AssetKind::Terminal,
        "Dell",
        "OptiPlex",
        "7010",
        "Windows 11 Pro",
        &["22h2"],
        Some("cpe:2.3:o:microsoft:windows_11_22h2"),
    ),
    product(
        AssetKind::Terminal,
        "HP",
        "EliteDesk",
        "800 G6",
        "Windows 10 Pro",
        &["21h2"],
        Some("cpe:2.3:o:microsoft:windows_10_21h2"),
    ),
    product(
        AssetKind::Terminal,
        "Lenovo",
        "ThinkCentre",
        "M75q",
        "Windows 10 IoT Enterprise",
        &["1809"],
        Some("cpe:2.3:o:microsoft:windows_10_1809"),
    ),
];

const MEDICAL: &[Product] = &[
    product(
        AssetKind::MedicalDevice,
        "キヤノンメディカルシステムズ",
        "Aquilion",
        "ONE",
        "",
        &["V10.2"],
        None,
    ),
    product(
        AssetKind::MedicalDevice,
        "GEヘルスケア",
        "SIGNA",
        "Explorer 1.5T",
        "",
        &["DV26"],
        None,
    ),
    product(
        AssetKind::MedicalDevice,
        "シーメンスヘルスケア",
        "MAGNETOM",
        "Sola",
        "",
        &["XA31"],
        None,
    ),
    product(
        AssetKind::MedicalDevice,
        "富士フイルム",
        "FCR",
        "CALNEO",
        "Windows 10 IoT Enterprise",
        &["1809"],
        Some("cpe:2.3:o:microsoft:windows_10_1809"),
    ),
    product(
        AssetKind::MedicalDevice,
        "オリンパス",
        "EVIS X1",
        "CV-1500",
        "",
        &["1.3"],
        None,
    ),
    product(
        AssetKind::MedicalDevice,
        "日本光電",
        "生体情報モニタ",
        "BSM-6000",
        "",
        &["05-21"],
        None,
    ),
    product(
        AssetKind::MedicalDevice,
        "Philips",
        "Vue PACS",
        "",
        "Windows Server 2016",
        &["12.2.1.5"],
        Some("cpe:2.3:o:microsoft:windows_server_2016"),
    ),
];

/// Assets in the ledger: about 50 for 20 beds to about 2,000 for 1,000
/// beds or more, give or take 15 %.
fn ledger_size(rng: &mut Rng, beds: u32) -> usize {
    let base = 50.0 + (f64::from(beds.min(1_000)) - 20.0).max(0.0) * 1_950.0 / 980.0;
    let factor = 0.85 + (rng.range(0, 30) as f64) / 100.0;
    ((base * factor) as usize).clamp(50, 2_000)
}

struct LedgerBuilder<'a> {
    rng: &'a mut Rng,
    assets: Vec<Asset>,
    counters: HashMap<&'static str, usize>,
}

impl LedgerBuilder<'_> {
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        prefix: &'static str,
        name: &str,
        p: &Product,
        system: Option<&str>,
        segment: &str,
        location: &str,
        department: &str,
        remote: RemoteMaintenance,
    ) -> LedgerKey {
        let n = self.counters.entry(prefix).or_insert(0);
        *n += 1;
        let k = key(&format!("{prefix}-{:04}", n));
        let version = *self.rng.pick(p.versions);
        let cpes = p
            .cpe
            .map(|c| {
                let v = if version == "-" {
                    "-".to_string()
                } else {
                    version.to_lowercase()
                };
                // The OS CPEs name the build in the product; no version.
                let v = if c.contains("windows_") {
                    "-".to_string()
                } else {
                    v
                };
                vec![format!("{c}:{v}:*:*:*:*:*:*:*")]
            })
            .unwrap_or_default();
        let year = 2026 + self.rng.range(-3, 5) as i32;
        self.assets.push(Asset {
            key: k.clone(),
            kind: p.kind,
            name: name.to_string(),
            system: system.map(key),
            model_ref: None,
            vendor: p.vendor.to_string(),
            product: p.product.to_string(),
            model: p.model.to_string(),
            version: if version == "-" {
                String::new()
            } else {
                version.to_string()
            },
            os: p.os.to_string(),
            serial_number: format!("SN{:08}", self.rng.next() % 100_000_000),
            cpes,
            quantity: 1,
            location: location.to_string(),
            segment: Some(key(segment)),
            address: String::new(),
            owner: if remote == RemoteMaintenance::AlwaysOn && self.rng.chance(20) {
                Owner::Vendor
            } else {
                Owner::Hospital
            },
            managing_department: department.to_string(),
            maintenance_vendor: format!("{}（保守）", p.vendor),
            remote_maintenance: remote,
            remote_method: match remote {
                RemoteMaintenance::None => String::new(),
                _ => "保守用VPN経由".to_string(),
            },
            end_of_support: Some(date(year, Month::March, 31)),
            internet_exposed: p.kind.is_network_device().then_some(false),
            notes: String::new(),
        });
        k
    }
}

/// A hospital's ledger: segments, systems, network devices, servers,
/// medical devices and terminals, two to five external connections and a
/// backup or two.
fn ledger_of(p: &Plan) -> Ledger {
    let mut rng = Rng::new(p.seed ^ 0x1ed9e7);
    let beds = p.attributes.bed_count;
    let size = ledger_size(&mut rng, beds);
    let mut segments = vec![
        ("MED", "医療系LAN", SegmentKind::Clinical, "10.10.0.0/16"),
        (
            "ADM",
            "事務系LAN",
            SegmentKind::Administrative,
            "10.20.0.0/16",
        ),
        (
            "MNT",
            "保守用セグメント",
            SegmentKind::Maintenance,
            "192.168.100.0/24",
        ),
    ];
    if beds >= 100 {
        segments.push((
            "RAD",
            "放射線部門LAN",
            SegmentKind::Clinical,
            "10.30.0.0/24",
        ));
    }
    if beds >= 200 {
        segments.push(("DMZ", "DMZ", SegmentKind::Dmz, "172.16.0.0/24"));
    }
    if beds >= 300 {
        segments.push((
            "GST",
            "来訪者用無線",
            SegmentKind::Guest,
            "192.168.200.0/24",
        ));
    }
    let image_segment = if beds >= 100 { "RAD" } else { "MED" };
    let mut b = LedgerBuilder {
        rng: &mut rng,
        assets: Vec::with_capacity(size),
        counters: HashMap::new(),
    };
    let emr = b.add(
        "SYS",
        "電子カルテシステム",
        &SYSTEM,
        None,
        "MED",
        "サーバ室",
        "情報システム室",
        RemoteMaintenance::AlwaysOn,
    );
    let pacs = b.add(
        "SYS",
        "PACS（医用画像管理）",
        &SYSTEM,
        None,
        image_segment,
        "サーバ室",
        "放射線科",
        RemoteMaintenance::OnDemand,
    );
    let ons = b.add(
        "SYS",
        "オンライン資格確認",
        &SYSTEM,
        None,
        "ADM",
        "医事課",
        "医事課",
        RemoteMaintenance::None,
    );
    let fw = b.rng.pick(FIREWALLS);
    let fw_key = b.add(
        "FW",
        "インターネット境界ファイアウォール",
        fw,
        None,
        if beds >= 200 { "DMZ" } else { "ADM" },
        "サーバ室",
        "情報システム室",
        RemoteMaintenance::OnDemand,
    );
    let vpn = b.rng.pick(VPNS);
    let vpn_key = b.add(
        "VPN",
        "保守用VPN装置",
        vpn,
        Some(emr.as_str()),
        "MNT",
        "サーバ室",
        "情報システム室",
        RemoteMaintenance::AlwaysOn,
    );
    let router = b.rng.pick(ROUTERS);
    let rt_key = b.add(
        "RT",
        "インターネット回線ルータ",
        router,
        None,
        "ADM",
        "サーバ室",
        "情報システム室",
        RemoteMaintenance::None,
    );
    let ons_router = b.add(
        "RT",
        "オンライン資格確認用ルータ",
        &ROUTERS[2],
        Some(ons.as_str()),
        "ADM",
        "医事課",
        "医事課",
        RemoteMaintenance::None,
    );
    // The rest by share of the ledger: servers, network, medical devices,
    // terminals.
    let remaining = size.saturating_sub(b.assets.len());
    let servers = (remaining / 20).max(2);
    let switches = (remaining / 40).max(1);
    let wireless = remaining / 30;
    let medical = (remaining / 8).max(2);
    for n in 0..servers {
        let p = b.rng.pick(SERVERS);
        let (name, sys, seg) = match n % 3 {
            0 => ("電子カルテサーバ", emr.as_str(), "MED"),
            1 => ("PACSサーバ", pacs.as_str(), image_segment),
            _ => ("部門システムサーバ", emr.as_str(), "MED"),
        };
        b.add(
            "SV",
            name,
            p,
            Some(sys),
            seg,
            "サーバ室",
            "情報システム室",
            RemoteMaintenance::OnDemand,
        );
    }
    for n in 0..switches {
        let p = b.rng.pick(SWITCHES);
        let seg = if n % 2 == 0 { "MED" } else { "ADM" };
        b.add(
            "SW",
            if n == 0 {
                "コアスイッチ"
            } else {
                "フロアスイッチ"
            },
            p,
            None,
            seg,
            "各階EPS",
            "情報システム室",
            RemoteMaintenance::None,
        );
    }
    for _ in 0..wireless {
        let p = b.rng.pick(WIRELESS);
        b.add(
            "WL",
            "病棟無線LANアクセスポイント",
            p,
            None,
            "MED",
            "各病棟",
            "情報システム室",
            RemoteMaintenance::None,
        );
    }
    for _ in 0..medical {
        let p = b.rng.pick(MEDICAL);
        let remote = if b.rng.chance(40) {
            RemoteMaintenance::AlwaysOn
        } else {
            RemoteMaintenance::OnDemand
        };
        b.add(
            "MD",
            p.product,
            p,
            Some(pacs.as_str()),
            image_segment,
            "検査部門",
            "放射線科",
            remote,
        );
    }
    let mut floor = 0;
    while b.assets.len() < size {
        floor += 1;
        let p = b.rng.pick(TERMINALS);
        let clinical = floor % 4 != 0;
        b.add(
            "PC",
            if clinical {
                "電子カルテ端末"
            } else {
                "事務系端末"
            },
            p,
            clinical.then_some(emr.as_str()),
            if clinical { "MED" } else { "ADM" },
            "病棟・外来",
            if clinical { "看護部" } else { "総務課" },
            RemoteMaintenance::None,
        );
    }
    let assets = std::mem::take(&mut b.assets);
    let mut connections = vec![
        connection(
            "EX-01",
            ConnectionCategory::NetworkMaintenance,
            "電子カルテベンダー 保守センター（デモ）",
            ConnectionMethod::InternetVpn,
            &vpn_key,
            Availability::AlwaysOn,
            Some(true),
        ),
        connection(
            "EX-02",
            ConnectionCategory::MyNumberCard,
            "オンライン資格確認等システム",
            ConnectionMethod::IpVpn,
            &ons_router,
            Availability::AlwaysOn,
            Some(true),
        ),
    ];
    if rng.chance(60) {
        connections.push(connection(
            "EX-03",
            ConnectionCategory::ModalityMaintenance,
            "検査機器メーカー リモートサービス（デモ）",
            ConnectionMethod::ClosedNetwork,
            &rt_key,
            Availability::AlwaysOn,
            Some(!rng.chance(30)),
        ));
    }
    if rng.chance(40) {
        connections.push(connection(
            "EX-04",
            ConnectionCategory::RegionalNetwork,
            "地域医療連携ネットワーク（デモ）",
            ConnectionMethod::InternetVpn,
            &fw_key,
            Availability::OnDemand,
            Some(true),
        ));
    }
    if beds >= 100 && rng.chance(30) {
        connections.push(connection(
            "EX-05",
            ConnectionCategory::RemoteReading,
            "遠隔画像診断センター（デモ）",
            ConnectionMethod::IpVpn,
            &fw_key,
            Availability::AlwaysOn,
            Some(true),
        ));
    }
    let offline = rng.chance(40);
    let backups = vec![Backup {
        key: key("B-01"),
        system: emr.clone(),
        data_covered: "電子カルテDB".into(),
        method: "フルバックアップ".into(),
        frequency: "毎日".into(),
        generations: Some(rng.range(2, 14) as u32),
        media: if offline {
            "LTOテープ".into()
        } else {
            "NAS".into()
        },
        location: "サーバ室".into(),
        offline_copy: Some(offline),
        immutable_copy: Some(rng.chance(15)),
        encrypted: Some(rng.chance(50)),
        last_restore_test: None,
        restore_test_result: String::new(),
        rpo_hours: Some(24),
        rto_hours: Some(rng.range(24, 168) as u32),
        notes: String::new(),
    }];
    Ledger {
        assets,
        segments: segments
            .into_iter()
            .map(|(k, name, kind, range)| Segment {
                key: key(k),
                name: name.into(),
                kind,
                address_range: range.into(),
                gateway: None,
                notes: String::new(),
            })
            .collect(),
        connections,
        backups,
        ..Ledger::default()
    }
}

fn connection(
    k: &str,
    category: ConnectionCategory,
    counterpart: &str,
    method: ConnectionMethod,
    boundary: &LedgerKey,
    availability: Availability,
    known: Option<bool>,
) -> ExternalConnection {
    ExternalConnection {
        key: key(k),
        category,
        counterpart: counterpart.into(),
        purpose: String::new(),
        method,
        method_detail: String::new(),
        boundary_device: Some(boundary.clone()),
        availability,
        session_approver: String::new(),
        logged: None,
        known_to_administrator: known,
        notes: String::new(),
    }
}
