//! Assets: systems (電子カルテ, PACS, 部門システム) and their parts.

use super::catalogue::read_cpes;
use super::cells::{Column, Input, date_text, flag_text, key_text, number_text};
use super::{CellProblem, Cells, LedgerKey, RecordKind, RowRecord, labelled_enum, ledger_table};
use crate::cpe::CpeName;
use serde::{Deserialize, Serialize};
use time::Date;

labelled_enum!(
    /// What an asset is. A system groups the servers, terminals and devices
    /// that make it up.
    AssetKind, "asset_kind" {
        System => ("system", "システム", "system"),
        Server => ("server", "サーバ", "server"),
        Router => ("router", "ルータ", "router"),
        Firewall => ("firewall", "ファイアウォール", "firewall"),
        VpnGateway => ("vpn-gateway", "VPN装置", "VPN gateway"),
        Switch => ("switch", "スイッチ", "switch"),
        Wireless => ("wireless", "無線LANアクセスポイント", "wireless access point"),
        Terminal => ("terminal", "端末", "terminal"),
        MedicalDevice => ("medical-device", "医療機器", "medical device"),
        Other => ("other", "その他", "other"),
    }
);

impl AssetKind {
    /// Devices that pass traffic between networks.
    pub fn is_network_device(self) -> bool {
        matches!(
            self,
            AssetKind::Router
                | AssetKind::Firewall
                | AssetKind::VpnGateway
                | AssetKind::Switch
                | AssetKind::Wireless
        )
    }
}

labelled_enum!(
    /// Whose property a device is: the seed found vendor-owned maintenance
    /// devices that the hospital did not know it had to manage.
    Owner, "owner" {
        Hospital => ("hospital", "病院", "hospital"),
        Vendor => ("vendor", "ベンダー", "vendor"),
    }
);

labelled_enum!(
    /// Whether a vendor can reach the asset from outside for maintenance.
    RemoteMaintenance, "remote_maintenance" {
        None => ("none", "なし", "none"),
        OnDemand => ("on-demand", "必要時のみ", "on demand"),
        AlwaysOn => ("always-on", "常時接続", "always on"),
    }
);

/// One line of the asset ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Asset {
    pub key: LedgerKey,
    pub kind: AssetKind,
    pub name: String,
    /// The system this asset is part of (an asset of kind `system`).
    pub system: Option<LedgerKey>,
    /// The shared catalogue's model this asset is an instance of.
    pub model_ref: Option<LedgerKey>,
    pub vendor: String,
    pub product: String,
    pub model: String,
    /// Software version or firmware.
    pub version: String,
    pub os: String,
    pub serial_number: String,
    /// CPE 2.3 names, canonical form.
    pub cpes: Vec<String>,
    /// Identical units this line stands for (120 terminals of one model).
    pub quantity: u32,
    pub location: String,
    pub segment: Option<LedgerKey>,
    /// IP address or host name, if known.
    pub address: String,
    pub owner: Owner,
    /// 管理部署: IT, or e.g. radiology for a CT.
    pub managing_department: String,
    pub maintenance_vendor: String,
    pub remote_maintenance: RemoteMaintenance,
    /// How the vendor connects (product, line), when it does.
    pub remote_method: String,
    pub end_of_support: Option<Date>,
    pub internet_exposed: Option<bool>,
    pub notes: String,
}

pub const MAX_QUANTITY: u32 = 100_000;

impl Asset {
    /// The canonical CPE names, parsed.
    pub fn cpe_names(&self) -> Vec<CpeName> {
        super::catalogue::parsed(&self.cpes)
    }
}

const COLUMNS: &[Column] = &[
    Column::required("key", "資産番号", "asset key"),
    Column::required("kind", "種別", "kind").input(Input::Choice(AssetKind::CHOICES)),
    Column::required("name", "名称", "name"),
    Column::new("system", "所属システム", "system").input(Input::Reference(RecordKind::Asset)),
    Column::new("model_ref", "機種カタログ", "catalogue model").input(Input::Catalogue),
    Column::new("vendor", "メーカー", "vendor"),
    Column::new("product", "製品名", "product"),
    Column::new("model", "型番", "model"),
    Column::new(
        "version",
        "バージョン・ファームウェア",
        "version or firmware",
    ),
    Column::new("os", "OS", "OS"),
    Column::new("serial_number", "シリアル番号", "serial number"),
    Column::new("cpes", "CPE", "CPE").input(Input::List),
    Column::new("quantity", "台数", "quantity").input(Input::Number),
    Column::new("location", "設置場所", "location"),
    Column::new("segment", "ネットワークセグメント", "network segment")
        .input(Input::Reference(RecordKind::Segment)),
    Column::new("address", "IPアドレス・ホスト名", "address"),
    Column::new("owner", "所有者", "owner").input(Input::Choice(Owner::CHOICES)),
    Column::new("managing_department", "管理部署", "managing department"),
    Column::new("maintenance_vendor", "保守業者", "maintenance vendor"),
    Column::new("remote_maintenance", "リモート保守", "remote maintenance")
        .input(Input::Choice(RemoteMaintenance::CHOICES)),
    Column::new(
        "remote_method",
        "リモート保守の方法",
        "remote maintenance method",
    )
    .input(Input::Multiline),
    Column::new("end_of_support", "サポート終了日", "end of support").input(Input::Date),
    Column::new(
        "internet_exposed",
        "インターネットに公開",
        "exposed to the internet",
    )
    .input(Input::Flag),
    Column::new("notes", "備考", "notes").input(Input::Multiline),
];

ledger_table!(Asset, Asset, assets);

impl RowRecord for Asset {
    const COLUMNS: &'static [Column] = COLUMNS;

    fn key(&self) -> &LedgerKey {
        &self.key
    }

    fn from_cells(cells: &Cells) -> Result<Self, Vec<CellProblem>> {
        let mut r = cells.reader();
        let key = r.key("key");
        let kind = r.choice("kind", AssetKind::from_text, None);
        let name = r.required("name", 200);
        let system = r.optional_key("system");
        let model_ref = r.optional_key("model_ref");
        let vendor = r.note("vendor", 200);
        let product = r.note("product", 200);
        let model = r.note("model", 200);
        let version = r.note("version", 100);
        let os = r.note("os", 200);
        let serial_number = r.note("serial_number", 100);
        let cpes = read_cpes(&mut r, "cpes");
        let quantity = r.number("quantity", MAX_QUANTITY);
        if quantity == Some(0) {
            r.add_problem("quantity", "must be at least 1");
        }
        let location = r.note("location", 200);
        let segment = r.optional_key("segment");
        let address = r.note("address", 253);
        if address.chars().any(char::is_whitespace) {
            r.add_problem("address", "an address has no spaces");
        }
        let owner = r.choice("owner", Owner::from_text, Some(Owner::Hospital));
        let managing_department = r.note("managing_department", 200);
        let maintenance_vendor = r.note("maintenance_vendor", 200);
        let remote_maintenance = r.choice(
            "remote_maintenance",
            RemoteMaintenance::from_text,
            Some(RemoteMaintenance::None),
        );
        let remote_method = r.note("remote_method", 500);
        let end_of_support = r.date("end_of_support");
        let internet_exposed = r.flag("internet_exposed");
        let notes = r.note("notes", 4000);
        r.finish(|| {
            Some(Asset {
                key: key?,
                kind: kind?,
                name,
                system,
                model_ref,
                vendor,
                product,
                model,
                version,
                os,
                serial_number,
                cpes,
                quantity: quantity.unwrap_or(1),
                location,
                segment,
                address,
                owner: owner.unwrap_or(Owner::Hospital),
                managing_department,
                maintenance_vendor,
                remote_maintenance: remote_maintenance.unwrap_or(RemoteMaintenance::None),
                remote_method,
                end_of_support,
                internet_exposed,
                notes,
            })
        })
    }

    fn to_cells(&self) -> Vec<String> {
        vec![
            self.key.to_string(),
            self.kind.ja().into(),
            self.name.clone(),
            key_text(&self.system),
            key_text(&self.model_ref),
            self.vendor.clone(),
            self.product.clone(),
            self.model.clone(),
            self.version.clone(),
            self.os.clone(),
            self.serial_number.clone(),
            self.cpes.join("\n"),
            number_text(Some(self.quantity)),
            self.location.clone(),
            key_text(&self.segment),
            self.address.clone(),
            self.owner.ja().into(),
            self.managing_department.clone(),
            self.maintenance_vendor.clone(),
            self.remote_maintenance.ja().into(),
            self.remote_method.clone(),
            date_text(self.end_of_support),
            flag_text(self.internet_exposed),
            self.notes.clone(),
        ]
    }
}
