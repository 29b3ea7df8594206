use super::*;
use proptest::prelude::*;

fn name(s: &str) -> CpeName {
    CpeName::parse(s).unwrap_or_else(|e| panic!("`{s}` should parse: {e}"))
}

fn err(s: &str) -> String {
    match CpeName::parse(s) {
        Ok(n) => panic!("`{s}` should be refused, parsed as {n}"),
        Err(e) => e.to_string(),
    }
}

fn val(s: &str) -> CpeValue {
    CpeValue::Value(s.to_string())
}

// --- well-formed formatted strings -----------------------------------------

#[test]
fn fortios_formatted_string() {
    let n = name("cpe:2.3:o:fortinet:fortios:7.0.12:*:*:*:*:*:*:*");
    assert_eq!(n.part(), &val("o"));
    assert_eq!(n.vendor(), &val("fortinet"));
    assert_eq!(n.product(), &val("fortios"));
    assert_eq!(n.version(), &val("7.0.12"));
    for attribute in &Attribute::ALL[4..] {
        assert_eq!(n.get(*attribute), &CpeValue::Any, "{attribute}");
    }
    assert_eq!(
        n.to_string(),
        "cpe:2.3:o:fortinet:fortios:7.0.12:*:*:*:*:*:*:*"
    );
    assert_eq!(
        n.vendor_product_key(),
        ("fortinet".into(), "fortios".into())
    );
}

#[test]
fn internet_explorer_beta() {
    let n = name("cpe:2.3:a:microsoft:internet_explorer:8.0.6001:beta:*:*:*:*:*:*");
    assert_eq!(n.product(), &val("internet_explorer"));
    assert_eq!(n.version(), &val("8.0.6001"));
    assert_eq!(n.update(), &val("beta"));
    assert_eq!(n.edition(), &CpeValue::Any);
    assert_eq!(
        n.to_formatted_string(),
        "cpe:2.3:a:microsoft:internet_explorer:8.0.6001:beta:*:*:*:*:*:*"
    );
}

#[test]
fn hp_insight_diagnostics_with_na_and_targets() {
    let n = name("cpe:2.3:a:hp:insight_diagnostics:7.4.0.1570:-:*:*:online:win2003:x64:*");
    assert_eq!(n.update(), &CpeValue::Na);
    assert!(n.update().is_na());
    assert_eq!(n.edition(), &CpeValue::Any);
    assert_eq!(n.language(), &CpeValue::Any);
    assert_eq!(n.sw_edition(), &val("online"));
    assert_eq!(n.target_sw(), &val("win2003"));
    assert_eq!(n.target_hw(), &val("x64"));
    assert_eq!(n.other(), &CpeValue::Any);
    assert_eq!(
        n.to_string(),
        "cpe:2.3:a:hp:insight_diagnostics:7.4.0.1570:-:*:*:online:win2003:x64:*"
    );
}

#[test]
fn quoted_backslash_and_dollar() {
    // NISTIR 7695 §6.2.3 example.
    let n = name(r"cpe:2.3:a:foo\\bar:big\$money:2010:*:*:*:special:ipod_touch:80gb:*");
    assert_eq!(n.vendor(), &val(r"foo\\bar"));
    assert_eq!(n.vendor().unquoted().as_deref(), Some(r"foo\bar"));
    assert_eq!(n.product(), &val(r"big\$money"));
    assert_eq!(n.product().unquoted().as_deref(), Some("big$money"));
    assert_eq!(n.target_hw(), &val("80gb"));
}

#[test]
fn quoted_colon_is_not_a_separator() {
    let n = name(r"cpe:2.3:a:foo\:bar:baz\:\:qux:1.0:*:*:*:*:*:*:*");
    assert_eq!(n.vendor(), &val(r"foo\:bar"));
    assert_eq!(n.product(), &val(r"baz\:\:qux"));
    assert_eq!(n.product().unquoted().as_deref(), Some("baz::qux"));
    assert_eq!(n.version(), &val("1.0"));
    assert_eq!(
        n.to_string(),
        r"cpe:2.3:a:foo\:bar:baz\:\:qux:1.0:*:*:*:*:*:*:*"
    );
}

#[test]
fn quoted_period_hyphen_underscore_become_unquoted() {
    let n = name(r"cpe:2.3:a:microsoft:\.net_framework:4\.5\-rc\_1:*:*:*:*:*:*:*");
    assert_eq!(n.product(), &val(".net_framework"));
    assert_eq!(n.version(), &val("4.5-rc_1"));
    assert_eq!(
        n.to_string(),
        "cpe:2.3:a:microsoft:.net_framework:4.5-rc_1:*:*:*:*:*:*:*"
    );
}

#[test]
fn quoted_parentheses_in_cisco_version() {
    let n = name(r"cpe:2.3:o:cisco:ios:15.2\(4\)M:*:*:*:*:*:*:*");
    assert_eq!(n.version(), &val(r"15.2\(4\)m"));
    assert_eq!(n.version().unquoted().as_deref(), Some("15.2(4)m"));
    assert!(!n.version().has_wildcards());
}

#[test]
fn letters_are_lower_cased_and_whitespace_trimmed() {
    let n = name("  CPE:2.3:A:Microsoft:Windows_10:1607:*:*:EN-US:*:*:X64:*\n");
    assert_eq!(
        n.to_string(),
        "cpe:2.3:a:microsoft:windows_10:1607:*:*:en-us:*:*:x64:*"
    );
    assert_eq!(n.language(), &val("en-us"));
}

#[test]
fn wildcards_and_quoted_wildcards() {
    let n = name(r"cpe:2.3:a:microsoft:internet_explorer:8.\*:sp?:*:*:*:*:*:*");
    assert_eq!(n.version(), &val(r"8.\*"));
    assert!(!n.version().has_wildcards());
    assert_eq!(n.update(), &val("sp?"));
    assert!(n.update().has_wildcards());
    let n = name("cpe:2.3:a:*soft:??ternet_explorer:8.*:*:*:*:*:*:*:*");
    assert_eq!(n.vendor(), &val("*soft"));
    assert_eq!(n.product(), &val("??ternet_explorer"));
    assert_eq!(n.version(), &val("8.*"));
}

#[test]
fn lone_literal_hyphen_stays_apart_from_na() {
    let n = name(r"cpe:2.3:a:foo:bar:\-:-:*:*:*:*:*:*");
    assert_eq!(n.version(), &val(r"\-"));
    assert_eq!(n.update(), &CpeValue::Na);
    assert_eq!(n.to_string(), r"cpe:2.3:a:foo:bar:\-:-:*:*:*:*:*:*");
    assert_eq!(CpeName::parse(&n.to_string()), Ok(n));
}

#[test]
fn part_may_be_any_or_na() {
    assert_eq!(name("cpe:2.3:*:*:*:*:*:*:*:*:*:*:*"), CpeName::default());
    assert_eq!(name("cpe:2.3:-:a:b:*:*:*:*:*:*:*:*").part(), &CpeValue::Na);
}

#[test]
fn language_tags() {
    for (tag, canonical) in [
        ("en", "en"),
        ("EN-us", "en-us"),
        ("ja", "ja"),
        ("es-419", "es-419"),
        ("fil", "fil"),
        (r"en\-gb", "en-gb"),
    ] {
        let n = name(&format!("cpe:2.3:a:v:p:1:*:*:{tag}:*:*:*:*"));
        assert_eq!(n.language(), &val(canonical), "{tag}");
    }
    for bad in ["english", "e", "en-u", "en-1234", "en_us", "en*", "12"] {
        let message = err(&format!("cpe:2.3:a:v:p:1:*:*:{bad}:*:*:*:*"));
        assert!(message.starts_with("language `"), "{bad}: {message}");
    }
}

#[test]
fn from_str_and_serde_use_the_formatted_string() {
    let n: CpeName = "cpe:/o:cisco:ios:15.2%284%29m".parse().unwrap();
    let json = serde_json::to_string(&n).unwrap();
    assert_eq!(json, r#""cpe:2.3:o:cisco:ios:15.2\\(4\\)m:*:*:*:*:*:*:*""#);
    let back: CpeName = serde_json::from_str(&json).unwrap();
    assert_eq!(back, n);
    let bad = serde_json::from_str::<CpeName>(r#""cpe:2.3:x:a:b""#).unwrap_err();
    assert!(
        bad.to_string().contains("5 components, expected 13"),
        "{bad}"
    );
}

// --- malformed formatted strings -------------------------------------------

#[test]
fn empty_input() {
    assert_eq!(err(""), "the CPE name is empty");
    assert_eq!(err(" \t\n"), "the CPE name is empty");
}

#[test]
fn wrong_prefix() {
    assert_eq!(
        err("microsoft windows"),
        "`microsoft windows` is not a CPE name: it must start with `cpe:2.3:` (formatted string) or `cpe:/` (CPE 2.2 URI)"
    );
    assert!(err("cpe:2.2:a:b:c").starts_with("`cpe:2.2:a:b:c` is not a CPE name"));
    assert!(
        err("wfn:[part=\"a\",vendor=\"microsoft\"]")
            .starts_with("`wfn:[part=\"a\",vendor=\"mi…` is not")
    );
}

#[test]
fn wrong_number_of_components() {
    assert_eq!(
        err("cpe:2.3:o:fortinet:fortios:7.0.12:*:*:*:*:*:*"),
        "12 components, expected 13 (`cpe`, `2.3` and 11 attributes; a literal `:` is written `\\:`)"
    );
    assert!(
        err("cpe:2.3:a:foo:bar:baz:1.0:*:*:*:*:*:*:*").starts_with("14 components, expected 13")
    );
    assert!(err("cpe:2.3:").starts_with("3 components, expected 13"));
}

#[test]
fn empty_component() {
    assert_eq!(
        err("cpe:2.3:a:microsoft::8.0:*:*:*:*:*:*:*"),
        "component 3 (product) is empty"
    );
    assert_eq!(
        err("cpe:2.3:a:microsoft:ie:8.0:*:*:*:*:*:*:"),
        "component 11 (other) is empty"
    );
    assert_eq!(
        err("cpe:2.3::microsoft:ie:8.0:*:*:*:*:*:*:*"),
        "component 1 (part) is empty"
    );
}

#[test]
fn unknown_part() {
    assert_eq!(
        err("cpe:2.3:x:microsoft:ie:8.0:*:*:*:*:*:*:*"),
        "unknown part `x` (valid: a, o, h, * or -)"
    );
    assert!(err("cpe:2.3:app:microsoft:ie:8.0:*:*:*:*:*:*:*").starts_with("unknown part `app`"));
}

#[test]
fn unquoted_punctuation() {
    assert_eq!(
        err("cpe:2.3:a:yahoo!:messenger:1:*:*:*:*:*:*:*"),
        "unquoted `!` in vendor (write `\\!`)"
    );
    assert_eq!(
        err("cpe:2.3:o:cisco:ios:15.2(4)m:*:*:*:*:*:*:*"),
        "unquoted `(` in version (write `\\(`)"
    );
    assert!(err("cpe:2.3:a:gnu:c++:1:*:*:*:*:*:*:*").starts_with("unquoted `+` in product"));
}

#[test]
fn embedded_whitespace() {
    assert_eq!(
        err("cpe:2.3:a:microsoft:internet explorer:8:*:*:*:*:*:*:*"),
        "whitespace in product (CPE names use `_` for spaces)"
    );
    assert!(err("cpe:2.3:a: microsoft:ie:8:*:*:*:*:*:*:*").starts_with("whitespace in vendor"));
    assert!(err("cpe:2.3:a:ms:ie:8\\ 0:*:*:*:*:*:*:*").starts_with("whitespace in version"));
}

#[test]
fn characters_beyond_ascii() {
    assert_eq!(
        err("cpe:2.3:a:caf\u{e9}:menu:1:*:*:*:*:*:*:*"),
        "character `\u{e9}` (U+00E9) in vendor: CPE names are printable ASCII"
    );
    assert!(
        err("cpe:2.3:a:cafe:me\u{1}nu:1:*:*:*:*:*:*:*")
            .starts_with("character `\\u{1}` (U+0001) in product")
    );
}

#[test]
fn misplaced_wildcards() {
    assert_eq!(
        err("cpe:2.3:a:ms:ie:8.*.1:*:*:*:*:*:*:*"),
        "wildcard `*` in the middle of version: unquoted `*` and `?` may only start or end a value (write `\\*` for a literal one)"
    );
    assert!(
        err("cpe:2.3:a:ms:ie:8.?1:*:*:*:*:*:*:*")
            .starts_with("wildcard `?` in the middle of version")
    );
    assert_eq!(
        err("cpe:2.3:a:ms:**ie:8:*:*:*:*:*:*:*"),
        "wildcards `**` in product: a value may start or end with a single `*` or with `?`s, not `**`"
    );
    assert!(err("cpe:2.3:a:ms:ie:8*?:*:*:*:*:*:*:*").starts_with("wildcards `*?` in version"));
    assert!(err("cpe:2.3:a:ms:ie:?*8:*:*:*:*:*:*:*").starts_with("wildcards `?*` in version"));
    assert_eq!(
        err("cpe:2.3:a:ms:ie:??:*:*:*:*:*:*:*"),
        "version `??` is only wildcards (use `*` for any value)"
    );
    assert!(err("cpe:2.3:a:ms:ie:**:*:*:*:*:*:*:*").starts_with("version `**` is only wildcards"));
}

#[test]
fn bad_quoting() {
    assert_eq!(
        err("cpe:2.3:a:ms:ie:8:*:*:*:*:*:*:foo\\"),
        "`\\` at the end of other quotes nothing"
    );
    assert_eq!(
        err("cpe:2.3:a:m\\s:ie:8:*:*:*:*:*:*:*"),
        "`\\s` in vendor: only punctuation is quoted (write `s`)"
    );
}

#[test]
fn errors_convert_to_domain_errors() {
    let e = CpeName::parse("cpe:2.3:x:a:b:*:*:*:*:*:*:*:*").unwrap_err();
    assert_eq!(e.attribute(), Some(Attribute::Part));
    assert_eq!(e.reason(), "unknown part `x` (valid: a, o, h, * or -)");
    let domain: DomainError = e.into();
    assert_eq!(
        domain,
        DomainError::invalid("cpe", "unknown part `x` (valid: a, o, h, * or -)")
    );
    assert_eq!(CpeName::parse("").unwrap_err().attribute(), None);
    assert_eq!(
        CpeName::parse("cpe:2.3:a:b::*:*:*:*:*:*:*:*")
            .unwrap_err()
            .attribute(),
        Some(Attribute::Product)
    );
}

// --- CPE 2.2 URIs ------------------------------------------------------------

#[test]
fn uri_cisco_ios_percent_encoded() {
    let n = name("cpe:/o:cisco:ios:15.2%284%29m");
    assert_eq!(n.part(), &val("o"));
    assert_eq!(n.version(), &val(r"15.2\(4\)m"));
    assert_eq!(n.update(), &CpeValue::Any);
    assert_eq!(
        n.to_string(),
        r"cpe:2.3:o:cisco:ios:15.2\(4\)m:*:*:*:*:*:*:*"
    );
    assert_eq!(n, name(r"cpe:2.3:o:cisco:ios:15.2\(4\)M:*:*:*:*:*:*:*"));
}

#[test]
fn uri_examples_from_nistir_7695() {
    assert_eq!(
        name("cpe:/a:microsoft:internet_explorer:8.0.6001:beta"),
        name("cpe:2.3:a:microsoft:internet_explorer:8.0.6001:beta:*:*:*:*:*:*")
    );
    // Quoted (literal) special characters.
    assert_eq!(
        name("cpe:/a:microsoft:internet_explorer:8.%2a:sp%3f").to_string(),
        r"cpe:2.3:a:microsoft:internet_explorer:8.\*:sp\?:*:*:*:*:*:*"
    );
    // Wildcards.
    assert_eq!(
        name("cpe:/a:microsoft:internet_explorer:8.%02:sp%01").to_string(),
        "cpe:2.3:a:microsoft:internet_explorer:8.*:sp?:*:*:*:*:*:*"
    );
    assert_eq!(
        name("cpe:/a:foo%5cbar:big%24money_manager_2010").to_string(),
        r"cpe:2.3:a:foo\\bar:big\$money_manager_2010:*:*:*:*:*:*:*:*"
    );
    assert_eq!(
        name("cpe:/A:Microsoft:IE").to_string(),
        "cpe:2.3:a:microsoft:ie:*:*:*:*:*:*:*:*"
    );
    assert_eq!(name("cpe:/"), CpeName::default());
}

#[test]
fn uri_packed_editions() {
    assert_eq!(
        name("cpe:/a:hp:insight_diagnostics:7.4.0.1570::~~online~win2003~x64~"),
        name("cpe:2.3:a:hp:insight_diagnostics:7.4.0.1570:*:*:*:online:win2003:x64:*")
    );
    assert_eq!(
        name("cpe:/a:hp:openview_network_manager:7.51:-:~~~linux~~"),
        name("cpe:2.3:a:hp:openview_network_manager:7.51:-:*:*:*:linux:*:*")
    );
    assert_eq!(
        name("cpe:/a:foo%5cbar:big%24money_2010:::~~special~ipod_touch~80gb~").to_string(),
        r"cpe:2.3:a:foo\\bar:big\$money_2010:*:*:*:*:special:ipod_touch:80gb:*"
    );
    let n = name("cpe:/a:vendor:product:1.0::~edition~-~~~other");
    assert_eq!(n.edition(), &val("edition"));
    assert_eq!(n.sw_edition(), &CpeValue::Na);
    assert_eq!(n.target_sw(), &CpeValue::Any);
    assert_eq!(n.other(), &val("other"));
    assert_eq!(n.language(), &CpeValue::Any);
    let n = name("cpe:/a:vendor:product:1.0::~~~~~:ja-jp");
    assert_eq!(n.language(), &val("ja-jp"));
}

#[test]
fn malformed_uris() {
    assert_eq!(
        err("cpe:/a:v:p:1::~a~b~c"),
        "packed edition `~a~b~c` has 3 fields, expected 5 (`~edition~sw_edition~target_sw~target_hw~other`)"
    );
    assert!(
        err("cpe:/a:v:p:1::~a~b~c~d~e~f").starts_with("packed edition `~a~b~c~d~e~f` has 6 fields")
    );
    assert_eq!(
        err("cpe:/a:v:p:1:u:e:en:x"),
        "8 components after `cpe:/`, a CPE 2.2 URI has at most 7 (part to language)"
    );
    assert_eq!(
        err("cpe:/a:foo$bar:p"),
        "`$` in vendor must be percent-encoded in a CPE 2.2 URI"
    );
    assert!(
        err("cpe:/a:v:p:1.0~beta")
            .starts_with("`~` in version: in a CPE 2.2 URI only a packed edition")
    );
    assert_eq!(
        err("cpe:/a:v:p:1%zz"),
        "`%zz` in version is not a valid percent-encoding"
    );
    assert!(err("cpe:/a:v:p:1%2").starts_with("`%2` in version is not a valid"));
    assert!(err("cpe:/a:v:p:1%07").starts_with("`%07` in version is not a valid"));
    assert!(err("cpe:/a:v:p:1%c3%a9").starts_with("`%c3` in version"));
    assert_eq!(
        err("cpe:/a:v:big%20money"),
        "whitespace in product (CPE names use `_` for spaces)"
    );
    assert!(err("cpe:/a:foo:bar:12.%02.1234").starts_with("wildcard `*` in the middle of version"));
    assert!(err("cpe:/x:v:p").starts_with("unknown part `x`"));
    assert!(err("cpe:/*:v:p").starts_with("unknown part `*`"));
    assert!(err("cpe:/a:v:p:1:::english").starts_with("language `english`"));
    assert!(err("cpe:/a:v:p:1:::%02").starts_with("language `%02`"));
}

#[test]
fn uri_binding_examples() {
    assert_eq!(
        name("cpe:2.3:a:microsoft:internet_explorer:8.0.6001:beta:*:*:*:*:*:*").to_uri_string(),
        "cpe:/a:microsoft:internet_explorer:8.0.6001:beta"
    );
    assert_eq!(
        name(r"cpe:2.3:o:cisco:ios:15.2\(4\)m:*:*:*:*:*:*:*").to_uri_string(),
        "cpe:/o:cisco:ios:15.2%284%29m"
    );
    assert_eq!(
        name("cpe:2.3:a:hp:insight_diagnostics:7.4.0.1570:-:*:*:online:win2003:x64:*")
            .to_uri_string(),
        "cpe:/a:hp:insight_diagnostics:7.4.0.1570:-:~~online~win2003~x64~"
    );
    assert_eq!(
        name(r"cpe:2.3:a:microsoft:internet_explorer:8.*:sp?:*:*:*:*:*:*").to_uri_string(),
        "cpe:/a:microsoft:internet_explorer:8.%02:sp%01"
    );
    assert_eq!(
        name(r"cpe:2.3:a:v:p:\-:*:*:ja:*:*:*:*").to_uri_string(),
        "cpe:/a:v:p:%2d:::ja"
    );
    assert_eq!(CpeName::default().to_uri_string(), "cpe:/");
}

// --- building names ----------------------------------------------------------

#[test]
fn literal_values_from_plain_text() {
    assert_eq!(
        CpeValue::literal(Attribute::Product, "  Internet   Explorer "),
        Ok(val("internet_explorer"))
    );
    assert_eq!(
        CpeValue::literal(Attribute::Version, "15.2(4)M"),
        Ok(val(r"15.2\(4\)m"))
    );
    assert_eq!(
        CpeValue::literal(Attribute::Version, "8.*"),
        Ok(val(r"8.\*"))
    );
    assert_eq!(CpeValue::literal(Attribute::Version, "-"), Ok(val(r"\-")));
    assert_eq!(
        CpeValue::literal(Attribute::Language, "en-US"),
        Ok(val("en-us"))
    );
    assert_eq!(
        CpeValue::literal(Attribute::Vendor, "  ")
            .unwrap_err()
            .to_string(),
        "component 2 (vendor) is empty"
    );
    assert!(CpeValue::literal(Attribute::Vendor, "富士通").is_err());
    assert!(CpeValue::literal(Attribute::Part, "x").is_err());
}

#[test]
fn building_a_name_with_values() {
    let n = CpeName::default()
        .with(Attribute::Part, val("O"))
        .and_then(|n| n.with(Attribute::Vendor, val("fortinet")))
        .and_then(|n| {
            n.with(
                Attribute::Product,
                CpeValue::literal(Attribute::Product, "FortiOS")?,
            )
        })
        .and_then(|n| n.with(Attribute::Version, val("7.0.*")))
        .and_then(|n| n.with(Attribute::Update, CpeValue::Na))
        .unwrap();
    assert_eq!(
        n.to_string(),
        "cpe:2.3:o:fortinet:fortios:7.0.*:-:*:*:*:*:*:*"
    );
    assert!(n.version().has_wildcards());
    assert_eq!(
        CpeName::default()
            .with(Attribute::Version, val("7.*.1"))
            .unwrap_err()
            .attribute(),
        Some(Attribute::Version)
    );
    assert!(
        CpeName::default()
            .with(Attribute::Language, val("xx-yyy"))
            .is_err()
    );
}

// --- matching (NISTIR 7696) --------------------------------------------------

#[test]
fn attribute_comparison_table() {
    use AttributeRelation::*;
    let any = CpeValue::Any;
    let na = CpeValue::Na;
    let i = val("foo");
    let k = val("bar");
    let m = val("foo*"); // value with wildcards
    // NISTIR 7696 table 6-2: every pairing of ANY, NA, a value and a value
    // with wildcards.
    let rows = [
        (&any, &any, Equal),
        (&any, &na, Superset),
        (&any, &i, Superset),
        (&any, &m, Undefined),
        (&na, &any, Subset),
        (&na, &na, Equal),
        (&na, &i, Disjoint),
        (&na, &m, Undefined),
        (&i, &any, Subset),
        (&i, &na, Disjoint),
        (&i, &i, Equal),
        (&i, &k, Disjoint),
        (&i, &m, Undefined),
        (&m, &any, Subset),
        (&m, &na, Disjoint),
        (&m, &val("foobar"), Superset),
        (&m, &k, Disjoint),
        (&m, &m, Undefined),
    ];
    for (n, (source, target, expected)) in rows.into_iter().enumerate() {
        assert_eq!(
            compare_values(source, target),
            expected,
            "row {}: {source} vs {target}",
            n + 1
        );
    }
}

#[test]
fn wildcard_matching() {
    use AttributeRelation::*;
    let cases = [
        ("sp?", "sp1", Superset),
        ("sp?", "sp", Superset),
        ("sp?", "sp10", Disjoint),
        ("sp??", "sp10", Superset),
        ("8.*", "8.0.6001", Superset),
        ("8.*", "8", Disjoint),
        ("8.*", "8.", Superset),
        ("8.*", "9.0", Disjoint),
        ("8.*", "18.0", Disjoint),
        ("*soft", "microsoft", Superset),
        ("*soft", "microsofts", Disjoint),
        ("*cro*", "microsoft", Superset),
        ("??crosoft", "microsoft", Superset),
        ("?crosoft", "microsoft", Disjoint),
        ("?icrosoft", "microsoft", Superset),
        ("?microsoft", "microsoft", Superset),
        // A quoted `*` in the target is a literal character.
        ("8.*", r"8.\*", Superset),
        (r"big\$*", r"big\$money", Superset),
        (r"big\$*", "bigmoney", Disjoint),
        (r"*\(4\)m", r"15.2\(4\)m", Superset),
        (r"*\(4\)m", r"15.2\(5\)m", Disjoint),
    ];
    for (source, target, expected) in cases {
        assert_eq!(
            compare_values(&val(source), &val(target)),
            expected,
            "{source} vs {target}"
        );
    }
    // A quoted star in the source is no wildcard.
    assert_eq!(compare_values(&val(r"8.\*"), &val("8.0")), Disjoint);
    assert_eq!(compare_values(&val(r"8.\*"), &val(r"8.\*")), Equal);
}

#[test]
fn name_comparison() {
    use NameRelation::*;
    let ie8_any = name("cpe:2.3:a:microsoft:internet_explorer:8.*:sp?:*:*:*:*:*:*");
    let ie8_sp1 = name("cpe:2.3:a:microsoft:internet_explorer:8.0.6001:sp1:*:*:*:*:*:*");
    assert_eq!(compare(&ie8_any, &ie8_sp1), Superset);
    assert!(is_match(&ie8_any, &ie8_sp1));
    // The target holds wildcards: undefined, so no match.
    assert_eq!(compare(&ie8_sp1, &ie8_any), Undefined);
    assert!(!is_match(&ie8_sp1, &ie8_any));
    assert_eq!(compare(&ie8_sp1, &ie8_sp1), Equal);
    assert!(is_match(&ie8_sp1, &ie8_sp1));

    let fortios_any = name("cpe:2.3:o:fortinet:fortios:*:*:*:*:*:*:*:*");
    let fortios = name("cpe:2.3:o:fortinet:fortios:7.0.12:*:*:*:*:*:*:*");
    let fortiproxy = name("cpe:2.3:a:fortinet:fortiproxy:7.0.12:*:*:*:*:*:*:*");
    assert_eq!(compare(&fortios_any, &fortios), Superset);
    assert!(is_match(&fortios_any, &fortios));
    assert_eq!(compare(&fortios, &fortios_any), Subset);
    assert!(!is_match(&fortios, &fortios_any));
    assert_eq!(compare(&fortios_any, &fortiproxy), Disjoint);
    assert!(!is_match(&fortios_any, &fortiproxy));

    // Wider in one attribute, narrower in another.
    let any_version_win = name("cpe:2.3:a:v:p:*:*:*:*:*:windows:*:*");
    let v1_any_target = name("cpe:2.3:a:v:p:1.0:*:*:*:*:*:*:*");
    assert_eq!(compare(&any_version_win, &v1_any_target), Undefined);
    assert!(!is_match(&any_version_win, &v1_any_target));

    // NA in the source: a criterion without a software edition does not name
    // a product that has one.
    let criterion = name("cpe:2.3:a:oneidentity:syslog-ng:*:*:*:*:-:*:*:*");
    let premium = name("cpe:2.3:a:oneidentity:syslog-ng:4.7.1:*:*:*:premium:*:*:*");
    assert_eq!(compare(&criterion, &premium), Disjoint);
    assert!(!is_match(&criterion, &premium));
    let plain = name("cpe:2.3:a:oneidentity:syslog-ng:4.7.1:*:*:*:-:*:*:*");
    assert!(is_match(&criterion, &plain));

    // DISJOINT wins over UNDEFINED.
    let wild_target = name("cpe:2.3:a:other:p*:*:*:*:*:*:*:*:*");
    assert_eq!(compare(&fortios_any, &wild_target), Disjoint);

    let relations = compare_attributes(&fortios_any, &fortios);
    assert_eq!(
        relations[Attribute::Version.index()],
        AttributeRelation::Superset
    );
    assert_eq!(
        relations[Attribute::Vendor.index()],
        AttributeRelation::Equal
    );
}

// --- properties ----------------------------------------------------------------

/// Characters a value may hold, quoted or not.
const POOL: &[char] = &[
    'a', 'b', 'z', 'A', 'Q', '0', '7', '9', '.', '-', '_', '!', '"', '#', '$', '%', '&', '\'', '(',
    ')', '+', ',', '/', ':', ';', '<', '=', '>', '@', '[', ']', '^', '`', '{', '|', '}', '~', '\\',
    '*', '?',
];

/// A generated attribute value: the input text (with arbitrary case and
/// optional extra quoting) and the canonical text the parser must produce.
#[derive(Debug, Clone)]
struct Generated {
    input: String,
    canonical: String,
}

fn value_strategy() -> impl Strategy<Value = Generated> {
    let run = prop_oneof![Just(""), Just("*"), Just("?"), Just("??")];
    (
        run.clone(),
        prop::collection::vec((prop::sample::select(POOL), any::<bool>()), 1..8),
        run,
    )
        .prop_map(|(prefix, core, suffix)| {
            let mut input = prefix.to_string();
            let mut canonical = prefix.to_string();
            let lone_hyphen =
                prefix.is_empty() && suffix.is_empty() && core.len() == 1 && core[0].0 == '-';
            for (c, extra) in &core {
                let unreserved = c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_');
                if !unreserved || (*extra && !c.is_ascii_alphanumeric()) || lone_hyphen {
                    input.push('\\');
                }
                input.push(*c);
                if !unreserved || lone_hyphen {
                    canonical.push('\\');
                }
                canonical.push(c.to_ascii_lowercase());
            }
            input.push_str(suffix);
            canonical.push_str(suffix);
            Generated { input, canonical }
        })
}

fn attribute_strategy() -> impl Strategy<Value = Generated> {
    prop_oneof![
        1 => Just(Generated { input: "*".into(), canonical: "*".into() }),
        1 => Just(Generated { input: "-".into(), canonical: "-".into() }),
        4 => value_strategy(),
    ]
}

fn name_strategy() -> impl Strategy<Value = (String, String)> {
    let part = prop::sample::select(vec!["a", "o", "h", "A", "*", "-"]);
    let language = prop::sample::select(vec!["*", "-", "en", "EN-us", "ja-JP", "es-419", "fil"]);
    (
        part,
        prop::collection::vec(attribute_strategy(), 5),
        language,
        prop::collection::vec(attribute_strategy(), 4),
    )
        .prop_map(|(part, first, language, last)| {
            let mut input = vec![part.to_string()];
            let mut canonical = vec![part.to_ascii_lowercase()];
            for g in &first {
                input.push(g.input.clone());
                canonical.push(g.canonical.clone());
            }
            input.push(language.to_string());
            canonical.push(language.to_ascii_lowercase());
            for g in &last {
                input.push(g.input.clone());
                canonical.push(g.canonical.clone());
            }
            (
                format!("cpe:2.3:{}", input.join(":")),
                format!("cpe:2.3:{}", canonical.join(":")),
            )
        })
}

proptest! {
    #[test]
    fn parse_display_parse_round_trips((input, canonical) in name_strategy()) {
        let parsed = CpeName::parse(&input).map_err(|e| TestCaseError::fail(format!("{input}: {e}")))?;
        prop_assert_eq!(parsed.to_string(), canonical.clone());
        let again = CpeName::parse(&parsed.to_string()).map_err(|e| TestCaseError::fail(format!("{canonical}: {e}")))?;
        prop_assert_eq!(&again, &parsed);
        prop_assert_eq!(again.to_string(), canonical);
    }

    #[test]
    fn uri_binding_round_trips((input, _) in name_strategy()) {
        let parsed = CpeName::parse(&input).unwrap();
        let uri = parsed.to_uri_string();
        let back = CpeName::parse(&uri).map_err(|e| TestCaseError::fail(format!("{uri}: {e}")))?;
        prop_assert_eq!(back, parsed);
    }

    #[test]
    fn names_without_wildcards_equal_themselves((input, _) in name_strategy()) {
        let n = CpeName::parse(&input).unwrap();
        let wild = n.values().iter().any(CpeValue::has_wildcards);
        prop_assert_eq!(compare(&n, &n), if wild { NameRelation::Undefined } else { NameRelation::Equal });
        prop_assert_eq!(is_match(&CpeName::default(), &n), !wild);
    }

    #[test]
    fn literal_text_unquotes_to_itself(text in "[!-~]{1,12}") {
        let value = CpeValue::literal(Attribute::Product, &text).unwrap();
        prop_assert!(!value.has_wildcards());
        prop_assert_eq!(value.unquoted(), Some(text.to_ascii_lowercase()));
    }

    #[test]
    fn parsing_never_panics(text in "cpe:(2\\.3:|/)[ -~]{0,60}") {
        let _ = CpeName::parse(&text);
    }
}

#[test]
fn names_as_people_type_them_are_quoted_before_they_are_read() {
    let lenient = |s: &str| CpeName::parse_lenient(s).map(|n| n.to_string());
    assert_eq!(
        lenient("cpe:2.3:o:cisco:ios:12.4(18a):*:*:*:*:*:*:*").as_deref(),
        Ok("cpe:2.3:o:cisco:ios:12.4\\(18a\\):*:*:*:*:*:*:*")
    );
    assert_eq!(
        lenient("cpe:2.3:a:sap_se:sap_hana_client:HDB_CLIENT 2.0:*:*:*:*:*:*:*").as_deref(),
        Ok("cpe:2.3:a:sap_se:sap_hana_client:hdb_client_2.0:*:*:*:*:*:*:*")
    );
    // What parses strictly reads the same.
    for strict in [
        "cpe:2.3:o:fortinet:fortios:7.0.12:*:*:*:*:*:*:*",
        "cpe:2.3:o:cisco:ios:15.2\\(4\\)m:*:*:*:*:*:*:*",
        "cpe:2.3:a:hp:insight_diagnostics:7.4.0.1570:-:*:*:online:win2003:x64:*",
        "cpe:2.3:a:vendor:prod*:1.?:*:*:*:*:*:*:*",
    ] {
        assert_eq!(
            lenient(strict),
            CpeName::parse(strict).map(|n| n.to_string()),
            "{strict}"
        );
    }
    // Still refused: the wrong number of components, a 2.2 URI stays strict.
    assert!(CpeName::parse_lenient("cpe:2.3:broken").is_err());
    assert!(CpeName::parse_lenient("not a cpe").is_err());
    assert!(CpeName::parse("cpe:2.3:o:cisco:ios:12.4(18a):*:*:*:*:*:*:*").is_err());
}
