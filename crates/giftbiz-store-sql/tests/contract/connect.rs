//! Opening a database: what each engine's `connect` promises of its own.

use giftbiz_core::{AccountStore, CatalogStore, Store};
use sqlx::{Connection, Executor, PgConnection};

use crate::harness::{pin_vault, unique_schema, Engine, TestDb};

/// A server and a CLI may open a fresh SQLite file at the same moment; both must end up
/// migrated.
#[tokio::test]
async fn concurrent_connects_to_a_fresh_sqlite_file_all_succeed() {
    for _ in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("giftbiz.db").display());
        let connects = (0..6).map(|_| {
            let url = url.clone();
            tokio::spawn(async move { giftbiz_store_sqlite::connect(&url, pin_vault()).await })
        });
        for connect in connects.collect::<Vec<_>>() {
            let store = connect.await.unwrap().unwrap();
            assert_eq!(store.catalog_revision().await.unwrap(), 0);
        }
    }
}

/// Tests connect at once, each to its own PostgreSQL schema (and sometimes two to the same one).
#[tokio::test]
async fn concurrent_connects_in_schemas_all_succeed() {
    let Some(first) = TestDb::new(Engine::Postgres, "concurrent_connects_in_schemas_all_succeed").await else {
        return;
    };
    let url = first.pg_url().to_owned();
    let schemas: Vec<String> = (0..5).map(|_| unique_schema()).collect();
    let connects = schemas.iter().chain(&schemas[..2]).map(|schema| {
        let (url, schema) = (url.clone(), schema.clone());
        tokio::spawn(async move { giftbiz_store_postgres::connect_in_schema(&url, &schema, pin_vault()).await })
    });
    for connect in connects.collect::<Vec<_>>() {
        let store = connect.await.unwrap().unwrap();
        assert_eq!(store.catalog_revision().await.unwrap(), 0);
        store.close().await;
    }
    let mut raw = PgConnection::connect(&url).await.unwrap();
    for schema in schemas {
        raw.execute(format!("DROP SCHEMA \"{schema}\" CASCADE").as_str()).await.unwrap();
    }
    raw.close().await.unwrap();
    first.finish().await;
}

/// `connect` migrates whatever schema the connection starts in, here one chosen by the URL.
#[tokio::test]
async fn connect_uses_the_connections_schema() {
    let Some(db) = TestDb::new(Engine::Postgres, "connect_uses_the_connections_schema").await else {
        return;
    };
    let (url, schema) = (db.pg_url().to_owned(), unique_schema());
    let mut raw = PgConnection::connect(&url).await.unwrap();
    raw.execute(format!("CREATE SCHEMA \"{schema}\"").as_str()).await.unwrap();
    let sep = if url.contains('?') { '&' } else { '?' };
    let in_url = format!("{url}{sep}options[search_path]={schema}");

    let store = giftbiz_store_postgres::connect(&in_url, pin_vault()).await.unwrap();
    assert_eq!(store.engine(), "postgres");
    store.create_account(&crate::kit::new_account("alice", "REALaaaa")).await.unwrap();
    store.close().await;

    let in_schema = giftbiz_store_postgres::connect_in_schema(&url, &schema, pin_vault()).await.unwrap();
    assert!(in_schema.account_by_user_id(&crate::kit::user("alice")).await.unwrap().is_some());
    in_schema.close().await;
    raw.execute(format!("DROP SCHEMA \"{schema}\" CASCADE").as_str()).await.unwrap();
    raw.close().await.unwrap();
    db.finish().await;
}
