//! What the ledger says about a checklist item, shown beside the answer in
//! the hearing: an item asking whether servers, PCs and network devices are
//! kept in a ledger is answered in part by the ledger itself, and one asking
//! whether remote maintenance was confirmed with the vendor by the external
//! connections and their investigation log.

use super::{AssetKind, Availability, InvestigationSource, Ledger, RecordKind, RemoteMaintenance};
use crate::checklist::Item;
use serde::Serialize;

/// One line of evidence, in both languages, with the table it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub kind: RecordKind,
    pub ja: String,
    pub en: String,
}

impl Evidence {
    pub fn text(&self, language: &str) -> &str {
        if language == "en" { &self.en } else { &self.ja }
    }
}

/// The topics an item can be about, told by the words of its Japanese text
/// (the official wording names them plainly).
fn about(item: &Item, words: &[&str]) -> bool {
    words.iter().any(|w| item.text_ja.contains(w))
}

fn units(ledger: &Ledger, keep: impl Fn(AssetKind) -> bool) -> u32 {
    ledger
        .assets
        .iter()
        .filter(|a| keep(a.kind))
        .map(|a| a.quantity)
        .sum()
}

/// Evidence from the ledger for one checklist item (none when the item is
/// about something the ledger does not hold).
pub fn evidence_for(item: &Item, ledger: &Ledger) -> Vec<Evidence> {
    let mut out = Vec::new();
    if about(item, &["台帳"]) {
        let servers = units(ledger, |k| k == AssetKind::Server);
        let terminals = units(ledger, |k| k == AssetKind::Terminal);
        let network = units(ledger, AssetKind::is_network_device);
        let medical = units(ledger, |k| k == AssetKind::MedicalDevice);
        out.push(Evidence {
            kind: RecordKind::Asset,
            ja: format!(
                "台帳: サーバ {servers}台・端末PC {terminals}台・ネットワーク機器 {network}台・医療機器 {medical}台（{} 件）",
                ledger.assets.len()
            ),
            en: format!(
                "Ledger: {servers} servers, {terminals} PCs, {network} network devices, {medical} medical devices ({} records)",
                ledger.assets.len()
            ),
        });
    }
    if about(item, &["リモートメンテナンス", "リモート保守"]) {
        let remote: Vec<_> = ledger
            .assets
            .iter()
            .filter(|a| a.remote_maintenance != RemoteMaintenance::None)
            .collect();
        let always = remote
            .iter()
            .filter(|a| a.remote_maintenance == RemoteMaintenance::AlwaysOn)
            .count();
        out.push(Evidence {
            kind: RecordKind::Asset,
            ja: format!(
                "台帳: リモート保守のある機器 {} 件（常時接続 {always} 件）",
                remote.len()
            ),
            en: format!(
                "Ledger: {} assets with remote maintenance ({always} always on)",
                remote.len()
            ),
        });
        let confirmed_with_vendor = ledger
            .connections
            .iter()
            .filter(|c| {
                ledger
                    .investigations
                    .iter()
                    .any(|i| i.connection == c.key && i.source == InvestigationSource::VendorAnswer)
            })
            .count();
        let unknown = ledger
            .connections
            .iter()
            .filter(|c| c.known_to_administrator == Some(false))
            .count();
        let always_on = ledger
            .connections
            .iter()
            .filter(|c| c.availability == Availability::AlwaysOn)
            .count();
        out.push(Evidence {
            kind: RecordKind::Connection,
            ja: format!(
                "外部接続 {} 件（常時接続 {always_on}、ベンダー回答で確認 {confirmed_with_vendor}、管理者未把握 {unknown}）",
                ledger.connections.len()
            ),
            en: format!(
                "{} external connections ({always_on} always on, {confirmed_with_vendor} confirmed by the vendor, {unknown} unknown to the administrator)",
                ledger.connections.len()
            ),
        });
    }
    if about(item, &["連絡体制"]) {
        let chain = ledger
            .roles
            .iter()
            .filter(|r| r.incident_order.is_some())
            .count();
        let outside = ledger.roles.iter().filter(|r| r.is_outside()).count();
        out.push(Evidence {
            kind: RecordKind::Role,
            ja: format!(
                "管理体制: {} 名・機関（緊急連絡順あり {chain}、院外 {outside}）",
                ledger.roles.len()
            ),
            en: format!(
                "Management structure: {} roles ({chain} in the incident contact chain, {outside} outside)",
                ledger.roles.len()
            ),
        });
    }
    if about(item, &["バックアップ"]) {
        let protected = ledger
            .backups
            .iter()
            .filter(|b| b.has_protected_copy())
            .count();
        let tested = ledger
            .backups
            .iter()
            .filter(|b| b.last_restore_test.is_some())
            .count();
        out.push(Evidence {
            kind: RecordKind::Backup,
            ja: format!(
                "バックアップ {} 件（オフライン・改ざん不可の複製あり {protected}、復元テストの記録あり {tested}）",
                ledger.backups.len()
            ),
            en: format!(
                "{} backups ({protected} with an offline or immutable copy, {tested} with a restore test on record)",
                ledger.backups.len()
            ),
        });
    }
    out
}
