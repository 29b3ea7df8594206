//! The programme's letters as templates the secretariat can edit.
//!
//! Three kinds, modelled on the programme's own forms: the request letter to
//! a hospital (資料2 病院向け依頼状), the confidentiality pledge the
//! secretariat gives each hospital (資料3 秘密保持誓約書) and the NDA between
//! the secretariat and a survey company for one hospital (資料5 秘密保持契約書).
//!
//! Templates are MiniJinja (`{{ hospital.name }}`). Merge fields are plain
//! strings the caller has already formatted (dates with
//! [`crate::dates::japanese_date`]). Undefined is strict: a template that
//! uses a field its letter does not have is refused, naming the field, so a
//! typo never prints an empty gap into a signed document.
//!
//! Two layout marks at the start of a line are understood by
//! [`crate::pdf::letter_pdf`] and are plain text everywhere else:
//! `# ` makes a centred heading and `>> ` aligns the line to the right
//! (dates, the sender's block).

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use minijinja::syntax::SyntaxConfig;
use minijinja::value::Serde;
use minijinja::{AutoEscape, Environment, ErrorKind, UndefinedBehavior};
use serde_json::{Map, Value};

use crate::DocumentError;

/// Longest template accepted: the longest default is under 10 kB.
pub const MAX_TEMPLATE_BYTES: usize = 64 * 1024;

// Each instruction costs one unit; the defaults need a few hundred. This stops
// a loop in an edited template from holding a server thread.
const FUEL: u64 = 100_000;

/// Which letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LetterKind {
    /// 依頼状: asks a hospital to take part (資料2).
    RequestLetter,
    /// 秘密保持誓約書: the secretariat's pledge to the hospital (資料3).
    Pledge,
    /// 秘密保持契約書: secretariat (甲) and survey company (乙), per hospital (資料5).
    Nda,
}

/// One merge field a letter offers, with help text for the editor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MergeField {
    /// Dotted name as written in the template, e.g. `hospital.name`.
    pub name: &'static str,
    pub description_ja: &'static str,
    pub description_en: &'static str,
}

const fn field(
    name: &'static str,
    description_ja: &'static str,
    description_en: &'static str,
) -> MergeField {
    MergeField {
        name,
        description_ja,
        description_en,
    }
}

const ISSUED_ON: MergeField = field("issued_on", "発行日（例: 2022年11月21日）", "Date of issue");
const HOSPITAL_NAME: MergeField = field("hospital.name", "病院名", "Hospital name");
const HOSPITAL_DIRECTOR: MergeField = field(
    "hospital.director",
    "病院長の氏名",
    "Hospital director's name",
);
const CONTACT_DEPARTMENT: MergeField = field(
    "contact.department",
    "病院の担当者の部署名",
    "Hospital contact's department",
);
const CONTACT_TITLE: MergeField = field(
    "contact.title",
    "病院の担当者の役職名",
    "Hospital contact's job title",
);
const CONTACT_NAME: MergeField = field(
    "contact.name",
    "病院の担当者の氏名",
    "Hospital contact's name",
);
const PROGRAMME_NAME: MergeField = field(
    "programme.name",
    "調査研究の名称",
    "Name of the research programme",
);
const PROGRAMME_FISCAL_YEAR: MergeField = field(
    "programme.fiscal_year_label",
    "年度（例: 令和4年度）",
    "Fiscal year label (e.g. 令和4年度)",
);
const SECRETARIAT_NAME: MergeField = field(
    "secretariat.name",
    "研究事務局の法人名",
    "Secretariat's legal name",
);
const SECRETARIAT_ADDRESS: MergeField = field(
    "secretariat.address",
    "研究事務局の所在地",
    "Secretariat's address",
);
const SECRETARIAT_REPRESENTATIVE: MergeField = field(
    "secretariat.representative",
    "研究事務局の代表者（役職と氏名、例: 理事長 佐藤 一郎）",
    "Secretariat's representative (title and name)",
);
const SECRETARIAT_EMAIL: MergeField = field(
    "secretariat.email",
    "研究事務局の連絡先メールアドレス",
    "Secretariat's contact email address",
);
const RESEARCH_LEAD: MergeField =
    field("research_lead", "研究代表者の氏名", "Research lead's name");
const INTENT_SOURCE: MergeField = field(
    "intent_source",
    "意向調査を行った団体（例: 一般社団法人日本病院会）",
    "Body that ran the survey of intent (e.g. 一般社団法人日本病院会)",
);
const COMPANY_NAME: MergeField = field(
    "company.name",
    "調査担当企業の名称（乙）",
    "Survey company's name (party B)",
);
const COMPANY_ADDRESS: MergeField = field(
    "company.address",
    "調査担当企業の所在地",
    "Survey company's address",
);
const COMPANY_REPRESENTATIVE: MergeField = field(
    "company.representative",
    "調査担当企業の代表者（役職と氏名）",
    "Survey company's representative (title and name)",
);
const VALID_FROM: MergeField = field("valid_from", "有効期間の開始日", "First day of validity");
const VALID_UNTIL: MergeField = field("valid_until", "有効期間の終了日", "Last day of validity");
const SURVIVING_ARTICLES: MergeField = field(
    "surviving_articles",
    "有効期間後も存続する条項（例: 第3条から第7条）",
    "Articles that survive the term (e.g. 第3条から第7条)",
);

const REQUEST_LETTER_FIELDS: &[MergeField] = &[
    ISSUED_ON,
    HOSPITAL_NAME,
    HOSPITAL_DIRECTOR,
    CONTACT_DEPARTMENT,
    CONTACT_TITLE,
    CONTACT_NAME,
    PROGRAMME_NAME,
    PROGRAMME_FISCAL_YEAR,
    SECRETARIAT_NAME,
    SECRETARIAT_ADDRESS,
    SECRETARIAT_EMAIL,
    RESEARCH_LEAD,
    INTENT_SOURCE,
];

const PLEDGE_FIELDS: &[MergeField] = &[
    ISSUED_ON,
    HOSPITAL_NAME,
    SECRETARIAT_NAME,
    SECRETARIAT_ADDRESS,
    SECRETARIAT_REPRESENTATIVE,
    VALID_FROM,
    VALID_UNTIL,
    SURVIVING_ARTICLES,
];

const NDA_FIELDS: &[MergeField] = &[
    ISSUED_ON,
    SECRETARIAT_NAME,
    SECRETARIAT_ADDRESS,
    SECRETARIAT_REPRESENTATIVE,
    COMPANY_NAME,
    COMPANY_ADDRESS,
    COMPANY_REPRESENTATIVE,
    HOSPITAL_NAME,
    VALID_FROM,
    VALID_UNTIL,
    SURVIVING_ARTICLES,
];

/// Sample values for the editor's preview: invented names, real shapes.
fn sample_value(name: &str) -> &'static str {
    match name {
        "issued_on" => "2022年11月21日",
        "hospital.name" => "医療法人社団 さくら台総合病院",
        "hospital.director" => "山田 太郎",
        "contact.department" => "医療情報システム課",
        "contact.title" => "課長",
        "contact.name" => "鈴木 花子",
        "programme.name" => {
            "医療分野の情報化の推進に伴う医療機関等におけるサイバーセキュリティ対策のあり方に関する調査研究"
        }
        "programme.fiscal_year_label" => "令和4年度",
        "secretariat.name" => "特定非営利活動法人 医療情報安全研究機構",
        "secretariat.address" => "〒370-0000 群馬県高崎市見本町1-2-3",
        "secretariat.representative" => "理事長 佐藤 一郎",
        "secretariat.email" => "research@secretariat.example.jp",
        "research_lead" => "高橋 健一",
        "intent_source" => "一般社団法人日本病院会",
        "company.name" => "みなとセキュリティ株式会社",
        "company.address" => "〒105-0000 東京都港区見本9-8-7",
        "company.representative" => "代表取締役 田中 次郎",
        "valid_from" => "2022年12月1日",
        "valid_until" => "2023年3月31日",
        "surviving_articles" => "第3条から第7条",
        _ => "",
    }
}

impl LetterKind {
    /// Every kind, in the order the programme sends them.
    pub const ALL: [LetterKind; 3] = [
        LetterKind::RequestLetter,
        LetterKind::Pledge,
        LetterKind::Nda,
    ];

    /// Stable identifier for URLs and storage.
    pub fn slug(self) -> &'static str {
        match self {
            LetterKind::RequestLetter => "request-letter",
            LetterKind::Pledge => "pledge",
            LetterKind::Nda => "nda",
        }
    }

    /// The kind for a [`slug`](Self::slug).
    pub fn parse(slug: &str) -> Result<LetterKind, DocumentError> {
        LetterKind::ALL
            .into_iter()
            .find(|kind| kind.slug() == slug)
            .ok_or_else(|| DocumentError::UnknownLetterKind(slug.to_owned()))
    }

    pub fn title_ja(self) -> &'static str {
        match self {
            LetterKind::RequestLetter => "依頼状",
            LetterKind::Pledge => "秘密保持誓約書",
            LetterKind::Nda => "秘密保持契約書",
        }
    }

    pub fn title_en(self) -> &'static str {
        match self {
            LetterKind::RequestLetter => "Request letter",
            LetterKind::Pledge => "Confidentiality pledge",
            LetterKind::Nda => "Non-disclosure agreement",
        }
    }

    /// The shipped Japanese template, modelled on the programme's form.
    pub fn default_template(self) -> &'static str {
        match self {
            LetterKind::RequestLetter => include_str!("../templates/request-letter.txt"),
            LetterKind::Pledge => include_str!("../templates/pledge.txt"),
            LetterKind::Nda => include_str!("../templates/nda.txt"),
        }
    }

    /// The merge fields this letter offers.
    pub fn fields(self) -> &'static [MergeField] {
        match self {
            LetterKind::RequestLetter => REQUEST_LETTER_FIELDS,
            LetterKind::Pledge => PLEDGE_FIELDS,
            LetterKind::Nda => NDA_FIELDS,
        }
    }

    /// A context with every field of this letter filled with sample values,
    /// nested as the template sees it (`{"hospital": {"name": …}}`).
    pub fn sample_context(self) -> Value {
        let mut root = Map::new();
        for field in self.fields() {
            insert_path(&mut root, field.name, sample_value(field.name));
        }
        Value::Object(root)
    }
}

impl fmt::Display for LetterKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.slug())
    }
}

impl FromStr for LetterKind {
    type Err = DocumentError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LetterKind::parse(s)
    }
}

fn insert_path(root: &mut Map<String, Value>, dotted: &str, value: &str) {
    let mut map = root;
    let mut parts = dotted.split('.').peekable();
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            map.insert(part.to_owned(), Value::String(value.to_owned()));
            return;
        }
        let entry = map
            .entry(part.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        match entry {
            Value::Object(inner) => map = inner,
            _ => return,
        }
    }
}

/// Whether `dotted` names a value in `context` (`hospital.name` → context
/// has an object `hospital` with a key `name`).
fn has_path(context: &Value, dotted: &str) -> bool {
    let mut current = context;
    for part in dotted.split('.') {
        match current.get(part) {
            Some(next) => current = next,
            None => return false,
        }
    }
    true
}

/// First line (1-based) where `field` appears, to point the editor at it.
fn line_of(template: &str, field: &str) -> Option<usize> {
    template
        .lines()
        .position(|line| line.contains(field))
        .map(|i| i + 1)
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // Letters are plain text: HTML escaping would print `&amp;` into them.
    env.set_auto_escape_callback(|_| AutoEscape::None);
    // Block tags on a line of their own leave no blank line behind, as a
    // secretariat editing a letter would expect.
    if let Ok(syntax) = SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(true)
        .build()
    {
        env.set_syntax(syntax);
    }
    env.set_fuel(Some(FUEL));
    env
}

/// Render `template` with `context` (a JSON object of merge fields).
///
/// Refuses, with the line where possible: a syntax error, a field that the
/// context does not have (named), a template over [`MAX_TEMPLATE_BYTES`], and
/// a template that runs too long.
pub fn render_letter(template: &str, context: &Value) -> Result<String, DocumentError> {
    if template.len() > MAX_TEMPLATE_BYTES {
        return Err(DocumentError::TemplateTooLarge {
            len: template.len(),
            max: MAX_TEMPLATE_BYTES,
        });
    }
    let env = environment();
    let compiled =
        env.template_from_str(template)
            .map_err(|err| DocumentError::TemplateSyntax {
                line: err.line().unwrap_or(1),
                message: error_message(&err),
            })?;

    // Check every field up front, so the error names it (MiniJinja's own
    // message only says "undefined value").
    let globals: BTreeSet<String> = env.globals().map(|(name, _)| name.to_owned()).collect();
    let mut used: Vec<String> = compiled
        .undeclared_variables(true)
        .into_iter()
        .filter(|name| {
            let root = name.split('.').next().unwrap_or(name);
            !globals.contains(root)
        })
        .collect();
    used.sort();
    if let Some(missing) = used.iter().find(|name| !has_path(context, name)) {
        return Err(DocumentError::UnknownField {
            line: line_of(template, missing),
            field: missing.clone(),
        });
    }

    compiled
        .render(Serde(context))
        .map_err(|err| match err.kind() {
            ErrorKind::UndefinedError => DocumentError::UnknownField {
                field: err
                    .detail()
                    .map(str::to_owned)
                    .unwrap_or_else(|| "(unknown)".to_owned()),
                line: err.line(),
            },
            _ => DocumentError::TemplateRender {
                line: err.line(),
                message: error_message(&err),
            },
        })
}

/// Check an edited template of `kind` by rendering it against the kind's
/// [`sample_context`](LetterKind::sample_context): it uses only this
/// letter's fields and parses.
pub fn check_template(kind: LetterKind, template: &str) -> Result<(), DocumentError> {
    render_letter(template, &kind.sample_context()).map(|_| ())
}

fn error_message(err: &minijinja::Error) -> String {
    match err.detail() {
        Some(detail) => detail.to_owned(),
        None => err.kind().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn slugs_round_trip() {
        for kind in LetterKind::ALL {
            assert_eq!(LetterKind::parse(kind.slug()).unwrap(), kind);
            assert_eq!(kind.to_string().parse::<LetterKind>().unwrap(), kind);
        }
        assert!(matches!(
            LetterKind::parse("invoice"),
            Err(DocumentError::UnknownLetterKind(s)) if s == "invoice"
        ));
        assert_eq!(LetterKind::Pledge.title_ja(), "秘密保持誓約書");
        assert_eq!(LetterKind::Nda.title_ja(), "秘密保持契約書");
        assert_eq!(LetterKind::RequestLetter.title_ja(), "依頼状");
    }

    #[test]
    fn every_default_renders_with_its_sample_and_shows_the_names() {
        for kind in LetterKind::ALL {
            let context = kind.sample_context();
            let text = render_letter(kind.default_template(), &context).unwrap();
            for field in kind.fields() {
                let value = sample_value(field.name);
                assert!(!value.is_empty(), "{} has no sample", field.name);
                assert!(
                    text.contains(value),
                    "{}: {} ({value}) missing from the rendered letter",
                    kind.slug(),
                    field.name
                );
            }
            assert!(!text.contains("{{"), "{}: unrendered tag", kind.slug());
            assert!(!text.contains('*'), "{}: placeholder left", kind.slug());
            check_template(kind, kind.default_template()).unwrap();
        }
    }

    #[test]
    fn defaults_use_exactly_their_fields() {
        let env = environment();
        for kind in LetterKind::ALL {
            let compiled = env.template_from_str(kind.default_template()).unwrap();
            let used: BTreeSet<String> = compiled.undeclared_variables(true).into_iter().collect();
            let offered: BTreeSet<String> =
                kind.fields().iter().map(|f| f.name.to_owned()).collect();
            assert_eq!(used, offered, "{}", kind.slug());
        }
    }

    #[test]
    fn articles_follow_the_forms() {
        let pledge = render_letter(
            LetterKind::Pledge.default_template(),
            &LetterKind::Pledge.sample_context(),
        )
        .unwrap();
        for n in 1..=8 {
            assert!(pledge.contains(&format!("\n第{n}条（")), "pledge 第{n}条");
        }
        assert!(!pledge.contains("第9条（"));
        assert!(pledge.contains("2022年12月1日から2023年3月31日までとする"));

        let nda = render_letter(
            LetterKind::Nda.default_template(),
            &LetterKind::Nda.sample_context(),
        )
        .unwrap();
        for n in 1..=9 {
            assert!(nda.contains(&format!("\n第{n}条（")), "nda 第{n}条");
        }
        assert!(nda.contains("みなとセキュリティ株式会社（以下「乙」という）"));
        assert!(nda.contains("医療法人社団 さくら台総合病院（以下「調査対象病院」という）"));
    }

    #[test]
    fn unknown_field_is_refused_by_name() {
        let template = "拝啓\n{{ hospital.name }} 様\n{{ hospital.nmae }}\n";
        let err = check_template(LetterKind::Pledge, template).unwrap_err();
        match &err {
            DocumentError::UnknownField { field, line } => {
                assert_eq!(field, "hospital.nmae");
                assert_eq!(*line, Some(3));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(err.to_string().contains("hospital.nmae"));

        // A field of another letter is unknown here too.
        let err = check_template(LetterKind::Pledge, "{{ company.name }}").unwrap_err();
        assert!(
            matches!(err, DocumentError::UnknownField { field, .. } if field == "company.name")
        );

        // Top-level and inside a block.
        let err = render_letter("{% if true %}{{ nobody }}{% endif %}", &json!({})).unwrap_err();
        assert!(matches!(err, DocumentError::UnknownField { field, .. } if field == "nobody"));
    }

    #[test]
    fn dynamic_lookup_of_a_missing_key_is_still_refused() {
        let err = render_letter(
            "{{ hospital['na' ~ 'me'] }}{{ hospital['x' ~ 'y'] }}",
            &json!({"hospital": {"name": "A"}}),
        )
        .unwrap_err();
        assert!(matches!(err, DocumentError::UnknownField { .. }), "{err:?}");
    }

    #[test]
    fn syntax_error_is_refused_with_its_line() {
        let template = "一行目\n二行目\n{{ hospital.name | }}\n四行目\n";
        let err = check_template(LetterKind::Pledge, template).unwrap_err();
        match err {
            DocumentError::TemplateSyntax { line, ref message } => {
                assert_eq!(line, 3, "{message}");
            }
            other => panic!("unexpected {other:?}"),
        }
        let err = check_template(LetterKind::Pledge, "a\n{% if %}\n").unwrap_err();
        assert!(
            matches!(err, DocumentError::TemplateSyntax { line: 2, .. }),
            "{err:?}"
        );
        let err = check_template(LetterKind::Pledge, "{% endfor %}").unwrap_err();
        assert!(err.to_string().contains("line 1"), "{err}");
    }

    #[test]
    fn runaway_and_oversized_templates_are_refused() {
        let err = render_letter(
            "{% for a in range(1000) %}{% for b in range(1000) %}x{% endfor %}{% endfor %}",
            &json!({}),
        )
        .unwrap_err();
        assert!(
            matches!(err, DocumentError::TemplateRender { .. }),
            "{err:?}"
        );

        let big = "あ".repeat(MAX_TEMPLATE_BYTES);
        assert!(matches!(
            render_letter(&big, &json!({})),
            Err(DocumentError::TemplateTooLarge { .. })
        ));
    }

    #[test]
    fn values_are_not_html_escaped() {
        let text = render_letter(
            "{{ company.name }}",
            &json!({"company": {"name": "A&B <株>"}}),
        )
        .unwrap();
        assert_eq!(text, "A&B <株>");
    }
}
