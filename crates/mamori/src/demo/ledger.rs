//! The demo hospitals' ledgers, written as the surveyor would upload them
//! (one table per sheet) and imported through the same plan as a file:
//! a FortiGate VPN the electronic medical record vendor keeps open for
//! remote maintenance, a CT whose vendor reaches it over its own router
//! (the connection the administrator did not know of), the online
//! eligibility (オンライン資格確認) line, a regional network, a remote
//! reading service, and a backup with no offline copy.

use mamori_domain::ledger::{
    Cells, ColumnMapping, DeviceModel, Ledger, LedgerImportPlan, RecordKind, RowRecord, TableInput,
    plan_ledger_import,
};
use time::{Date, Duration};

/// One sheet: its kind, header and rows, cells separated by `|`.
struct Sheet {
    kind: RecordKind,
    header: &'static str,
    rows: Vec<String>,
}

fn split(line: &str) -> Vec<String> {
    line.split('|').map(|c| c.trim().to_string()).collect()
}

/// Plans the sheets as one upload onto an empty ledger.
fn plan(sheets: &[Sheet]) -> LedgerImportPlan {
    let bodies: Vec<Vec<(u32, Vec<String>)>> = sheets
        .iter()
        .map(|s| {
            s.rows
                .iter()
                .enumerate()
                .map(|(i, r)| (i as u32 + 2, split(r)))
                .collect()
        })
        .collect();
    let inputs: Vec<TableInput> = sheets
        .iter()
        .zip(bodies.iter())
        .map(|(s, rows)| TableInput {
            name: s.kind.ja().to_string(),
            kind: s.kind,
            mapping: ColumnMapping::infer(&split(s.header), s.kind.columns()),
            rows,
        })
        .collect();
    plan_ledger_import(&inputs, &Ledger::default())
}

fn lines(rows: &[&str]) -> Vec<String> {
    rows.iter().map(|r| r.to_string()).collect()
}

/// 湖畔市立総合病院: the hospital being surveyed, 300 beds, everything the
/// seed's survey looks for.
pub fn lakeside_ledger(today: Date) -> LedgerImportPlan {
    let day = |days_ago: i64| (today - Duration::days(days_ago)).to_string();
    let terminals: Vec<String> = (1..=3)
        .map(|floor| {
            format!(
                "PC-MED-{floor}F|端末|{floor}階病棟 電子カルテ端末|SYS-EMR|NEC|Mate|MKM30||Windows 11 Pro|40|{floor}階病棟|MED|病院|情報システム室|つばさ医療システム|なし||||"
            )
        })
        .collect();
    let mut assets = lines(&[
        "SYS-EMR|システム|電子カルテシステム||つばさ医療システム|つばさカルテ|V8|8.2.1||1|サーバ室||病院|情報システム室|つばさ医療システム|常時接続|保守用VPN経由|||",
        "SYS-PACS|システム|PACS（医用画像管理）||みなと画像|MINATO PACS||5.1||1|サーバ室||病院|放射線科|みなと画像|必要時のみ||||",
        "SYS-ONS|システム|オンライン資格確認|||||||1|医事課||病院|医事課|地元SIer|なし||||",
        "FW-01|ファイアウォール|インターネット境界ファイアウォール||Fortinet|FortiGate|100F|7.2.8|FortiOS|1|サーバ室|DMZ|病院|情報システム室|地元SIer|必要時のみ|SSH（業者来院時）|2029-03-31|はい|cpe:2.3:o:fortinet:fortios:7.2.8:*:*:*:*:*:*:*",
        "VPN-01|VPN装置|電子カルテ保守用VPN|SYS-EMR|Fortinet|FortiGate|60F|7.0.12|FortiOS|1|サーバ室|MNT|ベンダー|情報システム室|つばさ医療システム|常時接続|SSL-VPN（FortiClient）、ベンダーが常時接続|2026-09-30|はい|cpe:2.3:o:fortinet:fortios:7.0.12:*:*:*:*:*:*:*",
        "RT-01|ルータ|インターネット回線ルータ||Cisco|ISR|1111-8P|17.3.4|IOS XE|1|サーバ室|DMZ|病院|情報システム室|地元SIer|なし|||はい|cpe:2.3:o:cisco:ios_xe:17.3.4:*:*:*:*:*:*:*",
        "SW-CORE|スイッチ|コアスイッチ||アライドテレシス|CentreCOM|x930-28GTX|5.5.2|AlliedWare Plus|1|サーバ室|MED|病院|情報システム室|地元SIer|なし||||",
        "SV-EMR-AP|サーバ|電子カルテAPサーバ|SYS-EMR|HPE|ProLiant|DL380 Gen10||Windows Server 2019|2|サーバ室|MED|病院|情報システム室|つばさ医療システム|常時接続|保守用VPN経由のリモートデスクトップ|2029-01-09||cpe:2.3:o:microsoft:windows_server_2019:-:*:*:*:*:*:*:*",
        "SV-EMR-DB|サーバ|電子カルテDBサーバ|SYS-EMR|HPE|ProLiant|DL380 Gen10|19c|Oracle Linux 8|1|サーバ室|MED|病院|情報システム室|つばさ医療システム|常時接続|保守用VPN経由のSSH|||cpe:2.3:a:oracle:database_server:19c:*:*:*:*:*:*:*",
        "SV-PACS|サーバ|PACSサーバ|SYS-PACS|Dell|PowerEdge|R750||Windows Server 2016|1|サーバ室|RAD|病院|放射線科|みなと画像|必要時のみ|業者来院時のみ|2027-01-12||cpe:2.3:o:microsoft:windows_server_2016:-:*:*:*:*:*:*:*",
        "CT-01|医療機器|CT装置|SYS-PACS|しおかぜメディカル|Aquaria CT|ONE 320|V10.2||1|放射線科 CT室|RAD|病院|放射線科|しおかぜメディカル|常時接続|ベンダー所有ルータ経由の遠隔保守|||",
        "RT-CT|ルータ|CT保守用ルータ（ベンダー所有）|SYS-PACS|ヤマハ|RTX|1220|15.04.04||1|放射線科 CT室|RAD|ベンダー|放射線科|しおかぜメディカル|常時接続|IP-VPN（ベンダー閉域網）|||cpe:2.3:h:yamaha:rtx1220:-:*:*:*:*:*:*:*",
        "ONS-PC|端末|オンライン資格確認端末|SYS-ONS|富士通|ESPRIMO|D7012||Windows 10 IoT Enterprise|1|医事課 受付|ADM|病院|医事課|地元SIer|なし|||",
        "RT-ONS|ルータ|オンライン資格確認用ルータ|SYS-ONS|NEC|UNIVERGE IX|IX2106|10.7.18||1|医事課|ADM|病院|医事課|地元SIer|なし||||",
        "PC-ADM|端末|事務系端末||Dell|OptiPlex|7010||Windows 11 Pro|35|事務棟|ADM|病院|総務課|地元SIer|なし||||",
        "WL-01|無線LANアクセスポイント|病棟無線LAN||Cisco|Meraki|MR46||Meraki|12|各病棟|MED|病院|情報システム室|地元SIer|なし||||",
        "NAS-01|サーバ|バックアップNAS|SYS-EMR|Synology|RackStation|RS1221+|7.1.1|DSM|1|サーバ室|MED|病院|情報システム室|つばさ医療システム|なし||2027-06-30||cpe:2.3:o:synology:diskstation_manager:7.1.1:*:*:*:*:*:*:*",
    ]);
    assets.extend(terminals);
    let sheets = [
        Sheet {
            kind: RecordKind::Segment,
            header: "セグメント番号|名称|種別|アドレス範囲・VLAN|ゲートウェイ|備考",
            rows: lines(&[
                "MED|医療系LAN|医療系|10.10.0.0/16 VLAN10|SW-CORE|電子カルテ・部門システム",
                "RAD|放射線部門LAN|医療系|10.30.0.0/24 VLAN30|SW-CORE|PACS・CT",
                "ADM|事務系LAN|事務系|10.20.0.0/16 VLAN20|RT-01|インターネット閲覧可",
                "MNT|保守用セグメント|保守用|192.168.100.0/24|VPN-01|電子カルテベンダーの保守用",
                "DMZ|DMZ|DMZ|172.16.0.0/24|FW-01|",
            ]),
        },
        Sheet {
            kind: RecordKind::Asset,
            header: "資産番号|種別|名称|所属システム|メーカー|製品名|型番|バージョン・ファームウェア|OS|台数|設置場所|ネットワークセグメント|所有者|管理部署|保守業者|リモート保守|リモート保守の方法|サポート終了日|インターネットに公開|CPE",
            rows: assets,
        },
        Sheet {
            kind: RecordKind::Link,
            header: "接続番号|接続元|接続先|媒体|表示名",
            rows: lines(&[
                "L-01|RT-01|FW-01|有線|",
                "L-02|FW-01|SW-CORE|有線|",
                "L-03|VPN-01|SW-CORE|有線|保守用",
                "L-04|SW-CORE|SV-EMR-AP|有線|",
                "L-05|SW-CORE|SV-EMR-DB|有線|",
                "L-06|SW-CORE|SV-PACS|有線|",
                "L-07|SV-PACS|CT-01|有線|DICOM",
                "L-08|RT-CT|CT-01|有線|遠隔保守",
                "L-09|SW-CORE|PC-MED-1F|有線|",
                "L-10|SW-CORE|PC-MED-2F|有線|",
                "L-11|SW-CORE|PC-MED-3F|有線|",
                "L-12|SW-CORE|WL-01|有線|",
                "L-13|SW-CORE|NAS-01|有線|バックアップ",
                "L-14|RT-ONS|ONS-PC|有線|",
                "L-15|FW-01|PC-ADM|有線|",
            ]),
        },
        Sheet {
            kind: RecordKind::Connection,
            header: "接続番号|分類|接続先|目的|接続方法|回線・VPN製品|境界機器|接続形態|接続の承認者|ログ記録|管理者の把握|備考",
            rows: lines(&[
                "EX-01|ネットワーク保守|つばさ医療システム 保守センター|電子カルテの遠隔保守|インターネットVPN|FortiGate SSL-VPN|VPN-01|常時接続||いいえ|はい|ベンダーが任意に接続できる。接続の都度の承認なし",
                "EX-02|CT・MRI等検査機器の保守|しおかぜメディカル リモートサービス|CT装置の遠隔監視・保守|IP-VPN|ベンダー閉域網（ヤマハ RTX1220）|RT-CT|常時接続||不明|いいえ|院内巡回で発見。情報システム室は把握していなかった",
                "EX-03|マイナカード関係|オンライン資格確認等システム|資格確認|IP-VPN|オンライン請求ネットワーク（閉域）|RT-ONS|常時接続|医事課長|はい|はい|",
                "EX-04|地域医療連携|湖畔地域医療連携ネットワーク|診療情報の共有|インターネットVPN|FortiGate IPsec|FW-01|必要時のみ|情報システム室長|はい|はい|",
                "EX-05|遠隔読影|みずうみ遠隔画像診断センター|CT・MRIの遠隔読影|IP-VPN|読影センター提供ルータ|FW-01|常時接続|放射線科技師長|はい|はい|",
            ]),
        },
        Sheet {
            kind: RecordKind::Investigation,
            header: "履歴番号|接続番号|調査日|調査者|情報源|調査結果",
            rows: vec![
                format!("I-01|EX-01|{}|あおば 調査員|ヒアリング|システム管理者より、電子カルテ保守はFortiGateのSSL-VPNで常時接続と回答。接続ログは未確認。", day(14)),
                format!("I-02|EX-02|{}|あおば 調査員|院内巡回|CT室にベンダー所有のヤマハ製ルータを発見。情報システム室の台帳に記載なし。", day(12)),
                format!("I-03|EX-02|{}|あおば 調査員|ベンダー回答|しおかぜメディカルより、閉域網で常時監視しているとの回答。ファームウェア更新はベンダーが実施。", day(5)),
                format!("I-04|EX-03|{}|あおば 調査員|資料|オンライン資格確認の導入資料で回線構成を確認。", day(12)),
                format!("I-05|EX-05|{}|あおば 調査員|ヒアリング|放射線科技師長より、遠隔読影センターとの接続は常時接続と回答。", day(9)),
            ],
        },
        Sheet {
            kind: RecordKind::Backup,
            header: "バックアップ番号|システム|対象データ|方式|頻度|世代数|媒体|保管場所|オフライン保管|改ざん不可|暗号化|最終復元テスト日|復元テスト結果|RPO（時間）|RTO（時間）|備考",
            rows: vec![
                "B-01|SYS-EMR|電子カルテDB|フルバックアップ|毎日 2:00|7|NAS（RS1221+）|サーバ室|いいえ|いいえ|いいえ|||24|72|NASは院内LANに常時接続。オフラインの複製なし".to_string(),
                format!("B-02|SYS-PACS|画像データ|差分|毎週日曜|4|LTOテープ|別棟の金庫|はい|いいえ|はい|{}|成功（3時間で復元）|168|48|", day(120)),
            ],
        },
        Sheet {
            kind: RecordKind::Role,
            header: "役割番号|区分|役割・役職|担当者|所属・会社|業務用電話|業務用メール|報告先|担当範囲|緊急連絡順|備考",
            rows: lines(&[
                "R-01|経営層|院長|院長 石井 明美|病院長室|0120-000-001||||4|",
                "R-02|医療情報システム安全管理責任者|副院長（医療情報システム安全管理責任者）|副院長 森 健一|病院長室|0120-000-002||R-01|医療情報システム全体の安全管理|3|",
                "R-03|システム管理者|情報システム室長|小川 亮|情報システム室|0120-000-010|it-office@kohan-hospital.example.jp|R-02|サーバ・ネットワーク・端末|1|",
                "R-04|部門担当者|放射線科技師長|中村 聡|放射線科|0120-000-020||R-03|PACS・CT・遠隔読影||",
                "R-05|部門担当者|医事課長|佐々木 由美|医事課|0120-000-030||R-03|オンライン資格確認||",
                "R-06|ベンダー|電子カルテ保守|つばさ医療システム 保守センター|つばさ医療システム株式会社|0120-111-222|support@tsubasa-med.example.jp|R-03|電子カルテ・保守用VPN|2|",
                "R-07|ベンダー|CT保守|しおかぜメディカル サービス部|しおかぜメディカル株式会社|0120-333-444||R-04|CT装置・保守用ルータ||",
                "R-08|外部機関|医療政策省 医療情報安全室|||03-0000-0000||||5|インシデント発生時の報告先",
                "R-09|外部機関|所轄警察署 サイバー犯罪相談窓口|||0120-000-110||||6|",
            ]),
        },
    ];
    plan(&sheets)
}

/// 白浜記念病院: a smaller hospital in interim review, with an Ivanti
/// gateway for staff working from home and a Philips PACS.
pub fn shirahama_ledger(today: Date) -> LedgerImportPlan {
    let day = |days_ago: i64| (today - Duration::days(days_ago)).to_string();
    let sheets = [
        Sheet {
            kind: RecordKind::Segment,
            header: "セグメント番号|名称|種別|アドレス範囲・VLAN",
            rows: lines(&["LAN|院内LAN|院内LAN|192.168.1.0/24"]),
        },
        Sheet {
            kind: RecordKind::Asset,
            header: "資産番号|種別|名称|メーカー|製品名|型番|バージョン・ファームウェア|OS|台数|ネットワークセグメント|所有者|保守業者|リモート保守|リモート保守の方法|インターネットに公開|CPE",
            rows: lines(&[
                "UTM-01|ファイアウォール|UTM|Fortinet|FortiGate|40F|6.4.15|FortiOS|1|LAN|病院|地元SIer|必要時のみ|SSL-VPN|はい|cpe:2.3:o:fortinet:fortios:6.4.15:*:*:*:*:*:*:*",
                "SV-01|サーバ|電子カルテサーバ|NEC|Express5800|R120h||Windows Server 2019|1|LAN|病院|つばさ医療システム|必要時のみ|UTM経由|いいえ|cpe:2.3:o:microsoft:windows_server_2019:-:*:*:*:*:*:*:*",
                "PC-01|端末|電子カルテ端末|NEC|Mate||Windows 10 Pro|Windows 10 Pro|25|LAN|病院||なし|||",
                "VPN-02|VPN装置|職員用リモートアクセスVPN|Ivanti|Connect Secure|ISA6000|9.1R18||1|LAN|病院|地元SIer|必要時のみ|職員の在宅からのアクセス|はい|cpe:2.3:a:ivanti:connect_secure:9.1:r18:*:*:*:*:*:*",
                "PACS-01|医療機器|医用画像管理システム（PACS）|Philips|Vue PACS||12.2.1.5|Windows Server 2016|1|LAN|病院|フィリップス・ジャパン|必要時のみ|ベンダーのリモート保守回線|いいえ|",
            ]),
        },
        Sheet {
            kind: RecordKind::Connection,
            header: "接続番号|分類|接続先|接続方法|境界機器|接続形態|管理者の把握",
            rows: lines(&[
                "EX-01|ネットワーク保守|地元SIer|インターネットVPN|UTM-01|必要時のみ|はい",
                "EX-02|マイナカード関係|オンライン資格確認等システム|IP-VPN||常時接続|はい",
            ]),
        },
        Sheet {
            kind: RecordKind::Investigation,
            header: "履歴番号|接続番号|調査日|情報源|調査結果",
            rows: vec![format!(
                "I-01|EX-01|{}|ヒアリング|保守時のみUTMのSSL-VPNを開けると回答。",
                day(35)
            )],
        },
        Sheet {
            kind: RecordKind::Backup,
            header: "バックアップ番号|システム|対象データ|頻度|世代数|媒体|オフライン保管",
            rows: lines(&["B-01|SV-01|電子カルテDB|毎日|3|外付けHDD（週替わり2台）|はい"]),
        },
        Sheet {
            kind: RecordKind::Role,
            header: "役割番号|区分|役割・役職|担当者|所属・会社|業務用電話|業務用メール|報告先|緊急連絡順",
            rows: lines(&[
                "R-01|経営層|院長|松本 和夫|病院長|0120-000-200|||3",
                "R-02|システム管理者|事務長（システム担当兼務）|森 恵子|事務部|0120-000-210|office@shirahama-hospital.example.jp|R-01|1",
                "R-03|ベンダー|ネットワーク保守|地元SIer サポート窓口|地元SIer|0120-000-220|support@local-si.example.jp|R-02|2",
                "R-04|ベンダー|PACS保守|フィリップス・ジャパン カスタマーサポート|フィリップス・ジャパン|0120-000-230|pacs-support@philips-demo.example.jp|R-02|",
            ]),
        },
    ];
    plan(&sheets)
}

/// 国立みどり医療センター: the hospital whose report has been delivered,
/// with everything ④ to ⑦ show.
pub fn midori_ledger(today: Date) -> LedgerImportPlan {
    let day = |days_ago: i64| (today - Duration::days(days_ago)).to_string();
    let sheets = [
        Sheet {
            kind: RecordKind::Segment,
            header: "セグメント番号|名称|種別|アドレス範囲・VLAN",
            rows: lines(&[
                "MED|医療系LAN|医療系|10.1.0.0/16",
                "ADM|事務系LAN|事務系|10.2.0.0/16",
            ]),
        },
        Sheet {
            kind: RecordKind::Asset,
            header: "資産番号|種別|名称|所属システム|メーカー|型番|OS|台数|ネットワークセグメント|所有者|保守業者|リモート保守|リモート保守の方法|インターネットに公開",
            rows: lines(&[
                "SYS-EMR|システム|電子カルテシステム||みどりシステムズ||||||みどりシステムズ|必要時のみ|||",
                "FW-01|ファイアウォール|境界ファイアウォール||Fortinet|100F|FortiOS|1|ADM|病院|地元SIer|必要時のみ|SSL-VPN|はい",
                "SW-01|スイッチ|コアスイッチ||アライドテレシス|x930||1|MED|病院|地元SIer|なし||",
                "SV-EMR|サーバ|電子カルテサーバ|SYS-EMR|NEC|R120h|Windows Server 2019|2|MED|病院|みどりシステムズ|必要時のみ|FW-01経由のリモートデスクトップ|",
                "NAS-01|サーバ|バックアップNAS|SYS-EMR|Synology|RS1221+|DSM|1|MED|病院|みどりシステムズ|なし||",
                "PC-MED|端末|電子カルテ端末|SYS-EMR|NEC|Mate|Windows 11 Pro|60|MED|病院||なし||",
                "PC-ADM|端末|事務系端末||Dell|OptiPlex|Windows 11 Pro|20|ADM|病院||なし||",
            ]),
        },
        Sheet {
            kind: RecordKind::Link,
            header: "接続番号|接続元|接続先",
            rows: lines(&[
                "L-01|FW-01|SW-01",
                "L-02|SW-01|SV-EMR",
                "L-03|SW-01|NAS-01",
                "L-04|SW-01|PC-MED",
                "L-05|FW-01|PC-ADM",
            ]),
        },
        Sheet {
            kind: RecordKind::Connection,
            header: "接続番号|分類|接続先|接続方法|境界機器|接続形態|管理者の把握",
            rows: lines(&[
                "EX-01|ネットワーク保守|地元SIer|インターネットVPN|FW-01|必要時のみ|はい",
                "EX-02|各システム|みどりシステムズ 保守センター|インターネットVPN|FW-01|必要時のみ|はい",
                "EX-03|マイナカード関係|オンライン資格確認等システム|IP-VPN||常時接続|はい",
            ]),
        },
        Sheet {
            kind: RecordKind::Investigation,
            header: "履歴番号|接続番号|調査日|情報源|調査結果",
            rows: vec![
                format!(
                    "I-01|EX-01|{}|ヒアリング|保守時のみSSL-VPNを開けると回答。",
                    day(70)
                ),
                format!(
                    "I-02|EX-02|{}|ベンダー回答|共有IDでの接続。多要素認証なし。",
                    day(60)
                ),
                format!("I-03|EX-03|{}|院内巡回|専用ルータを医事課で確認。", day(65)),
            ],
        },
        Sheet {
            kind: RecordKind::Backup,
            header: "バックアップ番号|システム|対象データ|頻度|世代数|媒体|オフライン保管",
            rows: lines(&[
                "B-01|SYS-EMR|電子カルテDB|毎日|7|NAS|いいえ",
                "B-02|SYS-EMR|電子カルテDB（週次）|毎週|4|LTO|はい",
            ]),
        },
        Sheet {
            kind: RecordKind::Role,
            header: "役割番号|区分|役割・役職|担当者|所属・会社|業務用電話|報告先|緊急連絡順",
            rows: lines(&[
                "R-01|経営層|院長|前田 浩|病院長|0120-000-100||3",
                "R-02|システム管理者|情報管理室長|木村 修|情報管理室|0120-000-110|R-01|1",
                "R-03|ベンダー|電子カルテ保守|みどりシステムズ 保守センター|みどりシステムズ株式会社|0120-000-120|R-02|2",
            ]),
        },
    ];
    plan(&sheets)
}

/// A compact ledger as company B records it: assets, external
/// connections and backups, enough for the statistics.
fn compact_ledger(assets: &[&str], connections: &[&str], backups: &[&str]) -> LedgerImportPlan {
    let sheets = [
        Sheet {
            kind: RecordKind::Asset,
            header: "資産番号|種別|名称|メーカー|製品名|型番|バージョン・ファームウェア|台数|所有者|保守業者|リモート保守|サポート終了日",
            rows: lines(assets),
        },
        Sheet {
            kind: RecordKind::Connection,
            header: "接続番号|分類|接続先|接続方法|境界機器|接続形態|管理者の把握",
            rows: lines(connections),
        },
        Sheet {
            kind: RecordKind::Backup,
            header: "バックアップ番号|システム|対象データ|頻度|世代数|媒体|オフライン保管",
            rows: lines(backups),
        },
    ];
    plan(&sheets)
}

/// 若葉ヶ丘病院: a modality vendor's always-on line nobody had listed.
pub fn wakabagaoka_ledger() -> LedgerImportPlan {
    compact_ledger(
        &[
            "SYS-EMR|システム|電子カルテシステム|みどりシステムズ|||||病院|みどりシステムズ|必要時のみ|",
            "FW-01|ファイアウォール|境界ファイアウォール|Fortinet|FortiGate|100F|7.2.8|1|病院|地元SIer|必要時のみ|2031-03-31",
            "SV-01|サーバ|電子カルテサーバ|NEC|Express5800|R120h||2|病院|みどりシステムズ|必要時のみ|2025-03-31",
            "RT-MRI|ルータ|MRI保守用ルータ|ヤマハ|RTX|1210||1|ベンダー|しおかぜメディカル|常時接続|",
            "PC-01|端末|電子カルテ端末|NEC|Mate|||80|病院||なし|",
        ],
        &[
            "EX-01|ネットワーク保守|地元SIer|インターネットVPN|FW-01|必要時のみ|はい",
            "EX-02|各システム|みどりシステムズ 保守センター|インターネットVPN|FW-01|必要時のみ|はい",
            "EX-03|マイナカード関係|オンライン資格確認等システム|IP-VPN||常時接続|はい",
            "EX-04|CT・MRI等検査機器の保守|しおかぜメディカル|IP-VPN|RT-MRI|常時接続|いいえ",
        ],
        &["B-01|SYS-EMR|電子カルテDB|毎日|5|LTO|はい"],
    )
}

/// さつき野総合病院: a remote reading service and a backup with no offline copy.
pub fn satsukino_ledger() -> LedgerImportPlan {
    compact_ledger(
        &[
            "SYS-EMR|システム|電子カルテシステム|つばさ医療システム|||||病院|つばさ医療システム|常時接続|",
            "VPN-01|VPN装置|保守用VPN|Fortinet|FortiGate|60F|7.4.3|1|ベンダー|つばさ医療システム|常時接続|2030-12-31",
            "SV-01|サーバ|電子カルテサーバ|HPE|ProLiant|DL360||2|病院|つばさ医療システム|常時接続|2024-12-31",
            "PC-01|端末|電子カルテ端末|Dell|OptiPlex|||120|病院||なし|",
        ],
        &[
            "EX-01|ネットワーク保守|地元SIer|インターネットVPN|VPN-01|常時接続|はい",
            "EX-02|各システム|つばさ医療システム 保守センター|インターネットVPN|VPN-01|常時接続|はい",
            "EX-03|マイナカード関係|オンライン資格確認等システム|IP-VPN||常時接続|はい",
            "EX-04|遠隔読影|遠隔画像診断サービス|IP-VPN||常時接続|いいえ",
        ],
        &["B-01|SYS-EMR|電子カルテDB|毎日|2|NAS|いいえ"],
    )
}

/// The secretariat's catalogue: the models the demo hospitals have, with
/// their CPE candidates, so each hospital's assets point at them.
pub fn demo_catalogue() -> Vec<DeviceModel> {
    let header = split("機種コード|種別|メーカー|製品名|型番|CPE候補|MDS/SDS|サポート終了日|備考");
    let mapping = ColumnMapping::infer(&header, DeviceModel::COLUMNS);
    [
        "fortinet-fortigate-60f|VPN装置|Fortinet|FortiGate|60F|cpe:2.3:h:fortinet:fortigate-60f:-:*:*:*:*:*:*:*||2030-12-31|FortiOS のバージョンは資産ごとに記録",
        "fortinet-fortigate-100f|ファイアウォール|Fortinet|FortiGate|100F|cpe:2.3:h:fortinet:fortigate-100f:-:*:*:*:*:*:*:*||2031-03-31|",
        "fortinet-fortigate-40f|ファイアウォール|Fortinet|FortiGate|40F|cpe:2.3:h:fortinet:fortigate-40f:-:*:*:*:*:*:*:*||2030-06-30|",
        "yamaha-rtx1220|ルータ|ヤマハ|RTX|1220|cpe:2.3:h:yamaha:rtx1220:-:*:*:*:*:*:*:*|||検査機器ベンダーの保守回線で多い",
        "synology-rs1221plus|サーバ|Synology|RackStation|RS1221+|cpe:2.3:h:synology:rs1221\\+:-:*:*:*:*:*:*:*|||",
        "shiokaze-aquaria-ct-one320|医療機器|しおかぜメディカル|Aquaria CT|ONE 320||MDS/SDS: しおかぜメディカル 製品セキュリティ開示書 第3版||",
    ]
    .iter()
    .filter_map(|line| {
        let cells = split(line);
        DeviceModel::from_cells(&Cells::from_pairs(
            mapping
                .fields
                .iter()
                .zip(cells.iter())
                .filter_map(|(f, v)| f.map(|f| (f, v.as_str()))),
        ))
        .ok()
    })
    .collect()
}

/// Points each asset at the catalogue model of the same vendor and model.
pub fn link_catalogue(ledger: &mut Ledger, models: &[DeviceModel]) {
    for asset in &mut ledger.assets {
        let model = models.iter().find(|m| {
            m.vendor == asset.vendor && m.model == asset.model && !asset.model.is_empty()
        });
        if let Some(m) = model {
            asset.model_ref = Some(m.key.clone());
        }
    }
    ledger.catalogue_keys = models.iter().map(|m| m.key.clone()).collect();
}

#[cfg(test)]
mod tests {
    use super::*;
    use mamori_domain::ledger::{ConnectionCategory, network_view, org_view};
    use time::macros::date;

    #[test]
    fn the_demo_ledgers_import_without_a_rejected_row() {
        for plan in [
            lakeside_ledger(date!(2026 - 11 - 27)),
            shirahama_ledger(date!(2026 - 11 - 27)),
        ] {
            let rejected: Vec<_> = plan
                .tables
                .iter()
                .flat_map(|t| t.rejected.iter().map(move |r| (t.kind, r.clone())))
                .collect();
            assert!(rejected.is_empty(), "{rejected:#?}");
            assert!(plan.incoming.reference_problems().is_empty());
        }
    }

    #[test]
    fn the_catalogue_is_read_whole_and_the_appliances_point_at_it() {
        let models = demo_catalogue();
        assert_eq!(models.len(), 6);
        let mut ledger = lakeside_ledger(date!(2026 - 11 - 27)).incoming;
        link_catalogue(&mut ledger, &models);
        let linked = ledger
            .assets
            .iter()
            .filter(|a| a.model_ref.is_some())
            .count();
        assert_eq!(linked, 5, "VPN, firewall, CT router, NAS and CT");
        assert!(ledger.reference_problems().is_empty());
    }

    #[test]
    fn the_surveyed_hospital_shows_what_the_seed_looks_for() {
        let ledger = lakeside_ledger(date!(2026 - 11 - 27)).incoming;
        let categories: Vec<ConnectionCategory> =
            ledger.connections.iter().map(|c| c.category).collect();
        for wanted in [
            ConnectionCategory::NetworkMaintenance,
            ConnectionCategory::ModalityMaintenance,
            ConnectionCategory::MyNumberCard,
            ConnectionCategory::RegionalNetwork,
            ConnectionCategory::RemoteReading,
        ] {
            assert!(categories.contains(&wanted), "{wanted:?}");
        }
        assert!(
            ledger
                .connections
                .iter()
                .any(|c| c.known_to_administrator == Some(false))
        );
        assert!(ledger.backups.iter().any(|b| !b.has_protected_copy()));
        let view = network_view(&ledger);
        let terminals = view
            .nodes
            .iter()
            .find(|n| n.keys.len() == 3)
            .expect("the ward terminals fold into one box");
        assert_eq!(terminals.count, 120);
        assert_eq!(org_view(&ledger).incident_chain.len(), 6);
    }
}
