//! The engines' migrations stay apart; what they build must agree, since one core queries both.

use std::collections::BTreeSet;

use crate::harness::{Engine, TestDb};

#[tokio::test]
async fn both_engines_have_the_same_tables_and_columns() {
    let test = "both_engines_have_the_same_tables_and_columns";
    let sqlite = TestDb::new(Engine::Sqlite, test).await.unwrap();
    let Some(postgres) = TestDb::new(Engine::Postgres, test).await else {
        return;
    };
    let (sqlite_raw, postgres_raw) = (sqlite.raw().await, postgres.raw().await);
    let sqlite_columns: BTreeSet<(String, String)> = sqlite_raw
        .fetch(
            "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations'",
        )
        .await
        .into_iter()
        .collect();
    let postgres_columns: BTreeSet<(String, String)> = postgres_raw
        .fetch(
            "SELECT table_name::text, column_name::text FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations'",
        )
        .await
        .into_iter()
        .collect();
    assert!(sqlite_columns.len() > 50, "{sqlite_columns:?}");
    let only = |a: &BTreeSet<(String, String)>, b: &BTreeSet<(String, String)>| a.difference(b).cloned().collect::<Vec<_>>();
    assert!(
        sqlite_columns == postgres_columns,
        "only on SQLite: {:?}\nonly on PostgreSQL: {:?}",
        only(&sqlite_columns, &postgres_columns),
        only(&postgres_columns, &sqlite_columns)
    );
    sqlite_raw.close().await;
    postgres_raw.close().await;
    sqlite.finish().await;
    postgres.finish().await;
}
