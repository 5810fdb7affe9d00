//! The client: one method per endpoint, each a form POST with the four common fields.

use std::time::Instant;

use giftbiz_wire::catalog::{Brand, BrandListResult, GoodsDetail, GoodsListItem, GoodsListResult};
use giftbiz_wire::coupon::CouponInfo;
use giftbiz_wire::{params, ApiCode};
use reqwest::Url;
use serde_json::Value;

use crate::config::{Config, Credentials};
use crate::decode;
use crate::error::{ConfigError, Error};
use crate::send::{ResendVia, SendRequest, Sent};
use crate::tr_id::TrId;

/// An async client of the Giftishow Biz API (or a giftbiz server). Cheap to clone: clones
/// share one connection pool.
///
/// ```no_run
/// use giftbiz_client::{Client, Config, Credentials};
///
/// # async fn demo() -> Result<(), giftbiz_client::Error> {
/// // From code, against a local giftbiz server:
/// let config = Config::new(Credentials::new("REAL0123…", "token…", "acme"))
///     .with_base_url("http://127.0.0.1:8080/bizApi");
/// let client = Client::new(config)?;
/// // Or from GIFTBIZ_* variables and ~/.config/giftbiz/config.toml:
/// let client = Client::from_profile(None)?;
/// println!("{} KRW", client.bizmoney().await?);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    config: Config,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Config's Debug already hides the token.
        f.debug_struct("Client").field("base", &self.base.as_str()).field("config", &self.config).finish()
    }
}

type Form = Vec<(&'static str, String)>;

impl Client {
    pub fn new(config: Config) -> Result<Client, Error> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("giftbiz-client/", env!("CARGO_PKG_VERSION")))
            .gzip(config.compression)
            .zstd(config.compression)
            .build()
            .map_err(|e| ConfigError::Invalid { what: "HTTP client", why: e.to_string() })?;
        Client::with_http_client(config, http)
    }

    /// With a `reqwest::Client` of the caller's (proxy, TLS roots, pool settings). Per-call
    /// timeouts still come from `config`.
    pub fn with_http_client(config: Config, http: reqwest::Client) -> Result<Client, Error> {
        let mut base = Url::parse(config.base_url.trim_end_matches('/'))
            .map_err(|e| ConfigError::Invalid { what: "base URL", why: e.to_string() })?;
        if base.cannot_be_a_base() || !matches!(base.scheme(), "http" | "https") {
            let why = format!("{} is not an http(s) URL", config.base_url);
            return Err(ConfigError::Invalid { what: "base URL", why }.into());
        }
        base.set_query(None);
        Ok(Client { http, base, config })
    }

    /// From the environment only (see [`Config::from_env`]).
    pub fn from_env() -> Result<Client, Error> {
        Client::new(Config::from_env()?)
    }

    /// From a profile of the default config file, overridden by the environment (see
    /// [`Config::load`]).
    pub fn from_profile(name: Option<&str>) -> Result<Client, Error> {
        Client::new(Config::load(name, None)?)
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn credentials(&self) -> &Credentials {
        &self.config.credentials
    }

    /// A fresh tr_id from the configured generator (prefix and length limit).
    pub fn new_tr_id(&self) -> TrId {
        self.config.tr_ids.generate()
    }

    /// 0101: one page of the goods list. `start` is the 1-based page, `size` the page size
    /// (the service's default is 20). `list_num` is the total the list pages through; a page
    /// past the end is empty.
    ///
    /// ```no_run
    /// # async fn demo(client: giftbiz_client::Client) -> Result<(), giftbiz_client::Error> {
    /// let page = client.goods_list(1, 100).await?;
    /// for g in page.goods_list.iter().filter(|g| g.goods_state_cd == "SALE") {
    ///     println!("{} {} {}원", g.goods_code, g.goods_name, g.discount_price);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn goods_list(&self, start: u32, size: u32) -> Result<GoodsListResult, Error> {
        decode::goods_list_body(&self.goods_list_body(start, size).await?)
    }

    /// Every goods, `page_size` at a time, until an empty or short page (or `list_num`).
    pub async fn goods_list_all(&self, page_size: u32) -> Result<Vec<GoodsListItem>, Error> {
        let page_size = page_size.max(1);
        let mut all: Vec<GoodsListItem> = Vec::new();
        let mut previous_first: Option<String> = None;
        for start in 1.. {
            let page = self.goods_list(start, page_size).await?;
            let first = page.goods_list.first().map(|g| g.goods_code.clone());
            // A server that ignores `start` would hand out page 1 forever.
            if first.is_some() && first == previous_first {
                break;
            }
            let n = page.goods_list.len();
            all.extend(page.goods_list);
            let total_reached = page.list_num > 0 && all.len() as u64 >= page.list_num;
            if n < page_size as usize || total_reached {
                break;
            }
            previous_first = first;
        }
        Ok(all)
    }

    /// 0111: one goods with every grade's price; `discount_price` is the caller's.
    ///
    /// ```no_run
    /// # async fn demo(client: giftbiz_client::Client) -> Result<(), giftbiz_client::Error> {
    /// let g = client.goods_detail("G00000280009").await?;
    /// println!("{}: gold {} / vip {} / platinum {}", g.goods_name, g.gold_price, g.vip_price, g.platinum_price);
    /// # Ok(()) }
    /// ```
    pub async fn goods_detail(&self, goods_code: &str) -> Result<GoodsDetail, Error> {
        decode::goods_detail(self.call(ApiCode::GoodsDetail, Some(goods_code), Vec::new()).await?)
    }

    /// 0102: every brand.
    pub async fn brands(&self) -> Result<BrandListResult, Error> {
        decode::brand_list(self.call(ApiCode::BrandList, None, Vec::new()).await?)
    }

    /// 0112: one brand.
    pub async fn brand_detail(&self, brand_code: &str) -> Result<Brand, Error> {
        decode::brand_detail(self.call(ApiCode::BrandDetail, Some(brand_code), Vec::new()).await?)
    }

    /// 0204: issues a coupon and charges the account's bizmoney. On
    /// [`Error::is_ambiguous`] (e.g. a timeout) the coupon may exist: cancel with the same
    /// tr_id (0202) before trying again with a new one.
    ///
    /// ```no_run
    /// use giftbiz_client::{Gubun, SendRequest};
    ///
    /// # async fn demo(client: giftbiz_client::Client) -> Result<(), giftbiz_client::Error> {
    /// let tr_id = client.new_tr_id();
    /// let req = SendRequest::new(tr_id.as_str(), "G00000280009", Gubun::Pin, "01012345678")
    ///     .callback_no("15880108")
    ///     .title("선물 도착")
    ///     .message("감사합니다.");
    /// let sent = client.send(&req).await?;
    /// println!("order {}", sent.order_no); // sent.pin.unwrap().expose() is the PIN
    /// # Ok(()) }
    /// ```
    pub async fn send(&self, req: &SendRequest) -> Result<Sent, Error> {
        let mut form = req.form();
        form.push((params::USER_ID, self.config.credentials.user_id.clone()));
        decode::send(self.call(ApiCode::Send, None, form).await?)
    }

    /// 0201: the coupons of a send, with live PIN status (`pin_status_cd`) and delivery
    /// status. Never the PIN itself.
    pub async fn coupon_detail(&self, tr_id: impl AsRef<str>) -> Result<Vec<CouponInfo>, Error> {
        let form = vec![(params::TR_ID, tr_id.as_ref().to_owned())];
        decode::coupon_detail(self.call(ApiCode::CouponDetail, None, form).await?)
    }

    /// 0202: cancels an unused coupon within 7 days of issue and refunds it. A tr_id the
    /// service never saw answers `ERR0214` and can no longer be used for a send.
    pub async fn cancel(&self, tr_id: impl AsRef<str>) -> Result<(), Error> {
        let form = self.user_form(tr_id.as_ref());
        decode::empty(ApiCode::Cancel, self.call(ApiCode::Cancel, None, form).await?)
    }

    /// 0203: sends the coupon's MMS again, or an SMS with the PIN.
    pub async fn resend(&self, tr_id: impl AsRef<str>, via: ResendVia) -> Result<(), Error> {
        let mut form = self.user_form(tr_id.as_ref());
        form.push((params::SMS_FLAG, via.code().to_owned()));
        decode::empty(ApiCode::Resend, self.call(ApiCode::Resend, None, form).await?)
    }

    /// 0205: cancels a send that charged bizmoney but issued no PIN (`ERR0805` when it did
    /// issue one: use [`Client::cancel`]).
    pub async fn send_fail_cancel(&self, tr_id: impl AsRef<str>) -> Result<(), Error> {
        let form = self.user_form(tr_id.as_ref());
        decode::empty(ApiCode::SendFailCancel, self.call(ApiCode::SendFailCancel, None, form).await?)
    }

    /// 0301: the bizmoney balance in KRW.
    pub async fn bizmoney(&self) -> Result<i64, Error> {
        let form = vec![(params::USER_ID, self.config.credentials.user_id.clone())];
        decode::bizmoney(self.call(ApiCode::Bizmoney, None, form).await?)
    }

    fn user_form(&self, tr_id: &str) -> Form {
        vec![(params::TR_ID, tr_id.to_owned()), (params::USER_ID, self.config.credentials.user_id.clone())]
    }

    fn url(&self, api: ApiCode, code: Option<&str>) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().extend(api.path().split('/'));
            // Percent-encoded, so a code cannot reach another path.
            if let Some(code) = code {
                segments.push(code);
            }
        }
        url
    }

    /// POSTs the form with the common fields and returns the parsed JSON body.
    async fn call(&self, api: ApiCode, code: Option<&str>, extra: Form) -> Result<Value, Error> {
        decode::parse(api, &self.call_body(api, code, extra).await?)
    }

    /// 0101's page as the bytes the service answered (the local catalog decodes them itself).
    pub(crate) async fn goods_list_body(&self, start: u32, size: u32) -> Result<Vec<u8>, Error> {
        let form = vec![(params::START, start.to_string()), (params::SIZE, size.to_string())];
        self.call_body(ApiCode::GoodsList, None, form).await
    }

    /// POSTs the form with the common fields and returns the body of a 2xx answer.
    async fn call_body(&self, api: ApiCode, code: Option<&str>, extra: Form) -> Result<Vec<u8>, Error> {
        let creds = &self.config.credentials;
        let mut form: Form = vec![
            (params::API_CODE, api.code().to_owned()),
            (params::CUSTOM_AUTH_CODE, creds.auth_code.clone()),
            (params::CUSTOM_AUTH_TOKEN, creds.auth_token.expose().to_owned()),
            (params::DEV_YN, "N".to_owned()),
        ];
        form.extend(extra);
        let timeout = self.config.timeouts.get(api);
        let started = Instant::now();
        let url = self.url(api, code);
        let outcome = async {
            let resp = self.http.post(url).timeout(timeout).form(&form).send().await?;
            let status = resp.status();
            let body = resp.bytes().await?;
            Ok::<_, reqwest::Error>((status, body))
        }
        .await;
        let (status, body) = outcome.map_err(|e| transport(api, timeout, e))?;
        // Never the form: it holds the token (and a send's answer holds the PIN).
        let elapsed_ms = started.elapsed().as_millis() as u64;
        tracing::debug!(api = api.code(), status = status.as_u16(), elapsed_ms, "giftbiz call");
        if !status.is_success() {
            // The API answers every outcome with 200; anything else is the HTTP layer's.
            let detail = format!("HTTP {status}");
            return Err(Error::Transport { api, detail, maybe_delivered: true, source: None });
        }
        Ok(body.into())
    }
}

fn transport(api: ApiCode, after: std::time::Duration, e: reqwest::Error) -> Error {
    if e.is_timeout() {
        return Error::Timeout { api, after };
    }
    // A refused connection never carried the request; anything later may have.
    let maybe_delivered = !e.is_connect();
    let e = e.without_url();
    // reqwest's own text is generic ("error sending request"); the cause says what happened.
    let mut detail = e.to_string();
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        detail = format!("{detail}: {c}");
        cause = c.source();
    }
    Error::Transport { api, detail, maybe_delivered, source: Some(e) }
}
