//! Organisations taking part in a programme and the people's roles in them.

use crate::DomainError;
use serde::{Deserialize, Serialize};

/// Declares an enum whose variants have stable slugs (used in the database,
/// the CLI, URLs and the message catalogue) and can be parsed back.
macro_rules! slug_enum {
    ($(#[$doc:meta])* $name:ident, $field:literal { $($(#[$vmeta:meta])* $variant:ident => $slug:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "kebab-case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn slug(self) -> &'static str {
                match self { $($name::$variant => $slug),+ }
            }

            pub fn parse(value: &str) -> Result<Self, $crate::DomainError> {
                match value.trim() {
                    $($slug => Ok($name::$variant),)+
                    other => Err($crate::DomainError::UnknownValue {
                        field: $field,
                        value: other.to_string(),
                        valid: Self::ALL.iter().map(|v| v.slug()).collect::<Vec<_>>().join(", "),
                    }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.slug())
            }
        }
    };
}
pub(crate) use slug_enum;

slug_enum!(
    /// The kinds of organisation in the seed's programme (DESIGN §1).
    OrgKind, "kind" {
        Secretariat => "secretariat",
        Supervisor => "supervisor",
        SurveyCompany => "survey-company",
        Hospital => "hospital",
        Ministry => "ministry",
        Vendor => "vendor",
    }
);

slug_enum!(
    /// A person's role inside their own organisation. What a member may do
    /// follows from the organisation's kind; an admin also manages its people.
    Role, "role" {
        Admin => "admin",
        Member => "member",
    }
);

slug_enum!(
    /// 開設者区分: who founded the hospital (the MHLW survey's grouping).
    FounderType, "founder_type" {
        National => "national",
        Public => "public",
        SocialInsurance => "social-insurance",
        MedicalCorporation => "medical-corporation",
        Individual => "individual",
        Other => "other",
    }
);

slug_enum!(
    /// How the hospital came into the programme (seed 資料4 §5: hospital
    /// association candidates, referrals by a survey company, the research
    /// lead's regional network, or an open call).
    RecruitmentRoute, "recruitment_route" {
        HospitalAssociation => "hospital-association",
        CompanyReferral => "company-referral",
        ResearchNetwork => "research-network",
        OpenCall => "open-call",
        Other => "other",
    }
);

slug_enum!(
    /// Language of a person's screens and messages. Japanese first.
    #[derive(Default)]
    Language, "language" {
        #[default]
        Japanese => "ja",
        English => "en",
    }
);

/// The 47 prefectures by JIS X 0401 code, with Japanese and English names.
pub const PREFECTURES: [(u8, &str, &str); 47] = [
    (1, "北海道", "Hokkaido"),
    (2, "青森県", "Aomori"),
    (3, "岩手県", "Iwate"),
    (4, "宮城県", "Miyagi"),
    (5, "秋田県", "Akita"),
    (6, "山形県", "Yamagata"),
    (7, "福島県", "Fukushima"),
    (8, "茨城県", "Ibaraki"),
    (9, "栃木県", "Tochigi"),
    (10, "群馬県", "Gunma"),
    (11, "埼玉県", "Saitama"),
    (12, "千葉県", "Chiba"),
    (13, "東京都", "Tokyo"),
    (14, "神奈川県", "Kanagawa"),
    (15, "新潟県", "Niigata"),
    (16, "富山県", "Toyama"),
    (17, "石川県", "Ishikawa"),
    (18, "福井県", "Fukui"),
    (19, "山梨県", "Yamanashi"),
    (20, "長野県", "Nagano"),
    (21, "岐阜県", "Gifu"),
    (22, "静岡県", "Shizuoka"),
    (23, "愛知県", "Aichi"),
    (24, "三重県", "Mie"),
    (25, "滋賀県", "Shiga"),
    (26, "京都府", "Kyoto"),
    (27, "大阪府", "Osaka"),
    (28, "兵庫県", "Hyogo"),
    (29, "奈良県", "Nara"),
    (30, "和歌山県", "Wakayama"),
    (31, "鳥取県", "Tottori"),
    (32, "島根県", "Shimane"),
    (33, "岡山県", "Okayama"),
    (34, "広島県", "Hiroshima"),
    (35, "山口県", "Yamaguchi"),
    (36, "徳島県", "Tokushima"),
    (37, "香川県", "Kagawa"),
    (38, "愛媛県", "Ehime"),
    (39, "高知県", "Kochi"),
    (40, "福岡県", "Fukuoka"),
    (41, "佐賀県", "Saga"),
    (42, "長崎県", "Nagasaki"),
    (43, "熊本県", "Kumamoto"),
    (44, "大分県", "Oita"),
    (45, "宮崎県", "Miyazaki"),
    (46, "鹿児島県", "Kagoshima"),
    (47, "沖縄県", "Okinawa"),
];

/// A prefecture, by its JIS code (1–47).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Prefecture(u8);

impl Prefecture {
    pub fn from_code(code: u8) -> Result<Self, DomainError> {
        if (1..=47).contains(&code) {
            Ok(Prefecture(code))
        } else {
            Err(DomainError::invalid(
                "prefecture",
                format!("{code} is not a prefecture code (1–47)"),
            ))
        }
    }

    /// Accepts the code, the Japanese name (with or without 都道府県) or the English name.
    pub fn parse(value: &str) -> Result<Self, DomainError> {
        let value = value.trim();
        if let Ok(code) = value.parse::<u8>() {
            return Self::from_code(code);
        }
        PREFECTURES
            .iter()
            .find(|(_, ja, en)| {
                *ja == value
                    || ja.trim_end_matches(['都', '道', '府', '県']) == value
                    || en.eq_ignore_ascii_case(value)
            })
            .map(|(code, _, _)| Prefecture(*code))
            .ok_or_else(|| {
                DomainError::invalid("prefecture", format!("`{value}` is not a prefecture"))
            })
    }

    pub fn code(self) -> u8 {
        self.0
    }

    pub fn name_ja(self) -> &'static str {
        PREFECTURES[usize::from(self.0) - 1].1
    }

    pub fn name_en(self) -> &'static str {
        PREFECTURES[usize::from(self.0) - 1].2
    }

    pub fn name(self, language: Language) -> &'static str {
        match language {
            Language::Japanese => self.name_ja(),
            Language::English => self.name_en(),
        }
    }
}

impl TryFrom<u8> for Prefecture {
    type Error = DomainError;
    fn try_from(code: u8) -> Result<Self, Self::Error> {
        Self::from_code(code)
    }
}

impl From<Prefecture> for u8 {
    fn from(p: Prefecture) -> u8 {
        p.0
    }
}

/// The facts a hospital organisation carries beyond its name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HospitalAttributes {
    pub prefecture: Prefecture,
    pub bed_count: u32,
    pub founder_type: FounderType,
    pub recruitment_route: RecruitmentRoute,
}

/// The largest hospital in Japan has about 1,500 beds; anything far above is a typo.
pub const MAX_BED_COUNT: u32 = 5_000;

impl HospitalAttributes {
    pub fn new(
        prefecture: Prefecture,
        bed_count: u32,
        founder_type: FounderType,
        recruitment_route: RecruitmentRoute,
    ) -> Result<Self, DomainError> {
        if bed_count > MAX_BED_COUNT {
            return Err(DomainError::invalid(
                "bed_count",
                format!("{bed_count} beds is more than {MAX_BED_COUNT}"),
            ));
        }
        Ok(Self {
            prefecture,
            bed_count,
            founder_type,
            recruitment_route,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_unknown_lists_valid_values() {
        for kind in OrgKind::ALL {
            assert_eq!(OrgKind::parse(kind.slug()), Ok(*kind));
        }
        let err = OrgKind::parse("clinic").unwrap_err();
        let message = err.to_string();
        assert!(message.contains("clinic"), "{message}");
        assert!(message.contains("survey-company"), "{message}");
    }

    #[test]
    fn prefectures_parse_by_code_and_names() {
        assert_eq!(Prefecture::parse("32").map(|p| p.name_ja()), Ok("島根県"));
        assert_eq!(Prefecture::parse("島根").map(|p| p.code()), Ok(32));
        assert_eq!(Prefecture::parse("東京都").map(|p| p.code()), Ok(13));
        assert_eq!(Prefecture::parse("osaka").map(|p| p.code()), Ok(27));
        assert!(Prefecture::parse("0").is_err());
        assert!(Prefecture::parse("48").is_err());
        assert!(Prefecture::parse("Atlantis").is_err());
    }

    #[test]
    fn bed_count_has_an_upper_bound() {
        let p = Prefecture::from_code(1).unwrap();
        assert!(
            HospitalAttributes::new(p, 50_000, FounderType::Public, RecruitmentRoute::Other)
                .is_err()
        );
        assert!(
            HospitalAttributes::new(p, 199, FounderType::Public, RecruitmentRoute::Other).is_ok()
        );
    }
}
