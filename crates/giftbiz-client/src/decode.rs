//! From a response body to a typed result: the envelope's code first, then each endpoint's
//! `result`, tolerating the shapes the live service is known to answer with.

use giftbiz_wire::catalog::{Brand, BrandDetailResult, BrandListResult, GoodsDetail, GoodsDetailResult, GoodsListResult};
use giftbiz_wire::coupon::{CouponDetailResult, CouponInfo, SendResult};
use giftbiz_wire::{ApiCode, ResultCode};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::Error;
use crate::lenient::{self, DecodeError};
use crate::send::Sent;

fn decode_error(api: ApiCode, msg: impl Into<String>) -> Error {
    Error::Decode { api, source: DecodeError::new(msg) }
}

fn decode<T: DeserializeOwned>(api: ApiCode, v: Value) -> Result<T, Error> {
    lenient::from_value(v).map_err(|source| Error::Decode { api, source })
}

/// The body as JSON (a syntax error's text holds positions, not content).
pub(crate) fn parse(api: ApiCode, body: &[u8]) -> Result<Value, Error> {
    serde_json::from_slice(body).map_err(|e| decode_error(api, format!("not JSON ({e})")))
}

/// `code` as a string (some answers send it as a number).
fn code_of(v: &Map<String, Value>) -> Option<String> {
    match v.get("code")? {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(format!("{:04}", n.as_u64()?)),
        _ => None,
    }
}

/// Checks an envelope's `code` and returns the object (`Error::Api` unless `0000`).
fn checked(api: ApiCode, v: Value) -> Result<Map<String, Value>, Error> {
    let Value::Object(obj) = v else { return Err(decode_error(api, "the answer is not a JSON object")) };
    let code = code_of(&obj).ok_or_else(|| decode_error(api, "the answer has no code"))?;
    if code != ResultCode::Ok.code() {
        return Err(Error::api(&code, obj.get("message").and_then(Value::as_str)));
    }
    Ok(obj)
}

/// The envelope's `result`, which must be there.
fn result(api: ApiCode, v: Value) -> Result<Value, Error> {
    match checked(api, v)?.remove("result") {
        Some(Value::Null) | None => Err(decode_error(api, "the answer has no result")),
        Some(r) => Ok(r),
    }
}

/// A `result` that is either the wrapper (`{"goodsDetail": {...}}`) or the inner object itself.
fn unwrap_key(v: Value, key: &str) -> Value {
    match v {
        Value::Object(mut m) if m.contains_key(key) => m.remove(key).unwrap_or(Value::Null),
        other => other,
    }
}

/// 0202, 0203, 0205: success is the code alone (the result, if any, is ignored).
pub(crate) fn empty(api: ApiCode, v: Value) -> Result<(), Error> {
    checked(api, v).map(drop)
}

pub(crate) fn goods_list(v: Value) -> Result<GoodsListResult, Error> {
    decode(ApiCode::GoodsList, result(ApiCode::GoodsList, v)?)
}

/// 0101 from its body: typed (several times faster) when the answer is exactly the wire types
/// with code `0000`, else the tolerant way, which decodes or explains anything else.
pub(crate) fn goods_list_body(body: &[u8]) -> Result<GoodsListResult, Error> {
    #[derive(serde::Deserialize)]
    struct Exact<'a> {
        code: &'a str,
        result: GoodsListResult,
    }
    match serde_json::from_slice::<Exact<'_>>(body) {
        Ok(exact) if exact.code == ResultCode::Ok.code() => Ok(exact.result),
        _ => goods_list(parse(ApiCode::GoodsList, body)?),
    }
}

pub(crate) fn goods_detail(v: Value) -> Result<GoodsDetail, Error> {
    let r = result(ApiCode::GoodsDetail, v)?;
    let wrapped = serde_json::json!({ "goodsDetail": unwrap_key(r, "goodsDetail") });
    decode::<GoodsDetailResult>(ApiCode::GoodsDetail, wrapped).map(|r| r.goods_detail)
}

pub(crate) fn brand_list(v: Value) -> Result<BrandListResult, Error> {
    decode(ApiCode::BrandList, result(ApiCode::BrandList, v)?)
}

pub(crate) fn brand_detail(v: Value) -> Result<Brand, Error> {
    let r = result(ApiCode::BrandDetail, v)?;
    let wrapped = serde_json::json!({ "brandDetail": unwrap_key(r, "brandDetail") });
    decode::<BrandDetailResult>(ApiCode::BrandDetail, wrapped).map(|r| r.brand_detail)
}

/// 0204 nests the envelope twice; a single level (the result directly) is accepted too.
pub(crate) fn send(v: Value) -> Result<Sent, Error> {
    let api = ApiCode::Send;
    let mut r = result(api, v)?;
    if r.get("code").is_some() {
        r = result(api, r)?;
    }
    let sent: SendResult = decode(api, r)?;
    if sent.order_no.is_empty() {
        return Err(decode_error(api, "the answer has no orderNo"));
    }
    Ok(sent.into())
}

/// 0201: `result` is an array of `{couponInfoList, resCode, resMsg}` (a lone object is accepted
/// too); each entry's `resCode`, when present, must be `0000`.
pub(crate) fn coupon_detail(v: Value) -> Result<Vec<CouponInfo>, Error> {
    let api = ApiCode::CouponDetail;
    let entries = match result(api, v)? {
        Value::Array(a) => a,
        obj @ Value::Object(_) => vec![obj],
        _ => return Err(decode_error(api, "result is neither an array nor an object")),
    };
    let mut coupons = Vec::new();
    for entry in entries {
        let d: CouponDetailResult = decode(api, entry)?;
        if !d.res_code.is_empty() && d.res_code != ResultCode::Ok.code() {
            return Err(Error::api(&d.res_code, Some(&d.res_msg)));
        }
        coupons.extend(d.coupon_info_list);
    }
    Ok(coupons)
}

/// 0301: the balance at the top level or in `result` (`{"balance": …}` or the bare value), as
/// a digit string or a number.
pub(crate) fn bizmoney(v: Value) -> Result<i64, Error> {
    let api = ApiCode::Bizmoney;
    let mut obj = checked(api, v)?;
    let present = |v: &Option<Value>| v.as_ref().is_some_and(|v| !v.is_null() && v != "");
    let mut balance = obj.remove("balance");
    if !present(&balance) {
        balance = match obj.remove("result") {
            Some(Value::Object(mut r)) => r.remove("balance"),
            other => other,
        };
    }
    if !present(&balance) {
        return Err(decode_error(api, "the answer has no balance"));
    }
    decode(api, balance.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn balance_at_the_top_level_only_as_a_string() {
        assert_eq!(bizmoney(json!({"code":"0000","message":null,"balance":"250000"})).unwrap(), 250_000);
    }

    #[test]
    fn balance_in_result_as_a_number_or_a_string() {
        assert_eq!(bizmoney(json!({"code":"0000","message":null,"result":{"balance":12000}})).unwrap(), 12_000);
        assert_eq!(bizmoney(json!({"code":"0000","message":null,"result":"7000"})).unwrap(), 7_000);
        assert_eq!(bizmoney(json!({"code":"0000","balance":"","result":{"balance":"1,500"}})).unwrap(), 1_500);
        assert!(matches!(bizmoney(json!({"code":"0000","result":null})), Err(Error::Decode { .. })));
    }

    #[test]
    fn errors_carry_the_code_and_message() {
        let e = bizmoney(json!({"code":"E0009","message":"유효한 인증 토큰이 아닙니다","result":null})).unwrap_err();
        assert!(e.is(ResultCode::InvalidAuthToken));
        assert_eq!(e.to_string(), "E0009 유효한 인증 토큰이 아닙니다");
        assert!(empty(ApiCode::Cancel, json!({"code":"0000","message":"정상 취소","result":null})).is_ok());
    }

    #[test]
    fn goods_list_with_numbers_as_strings_and_missing_fields() {
        let v = json!({"code":"0000","message":null,"result":{"listNum":"2","goodsList":[
            {"goodsCode":"G00000280009","goodsNo":"280009","goodsName":"아메리카노 T","brandCode":"BR00001",
             "salePrice":"4500","discountPrice":"4230","realPrice":4500,"discountRate":"6",
             "limitDay":"30","category1Seq":"1","popular":null,"goodsStateCd":"SALE","endDate":null},
            {"goodsCode":"G00000280010","goodsName":"라떼","salePrice":800}
        ]}});
        let r = goods_list(v).unwrap();
        assert_eq!(r.list_num, 2);
        let g = &r.goods_list[0];
        assert_eq!((g.goods_no, g.sale_price, g.discount_price, g.real_price), (280_009, 4500, 4230, 4500));
        assert_eq!((g.discount_rate, g.limit_day, g.category1_seq, g.popular), (6, 30, 1, 0));
        assert_eq!((g.end_date.as_str(), g.content.as_str()), ("", ""));
        let g = &r.goods_list[1];
        assert_eq!((g.goods_name.as_str(), g.sale_price, g.discount_price), ("라떼", 800, 0));
        assert_eq!(g.goods_state_cd, "");
    }

    #[test]
    fn goods_list_body_typed_or_tolerant_alike() {
        let sparse = json!({"code":"0000","result":{"listNum":"2","goodsList":[
            {"goodsCode":"G1","goodsNo":"17","goodsName":"아메리카노","salePrice":"4500"},
            {"goodsCode":"G2","salePrice":800,"popular":null}]}});
        let tolerant = goods_list(sparse.clone()).unwrap();
        assert_eq!(goods_list_body(sparse.to_string().as_bytes()).unwrap(), tolerant);
        // Every key, every type exact: the typed path, with the same result.
        let exact = json!({"code":"0000","message":null,"result":tolerant});
        assert_eq!(goods_list_body(exact.to_string().as_bytes()).unwrap(), tolerant);
        let e = goods_list_body(br#"{"code":"E0009","message":"x","result":{"listNum":0,"goodsList":[]}}"#).unwrap_err();
        assert!(e.is(ResultCode::InvalidAuthToken));
        assert!(matches!(goods_list_body(b"<html>"), Err(Error::Decode { .. })));
    }

    #[test]
    fn a_bad_number_names_its_path() {
        let v = json!({"code":"0000","result":{"listNum":1,"goodsList":[{"salePrice":"팔백원"}]}});
        let e = goods_list(v).unwrap_err();
        assert_eq!(e.to_string(), "0101: undecodable response: goodsList[0].salePrice: found a string, expected an integer");
    }

    #[test]
    fn details_with_or_without_their_wrapper() {
        let d = goods_detail(json!({"code":"0000","result":{"goodsDetail":{"goodsCode":"G1","goldPrice":"4140","vipPrice":4095}}})).unwrap();
        assert_eq!((d.goods_code.as_str(), d.gold_price, d.vip_price, d.platinum_price), ("G1", 4140, 4095, 0));
        let d = goods_detail(json!({"code":"0000","result":{"goodsCode":"G2","categorySeq1":"3"}})).unwrap();
        assert_eq!((d.goods_code.as_str(), d.category_seq1), ("G2", 3));
        let b = brand_detail(json!({"code":"0000","result":{"brandDetail":{"brandCode":"BR1","brandIConImg":"i","sort":"2"}}})).unwrap();
        assert_eq!((b.brand_code.as_str(), b.brand_icon_img.as_str(), b.sort, b.brand_seq), ("BR1", "i", 2, 0));
        let l = brand_list(json!({"code":"0000","result":{"brandList":[{"brandCode":"BR1","brandSeq":"7"}]}})).unwrap();
        assert_eq!((l.list_num, l.brand_list[0].brand_seq), (0, 7));
    }

    #[test]
    fn send_nested_twice_once_or_with_an_inner_error() {
        let twice = json!({"code":"0000","message":null,"result":{"code":"0000","message":null,
            "result":{"orderNo":"20251204606145","pinNo":"911259415286","couponImgUrl":"https://x/c.png"}}});
        let s = send(twice).unwrap();
        assert_eq!(s.order_no, "20251204606145");
        assert_eq!(s.pin.as_ref().map(|p| p.expose()), Some("911259415286"));
        assert_eq!(s.coupon_img_url.as_deref(), Some("https://x/c.png"));
        let once = json!({"code":"0000","message":null,"result":{"orderNo":20251204606146_u64}});
        let s = send(once).unwrap();
        assert_eq!((s.order_no.as_str(), s.pin.is_none()), ("20251204606146", true));
        let inner = json!({"code":"0000","message":null,"result":{"code":"ERR0208","message":"상품 주문 관련 오류","result":null}});
        assert!(send(inner).unwrap_err().is(ResultCode::OrderError));
        assert!(matches!(send(json!({"code":"0000","result":{"code":"0000","result":{}}})), Err(Error::Decode { .. })));
    }

    #[test]
    fn coupon_detail_array_object_and_res_code() {
        let info = json!({"goodsCd":"G1","pinStatusCd":"01","sellPriceAmt":4230,"remainAmt":null});
        let arr = json!({"code":"0000","message":null,"result":[{"couponInfoList":[info],"resCode":"0000","resMsg":"정상처리"}]});
        let list = coupon_detail(arr).unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].sell_price_amt.as_deref(), Some("4230"));
        assert_eq!(list[0].remain_amt, None);
        assert_eq!(list[0].brand_nm, None);
        let obj = json!({"code":"0000","result":{"couponInfoList":[info]}});
        assert_eq!(coupon_detail(obj).unwrap().len(), 1);
        let bad = json!({"code":"0000","result":[{"couponInfoList":[],"resCode":"ERR0214","resMsg":"TR ID 가 없습니다."}]});
        assert!(coupon_detail(bad).unwrap_err().is(ResultCode::TrIdNotFound));
    }
}
