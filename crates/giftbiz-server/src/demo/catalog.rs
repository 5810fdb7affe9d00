//! The demo catalog: Korean brands across the live service's ten display categories, each with
//! goods that fit it, priced and described the way the live catalog is.
//!
//! [`demo_catalog`] is deterministic: the same `goods_count` gives the same catalog on every
//! call and every machine. Its first goods are the hand-written base items of every brand (about
//! 300); past them it repeats the base items as variants (sizes, sets, seasons) with fresh codes
//! and numbers, so a benchmark can ask for 50,000 goods and still get unique codes. Every image
//! field is `None`: the platform renders the pictures (see `crate::images`).

use giftbiz_core::catalog::{Brand, BrandImages, Goods, GoodsImages, GoodsState, Validity};
use giftbiz_core::{BrandCode, GoodsCode, GradePrices, Won};

/// Goods in the default demo catalog.
pub const DEMO_GOODS: usize = 320;

/// The live service's display categories (`category1Seq`, `category1Name`).
pub const CATEGORIES: [(i64, &str); 10] = [
    (1, "커피/음료"),
    (2, "베이커리/도넛/떡"),
    (3, "아이스크림/빙수"),
    (4, "편의점/마트"),
    (5, "피자/버거/치킨"),
    (6, "외식/레스토랑"),
    (7, "상품권/금액권"),
    (8, "뷰티/헤어/바디"),
    (9, "영화/음악/도서"),
    (10, "기타"),
];

/// What a goods is; picks its type names, text, validity, discount table and variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A drink at a café.
    Drink,
    /// A dessert, bread or a drink-and-dessert set.
    Dessert,
    /// A whole cake or a gift box.
    Cake,
    /// A convenience-store product.
    Conv,
    /// Chicken, pizza, burger sets, restaurant meals.
    Meal,
    /// A brand's own money card (금액권).
    Cash,
    /// A gift certificate usable at many shops (상품권).
    Voucher,
    /// A movie ticket, a streaming pass.
    Ticket,
    /// Cosmetics, body care, hair services.
    Beauty,
}

use Kind::*;

struct BrandSpec {
    name: &'static str,
    category: i64,
    /// `goodsTypeDtlNm` of the brand's goods.
    dtl: &'static str,
    /// `affiliateId` (the exchange partner's short id).
    aff_id: &'static str,
    /// `affiliate` (the exchange partner's name).
    affiliate: &'static str,
    keywords: &'static str,
    items: &'static [(&'static str, i64, Kind)],
}

const fn b(
    name: &'static str,
    category: i64,
    dtl: &'static str,
    aff_id: &'static str,
    affiliate: &'static str,
    keywords: &'static str,
    items: &'static [(&'static str, i64, Kind)],
) -> BrandSpec {
    BrandSpec {
        name,
        category,
        dtl,
        aff_id,
        affiliate,
        keywords,
        items,
    }
}

#[rustfmt::skip]
static BRANDS: &[BrandSpec] = &[
    // 1 커피/음료
    b("스타벅스", 1, "커피", "STARB", "스타벅스", "커피, 카페, 아메리카노, 라떼", &[
        ("카페 아메리카노 T", 4700, Drink),
        ("카페 라떼 T", 5200, Drink),
        ("자바 칩 프라푸치노 T", 6300, Drink),
        ("스타벅스 돌체 라떼 T", 5900, Drink),
        ("자몽 허니 블랙 티 T", 5700, Drink),
        ("아이스 카페 아메리카노 T 2잔 + 부드러운 생크림 카스텔라", 13800, Dessert),
        ("부드러운 디저트 세트", 11300, Dessert),
        ("e카드 3만원 교환권", 30000, Cash),
        ("e카드 5만원 교환권", 50000, Cash),
        ("아이스 자몽 허니 블랙 티 T + 클래식 스콘", 10300, Dessert),
        ("블론드 바닐라 더블 샷 마키아또 T", 6100, Drink),
        ("생크림 카스텔라 + 카페 라떼 T", 9800, Dessert),
    ]),
    b("투썸플레이스", 1, "커피", "TWOSM", "투썸플레이스", "커피, 케이크, 디저트, 카페", &[
        ("아메리카노 R", 4500, Drink),
        ("카페라떼 R", 5000, Drink),
        ("스트로베리 초콜릿 생크림 조각", 6900, Dessert),
        ("떠먹는 스트로베리 초콜릿 생크림", 7500, Dessert),
        ("아메리카노 R 2잔 + 티라미수 조각", 16400, Dessert),
        ("스트로베리 초콜릿 생크림 1호", 35000, Cake),
        ("로얄 치즈케이크 1호", 33000, Cake),
        ("투썸 기프트카드 3만원권", 30000, Cash),
        ("바닐라 라떼 R", 5500, Drink),
        ("아이스박스 조각", 6900, Dessert),
        ("투썸 기프트카드 5만원권", 50000, Cash),
    ]),
    b("이디야커피", 1, "커피", "EDIYA", "이디야커피", "커피, 아메리카노, 라떼, 이디야", &[
        ("카페 아메리카노 L", 4200, Drink),
        ("카페라떼 L", 4700, Drink),
        ("토피넛 라떼 L", 4900, Drink),
        ("딸기 요거트 플랫치노", 5800, Drink),
        ("카페 아메리카노 L 2잔 + 허니브레드", 13600, Dessert),
        ("이디야 모바일 금액권 2만원", 20000, Cash),
        ("바닐라 라떼 L", 5200, Drink),
        ("콜드브루 아메리카노 L", 4500, Drink),
        ("이디야 모바일 금액권 1만원", 10000, Cash),
    ]),
    b("메가MGC커피", 1, "커피", "MEGA", "메가MGC커피", "커피, 저가커피, 아메리카노, 메가커피", &[
        ("메가리카노 (ICE)", 3000, Drink),
        ("(ICE)아메리카노 2잔", 4000, Drink),
        ("카페라떼 (ICE)", 3400, Drink),
        ("퐁크러쉬 (플레인)", 4400, Drink),
        ("딸기 스무디", 4400, Drink),
        ("아메리카노 2잔 + 크로플", 7500, Dessert),
        ("큐브라떼", 4200, Drink),
        ("메가 모바일 금액권 1만원", 10000, Cash),
    ]),
    b("빽다방", 1, "커피", "PAIKS", "빽다방", "커피, 저가커피, 빽스치노, 음료", &[
        ("앗!메리카노 (ICED)", 2000, Drink),
        ("원조커피 (ICED)", 3000, Drink),
        ("빽스치노", 4000, Drink),
        ("사라다빵 + 앗!메리카노 세트", 5500, Dessert),
        ("아메리카노 (ICED) 4잔 세트", 8000, Drink),
        ("완전초코 (ICED)", 3500, Drink),
        ("빽다방 모바일 금액권 1만원", 10000, Cash),
    ]),
    b("할리스", 1, "커피", "HOLLY", "할리스", "커피, 카페, 할리치노, 라떼", &[
        ("아메리카노 R", 4500, Drink),
        ("바닐라 딜라이트 R", 5600, Drink),
        ("할리치노 R", 5900, Drink),
        ("아메리카노 R 2잔 + 뉴욕 치즈케이크", 15800, Dessert),
        ("할리스 모바일 금액권 3만원", 30000, Cash),
        ("딸기 라떼 R", 5900, Drink),
        ("고구마 라떼 R", 5500, Drink),
    ]),
    b("폴바셋", 1, "커피", "PAULB", "폴바셋", "커피, 룽고, 아이스크림, 라떼", &[
        ("룽고", 5100, Drink),
        ("카페 라떼", 6000, Drink),
        ("아이스크림 라떼", 6800, Drink),
        ("상하목장 아이스크림 (컵)", 4800, Dessert),
        ("폴바셋 모바일 금액권 5만원", 50000, Cash),
        ("바닐라 빈 라떼", 6800, Drink),
        ("아이스크림 라떼 + 룽고", 11900, Drink),
    ]),
    b("커피빈", 1, "커피", "BEAN", "커피빈앤티리프", "커피, 카페, 바닐라라떼, 블렌디드", &[
        ("아메리카노 R", 5000, Drink),
        ("카페라떼 R", 5800, Drink),
        ("바닐라 라떼 R", 6300, Drink),
        ("퓨어 바닐라 아이스 블렌디드 R", 6800, Drink),
        ("커피빈 모바일 금액권 3만원", 30000, Cash),
        ("카페 모카 R", 6300, Drink),
        ("아메리카노 R 2잔 + 초콜릿 케이크", 17300, Dessert),
    ]),
    b("공차", 1, "음료", "GONGC", "공차코리아", "버블티, 밀크티, 펄, 음료", &[
        ("블랙 밀크티 + 펄 L", 5000, Drink),
        ("타로 밀크티 + 펄 L", 5300, Drink),
        ("브라운슈가 치즈폼 밀크티 L", 5900, Drink),
        ("망고 요구르트 스무디 L", 5800, Drink),
        ("공차 모바일 금액권 2만원", 20000, Cash),
        ("제주 그린티 밀크티 + 펄 L", 5600, Drink),
        ("딸기 쿠키 스무디 L", 6200, Drink),
    ]),
    // 2 베이커리/도넛/떡
    b("파리바게뜨", 2, "베이커리", "PARIS", "파리바게뜨", "케이크, 빵, 베이커리, 생일", &[
        ("딸기 생크림 케이크 (1호)", 32000, Cake),
        ("초코 생크림 케이크", 29000, Cake),
        ("블루베리 요거트 생크림 케이크", 33000, Cake),
        ("고구마 케이크", 30000, Cake),
        ("소금빵 2개 + 아메리카노", 9300, Dessert),
        ("파리바게뜨 모바일 금액권 1만원", 10000, Cash),
        ("파리바게뜨 모바일 금액권 3만원", 30000, Cash),
        ("마이 넘버원 케이크", 27000, Cake),
        ("모카 롤케이크", 16000, Cake),
        ("파리바게뜨 모바일 금액권 5만원", 50000, Cash),
    ]),
    b("뚜레쥬르", 2, "베이커리", "TOUS", "뚜레쥬르", "케이크, 빵, 베이커리, 생일", &[
        ("생크림 케이크 (1호)", 28000, Cake),
        ("초콜릿 생크림 케이크", 30000, Cake),
        ("치즈 케이크", 27000, Cake),
        ("단팥빵 + 흰우유 세트", 4600, Dessert),
        ("뚜레쥬르 모바일 금액권 2만원", 20000, Cash),
        ("순우유 롤케이크", 15000, Cake),
        ("소보로빵 + 아메리카노", 6300, Dessert),
        ("뚜레쥬르 모바일 금액권 1만원", 10000, Cash),
    ]),
    b("던킨", 2, "도넛", "DUNKN", "던킨", "도넛, 먼치킨, 커피, 디저트", &[
        ("도넛 6개 팩", 9600, Dessert),
        ("도넛 12개 팩", 18000, Cake),
        ("먼치킨 20개", 6900, Dessert),
        ("도넛 2개 + 아메리카노 M", 7300, Dessert),
        ("던킨 모바일 금액권 1만원", 10000, Cash),
        ("글레이즈드 도넛 + 아메리카노 L", 6600, Dessert),
        ("던킨 모바일 금액권 2만원", 20000, Cash),
    ]),
    b("크리스피크림도넛", 2, "도넛", "KRISP", "크리스피크림도넛", "도넛, 글레이즈드, 디저트", &[
        ("오리지널 글레이즈드 하프더즌", 11400, Dessert),
        ("오리지널 글레이즈드 더즌", 18900, Cake),
        ("스페셜 더즌", 23000, Cake),
        ("도넛 2개 + 아메리카노 R", 8000, Dessert),
        ("크리스피크림 모바일 금액권 2만원", 20000, Cash),
    ]),
    b("빚은", 2, "떡", "BITEN", "빚은", "떡, 떡케이크, 선물, 명절", &[
        ("오색 송편 선물세트", 25000, Cake),
        ("꿀설기 떡케이크", 32000, Cake),
        ("찹쌀떡 10입 세트", 15000, Dessert),
        ("약과 선물세트", 30000, Cake),
        ("모둠 인절미 세트", 18000, Dessert),
        ("빚은 모바일 금액권 3만원", 30000, Cash),
    ]),
    // 3 아이스크림/빙수
    b("배스킨라빈스", 3, "아이스크림", "BR31", "배스킨라빈스", "아이스크림, 베라, 파인트, 케이크", &[
        ("싱글레귤러", 3900, Dessert),
        ("더블주니어", 5900, Dessert),
        ("파인트 아이스크림", 9800, Dessert),
        ("쿼터 아이스크림", 18500, Cake),
        ("패밀리 아이스크림", 26000, Cake),
        ("하프갤론 아이스크림", 31500, Cake),
        ("아이스크림 케이크 (쿼터 사이즈)", 28000, Cake),
        ("배스킨라빈스 모바일 금액권 2만원", 20000, Cash),
        ("싱글킹", 4700, Dessert),
        ("배스킨라빈스 모바일 금액권 3만원", 30000, Cash),
    ]),
    b("설빙", 3, "빙수", "SULBN", "설빙", "빙수, 인절미, 디저트, 여름", &[
        ("인절미설빙", 9900, Dessert),
        ("애플망고치즈설빙", 15900, Dessert),
        ("생딸기설빙", 13900, Dessert),
        ("초코브라우니설빙", 11900, Dessert),
        ("인절미 토스트", 6900, Dessert),
        ("메론설빙", 16900, Dessert),
        ("설빙 모바일 금액권 2만원", 20000, Cash),
    ]),
    b("나뚜루", 3, "아이스크림", "NATUR", "나뚜루", "아이스크림, 녹차, 파인트", &[
        ("싱글컵", 3500, Dessert),
        ("녹차 파인트", 9500, Dessert),
        ("쿼터 (4가지 맛)", 18000, Cake),
        ("나뚜루 모바일 금액권 1만원", 10000, Cash),
    ]),
    // 4 편의점/마트
    b("GS25", 4, "편의점", "GS25", "GS25", "편의점, 음료, 간식, 지에스", &[
        ("빙그레)바나나맛우유 240ml", 1700, Conv),
        ("광동)비타500 100ml 병", 1200, Conv),
        ("롯데)빼빼로 아몬드 37g", 1700, Conv),
        ("코카)코카콜라 500ml", 2400, Conv),
        ("오리온)초코파이 정 2입", 1200, Conv),
        ("GS25 모바일 상품권 5천원", 5000, Cash),
        ("GS25 모바일 상품권 1만원", 10000, Cash),
        ("농심)새우깡 90g", 1700, Conv),
        ("롯데)펩시콜라 제로 500ml", 2200, Conv),
        ("GS25 모바일 상품권 3만원", 30000, Cash),
    ]),
    b("CU", 4, "편의점", "CU", "CU", "편의점, 음료, 간식, 씨유", &[
        ("빙그레)바나나맛우유 240ml", 1700, Conv),
        ("농심)신라면 컵 65g", 1350, Conv),
        ("해태)홈런볼 46g", 1700, Conv),
        ("매일)바리스타룰스 에스프레소라떼 325ml", 2900, Conv),
        ("CU 모바일 상품권 1만원권", 10000, Cash),
        ("CU 모바일 상품권 3만원권", 30000, Cash),
        ("오리온)포카칩 오리지널 66g", 1900, Conv),
        ("롯데)칠성사이다 500ml", 2200, Conv),
        ("CU 모바일 상품권 5천원권", 5000, Cash),
    ]),
    b("세븐일레븐", 4, "편의점", "ELEVN", "세븐일레븐/바이더웨이", "편의점, 음료, 간식, 세븐일레븐", &[
        ("광동)비타500 100ml 병", 800, Conv),
        ("롯데)칸타타 아메리카노 275ml", 2100, Conv),
        ("동아)박카스F 120ml", 1000, Conv),
        ("롯데)월드콘 바닐라", 1800, Conv),
        ("세븐일레븐 모바일 금액권 5천원", 5000, Cash),
        ("세븐일레븐 모바일 금액권 1만원", 10000, Cash),
        ("빙그레)메로나", 1000, Conv),
        ("코카)파워에이드 600ml", 2300, Conv),
        ("세븐일레븐 모바일 금액권 3만원", 30000, Cash),
    ]),
    b("이마트24", 4, "편의점", "EMT24", "이마트24", "편의점, 음료, 간식, 이마트", &[
        ("서울우유 흰우유 200ml", 1300, Conv),
        ("CJ)햇반 210g", 2200, Conv),
        ("해태)허니버터칩 60g", 1900, Conv),
        ("이마트24 모바일 금액권 1만원", 10000, Cash),
        ("남양)프렌치카페 카페믹스 컵", 2000, Conv),
        ("농심)육개장 사발면 86g", 1300, Conv),
        ("이마트24 모바일 금액권 5천원", 5000, Cash),
    ]),
    // 5 피자/버거/치킨
    b("BHC", 5, "치킨", "BHC", "BHC", "치킨, 뿌링클, 배달, 야식", &[
        ("뿌링클 + 콜라 1.25L", 23000, Meal),
        ("후라이드치킨 + 콜라 1.25L", 21000, Meal),
        ("맛초킹 + 콜라 1.25L", 23000, Meal),
        ("골드킹 콤보 + 콜라 1.25L", 24000, Meal),
        ("뿌링클 콤보 + 뿌링치즈볼 + 콜라 1.25L", 31000, Meal),
        ("후라이드 반 + 양념 반 + 콜라 1.25L", 22000, Meal),
        ("BHC 모바일 금액권 3만원", 30000, Cash),
    ]),
    b("BBQ", 5, "치킨", "BBQ", "BBQ", "치킨, 황금올리브, 배달, 야식", &[
        ("황금올리브치킨 + 콜라 1.25L", 23000, Meal),
        ("황금올리브치킨 반반 + 콜라 1.25L", 24000, Meal),
        ("자메이카 통다리구이 + 콜라 1.25L", 25000, Meal),
        ("황금올리브 닭다리 + 콜라 1.25L", 25500, Meal),
        ("BBQ 양념치킨 + 콜라 1.25L", 24500, Meal),
        ("BBQ 모바일 금액권 2만원", 20000, Cash),
    ]),
    b("교촌치킨", 5, "치킨", "KYOCH", "교촌치킨", "치킨, 허니콤보, 배달, 야식", &[
        ("교촌오리지날 + 콜라 1.25L", 21000, Meal),
        ("허니콤보 + 콜라 1.25L", 25000, Meal),
        ("레드콤보 + 콜라 1.25L", 25000, Meal),
        ("반반콤보 + 콜라 1.25L", 25000, Meal),
        ("교촌 살살치킨 + 콜라 1.25L", 20000, Meal),
        ("교촌 모바일 금액권 3만원", 30000, Cash),
    ]),
    b("도미노피자", 5, "피자", "DOMIN", "도미노피자", "피자, 배달, 포테이토, 파티", &[
        ("포테이토 (L) + 콜라 1.25L", 29900, Meal),
        ("슈퍼디럭스 (L) + 콜라 1.25L", 31900, Meal),
        ("블랙타이거 슈림프 (L) + 콜라 1.25L", 37900, Meal),
        ("페퍼로니 (L) + 콜라 1.25L", 26900, Meal),
        ("치즈 (L) + 콜라 1.25L", 25900, Meal),
        ("도미노피자 모바일 금액권 3만원", 30000, Cash),
    ]),
    b("피자헛", 5, "피자", "PIZZH", "피자헛", "피자, 배달, 슈프림, 파티", &[
        ("슈퍼슈프림 (L) + 콜라 1.25L", 32900, Meal),
        ("페퍼로니 (L) + 콜라 1.25L", 25900, Meal),
        ("치즈킹 (L) + 콜라 1.25L", 30900, Meal),
        ("불고기 (L) + 콜라 1.25L", 29900, Meal),
        ("피자헛 모바일 금액권 3만원", 30000, Cash),
    ]),
    b("맥도날드", 5, "버거", "MCDON", "맥도날드", "햄버거, 빅맥, 세트, 패스트푸드", &[
        ("빅맥 세트", 7200, Meal),
        ("맥스파이시 상하이 버거 세트", 7200, Meal),
        ("1955 버거 세트", 8300, Meal),
        ("맥너겟 10조각", 6300, Meal),
        ("아이스크림콘", 1000, Dessert),
        ("빅맥 세트 2개", 14400, Meal),
        ("맥모닝 세트 (에그 맥머핀)", 4900, Meal),
        ("맥도날드 모바일 금액권 1만원", 10000, Cash),
    ]),
    b("버거킹", 5, "버거", "BKING", "버거킹", "햄버거, 와퍼, 세트, 패스트푸드", &[
        ("와퍼 세트", 9100, Meal),
        ("콰트로치즈와퍼 세트", 9900, Meal),
        ("불고기와퍼 세트", 9100, Meal),
        ("통새우와퍼 세트", 9500, Meal),
        ("와퍼주니어 세트", 6900, Meal),
        ("치킨킹 4조각", 9800, Meal),
        ("버거킹 모바일 금액권 1만원", 10000, Cash),
    ]),
    b("롯데리아", 5, "버거", "LOTTR", "롯데리아", "햄버거, 불고기버거, 세트, 패스트푸드", &[
        ("불고기버거 세트", 7400, Meal),
        ("새우버거 세트", 7400, Meal),
        ("한우불고기버거 세트", 10900, Meal),
        ("양념감자", 2700, Dessert),
        ("데리버거 세트", 5900, Meal),
        ("롯데리아 모바일 금액권 1만원", 10000, Cash),
    ]),
    // 6 외식/레스토랑
    b("아웃백", 6, "외식", "OUTBK", "아웃백스테이크하우스", "스테이크, 레스토랑, 외식, 기념일", &[
        ("투움바 파스타", 24900, Meal),
        ("갈릭 립아이 2인 세트", 89000, Meal),
        ("아웃백 모바일 금액권 5만원", 50000, Cash),
        ("아웃백 모바일 금액권 10만원", 100000, Cash),
        ("오지 치즈 후라이즈", 18900, Meal),
        ("블랙라벨 셀렉션 1인 세트", 52000, Meal),
    ]),
    b("VIPS", 6, "외식", "VIPS", "빕스", "샐러드바, 스테이크, 레스토랑, 외식", &[
        ("샐러드바 평일 런치 1인", 29900, Meal),
        ("샐러드바 디너/주말 1인", 37900, Meal),
        ("빕스 모바일 금액권 5만원", 50000, Cash),
        ("샐러드바 평일 런치 2인", 59800, Meal),
        ("빕스 모바일 금액권 10만원", 100000, Cash),
    ]),
    b("애슐리퀸즈", 6, "외식", "ASHLY", "애슐리퀸즈", "뷔페, 샐러드바, 외식, 가족", &[
        ("평일 런치 1인", 19900, Meal),
        ("디너/주말 1인", 26900, Meal),
        ("애슐리퀸즈 모바일 금액권 3만원", 30000, Cash),
        ("평일 런치 2인", 39800, Meal),
        ("애슐리퀸즈 모바일 금액권 5만원", 50000, Cash),
    ]),
    // 7 상품권/금액권
    b("신세계상품권", 7, "상품권", "SSGGC", "신세계백화점/이마트", "상품권, 백화점, 이마트, 선물", &[
        ("신세계 모바일 상품권 1만원", 10000, Voucher),
        ("신세계 모바일 상품권 3만원", 30000, Voucher),
        ("신세계 모바일 상품권 5만원", 50000, Voucher),
        ("신세계 모바일 상품권 10만원", 100000, Voucher),
        ("신세계 모바일 상품권 5천원", 5000, Voucher),
    ]),
    b("컬쳐랜드", 7, "상품권", "CULTR", "컬쳐랜드", "문화상품권, 게임, 도서, 온라인", &[
        ("컬쳐랜드 모바일 문화상품권 1만원", 10000, Voucher),
        ("컬쳐랜드 모바일 문화상품권 3만원", 30000, Voucher),
        ("컬쳐랜드 모바일 문화상품권 5만원", 50000, Voucher),
        ("컬쳐랜드 모바일 문화상품권 5천원", 5000, Voucher),
        ("컬쳐랜드 모바일 문화상품권 10만원", 100000, Voucher),
    ]),
    b("해피머니", 7, "상품권", "HAPPY", "해피머니", "상품권, 온라인, 게임, 도서", &[
        ("해피머니 온라인상품권 1만원", 10000, Voucher),
        ("해피머니 온라인상품권 3만원", 30000, Voucher),
        ("해피머니 온라인상품권 5만원", 50000, Voucher),
        ("해피머니 온라인상품권 10만원", 100000, Voucher),
    ]),
    b("현대백화점상품권", 7, "상품권", "HDGC", "현대백화점", "상품권, 백화점, 선물", &[
        ("현대백화점 모바일 상품권 5만원", 50000, Voucher),
        ("현대백화점 모바일 상품권 10만원", 100000, Voucher),
        ("현대백화점 모바일 상품권 3만원", 30000, Voucher),
    ]),
    // 8 뷰티/헤어/바디
    b("올리브영", 8, "뷰티", "OLIVE", "올리브영", "화장품, 뷰티, 드럭스토어, 선물", &[
        ("올리브영 모바일 기프트카드 1만원", 10000, Cash),
        ("올리브영 모바일 기프트카드 3만원", 30000, Cash),
        ("올리브영 모바일 기프트카드 5만원", 50000, Cash),
        ("핸드크림 3종 기획세트", 15000, Beauty),
        ("올리브영 모바일 기프트카드 10만원", 100000, Cash),
        ("립밤 2종 기획세트", 12000, Beauty),
    ]),
    b("이니스프리", 8, "뷰티", "INNIS", "이니스프리", "화장품, 스킨케어, 그린티, 세럼", &[
        ("그린티 씨드 히알루론산 세럼 80ml", 34000, Beauty),
        ("노세범 미네랄 파우더 5g", 9000, Beauty),
        ("이니스프리 모바일 금액권 2만원", 20000, Cash),
        ("그린티 밸런싱 스킨 200ml", 19000, Beauty),
        ("비자 시카 밤 50ml", 24000, Beauty),
    ]),
    b("더바디샵", 8, "바디", "TBS", "더바디샵", "바디, 향수, 핸드크림, 선물", &[
        ("화이트 머스크 오 드 뚜왈렛 30ml", 39000, Beauty),
        ("시어 바디 버터 200ml", 29000, Beauty),
        ("시어 핸드크림 30ml", 9000, Beauty),
        ("화이트 머스크 바디 미스트 100ml", 25000, Beauty),
        ("더바디샵 모바일 금액권 3만원", 30000, Cash),
    ]),
    b("박승철헤어스투디오", 8, "헤어", "PARKS", "박승철헤어스투디오", "헤어, 미용실, 커트, 펌", &[
        ("디자이너 커트", 25000, Beauty),
        ("헤어 클리닉", 50000, Beauty),
        ("박승철헤어스투디오 모바일 금액권 5만원", 50000, Cash),
        ("디자이너 펌", 90000, Beauty),
        ("박승철헤어스투디오 모바일 금액권 3만원", 30000, Cash),
    ]),
    // 9 영화/음악/도서
    b("CGV", 9, "영화", "CGV", "CGV", "영화, 관람권, 팝콘, 데이트", &[
        ("CGV 2D 일반관람권 (1인)", 15000, Ticket),
        ("CGV 2D 일반관람권 2인 + 콤보", 38000, Ticket),
        ("CGV 콤보 (팝콘 L + 탄산음료 M 2)", 11000, Dessert),
        ("CGV IMAX 관람권 (1인)", 19000, Ticket),
        ("CGV 4DX 관람권 (1인)", 22000, Ticket),
        ("CGV 기프트카드 3만원", 30000, Cash),
    ]),
    b("롯데시네마", 9, "영화", "LTCIN", "롯데시네마", "영화, 관람권, 팝콘, 데이트", &[
        ("롯데시네마 2D 일반관람권 (1인)", 15000, Ticket),
        ("롯데시네마 스위트콤보", 11500, Dessert),
        ("롯데시네마 2D 관람권 2인", 30000, Ticket),
        ("롯데시네마 기프트카드 3만원", 30000, Cash),
        ("롯데시네마 팝콘 (L)", 6500, Dessert),
    ]),
    b("메가박스", 9, "영화", "MBOX", "메가박스", "영화, 관람권, 팝콘, 데이트", &[
        ("메가박스 2D 일반관람권 (1인)", 15000, Ticket),
        ("메가박스 러브콤보", 11500, Dessert),
        ("메가박스 2D 관람권 2인", 30000, Ticket),
        ("메가박스 돌비시네마 관람권 (1인)", 20000, Ticket),
    ]),
    b("교보문고", 9, "도서", "KYOBO", "교보문고", "도서, 책, 서점, 기프트카드", &[
        ("교보문고 기프트카드 1만원", 10000, Cash),
        ("교보문고 기프트카드 3만원", 30000, Cash),
        ("교보문고 기프트카드 5만원", 50000, Cash),
        ("교보문고 기프트카드 10만원", 100000, Cash),
        ("교보문고 핫트랙스 금액권 1만원", 10000, Cash),
    ]),
    b("YES24", 9, "도서", "YES24", "YES24", "도서, 책, 온라인서점, 상품권", &[
        ("YES24 모바일 상품권 1만원", 10000, Cash),
        ("YES24 모바일 상품권 3만원", 30000, Cash),
        ("YES24 모바일 상품권 5만원", 50000, Cash),
        ("YES24 전자책 대여권 1만원", 10000, Ticket),
    ]),
    b("멜론", 9, "음악", "MELON", "멜론", "음악, 스트리밍, 이용권", &[
        ("멜론 스트리밍 클럽 30일 이용권", 10900, Ticket),
        ("멜론 MP3 30곡 + 스트리밍 30일 이용권", 16500, Ticket),
        ("멜론 스트리밍 클럽 90일 이용권", 32700, Ticket),
    ]),
    // 10 기타
    b("다이소", 10, "생활", "DAISO", "다이소", "생활용품, 다이소, 금액권", &[
        ("다이소 모바일 금액권 5천원", 5000, Cash),
        ("다이소 모바일 금액권 1만원", 10000, Cash),
        ("다이소 모바일 금액권 3만원", 30000, Cash),
        ("다이소 모바일 금액권 5만원", 50000, Cash),
    ]),
    b("GS칼텍스", 10, "주유", "GSCAL", "GS칼텍스", "주유권, 주유소, 자동차", &[
        ("GS칼텍스 모바일 주유권 3만원", 30000, Cash),
        ("GS칼텍스 모바일 주유권 5만원", 50000, Cash),
        ("GS칼텍스 모바일 주유권 1만원", 10000, Cash),
        ("GS칼텍스 모바일 주유권 10만원", 100000, Cash),
        ("GS칼텍스 자동세차권", 7000, Conv),
    ]),
];

/// A variant's name suffix and its price change in percent.
fn variants(kind: Kind) -> &'static [(&'static str, i64)] {
    match kind {
        Drink => &[
            ("(ICED)", 0),
            ("(HOT)", 0),
            ("사이즈업", 12),
            ("2잔", 100),
            ("+ 쿠키", 45),
            ("3잔", 200),
        ],
        Dessert => &[
            ("2개", 100),
            ("+ 아메리카노", 60),
            ("선물 포장", 8),
            ("미니", -30),
            ("패밀리 세트", 150),
        ],
        Cake => &[
            ("(2호)", 20),
            ("(3호)", 40),
            ("+ 아메리카노 2잔", 30),
            ("미니", -35),
            ("선물 포장", 5),
        ],
        Conv => &[
            ("2개", 100),
            ("3개 묶음", 190),
            ("기획", 15),
            ("6입 박스", 480),
        ],
        Meal => &[
            ("+ 치즈볼", 18),
            ("라지 세트", 12),
            ("2인 세트", 90),
            ("+ 사이드", 14),
            ("반반", 4),
        ],
        Cash | Voucher => &[
            ("(모바일)", 0),
            ("(교환권)", 0),
            ("선물용", 0),
            ("B2B 전용", 0),
        ],
        Ticket => &[("(주중)", -10), ("(주말)", 0), ("2인", 100), ("+ 콤보", 70)],
        Beauty => &[
            ("기획세트", 25),
            ("미니", -40),
            ("듀오", 80),
            ("선물 포장", 5),
        ],
    }
}

/// SplitMix64: a tiny deterministic mixer for "random-looking" but stable choices.
fn mix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn category_name(seq: i64) -> &'static str {
    CATEGORIES
        .iter()
        .find(|(s, _)| *s == seq)
        .map_or("기타", |(_, n)| n)
}

/// The demo brands, in brand-code order.
pub fn demo_brands() -> Vec<Brand> {
    let mut sort_in_category = [0i64; 11];
    BRANDS
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            let cat = spec.category as usize;
            sort_in_category[cat] += 1;
            let cat_name = category_name(spec.category);
            Brand {
                brand_code: brand_code(i),
                brand_seq: 512 + i as i64 * 7 + (mix64(i as u64) % 7) as i64,
                brand_name: spec.name.to_owned(),
                content: format!(
                    "전국 {} 매장에서 사용할 수 있는 {} 모바일 교환권입니다.",
                    spec.affiliate, spec.dtl
                ),
                category1_name: cat_name.to_owned(),
                category1_seq: spec.category,
                // The live service sends 0 and a category name here; keep the name consistent.
                category2_name: cat_name.to_owned(),
                category2_seq: 0,
                sort: sort_in_category[cat],
                images: BrandImages::default(),
            }
        })
        .collect()
}

fn brand_code(index: usize) -> BrandCode {
    BrandCode::parse(&format!("BR{:05}", index + 1)).expect("BR and digits are a brand code")
}

/// The demo catalog with `goods_count` goods. Deterministic.
pub fn demo_catalog(goods_count: usize) -> (Vec<Brand>, Vec<Goods>) {
    let brands = demo_brands();
    // Every base item, brand by brand.
    let base: Vec<(usize, usize)> = BRANDS
        .iter()
        .enumerate()
        .flat_map(|(bi, spec)| (0..spec.items.len()).map(move |ii| (bi, ii)))
        .collect();
    let mut per_brand_rank = vec![0i64; BRANDS.len()];
    let mut goods = Vec::with_capacity(goods_count);
    let mut goods_no: i64 = 21_000;
    for i in 0..goods_count {
        let (bi, ii) = base[i % base.len()];
        let round = i / base.len();
        let spec = &BRANDS[bi];
        let brand = &brands[bi];
        let (item_name, base_price, kind) = spec.items[ii];
        let h = mix64(i as u64 ^ 0x6769_6674_6269_7a00);

        let (goods_name, sale_price) = if round == 0 {
            (item_name.to_owned(), base_price)
        } else {
            let table = variants(kind);
            let (suffix, pct) = table[(round - 1) % table.len()];
            let season = (round - 1) / table.len();
            let name = if season == 0 {
                format!("{item_name} {suffix}")
            } else {
                format!("{item_name} {suffix} 시즌{}", season + 1)
            };
            let price = (base_price * (100 + pct) / 100 + 50) / 100 * 100;
            (name, price.max(500))
        };

        // Codes and numbers increase with small gaps, like the live catalog's.
        goods_no += 1 + (h % 3) as i64;
        let goods_code = GoodsCode::parse(&format!("G{:011}", 280_000 + i as u64 * 11 + (h >> 8) % 11))
            .expect("G and digits are a goods code");

        per_brand_rank[bi] += 1;
        let voucher = matches!(kind, Cash | Voucher);
        let goods_type_nm = match kind {
            Voucher => "상품권",
            Cash => "금액권",
            _ => "일반상품(물품교환형)",
        };
        // The live service's category name, as real clients filter on (NOTES §6: `커피/음료`).
        let goods_type_dtl_nm = category_name(spec.category);
        let state = if h % 20 == 7 {
            GoodsState::Suspended
        } else {
            GoodsState::Sale
        };

        goods.push(Goods {
            goods_code,
            goods_no,
            goods_name: goods_name.clone(),
            brand_code: brand.brand_code.clone(),
            brand_name: spec.name.to_owned(),
            content: content(kind, spec, &goods_name, sale_price),
            content_add_desc: String::new(),
            goods_type_cd: "GNR".to_owned(),
            goods_type_nm: goods_type_nm.to_owned(),
            goods_type_dtl_nm: goods_type_dtl_nm.to_owned(),
            category1_seq: spec.category,
            category_name1: brand.category1_name.clone(),
            images: GoodsImages::default(),
            sale_price: Won::new(sale_price),
            real_price: Won::new(sale_price),
            prices: GradePrices::standard(Won::new(sale_price), voucher),
            validity: validity(kind, h >> 16),
            srch_keyword: format!("{goods_name}, {}, {}", spec.keywords, spec.name),
            end_date: "2999-12-30T15:00:00.000+0000".to_owned(),
            goods_com_id: format!("S{:09}", 2_700 + bi as u64 * 5),
            goods_com_name: spec.name.to_owned(),
            affiliate_id: spec.aff_id.to_owned(),
            affiliate: spec.affiliate.to_owned(),
            exh_gender_cd: "ALL".to_owned(),
            exh_age_cd: "ALL".to_owned(),
            mms_reserve_flag: "Y".to_owned(),
            state,
            mms_barcd_create_yn: "Y".to_owned(),
            rm_cnt_flag: "N".to_owned(),
            sale_date_flag_cd: "PERIOD_SALE".to_owned(),
            sale_date_flag: "N".to_owned(),
            rm_id_buy_cnt_flag_cd: "N".to_owned(),
            md_code: format!("M{:09}", 100_600 + bi as u64 * 15),
            popular: per_brand_rank[bi],
        });
    }
    (brands, goods)
}

const UNTIL_DATES: [&str; 4] = ["20271231", "20281231", "20280630", "20291231"];

fn validity(kind: Kind, h: u64) -> Validity {
    let until = || Validity::Until {
        date: UNTIL_DATES[(h / 20 % 4) as usize].to_owned(),
    };
    match kind {
        Voucher => match h % 4 {
            0 => until(),
            _ => Validity::Days { days: 365 },
        },
        Cash => match h % 10 {
            0 | 1 => until(),
            2..=5 => Validity::Days { days: 90 },
            _ => Validity::Days { days: 60 },
        },
        Ticket => match h % 3 {
            0 => until(),
            _ => Validity::Days { days: 90 },
        },
        Cake => match h % 10 {
            0 => until(),
            1..=3 => Validity::Days { days: 90 },
            _ => Validity::Days { days: 60 },
        },
        Drink | Dessert | Conv | Meal | Beauty => match h % 20 {
            0 | 1 => until(),
            2..=5 => Validity::Days { days: 60 },
            6 | 7 => Validity::Days { days: 90 },
            _ => Validity::Days { days: 30 },
        },
    }
}

fn won(amount: i64) -> String {
    let digits = amount.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

const COMMON_NOTES: &str = "\
- 상품 이미지는 연출된 것으로 실제와 다를 수 있습니다.
- 쿠폰은 현금으로 교환하거나 환불할 수 없으며, 유효기간이 지난 쿠폰은 사용할 수 없습니다.
- 쿠폰 이미지(바코드)를 캡처하여 사용하는 경우에도 1회만 사용할 수 있습니다.
- 유효기간 연장 및 환불 문의는 발신자(구매처)에게 해 주시기 바랍니다.";

fn content(kind: Kind, spec: &BrandSpec, goods_name: &str, price: i64) -> String {
    let brand = spec.name;
    let affiliate = spec.affiliate;
    let how = match kind {
        Drink | Dessert | Cake => format!(
            "[사용 안내]\n\
             - 본 쿠폰은 전국 {affiliate} 매장에서 「{goods_name}」(으)로 교환할 수 있습니다.\n\
             - 주문 시 쿠폰 바코드를 직원에게 제시해 주세요.\n\
             - 공항, 휴게소, 백화점 등 일부 특수매장에서는 사용이 제한될 수 있습니다.\n\
             - 매장 재고 상황에 따라 동일 가격 이상의 다른 상품으로 교환될 수 있으며, 차액은 추가 결제해야 합니다."
        ),
        Conv => format!(
            "[사용 안내]\n\
             - 본 쿠폰은 전국 {affiliate} 점포에서 사용할 수 있습니다. (일부 특수점포 제외)\n\
             - 계산대에서 쿠폰 바코드를 제시하면 「{goods_name}」(으)로 교환해 드립니다.\n\
             - 점포 재고 상황에 따라 교환이 어려울 수 있으며, 동일 상품 또는 동일 가격대 상품으로 교환할 수 있습니다."
        ),
        Meal => format!(
            "[사용 안내]\n\
             - {affiliate} 매장 방문 또는 포장 주문 시 쿠폰 바코드를 제시해 주세요.\n\
             - 배달 주문은 매장 사정에 따라 불가할 수 있으며, 배달비는 별도입니다.\n\
             - 「{goods_name}」 구성은 매장 사정에 따라 일부 변경될 수 있습니다.\n\
             - 타 쿠폰 및 할인 혜택과 중복 사용할 수 없습니다."
        ),
        Cash => format!(
            "[사용 안내]\n\
             - {affiliate} 매장에서 {}원 한도 내에서 자유롭게 사용할 수 있는 금액권입니다.\n\
             - 결제 금액이 쿠폰 금액보다 적으면 잔액은 유효기간 내 재사용할 수 있습니다.\n\
             - 결제 금액이 쿠폰 금액을 초과하면 차액을 추가 결제해 주세요.\n\
             - 일부 상품 및 특수매장에서는 사용이 제한될 수 있습니다.",
            won(price)
        ),
        Voucher => format!(
            "[사용 안내]\n\
             - {brand} {}원권입니다. {affiliate} 및 제휴 가맹점에서 사용할 수 있습니다.\n\
             - 온라인 사용 시 사이트에서 쿠폰번호(PIN)를 등록한 뒤 사용해 주세요.\n\
             - 등록된 상품권은 취소하거나 다른 계정으로 옮길 수 없습니다.\n\
             - 잔액 환불은 관련 약관에 따릅니다.",
            won(price)
        ),
        Ticket if spec.dtl == "영화" => format!(
            "[사용 안내]\n\
             - 「{goods_name}」 쿠폰입니다. {affiliate} 앱/홈페이지 예매 시 결제 단계에서 쿠폰번호를 입력해 주세요.\n\
             - 현장 매표소에서도 쿠폰번호를 제시하면 사용할 수 있습니다.\n\
             - 일부 특별관 및 특별 상영은 추가 요금이 발생하거나 사용이 제한될 수 있습니다."
        ),
        Ticket => format!(
            "[사용 안내]\n\
             - 「{goods_name}」 쿠폰입니다. {affiliate} 앱/홈페이지에서 쿠폰번호를 등록한 뒤 이용해 주세요.\n\
             - 이용 기간은 쿠폰번호를 등록한 날부터 시작됩니다.\n\
             - 등록된 이용권은 다른 계정으로 옮기거나 환불할 수 없습니다."
        ),
        Beauty => format!(
            "[사용 안내]\n\
             - 전국 {affiliate} 매장에서 「{goods_name}」(으)로 교환할 수 있습니다.\n\
             - 매장 재고 상황에 따라 동일 가격대 다른 상품으로 교환될 수 있습니다.\n\
             - 예약이 필요한 서비스는 방문 전 매장에 예약해 주세요."
        ),
    };
    format!("{how}\n\n[유의사항]\n{COMMON_NOTES}")
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use super::*;

    #[test]
    fn the_default_catalog_is_realistic() {
        let (brands, goods) = demo_catalog(DEMO_GOODS);
        assert_eq!(goods.len(), DEMO_GOODS);
        assert!(goods.len() >= 300);
        assert!(brands.len() >= 30, "{} brands", brands.len());
        let categories: HashSet<i64> = brands.iter().map(|b| b.category1_seq).collect();
        assert!(categories.len() >= 9, "{categories:?}");
        for name in [
            "스타벅스",
            "GS25",
            "세븐일레븐",
            "BHC",
            "도미노피자",
            "신세계상품권",
            "CGV",
            "올리브영",
        ] {
            assert!(
                brands.iter().any(|b| b.brand_name == name),
                "{name} missing"
            );
        }
        // Every brand has goods; every base item is there once.
        for b in &brands {
            assert!(
                goods.iter().any(|g| g.brand_code == b.brand_code),
                "{} has no goods",
                b.brand_name
            );
        }
        let base_count: usize = BRANDS.iter().map(|b| b.items.len()).sum();
        assert!(
            (250..=DEMO_GOODS).contains(&base_count),
            "{base_count} base items"
        );
    }

    #[test]
    fn it_is_deterministic() {
        assert_eq!(demo_catalog(DEMO_GOODS), demo_catalog(DEMO_GOODS));
        // A larger catalog starts with the smaller one.
        let (_, small) = demo_catalog(100);
        let (_, big) = demo_catalog(1000);
        assert_eq!(small[..], big[..100]);
    }

    #[test]
    fn codes_and_numbers_are_unique_for_a_benchmark_catalog() {
        let (brands, goods) = demo_catalog(50_000);
        assert_eq!(goods.len(), 50_000);
        let codes: HashSet<&str> = goods.iter().map(|g| g.goods_code.as_str()).collect();
        assert_eq!(codes.len(), goods.len());
        let numbers: HashSet<i64> = goods.iter().map(|g| g.goods_no).collect();
        assert_eq!(numbers.len(), goods.len());
        assert!(goods.windows(2).all(|w| w[0].goods_no < w[1].goods_no));
        for g in &goods {
            assert_eq!(g.goods_code.as_str().len(), 12, "{}", g.goods_code);
            assert!(
                g.goods_code.as_str().starts_with('G')
                    && g.goods_code.as_str()[1..].bytes().all(|c| c.is_ascii_digit())
            );
        }
        let brand_codes: HashSet<&str> = brands.iter().map(|b| b.brand_code.as_str()).collect();
        assert_eq!(brand_codes.len(), brands.len());
    }

    #[test]
    fn every_goods_points_at_its_brand_and_category() {
        let (brands, goods) = demo_catalog(DEMO_GOODS);
        let by_code: HashMap<&str, &Brand> =
            brands.iter().map(|b| (b.brand_code.as_str(), b)).collect();
        for g in &goods {
            let b = by_code
                .get(g.brand_code.as_str())
                .unwrap_or_else(|| panic!("{} has no brand", g.goods_code));
            assert_eq!(g.brand_name, b.brand_name);
            assert_eq!(g.category1_seq, b.category1_seq);
            assert_eq!(g.category_name1, b.category1_name);
            assert_eq!(category_name(g.category1_seq), g.category_name1);
        }
        for b in &brands {
            assert!(b.brand_code.as_str().starts_with("BR") && b.brand_code.as_str().len() == 7);
            assert_eq!(b.images, BrandImages::default());
            assert!((1..=10).contains(&b.category1_seq));
        }
        let seqs: HashSet<i64> = brands.iter().map(|b| b.brand_seq).collect();
        assert_eq!(seqs.len(), brands.len());
    }

    #[test]
    fn states_validities_and_prices_vary_sensibly() {
        let (_, goods) = demo_catalog(DEMO_GOODS);
        let suspended = goods
            .iter()
            .filter(|g| g.state == GoodsState::Suspended)
            .count();
        assert!(
            suspended > 0 && suspended < goods.len() / 10,
            "{suspended} suspended"
        );
        assert!(goods.iter().all(|g| g.state != GoodsState::Withdrawn));
        let days = goods
            .iter()
            .filter(|g| matches!(g.validity, Validity::Days { .. }))
            .count();
        let until = goods
            .iter()
            .filter(|g| matches!(g.validity, Validity::Until { .. }))
            .count();
        assert!(
            days > until && until > 0,
            "{days} day-count, {until} fixed-date"
        );
        assert!(goods
            .iter()
            .any(|g| g.validity == Validity::Days { days: 30 }));
        for g in &goods {
            assert!(
                g.sale_price.get() >= 500 && g.sale_price.get() % 10 == 0,
                "{} {}",
                g.goods_name,
                g.sale_price
            );
            assert_eq!(g.real_price, g.sale_price);
            let voucher = g.goods_type_nm == "상품권" || g.goods_type_nm == "금액권";
            assert_eq!(g.prices, GradePrices::standard(g.sale_price, voucher));
            assert!(g.prices.basic.price < g.sale_price);
            if let Validity::Until { date } = &g.validity {
                assert!(date.len() == 8 && date.as_str() > "20270000", "{date}");
            }
            assert_eq!(g.images, GoodsImages::default());
            assert!(g.content.contains("[유의사항]"));
            assert!(g.srch_keyword.contains(&g.brand_name));
            assert!(g.popular >= 1);
            assert_eq!(g.goods_com_id.len(), 10);
            assert_eq!(g.md_code.len(), 10);
            assert_eq!(g.goods_type_dtl_nm, g.category_name1, "the live category names");
        }
        assert!(goods.iter().any(|g| g.goods_type_nm == "상품권"));
        assert!(goods
            .iter()
            .any(|g| g.goods_type_nm == "일반상품(물품교환형)"));
        // Coffee costs like coffee; vouchers like vouchers.
        let americano = goods
            .iter()
            .find(|g| g.goods_name == "카페 아메리카노 T")
            .unwrap();
        assert_eq!(americano.sale_price, Won::new(4700));
        assert_eq!(americano.prices.basic.rate, 6);
        let ssg = goods
            .iter()
            .find(|g| g.goods_name == "신세계 모바일 상품권 5만원")
            .unwrap();
        assert_eq!(ssg.prices.basic.price, Won::new(49_500));
    }

    #[test]
    fn variants_get_distinct_names() {
        let (_, goods) = demo_catalog(5_000);
        // Base names repeat across brands (two stores sell 바나나맛우유) but not within one.
        let mut names = HashSet::new();
        let dups: Vec<&str> = goods
            .iter()
            .filter(|g| !names.insert((g.brand_code.as_str(), g.goods_name.as_str())))
            .map(|g| g.goods_name.as_str())
            .collect();
        assert!(dups.is_empty(), "{dups:?}");
    }

    #[test]
    fn won_formats_thousands() {
        assert_eq!(won(800), "800");
        assert_eq!(won(5000), "5,000");
        assert_eq!(won(100000), "100,000");
    }
}
