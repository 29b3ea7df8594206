//! What the programme tells the ministry (seed 資料1 §2②, §3.6⑤): each
//! surveyed hospital reduced to a few facts, then tables across hospitals —
//! checklist answer rates by bed-size class and by region, external
//! connections per category, backup practice, ledger facts, labour hours
//! against plan and vulnerability response times. Tables leave here raw;
//! [`crate::statistics::protect`] decides what of them may be shown.

use crate::checklist::AnswerValue;
use crate::ledger::{ConnectionCategory, labelled_enum};
use crate::statistics::{Contribution, Measure, RawTable};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

labelled_enum!(
    /// 病床規模: the classes the ministry's hospital surveys use.
    BedClass, "bed_class" {
        Under100 => ("under-100", "99床以下", "up to 99 beds"),
        From100 => ("100-199", "100〜199床", "100–199 beds"),
        From200 => ("200-399", "200〜399床", "200–399 beds"),
        From400 => ("400-plus", "400床以上", "400 beds or more"),
    }
);

impl BedClass {
    pub fn of(beds: u32) -> BedClass {
        match beds {
            0..=99 => BedClass::Under100,
            100..=199 => BedClass::From100,
            200..=399 => BedClass::From200,
            _ => BedClass::From400,
        }
    }
}

labelled_enum!(
    /// 地方区分: eight regions, coarse enough that a region is never one hospital.
    Region, "region" {
        Hokkaido => ("hokkaido", "北海道", "Hokkaido"),
        Tohoku => ("tohoku", "東北", "Tohoku"),
        Kanto => ("kanto", "関東", "Kanto"),
        Chubu => ("chubu", "中部", "Chubu"),
        Kinki => ("kinki", "近畿", "Kinki"),
        Chugoku => ("chugoku", "中国", "Chugoku"),
        Shikoku => ("shikoku", "四国", "Shikoku"),
        Kyushu => ("kyushu-okinawa", "九州・沖縄", "Kyushu and Okinawa"),
    }
);

impl Region {
    /// The region of a prefecture code (JIS X 0401).
    pub fn of(prefecture: u8) -> Region {
        match prefecture {
            1 => Region::Hokkaido,
            2..=7 => Region::Tohoku,
            8..=14 => Region::Kanto,
            15..=23 => Region::Chubu,
            24..=30 => Region::Kinki,
            31..=35 => Region::Chugoku,
            36..=39 => Region::Shikoku,
            _ => Region::Kyushu,
        }
    }
}

labelled_enum!(
    /// Who a statistics release is for.
    ReleaseAudience, "audience" {
        Ministry => ("ministry", "厚生労働省", "the ministry"),
        Public => ("public", "一般公開", "the public"),
    }
);

labelled_enum!(
    /// Where a statistics release stands: drafted by one member of the
    /// secretariat, published (frozen) once a second one approves it.
    ReleaseState, "state" {
        Draft => ("draft", "下書き（承認待ち）", "draft (awaiting approval)"),
        Published => ("published", "公開済み", "published"),
        Discarded => ("discarded", "破棄", "discarded"),
    }
);

/// Checks that `approver` may publish a release `drafter` drafted: only a
/// draft, and never by the person who drafted it (the four-eyes rule).
pub fn check_publication(
    state: ReleaseState,
    drafter: crate::AccountId,
    approver: crate::AccountId,
) -> Result<(), crate::DomainError> {
    if state != ReleaseState::Draft {
        return Err(crate::DomainError::invalid(
            "state",
            format!(
                "{} の統計は公開できません / a {} release cannot be published",
                state.ja(),
                state.en()
            ),
        ));
    }
    if drafter == approver {
        return Err(crate::DomainError::invalid(
            "approver",
            "作成者とは別の人が承認してください / a second person must approve the release",
        ));
    }
    Ok(())
}

/// One checklist item as a hospital answered it (its confirmed answer
/// where the surveyor confirmed one).
#[derive(Debug, Clone, PartialEq)]
pub struct ChecklistFact {
    /// `form:item`, the row key.
    pub item: String,
    pub label_ja: String,
    pub label_en: String,
    pub answer: AnswerValue,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConnectionFact {
    pub category: ConnectionCategory,
    pub known_to_administrator: Option<bool>,
    pub always_on: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackupFact {
    /// An offline or immutable copy: what survives ransomware.
    pub offline_or_immutable: bool,
    pub generations: Option<u32>,
    /// A restore tested within the last year.
    pub restore_tested: bool,
}

/// What one hospital contributes to the statistics. `hospital` is an
/// opaque number that never leaves the domain.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HospitalFacts {
    pub hospital: u64,
    pub beds: u32,
    pub prefecture: u8,
    pub checklist: Vec<ChecklistFact>,
    pub connections: Vec<ConnectionFact>,
    pub backups: Vec<BackupFact>,
    /// Assets counted by quantity.
    pub assets: u32,
    pub past_end_of_support: u32,
    pub vendor_owned: u32,
    /// Planned and actual labour hours of its engagement.
    pub labour: Option<(f64, f64)>,
    /// Days from a notice to the hospital's first step, per case.
    pub first_response_days: Vec<f64>,
    /// Days from a notice to 対応済 or 影響なし, per closed case.
    pub closing_days: Vec<f64>,
}

fn contribution(hospital: u64, value: f64) -> Contribution {
    Contribution { hospital, value }
}

fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

struct Table {
    id: &'static str,
    title_ja: &'static str,
    title_en: &'static str,
    measure: Measure,
    rows: Vec<(String, String)>,
    columns: Vec<(String, String)>,
    row_totals: bool,
    column_totals: bool,
}

impl Table {
    fn build(self, cells: Vec<Vec<Vec<Contribution>>>) -> RawTable {
        RawTable {
            id: self.id.to_string(),
            title_ja: self.title_ja.to_string(),
            title_en: self.title_en.to_string(),
            measure: self.measure,
            rows: self.rows.iter().map(|r| r.0.clone()).collect(),
            rows_en: self.rows.iter().map(|r| r.1.clone()).collect(),
            columns: self.columns.iter().map(|c| c.0.clone()).collect(),
            columns_en: self.columns.iter().map(|c| c.1.clone()).collect(),
            cells,
            totals: self.row_totals || self.column_totals,
            rows_only: self.row_totals && !self.column_totals,
        }
    }
}

fn labels<T: Copy>(
    all: &[T],
    ja: fn(T) -> &'static str,
    en: fn(T) -> &'static str,
) -> Vec<(String, String)> {
    all.iter()
        .map(|v| (ja(*v).to_string(), en(*v).to_string()))
        .collect()
}

/// The checklist items answered by any hospital, in order, with labels.
fn checklist_items(facts: &[HospitalFacts]) -> Vec<(String, String, String)> {
    let mut items: BTreeMap<&str, (&str, &str)> = BTreeMap::new();
    for f in facts.iter().flat_map(|h| &h.checklist) {
        items
            .entry(f.item.as_str())
            .or_insert((f.label_ja.as_str(), f.label_en.as_str()));
    }
    items
        .into_iter()
        .map(|(k, (ja, en))| (k.to_string(), ja.to_string(), en.to_string()))
        .collect()
}

/// 1 for はい, 0 for いいえ or わからない; 該当なし is left out.
fn answered_yes(facts: &HospitalFacts, item: &str) -> Option<f64> {
    facts
        .checklist
        .iter()
        .find(|c| c.item == item)
        .and_then(|c| match c.answer {
            AnswerValue::Yes => Some(1.0),
            AnswerValue::No | AnswerValue::Unknown => Some(0.0),
            AnswerValue::NotApplicable => None,
        })
}

fn checklist_table<K: Copy + PartialEq>(
    facts: &[HospitalFacts],
    id: &'static str,
    title: (&'static str, &'static str),
    classes: &[K],
    labels_of: Vec<(String, String)>,
    class_of: impl Fn(&HospitalFacts) -> K,
) -> RawTable {
    let items = checklist_items(facts);
    let mut forms: Vec<&str> = items
        .iter()
        .filter_map(|(item, _, _)| item.split_once(':').map(|(form, _)| form))
        .collect();
    forms.dedup();
    let several_forms = forms.len() > 1;
    let cells = items
        .iter()
        .map(|(item, _, _)| {
            classes
                .iter()
                .map(|class| {
                    facts
                        .iter()
                        .filter(|h| class_of(h) == *class)
                        .filter_map(|h| answered_yes(h, item).map(|v| contribution(h.hospital, v)))
                        .collect()
                })
                .collect()
        })
        .collect();
    Table {
        id,
        title_ja: title.0,
        title_en: title.1,
        measure: Measure::Share,
        // The item's number as printed; the form's key too when several
        // forms (executives, administrators …) share numbers.
        rows: items
            .iter()
            .map(|(item, ja, en)| {
                let shown = if several_forms {
                    item.as_str()
                } else {
                    item.split_once(':').map_or(item.as_str(), |(_, n)| n)
                };
                (format!("{shown} {ja}"), format!("{shown} {en}"))
            })
            .collect(),
        columns: labels_of,
        row_totals: true,
        column_totals: false,
    }
    .build(cells)
}

/// Every table of the statistics, raw.
pub fn build_tables(facts: &[HospitalFacts]) -> Vec<RawTable> {
    let bed_classes = labels(BedClass::ALL, BedClass::ja, BedClass::en);
    let regions = labels(Region::ALL, Region::ja, Region::en);
    let categories = labels(
        ConnectionCategory::ALL,
        ConnectionCategory::ja,
        ConnectionCategory::en,
    );
    let mut tables = Vec::new();

    // Connections per category: the count, and per hospital the share it did not know of or keeps always on.
    fn per_category(h: &HospitalFacts, c: ConnectionCategory) -> Vec<&ConnectionFact> {
        h.connections.iter().filter(|x| x.category == c).collect()
    }
    let counts = ConnectionCategory::ALL
        .iter()
        .map(|c| {
            vec![
                facts
                    .iter()
                    .filter_map(|h| {
                        let n = per_category(h, *c).len();
                        (n > 0).then(|| contribution(h.hospital, n as f64))
                    })
                    .collect(),
            ]
        })
        .collect();
    tables.push(
        Table {
            id: "connections",
            title_ja: "外部接続の数（分類別）",
            title_en: "External connections by category",
            measure: Measure::Count,
            rows: categories.clone(),
            columns: vec![("接続数".into(), "connections".into())],
            row_totals: false,
            column_totals: true,
        }
        .build(counts),
    );
    let risks = ConnectionCategory::ALL
        .iter()
        .map(|c| {
            let share = |h: &HospitalFacts, test: &dyn Fn(&ConnectionFact) -> bool| {
                let these = per_category(h, *c);
                (!these.is_empty()).then(|| {
                    contribution(
                        h.hospital,
                        these.iter().filter(|x| test(x)).count() as f64 / these.len() as f64,
                    )
                })
            };
            vec![
                facts
                    .iter()
                    .filter_map(|h| share(h, &|x| x.known_to_administrator == Some(false)))
                    .collect(),
                facts
                    .iter()
                    .filter_map(|h| share(h, &|x| x.always_on))
                    .collect(),
            ]
        })
        .collect();
    tables.push(
        Table {
            id: "connection-risks",
            title_ja: "管理者が把握していなかった接続・常時接続の割合（分類別、医療機関ごとの割合の平均）",
            title_en: "Connections the administrator did not know of, and always-on ones (by category; mean of each hospital's share)",
            measure: Measure::Share,
            rows: categories,
            columns: vec![
                ("管理者が把握していなかった".into(), "not known to the administrator".into()),
                ("常時接続".into(), "always on".into()),
            ],
            row_totals: false,
            column_totals: false,
        }
        .build(risks),
    );

    // Backup practice: hospitals with at least one backup of each kind, by bed-size class.
    type BackupTest = fn(&BackupFact) -> bool;
    let practices: [(&str, &str, BackupTest); 3] = [
        (
            "オフラインまたは改ざん不可の複製がある",
            "an offline or immutable copy",
            |b| b.offline_or_immutable,
        ),
        ("3世代以上を保管", "three generations or more", |b| {
            b.generations.is_some_and(|g| g >= 3)
        }),
        (
            "1年以内に復元を試験",
            "a restore tested within a year",
            |b| b.restore_tested,
        ),
    ];
    let backup_cells = practices
        .iter()
        .map(|(_, _, test)| {
            BedClass::ALL
                .iter()
                .map(|class| {
                    facts
                        .iter()
                        .filter(|h| !h.backups.is_empty() && BedClass::of(h.beds) == *class)
                        .map(|h| {
                            contribution(
                                h.hospital,
                                f64::from(u8::from(h.backups.iter().any(test))),
                            )
                        })
                        .collect()
                })
                .collect()
        })
        .collect();
    tables.push(
        Table {
            id: "backup-practice",
            title_ja: "バックアップの実施状況（病床規模別、該当する医療機関の割合）",
            title_en: "Backup practice (by bed-size class; share of hospitals)",
            measure: Measure::Share,
            rows: practices
                .iter()
                .map(|p| (p.0.to_string(), p.1.to_string()))
                .collect(),
            columns: bed_classes.clone(),
            row_totals: true,
            column_totals: false,
        }
        .build(backup_cells),
    );

    // Ledger facts and labour: per-hospital shares and hours, averaged.
    let with_assets: Vec<&HospitalFacts> = facts.iter().filter(|h| h.assets > 0).collect();
    let share_of = |part: fn(&HospitalFacts) -> u32| -> Vec<Contribution> {
        with_assets
            .iter()
            .map(|h| contribution(h.hospital, f64::from(part(h)) / f64::from(h.assets)))
            .collect()
    };
    tables.push(
        Table {
            id: "ledger-facts",
            title_ja: "資産管理台帳（医療機関ごとの割合の平均）",
            title_en: "Asset ledgers (mean of each hospital's share)",
            measure: Measure::Share,
            rows: vec![
                (
                    "サポート終了済みの機器".into(),
                    "devices past end of support".into(),
                ),
                ("ベンダー所有の機器".into(), "vendor-owned devices".into()),
            ],
            columns: vec![("割合".into(), "share".into())],
            row_totals: false,
            column_totals: false,
        }
        .build(vec![
            vec![share_of(|h| h.past_end_of_support)],
            vec![share_of(|h| h.vendor_owned)],
        ]),
    );
    let labour = |pick: fn((f64, f64)) -> f64| -> Vec<Contribution> {
        facts
            .iter()
            .filter_map(|h| h.labour.map(|l| contribution(h.hospital, pick(l))))
            .collect()
    };
    tables.push(
        Table {
            id: "labour",
            title_ja: "病院調査あたりの工数（時間、平均）",
            title_en: "Labour hours per hospital survey (mean)",
            measure: Measure::Mean,
            rows: vec![
                ("予定".into(), "planned".into()),
                ("実績".into(), "actual".into()),
            ],
            columns: vec![("時間".into(), "hours".into())],
            row_totals: false,
            column_totals: false,
        }
        .build(vec![vec![labour(|l| l.0)], vec![labour(|l| l.1)]]),
    );
    let days = |pick: fn(&HospitalFacts) -> &Vec<f64>| -> Vec<Contribution> {
        facts
            .iter()
            .filter_map(|h| mean(pick(h)).map(|d| contribution(h.hospital, d)))
            .collect()
    };
    tables.push(
        Table {
            id: "vulnerability-response",
            title_ja: "脆弱性通知への対応日数（医療機関ごとの平均の平均）",
            title_en: "Days to respond to vulnerability notices (mean of each hospital's mean)",
            measure: Measure::Mean,
            rows: vec![
                (
                    "通知から最初の対応まで".into(),
                    "from the notice to the first step".into(),
                ),
                (
                    "通知から完了（対応済・影響なし）まで".into(),
                    "from the notice to closing".into(),
                ),
            ],
            columns: vec![("日数".into(), "days".into())],
            row_totals: false,
            column_totals: false,
        }
        .build(vec![
            vec![days(|h| &h.first_response_days)],
            vec![days(|h| &h.closing_days)],
        ]),
    );
    // The checklist tables are long: they come last.
    tables.extend([
        checklist_table(
            facts,
            "checklist-by-bed-class",
            (
                "チェックリスト「はい」の割合（病床規模別）",
                "Checklist: share answering yes, by bed-size class",
            ),
            BedClass::ALL,
            bed_classes,
            |h| BedClass::of(h.beds),
        ),
        checklist_table(
            facts,
            "checklist-by-region",
            (
                "チェックリスト「はい」の割合（地方別）",
                "Checklist: share answering yes, by region",
            ),
            Region::ALL,
            regions,
            |h| Region::of(h.prefecture),
        ),
    ]);

    tables
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hospital(id: u64, beds: u32, prefecture: u8, yes: bool) -> HospitalFacts {
        HospitalFacts {
            hospital: id,
            beds,
            prefecture,
            checklist: vec![ChecklistFact {
                item: "sys:1-1".into(),
                label_ja: "台帳".into(),
                label_en: "ledger".into(),
                answer: if yes {
                    AnswerValue::Yes
                } else {
                    AnswerValue::No
                },
            }],
            connections: vec![ConnectionFact {
                category: ConnectionCategory::NetworkMaintenance,
                known_to_administrator: Some(id.is_multiple_of(2)),
                always_on: true,
            }],
            backups: vec![BackupFact {
                offline_or_immutable: yes,
                generations: Some(7),
                restore_tested: false,
            }],
            assets: 10,
            past_end_of_support: 2,
            vendor_owned: 1,
            labour: Some((200.0, 180.0 + id as f64)),
            first_response_days: vec![2.0, 4.0],
            closing_days: vec![],
        }
    }

    #[test]
    fn a_second_person_publishes_a_draft() {
        use crate::AccountId;
        let err = check_publication(ReleaseState::Draft, AccountId(1), AccountId(1))
            .unwrap_err()
            .to_string();
        assert!(err.contains("second person"), "{err}");
        assert!(check_publication(ReleaseState::Draft, AccountId(1), AccountId(2)).is_ok());
        assert!(check_publication(ReleaseState::Published, AccountId(1), AccountId(2)).is_err());
    }

    #[test]
    fn classes_and_regions_follow_the_usual_cuts() {
        assert_eq!(BedClass::of(99), BedClass::Under100);
        assert_eq!(BedClass::of(100), BedClass::From100);
        assert_eq!(BedClass::of(400), BedClass::From400);
        assert_eq!(Region::of(1), Region::Hokkaido);
        assert_eq!(Region::of(13), Region::Kanto);
        assert_eq!(Region::of(32), Region::Chugoku);
        assert_eq!(Region::of(47), Region::Kyushu);
    }

    #[test]
    fn tables_carry_each_hospital_once_per_cell() {
        let facts: Vec<HospitalFacts> = (1..=6)
            .map(|i| hospital(i, if i <= 3 { 150 } else { 450 }, 13, i % 3 != 0))
            .collect();
        let tables = build_tables(&facts);
        let by_bed = tables
            .iter()
            .find(|t| t.id == "checklist-by-bed-class")
            .unwrap();
        assert_eq!(by_bed.rows, ["1-1 台帳"]);
        // 100–199 beds: hospitals 1, 2, 3 (3 answered いいえ).
        let cell = &by_bed.cells[0][1];
        assert_eq!(cell.len(), 3);
        assert_eq!(cell.iter().map(|c| c.value).sum::<f64>(), 2.0);
        let connections = tables.iter().find(|t| t.id == "connections").unwrap();
        assert_eq!(connections.cells[1][0].len(), 6, "network maintenance");
        assert!(connections.cells[0][0].is_empty(), "no systems connection");
        let risks = tables.iter().find(|t| t.id == "connection-risks").unwrap();
        let unknown: f64 = risks.cells[1][0].iter().map(|c| c.value).sum();
        assert_eq!(unknown, 3.0, "odd hospitals did not know");
        let response = tables
            .iter()
            .find(|t| t.id == "vulnerability-response")
            .unwrap();
        assert_eq!(response.cells[0][0][0].value, 3.0);
        assert!(response.cells[1][0].is_empty());
        let mut two_forms = facts.clone();
        two_forms[0].checklist.push(ChecklistFact {
            item: "executive:1-1".into(),
            label_ja: "方針".into(),
            label_en: "policy".into(),
            answer: AnswerValue::Yes,
        });
        let tables = build_tables(&two_forms);
        let by_bed = tables
            .iter()
            .find(|t| t.id == "checklist-by-bed-class")
            .unwrap();
        assert_eq!(by_bed.rows, ["executive:1-1 方針", "sys:1-1 台帳"]);
    }
}
