//! A scene as an uncompressed diagrams.net (draw.io) file, written with
//! quick-xml so every label and attribute is escaped. Labels are plain text
//! (`html=0`) with a line per fact; boxes keep the scene's places (a
//! device's geometry is relative to its segment's container).

use std::collections::HashMap;
use std::io;

use quick_xml::Writer;
use quick_xml::events::{BytesEnd, BytesStart, Event};

use super::svg::colour;
use super::{Cell, CellKind, Connector, Pen, Scene};
use crate::svg::num;

pub(super) fn render(scene: &Scene) -> String {
    let mut writer = Writer::new(Vec::new());
    // Writing into memory cannot fail.
    let _ = write(&mut writer, scene);
    String::from_utf8(writer.into_inner()).unwrap_or_default()
}

fn write(w: &mut Writer<Vec<u8>>, scene: &Scene) -> io::Result<()> {
    let width = num(scene.width.ceil());
    let height = num(scene.height.ceil());
    let diagram_id = if scene.cells.iter().any(|c| c.kind == CellKind::Role) {
        "management-structure"
    } else {
        "network-overview"
    };
    w.write_event(Event::Start(
        BytesStart::new("mxfile").with_attributes([("host", "Mamori"), ("type", "device")]),
    ))?;
    w.write_event(Event::Start(BytesStart::new("diagram").with_attributes([
        ("id", diagram_id),
        ("name", scene.title.as_str()),
    ])))?;
    w.write_event(Event::Start(
        BytesStart::new("mxGraphModel").with_attributes([
            ("dx", "0"),
            ("dy", "0"),
            ("grid", "1"),
            ("gridSize", "10"),
            ("guides", "1"),
            ("tooltips", "1"),
            ("connect", "1"),
            ("arrows", "1"),
            ("fold", "1"),
            ("page", "1"),
            ("pageScale", "1"),
            ("pageWidth", width.as_str()),
            ("pageHeight", height.as_str()),
            ("math", "0"),
            ("shadow", "0"),
        ]),
    ))?;
    w.write_event(Event::Start(BytesStart::new("root")))?;
    w.create_element("mxCell")
        .with_attribute(("id", "0"))
        .write_empty()?;
    w.create_element("mxCell")
        .with_attributes([("id", "1"), ("parent", "0")])
        .write_empty()?;

    let by_id: HashMap<&str, &Cell> = scene.cells.iter().map(|c| (c.id.as_str(), c)).collect();
    for cell in &scene.cells {
        vertex(w, cell, &by_id)?;
    }
    for connector in &scene.connectors {
        edge(w, connector)?;
    }

    w.write_event(Event::End(BytesEnd::new("root")))?;
    w.write_event(Event::End(BytesEnd::new("mxGraphModel")))?;
    w.write_event(Event::End(BytesEnd::new("diagram")))?;
    w.write_event(Event::End(BytesEnd::new("mxfile")))?;
    Ok(())
}

fn pen_style(pen: &Pen) -> String {
    let mut style = format!(
        "strokeColor={};strokeWidth={};",
        colour(pen.colour),
        num(pen.width)
    );
    if let Some((on, off)) = pen.dash {
        style.push_str(&format!("dashed=1;dashPattern={} {};", num(on), num(off)));
    }
    style
}

fn vertex(w: &mut Writer<Vec<u8>>, cell: &Cell, by_id: &HashMap<&str, &Cell>) -> io::Result<()> {
    let mut style = match cell.kind {
        CellKind::Group => "rounded=1;arcSize=3;whiteSpace=wrap;html=0;container=1;collapsible=0;\
             recursiveResize=0;verticalAlign=top;align=left;spacingLeft=12;spacingTop=2;\
             fontStyle=1;fontSize=13;"
            .to_owned(),
        CellKind::Node | CellKind::External => "rounded=1;arcSize=5;whiteSpace=wrap;html=0;\
             verticalAlign=top;align=left;spacingLeft=6;spacingTop=0;fontSize=10;"
            .to_owned(),
        CellKind::Role => "rounded=1;arcSize=5;whiteSpace=wrap;html=0;verticalAlign=top;\
             align=left;spacingLeft=6;spacingTop=0;fontSize=10;"
            .to_owned(),
    };
    style.push_str(&format!("fillColor={};", colour(cell.fill)));
    style.push_str(&pen_style(&cell.pen));
    // A device's place is relative to its container.
    let parent = cell.parent.as_deref().and_then(|p| by_id.get(p));
    let (dx, dy) = parent.map_or((0.0, 0.0), |p| (p.x, p.y));
    let parent_id = parent.map_or("1", |p| p.id.as_str());
    let value = cell.label.join("\n");
    let (x, y, width, height) = (num(cell.x - dx), num(cell.y - dy), num(cell.w), num(cell.h));
    w.create_element("mxCell")
        .with_attributes([
            ("id", cell.id.as_str()),
            ("value", value.as_str()),
            ("style", style.as_str()),
            ("vertex", "1"),
            ("parent", parent_id),
        ])
        .write_inner_content(|w| {
            w.create_element("mxGeometry")
                .with_attributes([
                    ("x", x.as_str()),
                    ("y", y.as_str()),
                    ("width", width.as_str()),
                    ("height", height.as_str()),
                    ("as", "geometry"),
                ])
                .write_empty()?;
            Ok(())
        })?;
    Ok(())
}

fn edge(w: &mut Writer<Vec<u8>>, connector: &Connector) -> io::Result<()> {
    let mut style = "html=0;endArrow=none;fontSize=9;labelBackgroundColor=#ffffff;".to_owned();
    if connector.orthogonal {
        style.push_str("edgeStyle=orthogonalEdgeStyle;rounded=0;");
    }
    style.push_str(&pen_style(&connector.pen));
    w.create_element("mxCell")
        .with_attributes([
            ("id", connector.id.as_str()),
            ("value", connector.label.as_str()),
            ("style", style.as_str()),
            ("edge", "1"),
            ("parent", "1"),
            ("source", connector.source.as_str()),
            ("target", connector.target.as_str()),
        ])
        .write_inner_content(|w| {
            w.create_element("mxGeometry")
                .with_attributes([("relative", "1"), ("as", "geometry")])
                .write_empty()?;
            Ok(())
        })?;
    Ok(())
}
