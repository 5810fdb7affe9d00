use std::fmt;

/// Every result code of the spec's appendix 1, with its Korean message.
///
/// `code()` is what goes in the envelope's `code`, `message()` the spec's text.
macro_rules! result_codes {
    ($($variant:ident = $code:literal, $msg:literal;)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ResultCode { $($variant,)* }

        impl ResultCode {
            pub const ALL: &'static [ResultCode] = &[$(ResultCode::$variant,)*];

            pub fn code(self) -> &'static str {
                match self { $(ResultCode::$variant => $code,)* }
            }

            pub fn message(self) -> &'static str {
                match self { $(ResultCode::$variant => $msg,)* }
            }

            pub fn parse(code: &str) -> Option<ResultCode> {
                match code { $($code => Some(ResultCode::$variant),)* _ => None }
            }
        }
    };
}

result_codes! {
    Ok = "0000", "정상처리";
    // COMMON
    ApiCodeMissing = "E0002", "API 코드가 존재하지 않습니다";
    // The live service's own words (NOTES §4): clients branch on the code.
    AccountSuspended = "E0006", "invalid authorization";
    ApiCodeMismatch = "E0007", "API 코드가 일치하지 않습니다";
    InvalidAuthCode = "E0008", "유효한 인증 키가 아닙니다";
    InvalidAuthToken = "E0009", "유효한 인증 토큰이 아닙니다";
    InsufficientBizmoney = "E0010", "비즈머니 잔액이 부족합니다";
    AuthCodeMissing = "E0011", "인증키가 없습니다";
    AuthTokenMissing = "E0012", "토큰키가 없습니다";
    DevYnMissing = "E0013", "테스트 YN 값이 없습니다.";
    Unexpected = "E9999", "오류가 발생했습니다.";
    Unknown = "ERR0000", "알수 없는 에러 입니다.";
    Dbms = "ERR0005", "DBMS 에러 입니다.";
    Sql = "ERR0008", "SQL 에러 입니다.";
    DevUnavailable = "ERR0100", "현재 DEV 서비스를 이용할 수 없습니다";
    MissingParameter = "ERR0201", "필수 파라미터가 누락되었습니다.";
    OrderError = "ERR0208", "상품 주문 관련 오류";
    OrderMessageError = "ERR0209", "상품 주문 메시지 관련 오류";
    ResendTargetNotFound = "ERR0212", "MMS 재발송 대상 미조회";
    ResendTargetNotFound2 = "ERR0213", "MMS 재발송 대상 미조회";
    TrIdNotFound = "ERR0214", "TR ID 가 없습니다.";
    TrIdDuplicate = "ERR0215", "TR ID 가 중복되었습니다.";
    MmsNumberUnchangeable = "ERR0217", "MMS 번호 번호 변경 불가";
    MemberLookupFailed = "ERR0300", "회원정보 조회 실패";
    NoApiSubscription = "ERR0301", "API 가입정보 없음";
    ProductNotFound = "ERR0401", "요청한 제품이 없습니다";
    BizpointLookup = "ERR0800", "비즈포인트 조회 오류";
    BizpointDeduct = "ERR0803", "비즈포인트 차감 오류";
    BizpointAccrue = "ERR0804", "비즈포인트 적립 오류";
    CancelFailed = "ERR0805", "쿠폰취소 실패";
    TitleTooLong = "ERR0806", "제목이 20자를 초과했습니다.";
    TrIdTooLong = "ERR0807", "TR_ID 가 허용 길이를 초과했습니다.";
    AlreadyCancelled = "ERR0808", "이미 취소된 쿠폰";
    InvalidPhoneNo = "ERR0817", "수신전화번호 오류";
    SendError = "ERR0999", "쿠폰발송오류";
    Paging = "PAG0001", "페이징 관련 오류";
    Paging2 = "PAG0002", "페이징 관련 오류";
    // 쿠폰 관련
    InvalidTitle = "COUPON.0001", "유효한 제목이 아닙니다 (title)";
    InvalidMessage = "COUPON.0002", "유효한 메시지가 아닙니다. (msg)";
    TrIdLengthExceeded = "COUPON.0003", "거래 아이디(tr_id)의 허용길이를 초과하였습니다.";
    InvalidTrId = "COUPON.0004", "유효한 거래 아이디(TR_ID)가 아닙니다.";
    PhoneNoMissing = "COUPON.0005", "전화번호(phone_no)가 존재하지 않습니다.";
    NotCancellable = "COUPON.0006", "취소 불가능한 쿠폰입니다.";
    AlreadyExchanged = "COUPON.0007", "교환된 상품으로 취소가 불가능합니다.";
    CouponAlreadyCancelled = "COUPON.0008", "이미 취소된 쿠폰입니다.";
    ResendFailed = "COUPON.0009", "쿠폰 재전송에 실패하였습니다.";
    InvalidCallbackNo = "COUPON.0010", "유효한 발신번호(callback_no)가 존재하지 않습니다.";
    InvalidGoodsCode = "COUPON.0011", "유효한 상품아이디(goods_code)가 존재하지 않습니다.";
    InvalidReserveDate = "COUPON.0012", "예약일자가 올바르지 않습니다.(ex.20190831)";
    InvalidReserveTime = "COUPON.0013", "예약시간이 올바르지 않습니다.(ex.12)";
    ReserveOutOfRange = "COUPON.0014", "예약일자는 5분후 ~ 90일까지 가능합니다.";
    DuplicateTrIdCall = "COUPON.0015", "중복된 거래아이디(tr_id)로 호출하였습니다.";
}

impl ResultCode {
    pub fn is_ok(self) -> bool {
        self == ResultCode::Ok
    }
}

impl fmt::Display for ResultCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code(), self.message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_parses_back_to_itself() {
        for &c in ResultCode::ALL {
            assert_eq!(ResultCode::parse(c.code()), Some(c), "{c}");
        }
        let mut codes: Vec<_> = ResultCode::ALL.iter().map(|c| c.code()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), ResultCode::ALL.len(), "codes are distinct");
    }
}
