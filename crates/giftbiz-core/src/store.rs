//! The storage traits, one per capability: accounts, the catalog, issuance and the bizmoney
//! ledger, the delivery outbox, partners and their audit. [`Store`] is all of them; callers
//! that need one capability take just that trait. `giftbiz-store-sql` implements them once for
//! SQLite (the embedded default) and PostgreSQL, and one contract suite runs against both.

use async_trait::async_trait;

use crate::account::{AuthCode, TokenHash};
use crate::console::{AuditEvent, AuditFilter, AuditLogEntry, ConsoleFigures, ConsoleSession, DecideError, PendingAdjustment, NewOperator, Operator, PasswordHash, Username};
use crate::coupon::{BizmoneyError, CancelError, Coupon, CouponCharge, CouponSearch, IssueError, LedgerEntry, LedgerReason, NewCoupon, SendFailOutcome};
use crate::delivery::{Claim, DeliveryOutcome, MessageKind, MessageLine, OutboxMessage, ResendError};
use crate::send::{Pin, TrId};
use crate::totp::TotpSecret;
use crate::freshness::{ChangeListener, LocalChanges, OnChange, Revisions};
use crate::probe::{PoolStatus, SchemaStatus, ScrapeFigures};
use crate::partner::{AuditEntry, AuditRecord, AuthFailureCount, NewPartner, Partner, PinHash, RedeemError};
use crate::{Account, AccountId, Brand, BrandCode, Goods, GoodsCode, Grade, NewAccount, OperatorId, PartnerId, RequestId, UserId, Won};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("user id \"{0}\" is already taken")]
    UserIdTaken(UserId),
    #[error("username \"{0}\" is already taken")]
    UsernameTaken(Username),
    #[error("database error: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

/// What a catalog upsert did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CatalogCounts {
    pub brands: usize,
    pub goods: usize,
}

/// Accounts (구매사) and their credentials.
#[async_trait]
pub trait AccountStore: Send + Sync {
    async fn create_account(&self, new: &NewAccount) -> Result<Account, StoreError>;
    async fn account_by_auth_code(&self, auth_code: &str) -> Result<Option<Account>, StoreError>;
    /// The account with this auth code and the current catalog revision, in one round trip:
    /// the hot path of every API call needs both.
    async fn auth_lookup(&self, auth_code: &AuthCode) -> Result<Option<(Account, i64)>, StoreError>;
    async fn account_by_user_id(&self, user_id: &UserId) -> Result<Option<Account>, StoreError>;
    async fn account_by_id(&self, id: AccountId) -> Result<Option<Account>, StoreError>;
    async fn list_accounts(&self) -> Result<Vec<Account>, StoreError>;
    /// Returns false when no such account exists.
    async fn set_grade(&self, user_id: &UserId, grade: Grade) -> Result<bool, StoreError>;
    /// Returns false when no such account exists.
    async fn set_token_hash(&self, user_id: &UserId, hash: &TokenHash) -> Result<bool, StoreError>;
    /// Suspends the account at `at_ms`, or with `None` reactivates it; an account already so is
    /// left as it is (a suspension keeps its first moment). Returns false when no such account
    /// exists.
    async fn set_suspended(&self, user_id: &UserId, at_ms: Option<i64>) -> Result<bool, StoreError>;
}

/// Goods and brands.
#[async_trait]
pub trait CatalogStore: Send + Sync {
    /// A number that changes with every catalog write, so readers can cache the catalog.
    async fn catalog_revision(&self) -> Result<i64, StoreError>;
    /// Inserts or replaces brands by brand code and goods by goods code, all in one
    /// transaction (all or nothing), and bumps the catalog revision.
    async fn upsert_catalog(&self, brands: &[Brand], goods: &[Goods]) -> Result<CatalogCounts, StoreError>;
    /// Every stored goods, withdrawn ones too, ordered by goods number then code.
    async fn all_goods(&self) -> Result<Vec<Goods>, StoreError>;
    /// Up to `limit` goods (withdrawn ones too) after `after` = (goods_no, goods_code) in the
    /// order of `all_goods`, so a caller can walk the catalog without holding all of it.
    async fn goods_batch(&self, after: Option<(i64, GoodsCode)>, limit: u32) -> Result<Vec<Goods>, StoreError>;
    async fn goods_by_code(&self, goods_code: &GoodsCode) -> Result<Option<Goods>, StoreError>;
    /// Every brand, ordered by sort then brand code.
    async fn all_brands(&self) -> Result<Vec<Brand>, StoreError>;
    async fn brand_by_code(&self, brand_code: &BrandCode) -> Result<Option<Brand>, StoreError>;
}

/// Bizmoney, its ledger and the coupons it pays for, through their whole life.
///
/// Every balance change is a ledger entry written in the same transaction, and the balance
/// equals the sum of the account's entries and never goes below zero. A tr_id is claimed once
/// per account, forever: by a send, or by a cancel that found nothing (a tombstone).
#[async_trait]
pub trait IssuanceStore: Send + Sync {
    /// The operator's change of an account's bizmoney (a charge, or an adjustment of either
    /// sign); returns the new balance.
    async fn change_bizmoney(
        &self,
        user_id: &UserId,
        amount: Won,
        reason: LedgerReason,
        memo: &str,
        now_ms: i64,
    ) -> Result<Won, BizmoneyError>;
    async fn bizmoney_balance(&self, account_id: AccountId) -> Result<Won, StoreError>;
    /// Every account's balance in one read (accounts that never had bizmoney are absent).
    async fn bizmoney_balances(&self) -> Result<Vec<(AccountId, Won)>, StoreError>;
    /// The account's ledger, oldest first.
    async fn ledger(&self, account_id: AccountId) -> Result<Vec<LedgerEntry>, StoreError>;
    /// Up to `limit` of the account's ledger entries older than `before_id` (the newest when
    /// `None`), newest first.
    async fn ledger_page(&self, account_id: AccountId, before_id: Option<i64>, limit: u32) -> Result<Vec<LedgerEntry>, StoreError>;

    /// One transaction: claim the tr_id, charge `price`, create the coupon and, for an MMS
    /// send, its pending message.
    async fn issue_coupon(&self, new: &NewCoupon) -> Result<Coupon, IssueError>;
    async fn coupon_by_tr_id(&self, account_id: AccountId, tr_id: &TrId) -> Result<Option<Coupon>, StoreError>;
    /// Every coupon the account was ever issued (cancelled and expired ones included), as the
    /// money rules read it, in one query (the checker's, at any size).
    async fn coupon_charges(&self, account_id: AccountId) -> Result<Vec<CouponCharge>, StoreError>;
    /// The coupon whose image URL carries `image_token` (never the PIN).
    async fn coupon_by_image_token(&self, image_token: &str) -> Result<Option<Coupon>, StoreError>;
    /// Up to `limit` coupons of any account matching `search`, newest first (indexed lookups).
    async fn find_coupons(&self, search: &CouponSearch, limit: u32) -> Result<Vec<Coupon>, StoreError>;
    /// The coupon with this PIN, whatever its brand (callers check the partner's brands).
    async fn coupon_by_pin(&self, pin: &Pin) -> Result<Option<Coupon>, StoreError>;
    /// One transaction: an unknown tr_id is tombstoned and refused as unknown; a coupon that
    /// passes `Coupon::check_cancellable(now_ms)` becomes cancelled (07), is refunded once, and
    /// a message not yet delivered is cancelled with it. A send in flight for the same tr_id is
    /// waited for.
    async fn cancel_coupon(&self, account_id: AccountId, tr_id: &TrId, now_ms: i64) -> Result<Coupon, CancelError>;
    /// 0205: an unknown tr_id is tombstoned; a send that issued a PIN is left as it is.
    async fn send_fail_cancel(&self, account_id: AccountId, tr_id: &TrId, now_ms: i64) -> Result<SendFailOutcome, StoreError>;
    /// Turns up to `limit` issued (01) coupons whose validity ended before `now_ms` into expired
    /// (08), and cancels their messages not yet delivered. Returns how many expired. Concurrent
    /// callers (several servers) never fight over the same coupons.
    async fn expire_coupons(&self, now_ms: i64, limit: u32) -> Result<u64, StoreError>;

    /// A key rotation's second step: re-seals every stored PIN (and rewrites its lookup and its
    /// audit rows) under the key ring's current key, in batches, and the operators' TOTP keys
    /// with them. Returns how many PINs it re-sealed; once it returns, the older keys may leave
    /// the ring.
    async fn reseal_pins(&self) -> Result<u64, StoreError>;
}

/// Message delivery (the outbox).
///
/// A worker claims due messages for a lease, delivers them, and reports each one back. Only the
/// claim's holder can finish a message, and only while it is pending, so a message cancelled
/// meanwhile stays cancelled and a worker whose lease ran out (and whose message another worker
/// took over) changes nothing.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Atomically makes the claim on the pending messages it covers (see [`Claim`]), counting
    /// an attempt on each. Concurrent callers (any number of servers) never claim the same
    /// message while its lease runs.
    async fn claim_due_messages(&self, claim: &Claim<'_>) -> Result<Vec<OutboxMessage>, StoreError>;
    /// Records the outcome of a claimed message and, for delivered or failed, its coupon's
    /// delivery status and result. Returns whether it applied (false: the claim was lost or
    /// the message is no longer pending).
    async fn finish_message(
        &self,
        id: i64,
        worker: &str,
        outcome: &DeliveryOutcome,
        now_ms: i64,
    ) -> Result<bool, StoreError>;
    /// Up to `limit` messages in `state` (`pending`, `failed`, …), newest first, with their
    /// coupon's tr_id and order number.
    async fn messages_in_state(&self, state: &str, limit: u32) -> Result<Vec<MessageLine>, StoreError>;
    /// Every message of the coupon, oldest first.
    async fn messages_of_coupon(&self, coupon_id: i64) -> Result<Vec<MessageLine>, StoreError>;
    /// 0203: queues a new message of `kind`, due now, for the account's MMS send `tr_id`, and
    /// puts the coupon's delivery status back to pending; the message remembers `request_id`.
    async fn enqueue_resend(
        &self,
        account_id: AccountId,
        tr_id: &TrId,
        kind: MessageKind,
        now_ms: i64,
        request_id: Option<&RequestId>,
    ) -> Result<(), ResendError>;
}

/// Partners (교환처), their redemptions and its audit trail.
#[async_trait]
pub trait PartnerStore: Send + Sync {
    /// The audit's hash of a presented PIN: its keyed lookup under the store's current PIN key
    /// (so the audit matches the coupon's stored lookup and gives no way to test guesses).
    fn pin_hash(&self, pin: &Pin) -> PinHash;
    async fn create_partner(&self, new: &NewPartner) -> Result<Partner, StoreError>;
    async fn partner_by_code(&self, partner_code: &str) -> Result<Option<Partner>, StoreError>;
    /// Every partner, oldest first.
    async fn list_partners(&self) -> Result<Vec<Partner>, StoreError>;
    /// Replaces the partner's token (the old one stops working); false when there is none.
    async fn set_partner_token_hash(&self, partner_code: &str, hash: &TokenHash) -> Result<bool, StoreError>;
    /// One transaction: the coupon with `pin`, if `partner::check_redeemable` passes, becomes
    /// exchanged (02), once; and the attempt, redeemed or refused, is audited.
    async fn redeem(
        &self,
        partner_id: PartnerId,
        pin: &Pin,
        brand_codes: &[BrandCode],
        now_ms: i64,
    ) -> Result<Coupon, RedeemError>;
    /// Records an attempt that did not go through `redeem` (lookups, refusals before it).
    async fn audit_redemption(&self, entry: &AuditEntry) -> Result<(), StoreError>;
    /// The partner API's attempts on the coupon (lookups and redemptions), oldest first, with
    /// the partner's name.
    async fn redemptions_of_coupon(&self, coupon_id: i64) -> Result<Vec<(String, AuditRecord)>, StoreError>;
    /// The partner's audit trail, oldest first.
    async fn redemption_audit(&self, partner_id: PartnerId) -> Result<Vec<AuditRecord>, StoreError>;
    /// The partner's newest `limit` audit records, newest first, each with its coupon's order
    /// number when it names one.
    async fn newest_redemptions(&self, partner_id: PartnerId, limit: u32) -> Result<Vec<(AuditRecord, Option<String>)>, StoreError>;
    /// Counts a failed authentication from `source` (for `partner_id`, or for a code that is
    /// no partner's) in its hour's row.
    async fn count_auth_failure(&self, source: &str, partner_id: Option<PartnerId>, at_ms: i64) -> Result<(), StoreError>;
    /// The counted failures, newest hour first.
    async fn auth_failure_counts(&self) -> Result<Vec<AuthFailureCount>, StoreError>;
}

/// The console's operators, their sessions and failed logins. Sessions live in the database, so
/// every instance on it shares them; only the SHA-256 of a session's token is stored.
#[async_trait]
pub trait OperatorStore: Send + Sync {
    async fn create_operator(&self, new: &NewOperator) -> Result<Operator, StoreError>;
    async fn operator_by_username(&self, username: &Username) -> Result<Option<Operator>, StoreError>;
    /// Every operator, oldest first.
    async fn list_operators(&self) -> Result<Vec<Operator>, StoreError>;
    /// Disables the operator at `at_ms` (ending their sessions), or with `None` enables them;
    /// false when there is no such operator.
    async fn set_operator_disabled(&self, username: &Username, at_ms: Option<i64>) -> Result<bool, StoreError>;
    /// Replaces the password and ends the operator's sessions; false when there is none.
    async fn set_operator_password(&self, username: &Username, hash: &PasswordHash) -> Result<bool, StoreError>;
    /// Gives the operator a second factor's key (sealed under the PIN key ring, its last used
    /// step forgotten, their sessions ended), or with `None` removes it; false when there is
    /// no such operator.
    async fn set_operator_totp(&self, username: &Username, secret: Option<&TotpSecret>) -> Result<bool, StoreError>;
    /// Marks the operator's TOTP step used, unless it (or a later one) already was: true when
    /// this call took it. One statement, so two instances cannot both accept a code.
    async fn use_totp_step(&self, operator: OperatorId, step: i64) -> Result<bool, StoreError>;
    /// A failed login of `username` (whether or not it names an operator) from `source`.
    async fn record_login_failure(&self, username: &Username, source: &str, at_ms: i64) -> Result<(), StoreError>;
    /// The times of `username`'s failed logins since `since_ms`, oldest first.
    async fn login_failures_since(&self, username: &Username, since_ms: i64) -> Result<Vec<i64>, StoreError>;
    async fn create_session(&self, token_hash: &TokenHash, operator: OperatorId, source: &str, at_ms: i64) -> Result<(), StoreError>;
    /// The session with this token hash and its operator, if it exists.
    async fn session(&self, token_hash: &TokenHash) -> Result<Option<ConsoleSession>, StoreError>;
    /// Marks the session used at `at_ms` (its idle expiry counts from there).
    async fn touch_session(&self, token_hash: &TokenHash, at_ms: i64) -> Result<(), StoreError>;
    async fn end_session(&self, token_hash: &TokenHash) -> Result<(), StoreError>;
    /// The dashboard's figures: sends per KST day (days since 1970-01-01 in KST) from
    /// `since_day` on, the outbox's pending and failed messages, accounts with a balance below
    /// `low_balance`.
    async fn console_figures(&self, since_day: i64, low_balance: i64) -> Result<ConsoleFigures, StoreError>;
    /// Records an adjustment for a second operator to decide; returns its id.
    async fn request_adjustment(&self, account_id: AccountId, amount: Won, reason: &str, by: OperatorId, at_ms: i64) -> Result<i64, StoreError>;
    /// The adjustments waiting for a decision, oldest first.
    async fn pending_adjustments(&self) -> Result<Vec<PendingAdjustment>, StoreError>;
    /// One transaction: a pending adjustment requested by another operator than `by` becomes
    /// approved and its ledger entry is appended (never below zero), or becomes rejected.
    /// Returns the account's balance after it.
    async fn decide_adjustment(&self, id: i64, by: OperatorId, approve: bool, at_ms: i64) -> Result<Won, DecideError>;
    /// Appends to the audit log (which nothing changes or deletes).
    async fn append_audit(&self, event: &AuditEvent) -> Result<(), StoreError>;
    /// Up to `limit` audit entries older than `before_id` (all when `None`), newest first; with
    /// `target`, only that target's.
    async fn audit_log(&self, filter: &AuditFilter, before_id: Option<i64>, limit: u32) -> Result<Vec<AuditLogEntry>, StoreError>;
}

/// What the operator's probes read (`/ready`, `/metrics`).
#[async_trait]
pub trait ProbeStore: Send + Sync {
    /// One round trip: fails when the database does not answer.
    async fn schema_status(&self) -> Result<SchemaStatus, StoreError>;
    fn pool_status(&self) -> PoolStatus;
    /// The figures at `now_ms`, counting accounts below `low_balance` won.
    async fn scrape_figures(&self, now_ms: i64, low_balance: i64) -> Result<ScrapeFigures, StoreError>;
}

/// What tells in-process caches of accounts and the catalog that those changed (see
/// [`crate::freshness`]).
#[async_trait]
pub trait ChangeFeed: Send + Sync {
    /// This store's own committed writes of accounts and the catalog.
    fn local_changes(&self) -> &LocalChanges;
    /// One round trip: the database's revisions, whoever wrote.
    async fn revisions(&self) -> Result<Revisions, StoreError>;
    /// On an engine that can tell (PostgreSQL's `LISTEN`), a task calling `on_change` on every
    /// change any writer commits, and whenever it lost the connection (a notification may have
    /// been missed); `None` elsewhere.
    fn listen_changes(&self, on_change: OnChange) -> Option<ChangeListener>;
}

/// Every capability of one database.
#[async_trait]
pub trait Store:
    AccountStore + CatalogStore + IssuanceStore + OutboxStore + PartnerStore + OperatorStore + ProbeStore + ChangeFeed + 'static
{
    /// `sqlite` or `postgres`, for logs.
    fn engine(&self) -> &'static str;
    /// Closes every connection, waiting for those in use to come back.
    async fn close(&self);
}
