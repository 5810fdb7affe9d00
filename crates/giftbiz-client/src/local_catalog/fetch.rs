//! The sync's pages: fetched ahead of the writer on the runtime's threads, hashed there, and
//! decoded there too unless the page lists what it listed when last stored.
//!
//! A page is known by two hashes: of its body, and of its `goodsList` as received (the total,
//! `listNum`, is outside it: a goods added or withdrawn on a later page changes every page's
//! body but not the lists of the pages before it). The body's hash is checked first, as it
//! costs no parsing; the list's takes a scan of the envelope.
//!
//! The sync reads only the columns it indexes. The body is split into its goods' raw JSON
//! (`RawValue`), and a small borrowed struct takes those columns from each, tolerating what
//! the live service sends (numbers as digit strings, `null`, missing keys). A goods it cannot
//! read that way goes through the SDK's tolerant decoder, and a page that is not the usual
//! envelope (an error code, `result` missing, …) through the SDK's whole 0101 decoding, which
//! decodes or explains anything. Each goods' JSON is stored as received.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::ops::Range;

use giftbiz_wire::catalog::GoodsListItem;
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::LocalCatalogError;
use crate::client::Client;
use crate::{decode, lenient};

/// Pages fetched and decoded ahead of the one being written (each on the runtime's threads).
const PREFETCH: usize = 2;

/// A goods of a page: the columns the local catalog indexes, and its JSON's place in the page.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Item {
    pub code: String,
    pub no: i64,
    pub name: String,
    pub brand_code: String,
    pub brand_name: String,
    pub category_seq: i64,
    pub sale_price: i64,
    pub discount_price: i64,
    pub state: String,
    pub wire: Range<usize>,
    /// [`hash64`] of the JSON.
    pub hash: i64,
}

/// A decoded page: its goods' JSON lie in `text` (the body, or their re-encoding).
#[derive(Debug)]
pub(super) struct Page {
    pub text: String,
    pub list_num: u64,
    pub items: Vec<Item>,
    /// [`hash64`] of `goodsList` as received (or of the re-encoding).
    pub list_hash: i64,
}

impl Page {
    pub fn wire(&self, item: &Item) -> &str {
        &self.text[item.wire.clone()]
    }
}

/// A page's hashes as stored: of its body and of its `goodsList`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Hashes {
    pub body: i64,
    pub list: i64,
}

/// A fetched page and its hashes.
pub(super) enum Fetched {
    /// It lists what it listed when stored (the writer still checks that its goods rows are
    /// all there; the body is kept for the case they are not). `list_num` is `None` when the
    /// whole body is the same.
    Same { body: Vec<u8>, hashes: Hashes, list_num: Option<u64> },
    New { page: Page, hash: i64 },
}

/// Pages fetched ahead of the writer (at most [`PREFETCH`] at a time), in page order.
pub(super) struct Prefetch<'a> {
    client: &'a Client,
    size: u32,
    queue: VecDeque<(u32, Fetch)>,
    next: u32,
    /// The hashes stored for each page (of this page size).
    pub known: HashMap<u32, Hashes>,
}

impl<'a> Prefetch<'a> {
    pub fn new(client: &'a Client, size: u32, first: u32, known: HashMap<u32, Hashes>) -> Prefetch<'a> {
        let mut p = Prefetch { client, size, queue: VecDeque::new(), next: first, known };
        p.fill(first);
        p
    }

    /// Starts fetches of the pages up to `last`, keeping at most `PREFETCH` in flight.
    pub fn fill(&mut self, last: u32) {
        while self.queue.len() < PREFETCH && self.next <= last {
            let known = self.known.get(&self.next).copied();
            self.queue.push_back((self.next, spawn_fetch(self.client, self.next, self.size, known)));
            self.next += 1;
        }
    }

    pub fn pop(&mut self) -> Option<(u32, Fetch)> {
        self.queue.pop_front()
    }

    pub fn clear(&mut self) {
        self.queue.clear();
    }
}

/// Fetches a page on the runtime, hashing it there and, unless it lists what it listed when
/// stored (`known`), decoding it.
fn spawn_fetch(client: &Client, page: u32, size: u32, known: Option<Hashes>) -> Fetch {
    let client = client.clone();
    Fetch(tokio::spawn(async move {
        let body = client.goods_list_body(page, size).await?;
        let hash = hash64(&body) as i64;
        if let Some(known) = known {
            if known.body == hash {
                return Ok(Fetched::Same { body, hashes: known, list_num: None });
            }
            let list = envelope(&body).map(|(list_num, list)| (list_num, hash64(list.get().as_bytes()) as i64));
            if let Some((list_num, list)) = list.filter(|&(_, list)| list == known.list) {
                return Ok(Fetched::Same { body, hashes: Hashes { body: hash, list }, list_num: Some(list_num) });
            }
        }
        Ok(Fetched::New { page: decode_page(body)?, hash })
    }))
}

/// A spawned fetch, aborted if the sync is dropped or stops before awaiting it.
pub(super) struct Fetch(tokio::task::JoinHandle<Result<Fetched, LocalCatalogError>>);

impl Fetch {
    pub async fn fetched(mut self) -> Result<Fetched, LocalCatalogError> {
        match (&mut self.0).await {
            Ok(page) => page,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => Err(LocalCatalogError::Runtime(e.to_string())),
        }
    }
}

impl Drop for Fetch {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A 0101 body as the sync stores it (see the module docs).
pub(super) fn decode_page(body: Vec<u8>) -> Result<Page, LocalCatalogError> {
    let text = match String::from_utf8(body) {
        Ok(text) => text,
        Err(e) => return tolerant_page(e.as_bytes()),
    };
    let Some((list_num, list)) = envelope(text.as_bytes()) else { return tolerant_page(text.as_bytes()) };
    let Ok(raw) = serde_json::from_str::<Vec<&RawValue>>(list.get()) else { return tolerant_page(text.as_bytes()) };
    let list_hash = hash64(list.get().as_bytes()) as i64;
    let mut items = Vec::with_capacity(raw.len());
    for r in raw {
        let json = r.get();
        let start = json.as_ptr() as usize - text.as_ptr() as usize;
        let wire = start..start + json.len();
        let hash = hash64(json.as_bytes()) as i64;
        match serde_json::from_str::<Columns<'_>>(json) {
            Ok(c) => items.push(c.item(wire, hash)),
            Err(_) => match tolerant_item(json) {
                Some(g) => items.push(item_of(&g, wire, hash)),
                // The SDK's decoding says what is wrong (and where).
                None => return tolerant_page(text.as_bytes()),
            },
        }
    }
    Ok(Page { text, list_num, items, list_hash })
}

/// The usual envelope (code `0000`, a result with `goodsList`): `listNum` and `goodsList`.
fn envelope(body: &[u8]) -> Option<(u64, &RawValue)> {
    #[derive(Deserialize)]
    struct Envelope<'a> {
        #[serde(borrow)]
        code: Text<'a>,
        #[serde(borrow)]
        result: Option<Result0101<'a>>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Result0101<'a> {
        #[serde(default)]
        list_num: Int,
        #[serde(borrow)]
        goods_list: &'a RawValue,
    }
    let e: Envelope<'_> = serde_json::from_slice(body).ok()?;
    let r = e.result.filter(|_| e.code.0.trim() == "0000")?;
    Some((u64::try_from(r.list_num.0).ok()?, r.goods_list))
}

/// One goods through the SDK's tolerant decoder.
fn tolerant_item(json: &str) -> Option<GoodsListItem> {
    lenient::from_value(serde_json::from_str(json).ok()?).ok()
}

/// The whole page through the SDK's 0101 decoding; the goods' JSON is then their re-encoding.
fn tolerant_page(body: &[u8]) -> Result<Page, LocalCatalogError> {
    let result = decode::goods_list_body(body)?;
    let mut text = String::new();
    let mut items = Vec::with_capacity(result.goods_list.len());
    for g in &result.goods_list {
        let start = text.len();
        text.push_str(&serde_json::to_string(g)?);
        let hash = hash64(&text.as_bytes()[start..]) as i64;
        items.push(item_of(g, start..text.len(), hash));
    }
    let list_hash = hash64(text.as_bytes()) as i64;
    Ok(Page { text, list_num: result.list_num, items, list_hash })
}

fn item_of(g: &GoodsListItem, wire: Range<usize>, hash: i64) -> Item {
    Item {
        code: g.goods_code.clone(),
        no: g.goods_no,
        name: g.goods_name.clone(),
        brand_code: g.brand_code.clone(),
        brand_name: g.brand_name.clone(),
        category_seq: g.category1_seq,
        sale_price: g.sale_price,
        discount_price: g.discount_price,
        state: g.goods_state_cd.clone(),
        wire,
        hash,
    }
}

/// The indexed columns of a goods, borrowed from its JSON where no escape intervenes.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Columns<'a> {
    #[serde(borrow)]
    goods_code: Text<'a>,
    goods_no: Int,
    #[serde(borrow)]
    goods_name: Text<'a>,
    #[serde(borrow)]
    brand_code: Text<'a>,
    #[serde(borrow)]
    brand_name: Text<'a>,
    category1_seq: Int,
    sale_price: Int,
    discount_price: Int,
    #[serde(borrow)]
    goods_state_cd: Text<'a>,
}

impl Columns<'_> {
    fn item(self, wire: Range<usize>, hash: i64) -> Item {
        Item {
            code: self.goods_code.0.into_owned(),
            no: self.goods_no.0,
            name: self.goods_name.0.into_owned(),
            brand_code: self.brand_code.0.into_owned(),
            brand_name: self.brand_name.0.into_owned(),
            category_seq: self.category1_seq.0,
            sale_price: self.sale_price.0,
            discount_price: self.discount_price.0,
            state: self.goods_state_cd.0.into_owned(),
            wire,
            hash,
        }
    }
}

/// A string, or `null` as `""`. Anything else is left to the tolerant decoder.
#[derive(Default)]
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string or null")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(s.to_owned())))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Text<'de>, E> {
                Ok(Text::default())
            }
        }
        d.deserialize_any(V)
    }
}

/// An integer as a number or a plain digit string; `null` and `""` are 0. Anything else (a
/// fraction, thousands separators, …) is left to the tolerant decoder.
#[derive(Default)]
struct Int(i64);

impl<'de> Deserialize<'de> for Int {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Int;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an integer")
            }
            fn visit_i64<E: de::Error>(self, i: i64) -> Result<Int, E> {
                Ok(Int(i))
            }
            fn visit_u64<E: de::Error>(self, u: u64) -> Result<Int, E> {
                i64::try_from(u).map(Int).map_err(|_| E::custom("out of range"))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Int, E> {
                match s.trim() {
                    "" => Ok(Int(0)),
                    t => t.parse().map(Int).map_err(|_| E::custom("not an integer")),
                }
            }
            fn visit_unit<E: de::Error>(self) -> Result<Int, E> {
                Ok(Int(0))
            }
        }
        d.deserialize_any(V)
    }
}

/// xxHash64 (seed 0) of `bytes`: the goods' and pages' change detection, stored in the file,
/// so it must never change.
pub(super) fn hash64(bytes: &[u8]) -> u64 {
    xxhash_rust::xxh64::xxh64(bytes, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash64_is_xxhash64() {
        // The reference values of xxHash64: the stored hashes depend on them.
        assert_eq!(hash64(b""), 0xef46_db37_51d8_e999);
        assert_eq!(hash64(b"abc"), 0x44bc_2cf5_ad77_0999);
        let long = "The quick brown fox jumps over the lazy dog, 아메리카노 T 4500원";
        assert_eq!(hash64(long.as_bytes()), 0xb17b_e0d1_0a85_58c0);
    }

    /// The columns as the SDK's 0101 decoding reads them, and the JSON as received.
    #[track_caller]
    fn decodes_as_the_sdk(body: &str) -> Page {
        let page = decode_page(body.as_bytes().to_vec()).unwrap();
        let sdk = decode::goods_list_body(body.as_bytes()).unwrap();
        assert_eq!(page.list_num, sdk.list_num);
        assert_eq!(page.items.len(), sdk.goods_list.len());
        for (item, g) in page.items.iter().zip(&sdk.goods_list) {
            let wire = page.wire(item);
            assert!(body.contains(wire), "{wire}");
            assert_eq!(item.hash, hash64(wire.as_bytes()) as i64);
            assert_eq!(*item, item_of(g, item.wire.clone(), item.hash));
            assert_eq!(tolerant_item(wire).as_ref(), Some(g));
        }
        page
    }

    #[test]
    fn goods_are_read_as_the_sdk_reads_them_and_kept_as_received() {
        let body = r#"{"code":"0000","message":null,"result":{"listNum":"3","goodsList":[
            {"goodsCode":"G1","goodsNo":"17","goodsName":"아메리카노 \"ICE\"","brandCode":"BR1","brandName":"스타벅스",
             "salePrice":"4500","discountPrice":4230,"category1Seq":" 1 ","goodsStateCd":"SALE","popular":null},
            {"goodsCode":"G2","goodsName":"라떼","salePrice":800,"brandName":null,"discountPrice":""},
            {"goodsCode":"G3","goodsName":"케이크","salePrice":"1,800","goodsNo":2.0,"brandCode":7}
        ]}}"#;
        let page = decodes_as_the_sdk(body);
        assert_eq!(page.items[0].name, "아메리카노 \"ICE\"");
        assert_eq!((page.items[1].sale_price, page.items[1].discount_price), (800, 0));
        // A thousands separator, a float and a number for a string: the tolerant decoder's.
        assert_eq!((page.items[2].sale_price, page.items[2].no, page.items[2].brand_code.as_str()), (1800, 2, "7"));
        let list = &body.as_bytes()[body.find('[').unwrap()..body.rfind(']').unwrap() + 1];
        assert_eq!(page.list_hash, hash64(list) as i64);
    }

    #[test]
    fn other_envelopes_go_through_the_sdk() {
        // `code` as a number, no listNum, goodsList null: decoded by the SDK, then re-encoded.
        let page = decode_page(br#"{"code":0,"result":{"listNum":1,"goodsList":[{"goodsCode":"G1","salePrice":5}]}}"#.to_vec()).unwrap();
        assert_eq!((page.list_num, page.items[0].sale_price), (1, 5));
        assert!(page.wire(&page.items[0]).contains("\"goodsImgS\":\"\""), "the re-encoding has every key");
        let page = decode_page(br#"{"code":"0000","result":{"goodsList":null}}"#.to_vec()).unwrap();
        assert!(page.items.is_empty());
        // An error answer and a goods that cannot be read are the SDK's errors.
        match decode_page(br#"{"code":"E0009","message":"bad token","result":null}"#.to_vec()) {
            Err(LocalCatalogError::Api(e)) => assert!(e.to_string().starts_with("E0009")),
            other => panic!("{other:?}"),
        }
        let bad = r#"{"code":"0000","result":{"listNum":1,"goodsList":[{"goodsCode":"G1","salePrice":"팔백원"}]}}"#;
        let e = decode_page(bad.as_bytes().to_vec()).unwrap_err();
        assert!(e.to_string().contains("goodsList[0].salePrice"), "{e}");
    }
}
