//! The console's words: Korean by default, English by a switch (`?lang=en`, kept in a cookie).

/// Every string a page shows, in one language.
pub struct Texts {
    pub lang: &'static str,
    pub other_lang: &'static str,
    pub other_lang_name: &'static str,
    pub console: &'static str,
    pub sign_in: &'static str,
    pub sign_out: &'static str,
    pub username: &'static str,
    pub password: &'static str,
    pub bad_credentials: &'static str,
    pub locked: &'static str,
    pub too_many: &'static str,
    pub dashboard: &'static str,
    pub signed_in_as: &'static str,
    pub forbidden: &'static str,
    pub not_found: &'static str,
    pub failed: &'static str,
}

pub const KO: Texts = Texts {
    lang: "ko",
    other_lang: "en",
    other_lang_name: "English",
    console: "운영 콘솔",
    sign_in: "로그인",
    sign_out: "로그아웃",
    username: "아이디",
    password: "비밀번호",
    bad_credentials: "아이디 또는 비밀번호가 올바르지 않습니다.",
    locked: "로그인 실패가 많아 잠시 잠겼습니다. 나중에 다시 시도하세요.",
    too_many: "요청이 너무 많습니다. 잠시 후 다시 시도하세요.",
    dashboard: "대시보드",
    signed_in_as: "로그인 사용자:",
    forbidden: "이 작업을 할 권한이 없습니다.",
    not_found: "페이지를 찾을 수 없습니다.",
    failed: "처리 중 오류가 발생했습니다.",
};

pub const EN: Texts = Texts {
    lang: "en",
    other_lang: "ko",
    other_lang_name: "한국어",
    console: "operator console",
    sign_in: "Sign in",
    sign_out: "Sign out",
    username: "Username",
    password: "Password",
    bad_credentials: "Wrong username or password.",
    locked: "Too many failed logins: locked for a while. Try again later.",
    too_many: "Too many requests. Try again in a moment.",
    dashboard: "Dashboard",
    signed_in_as: "Signed in as",
    forbidden: "You may not do this.",
    not_found: "No such page.",
    failed: "Something went wrong.",
};

/// The language of a request: `?lang=` if it names one, else the cookie's, else Korean.
pub fn pick(query_lang: Option<&str>, cookie_lang: Option<&str>) -> &'static Texts {
    match query_lang.or(cookie_lang) {
        Some("en") => &EN,
        _ => &KO,
    }
}
