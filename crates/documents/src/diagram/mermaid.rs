//! Mermaid `flowchart` text: the same boxes and lines without places
//! (Mermaid lays them out itself). Ids are made from a number and the
//! ASCII letters of the view's id, so no key can break the syntax; labels
//! are quoted with Mermaid's entity codes for the characters that would end
//! or change them.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use mamori_domain::ledger::{LinkMedium, NetworkView, OrgView};

use super::{external_label, external_warned, group_label, node_label, role_label, words};

/// `n3_SV_01` for the view id `a:SV-01`: a prefix, a number (unique) and
/// the id's ASCII letters and digits.
fn mermaid_id(prefix: &str, index: usize, view_id: &str) -> String {
    let key = view_id.split_once(':').map_or(view_id, |(_, k)| k);
    let tail: String = key
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .take(24)
        .collect();
    let tail = tail.trim_matches('_');
    if tail.is_empty() {
        format!("{prefix}{index}")
    } else {
        format!("{prefix}{index}_{tail}")
    }
}

/// A label between double quotes, lines joined with `<br/>`.
fn label(lines: &[String]) -> String {
    let escaped: Vec<String> = lines.iter().map(|l| escape(l)).collect();
    format!("\"{}\"", escaped.join("<br/>"))
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '&' => out.push_str("#amp;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '`' => out.push_str("#96;"),
            '|' => out.push_str("#124;"),
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

fn header(out: &mut String, title: &str) {
    let _ = writeln!(out, "---\ntitle: {title}\n---\nflowchart TB");
}

pub(super) fn network(view: &NetworkView, lang: &str) -> String {
    let w = words(lang);
    let mut out = String::new();
    header(&mut out, w.network_title);
    out.push_str(
        "  classDef warning fill:#fdecea,stroke:#c62828,stroke-width:2px,stroke-dasharray:6 3\n",
    );
    out.push_str("  classDef outside fill:#fff8f0,stroke:#ef6c00\n");

    let mut ids: HashMap<&str, String> = HashMap::new();
    for (i, node) in view.nodes.iter().enumerate() {
        ids.entry(node.id.as_str())
            .or_insert_with(|| mermaid_id("n", i, &node.id));
    }
    let mut by_group: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, node) in view.nodes.iter().enumerate() {
        by_group.entry(node.group.as_str()).or_default().push(i);
    }
    let write_nodes = |out: &mut String, members: &[usize]| {
        for &i in members {
            let node = &view.nodes[i];
            let _ = writeln!(
                out,
                "    {}[{}]",
                mermaid_id("n", i, &node.id),
                label(&node_label(node, lang))
            );
        }
    };
    for (g, group) in view.groups.iter().enumerate() {
        let _ = writeln!(
            out,
            "  subgraph {}[{}]",
            mermaid_id("g", g, &group.id),
            label(&group_label(group, lang))
        );
        if let Some(members) = by_group.remove(group.id.as_str()) {
            write_nodes(&mut out, &members);
        }
        out.push_str("  end\n");
    }
    // Devices of a group the view does not list stand on their own.
    for members in by_group.values() {
        write_nodes(&mut out, members);
    }
    for (i, external) in view.externals.iter().enumerate() {
        let id = mermaid_id("x", i, &external.id);
        let _ = writeln!(out, "  {id}[{}]", label(&external_label(external, lang)));
        let class = if external_warned(external) {
            "warning"
        } else {
            "outside"
        };
        let _ = writeln!(out, "  class {id} {class}");
    }
    for edge in &view.edges {
        let (Some(from), Some(to)) = (ids.get(edge.from.as_str()), ids.get(edge.to.as_str()))
        else {
            continue;
        };
        let arrow = match edge.medium {
            LinkMedium::Wired => "---",
            _ => "-.-",
        };
        if edge.label.trim().is_empty() {
            let _ = writeln!(out, "  {from} {arrow} {to}");
        } else {
            let _ = writeln!(
                out,
                "  {from} {arrow}|{}| {to}",
                label(&[super::one_line(&edge.label)])
            );
        }
    }
    for (i, external) in view.externals.iter().enumerate() {
        let Some(to) = external.via.as_deref().and_then(|v| ids.get(v)) else {
            continue;
        };
        let _ = writeln!(out, "  {} ==> {to}", mermaid_id("x", i, &external.id));
    }
    out
}

pub(super) fn org(view: &OrgView, lang: &str) -> String {
    let w = words(lang);
    let mut out = String::new();
    header(&mut out, w.org_title);
    out.push_str("  classDef vendor fill:#fff3e0,stroke:#e65100,stroke-dasharray:6 3\n");
    out.push_str("  classDef external fill:#f3e5f5,stroke:#6a1b9a,stroke-dasharray:6 3\n");
    let mut ids: HashMap<&str, String> = HashMap::new();
    for (i, node) in view.nodes.iter().enumerate() {
        if ids.contains_key(node.id.as_str()) {
            continue;
        }
        let id = mermaid_id("r", i, &node.id);
        let _ = writeln!(out, "  {id}[{}]", label(&role_label(node, lang)));
        if node.outside {
            let class = match node.kind {
                mamori_domain::ledger::StructureRoleKind::Vendor => "vendor",
                _ => "external",
            };
            let _ = writeln!(out, "  class {id} {class}");
        }
        ids.insert(node.id.as_str(), id);
    }
    for edge in &view.edges {
        let (Some(up), Some(down)) = (
            ids.get(edge.superior.as_str()),
            ids.get(edge.subordinate.as_str()),
        ) else {
            continue;
        };
        let _ = writeln!(out, "  {up} --> {down}");
    }
    // The contact order as a numbered list, kept in order by invisible links.
    let chain: Vec<_> = view
        .incident_chain
        .iter()
        .filter_map(|id| view.nodes.iter().find(|n| &n.id == id))
        .collect();
    if !chain.is_empty() {
        let _ = writeln!(
            out,
            "  subgraph chain[{}]",
            label(&[w.chain_title.to_owned()])
        );
        for (i, node) in chain.iter().enumerate() {
            let order = node.incident_order.unwrap_or(i as u32 + 1);
            let text = format!(
                "{order}. {}",
                super::joined(&[&node.title, &node.person, &node.business_phone])
            );
            let _ = writeln!(out, "    c{}[{}]", i + 1, label(&[text]));
        }
        for i in 1..chain.len() {
            let _ = writeln!(out, "    c{i} ~~~ c{}", i + 1);
        }
        out.push_str("  end\n");
    }
    out
}
