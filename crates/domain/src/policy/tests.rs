use super::*;
use crate::EngagementId;
use crate::engagement::EngagementState;
use proptest::prelude::*;

const HOSPITAL: OrgId = OrgId(100);
const OTHER_HOSPITAL: OrgId = OrgId(101);
const COMPANY_A: OrgId = OrgId(200);
const COMPANY_B: OrgId = OrgId(201);

fn actor(kind: OrgKind, org: OrgId, role: Role) -> Actor {
    Actor {
        account: AccountId(1),
        org,
        org_kind: kind,
        role,
    }
}

fn link(company: OrgId, state: EngagementState) -> EngagementLink {
    EngagementLink {
        engagement: EngagementId(1),
        hospital: HOSPITAL,
        company,
        state,
        contract_in_force: state.is_contracted(),
    }
}

/// The expected table, written out so a change to the policy must change it
/// too. Letters: R read, W write, C comment, V review.
const TABLE: &[(&str, [&str; 10])] = &[
    // summary, record, pledge, contract, estimate, responses, ledger, deliverables, labour, matches
    (
        "secretariat",
        ["RW", "RWV", "RW", "RW", "RW", "RW", "R", "RV", "R", "RW"],
    ),
    (
        "supervisor",
        ["R", "RV", "R", "R", "R", "RC", "RC", "RCV", "RV", "R"],
    ),
    (
        "contracted",
        ["R", "RW", "", "R", "RW", "RW", "RW", "RW", "RW", "R"],
    ),
    (
        "not-contracted",
        ["R", "", "", "R", "RW", "", "", "", "RW", ""],
    ),
    (
        "own-hospital",
        ["R", "RW", "R", "", "", "RW", "RW", "", "", "RW"],
    ),
    (
        "own-hospital-delivered",
        ["R", "RW", "R", "", "", "RW", "RW", "R", "", "RW"],
    ),
    (
        "ministry-accepted",
        ["R", "R", "", "", "", "R", "R", "", "", ""],
    ),
    (
        "ministry-delivered",
        ["R", "R", "", "", "", "R", "R", "R", "", ""],
    ),
    ("unrelated", ["", "", "", "", "", "", "", "", "", ""]),
];

fn relationship_named(name: &str) -> Relationship {
    match name {
        "secretariat" => Relationship::Secretariat,
        "supervisor" => Relationship::Supervisor,
        "contracted" => Relationship::AssignedContracted,
        "not-contracted" => Relationship::AssignedNotContracted,
        "own-hospital" => Relationship::OwnHospital { delivered: false },
        "own-hospital-delivered" => Relationship::OwnHospital { delivered: true },
        "ministry-accepted" => Relationship::MinistryAccepted { delivered: false },
        "ministry-delivered" => Relationship::MinistryAccepted { delivered: true },
        "unrelated" => Relationship::Unrelated,
        other => panic!("no relationship {other}"),
    }
}

fn letter(access: Access) -> char {
    match access {
        Access::Read => 'R',
        Access::Write => 'W',
        Access::Comment => 'C',
        Access::Review => 'V',
    }
}

#[test]
fn every_relationship_data_and_access_follows_the_table() {
    assert_eq!(HospitalData::ALL.len(), 10);
    for (name, row) in TABLE {
        let relationship = relationship_named(name);
        for (data, allowed) in HospitalData::ALL.iter().zip(row.iter()) {
            for access in Access::ALL {
                let expected = allowed.contains(letter(*access));
                assert_eq!(
                    permits(relationship, *data, *access),
                    expected,
                    "{name} × {data} × {access}"
                );
            }
        }
    }
}

/// Every organisation kind and role, against every shape of engagement the
/// hospital may have, gives the relationship the design describes.
#[test]
fn relationships_follow_organisation_kind_and_engagement_state() {
    use EngagementState::*;
    let cases: &[(OrgKind, OrgId, &[EngagementLink], &str)] = &[
        (OrgKind::Secretariat, OrgId(1), &[], "secretariat"),
        (OrgKind::Supervisor, OrgId(2), &[], "unrelated"),
        (
            OrgKind::Supervisor,
            OrgId(2),
            &[link(COMPANY_A, Candidate)],
            "supervisor",
        ),
        (
            OrgKind::Supervisor,
            OrgId(2),
            &[link(COMPANY_A, Declined)],
            "unrelated",
        ),
        (
            OrgKind::SurveyCompany,
            COMPANY_A,
            &[link(COMPANY_A, Surveying)],
            "contracted",
        ),
        (
            OrgKind::SurveyCompany,
            COMPANY_A,
            &[link(COMPANY_A, Contracted)],
            "contracted",
        ),
        (
            OrgKind::SurveyCompany,
            COMPANY_A,
            &[link(COMPANY_A, PledgeIssued)],
            "not-contracted",
        ),
        (
            OrgKind::SurveyCompany,
            COMPANY_A,
            &[link(COMPANY_A, Withdrawn)],
            "unrelated",
        ),
        (
            OrgKind::SurveyCompany,
            COMPANY_A,
            &[link(COMPANY_B, Surveying)],
            "unrelated",
        ),
        (OrgKind::SurveyCompany, COMPANY_A, &[], "unrelated"),
        (OrgKind::Hospital, HOSPITAL, &[], "own-hospital"),
        (
            OrgKind::Hospital,
            HOSPITAL,
            &[link(COMPANY_A, Reported)],
            "own-hospital-delivered",
        ),
        (
            OrgKind::Hospital,
            OTHER_HOSPITAL,
            &[link(COMPANY_A, Surveying)],
            "unrelated",
        ),
        (
            OrgKind::Ministry,
            OrgId(3),
            &[link(COMPANY_A, Submitted)],
            "unrelated",
        ),
        (
            OrgKind::Ministry,
            OrgId(3),
            &[link(COMPANY_A, Accepted)],
            "ministry-accepted",
        ),
        (
            OrgKind::Ministry,
            OrgId(3),
            &[link(COMPANY_A, Reported)],
            "ministry-delivered",
        ),
        (
            OrgKind::Vendor,
            OrgId(4),
            &[link(COMPANY_A, Surveying)],
            "unrelated",
        ),
    ];
    for (kind, org, links, expected) in cases {
        for role in Role::ALL {
            let who = actor(*kind, *org, *role);
            assert_eq!(
                relationship(&who, HOSPITAL, links),
                relationship_named(expected),
                "{kind} {org} {role} with {links:?}"
            );
        }
    }
}

#[test]
fn company_a_cannot_reach_a_hospital_surveyed_by_company_b() {
    let surveyor_a = actor(OrgKind::SurveyCompany, COMPANY_A, Role::Member);
    let links = [link(COMPANY_B, EngagementState::Surveying)];
    for data in HospitalData::ALL {
        for access in Access::ALL {
            assert!(
                authorize_hospital(
                    &surveyor_a,
                    HOSPITAL,
                    OrgKind::Hospital,
                    *data,
                    *access,
                    &links
                )
                .is_err()
            );
        }
    }
}

#[test]
fn grants_carry_what_was_asked() {
    let surveyor = actor(OrgKind::SurveyCompany, COMPANY_A, Role::Member);
    let links = [link(COMPANY_A, EngagementState::Surveying)];
    let grant = authorize_hospital(
        &surveyor,
        HOSPITAL,
        OrgKind::Hospital,
        HospitalData::Ledger,
        Access::Write,
        &links,
    )
    .expect("contracted surveyor writes the ledger");
    assert_eq!(grant.hospital(), HOSPITAL);
    assert_eq!(grant.data(), HospitalData::Ledger);
    assert_eq!(grant.access(), Access::Write);
    assert_eq!(grant.actor(), &surveyor);
}

#[test]
fn data_of_an_organisation_that_is_not_a_hospital_is_never_granted() {
    let secretariat = actor(OrgKind::Secretariat, OrgId(1), Role::Admin);
    assert!(
        authorize_hospital(
            &secretariat,
            COMPANY_A,
            OrgKind::SurveyCompany,
            HospitalData::Ledger,
            Access::Read,
            &[]
        )
        .is_err()
    );
}

#[test]
fn organisations_are_read_by_members_and_changed_by_admins() {
    let own = OrgId(7);
    let member = actor(OrgKind::SurveyCompany, own, Role::Member);
    let admin = actor(OrgKind::SurveyCompany, own, Role::Admin);
    assert!(may_access_organisation(&member, own, Access::Read));
    assert!(!may_access_organisation(&member, own, Access::Write));
    assert!(may_access_organisation(&admin, own, Access::Write));
    assert!(!may_access_organisation(&admin, OrgId(8), Access::Read));
    let supervisor = actor(OrgKind::Supervisor, OrgId(2), Role::Member);
    assert!(may_access_organisation(&supervisor, OrgId(8), Access::Read));
    assert!(!may_access_organisation(
        &supervisor,
        OrgId(8),
        Access::Write
    ));
    let secretariat = actor(OrgKind::Secretariat, OrgId(1), Role::Member);
    assert!(may_access_organisation(
        &secretariat,
        OrgId(8),
        Access::Write
    ));
    assert!(may_register_organisations(&secretariat));
    assert!(!may_register_organisations(&admin));
}

#[test]
fn audit_log_scope_per_kind() {
    for kind in OrgKind::ALL {
        let scope = audit_scope(&actor(*kind, OrgId(9), Role::Admin));
        let expected = match kind {
            OrgKind::Secretariat => Some(AuditScope::Everything),
            OrgKind::Ministry | OrgKind::Vendor => None,
            _ => Some(AuditScope::OwnActions),
        };
        assert_eq!(scope, expected, "{kind}");
    }
}

#[test]
fn the_catalogue_is_kept_by_the_secretariat_and_read_by_all_but_vendors() {
    for kind in OrgKind::ALL {
        for role in [Role::Admin, Role::Member] {
            let a = actor(*kind, OrgId(9), role);
            assert_eq!(
                may_edit_catalogue(&a),
                *kind == OrgKind::Secretariat,
                "{kind} {role}"
            );
            assert_eq!(
                may_read_catalogue(&a),
                *kind != OrgKind::Vendor,
                "{kind} {role}"
            );
        }
    }
    // Written out, so a change to either function must change this too.
    let editors: Vec<OrgKind> = OrgKind::ALL
        .iter()
        .copied()
        .filter(|k| may_edit_catalogue(&actor(*k, OrgId(9), Role::Admin)))
        .collect();
    assert_eq!(editors, [OrgKind::Secretariat]);
    let readers: Vec<OrgKind> = OrgKind::ALL
        .iter()
        .copied()
        .filter(|k| may_read_catalogue(&actor(*k, OrgId(9), Role::Member)))
        .collect();
    assert_eq!(
        readers,
        [
            OrgKind::Secretariat,
            OrgKind::Supervisor,
            OrgKind::SurveyCompany,
            OrgKind::Hospital,
            OrgKind::Ministry,
        ]
    );
}

fn any_kind() -> impl Strategy<Value = OrgKind> {
    prop::sample::select(OrgKind::ALL.to_vec())
}
fn any_state() -> impl Strategy<Value = EngagementState> {
    prop::sample::select(EngagementState::ALL.to_vec())
}
fn any_role() -> impl Strategy<Value = Role> {
    prop::sample::select(Role::ALL.to_vec())
}

proptest! {
    /// No account without a relationship to hospital H reads any of H's data:
    /// not its own hospital, not a company engaged for H, not the
    /// secretariat, not the supervisor of a live engagement, not the ministry
    /// after acceptance.
    #[test]
    fn no_relationship_no_read(
        kind in any_kind(),
        role in any_role(),
        actor_org in 1i64..50,
        hospital in 1i64..50,
        links in prop::collection::vec((1i64..50, 1i64..50, any_state(), any::<bool>()), 0..8),
    ) {
        let hospital = OrgId(hospital);
        let who = actor(kind, OrgId(actor_org), role);
        let links: Vec<_> = links
            .into_iter()
            .map(|(h, c, state, contract_in_force)| EngagementLink {
                engagement: EngagementId(h * 100 + c),
                hospital: OrgId(h),
                company: OrgId(c),
                state,
                contract_in_force,
            })
            .collect();
        let of_h = || links.iter().filter(|l| l.hospital == hospital);
        let related = match kind {
            OrgKind::Secretariat => true,
            OrgKind::Supervisor => of_h().any(|l| !l.state.is_closed_early()),
            OrgKind::SurveyCompany => of_h().any(|l| l.company == who.org && !l.state.is_closed_early()),
            OrgKind::Hospital => who.org == hospital,
            OrgKind::Ministry => of_h().any(|l| l.state.is_accepted()),
            OrgKind::Vendor => false,
        };
        prop_assume!(!related);
        for data in HospitalData::ALL {
            for access in Access::ALL {
                prop_assert!(
                    authorize_hospital(&who, hospital, OrgKind::Hospital, *data, *access, &links).is_err(),
                    "{kind} {} got {access} on {data} of {hospital}", who.org
                );
            }
        }
    }

    /// Survey data (answers, ledger, deliverables) is never reachable by a
    /// company unless an engagement of it for that hospital is contracted
    /// and its NDA and order are in force: a contracted state alone is not
    /// enough, nor is an NDA for an engagement still in recruitment.
    #[test]
    fn no_survey_data_before_contract(
        company in 1i64..20,
        states in prop::collection::vec((any_state(), any::<bool>()), 0..5),
        role in any_role(),
    ) {
        let who = actor(OrgKind::SurveyCompany, OrgId(company), role);
        let links: Vec<_> = states.iter().map(|(s, in_force)| EngagementLink {
            engagement: EngagementId(1), hospital: HOSPITAL, company: OrgId(company), state: *s,
            contract_in_force: *in_force,
        }).collect();
        prop_assume!(!states.iter().any(|(s, in_force)| s.is_contracted() && *in_force));
        for data in [HospitalData::SurveyResponses, HospitalData::Ledger, HospitalData::Deliverables, HospitalData::EngagementRecord, HospitalData::Matches] {
            for access in Access::ALL {
                prop_assert!(authorize_hospital(&who, HOSPITAL, OrgKind::Hospital, data, *access, &links).is_err());
            }
        }
    }
}
