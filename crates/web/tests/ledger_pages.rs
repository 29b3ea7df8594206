//! The hospital ledger through the pages people use, on every backend: a
//! surveyor adds segments and assets with the forms (a bad row names each
//! field and stores nothing), edits one and sees the change in its history,
//! a form drawn from an older version is refused, a segment still in use is
//! not deleted, the walk-through lists devices by location and confirms
//! them, photos are told by their bytes; CSV (UTF-8 and Shift_JIS) and
//! Excel imports are previewed, refused all or nothing, imported without
//! the rejected rows and imported again without a change; the workbook
//! export reads back; the network and structure charts come in every
//! format; the secretariat alone keeps the device catalogue; and the
//! policy decides, for every page and download, who reads and who writes,
//! with each refusal audited.

mod common;

use common::{Browser, PASSWORD, Page, TestApp, Upload};
use mamori_domain::OrgId;
use mamori_domain::engagement::EngagementState;
use mamori_domain::ledger::RecordKind;
use mamori_domain::organisation::{OrgKind, Role};
use mamori_store::testing;
use std::collections::{BTreeMap, BTreeSet};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const HOSPITAL: &str = "出雲みなと病院";

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

async fn signed_in(app: &TestApp, org: OrgId, email: &str) -> Browser {
    app.account(org, email, Role::Admin).await;
    let b = app.browser();
    let page = b.login(email, PASSWORD).await;
    assert_eq!(page.status, 303, "login {email}: {}", page.body);
    b
}

/// A hospital, its survey company with a contracted engagement in the
/// survey, and that company's surveyor signed in.
struct World {
    hospital: OrgId,
    company: OrgId,
    programme: mamori_domain::ProgrammeId,
    surveyor: Browser,
    base: String,
}

async fn world(app: &TestApp) -> World {
    let store = app.store();
    let hospital = app.org(OrgKind::Hospital, HOSPITAL).await;
    let company = app.org(OrgKind::SurveyCompany, "しまね情報調査").await;
    let programme = testing::add_programme(store, "令和8年度 病院調査").await;
    testing::add_engagement(
        store,
        programme,
        hospital,
        company,
        EngagementState::Surveying,
    )
    .await;
    let surveyor = signed_in(app, company, "surveyor@example.jp").await;
    World {
        hospital,
        company,
        programme,
        surveyor,
        base: format!("/hospitals/{}/ledger", hospital.0),
    }
}

// --- reading pages as a browser does ------------------------------------------

/// Decodes the character references the templates escape.
fn decode(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let Some(end) = after.find(';').filter(|e| *e <= 8) else {
            out.push('&');
            rest = after;
            continue;
        };
        let entity = &after[..end];
        let c = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e if e.starts_with("#x") || e.starts_with("#X") => u32::from_str_radix(&e[2..], 16)
                .ok()
                .and_then(char::from_u32),
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match c {
            Some(c) => {
                out.push(c);
                rest = &after[end + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The value of `name="…"` in one tag.
fn attr(tag: &str, name: &str) -> Option<String> {
    let marker = format!(" {name}=\"");
    let start = tag.find(&marker)? + marker.len();
    let end = tag[start..].find('"')? + start;
    Some(decode(&tag[start..end]))
}

/// What a browser sends for the form posting to `action`: every named
/// field in document order (the selected option of a select, the text of
/// a textarea, checked boxes only, no files).
fn form_fields(page: &Page, action: &str) -> Vec<(String, String)> {
    let marker = format!("action=\"{action}\"");
    let start = page
        .body
        .find(&marker)
        .unwrap_or_else(|| panic!("no form posting to {action} on the page"));
    let end = page.body[start..]
        .find("</form>")
        .map_or(page.body.len(), |e| start + e);
    let form = &page.body[start..end];
    let mut fields = Vec::new();
    let mut at = 0;
    while let Some(open) = form[at..].find('<') {
        let open = at + open;
        let close = form[open..].find('>').map_or(form.len(), |c| open + c);
        let tag = &form[open..close];
        at = close;
        let name_of = |t: &str| attr(t, "name");
        if tag.starts_with("<input") {
            let Some(name) = name_of(tag) else { continue };
            let kind = attr(tag, "type").unwrap_or_default();
            match kind.as_str() {
                "file" | "submit" | "button" => {}
                "checkbox" | "radio" => {
                    if tag.contains(" checked") {
                        fields.push((name, attr(tag, "value").unwrap_or_else(|| "on".into())));
                    }
                }
                _ => fields.push((name, attr(tag, "value").unwrap_or_default())),
            }
        } else if tag.starts_with("<select") {
            let Some(name) = name_of(tag) else { continue };
            let end = form[at..].find("</select>").map_or(form.len(), |e| at + e);
            let options: Vec<&str> = form[at..end]
                .split("<option")
                .skip(1)
                .map(|o| o.split('>').next().unwrap_or(""))
                .collect();
            let chosen = options
                .iter()
                .find(|o| o.contains(" selected"))
                .or(options.first())
                .and_then(|o| attr(o, "value"))
                .unwrap_or_default();
            if !tag.contains(" disabled") {
                fields.push((name, chosen));
            }
            at = end;
        } else if tag.starts_with("<textarea") {
            let Some(name) = name_of(tag) else { continue };
            let end = form[at..]
                .find("</textarea>")
                .map_or(form.len(), |e| at + e);
            fields.push((name, decode(&form[at + 1..end])));
            at = end;
        }
    }
    fields
}

/// Sets what the user typed into the field `name`: the last field of that
/// name (the visible input comes after hidden bookkeeping of a form).
fn set(fields: &mut Vec<(String, String)>, name: &str, value: &str) {
    match fields.iter_mut().rev().find(|(n, _)| n == name) {
        Some(slot) => slot.1 = value.to_string(),
        None => fields.push((name.to_string(), value.to_string())),
    }
}

async fn send(b: &Browser, path: &str, fields: &[(String, String)]) -> Page {
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    b.post(path, &pairs).await
}

/// Opens `page_path`, fills its form posting to `action` and sends it.
async fn fill(b: &Browser, page_path: &str, action: &str, values: &[(&str, &str)]) -> Page {
    let page = b.get(page_path).await;
    assert_eq!(page.status, 200, "{page_path}: {}", page.body);
    let mut fields = form_fields(&page, action);
    for (name, value) in values {
        set(&mut fields, name, value);
    }
    send(b, action, &fields).await
}

/// The error message shown at the top of a page.
fn alert(page: &Page) -> String {
    let marker = "role=\"alert\">";
    let Some(start) = page.body.find(marker) else {
        return String::new();
    };
    let start = start + marker.len();
    let end = page.body[start..].find("</p>").unwrap() + start;
    decode(&page.body[start..end])
}

/// The kept upload's id on an import page.
fn kept_upload(page: &Page) -> String {
    let marker = "name=\"upload\" value=\"";
    let start = page.body.find(marker).expect("a kept upload") + marker.len();
    page.body[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect()
}

/// One table's section of an import preview: its counts and rejected rows.
struct PreviewTable {
    created: usize,
    updated: usize,
    unchanged: usize,
    /// (row, column, field, reason) as the page lists them.
    rejected: Vec<(String, String, String, String)>,
}

fn preview_table(page: &Page, name: &str) -> PreviewTable {
    let marker = format!("<h2>{name} →");
    let start = page
        .body
        .find(&marker)
        .unwrap_or_else(|| panic!("no table {name} in the preview: {}", page.body));
    let end = page.body[start..]
        .find("</section>")
        .map_or(page.body.len(), |e| start + e);
    let section = &page.body[start..end];
    let badge = |label: &str| -> usize {
        let marker = format!("{label} ");
        let at = section
            .find(&format!("\">{marker}"))
            .unwrap_or_else(|| panic!("no {label} badge in {section}"))
            + 2
            + marker.len();
        section[at..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .unwrap()
    };
    let rejected = match section.find("class=\"rejected\"") {
        None => Vec::new(),
        Some(at) => section[at..]
            .split("<tr><td>")
            .skip(1)
            .map(|row| {
                let cells: Vec<String> = row
                    .split("</td>")
                    .take(4)
                    .map(|c| decode(c.trim_start_matches("<td>")))
                    .collect();
                (
                    cells[0].clone(),
                    cells[1].clone(),
                    cells[2].clone(),
                    cells[3].clone(),
                )
            })
            .collect(),
    };
    PreviewTable {
        created: badge("追加"),
        updated: badge("更新"),
        unchanged: badge("変更なし"),
        rejected,
    }
}

/// The keys of a table page's rows, and whether each is marked confirmed.
fn table_rows(page: &Page) -> BTreeMap<String, bool> {
    page.body
        .split("<tr id=\"")
        .skip(1)
        .map(|row| {
            let key = decode(&row[..row.find('"').unwrap()]);
            let end = row.find("</tr>").unwrap_or(row.len());
            (key, row[..end].contains("badge ok"))
        })
        .collect()
}

/// The walk-through page: each location with its assets' keys and whether
/// each was seen.
fn walk_places(page: &Page) -> BTreeMap<String, Vec<(String, bool)>> {
    page.body
        .split("class=\"card walk-place\"")
        .skip(1)
        .map(|section| {
            let h = section.find("<h2>").unwrap() + 4;
            let location = decode(&section[h..h + section[h..].find("</h2>").unwrap()]);
            let section = &section[..section.find("</section>").unwrap_or(section.len())];
            let assets = section
                .split("<li id=\"")
                .skip(1)
                .map(|li| {
                    let key = decode(&li[..li.find('"').unwrap()]);
                    let class_end = li.find('>').unwrap();
                    (key, li[..class_end].contains(" seen"))
                })
                .collect();
            (location, assets)
        })
        .collect()
}

/// One sheet: its name, its header row and its data rows.
type Sheet<'a> = (&'a str, &'a [&'a str], &'a [&'a [&'a str]]);

/// A workbook with one sheet per `(name, headers, rows)`.
fn workbook(sheets: &[Sheet]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    for (name, headers, rows) in sheets {
        let sheet = book.add_worksheet();
        sheet.set_name(*name).unwrap();
        for (c, h) in headers.iter().enumerate() {
            sheet.write_string(0, c as u16, *h).unwrap();
        }
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                if !v.is_empty() {
                    sheet.write_string(r as u32 + 1, c as u16, *v).unwrap();
                }
            }
        }
    }
    book.save_to_buffer().unwrap()
}

const SEGMENT_HEADERS: &[&str] = &["セグメント番号", "名称", "種別", "アドレス範囲・VLAN"];
const ASSET_HEADERS: &[&str] = &[
    "資産番号",
    "種別",
    "名称",
    "設置場所",
    "ネットワークセグメント",
    "メーカー",
    "製品名",
    "型番",
    "バージョン・ファームウェア",
    "台数",
];

/// A whole ledger as a surveyor brings it: two segments, a system, a
/// firewall and a server, two lots of identical terminals, links, two
/// external connections (one the administrator did not know of) and a
/// management structure of three.
fn survey_workbook() -> Vec<u8> {
    workbook(&[
        (
            "セグメント",
            SEGMENT_HEADERS,
            &[
                &["S-SRV", "サーバセグメント", "院内LAN", "10.0.1.0/24"],
                &["S-CLN", "外来セグメント", "医療系", "10.0.2.0/24"],
            ],
        ),
        (
            "資産",
            ASSET_HEADERS,
            &[
                &["EHR", "システム", "電子カルテ", "", "", "", "", "", "", ""],
                &[
                    "FW-01",
                    "ファイアウォール",
                    "境界ファイアウォール",
                    "サーバ室",
                    "S-SRV",
                    "Fortinet",
                    "FortiGate",
                    "60F",
                    "7.0.12",
                    "",
                ],
                &[
                    "SV-01",
                    "サーバ",
                    "電子カルテサーバ",
                    "サーバ室",
                    "S-SRV",
                    "",
                    "",
                    "",
                    "",
                    "",
                ],
                &[
                    "PC-01",
                    "端末",
                    "外来端末",
                    "外来受付",
                    "S-CLN",
                    "NEC",
                    "Mate",
                    "MK-1",
                    "",
                    "20",
                ],
                &[
                    "PC-02",
                    "端末",
                    "外来端末",
                    "外来処置室",
                    "S-CLN",
                    "NEC",
                    "Mate",
                    "MK-1",
                    "",
                    "10",
                ],
            ],
        ),
        (
            "機器間接続",
            &["接続番号", "接続元", "接続先", "媒体", "表示名"],
            &[
                &["L-01", "FW-01", "SV-01", "有線", "基幹"],
                &["L-02", "FW-01", "PC-01", "有線", ""],
                &["L-03", "FW-01", "PC-02", "有線", ""],
            ],
        ),
        (
            "外部接続",
            &[
                "接続番号",
                "分類",
                "接続先",
                "接続方法",
                "回線・VPN製品",
                "境界機器",
                "接続形態",
                "管理者の把握",
            ],
            &[
                &[
                    "C-01",
                    "ネットワーク保守",
                    "保守ベンダーA",
                    "インターネットVPN",
                    "FortiGate SSL-VPN",
                    "FW-01",
                    "常時接続",
                    "はい",
                ],
                &[
                    "C-02",
                    "遠隔読影",
                    "読影センター",
                    "IP-VPN",
                    "",
                    "",
                    "必要時のみ",
                    "いいえ",
                ],
            ],
        ),
        (
            "管理体制",
            &[
                "役割番号",
                "区分",
                "役割・役職",
                "担当者",
                "報告先",
                "緊急連絡順",
            ],
            &[
                &["R-1", "経営層", "院長", "出雲 一郎", "", ""],
                &[
                    "R-2",
                    "システム管理者",
                    "情報システム室長",
                    "松江 花子",
                    "R-1",
                    "1",
                ],
                &["R-3", "ベンダー", "保守ベンダー", "保守 太郎", "R-2", "2"],
            ],
        ),
    ])
}

/// Imports the survey workbook through the import page.
async fn seed(b: &Browser, base: &str) {
    let imported = b
        .upload(
            &format!("{base}/import"),
            &format!("{base}/import"),
            &[("action", "import")],
            Some(Upload {
                field: "file",
                name: "台帳.xlsx",
                data: survey_workbook(),
                mime: XLSX,
            }),
        )
        .await;
    assert_eq!(imported.status, 303, "seed: {}", imported.body);
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    app.db.count(sql).await
}

// --- forms, history, versions, deletion, walk-through, photos -------------------

#[tokio::test]
async fn records_go_in_through_the_forms_with_history_versions_walk_and_photos() {
    for db in testing::all().await {
        let label = db.label;
        let app = TestApp::start(db).await;
        let w = world(&app).await;
        let (b, base) = (&w.surveyor, w.base.as_str());
        let records = "SELECT COUNT(*) FROM ledger_records";

        // A segment, then an asset in it.
        for (key, name, kind) in [
            ("S-SRV", "サーバセグメント", "院内LAN"),
            ("S-GUEST", "来訪者用Wi-Fi", "来訪者用"),
        ] {
            let saved = fill(
                b,
                &format!("{base}/segment/new"),
                &format!("{base}/segment"),
                &[("key", key), ("name", name), ("kind", kind)],
            )
            .await;
            assert_eq!(saved.status, 303, "{label}: {}", saved.body);
            assert_eq!(
                saved.location.as_deref(),
                Some(format!("{base}/segment/{key}?done=saved").as_str()),
                "{label}"
            );
        }
        let asset = [
            ("key", "FW-01"),
            ("kind", "ファイアウォール"),
            ("name", "境界ファイアウォール"),
            ("vendor", "Fortinet"),
            ("product", "FortiGate"),
            ("model", "60F"),
            ("version", "7.0.12"),
            ("location", "サーバ室"),
            ("segment", "S-SRV"),
            ("cpes", "cpe:2.3:o:fortinet:fortios:7.0.12:*:*:*:*:*:*:*"),
        ];
        let saved = fill(
            b,
            &format!("{base}/asset/new"),
            &format!("{base}/asset"),
            &asset,
        )
        .await;
        assert_eq!(saved.status, 303, "{label}: {}", saved.body);
        assert_eq!(count(&app, records).await, 3, "{label}");
        let segment_options = b.get(&format!("{base}/asset/new")).await;
        assert!(
            segment_options.body.contains("S-SRV サーバセグメント"),
            "{label}: the asset form offers the segments"
        );

        // A bad asset names each field and stores nothing.
        let history = "SELECT COUNT(*) FROM ledger_history";
        let (before, history_before) = (count(&app, records).await, count(&app, history).await);
        let bad = fill(
            b,
            &format!("{base}/asset/new"),
            &format!("{base}/asset"),
            &[
                ("key", "XX-01"),
                ("kind", "トースター"),
                ("name", "謎の機器"),
                ("cpes", "not-a-cpe"),
                ("end_of_support", "31/03/2026"),
            ],
        )
        .await;
        assert_eq!(bad.status, 422, "{label}: {}", bad.body);
        let message = alert(&bad);
        for expected in [
            "種別",
            "トースター",
            "CPE",
            "not-a-cpe",
            "サポート終了日",
            "31/03/2026",
        ] {
            assert!(
                message.contains(expected),
                "{label}: {expected} in {message}"
            );
        }
        assert!(
            bad.body.contains("value=\"謎の機器\""),
            "{label}: what was typed stays in the form"
        );
        assert_eq!(count(&app, records).await, before, "{label}");
        assert_eq!(count(&app, history).await, history_before, "{label}");

        // An edit: the record's history shows the field before and after.
        let record = format!("{base}/asset/FW-01");
        let drawn = b.get(&record).await;
        assert_eq!(drawn.status, 200, "{label}");
        let mut edit = form_fields(&drawn, &format!("{base}/asset"));
        let stale_form = edit.clone();
        set(&mut edit, "version", "7.2.8");
        let edited = send(b, &format!("{base}/asset"), &edit).await;
        assert_eq!(edited.status, 303, "{label}: {}", edited.body);
        let page = b.get(&record).await;
        assert!(
            page.body.contains(
                "<strong>バージョン・ファームウェア</strong>: <del>7.0.12</del> → <ins>7.2.8</ins>"
            ),
            "{label}: {}",
            page.body
        );
        assert!(
            page.body.contains("surveyor@example.jp さん"),
            "{label}: who changed it"
        );
        // The creation lists what was entered, as the form calls it.
        assert!(
            page.body
                .contains("<strong>種別</strong>: <del></del> → <ins>ファイアウォール</ins>"),
            "{label}"
        );
        assert!(
            !page.body.contains("<del></del> → <ins></ins>"),
            "{label}: a field left blank did not change"
        );

        // The same form drawn from version 1, sent again: refused, and the
        // newer content stays.
        let mut stale = stale_form;
        set(&mut stale, "version", "7.4.1");
        let history_before = count(&app, history).await;
        let refused = send(b, &format!("{base}/asset"), &stale).await;
        assert_eq!(refused.status, 409, "{label}: {}", refused.body);
        assert!(alert(&refused).contains("version"), "{label}");
        assert_eq!(count(&app, history).await, history_before, "{label}");
        let page = b.get(&record).await;
        let fields = form_fields(&page, &format!("{base}/asset"));
        let firmware = fields.iter().rev().find(|(n, _)| n == "version").unwrap();
        assert_eq!(firmware.1, "7.2.8", "{label}");

        // A new record under a key already taken does not overwrite it.
        let taken = fill(
            b,
            &format!("{base}/asset/new"),
            &format!("{base}/asset"),
            &[("key", "FW-01"), ("kind", "端末"), ("name", "上書き端末")],
        )
        .await;
        assert_eq!(taken.status, 409, "{label}: {}", taken.body);
        assert!(alert(&taken).contains("FW-01"), "{label}");
        let page = b.get(&record).await;
        assert!(
            page.body.contains("value=\"境界ファイアウォール\""),
            "{label}: the stored asset is untouched"
        );

        // A segment in use stays; an unused one goes, and its history keeps it.
        let in_use = fill(
            b,
            &format!("{base}/segment/S-SRV"),
            &format!("{base}/segment/S-SRV/delete"),
            &[],
        )
        .await;
        assert_eq!(in_use.status, 409, "{label}: {}", in_use.body);
        assert!(alert(&in_use).contains("FW-01"), "{label}: names the user");
        let gone = fill(
            b,
            &format!("{base}/segment/S-GUEST"),
            &format!("{base}/segment/S-GUEST/delete"),
            &[],
        )
        .await;
        assert_eq!(gone.status, 303, "{label}: {}", gone.body);
        let segments = table_rows(&b.get(&format!("{base}/segment")).await);
        assert_eq!(
            segments.keys().collect::<Vec<_>>(),
            vec!["S-SRV"],
            "{label}"
        );
        assert_eq!(
            b.get(&format!("{base}/segment/S-GUEST")).await.status,
            404,
            "{label}"
        );
        let log = b.get(&format!("{base}/history")).await;
        assert!(
            log.body.contains(">S-GUEST</a></td><td>削除"),
            "{label}: {}",
            log.body
        );
        assert_eq!(count(&app, records).await, 3, "{label}: deletion is soft");

        // The walk-through: assets by location (systems are not walked
        // past), one added on the tablet, one confirmed.
        for (key, kind, name, location) in [
            ("EHR", "システム", "電子カルテ", ""),
            ("SV-01", "サーバ", "電子カルテサーバ", "サーバ室"),
        ] {
            let saved = fill(
                b,
                &format!("{base}/asset/new"),
                &format!("{base}/asset"),
                &[
                    ("key", key),
                    ("kind", kind),
                    ("name", name),
                    ("location", location),
                    ("segment", "S-SRV"),
                ],
            )
            .await;
            assert_eq!(saved.status, 303, "{label}: {}", saved.body);
        }
        let walk = format!("{base}/walk");
        let added = fill(
            b,
            &walk,
            &format!("{base}/asset"),
            &[
                ("key", "PC-01"),
                ("kind", "端末"),
                ("name", "外来受付端末"),
                ("location", "外来受付"),
                ("segment", "S-SRV"),
                ("version", "Windows 11"),
            ],
        )
        .await;
        assert_eq!(added.status, 303, "{label}: {}", added.body);
        let page = b.get(&walk).await;
        let places = walk_places(&page);
        let expected: BTreeMap<String, Vec<(String, bool)>> = [
            (
                "サーバ室".to_string(),
                vec![("FW-01".to_string(), false), ("SV-01".to_string(), false)],
            ),
            ("外来受付".to_string(), vec![("PC-01".to_string(), false)]),
        ]
        .into_iter()
        .collect();
        assert_eq!(places, expected, "{label}");
        assert!(page.body.contains("0 / 3"), "{label}");
        let confirmed = fill(b, &walk, &format!("{base}/asset/FW-01/confirm"), &[]).await;
        assert_eq!(confirmed.status, 303, "{label}: {}", confirmed.body);
        assert!(
            confirmed
                .location
                .as_deref()
                .is_some_and(|l| l.starts_with(&format!("{walk}?done=confirmed"))),
            "{label}: back to the walk-through: {:?}",
            confirmed.location
        );
        let page = b.get(&walk).await;
        assert!(page.body.contains("1 / 3"), "{label}");
        assert_eq!(
            walk_places(&page)["サーバ室"],
            vec![("FW-01".to_string(), true), ("SV-01".to_string(), false)],
            "{label}"
        );
        let assets = table_rows(&b.get(&format!("{base}/asset")).await);
        assert_eq!(
            assets.iter().filter(|(_, seen)| **seen).collect::<Vec<_>>(),
            vec![(&"FW-01".to_string(), &true)],
            "{label}"
        );
        // In the record's history a confirmation changed nothing.
        let page = b.get(&record).await;
        let at = page
            .body
            .find("現地確認 <small>院内巡回</small>")
            .unwrap_or_else(|| panic!("{label}: no confirmation in {}", page.body));
        let row = &page.body[at..at + page.body[at..].find("</tr>").unwrap()];
        assert!(!row.contains("<del>"), "{label}: {row}");

        // Photos: told by their bytes, not their name.
        let photos = "SELECT COUNT(*) FROM ledger_photos";
        let not_image = b
            .upload(
                &record,
                &format!("{record}/photos"),
                &[("caption", "ラック")],
                Some(Upload {
                    field: "photo",
                    name: "rack.png",
                    data: b"this is not a picture".to_vec(),
                    mime: "image/png",
                }),
            )
            .await;
        assert_eq!(not_image.status, 422, "{label}: {}", not_image.body);
        assert!(alert(&not_image).contains("not a photo"), "{label}");
        assert_eq!(count(&app, photos).await, 0, "{label}");
        let accepted = b
            .upload(
                &record,
                &format!("{record}/photos"),
                &[("caption", "ラック前面")],
                Some(Upload {
                    field: "photo",
                    name: "rack.png",
                    data: PNG.to_vec(),
                    mime: "image/png",
                }),
            )
            .await;
        assert_eq!(accepted.status, 303, "{label}: {}", accepted.body);
        assert_eq!(count(&app, photos).await, 1, "{label}");
        let page = b.get(&record).await;
        let marker = format!("<img src=\"/hospitals/{}/ledger/photos/", w.hospital.0);
        let at = page.body.find(&marker).expect("the photo on the page") + marker.len();
        let photo: String = page.body[at..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        assert!(page.body.contains("ラック前面"), "{label}: its caption");
        let (status, headers, bytes) = b
            .bytes(&format!(
                "/hospitals/{}/ledger/photos/{photo}",
                w.hospital.0
            ))
            .await;
        assert_eq!(status, 200, "{label}");
        assert_eq!(headers["content-type"], "image/png", "{label}");
        assert_eq!(bytes, PNG, "{label}");
        app.db.finish().await;
    }
}

// --- imports and the workbook export ---------------------------------------------

#[tokio::test]
async fn imports_are_previewed_then_written_all_or_nothing_and_again_change_nothing() {
    for db in testing::all().await {
        let label = db.label;
        let app = TestApp::start(db).await;
        let w = world(&app).await;
        let (b, base) = (&w.surveyor, w.base.as_str());
        let import = format!("{base}/import");
        let records = "SELECT COUNT(*) FROM ledger_records";
        let history = "SELECT COUNT(*) FROM ledger_history";
        let upload = |name: &'static str, data: Vec<u8>, mime: &'static str| Upload {
            field: "file",
            name,
            data,
            mime,
        };

        // A workbook: segments and the assets in them, in one file.
        let book = workbook(&[
            (
                "セグメント",
                SEGMENT_HEADERS,
                &[
                    &["S-SRV", "サーバセグメント", "院内LAN", "10.0.1.0/24"],
                    &["S-CLN", "外来セグメント", "医療系", "10.0.2.0/24"],
                ],
            ),
            (
                "資産",
                &[
                    "資産番号",
                    "種別",
                    "名称",
                    "設置場所",
                    "ネットワークセグメント",
                ],
                &[
                    &["FW-01", "ファイアウォール", "境界FW", "サーバ室", "S-SRV"],
                    &["SV-01", "サーバ", "電子カルテサーバ", "サーバ室", "S-SRV"],
                    &["PC-01", "端末", "外来端末", "外来", "S-CLN"],
                ],
            ),
        ]);
        let preview = b
            .upload(
                &import,
                &import,
                &[("action", "preview")],
                Some(upload("台帳.xlsx", book.clone(), XLSX)),
            )
            .await;
        assert_eq!(preview.status, 200, "{label}: {}", preview.body);
        let segments = preview_table(&preview, "セグメント");
        let assets = preview_table(&preview, "資産");
        assert_eq!(
            (segments.created, assets.created, assets.rejected.len()),
            (2, 3, 0),
            "{label}"
        );
        assert_eq!(
            count(&app, records).await,
            0,
            "{label}: a preview writes nothing"
        );
        let imported = b
            .upload(
                &import,
                &import,
                &[("action", "import")],
                Some(upload("台帳.xlsx", book, XLSX)),
            )
            .await;
        assert_eq!(imported.status, 303, "{label}: {}", imported.body);
        assert_eq!(count(&app, records).await, 5, "{label}");

        // A UTF-8 CSV with good rows and bad ones.
        let csv = "資産番号,種別,名称,設置場所,ネットワークセグメント,CPE,サポート終了日\n\
                   SV-02,サーバ,PACSサーバ,サーバ室,S-SRV,,2030-03-31\n\
                   XX-01,トースター,謎の機器,,S-SRV,,\n\
                   XX-02,端末,病棟端末,,S-NONE,,\n\
                   XX-03,サーバ,古いサーバ,,S-SRV,not-a-cpe,31/03/2026\n\
                   PC-02,端末,病棟端末,3階病棟,S-CLN,,\n";
        let (records_before, history_before) =
            (count(&app, records).await, count(&app, history).await);
        let preview = b
            .upload(
                &import,
                &import,
                &[("action", "preview"), ("kind", "asset")],
                Some(upload("assets.csv", csv.as_bytes().to_vec(), "text/csv")),
            )
            .await;
        assert_eq!(preview.status, 200, "{label}: {}", preview.body);
        let table = preview_table(&preview, "CSV");
        assert_eq!((table.created, table.updated), (2, 0), "{label}");
        let rows: Vec<(&str, &str, &str)> = table
            .rejected
            .iter()
            .map(|(r, c, f, _)| (r.as_str(), c.as_str(), f.as_str()))
            .collect();
        assert_eq!(
            rows,
            vec![
                ("3", "B（種別）", "種別"),
                ("4", "E（ネットワークセグメント）", "ネットワークセグメント"),
                ("5", "F（CPE）", "CPE"),
                ("5", "G（サポート終了日）", "サポート終了日"),
            ],
            "{label}"
        );
        let reasons: Vec<&str> = table.rejected.iter().map(|r| r.3.as_str()).collect();
        for (reason, expected) in
            reasons
                .iter()
                .zip(["トースター", "S-NONE", "not-a-cpe", "31/03/2026"])
        {
            assert!(reason.contains(expected), "{label}: {reason}");
        }
        assert_eq!(count(&app, records).await, records_before, "{label}");
        let kept = kept_upload(&preview);

        // Import with rejected rows: nothing at all.
        let refused = b
            .upload(
                &import,
                &import,
                &[("action", "import"), ("kind", "asset"), ("upload", &kept)],
                None,
            )
            .await;
        assert_eq!(refused.status, 422, "{label}: {}", refused.body);
        assert!(
            alert(&refused).contains("3"),
            "{label}: {}",
            alert(&refused)
        );
        assert_eq!(count(&app, records).await, records_before, "{label}");
        assert_eq!(count(&app, history).await, history_before, "{label}");

        // Leaving them out imports the good rows.
        let skipped = b
            .upload(
                &import,
                &import,
                &[
                    ("action", "import"),
                    ("kind", "asset"),
                    ("upload", &kept),
                    ("skip_rejected", "on"),
                ],
                None,
            )
            .await;
        assert_eq!(skipped.status, 303, "{label}: {}", skipped.body);
        assert_eq!(count(&app, records).await, records_before + 2, "{label}");
        let assets = table_rows(&b.get(&format!("{base}/asset")).await);
        assert!(
            assets.contains_key("SV-02") && assets.contains_key("PC-02"),
            "{label}"
        );
        assert!(!assets.keys().any(|k| k.starts_with("XX-")), "{label}");

        // The same file again: all unchanged, no history.
        let history_before = count(&app, history).await;
        let again = b
            .upload(
                &import,
                &import,
                &[("action", "preview"), ("kind", "asset"), ("upload", &kept)],
                None,
            )
            .await;
        assert_eq!(again.status, 200, "{label}: {}", again.body);
        let table = preview_table(&again, "CSV");
        assert_eq!(
            (table.created, table.updated, table.unchanged),
            (0, 0, 2),
            "{label}"
        );
        let reimported = b
            .upload(
                &import,
                &import,
                &[
                    ("action", "import"),
                    ("kind", "asset"),
                    ("upload", &kept),
                    ("skip_rejected", "on"),
                ],
                None,
            )
            .await;
        assert_eq!(reimported.status, 303, "{label}: {}", reimported.body);
        assert_eq!(count(&app, history).await, history_before, "{label}");

        // Shift_JIS, as Japanese Excel saves CSV.
        let sjis_text = "資産番号,種別,名称,設置場所,ネットワークセグメント\n\
                         MD-01,医療機器,ＣＴ装置,放射線科,S-CLN\n\
                         PC-03,端末,読影端末,放射線科,S-CLN\n";
        let (sjis, _, unmappable) = encoding_rs::SHIFT_JIS.encode(sjis_text);
        assert!(!unmappable && std::str::from_utf8(&sjis).is_err());
        let preview = b
            .upload(
                &import,
                &import,
                &[("action", "preview"), ("kind", "asset")],
                Some(upload("sjis.csv", sjis.to_vec(), "text/csv")),
            )
            .await;
        assert_eq!(preview.status, 200, "{label}: {}", preview.body);
        assert!(
            preview.body.contains("<td>ネットワークセグメント</td>"),
            "{label}: headers decoded"
        );
        assert_eq!(preview_table(&preview, "CSV").created, 2, "{label}");
        let kept = kept_upload(&preview);
        let imported = b
            .upload(
                &import,
                &import,
                &[("action", "import"), ("kind", "asset"), ("upload", &kept)],
                None,
            )
            .await;
        assert_eq!(imported.status, 303, "{label}: {}", imported.body);
        let ct = b.get(&format!("{base}/asset/MD-01")).await;
        assert!(ct.body.contains("value=\"ＣＴ装置\""), "{label}");

        // Not a table: refused with the reason; nothing kept.
        let uploads = "SELECT COUNT(*) FROM ledger_uploads";
        let kept_before = count(&app, uploads).await;
        for (name, data, mime, reason) in [
            (
                "台帳.pdf",
                b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n".to_vec(),
                "application/pdf",
                "it is a PDF",
            ),
            (
                "ledger.bin",
                vec![0x01, 0x00, 0xFF, 0x00, 0x13, 0x37, 0x00, 0x00],
                "application/octet-stream",
                "binary data",
            ),
        ] {
            let refused = b
                .upload(
                    &import,
                    &import,
                    &[("action", "preview")],
                    Some(upload(name, data, mime)),
                )
                .await;
            assert_eq!(refused.status, 422, "{label}: {name}");
            let message = alert(&refused);
            assert!(
                message.contains(name) && message.contains(reason),
                "{label}: {message}"
            );
        }
        assert_eq!(count(&app, uploads).await, kept_before, "{label}");

        // The workbook export: a sheet per kind, and it imports back as is.
        let (status, headers, bytes) = b.bytes(&format!("{base}.xlsx")).await;
        assert_eq!(status, 200, "{label}");
        assert_eq!(headers["content-type"], XLSX, "{label}");
        let tables = mamori_documents::ledger_sheets::read_tables(&bytes).unwrap();
        let kinds: Vec<Option<RecordKind>> = tables.iter().map(|t| t.kind()).collect();
        assert_eq!(
            kinds,
            RecordKind::ALL
                .iter()
                .copied()
                .map(Some)
                .collect::<Vec<_>>(),
            "{label}"
        );
        let asset_keys: BTreeSet<&str> =
            tables[0].rows.iter().map(|(_, r)| r[0].as_str()).collect();
        let expected: BTreeSet<&str> = [
            "FW-01", "SV-01", "PC-01", "SV-02", "PC-02", "MD-01", "PC-03",
        ]
        .into_iter()
        .collect();
        assert_eq!(asset_keys, expected, "{label}");
        assert_eq!(tables[1].rows.len(), 2, "{label}: segments");
        let round = b
            .upload(
                &import,
                &import,
                &[("action", "preview")],
                Some(upload("export.xlsx", bytes, XLSX)),
            )
            .await;
        assert_eq!(round.status, 200, "{label}: {}", round.body);
        for (sheet, n) in [("資産", 7), ("セグメント", 2)] {
            let t = preview_table(&round, sheet);
            assert_eq!(
                (t.created, t.updated, t.unchanged, t.rejected.len()),
                (0, 0, n, 0),
                "{label}: {sheet}"
            );
        }
        app.db.finish().await;
    }
}

// --- charts -----------------------------------------------------------------------

/// The draw.io file's vertices (id → parent) and edges (source, target).
fn drawio(xml: &[u8]) -> (BTreeMap<String, String>, Vec<(String, String)>) {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut vertices = BTreeMap::new();
    let mut edges = Vec::new();
    let mut buf = Vec::new();
    let mut root = None;
    loop {
        match reader.read_event_into(&mut buf).expect("well-formed XML") {
            Event::Start(e) | Event::Empty(e) => {
                let name = e.name().as_ref().to_owned();
                if root.is_none() {
                    root = Some(name.clone());
                }
                if name != "mxCell" {
                    continue;
                }
                let mut a = BTreeMap::new();
                for at in e.attributes() {
                    let at = at.unwrap();
                    a.insert(
                        at.key.as_ref().to_owned(),
                        at.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .unwrap()
                            .into_owned(),
                    );
                }
                if a.get("vertex").map(String::as_str) == Some("1") {
                    vertices.insert(a["id"].clone(), a["parent"].clone());
                } else if a.get("edge").map(String::as_str) == Some("1") {
                    edges.push((a["source"].clone(), a["target"].clone()));
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    assert_eq!(root.as_deref(), Some("mxfile"));
    edges.sort();
    (vertices, edges)
}

#[tokio::test]
async fn network_and_structure_charts_come_in_every_format() {
    for db in testing::all().await {
        let label = db.label;
        let app = TestApp::start(db).await;
        let w = world(&app).await;
        let (b, base) = (&w.surveyor, w.base.as_str());
        seed(b, base).await;

        for (chart, names) in [
            (
                "network",
                &[
                    "サーバセグメント",
                    "境界ファイアウォール",
                    "読影センター",
                    "×30",
                ][..],
            ),
            (
                "structure",
                &["情報システム室長", "保守ベンダー", "院長"][..],
            ),
        ] {
            let page = b.get(&format!("{base}/{chart}")).await;
            assert_eq!(page.status, 200, "{label}: {chart}");
            let at = page
                .body
                .find("<div class=\"diagram\"><svg")
                .unwrap_or_else(|| panic!("{label}: no inline SVG on {chart}"));
            let svg = &page.body[at..];
            for name in names {
                assert!(svg.contains(name), "{label}: {chart} draws {name}");
            }
            for (format, content_type, magic) in [
                ("svg", "image/svg+xml", &b"<svg"[..]),
                ("pdf", "application/pdf", &b"%PDF"[..]),
                ("drawio", "application/vnd.jgraph.mxfile", &b"<mxfile"[..]),
                ("mermaid", "text/plain; charset=utf-8", &b"---"[..]),
            ] {
                let (status, headers, bytes) =
                    b.bytes(&format!("{base}/{chart}?format={format}")).await;
                assert_eq!(status, 200, "{label}: {chart} {format}");
                assert_eq!(
                    headers["content-type"], content_type,
                    "{label}: {chart} {format}"
                );
                assert!(
                    headers["content-disposition"]
                        .to_str()
                        .unwrap()
                        .starts_with("attachment"),
                    "{label}"
                );
                assert!(
                    bytes.starts_with(magic),
                    "{label}: {chart} {format} starts {:?}",
                    String::from_utf8_lossy(&bytes[..bytes.len().min(40)])
                );
            }
            let mermaid = b.get(&format!("{base}/{chart}?format=mermaid")).await;
            assert!(
                mermaid.body.contains("flowchart") && mermaid.body.contains(names[1]),
                "{label}: {}",
                mermaid.body
            );
            assert_eq!(
                b.get(&format!("{base}/{chart}?format=visio")).await.status,
                404,
                "{label}"
            );
        }

        // draw.io: a vertex per segment, per device box (identical
        // terminals folded into one, the system not drawn) and per external
        // connection; devices inside their segment; edges join vertices.
        let (_, _, xml) = b.bytes(&format!("{base}/network?format=drawio")).await;
        let (vertices, edges) = drawio(&xml);
        let expected: BTreeMap<String, String> = [
            ("s:S-SRV", "1"),
            ("s:S-CLN", "1"),
            ("a:FW-01", "s:S-SRV"),
            ("a:SV-01", "s:S-SRV"),
            ("a:PC-01", "s:S-CLN"),
            ("x:C-01", "1"),
            ("x:C-02", "1"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        assert_eq!(vertices, expected, "{label}");
        let wanted: Vec<(String, String)> = [
            ("a:FW-01", "a:PC-01"),
            ("a:FW-01", "a:SV-01"),
            ("x:C-01", "a:FW-01"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        assert_eq!(edges, wanted, "{label}");
        for (source, target) in &edges {
            assert!(
                vertices.contains_key(source) && vertices.contains_key(target),
                "{label}"
            );
        }
        let (_, _, xml) = b.bytes(&format!("{base}/structure?format=drawio")).await;
        let (vertices, edges) = drawio(&xml);
        assert_eq!(
            vertices.keys().map(String::as_str).collect::<Vec<_>>(),
            vec!["r:R-1", "r:R-2", "r:R-3"],
            "{label}"
        );
        assert_eq!(
            edges,
            vec![
                ("r:R-1".to_string(), "r:R-2".to_string()),
                ("r:R-2".to_string(), "r:R-3".to_string())
            ],
            "{label}"
        );

        // What the overview points out.
        let overview = b.get(base).await;
        assert!(
            overview
                .body
                .contains("管理者が把握していなかった外部接続: 読影センター"),
            "{label}"
        );
        app.db.finish().await;
    }
}

// --- the catalogue -------------------------------------------------------------------

#[tokio::test]
async fn only_the_secretariat_keeps_the_catalogue_and_a_model_in_use_stays() {
    for db in testing::all().await {
        let label = db.label;
        let app = TestApp::start(db).await;
        let w = world(&app).await;
        let (b, base) = (&w.surveyor, w.base.as_str());
        let secretariat_org = app.org(OrgKind::Secretariat, "日本遠隔医療協会").await;
        let secretariat = signed_in(&app, secretariat_org, "office@example.jp").await;
        let models = "SELECT COUNT(*) FROM device_models WHERE deleted_at IS NULL";
        let model = [
            ("key", "FG-60F"),
            ("kind", "ファイアウォール"),
            ("vendor", "Fortinet"),
            ("product", "FortiGate"),
            ("model", "60F"),
            ("cpes", "cpe:2.3:h:fortinet:fortigate_60f:-:*:*:*:*:*:*:*"),
        ];

        // A surveyor reads the catalogue but adds nothing to it.
        assert_eq!(b.get("/catalogue/new").await.status, 403, "{label}");
        let mut forged: Vec<(&str, &str)> = model.to_vec();
        let csrf = b.get("/catalogue").await.csrf();
        forged.push(("csrf", &csrf));
        let refused = b.post("/catalogue", &forged).await;
        assert_eq!(refused.status, 403, "{label}: {}", refused.body);
        assert_eq!(count(&app, models).await, 0, "{label}");

        let saved = fill(&secretariat, "/catalogue/new", "/catalogue", &model).await;
        assert_eq!(saved.status, 303, "{label}: {}", saved.body);
        assert_eq!(
            saved.location.as_deref(),
            Some("/catalogue/FG-60F?done=saved"),
            "{label}"
        );
        assert_eq!(count(&app, models).await, 1, "{label}");
        assert!(b.get("/catalogue").await.body.contains("FG-60F"), "{label}");

        // An asset points at a model that exists, or is refused.
        let records = "SELECT COUNT(*) FROM ledger_records";
        let unknown = fill(
            b,
            &format!("{base}/asset/new"),
            &format!("{base}/asset"),
            &[
                ("key", "FW-01"),
                ("kind", "ファイアウォール"),
                ("name", "境界ファイアウォール"),
                ("model_ref", "NO-SUCH-MODEL"),
            ],
        )
        .await;
        assert_eq!(unknown.status, 422, "{label}: {}", unknown.body);
        let message = alert(&unknown);
        assert!(
            message.contains("NO-SUCH-MODEL") && message.contains("機種カタログ"),
            "{label}: {message}"
        );
        assert_eq!(count(&app, records).await, 0, "{label}");
        let pointed = fill(
            b,
            &format!("{base}/asset/new"),
            &format!("{base}/asset"),
            &[
                ("key", "FW-01"),
                ("kind", "ファイアウォール"),
                ("name", "境界ファイアウォール"),
                ("model_ref", "FG-60F"),
            ],
        )
        .await;
        assert_eq!(pointed.status, 303, "{label}: {}", pointed.body);

        // A model in use is not deleted; once unused, it goes.
        let in_use = fill(
            &secretariat,
            "/catalogue/FG-60F",
            "/catalogue/FG-60F/delete",
            &[],
        )
        .await;
        assert_eq!(in_use.status, 409, "{label}: {}", in_use.body);
        assert!(alert(&in_use).contains("in use"), "{label}");
        assert_eq!(count(&app, models).await, 1, "{label}");
        // The surveyor's page has no such form: posted by hand.
        let csrf = b.get("/catalogue").await.csrf();
        let by_surveyor = b
            .post("/catalogue/FG-60F/delete", &[("csrf", csrf.as_str())])
            .await;
        assert_eq!(by_surveyor.status, 403, "{label}");
        let removed = fill(
            b,
            &format!("{base}/asset/FW-01"),
            &format!("{base}/asset/FW-01/delete"),
            &[],
        )
        .await;
        assert_eq!(removed.status, 303, "{label}: {}", removed.body);
        let deleted = fill(
            &secretariat,
            "/catalogue/FG-60F",
            "/catalogue/FG-60F/delete",
            &[],
        )
        .await;
        assert_eq!(deleted.status, 303, "{label}: {}", deleted.body);
        assert_eq!(count(&app, models).await, 0, "{label}");
        app.db.finish().await;
    }
}

// --- the access policy ------------------------------------------------------------------

/// What nobody outside the engagement may see.
const SECRETS: &[&str] = &[
    HOSPITAL,
    "境界ファイアウォール",
    "サーバセグメント",
    "Fortinet",
    "読影センター",
    "情報システム室長",
];

#[tokio::test]
async fn the_policy_decides_who_reads_and_writes_the_ledger_and_refusals_are_audited() {
    for db in testing::all().await {
        let label = db.label;
        let app = TestApp::start(db).await;
        let store = app.store();
        let w = world(&app).await;
        let id = w.hospital.0;
        let base = w.base.clone();
        seed(&w.surveyor, &base).await;
        let record = format!("{base}/asset/FW-01");
        let photo = w
            .surveyor
            .upload(
                &record,
                &format!("{record}/photos"),
                &[],
                Some(Upload {
                    field: "photo",
                    name: "fw.png",
                    data: PNG.to_vec(),
                    mime: "image/png",
                }),
            )
            .await;
        assert_eq!(photo.status, 303, "{label}: {}", photo.body);
        let page = w.surveyor.get(&record).await;
        let marker = format!("/hospitals/{id}/ledger/photos/");
        let at = page.body.find(&marker).unwrap() + marker.len();
        let photo_path = format!(
            "{marker}{}",
            page.body[at..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        );

        let secretariat_org = app.org(OrgKind::Secretariat, "日本遠隔医療協会").await;
        let supervisor_org = app.org(OrgKind::Supervisor, "セコム山陰").await;
        let ministry_org = app.org(OrgKind::Ministry, "厚生労働省").await;
        let other_hospital = app.org(OrgKind::Hospital, "石見やまびこ病院").await;
        let unrelated = app.org(OrgKind::SurveyCompany, "いずも情報サービス").await;
        let not_yet = app.org(OrgKind::SurveyCompany, "まつえシステム監査").await;
        testing::add_engagement(
            store,
            w.programme,
            w.hospital,
            not_yet,
            EngagementState::PledgeIssued,
        )
        .await;
        // The ministry reads a ledger once that hospital's report was accepted.
        let accepted_hospital = app.org(OrgKind::Hospital, "隠岐うみかぜ病院").await;
        testing::add_engagement(
            store,
            w.programme,
            accepted_hospital,
            w.company,
            EngagementState::Accepted,
        )
        .await;

        let staff = signed_in(&app, w.hospital, "staff@example.jp").await;
        let secretariat = signed_in(&app, secretariat_org, "office@example.jp").await;
        let supervisor = signed_in(&app, supervisor_org, "supervisor@example.jp").await;
        let ministry = signed_in(&app, ministry_org, "ministry@example.jp").await;
        let stranger = signed_in(&app, other_hospital, "other@example.jp").await;
        let outsider = signed_in(&app, unrelated, "outsider@example.jp").await;
        let pending = signed_in(&app, not_yet, "pending@example.jp").await;

        let reads: Vec<String> = [
            base.clone(),
            format!("{base}/asset"),
            format!("{base}/segment"),
            format!("{base}/connection"),
            format!("{base}/role"),
            format!("{base}/asset?format=csv"),
            record.clone(),
            format!("{base}/history"),
            format!("{base}/walk"),
            format!("{base}.xlsx"),
            format!("{base}/import/template"),
            format!("{base}/network"),
            format!("{base}/structure"),
            photo_path.clone(),
        ]
        .into_iter()
        .chain(["svg", "pdf", "drawio", "mermaid"].iter().flat_map(|f| {
            [
                format!("{base}/network?format={f}"),
                format!("{base}/structure?format={f}"),
            ]
        }))
        .collect();
        let denied = "SELECT COUNT(*) FROM audit_events WHERE action = 'access.denied'";
        let written = async || {
            (
                count(&app, "SELECT COUNT(*) FROM ledger_records").await,
                count(&app, "SELECT COUNT(*) FROM ledger_history").await,
                count(&app, "SELECT COUNT(*) FROM ledger_photos").await,
                count(&app, "SELECT COUNT(*) FROM ledger_uploads").await,
            )
        };

        // Those the policy names read every page, download and chart.
        for (who, b) in [
            ("staff", &staff),
            ("secretariat", &secretariat),
            ("supervisor", &supervisor),
        ] {
            for path in &reads {
                let (status, _, bytes) = b.bytes(path).await;
                assert_eq!(status, 200, "{label}: {who} reads {path}");
                assert!(!bytes.is_empty(), "{label}: {who} {path}");
            }
            let overview = b.get(&base).await;
            assert!(
                overview.body.contains(HOSPITAL) && overview.body.contains("資産"),
                "{label}: {who}"
            );
        }

        // The hospital's own staff keeps its ledger current.
        let saved = fill(
            &staff,
            &format!("{base}/asset/new"),
            &format!("{base}/asset"),
            &[
                ("key", "PR-01"),
                ("kind", "その他"),
                ("name", "受付プリンタ"),
                ("segment", "S-CLN"),
            ],
        )
        .await;
        assert_eq!(saved.status, 303, "{label}: {}", saved.body);
        let page = staff.get(&format!("{base}/asset/PR-01")).await;
        assert!(page.body.contains("staff@example.jp さん"), "{label}");
        assert_eq!(staff.get(&format!("{base}/import")).await.status, 200);

        // Every write of those who only read is refused and audited.
        let csrf_of = async |b: &Browser| b.get("/account").await.csrf();
        let good_asset = |csrf: &str| -> Vec<(String, String)> {
            [
                ("csrf", csrf),
                ("original", ""),
                ("key", "ZZ-01"),
                ("kind", "サーバ"),
                ("name", "追加サーバ"),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
        };
        let bad_asset = |csrf: &str| -> Vec<(String, String)> {
            [
                ("csrf", csrf),
                ("original", ""),
                ("key", "ZZ-02"),
                ("kind", "トースター"),
                ("name", ""),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
        };
        let refusals = async |who: &str, b: &Browser, expect_404_ok: bool| {
            let ok = |status: u16| status == 403 || (expect_404_ok && status == 404);
            let csrf = csrf_of(b).await;
            let before = written().await;
            let check = async |what: &str, page: Page, audited_before: i64| {
                assert!(ok(page.status), "{label}: {who} {what}: {}", page.status);
                for secret in SECRETS {
                    assert!(
                        !page.body.contains(secret),
                        "{label}: {who} {what} shows {secret}"
                    );
                }
                assert!(
                    count(&app, denied).await > audited_before,
                    "{label}: {who} {what} is not audited"
                );
            };
            for (what, fields) in [
                ("save", good_asset(&csrf)),
                ("save a bad form", bad_asset(&csrf)),
            ] {
                let audited = count(&app, denied).await;
                let page = send(b, &format!("{base}/asset"), &fields).await;
                check(what, page, audited).await;
            }
            for action in ["delete", "confirm"] {
                let audited = count(&app, denied).await;
                let page = b
                    .post(
                        &format!("{record}/{action}"),
                        &[("csrf", csrf.as_str()), ("version", "1")],
                    )
                    .await;
                check(action, page, audited).await;
            }
            let audited = count(&app, denied).await;
            let page = b
                .upload(
                    "/account",
                    &format!("{record}/photos"),
                    &[],
                    Some(Upload {
                        field: "photo",
                        name: "x.png",
                        data: PNG.to_vec(),
                        mime: "image/png",
                    }),
                )
                .await;
            check("photo", page, audited).await;
            let audited = count(&app, denied).await;
            let page = b.get(&format!("{base}/import")).await;
            check("import form", page, audited).await;
            let audited = count(&app, denied).await;
            let page = b
                .upload(
                    "/account",
                    &format!("{base}/import"),
                    &[("action", "import")],
                    Some(Upload {
                        field: "file",
                        name: "台帳.xlsx",
                        data: survey_workbook(),
                        mime: XLSX,
                    }),
                )
                .await;
            check("import", page, audited).await;
            assert_eq!(written().await, before, "{label}: {who} wrote something");
        };
        refusals("secretariat", &secretariat, false).await;
        refusals("supervisor", &supervisor, false).await;

        // Those it does not name see nothing of it, read or write.
        for (who, b) in [
            ("another hospital", &stranger),
            ("an unrelated company", &outsider),
            ("a company not yet contracted", &pending),
            ("the ministry before acceptance", &ministry),
        ] {
            for path in &reads {
                let audited = count(&app, denied).await;
                let (status, _, bytes) = b.bytes(path).await;
                assert!(
                    status == 403 || status == 404,
                    "{label}: {who} {path}: {status}"
                );
                let body = String::from_utf8_lossy(&bytes);
                for secret in SECRETS {
                    assert!(
                        !body.contains(secret),
                        "{label}: {who} {path} shows {secret}"
                    );
                }
                assert!(
                    count(&app, denied).await > audited,
                    "{label}: {who} {path} is not audited"
                );
            }
            refusals(who, b, true).await;
        }

        // The ministry reads once a hospital's report is accepted.
        let accepted = ministry
            .get(&format!("/hospitals/{}/ledger", accepted_hospital.0))
            .await;
        assert_eq!(accepted.status, 200, "{label}: {}", accepted.body);
        app.db.finish().await;
    }
}
