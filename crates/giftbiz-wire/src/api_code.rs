use std::fmt;

/// The `api_code` parameter: which of the ten endpoints a request is meant for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiCode {
    /// 0101 상품 리스트
    GoodsList,
    /// 0111 상품 상세 정보
    GoodsDetail,
    /// 0102 브랜드 정보 조회
    BrandList,
    /// 0112 브랜드 상세 정보
    BrandDetail,
    /// 0201 쿠폰 상세 정보
    CouponDetail,
    /// 0202 쿠폰 취소
    Cancel,
    /// 0203 쿠폰 재전송
    Resend,
    /// 0204 쿠폰발송요청
    Send,
    /// 0301 현재 비즈머니 잔액 정보
    Bizmoney,
    /// 0205 발송실패 취소 (a later spec version)
    SendFailCancel,
}

impl ApiCode {
    pub const ALL: [ApiCode; 10] = [
        ApiCode::GoodsList,
        ApiCode::GoodsDetail,
        ApiCode::BrandList,
        ApiCode::BrandDetail,
        ApiCode::CouponDetail,
        ApiCode::Cancel,
        ApiCode::Resend,
        ApiCode::Send,
        ApiCode::Bizmoney,
        ApiCode::SendFailCancel,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ApiCode::GoodsList => "0101",
            ApiCode::GoodsDetail => "0111",
            ApiCode::BrandList => "0102",
            ApiCode::BrandDetail => "0112",
            ApiCode::CouponDetail => "0201",
            ApiCode::Cancel => "0202",
            ApiCode::Resend => "0203",
            ApiCode::Send => "0204",
            ApiCode::Bizmoney => "0301",
            ApiCode::SendFailCancel => "0205",
        }
    }

    /// The path under `/bizApi` (detail endpoints take the code as the last segment).
    pub fn path(self) -> &'static str {
        match self {
            ApiCode::GoodsList | ApiCode::GoodsDetail => "goods",
            ApiCode::BrandList | ApiCode::BrandDetail => "brands",
            ApiCode::CouponDetail => "coupons",
            ApiCode::Cancel => "cancel",
            ApiCode::Resend => "resend",
            ApiCode::Send => "send",
            ApiCode::Bizmoney => "bizmoney",
            ApiCode::SendFailCancel => "sendFail/cancel",
        }
    }

    pub fn parse(code: &str) -> Option<ApiCode> {
        ApiCode::ALL.into_iter().find(|c| c.code() == code)
    }

    /// The operation a request path under `/bizApi` names (`goods`, `goods/G123`, `send/`).
    pub fn of_path(path: &str) -> Option<ApiCode> {
        let path = path.trim_matches('/');
        match path.split_once('/') {
            Some(("goods", code)) if !code.contains('/') => Some(ApiCode::GoodsDetail),
            Some(("brands", code)) if !code.contains('/') => Some(ApiCode::BrandDetail),
            _ => ApiCode::ALL
                .into_iter()
                .find(|c| c.path() == path && !matches!(c, ApiCode::GoodsDetail | ApiCode::BrandDetail)),
        }
    }
}

impl fmt::Display for ApiCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_distinct() {
        for c in ApiCode::ALL {
            assert_eq!(ApiCode::parse(c.code()), Some(c));
        }
        assert_eq!(ApiCode::parse("0999"), None);
    }

    #[test]
    fn paths_name_their_operation() {
        for (path, code) in [
            ("/goods", Some(ApiCode::GoodsList)),
            ("/goods/G0001/", Some(ApiCode::GoodsDetail)),
            ("/brands", Some(ApiCode::BrandList)),
            ("/brands/B1", Some(ApiCode::BrandDetail)),
            ("/sendFail/cancel", Some(ApiCode::SendFailCancel)),
            ("/send/", Some(ApiCode::Send)),
            ("/bizmoney", Some(ApiCode::Bizmoney)),
            ("/goods/a/b", None),
            ("/nope", None),
        ] {
            assert_eq!(ApiCode::of_path(path), code, "{path}");
        }
    }
}
