//! Writing a decoded page's goods rows.

use rusqlite::{params, OptionalExtension};

use super::fetch::Page;
use super::LocalCatalogError;

/// Writes a decoded page's goods: new ones inserted, changed ones (by their JSON's hash)
/// updated, the others only marked seen. Returns how many were not yet seen in this pass.
pub(super) fn store_goods(tx: &rusqlite::Transaction<'_>, page: &Page, page_no: u32, run_id: i64, token: i64) -> Result<u64, LocalCatalogError> {
    let mut find = tx.prepare_cached(
        "SELECT id, hash, seen_pass, change_run = ?2 AND change_kind = 'added', page FROM goods WHERE goods_code = ?1",
    )?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO goods (goods_code, goods_no, goods_name, brand_code, brand_name, category_seq,
            sale_price, discount_price, state, hash, page, seen_run, seen_pass, change_run, change_kind)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?12, 'added')",
    )?;
    let mut insert_wire = tx.prepare_cached("INSERT OR REPLACE INTO goods_wire (id, wire) VALUES (?1, ?2)")?;
    let mut update = tx.prepare_cached(
        "UPDATE goods SET goods_no = ?2, goods_name = ?3, brand_code = ?4, brand_name = ?5,
            category_seq = ?6, sale_price = ?7, discount_price = ?8, state = ?9, hash = ?10, page = ?11,
            seen_run = ?12, seen_pass = ?13, change_run = ?12, change_kind = ?14
         WHERE id = ?1",
    )?;
    let mut touch = tx.prepare_cached("UPDATE goods SET page = ?2, seen_run = ?3, seen_pass = ?4 WHERE id = ?1")?;
    let mut newly_seen = 0;
    for g in &page.items {
        let found = find
            .query_row(params![g.code, run_id], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?, r.get::<_, bool>(3)?, r.get::<_, u32>(4)?))
            })
            .optional()?;
        let Some((id, stored_hash, seen_pass, added_in_run, stored_page)) = found else {
            let id = insert.insert(params![
                g.code, g.no, g.name, g.brand_code, g.brand_name, g.category_seq,
                g.sale_price, g.discount_price, g.state, g.hash, page_no, run_id, token
            ])?;
            insert_wire.execute(params![id, page.wire(g)])?;
            newly_seen += 1;
            continue;
        };
        if seen_pass != token {
            newly_seen += 1;
        }
        if stored_hash != g.hash {
            // Added earlier in this run (before a resume or another pass) stays added.
            let kind = if added_in_run { "added" } else { "changed" };
            update.execute(params![
                id, g.no, g.name, g.brand_code, g.brand_name, g.category_seq,
                g.sale_price, g.discount_price, g.state, g.hash, page_no, run_id, token, kind
            ])?;
            insert_wire.execute(params![id, page.wire(g)])?;
        } else if seen_pass != token || stored_page != page_no {
            touch.execute(params![id, page_no, run_id, token])?;
        }
    }
    Ok(newly_seen)
}
