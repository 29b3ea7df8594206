//! Pledges, NDAs, estimates and honoraria: the checks on their figures and
//! dates (資料3, 資料5, 資料4 §8, 資料1 §2④). The day is passed in.

use crate::DomainError;
use crate::organisation::slug_enum;
use serde::{Deserialize, Serialize};
use time::Date;

slug_enum!(
    /// The signed papers of an engagement.
    AgreementKind, "kind" {
        /// 秘密保持誓約書: the secretariat to the hospital (資料3).
        Pledge => "pledge",
        /// 秘密保持契約書: the secretariat and the company, per hospital (資料5).
        Nda => "nda",
    }
);

/// The articles that stay in force after the agreement ends (第8条).
pub const SURVIVING_ARTICLES: &str = "3-7";

/// The dates of a pledge or an NDA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgreementTerms {
    pub signed_on: Option<Date>,
    pub valid_from: Date,
    pub valid_until: Date,
}

impl AgreementTerms {
    /// Refuses an end before the start, or a signature dated after `today`.
    pub fn validate(&self, today: Date) -> Result<(), DomainError> {
        if self.valid_until < self.valid_from {
            return Err(DomainError::invalid(
                "valid_until",
                format!(
                    "the end {} precedes the start {}",
                    self.valid_until, self.valid_from
                ),
            ));
        }
        if let Some(signed) = self.signed_on
            && signed > today
        {
            return Err(DomainError::invalid(
                "signed_on",
                format!("{signed} is in the future (today is {today})"),
            ));
        }
        Ok(())
    }

    /// Signed, and `day` lies within the validity period.
    pub fn in_force_on(&self, day: Date) -> bool {
        self.signed_on.is_some() && self.valid_from <= day && day <= self.valid_until
    }
}

/// The default labour cap per engagement (資料4 §8: 人件費で300万円を上限).
pub const DEFAULT_LABOUR_CAP_YEN: i64 = 3_000_000;

/// "¥3,000,000": yen with thousands separators.
pub fn format_yen(amount: i64) -> String {
    let digits = amount.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    format!("{}¥{out}", if amount < 0 { "-" } else { "" })
}

/// What a company asks for one engagement (資料4 §8⑤: 工数（調査、図書作成）、
/// 出張旅費、必要経費（消耗品等）).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EstimateFigures {
    pub labour_hours: f64,
    pub labour_cost_yen: i64,
    pub trips: i64,
    pub travel_yen: i64,
    pub consumables_yen: i64,
}

/// Hours and amounts beyond any real survey: a typing slip, not a plan.
const MAX_HOURS: f64 = 10_000.0;
const MAX_YEN: i64 = 1_000_000_000;

impl EstimateFigures {
    pub fn total_yen(&self) -> i64 {
        self.labour_cost_yen + self.travel_yen + self.consumables_yen
    }

    /// Refuses negative or absurd figures, and a labour cost over the cap,
    /// naming the cap and the amount.
    pub fn validate(&self, cap_yen: i64) -> Result<(), DomainError> {
        if !self.labour_hours.is_finite()
            || self.labour_hours <= 0.0
            || self.labour_hours > MAX_HOURS
        {
            return Err(DomainError::invalid(
                "labour_hours",
                format!("must be more than 0 and at most {MAX_HOURS} hours"),
            ));
        }
        for (field, value) in [
            ("labour_cost_yen", self.labour_cost_yen),
            ("trips", self.trips),
            ("travel_yen", self.travel_yen),
            ("consumables_yen", self.consumables_yen),
        ] {
            if !(0..=MAX_YEN).contains(&value) {
                return Err(DomainError::invalid(
                    field,
                    format!("{value} is out of range"),
                ));
            }
        }
        if self.labour_cost_yen > cap_yen {
            return Err(DomainError::invalid(
                "labour_cost_yen",
                format!(
                    "the labour cost {} exceeds the cap {} by {}",
                    format_yen(self.labour_cost_yen),
                    format_yen(cap_yen),
                    format_yen(self.labour_cost_yen - cap_yen)
                ),
            ));
        }
        Ok(())
    }
}

slug_enum!(
    /// What the secretariat pays a hospital (資料1 §2④).
    PaymentKind, "payment_kind" {
        /// 謝金: time staff spent at hearings, at the programme's hourly rate.
        Honorarium => "honorarium",
        /// 費用: what the hospital paid, e.g. its system company's work.
        Reimbursement => "reimbursement",
    }
);

/// A honorarium in whole yen: hours × rate, rounded to the nearest yen.
pub fn honorarium_yen(hours: f64, rate_yen: i64) -> Result<i64, DomainError> {
    if !hours.is_finite() || hours <= 0.0 || hours > 100.0 {
        return Err(DomainError::invalid(
            "hours",
            "must be more than 0 and at most 100 hours",
        ));
    }
    if !(0..=1_000_000).contains(&rate_yen) {
        return Err(DomainError::invalid(
            "rate_yen",
            format!("{rate_yen} is out of range"),
        ));
    }
    Ok((hours * rate_yen as f64).round() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn end_before_start_and_future_signature_are_refused() {
        let today = date!(2022 - 12 - 01);
        let backwards = AgreementTerms {
            signed_on: None,
            valid_from: date!(2022 - 12 - 01),
            valid_until: date!(2022 - 11 - 30),
        };
        let err = backwards.validate(today).unwrap_err();
        assert!(matches!(
            err,
            DomainError::Invalid {
                field: "valid_until",
                ..
            }
        ));
        let future = AgreementTerms {
            signed_on: Some(date!(2022 - 12 - 02)),
            valid_from: date!(2022 - 12 - 01),
            valid_until: date!(2023 - 03 - 31),
        };
        let err = future.validate(today).unwrap_err();
        assert!(matches!(
            err,
            DomainError::Invalid {
                field: "signed_on",
                ..
            }
        ));
        assert!(
            AgreementTerms {
                signed_on: Some(today),
                ..future
            }
            .validate(today)
            .is_ok()
        );
    }

    #[test]
    fn in_force_only_when_signed_and_within_the_period() {
        let terms = AgreementTerms {
            signed_on: Some(date!(2022 - 11 - 25)),
            valid_from: date!(2022 - 12 - 01),
            valid_until: date!(2023 - 03 - 31),
        };
        assert!(!terms.in_force_on(date!(2022 - 11 - 30)));
        assert!(terms.in_force_on(date!(2022 - 12 - 01)));
        assert!(terms.in_force_on(date!(2023 - 03 - 31)));
        assert!(!terms.in_force_on(date!(2023 - 04 - 01)));
        let unsigned = AgreementTerms {
            signed_on: None,
            ..terms
        };
        assert!(!unsigned.in_force_on(date!(2023 - 01 - 01)));
    }

    #[test]
    fn an_estimate_over_the_cap_names_both_amounts() {
        let over = EstimateFigures {
            labour_hours: 320.0,
            labour_cost_yen: 3_200_000,
            trips: 3,
            travel_yen: 90_000,
            consumables_yen: 5_000,
        };
        let message = over
            .validate(DEFAULT_LABOUR_CAP_YEN)
            .unwrap_err()
            .to_string();
        assert!(message.contains("¥3,200,000"), "{message}");
        assert!(message.contains("¥3,000,000"), "{message}");
        assert!(message.contains("¥200,000"), "{message}");
        let within = EstimateFigures {
            labour_cost_yen: 3_000_000,
            ..over
        };
        assert!(within.validate(DEFAULT_LABOUR_CAP_YEN).is_ok());
        assert_eq!(within.total_yen(), 3_095_000);
        let negative = EstimateFigures {
            travel_yen: -1,
            ..within
        };
        assert!(negative.validate(DEFAULT_LABOUR_CAP_YEN).is_err());
        let nan = EstimateFigures {
            labour_hours: f64::NAN,
            ..within
        };
        assert!(nan.validate(DEFAULT_LABOUR_CAP_YEN).is_err());
    }

    #[test]
    fn yen_and_honoraria() {
        assert_eq!(format_yen(0), "¥0");
        assert_eq!(format_yen(999), "¥999");
        assert_eq!(format_yen(3_000_000), "¥3,000,000");
        assert_eq!(format_yen(-12_345), "-¥12,345");
        assert_eq!(honorarium_yen(1.5, 5_000), Ok(7_500));
        assert!(honorarium_yen(0.0, 5_000).is_err());
    }
}
