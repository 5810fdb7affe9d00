//! The ten `/bizApi` operations, built from the same tables the server answers from: the paths
//! of `ApiCode`, the parameter names of `giftbiz_wire::params`, every `ResultCode`, and the
//! schemas derived from the wire types. Adding an operation, a parameter or a result code there
//! changes the document with it.

use giftbiz_wire::{params as p, ApiCode, ResultCode};
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{AnyOfBuilder, ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::{ContentBuilder, Paths, PathsBuilder, Ref, RefOr, Required, ResponseBuilder};

/// What a parameter is, in the spec's Korean and in English.
fn param_description(name: &str) -> &'static str {
    match name {
        p::API_CODE => "API 코드 / the operation's code (e.g. 0101); the path decides the operation",
        p::CUSTOM_AUTH_CODE => "API 인증 키 / the account's auth code",
        p::CUSTOM_AUTH_TOKEN => "API 인증 토큰 / the account's token",
        p::DEV_YN => "테스트여부 설정 값 ('N' 으로만 설정) / test flag: only N is accepted (ERR0100 for Y)",
        p::START => "목록 시작페이지 (미입력시 1페이지) / 1-based page (default 1)",
        p::SIZE => "목록 표시 개수 (미입력시 20개) / page size (default 20, at most page_size_cap)",
        p::GOODS_CODE => "상품코드 / goods code",
        p::TR_ID => "거래아이디 (Unique한 ID, 사용자생성) / the caller's transaction id, unique per account (20 characters by default)",
        p::USER_ID => "회원 ID / the account's user id",
        p::SMS_FLAG => "Y : SMS / N : MMS (default : N)",
        p::ORDER_NO => "주문번호 / the caller's order number (kept, not checked)",
        p::MMS_MSG => "MMS메시지 / the message text",
        p::MMS_TITLE => "MMS제목 / the message title (20 characters by default)",
        p::CALLBACK_NO => "'-'를 제외한 발신번호 / the sender's number, digits only",
        p::PHONE_NO => "'-'를 제외한 수신번호 / the recipient's number, digits only",
        p::REV_INFO_YN => "예약발송여부 (Y:예약, N:실시간) / reserve the MMS (Y) or send now (N)",
        p::REV_INFO_DATE => "예약일자 (yyyyMMdd) / reservation date, KST",
        p::REV_INFO_TIME => "예약시간 (HHmm) / reservation time, KST",
        p::TEMPLATE_ID => "카드 아이디 / card template id (accepted, unused)",
        p::BANNER_ID => "배너 아이디 / banner id (accepted, unused)",
        p::GUBUN => "MMS발송 구분자 - Y: 핀번호수신, N: MMS, I: 바코드이미지수신 / Y: PIN returned, N: MMS sent by the platform, I: PIN and barcode image URL",
        _ => "",
    }
}

/// One operation: its title in Korean and English, what it does, and its own parameters.
struct Op {
    code: ApiCode,
    ko: &'static str,
    en: &'static str,
    what: &'static str,
    required: &'static [&'static str],
    optional: &'static [&'static str],
    /// The success envelope's schema.
    ok: fn() -> RefOr<Schema>,
}

const OPS: [Op; 10] = [
    Op {
        code: ApiCode::GoodsList,
        ko: "상품 리스트",
        en: "Goods list",
        what: "One page of the catalog, priced for the caller's grade; `listNum` is the total.",
        required: &[],
        optional: &[p::START, p::SIZE],
        ok: || ok_envelope(reference("GoodsListResult")),
    },
    Op {
        code: ApiCode::GoodsDetail,
        ko: "상품 상세 정보",
        en: "Goods detail",
        what: "One goods with every grade's price.",
        required: &[],
        optional: &[],
        ok: || ok_envelope(reference("GoodsDetailResult")),
    },
    Op {
        code: ApiCode::BrandList,
        ko: "브랜드 정보 조회",
        en: "Brand list",
        what: "Every brand.",
        required: &[],
        optional: &[],
        ok: || ok_envelope(reference("BrandListResult")),
    },
    Op {
        code: ApiCode::BrandDetail,
        ko: "브랜드 상세 정보",
        en: "Brand detail",
        what: "One brand.",
        required: &[],
        optional: &[],
        ok: || ok_envelope(reference("BrandDetailResult")),
    },
    Op {
        code: ApiCode::CouponDetail,
        ko: "쿠폰 상세 정보",
        en: "Coupon detail",
        what: "The caller's coupon of this tr_id: a one-element array whose `couponInfoList` holds the 17 keys of the coupon, its live PIN status and delivery status.",
        required: &[p::TR_ID],
        optional: &[p::USER_ID],
        ok: || ok_envelope(ArrayBuilder::new().items(reference("CouponDetailResult")).min_items(Some(1)).max_items(Some(1)).build().into()),
    },
    Op {
        code: ApiCode::Cancel,
        ko: "쿠폰 취소",
        en: "Cancel a coupon",
        what: "Cancels an unused coupon within 7 days of issue and refunds its price once; an unknown tr_id is tombstoned (a later send with it is refused).",
        required: &[p::TR_ID, p::USER_ID],
        optional: &[],
        ok: ok_empty,
    },
    Op {
        code: ApiCode::Resend,
        ko: "쿠폰 재전송",
        en: "Resend a coupon",
        what: "Queues the MMS of a gubun N send again, or an SMS with the PIN (`sms_flag=Y`).",
        required: &[p::TR_ID, p::USER_ID],
        optional: &[p::SMS_FLAG],
        ok: ok_empty,
    },
    Op {
        code: ApiCode::Send,
        ko: "쿠폰발송요청",
        en: "Send a coupon",
        what: "Charges the caller's grade price and issues a coupon in one transaction. The answer nests the envelope twice: `result` is itself an envelope whose `result` has `orderNo`, plus `pinNo` (gubun Y and I) and `couponImgUrl` (gubun I).",
        required: &[p::GOODS_CODE, p::MMS_MSG, p::MMS_TITLE, p::CALLBACK_NO, p::PHONE_NO, p::TR_ID, p::USER_ID, p::GUBUN],
        optional: &[p::ORDER_NO, p::REV_INFO_YN, p::REV_INFO_DATE, p::REV_INFO_TIME, p::TEMPLATE_ID, p::BANNER_ID],
        ok: || ok_envelope(ok_envelope(reference("SendResult"))),
    },
    Op {
        code: ApiCode::Bizmoney,
        ko: "현재 비즈머니 잔액 정보",
        en: "Bizmoney balance",
        what: "The caller's balance in won as a digit string, at the top level (`balance`) and in `result` (clients read either).",
        required: &[p::USER_ID],
        optional: &[],
        ok: bizmoney_envelope,
    },
    Op {
        code: ApiCode::SendFailCancel,
        ko: "발송실패 취소",
        en: "Cancel a failed send",
        what: "For a send whose answer never arrived: a tr_id no send claimed is tombstoned (a late send is refused) and answered `ERR0206`-style as unknown; a send that issued a PIN is left as it is (cancel it with 0202).",
        required: &[p::TR_ID, p::USER_ID],
        optional: &[],
        ok: ok_empty,
    },
];

fn reference(name: &str) -> RefOr<Schema> {
    Ref::from_schema_name(name).into()
}

fn string(description: &str) -> Schema {
    ObjectBuilder::new().schema_type(Type::String).description(Some(description)).build().into()
}

fn null() -> RefOr<Schema> {
    ObjectBuilder::new().schema_type(Type::Null).build().into()
}

fn constant(value: &str) -> RefOr<Schema> {
    ObjectBuilder::new().schema_type(Type::String).enum_values(Some([value])).build().into()
}

/// `{"code":"0000","message":null,"result":…}`.
fn ok_envelope(result: RefOr<Schema>) -> RefOr<Schema> {
    ObjectBuilder::new()
        .property("code", constant(ResultCode::Ok.code()))
        .property("message", null())
        .property("result", result)
        .required("code")
        .required("message")
        .required("result")
        .build()
        .into()
}

/// Cancel, resend, sendFail cancel: success with `"result": null`.
fn ok_empty() -> RefOr<Schema> {
    ok_envelope(null())
}

fn bizmoney_envelope() -> RefOr<Schema> {
    ObjectBuilder::new()
        .property("code", constant(ResultCode::Ok.code()))
        .property("message", null())
        .property("balance", ObjectBuilder::new().schema_type(Type::String).pattern(Some("^[0-9]+$")).build())
        .property("result", reference("BizmoneyResult"))
        .required("code")
        .required("message")
        .required("balance")
        .required("result")
        .build()
        .into()
}

/// The error envelope: every result code but `0000`, the spec's message (with the offending
/// parameter's name in parentheses where there is one), `"result": null`.
pub fn error_envelope() -> Schema {
    let codes: Vec<&str> = ResultCode::ALL.iter().filter(|c| **c != ResultCode::Ok).map(|c| c.code()).collect();
    ObjectBuilder::new()
        .description(Some("오류 응답 / an error: HTTP 200 with the result code (README, NOTES §4)"))
        .property("code", ObjectBuilder::new().schema_type(Type::String).enum_values(Some(codes)))
        .property("message", ObjectBuilder::new().schema_type(Type::String))
        .property("result", null())
        .required("code")
        .required("message")
        .required("result")
        .build()
        .into()
}

/// The request's parameters: the four common fields, then the operation's own.
fn parameters_schema(op: &Op) -> Schema {
    let mut o = ObjectBuilder::new().description(Some(
        "Any parameter may come as a form field, a JSON member, a multipart part or in the query string; the four common fields also as headers.",
    ));
    for name in p::COMMON.iter().chain(op.required) {
        o = o.property(*name, string(param_description(name))).required(*name);
    }
    for name in op.optional {
        o = o.property(*name, string(param_description(name)));
    }
    o.build().into()
}

/// Every `/bizApi` path, with and without its trailing slash documented once (the slash form is
/// served too).
pub fn paths() -> Paths {
    let mut paths = PathsBuilder::new();
    for op in &OPS {
        let mut path = format!("/bizApi/{}", op.code.path());
        let mut operation = OperationBuilder::new()
            .tag("bizApi")
            .operation_id(Some(format!("biz_{}", op.code.code())))
            .summary(Some(format!("{} {} / {}", op.code.code(), op.ko, op.en)))
            .description(Some(format!(
                "{}\n\n모든 응답은 HTTP 200의 JSON 봉투입니다 / every answer is HTTP 200 with the envelope: `code` 0000 and the result, or an error code with `result: null`.",
                op.what
            )));
        let detail = match op.code {
            ApiCode::GoodsDetail => Some((p::GOODS_CODE, "goodsCode")),
            ApiCode::BrandDetail => Some((p::BRAND_CODE, "brandCode")),
            _ => None,
        };
        if let Some((name, segment)) = detail {
            path = format!("{path}/{{{segment}}}");
            operation = operation.parameter(
                ParameterBuilder::new()
                    .name(segment)
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .description(Some(if name == p::GOODS_CODE { "상품코드 / goods code" } else { "브랜드코드 / brand code" }))
                    .schema(Some(ObjectBuilder::new().schema_type(Type::String).pattern(Some("^[A-Za-z0-9_-]{1,40}$")))),
            );
        }
        let body = parameters_schema(op);
        let mut request = RequestBodyBuilder::new().required(Some(Required::True));
        for content_type in ["application/x-www-form-urlencoded", "application/json", "multipart/form-data"] {
            request = request.content(content_type, ContentBuilder::new().schema(Some(body.clone())).build());
        }
        let answer = Schema::AnyOf(AnyOfBuilder::new().item((op.ok)()).item(reference("ErrorEnvelope")).build());
        let mut response = ResponseBuilder::new()
            .description("결과 / the envelope")
            .content("application/json;charset=UTF-8", ContentBuilder::new().schema(Some(answer)).build());
        let mut operation = operation.request_body(Some(request.build()));
        if op.code == ApiCode::GoodsList {
            // giftbiz's own, beside the live API: revalidation of a page the client holds.
            let etag = || {
                utoipa::openapi::HeaderBuilder::new()
                    .schema(Some(string("같은 카탈로그·등급·페이지는 같은 태그 / the same catalog, grade and page have the same tag")))
                    .build()
            };
            operation = operation
                .parameter(
                    ParameterBuilder::new()
                        .name("If-None-Match")
                        .parameter_in(ParameterIn::Header)
                        .required(Required::False)
                        .description(Some("이전 응답의 ETag / the ETag of a page held: 412 with no body while it is still the page"))
                        .schema(Some(string("ETag"))),
                )
                .response(
                    "412",
                    ResponseBuilder::new().description("변경 없음 / the page is unchanged (RFC 9110: a POST's answer to a matching If-None-Match)").header("ETag", etag()).build(),
                );
            response = response.header("ETag", etag());
        }
        let operation = operation.response("200", response.build());
        paths = paths.path(path, PathItem::new(HttpMethod::Post, operation.build()));
    }
    paths.build()
}
