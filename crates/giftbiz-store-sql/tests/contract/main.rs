//! The store contract: every capability of `giftbiz_core::Store`, run against each engine
//! (SQLite always, PostgreSQL when `GIFTBIZ_TEST_DATABASE_URL` is set), so both dialects of the
//! one SQL core keep one behaviour. Each scenario gets a fresh database per engine.

mod accounts;
mod catalog;
mod connect;
mod harness;
mod issuance;
mod kit;
mod operators;
mod outbox;
mod pins;
mod schema;

harness::contract!(
    accounts::accounts_are_created_found_and_changed,
    accounts::hot_paths,
    catalog::catalog_upserts_replace_by_code,
    catalog::a_later_duplicate_in_one_batch_wins,
    catalog::large_catalogs_are_written_in_chunks,
    catalog::two_stores_share_everything,
    catalog::unreadable_rows_are_corrupt,
    issuance::bizmoney_ledger,
    issuance::issue_coupons,
    issuance::order_numbers_never_repeat,
    issuance::cancel_coupons,
    issuance::send_fail_cancels,
    issuance::coupon_concurrency,
    issuance::outbox_rows_and_schema_guards,
    issuance::coupons_are_found_across_accounts,
    issuance::the_dashboard_counts_sends_per_kst_day,
    operators::operators_sessions_and_failed_logins,
    operators::the_audit_log_is_append_only,
    outbox::outbox_delivery,
    outbox::concurrent_claims,
    pins::issued_pins_are_sealed_at_rest,
    pins::clear_pins_are_sealed_when_opened,
    pins::pin_keys_rotate,
);
