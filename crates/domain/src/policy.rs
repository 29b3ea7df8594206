//! The access policy (DESIGN §1) as pure functions.
//!
//! A hospital's data can only be reached with a [`HospitalGrant`], and only
//! [`authorize_hospital`] can make one: the store asks for a grant, so a
//! handler that forgets the check does not compile.

use crate::engagement::EngagementLink;
use crate::organisation::{OrgKind, Role, slug_enum};
use crate::{AccountId, OrgId};
use serde::{Deserialize, Serialize};

/// Who is asking: an account, its organisation and its role there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub account: AccountId,
    pub org: OrgId,
    pub org_kind: OrgKind,
    pub role: Role,
}

slug_enum!(
    /// The kinds of a hospital's data, one per row of the policy table.
    HospitalData, "category" {
        EngagementSummary => "engagement-summary",
        EngagementRecord => "engagement-record",
        Pledge => "pledge",
        Contract => "contract",
        Estimate => "estimate",
        SurveyResponses => "survey-responses",
        Ledger => "ledger",
        Deliverables => "deliverables",
        LabourHours => "labour-hours",
        Matches => "matches",
    }
);

slug_enum!(
    /// What the actor wants to do with the data.
    Access, "access" {
        Read => "read",
        Write => "write",
        Comment => "comment",
        Review => "review",
    }
);

/// How an actor stands towards one hospital; derived from its organisation
/// and the engagements of that hospital, never stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relationship {
    Secretariat,
    /// The supervisor, for a hospital with at least one live engagement.
    Supervisor,
    /// A survey company with a contracted engagement for this hospital whose
    /// NDA and order are in force.
    AssignedContracted,
    /// A survey company whose engagement is not yet contracted.
    AssignedNotContracted,
    /// The hospital's own staff; `delivered` once its report was delivered.
    OwnHospital {
        delivered: bool,
    },
    /// The ministry, once an engagement of this hospital was accepted.
    MinistryAccepted {
        delivered: bool,
    },
    Unrelated,
}

/// Works out the relationship between `actor` and `hospital` from the
/// hospital's engagements (links of other hospitals are ignored).
pub fn relationship(actor: &Actor, hospital: OrgId, links: &[EngagementLink]) -> Relationship {
    let links = links.iter().filter(|l| l.hospital == hospital);
    match actor.org_kind {
        OrgKind::Secretariat => Relationship::Secretariat,
        OrgKind::Supervisor => {
            if links.clone().any(|l| !l.state.is_closed_early()) {
                Relationship::Supervisor
            } else {
                Relationship::Unrelated
            }
        }
        OrgKind::SurveyCompany => {
            let own: Vec<_> = links.filter(|l| l.company == actor.org).collect();
            if own
                .iter()
                .any(|l| l.state.is_contracted() && l.contract_in_force)
            {
                Relationship::AssignedContracted
            } else if own.iter().any(|l| !l.state.is_closed_early()) {
                Relationship::AssignedNotContracted
            } else {
                Relationship::Unrelated
            }
        }
        OrgKind::Hospital if actor.org == hospital => Relationship::OwnHospital {
            delivered: links
                .clone()
                .any(|l| l.state == crate::engagement::EngagementState::Reported),
        },
        OrgKind::Ministry => {
            let accepted: Vec<_> = links.filter(|l| l.state.is_accepted()).collect();
            if accepted.is_empty() {
                Relationship::Unrelated
            } else {
                Relationship::MinistryAccepted {
                    delivered: accepted
                        .iter()
                        .any(|l| l.state == crate::engagement::EngagementState::Reported),
                }
            }
        }
        OrgKind::Hospital | OrgKind::Vendor => Relationship::Unrelated,
    }
}

/// The policy table for a hospital's data (DESIGN §1, "Access policy at a glance").
pub fn permits(relationship: Relationship, data: HospitalData, access: Access) -> bool {
    use Access::*;
    use HospitalData::*;
    use Relationship as R;
    match relationship {
        R::Secretariat => match data {
            EngagementSummary | Pledge | Contract | Estimate | Matches => {
                matches!(access, Read | Write)
            }
            EngagementRecord => matches!(access, Read | Write | Review),
            SurveyResponses => matches!(access, Read | Write),
            Ledger | LabourHours => access == Read,
            Deliverables => matches!(access, Read | Review),
        },
        R::Supervisor => match data {
            EngagementSummary | Pledge | Contract | Estimate | Matches => access == Read,
            EngagementRecord | LabourHours => matches!(access, Read | Review),
            SurveyResponses | Ledger => matches!(access, Read | Comment),
            Deliverables => matches!(access, Read | Comment | Review),
        },
        R::AssignedContracted => match data {
            EngagementSummary | Matches => access == Read,
            EngagementRecord | Estimate | SurveyResponses | Ledger | Deliverables | LabourHours => {
                matches!(access, Read | Write)
            }
            // The company reads its own NDA and order, never the hospital's pledge.
            Contract => access == Read,
            Pledge => false,
        },
        R::AssignedNotContracted => match data {
            EngagementSummary | Contract => access == Read,
            Estimate | LabourHours => matches!(access, Read | Write),
            _ => false,
        },
        R::OwnHospital { delivered } => match data {
            EngagementSummary | Pledge => access == Read,
            EngagementRecord | SurveyResponses | Ledger | Matches => {
                matches!(access, Read | Write)
            }
            Deliverables => delivered && access == Read,
            Contract | Estimate | LabourHours => false,
        },
        R::MinistryAccepted { delivered } => match data {
            EngagementSummary | EngagementRecord | SurveyResponses | Ledger => access == Read,
            Deliverables => delivered && access == Read,
            _ => false,
        },
        R::Unrelated => false,
    }
}

/// Proof that the policy allowed `access` to one kind of one hospital's data.
/// Its fields are private: only [`authorize_hospital`] makes one. It is not
/// `Clone`: a grant is used for the operation it was asked for, and the store
/// checks it again inside that operation's transaction.
#[derive(Debug, PartialEq, Eq)]
pub struct HospitalGrant {
    actor: Actor,
    hospital: OrgId,
    data: HospitalData,
    access: Access,
}

impl HospitalGrant {
    pub fn actor(&self) -> &Actor {
        &self.actor
    }
    pub fn hospital(&self) -> OrgId {
        self.hospital
    }
    pub fn data(&self) -> HospitalData {
        self.data
    }
    pub fn access(&self) -> Access {
        self.access
    }
}

/// Why the policy said no. Deliberately vague towards the user: it never
/// tells whether the hospital exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("access denied: {access} of {data} for hospital {hospital}")]
pub struct Denied {
    pub hospital: OrgId,
    pub data: HospitalData,
    pub access: Access,
}

/// Asks the policy; `hospital_kind` is the kind of the organisation the data
/// belongs to (data of a non-hospital is never hospital data).
pub fn authorize_hospital(
    actor: &Actor,
    hospital: OrgId,
    hospital_kind: OrgKind,
    data: HospitalData,
    access: Access,
    links: &[EngagementLink],
) -> Result<HospitalGrant, Denied> {
    let denied = Denied {
        hospital,
        data,
        access,
    };
    if hospital_kind != OrgKind::Hospital {
        return Err(denied);
    }
    if permits(relationship(actor, hospital, links), data, access) {
        Ok(HospitalGrant {
            actor: *actor,
            hospital,
            data,
            access,
        })
    } else {
        Err(denied)
    }
}

/// Organisations and their accounts: everyone reads their own organisation;
/// its admins change it; the secretariat reads and changes all; the
/// supervisor reads all. Vendors only ever answer one inquiry, so they see
/// no organisation (DESIGN §1).
pub fn may_access_organisation(actor: &Actor, org: OrgId, access: Access) -> bool {
    match actor.org_kind {
        OrgKind::Secretariat => matches!(access, Access::Read | Access::Write),
        OrgKind::Supervisor if access == Access::Read => true,
        OrgKind::Vendor => false,
        _ if actor.org == org => match access {
            Access::Read => true,
            Access::Write => actor.role == Role::Admin,
            Access::Comment | Access::Review => false,
        },
        _ => false,
    }
}

/// Only the secretariat registers organisations and decides engagements.
pub fn may_register_organisations(actor: &Actor) -> bool {
    actor.org_kind == OrgKind::Secretariat
}

/// Returning a hospital's information and destroying it (資料3 第5条) is
/// the secretariat's duty alone: it holds the pledge the promise was made in.
pub fn may_return_hospital_data(actor: &Actor) -> bool {
    actor.org_kind == OrgKind::Secretariat
}

/// The shared device catalogue (models, their CPE candidates and MDS/SDS)
/// is kept by the secretariat alone.
pub fn may_edit_catalogue(actor: &Actor) -> bool {
    actor.org_kind == OrgKind::Secretariat
}

/// Everyone who keeps or reads a ledger reads the catalogue its assets point
/// to; a vendor only ever answers one inquiry and sees none of it.
pub fn may_read_catalogue(actor: &Actor) -> bool {
    actor.org_kind != OrgKind::Vendor
}

/// Which part of the audit log an actor may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditScope {
    Everything,
    OwnActions,
}

pub fn audit_scope(actor: &Actor) -> Option<AuditScope> {
    match actor.org_kind {
        OrgKind::Secretariat => Some(AuditScope::Everything),
        OrgKind::Supervisor | OrgKind::SurveyCompany | OrgKind::Hospital => {
            Some(AuditScope::OwnActions)
        }
        OrgKind::Ministry | OrgKind::Vendor => None,
    }
}

#[cfg(test)]
mod tests;
