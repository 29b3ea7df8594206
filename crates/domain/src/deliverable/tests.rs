use super::*;
use crate::checklist::{
    Answer, AnswerStyle, AnswerValue, CellKey, Confirmation, Framework, RespondentRole, Scope,
};
use crate::ledger::{
    Asset, Backup, Cells, ExternalConnection, InvestigationEntry, Ledger, Link, RowRecord, Segment,
    StructureRole,
};
use crate::organisation::{OrgKind, Role};
use crate::policy::Actor;
use crate::{AccountId, OrgId};
use std::collections::BTreeMap;
use time::macros::date;

fn rec<R: RowRecord>(pairs: &[(&str, &str)]) -> R {
    let map: BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    R::from_cells(&Cells::from_map::<R>(&map)).expect("a valid test record")
}

/// A small hospital: an EMR with a server, a VPN gateway and a terminal,
/// two connections (listed out of the seed's order), three log entries
/// (out of date order), one backup and three roles.
fn small_ledger() -> Ledger {
    Ledger {
        assets: vec![
            rec::<Asset>(&[
                ("key", "SYS-EMR"),
                ("kind", "システム"),
                ("name", "電子カルテ"),
            ]),
            rec::<Asset>(&[
                ("key", "SV-01"),
                ("kind", "サーバ"),
                ("name", "電子カルテサーバ"),
                ("system", "SYS-EMR"),
                ("segment", "SEG-1"),
            ]),
            rec::<Asset>(&[
                ("key", "FW-01"),
                ("kind", "VPN装置"),
                ("name", "保守用VPN"),
                ("segment", "SEG-1"),
                ("vendor", "Fortinet"),
            ]),
            rec::<Asset>(&[
                ("key", "PC-01"),
                ("kind", "端末"),
                ("name", "診察端末"),
                ("system", "SYS-EMR"),
                ("segment", "SEG-1"),
                ("quantity", "40"),
            ]),
        ],
        segments: vec![rec::<Segment>(&[
            ("key", "SEG-1"),
            ("name", "医療系LAN"),
            ("kind", "医療系"),
        ])],
        links: vec![rec::<Link>(&[
            ("key", "L-1"),
            ("from", "SV-01"),
            ("to", "FW-01"),
        ])],
        connections: vec![
            rec::<ExternalConnection>(&[
                ("key", "C-1"),
                ("category", "遠隔読影"),
                ("counterpart", "読影センター"),
                ("method", "IP-VPN"),
                ("boundary_device", "FW-01"),
            ]),
            rec::<ExternalConnection>(&[
                ("key", "C-2"),
                ("category", "ネットワーク保守"),
                ("counterpart", "保守ベンダーA"),
                ("method", "インターネットVPN"),
            ]),
        ],
        investigations: vec![
            rec::<InvestigationEntry>(&[
                ("key", "I-2"),
                ("connection", "C-1"),
                ("date", "2023-01-20"),
                ("source", "ベンダー回答"),
                ("finding", "常時接続と回答"),
            ]),
            rec::<InvestigationEntry>(&[
                ("key", "I-1"),
                ("connection", "C-1"),
                ("date", "2023-01-10"),
                ("source", "ヒアリング"),
                ("finding", "管理者が把握"),
            ]),
            rec::<InvestigationEntry>(&[
                ("key", "I-3"),
                ("connection", "C-2"),
                ("date", "2023-01-15"),
                ("source", "院内巡回"),
                ("finding", "ルータを発見"),
            ]),
        ],
        backups: vec![rec::<Backup>(&[
            ("key", "B-1"),
            ("system", "SYS-EMR"),
            ("data_covered", "データベース"),
            ("generations", "3"),
            ("offline_copy", "はい"),
            ("last_restore_test", "2022-11-01"),
        ])],
        roles: vec![
            rec::<StructureRole>(&[("key", "R-1"), ("kind", "経営層"), ("title", "院長")]),
            rec::<StructureRole>(&[
                ("key", "R-2"),
                ("kind", "システム管理者"),
                ("title", "情報システム室長"),
                ("reports_to", "R-1"),
                ("business_phone", "0859-00-0000"),
                ("incident_order", "2"),
            ]),
            rec::<StructureRole>(&[
                ("key", "R-3"),
                ("kind", "ベンダー"),
                ("title", "保守窓口"),
                ("organisation", "保守ベンダーA"),
                ("reports_to", "R-2"),
                ("incident_order", "1"),
            ]),
        ],
        catalogue_keys: Default::default(),
    }
}

fn actor(account: i64, org_kind: OrgKind) -> Actor {
    Actor {
        account: AccountId(account),
        org: OrgId(account * 10),
        org_kind,
        role: Role::Member,
    }
}

// ---------------------------------------------------------------- kinds

#[test]
fn the_seven_deliverables_have_the_seeds_numbers_and_titles() {
    let titles: Vec<(u8, char, &str)> = DeliverableKind::ALL
        .iter()
        .map(|k| (k.number(), k.mark(), k.ja()))
        .collect();
    assert_eq!(
        titles,
        vec![
            (1, '①', "チェックリストによる調査結果（経営層向け）"),
            (2, '②', "チェックリストによる調査結果（システム管理者向け）"),
            (3, '③', "チェックリストによる調査結果（利用者向け）"),
            (4, '④', "病院情報システムのバックアップ状況（表）"),
            (5, '⑤', "外部接続先一覧 および 外部接続先調査履歴"),
            (6, '⑥', "ネットワーク概要図"),
            (7, '⑦', "情報システム管理体制図"),
        ]
    );
    for k in DeliverableKind::ALL {
        assert_eq!(DeliverableKind::from_number(k.number()), Some(*k));
        assert!(!k.en().is_empty());
        assert_eq!(DeliverableKind::from_text(k.ja()), Ok(*k));
    }
    assert_eq!(DeliverableKind::from_number(0), None);
    assert_eq!(DeliverableKind::from_number(8), None);
}

#[test]
fn respondents_map_to_the_three_checklist_deliverables() {
    use DeliverableKind::*;
    assert_eq!(
        DeliverableKind::for_respondent(RespondentRole::Director),
        Some(ChecklistExecutive)
    );
    assert_eq!(
        DeliverableKind::for_respondent(RespondentRole::Administrator),
        Some(ChecklistAdministrator)
    );
    assert_eq!(
        DeliverableKind::for_respondent(RespondentRole::User),
        Some(ChecklistUser)
    );
    assert_eq!(
        DeliverableKind::for_respondent(RespondentRole::Vendor),
        None
    );
    assert_eq!(DeliverableKind::for_respondent(RespondentRole::Other), None);
    let checklist: Vec<_> = DeliverableKind::ALL
        .iter()
        .filter(|k| k.is_checklist())
        .map(|k| k.number())
        .collect();
    assert_eq!(checklist, vec![1, 2, 3]);
}

// ---------------------------------------------------------------- review

/// The table written out independently of `REVIEW_STEPS`.
fn expected_step(
    kind: OrgKind,
    action: ReviewAction,
    state: DeliverableState,
) -> Option<DeliverableState> {
    use DeliverableState::*;
    use ReviewAction::*;
    match (state, action, kind) {
        (Draft | ChangesRequested, Submit, OrgKind::SurveyCompany) => Some(Submitted),
        (Submitted, RequestChanges, OrgKind::Supervisor) => Some(ChangesRequested),
        (Submitted, Approve, OrgKind::Supervisor) => Some(Approved),
        (Approved, Reopen, OrgKind::Supervisor | OrgKind::Secretariat) => Some(ChangesRequested),
        _ => None,
    }
}

#[test]
fn every_role_action_and_state_is_decided_as_the_table_says() {
    let submitter = Some(AccountId(1));
    let mut allowed_count = 0;
    for kind in OrgKind::ALL {
        let who = actor(2, *kind);
        for action in ReviewAction::ALL {
            for state in DeliverableState::ALL {
                let got = decide(*state, *action, &who, submitter);
                let expected = expected_step(*kind, *action, *state);
                match (expected, &got) {
                    (Some(to), Ok(got)) => {
                        assert_eq!(*got, to, "{kind} {action} in {state}");
                        allowed_count += 1;
                    }
                    (None, Err(refused)) => {
                        let anyone = OrgKind::ALL
                            .iter()
                            .any(|k| expected_step(*k, *action, *state).is_some());
                        match refused {
                            ReviewRefused::NotAStep { allowed, .. } => {
                                assert!(!anyone, "{kind} {action} in {state}: {refused}");
                                assert_eq!(allowed, &next_actions(*state));
                            }
                            ReviewRefused::NotOwner {
                                allowed, owners, ..
                            } => {
                                assert!(anyone, "{kind} {action} in {state}");
                                assert!(!owners.contains(kind));
                                // What the refusal offers is exactly what succeeds.
                                let really: Vec<ReviewAction> = ReviewAction::ALL
                                    .iter()
                                    .copied()
                                    .filter(|a| expected_step(*kind, *a, *state).is_some())
                                    .collect();
                                assert_eq!(allowed, &really, "{kind} in {state}");
                            }
                            other => panic!("unexpected {other:?}"),
                        }
                    }
                    (expected, got) => {
                        panic!("{kind} {action} in {state}: expected {expected:?}, got {got:?}")
                    }
                }
            }
        }
    }
    // submit ×2, request changes, approve, reopen ×2
    assert_eq!(allowed_count, 6);
}

#[test]
fn a_refusal_names_the_actions_allowed_next() {
    let company = actor(1, OrgKind::SurveyCompany);
    let err = decide(
        DeliverableState::Submitted,
        ReviewAction::Approve,
        &company,
        Some(AccountId(1)),
    )
    .unwrap_err();
    assert!(matches!(err, ReviewRefused::NotOwner { .. }));
    assert!(err.to_string().contains("supervisor"), "{err}");
    assert!(err.to_string().contains("none"), "{err}");

    let supervisor = actor(5, OrgKind::Supervisor);
    let err = decide(
        DeliverableState::Draft,
        ReviewAction::Approve,
        &supervisor,
        None,
    )
    .unwrap_err();
    assert_eq!(
        err,
        ReviewRefused::NotAStep {
            state: DeliverableState::Draft,
            action: ReviewAction::Approve,
            allowed: vec![ReviewAction::Submit],
        }
    );
    assert!(err.to_string().contains("allowed next: submit"), "{err}");
    assert_eq!(err.allowed(), &[ReviewAction::Submit]);
}

#[test]
fn nobody_approves_their_own_submission() {
    // A supervisor account recorded as the submitter (e.g. data fixed by hand).
    let supervisor = actor(7, OrgKind::Supervisor);
    let err = decide(
        DeliverableState::Submitted,
        ReviewAction::Approve,
        &supervisor,
        Some(AccountId(7)),
    )
    .unwrap_err();
    assert_eq!(
        err,
        ReviewRefused::OwnSubmission {
            submitter: AccountId(7),
            allowed: vec![ReviewAction::RequestChanges],
        }
    );
    assert!(err.to_string().contains("request-changes"), "{err}");
    assert_eq!(
        allowed_actions(DeliverableState::Submitted, &supervisor, Some(AccountId(7))),
        vec![ReviewAction::RequestChanges]
    );
    // Another supervisor account may approve it.
    let other = actor(8, OrgKind::Supervisor);
    assert_eq!(
        decide(
            DeliverableState::Submitted,
            ReviewAction::Approve,
            &other,
            Some(AccountId(7))
        ),
        Ok(DeliverableState::Approved)
    );
    // Asking for changes to one's own submission is not refused.
    assert_eq!(
        decide(
            DeliverableState::Submitted,
            ReviewAction::RequestChanges,
            &supervisor,
            Some(AccountId(7))
        ),
        Ok(DeliverableState::ChangesRequested)
    );
}

#[test]
fn a_deliverable_goes_round_the_review_and_can_be_reopened() {
    let company = actor(1, OrgKind::SurveyCompany);
    let supervisor = actor(2, OrgKind::Supervisor);
    let secretariat = actor(3, OrgKind::Secretariat);
    let by = Some(company.account);
    let mut state = DeliverableState::Draft;
    for (who, action) in [
        (&company, ReviewAction::Submit),
        (&supervisor, ReviewAction::RequestChanges),
        (&company, ReviewAction::Submit),
        (&supervisor, ReviewAction::Approve),
        (&secretariat, ReviewAction::Reopen),
        (&company, ReviewAction::Submit),
        (&supervisor, ReviewAction::Approve),
    ] {
        assert!(allowed_actions(state, who, by).contains(&action));
        state = decide(state, action, who, by).expect("allowed");
    }
    assert_eq!(state, DeliverableState::Approved);
}

// ---------------------------------------------------------------- builders

#[test]
fn backups_hold_one_row_per_backup_with_the_system_name_and_every_field() {
    let content = backups_content(&small_ledger());
    assert_eq!(content.kind, DeliverableKind::Backups);
    let table = content.table("backups").expect("table");
    assert_eq!(table.keys(), vec!["B-1"]);
    assert_eq!(table.columns.len(), Backup::COLUMNS.len() + 1);
    assert_eq!(table.columns[1].ja, "システム");
    assert_eq!(table.columns[2].ja, "システム名");
    for column in table.columns.iter() {
        assert_eq!(table.rows[0].cells.len(), table.columns.len(), "{column:?}");
    }
    assert_eq!(table.cell("B-1", "system"), Some("SYS-EMR"));
    assert_eq!(table.cell("B-1", "システム名"), Some("電子カルテ"));
    assert_eq!(table.cell("B-1", "世代数"), Some("3"));
    assert_eq!(table.cell("B-1", "オフライン保管"), Some("はい"));
    assert_eq!(table.cell("B-1", "改ざん不可"), Some(""));
    assert_eq!(table.cell("B-1", "最終復元テスト日"), Some("2022-11-01"));
    assert!(missing_parts(&content).is_empty());
}

#[test]
fn connections_follow_the_seeds_order_and_the_log_is_dated_per_connection() {
    let content = connections_content(&small_ledger());
    let connections = content.table("connections").expect("connections");
    // ネットワーク保守 (2) before 遠隔読影 (6), whatever the ledger order.
    assert_eq!(connections.keys(), vec!["C-2", "C-1"]);
    assert_eq!(connections.cell("C-1", "境界機器"), Some("FW-01"));
    assert_eq!(connections.cell("C-1", "境界機器名"), Some("保守用VPN"));
    assert_eq!(connections.cell("C-2", "境界機器名"), Some(""));
    assert_eq!(connections.cell("C-2", "分類"), Some("ネットワーク保守"));
    let log = content.table("investigations").expect("log");
    assert_eq!(log.keys(), vec!["I-3", "I-1", "I-2"]);
    assert_eq!(log.cell("I-1", "接続先"), Some("読影センター"));
    assert_eq!(log.cell("I-1", "調査日"), Some("2023-01-10"));
    assert_eq!(log.cell("I-3", "情報源"), Some("院内巡回"));
    assert!(missing_parts(&content).is_empty());
}

#[test]
fn the_network_content_has_the_view_segments_devices_and_links() {
    let ledger = small_ledger();
    let content = network_content(&ledger);
    assert_eq!(
        content.network.as_ref(),
        Some(&crate::ledger::network_view(&ledger))
    );
    assert_eq!(
        content.table("segments").expect("segments").keys(),
        vec!["SEG-1"]
    );
    let devices = content.table("devices").expect("devices");
    // Systems are not devices.
    assert_eq!(devices.keys(), vec!["SV-01", "FW-01", "PC-01"]);
    assert_eq!(devices.cell("SV-01", "所属システム名"), Some("電子カルテ"));
    assert_eq!(devices.cell("PC-01", "台数"), Some("40"));
    assert_eq!(devices.cell("FW-01", "種別"), Some("VPN装置"));
    assert_eq!(devices.cell("FW-01", "メーカー"), Some("Fortinet"));
    assert!(
        devices
            .rows
            .iter()
            .all(|r| r.cells.len() == devices.columns.len())
    );
    assert_eq!(content.table("links").expect("links").keys(), vec!["L-1"]);
    assert!(missing_parts(&content).is_empty());
}

#[test]
fn the_structure_content_has_roles_contacts_and_the_incident_chain() {
    let content = structure_content(&small_ledger());
    let view = content.structure.as_ref().expect("view");
    assert_eq!(view.incident_chain, vec!["r:R-3", "r:R-2"]);
    let roles = content.table("roles").expect("roles");
    assert_eq!(roles.keys(), vec!["R-1", "R-2", "R-3"]);
    assert_eq!(roles.cell("R-2", "業務用電話"), Some("0859-00-0000"));
    assert_eq!(roles.cell("R-3", "報告先"), Some("R-2"));
    let chain = content.table("incident-chain").expect("chain");
    assert_eq!(chain.keys(), vec!["R-3", "R-2"]);
    assert_eq!(chain.cell("R-3", "連絡順"), Some("1"));
    assert_eq!(chain.cell("R-3", "所属・会社"), Some("保守ベンダーA"));
    assert!(missing_parts(&content).is_empty());
}

// ---------------------------------------------------------------- checklist

const FRAMEWORK: &str = r#"
key = "test-r6"
title_ja = "テスト用チェックリスト"
edition_ja = "令和6年度版"
answer_style = "yes-no-dated"

[[forms]]
key = "hospital"
audience = "hospital"
title_ja = "医療機関確認用"
title_en = "For hospitals"

[[forms.sections]]
number = "0"
title_ja = "医療情報システムの有無"
[[forms.sections.items]]
number = "0"
text_ja = "医療情報システムを導入、運用している。"
gate = true
scope = "organisation"
provenance = "verbatim"

[[forms.sections]]
number = "2"
title_ja = "医療情報システムの管理・運用"
[[forms.sections.items]]
number = "2-(4)"
text_ja = "アクセス利用権限を設定している。"
provenance = "quoted"
cells = [{ scope = "server" }, { scope = "terminal-pc" }]
[[forms.sections.items]]
number = "2-(9)"
text_ja = "不要なサービスを停止している。"
provenance = "inferred"
"#;

fn framework() -> Framework {
    Framework::from_toml(FRAMEWORK).expect("framework")
}

fn answer(value: AnswerValue, target: Option<time::Date>, unclear: &str) -> Answer {
    Answer {
        value,
        checked_on: Some(date!(2024 - 06 - 01)),
        target_on: target,
        not_understood: unclear.to_string(),
    }
}

fn confirm(value: AnswerValue) -> Confirmation {
    Confirmation {
        value: Some(value),
        open: false,
    }
}

#[test]
fn checklist_results_show_each_respondent_of_the_audience_row_by_row() {
    let fw = framework();
    let form = fw.form("hospital").expect("form");
    let own: BTreeMap<CellKey, Answer> = [
        (
            CellKey::new("0", Scope::Organisation),
            answer(AnswerValue::Yes, None, ""),
        ),
        (
            CellKey::new("2-(4)", Scope::Server),
            answer(AnswerValue::No, Some(date!(2025 - 03 - 31)), "権限の意味"),
        ),
        (
            CellKey::new("2-(4)", Scope::TerminalPc),
            answer(AnswerValue::Yes, None, ""),
        ),
    ]
    .into();
    let confirmed: BTreeMap<CellKey, Confirmation> = [
        (
            CellKey::new("0", Scope::Organisation),
            confirm(AnswerValue::Yes),
        ),
        (
            CellKey::new("2-(4)", Scope::Server),
            confirm(AnswerValue::Yes),
        ),
        (
            CellKey::new("2-(4)", Scope::TerminalPc),
            Confirmation {
                value: None,
                open: true,
            },
        ),
    ]
    .into();
    let none = BTreeMap::new();
    let nothing = BTreeMap::new();
    let respondents = [
        RespondentAnswers {
            key: "7",
            name: "情報システム室長",
            role: RespondentRole::Administrator,
            form,
            self_assessed: &own,
            confirmed: &confirmed,
        },
        RespondentAnswers {
            key: "8",
            name: "保守ベンダー",
            role: RespondentRole::Vendor,
            form,
            self_assessed: &none,
            confirmed: &nothing,
        },
    ];
    let content = checklist_content(
        DeliverableKind::ChecklistAdministrator,
        fw.answer_style,
        &respondents,
    )
    .expect("content");
    assert_eq!(content.tables.len(), 1, "the vendor is in none of ①–③");
    let table = &content.tables[0];
    assert_eq!(table.id, "respondent:7");
    assert!(
        table
            .caption_ja
            .contains("情報システム室長（システム管理者）")
    );
    assert!(table.caption_en.contains("For hospitals"));
    assert_eq!(
        table.keys(),
        vec![
            "0/organisation",
            "2-(4)/server",
            "2-(4)/terminal-pc",
            "2-(9)/whole-system"
        ]
    );
    let row = |key: &str| table.row(key).expect("row").cells.clone();
    assert_eq!(
        row("2-(4)/server"),
        vec![
            "2-(4)",
            "アクセス利用権限を設定している。",
            "サーバ",
            "いいえ",
            "はい",
            "2024-06-01",
            "2025-03-31",
            "権限の意味",
            "自己評価と相違",
        ]
    );
    assert_eq!(table.cell("2-(4)/terminal-pc", "status"), Some("継続確認"));
    assert_eq!(table.cell("2-(4)/terminal-pc", "confirmed"), Some(""));
    assert_eq!(table.cell("0/organisation", "status"), Some(""));
    assert_eq!(table.cell("2-(9)/whole-system", "status"), Some("未回答"));
    assert_eq!(
        table.cell("2-(9)/whole-system", "対象"),
        Some("医療情報システム全般")
    );

    // 2-(9) has no answer at all: the submission is refused, naming it.
    let missing = missing_parts(&content);
    assert_eq!(missing.len(), 1, "{missing:?}");
    assert!(missing[0].contains("未回答の項目が1件"), "{missing:?}");
    assert!(missing[0].contains("2-(9)/whole-system"), "{missing:?}");
    assert!(missing[0].contains(" / "), "{missing:?}");
    assert!(matches!(
        check_complete(&content),
        Err(ReviewRefused::Incomplete { .. })
    ));

    // The same answers are not ① or ③.
    let executive = checklist_content(
        DeliverableKind::ChecklistExecutive,
        fw.answer_style,
        &respondents,
    )
    .expect("content");
    assert!(executive.tables.is_empty());
    assert_eq!(
        missing_parts(&executive),
        vec!["回答者がいません / no respondent".to_string()]
    );
    assert!(checklist_content(DeliverableKind::Backups, fw.answer_style, &respondents).is_err());
}

#[test]
fn a_closed_gate_takes_the_other_items_out_of_what_is_missing() {
    let fw = framework();
    let form = fw.form("hospital").expect("form");
    let own: BTreeMap<CellKey, Answer> = [(
        CellKey::new("0", Scope::Organisation),
        answer(AnswerValue::No, None, ""),
    )]
    .into();
    let confirmed = BTreeMap::new();
    let content = checklist_content(
        DeliverableKind::ChecklistUser,
        AnswerStyle::Circle,
        &[RespondentAnswers {
            key: "u1",
            name: "看護師",
            role: RespondentRole::User,
            form,
            self_assessed: &own,
            confirmed: &confirmed,
        }],
    )
    .expect("content");
    let table = &content.tables[0];
    assert_eq!(table.cell("0/organisation", "self-assessed"), Some("×"));
    assert_eq!(table.cell("0/organisation", "status"), Some("未確認"));
    assert_eq!(
        table.cell("2-(9)/whole-system", "status"),
        Some("対象外（前提項目）")
    );
    assert!(missing_parts(&content).is_empty());
    assert_eq!(check_complete(&content), Ok(()));
}

// ---------------------------------------------------------------- missing

#[test]
fn an_empty_ledger_leaves_each_ledger_deliverable_incomplete() {
    let empty = Ledger::default();
    assert_eq!(
        missing_parts(&backups_content(&empty)),
        vec!["バックアップの記録がありません / no backups recorded"]
    );
    assert_eq!(
        missing_parts(&connections_content(&empty)),
        vec![
            "外部接続先も外部接続先調査履歴もありません / no external connections and no investigation entries recorded"
        ]
    );
    assert_eq!(
        missing_parts(&network_content(&empty)),
        vec!["機器の記録がありません / no devices recorded"]
    );
    assert_eq!(
        missing_parts(&structure_content(&empty)),
        vec![
            "管理体制の役割がありません / no roles recorded",
            "インシデント時の連絡順がありません / no incident contact chain recorded",
        ]
    );
    let mut content = network_content(&small_ledger());
    content.network = None;
    assert_eq!(
        missing_parts(&content),
        vec!["ネットワーク概要図がありません / the network overview is missing"]
    );
    let err = check_complete(&backups_content(&empty)).unwrap_err();
    assert!(err.to_string().contains("no backups recorded"), "{err}");
}

#[test]
fn connections_without_a_log_and_roles_without_a_chain() {
    let mut ledger = small_ledger();
    ledger.investigations.clear();
    assert!(missing_parts(&connections_content(&ledger)).is_empty());
    for role in &mut ledger.roles {
        role.incident_order = None;
    }
    assert_eq!(
        missing_parts(&structure_content(&ledger)),
        vec!["インシデント時の連絡順がありません / no incident contact chain recorded"]
    );
    // Systems alone are not devices.
    ledger.assets.retain(|a| a.key.as_str() == "SYS-EMR");
    assert_eq!(
        missing_parts(&network_content(&ledger)),
        vec!["機器の記録がありません / no devices recorded"]
    );
}

// ---------------------------------------------------------------- diff

#[test]
fn the_diff_of_two_ledgers_shows_an_added_connection_a_changed_backup_and_a_removed_role() {
    let before = small_ledger();
    let mut after = before.clone();
    after.connections.push(rec::<ExternalConnection>(&[
        ("key", "C-3"),
        ("category", "マイナカード関係"),
        ("counterpart", "オンライン資格確認"),
        ("method", "IP-VPN"),
    ]));
    after.backups[0].generations = Some(5);
    after.roles.retain(|r| r.key.as_str() != "R-3");

    let changes = diff(&connections_content(&before), &connections_content(&after));
    assert_eq!(changes.len(), 1, "{changes:?}");
    match &changes[0] {
        ContentChange::RowAdded { table, key, cells } => {
            assert_eq!((table.as_str(), key.as_str()), ("connections", "C-3"));
            assert!(cells.contains(&"オンライン資格確認".to_string()));
        }
        other => panic!("unexpected {other:?}"),
    }

    let changes = diff(&backups_content(&before), &backups_content(&after));
    assert_eq!(
        changes,
        vec![ContentChange::CellChanged {
            table: "backups".into(),
            key: "B-1".into(),
            column_ja: "世代数".into(),
            column_en: "generations".into(),
            before: "3".into(),
            after: "5".into(),
        }]
    );
    assert!(changes[0].to_string().contains("「3」→「5」"));

    let changes = diff(&structure_content(&before), &structure_content(&after));
    let removed: Vec<(&str, &str)> = changes
        .iter()
        .filter_map(|c| match c {
            ContentChange::RowRemoved { table, key, .. } => Some((table.as_str(), key.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(removed, vec![("roles", "R-3"), ("incident-chain", "R-3")]);
    assert_eq!(changes.len(), 2, "{changes:?}");

    assert!(diff(&network_content(&before), &network_content(&before)).is_empty());
}

#[test]
fn the_diff_reports_tables_and_columns_that_came_or_went() {
    let content = backups_content(&small_ledger());
    let mut newer = content.clone();
    newer.tables[0].id = "backups-v2".into();
    let changes = diff(&content, &newer);
    assert!(
        matches!(&changes[0], ContentChange::TableAdded { table, rows: 1, .. } if table == "backups-v2")
    );
    assert!(
        matches!(&changes[1], ContentChange::TableRemoved { table, rows: 1, .. } if table == "backups")
    );
    assert_eq!(changes.len(), 2);

    // A column dropped in the newer version shows as emptied.
    let mut fewer = content.clone();
    let at = fewer.tables[0].column("備考").expect("notes");
    fewer.tables[0].columns.remove(at);
    fewer.tables[0].rows[0].cells.remove(at);
    fewer.tables[0].rows[0].cells[2] = "新しい名前".into();
    let mut old = content.clone();
    old.tables[0].rows[0].cells[at] = "旧メモ".into();
    let changes = diff(&old, &fewer);
    let columns: Vec<(&str, &str, &str)> = changes
        .iter()
        .filter_map(|c| match c {
            ContentChange::CellChanged {
                column_ja,
                before,
                after,
                ..
            } => Some((column_ja.as_str(), before.as_str(), after.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(
        columns,
        vec![
            ("システム名", "電子カルテ", "新しい名前"),
            ("備考", "旧メモ", "")
        ]
    );
}

// ---------------------------------------------------------------- json

#[test]
fn contents_survive_a_json_round_trip() {
    let ledger = small_ledger();
    let fw = framework();
    let own = BTreeMap::new();
    let confirmed = BTreeMap::new();
    let checklist = checklist_content(
        DeliverableKind::ChecklistExecutive,
        fw.answer_style,
        &[RespondentAnswers {
            key: "d",
            name: "院長",
            role: RespondentRole::Director,
            form: fw.form("hospital").expect("form"),
            self_assessed: &own,
            confirmed: &confirmed,
        }],
    )
    .expect("content");
    for content in [
        checklist,
        backups_content(&ledger),
        connections_content(&ledger),
        network_content(&ledger),
        structure_content(&ledger),
    ] {
        let json = content.to_json();
        let back = DeliverableContent::from_json(&json).expect("reads back");
        assert_eq!(back, content, "{}", content.kind);
    }
    let json = network_content(&ledger).to_json();
    assert!(json.contains("\"kind\":\"network\""), "{json}");
    assert!(json.contains("\"internet_exposed\":false"), "{json}");
    assert!(DeliverableContent::from_json("{\"kind\":\"nine\",\"tables\":[]}").is_err());
}

// ---------------------------------------------------------------- findings

fn finding(number: u32, severity: Severity, status: FindingStatus) -> Finding {
    let mut f = Finding::new(
        number,
        severity,
        "保守用VPN装置のファームウェアが古い",
        "",
        vec![AffectedRef::new(AffectedKind::Asset, "FW-01")],
        "最新版へ更新する",
    )
    .expect("valid");
    f.status = status;
    f
}

#[test]
fn a_finding_needs_a_title_of_1_to_200_characters_and_a_recommendation() {
    let ok = Finding::new(
        1,
        Severity::High,
        "  外部接続の把握漏れ ",
        " 管理者の知らない接続があった ",
        vec![
            AffectedRef::new(AffectedKind::Connection, " C-2 "),
            AffectedRef::new(AffectedKind::Connection, "C-2"),
            AffectedRef::new(AffectedKind::ChecklistItem, "2-(4)"),
        ],
        "接続先一覧を維持する",
    )
    .expect("valid");
    assert_eq!(ok.title, "外部接続の把握漏れ");
    assert_eq!(ok.detail, "管理者の知らない接続があった");
    assert_eq!(ok.status, FindingStatus::Proposed);
    assert_eq!(
        ok.affected,
        vec![
            AffectedRef::new(AffectedKind::Connection, "C-2"),
            AffectedRef::new(AffectedKind::ChecklistItem, "2-(4)"),
        ]
    );
    let field = |r: Result<Finding, crate::DomainError>| match r {
        Err(crate::DomainError::Invalid { field, .. }) => field,
        other => panic!("expected a refusal, got {other:?}"),
    };
    let make = |number: u32, title: &str, rec: &str, key: &str| {
        Finding::new(
            number,
            Severity::Low,
            title,
            "",
            vec![AffectedRef::new(AffectedKind::Backup, key)],
            rec,
        )
    };
    assert_eq!(field(make(1, "   ", "対策", "B-1")), "title");
    assert_eq!(field(make(1, &"長".repeat(201), "対策", "B-1")), "title");
    assert!(make(1, &"長".repeat(200), "対策", "B-1").is_ok());
    assert_eq!(field(make(1, "題\n名", "対策", "B-1")), "title");
    assert_eq!(field(make(1, "題名", "  ", "B-1")), "recommendation");
    assert_eq!(field(make(0, "題名", "対策", "B-1")), "number");
    assert_eq!(field(make(1, "題名", "対策", " ")), "affected");
    assert_eq!(
        field(make(1, "題名", &"x".repeat(MAX_FINDING_TEXT + 1), "B-1")),
        "recommendation"
    );
    let mut edited = ok.clone();
    edited.recommendation.clear();
    assert!(edited.checked().is_err());
}

#[test]
fn the_summary_lists_accepted_findings_by_severity_then_number() {
    use FindingStatus::*;
    use Severity::*;
    let findings = vec![
        finding(1, Low, Accepted),
        finding(2, Critical, Rejected),
        finding(3, Medium, Accepted),
        finding(4, Critical, Accepted),
        finding(5, High, Proposed),
        finding(6, Medium, Accepted),
        finding(7, High, Accepted),
    ];
    let order: Vec<(u32, &str)> = summary(&findings)
        .iter()
        .map(|f| (f.number, f.severity.ja()))
        .collect();
    assert_eq!(
        order,
        vec![(4, "重大"), (7, "高"), (3, "中"), (6, "中"), (1, "低")]
    );
    assert!(summary(&[]).is_empty());
}

#[test]
fn findings_survive_a_json_round_trip() {
    let f = finding(3, Severity::Critical, FindingStatus::Accepted);
    let json = serde_json::to_string(&f).expect("json");
    assert!(json.contains("\"severity\":\"critical\""), "{json}");
    assert_eq!(serde_json::from_str::<Finding>(&json).expect("back"), f);
}

fn all_seven(ledger: &Ledger) -> Vec<ReportDeliverable> {
    let mut out: Vec<ReportDeliverable> = [
        backups_content(ledger),
        connections_content(ledger),
        network_content(ledger),
        structure_content(ledger),
    ]
    .into_iter()
    .map(|content| ReportDeliverable {
        version: 2,
        content,
    })
    .collect();
    for kind in [
        DeliverableKind::ChecklistUser,
        DeliverableKind::ChecklistExecutive,
        DeliverableKind::ChecklistAdministrator,
    ] {
        out.push(ReportDeliverable {
            version: 1,
            content: DeliverableContent {
                kind,
                tables: Vec::new(),
                network: None,
                structure: None,
            },
        });
    }
    out
}

#[test]
fn a_report_holds_the_seven_in_order_and_only_accepted_findings() {
    let ledger = small_ledger();
    let findings = [
        finding(1, Severity::Low, FindingStatus::Accepted),
        finding(2, Severity::Critical, FindingStatus::Rejected),
        finding(3, Severity::High, FindingStatus::Accepted),
        finding(4, Severity::Critical, FindingStatus::Proposed),
    ];
    let report = ReportContent::new(
        " 湖畔市立総合病院 ",
        "湖畔市立総合病院 御中",
        "株式会社サンプル調査",
        "令和6年度 医療機関のサイバーセキュリティ調査",
        1,
        date!(2025 - 02 - 28),
        &findings,
        all_seven(&ledger),
    )
    .unwrap();
    assert_eq!(report.hospital, "湖畔市立総合病院");
    let kinds: Vec<_> = report.deliverables.iter().map(|d| d.content.kind).collect();
    assert_eq!(kinds, DeliverableKind::ALL);
    let numbers: Vec<u32> = report.findings.iter().map(|f| f.number).collect();
    assert_eq!(numbers, [3, 1]);
    let back = ReportContent::from_json(&report.to_json()).unwrap();
    assert_eq!(back, report);

    let mut six = all_seven(&ledger);
    six.retain(|d| d.content.kind != DeliverableKind::Connections);
    let err = ReportContent::new(
        "A病院",
        "A病院",
        "C社",
        "P",
        1,
        date!(2025 - 02 - 28),
        &[],
        six,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("⑤外部接続先一覧"), "{err}");
    let mut eight = all_seven(&ledger);
    eight.push(eight[0].clone());
    assert!(
        ReportContent::new(
            "A病院",
            "A病院",
            "C社",
            "P",
            1,
            date!(2025 - 02 - 28),
            &[],
            eight
        )
        .is_err()
    );
    assert!(
        ReportContent::new(
            "A病院",
            "A病院",
            "C社",
            "P",
            0,
            date!(2025 - 02 - 28),
            &[],
            all_seven(&ledger)
        )
        .is_err()
    );
}

#[test]
fn acceptance_names_every_deliverable_not_yet_approved() {
    use DeliverableState::*;
    let mut states: Vec<(DeliverableKind, DeliverableState)> = DeliverableKind::ALL
        .iter()
        .map(|&k| (k, Approved))
        .collect();
    assert!(not_approved(&states).is_empty());
    assert!(not_approved_reason(&states).is_none());
    states[4].1 = ChangesRequested;
    states.remove(6);
    assert_eq!(
        not_approved(&states),
        [DeliverableKind::Connections, DeliverableKind::Structure]
    );
    let (ja, en) = not_approved_reason(&states).unwrap();
    assert!(
        ja.contains("⑤外部接続先一覧 および 外部接続先調査履歴（"),
        "{ja}"
    );
    assert!(ja.contains("⑦情報システム管理体制図（"), "{ja}");
    assert!(!ja.contains('④'), "{ja}");
    assert!(
        en.contains("⑦ Information system management structure chart"),
        "{en}"
    );
}

#[test]
fn english_cells_translate_labels_and_keep_free_text() {
    assert_eq!(cell_text("はい", "en"), "yes");
    assert_eq!(cell_text("はい", "ja"), "はい");
    assert_eq!(
        cell_text(crate::ledger::AssetKind::Server.ja(), "en"),
        crate::ledger::AssetKind::Server.en()
    );
    assert_eq!(cell_text("端末PC", "en"), "terminal PCs");
    assert_eq!(cell_text("未回答", "en"), "unanswered");
    assert_eq!(cell_text("電子カルテサーバ", "en"), "電子カルテサーバ");
}

#[test]
fn the_company_edits_its_proposal_and_the_supervisor_decides() {
    use FindingStatus::*;
    use FindingStep::*;
    assert_eq!(finding_step(Proposed, Edit, false), Ok(Proposed));
    assert_eq!(finding_step(Proposed, Accept, true), Ok(Accepted));
    assert_eq!(finding_step(Accepted, Edit, true), Ok(Accepted));
    assert_eq!(finding_step(Accepted, Reject, true), Ok(Rejected));
    assert_eq!(finding_step(Rejected, Reopen, true), Ok(Proposed));
    let refused = finding_step(Accepted, Edit, false).unwrap_err();
    assert!(refused.contains("from the survey company"), "{refused}");
    assert!(refused.contains("allowed: none"), "{refused}");
    let refused = finding_step(Rejected, Accept, true).unwrap_err();
    assert!(refused.contains("allowed: edit, reopen"), "{refused}");
    for step in [Accept, Reject, Reopen] {
        for status in FindingStatus::ALL {
            assert!(finding_step(*status, step, false).is_err());
        }
    }
}
