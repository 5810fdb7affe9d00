//! How the commands print: comfy tables for people, pretty JSON for scripts.

use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};
use serde::Serialize;
use serde_json::Value;

/// An empty table with this header (Hangul takes two columns; comfy-table knows).
pub fn table<T: ToString>(header: impl IntoIterator<Item = T>) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_header(header.into_iter().map(|h| h.to_string()));
    t
}

/// Every field of a JSON object as a two-column table.
pub fn fields(value: &impl Serialize) -> anyhow::Result<Table> {
    let mut t = table(["field", "value"]);
    if let Value::Object(map) = serde_json::to_value(value)? {
        for (k, v) in map {
            let v = match v {
                Value::String(s) => s,
                Value::Null => String::new(),
                other => other.to_string(),
            };
            t.add_row(vec![k, v]);
        }
    }
    Ok(t)
}

pub fn print_json(value: &impl Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
